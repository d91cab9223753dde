"""A zstd file's frame layout, checked without decompressing it (RFC 8878, section 3.1).

python-zstandard's stream reader stops quietly where a stream stops inside a frame, so the reader
walks the layout first: each frame's magic number, its header, and the header of every block,
which says how many bytes to skip to the next one. The walk must end exactly at the end of the
file. It reads 3 bytes per block, and a block holds at most 128 KiB of records, so it costs
nothing next to decompression; what is inside the blocks is checked by decompressing them.
"""

from __future__ import annotations

ZSTD_MAGIC = 0xFD2FB528
SKIPPABLE_MAGIC = 0x184D2A50  # the low 4 bits are free: 16 magic numbers of skippable frames
RESERVED_BLOCK = 3
RLE_BLOCK = 1  # its content is one byte, however long the block it stands for


class FrameError(ValueError):
    """The layout is wrong: `truncated` says whether the file just stops too early."""

    def __init__(self, message: str, truncated: bool) -> None:
        super().__init__(message)
        self.truncated = truncated


def check_frames(data: bytes | memoryview) -> int:
    """Walk every frame of a zstd file's bytes; returns the number of frames."""
    end = len(data)
    pos = 0
    frames = 0

    def need(n: int) -> None:
        if pos + n > end:
            raise FrameError("the zstd stream ends inside a frame", truncated=True)

    while pos < end:
        need(4)
        magic = int.from_bytes(data[pos : pos + 4], "little")
        if magic & 0xFFFFFFF0 == SKIPPABLE_MAGIC:  # user data, not records: skip it whole
            need(8)
            pos += 8 + int.from_bytes(data[pos + 4 : pos + 8], "little")
            need(0)
            continue
        if magic != ZSTD_MAGIC:
            raise FrameError(f"no zstd frame starts at byte {pos}", truncated=False)
        pos += 4
        need(1)
        descriptor = data[pos]
        if descriptor & 0x08:
            raise FrameError(f"reserved bit set in the frame header at byte {pos}", False)
        single_segment = descriptor >> 5 & 1
        pos += (
            1
            + (1 - single_segment)  # the window descriptor
            + (0, 1, 2, 4)[descriptor & 3]  # the dictionary id
            + (single_segment, 2, 4, 8)[descriptor >> 6]  # the content size
        )
        while True:
            need(3)
            header = int.from_bytes(data[pos : pos + 3], "little")
            kind = header >> 1 & 3
            if kind == RESERVED_BLOCK:
                raise FrameError(f"reserved block type at byte {pos}", truncated=False)
            pos += 3 + (1 if kind == RLE_BLOCK else header >> 3)
            need(0)
            if header & 1:  # the frame's last block
                break
        pos += 4 if descriptor & 0x04 else 0  # the content checksum
        need(0)
        frames += 1
    return frames
