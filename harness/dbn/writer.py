"""Writing DBN MBO files: metadata encoded by databento_dbn, records straight from numpy.

A file is written whole or not at all (`harness.atomicfile`). A name ending in `.zst` is
compressed with zstd, as Databento's own `.dbn.zst` files are.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from engines.events import MBO_DTYPE
from harness.atomicfile import replaced


def encode_metadata(
    dataset: str, start_ns: int, end_ns: int, symbols: list[str], version: int = 3
) -> bytes:
    """The DBN prelude and metadata of an MBO file, encoded by databento_dbn itself."""
    import databento_dbn as dbn

    metadata = dbn.Metadata(
        dataset=dataset,
        start=start_ns,
        end=end_ns,
        stype_in=dbn.SType.RAW_SYMBOL,
        stype_out=dbn.SType.INSTRUMENT_ID,
        schema=dbn.Schema.MBO,
        symbols=symbols,
        version=version,
    )
    return bytes(metadata.encode())


def write_dbn(
    path: str | os.PathLike[str],
    chunks: Iterable[np.ndarray],
    *,
    dataset: str,
    start_ns: int,
    end_ns: int,
    symbols: list[str],
    version: int = 3,
) -> Path:
    """Write MBO records (chunks of `MBO_DTYPE`) as a DBN file, zstd-compressed for `.zst`."""
    path = Path(path)
    header = encode_metadata(dataset, start_ns, end_ns, symbols, version)
    with replaced(path) as tmp, tmp.open("wb") as raw:
        if path.name.endswith(".zst"):
            import zstandard

            with zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=False) as out:
                _write_body(out, header, chunks)
        else:
            _write_body(raw, header, chunks)
    return path


def _write_body(out, header: bytes, chunks: Iterable[np.ndarray]) -> None:
    out.write(header)
    for chunk in chunks:
        if chunk.dtype != MBO_DTYPE:
            raise TypeError(f"records must be of MBO_DTYPE, not {chunk.dtype}")
        out.write(np.ascontiguousarray(chunk).tobytes())


def write_head(source: str | os.PathLike[str], records: int, path: str | os.PathLike[str]) -> Path:
    """The first `records` records of the DBN file `source` (all of them if it has fewer), after
    its prelude and metadata byte for byte, as the file `path`, zstd-compressed for `.zst`."""
    import zstandard

    from harness.dbn.reader import Reader

    reader = Reader(source)
    with Path(source).open("rb") as raw:
        stream = zstandard.ZstdDecompressor().stream_reader(raw) if reader.compressed else raw
        header = stream.read(reader.data_offset)

    def first() -> Iterable[bytes]:
        left = records
        for chunk in reader.chunks():
            if left <= 0:
                break
            yield chunk[:left].tobytes()
            left -= len(chunk)

    path = Path(path)
    with replaced(path) as tmp, tmp.open("wb") as out:
        if path.name.endswith(".zst"):
            with zstandard.ZstdCompressor(level=3).stream_writer(out, closefd=False) as target:
                target.write(header)
                for body in first():  # its writer has no writelines
                    target.write(body)
        else:
            out.write(header)
            out.writelines(first())
    return path
