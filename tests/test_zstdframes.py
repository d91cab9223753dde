"""The zstd frame walk: whole files pass, every cut inside a frame is caught, nothing else."""

from __future__ import annotations

import os

import pytest
import zstandard

from harness.dbn.zstdframes import FrameError, check_frames

PAYLOAD = os.urandom(300_000) + bytes(200_000)  # random blocks, raw blocks and RLE blocks


def frames(*compressors: zstandard.ZstdCompressor) -> tuple[bytes, set[int]]:
    """Frames of PAYLOAD, one per compressor, with a skippable frame between; and their ends."""
    data, ends = b"", set()
    for i, compressor in enumerate(compressors):
        data += compressor.compress(PAYLOAD[i * 1000 :])
        ends.add(len(data))
        data += (0x184D2A53).to_bytes(4, "little") + (5).to_bytes(4, "little") + b"hello"
        ends.add(len(data))
    return data, ends


KINDS = [
    zstandard.ZstdCompressor(level=3),  # the content size in the header, no checksum
    zstandard.ZstdCompressor(level=1, write_checksum=True, write_content_size=False),
    zstandard.ZstdCompressor(level=19, write_checksum=True),
]


def test_whole_files_pass():
    data, _ = frames(*KINDS)
    assert check_frames(data) == len(KINDS)
    assert check_frames(b"") == 0


def test_streamed_frames_pass():
    # Databento's files are written as a stream: no content size, blocks of 128 KiB at most.
    compressor = zstandard.ZstdCompressor(level=3)
    chunker = compressor.chunker(chunk_size=4096)
    data = b"".join([*chunker.compress(PAYLOAD), *chunker.finish()])
    assert check_frames(data) == 1
    assert zstandard.ZstdDecompressor().decompressobj().decompress(data) == PAYLOAD


def test_every_cut_inside_a_frame_is_truncated():
    data, ends = frames(*KINDS)
    zstd_ends = sorted(ends)[0::2]  # each zstd frame is followed by a skippable one
    for cut in sorted(set(range(0, len(data), 97)) | ends):
        if cut in ends or cut == 0:  # a cut between frames leaves whole frames: counted
            assert check_frames(data[:cut]) == sum(end <= cut for end in zstd_ends), cut
            continue
        with pytest.raises(FrameError) as caught:
            check_frames(data[:cut])
        assert caught.value.truncated, cut


@pytest.mark.parametrize("where,byte,says", [(0, 0x00, "no zstd frame starts at byte 0"),
                                             (4, 0xFF, "reserved bit")])  # fmt: skip
def test_corrupt_headers(where, byte, says):
    data = bytearray(frames(KINDS[0])[0])
    data[where] = byte
    with pytest.raises(FrameError, match=says) as caught:
        check_frames(bytes(data))
    assert not caught.value.truncated


def test_garbage_after_the_last_frame():
    data, _ = frames(KINDS[0])
    with pytest.raises(FrameError, match=f"at byte {len(data)}"):
        check_frames(data + b"garbage!")
