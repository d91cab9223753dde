//! zstd for `.dbn.zst`: the system's libzstd (streaming decompression through its C API), and
//! the check of a file's frame layout that the Python reader makes before reading a record
//! (harness/zstdframes.py, RFC 8878 section 3.1).
//!
//! The machine has only `libzstd.so.1` (no -dev package, no `libzstd.so` symlink), so it is
//! linked by its file name (`+verbatim`). The FFI calls, and the promise that a stream may move
//! to the reading thread, are the only unsafe code of the crate besides the memory map of a
//! `.dbn` (reader/map.rs).

use std::ffi::{c_char, c_uint, c_void, CStr};
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;

#[repr(C)]
struct InBuffer {
    src: *const c_void,
    size: usize,
    pos: usize,
}

#[repr(C)]
struct OutBuffer {
    dst: *mut c_void,
    size: usize,
    pos: usize,
}

/// libzstd's opaque decompression stream.
#[repr(C)]
struct ZstdDStream {
    _private: [u8; 0],
}

#[link(name = "libzstd.so.1", kind = "dylib", modifiers = "+verbatim")]
extern "C" {
    fn ZSTD_createDStream() -> *mut ZstdDStream;
    fn ZSTD_initDStream(zds: *mut ZstdDStream) -> usize;
    fn ZSTD_decompressStream(
        zds: *mut ZstdDStream,
        output: *mut OutBuffer,
        input: *mut InBuffer,
    ) -> usize;
    fn ZSTD_freeDStream(zds: *mut ZstdDStream) -> usize;
    fn ZSTD_isError(code: usize) -> c_uint;
    fn ZSTD_getErrorName(code: usize) -> *const c_char;
}

/// libzstd's name for an error code, as python-zstandard words its errors.
fn error_text(code: usize) -> String {
    // SAFETY: ZSTD_getErrorName returns a pointer to a static, NUL-terminated string.
    let name = unsafe { CStr::from_ptr(ZSTD_getErrorName(code)) };
    format!("zstd decompress error: {}", name.to_string_lossy())
}

fn is_error(code: usize) -> bool {
    // SAFETY: a pure function of its argument.
    unsafe { ZSTD_isError(code) != 0 }
}

/// One libzstd decompression stream; it reads frame after frame, as one stream.
struct DStream(*mut ZstdDStream);

// SAFETY: a libzstd stream has no tie to the thread that created it; it may be used from
// another thread as long as one thread at a time does, which owning it (`&mut self` for every
// call) guarantees. The reader moves it to its reading thread.
unsafe impl Send for DStream {}

impl DStream {
    fn new() -> Result<DStream, String> {
        // SAFETY: creating and initialising a stream has no preconditions; null means no memory.
        let raw = unsafe { ZSTD_createDStream() };
        if raw.is_null() {
            return Err("zstd decompress error: cannot create a decompression stream".into());
        }
        let stream = DStream(raw);
        // SAFETY: `raw` is a live stream owned by `stream`.
        let code = unsafe { ZSTD_initDStream(stream.0) };
        if is_error(code) {
            return Err(error_text(code));
        }
        Ok(stream)
    }

    /// Decompress from `input` into `output`: (input bytes used, output bytes made).
    fn decompress(&mut self, output: &mut [u8], input: &[u8]) -> Result<(usize, usize), String> {
        let mut out = OutBuffer { dst: output.as_mut_ptr().cast(), size: output.len(), pos: 0 };
        let mut inp = InBuffer { src: input.as_ptr().cast(), size: input.len(), pos: 0 };
        // SAFETY: both buffers describe live slices, borrowed for the length of the call, and
        // libzstd writes only inside `output` and reads only inside `input`.
        let code = unsafe { ZSTD_decompressStream(self.0, &mut out, &mut inp) };
        if is_error(code) {
            return Err(error_text(code));
        }
        Ok((inp.pos, out.pos))
    }
}

impl Drop for DStream {
    fn drop(&mut self) {
        // SAFETY: the stream was created by ZSTD_createDStream and is freed once, here.
        unsafe {
            ZSTD_freeDStream(self.0);
        }
    }
}

/// Compressed bytes fed to libzstd per read of the file (python-zstandard's read_size).
const INPUT_BYTES: usize = 1 << 17;

/// Why a read of decompressed bytes failed.
#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    /// The data is not valid zstd: libzstd's message.
    Corrupt(String),
}

/// A `.dbn.zst` file read as one decompressed stream across its frames, in pieces: only
/// INPUT_BYTES of compressed data and the caller's buffer are in memory at a time.
pub struct ZstdReader {
    file: File,
    stream: DStream,
    input: Vec<u8>,
    used: usize,   // bytes of `input` libzstd has taken
    filled: usize, // bytes of `input` read from the file
    at_end: bool,  // the file has no more bytes
}

impl ZstdReader {
    pub fn new(file: File) -> Result<ZstdReader, ReadError> {
        Ok(ZstdReader {
            file,
            stream: DStream::new().map_err(ReadError::Corrupt)?,
            input: vec![0; INPUT_BYTES],
            used: 0,
            filled: 0,
            at_end: false,
        })
    }

    /// Fill `buf` with decompressed bytes; fewer only where the stream ends.
    pub fn read_full(&mut self, buf: &mut [u8]) -> Result<usize, ReadError> {
        let mut made = 0;
        while made < buf.len() {
            if self.used == self.filled && !self.at_end {
                self.filled = read_some(&mut self.file, &mut self.input).map_err(ReadError::Io)?;
                self.used = 0;
                self.at_end = self.filled == 0;
            }
            let input = &self.input[self.used..self.filled];
            let (used, produced) =
                self.stream.decompress(&mut buf[made..], input).map_err(ReadError::Corrupt)?;
            self.used += used;
            made += produced;
            // A stream that ends inside a frame gives what it has, as python-zstandard's does
            // (the frame check has already reported a file cut inside a frame).
            if used == 0 && produced == 0 && self.used == self.filled && self.at_end {
                break;
            }
        }
        Ok(made)
    }
}

/// One read, retried when interrupted.
fn read_some(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match file.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// What is wrong with a file's frame layout.
#[derive(Debug)]
pub enum FrameError {
    /// The layout is wrong; `truncated` says whether the file just stops too early.
    Layout {
        message: String,
        truncated: bool,
    },
    Io(io::Error),
}

const ZSTD_MAGIC: u32 = 0xFD2F_B528;
const SKIPPABLE_MAGIC: u32 = 0x184D_2A50; // the low 4 bits are free
const RLE_BLOCK: u32 = 1; // its content is one byte, however long the block it stands for
const RESERVED_BLOCK: u32 = 3;

/// Walk every frame of a zstd file without decompressing it: each frame's magic number and
/// header, and every block's header, which says where the next one starts. The walk must end
/// exactly at the end of the file. Returns the number of frames.
pub fn check_frames(file: &File, end: u64) -> Result<u64, FrameError> {
    let truncated = || FrameError::Layout {
        message: "the zstd stream ends inside a frame".into(),
        truncated: true,
    };
    let corrupt = |message: String| FrameError::Layout { message, truncated: false };
    let need = |pos: u64, n: u64| {
        if pos + n > end {
            Err(truncated())
        } else {
            Ok(())
        }
    };
    let read_le = |pos: u64, n: usize| -> Result<u32, FrameError> {
        let mut bytes = [0u8; 4];
        file.read_exact_at(&mut bytes[..n], pos).map_err(FrameError::Io)?;
        Ok(u32::from_le_bytes(bytes))
    };
    let mut pos = 0u64;
    let mut frames = 0;
    while pos < end {
        need(pos, 4)?;
        let magic = read_le(pos, 4)?;
        if magic & 0xFFFF_FFF0 == SKIPPABLE_MAGIC {
            // User data, not records: skip it whole.
            need(pos, 8)?;
            pos += 8 + read_le(pos + 4, 4)? as u64;
            need(pos, 0)?;
            continue;
        }
        if magic != ZSTD_MAGIC {
            return Err(corrupt(format!("no zstd frame starts at byte {pos}")));
        }
        pos += 4;
        need(pos, 1)?;
        let descriptor = read_le(pos, 1)?;
        if descriptor & 0x08 != 0 {
            return Err(corrupt(format!("reserved bit set in the frame header at byte {pos}")));
        }
        let single_segment = (descriptor >> 5 & 1) as u64;
        pos += 1
            + (1 - single_segment) // the window descriptor
            + [0, 1, 2, 4][(descriptor & 3) as usize] // the dictionary id
            + [single_segment, 2, 4, 8][(descriptor >> 6) as usize]; // the content size
        loop {
            need(pos, 3)?;
            let header = read_le(pos, 3)?;
            let kind = header >> 1 & 3;
            if kind == RESERVED_BLOCK {
                return Err(corrupt(format!("reserved block type at byte {pos}")));
            }
            pos += 3 + if kind == RLE_BLOCK { 1 } else { (header >> 3) as u64 };
            need(pos, 0)?;
            if header & 1 != 0 {
                break; // the frame's last block
            }
        }
        pos += if descriptor & 0x04 != 0 { 4 } else { 0 }; // the content checksum
        need(pos, 0)?;
        frames += 1;
    }
    Ok(frames)
}
