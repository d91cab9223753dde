//! Reading DBN MBO files (`.dbn`, `.dbn.zst`; DBN versions 1, 2 and 3) as validated chunks of
//! records, with harness/reader.py's checks, order and messages.
//!
//! Opening checks, in the Python reader's order: the file exists; a `.dbn.zst` (told by the zstd
//! magic number, not the name) has whole frames; the prelude says DBN, a version 1 to 3; the
//! metadata is whole and decodes; the schema is MBO; a `.dbn`'s records are whole. Then chunks
//! come as the Python reader's do (4,096 records, doubling up to 4,096 for a `.dbn.zst` and
//! 131,072 for a `.dbn`), each validated before an engine sees it, so that a bad record and an
//! engine's own error (an unknown order id with `--strict`) are reported in the same order.
//! A `.dbn.zst` is decompressed as a stream into the chunk's buffer: never the whole file in
//! memory. A `.dbn` is mapped (`map`): its chunks are the page cache's bytes, not copies.
//!
//! The chunks are decompressed and validated ahead, on a thread of their own (`ahead`), while
//! the engine processes the ones before; on a machine with one core, in line.

mod ahead;
mod map;

use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use crate::error::{display_path, InputError};
use crate::metadata::{self, PRELUDE_BYTES};
use crate::record::{RECORD_BYTES, RECORD_WORDS, TS_OUT_BYTES};
use crate::validate::validate;
use crate::zstd::{self, FrameError, ReadError, ZstdReader};

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];
const COMPRESSED_CHUNK_RECORDS: usize = 4_096;
const MAPPED_CHUNK_RECORDS: usize = 131_072;
const FIRST_CHUNK_RECORDS: usize = 4_096;
/// Bytes of a mapped file behind the chunk being processed that are given back at once.
const RELEASE_BYTES: usize = 32 << 20;

/// The file while its prelude and metadata are read.
enum Head {
    Plain(File),
    Zstd(ZstdReader),
}

/// Where the records come from.
enum Source {
    /// A `.dbn`: its map (None when it has no record), the next record's offset in it and the
    /// records left.
    Mapped {
        map: Option<Arc<map::Map>>,
        at: usize,
        records_left: u64,
    },
    Zstd(ZstdReader),
}

/// Where a filled chunk is: the first bytes of the buffer given to `fill`, or a range of the
/// map.
pub enum Filled {
    Buffer(usize),
    Map(Range<usize>),
}

/// An opened DBN MBO file: its records as validated chunks.
pub struct Reader {
    /// The file as messages name it (Python's `str(Path(...))`).
    pub path: String,
    stride: usize,
    feed: Feed,
    map: Option<Arc<map::Map>>,
    released: usize, // the map's bytes before this are given back
}

/// Where the chunks come from: a thread reading ahead, or the reader's own calls.
enum Feed {
    Ahead(ahead::ReadAhead),
    Inline { chunks: Chunks, buffer: Vec<u8> },
}

/// The file's records after the metadata, chunk by chunk, each validated.
pub struct Chunks {
    path: String,
    source: Source,
    stride: usize,
    words: u8,
    chunk_records: usize,
    next_records: usize,
    done: u64,
    finished: bool,
    pending: Option<InputError>, // an error to report after the last whole records
}

impl Reader {
    /// Open `path`, check everything up to the first record, and start reading ahead.
    pub fn open(path: &str) -> Result<Reader, InputError> {
        let chunks = Chunks::open(path)?;
        let (path, stride) = (chunks.path.clone(), chunks.stride);
        let map = match &chunks.source {
            Source::Mapped { map, .. } => map.clone(),
            _ => None,
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        // MBOBENCH_READ_AHEAD=0 reads on this thread (instruction counts under Valgrind, which
        // runs one thread at a time: a thread waiting on another would count its waiting).
        let allowed = std::env::var("MBOBENCH_READ_AHEAD").map_or(true, |v| v != "0");
        let feed = if cores >= 2 && allowed {
            Feed::Ahead(ahead::ReadAhead::start(chunks)?)
        } else {
            let buffer = vec![0; chunks.buffer_bytes()];
            Feed::Inline { chunks, buffer }
        };
        Ok(Reader { path, stride, feed, map, released: 0 })
    }

    /// Bytes from one record to the next (56, or 64 with ts_out).
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The next chunk of whole, validated records (`stride` bytes each); None at the end.
    pub fn next_chunk(&mut self) -> Result<Option<&[u8]>, InputError> {
        let (filled, buffer) = match &mut self.feed {
            Feed::Ahead(ahead) => (ahead.next_chunk()?, ahead.buffer()),
            Feed::Inline { chunks, buffer } => (chunks.fill(buffer)?, &buffer[..]),
        };
        Ok(match filled {
            None => None,
            Some(Filled::Buffer(bytes)) => Some(&buffer[..bytes]),
            Some(Filled::Map(range)) => {
                let map = self.map.as_ref().expect("a mapped chunk comes from the map");
                // The pages before this chunk are done with: given back RELEASE_BYTES at a time.
                if range.start >= self.released + RELEASE_BYTES {
                    map.release(self.released, range.start);
                    self.released = range.start;
                }
                Some(&map.bytes()[range])
            }
        })
    }
}

impl Chunks {
    /// Open `path` and check everything up to the first record.
    fn open(path: &str) -> Result<Chunks, InputError> {
        let shown = display_path(path);
        let fail = |what: String| InputError(format!("{shown}: {what}"));
        let is_file = std::fs::metadata(path).map(|m| m.is_file()).unwrap_or(false);
        if !is_file {
            return Err(fail("no such file".into()));
        }
        let file = File::open(path).map_err(|e| fail(format!("cannot open ({e})")))?;
        let file_bytes = file.metadata().map_err(|e| fail(format!("cannot open ({e})")))?.len();
        let mut magic = [0u8; 4];
        let compressed =
            file_bytes >= 4 && file.read_exact_at(&mut magic, 0).is_ok() && magic == ZSTD_MAGIC;
        let mut head = if compressed {
            zstd::check_frames(&file, file_bytes).map_err(|e| match e {
                FrameError::Layout { message, truncated: true } => {
                    fail(format!("truncated: {message}"))
                }
                FrameError::Layout { message, .. } => fail(format!("corrupt zstd data: {message}")),
                FrameError::Io(e) => fail(format!("cannot read ({e})")),
            })?;
            Head::Zstd(ZstdReader::new(file).map_err(|e| read_error(&shown, e))?)
        } else {
            Head::Plain(file)
        };
        let prelude = read_up_to(&mut head, PRELUDE_BYTES).map_err(|e| read_error(&shown, e))?;
        let (version, metadata_bytes) = metadata::prelude(&prelude)
            .ok_or_else(|| fail("not a DBN file (no DBN prelude)".into()))?;
        if !(1..=3).contains(&version) {
            return Err(fail(format!("DBN version {version} is not supported (1, 2, 3)")));
        }
        let body =
            read_up_to(&mut head, metadata_bytes as usize).map_err(|e| read_error(&shown, e))?;
        if body.len() != metadata_bytes as usize {
            return Err(fail("truncated inside the DBN metadata".into()));
        }
        let metadata = metadata::decode(version, &body)
            .map_err(|e| fail(format!("corrupt DBN metadata ({e})")))?;
        if metadata.schema != Some("mbo") {
            let schema = metadata.schema.unwrap_or("mixed");
            return Err(fail(format!("schema is {schema}, expected mbo")));
        }
        let stride = RECORD_BYTES + if metadata.ts_out { TS_OUT_BYTES } else { 0 };
        let (source, chunk_records) = match head {
            Head::Plain(file) => {
                let at = PRELUDE_BYTES + metadata_bytes as usize;
                let data_bytes = file_bytes - at as u64;
                let records = data_bytes / stride as u64;
                let trailing = data_bytes % stride as u64;
                if trailing != 0 {
                    return Err(trailing_error(&shown, trailing, records));
                }
                let map = if records == 0 {
                    None
                } else {
                    let bytes = at + records as usize * stride;
                    let map = map::Map::new(&file, bytes)
                        .map_err(|e| fail(format!("cannot read ({e})")))?;
                    Some(Arc::new(map))
                };
                (Source::Mapped { map, at, records_left: records }, MAPPED_CHUNK_RECORDS)
            }
            Head::Zstd(reader) => (Source::Zstd(reader), COMPRESSED_CHUNK_RECORDS),
        };
        Ok(Chunks {
            path: shown,
            source,
            stride,
            words: RECORD_WORDS + if metadata.ts_out { (TS_OUT_BYTES / 4) as u8 } else { 0 },
            chunk_records,
            next_records: FIRST_CHUNK_RECORDS.min(chunk_records),
            done: 0,
            finished: false,
            pending: None,
        })
    }

    /// The bytes of a buffer that `fill` can always fill: the largest chunk, or none at all for
    /// a mapped file.
    fn buffer_bytes(&self) -> usize {
        match self.source {
            Source::Zstd(_) => self.chunk_records * self.stride,
            _ => 0,
        }
    }

    /// Read the next chunk into `buffer` (buffer_bytes long) and validate it: where its whole
    /// records are, or None at the end. An error comes after the records before it.
    fn fill(&mut self, buffer: &mut [u8]) -> Result<Option<Filled>, InputError> {
        if let Some(error) = self.pending.take() {
            return Err(error);
        }
        if self.finished {
            return Ok(None);
        }
        let records = self.next_records;
        self.next_records = (2 * records).min(self.chunk_records);
        let stride = self.stride;
        let (filled, bytes) = match &mut self.source {
            Source::Mapped { map, at, records_left } => {
                let n = (records as u64).min(*records_left) as usize;
                *records_left -= n as u64;
                let range = *at..*at + n * stride;
                *at = range.end;
                let bytes = map.as_ref().map_or(&[][..], |m| &m.bytes()[range.clone()]);
                (Filled::Map(range), bytes)
            }
            Source::Zstd(reader) => {
                let want = records * stride;
                let got =
                    reader.read_full(&mut buffer[..want]).map_err(|e| read_error(&self.path, e))?;
                let whole = got / stride;
                if got < want {
                    self.finished = true;
                    if got % stride != 0 {
                        let records = self.done + whole as u64;
                        self.pending =
                            Some(trailing_error(&self.path, (got % stride) as u64, records));
                    }
                }
                (Filled::Buffer(whole * stride), &buffer[..whole * stride])
            }
        };
        let whole = bytes.len() / stride;
        if whole == 0 {
            self.finished = true;
            return match self.pending.take() {
                Some(error) => Err(error),
                None => Ok(None),
            };
        }
        validate(&self.path, bytes, stride, self.words, self.done)?;
        self.done += whole as u64;
        Ok(Some(filled))
    }
}

/// Up to `n` bytes from the start of the stream: fewer only at its end.
fn read_up_to(head: &mut Head, n: usize) -> Result<Vec<u8>, ReadError> {
    let mut out = Vec::new();
    // In pieces, so that a corrupt length does not allocate more than the file holds.
    let mut piece = vec![0u8; n.min(1 << 16)];
    while out.len() < n {
        let want = (n - out.len()).min(piece.len());
        let got = match head {
            Head::Plain(file) => read_full(file, &mut piece[..want]).map_err(ReadError::Io)?,
            Head::Zstd(reader) => reader.read_full(&mut piece[..want])?,
        };
        out.extend_from_slice(&piece[..got]);
        if got < want {
            break;
        }
    }
    Ok(out)
}

fn read_full(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn read_error(path: &str, error: ReadError) -> InputError {
    match error {
        ReadError::Corrupt(message) => InputError(format!("{path}: corrupt zstd data ({message})")),
        ReadError::Io(e) => InputError(format!("{path}: cannot read ({e})")),
    }
}

/// The error of a file that ends `trailing` bytes into a record, after `records` whole ones.
fn trailing_error(path: &str, trailing: u64, records: u64) -> InputError {
    let last = records as i64 - 1; // -1 when there is no whole record, as Python says it
    InputError(format!("{path}: truncated: {trailing} trailing bytes after record {last}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_bytes_name_the_last_whole_record() {
        assert_eq!(trailing_error("f", 3, 0).0, "f: truncated: 3 trailing bytes after record -1");
        assert_eq!(trailing_error("f", 3, 8).0, "f: truncated: 3 trailing bytes after record 7");
    }
}
