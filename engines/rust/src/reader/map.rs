//! A `.dbn` mapped into memory (the C library's `mmap`, by FFI: the standard library has no
//! memory maps), so that records are read where the kernel's page cache holds them, with no
//! copy. Pages the engine has gone past can be given back (`madvise(MADV_DONTNEED)`: they stay
//! in the page cache, and a page touched again is mapped again), as the Python reader does, so
//! that resident memory does not grow with the size of the file.

use std::ffi::{c_int, c_void};
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

// Linux's values (the same on every architecture Rust supports there).
const PROT_READ: c_int = 1;
const MAP_PRIVATE: c_int = 2;
const MADV_DONTNEED: c_int = 4;
// The smallest page size: on a system of larger pages madvise refuses a range that is not
// aligned to them, and the hint is lost, harmlessly.
const PAGE: usize = 4096;

extern "C" {
    fn mmap(
        addr: *mut c_void,
        len: usize,
        prot: c_int,
        flags: c_int,
        fd: c_int,
        off: i64,
    ) -> *mut c_void;
    fn munmap(addr: *mut c_void, len: usize) -> c_int;
    fn madvise(addr: *mut c_void, len: usize, advice: c_int) -> c_int;
}

/// A whole file mapped read-only.
pub struct Map {
    ptr: *mut c_void,
    len: usize,
}

// SAFETY: the mapping is read-only and owned by this value: any number of threads may read it
// (`bytes` hands out shared slices only), and it is unmapped once, when the value is dropped.
unsafe impl Send for Map {}
unsafe impl Sync for Map {}

impl Map {
    /// Map the first `len` bytes of `file` (`len` > 0, at most the file's length).
    pub fn new(file: &File, len: usize) -> io::Result<Map> {
        // SAFETY: a fresh private read-only mapping of an open file; the kernel chooses where.
        let ptr =
            unsafe { mmap(std::ptr::null_mut(), len, PROT_READ, MAP_PRIVATE, file.as_raw_fd(), 0) };
        if ptr as isize == -1 {
            return Err(io::Error::last_os_error());
        }
        Ok(Map { ptr, len })
    }

    /// The mapped bytes.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` is a live mapping of `len` readable bytes until `self` is dropped, and
        // nothing writes to it (read-only, private). As with any map, a file that another
        // process truncates meanwhile would fault (SIGBUS) rather than read as an error.
        unsafe { std::slice::from_raw_parts(self.ptr as *const u8, self.len) }
    }

    /// Give back the pages from the one holding byte `start` to the last one wholly before
    /// byte `end` (a hint: they read the same if touched again).
    pub fn release(&self, start: usize, end: usize) {
        let (start, end) = (start / PAGE * PAGE, end / PAGE * PAGE);
        if end > start {
            // SAFETY: a page-aligned range inside the live mapping; dropping the pages of a
            // private read-only map of a file loses nothing (they are read again on a touch).
            unsafe {
                madvise(self.ptr.cast::<u8>().add(start).cast(), end - start, MADV_DONTNEED);
            }
        }
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        // SAFETY: the mapping was made by `new` and is unmapped once, here; no slice of it
        // outlives `self` (they borrow it).
        unsafe {
            munmap(self.ptr, self.len);
        }
    }
}
