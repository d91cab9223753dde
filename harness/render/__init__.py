"""Rendering: takes result files (and profile summaries) and hands on what a person reads:
terminal tables (`table`), markdown (`markdown`, the one markdown-table writer) and the
self-contained HTML report with its markdown twin (`report`)."""
