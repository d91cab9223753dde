"""mbobench's harness: reading DBN files, measuring engines, comparing and gating results."""
