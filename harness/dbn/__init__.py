"""The DBN MBO format: takes `.dbn` and `.dbn.zst` files (DBN versions 1-3) and hands on
validated chunks of `engines.events.MBO_DTYPE` records (`reader`, with the rules of
`validation`), or fills a ring of chunks on a native thread (`readahead`, over `libzstd` and the
frame layout of `zstdframes`); `writer` writes records back as DBN."""
