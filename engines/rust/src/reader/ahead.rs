//! Reading ahead: a thread reads, decompresses and validates the chunks (`Chunks::fill`) into
//! a small ring of reusable buffers while the engine processes the chunks before them, so that
//! a pass costs about the larger of reading and processing instead of their sum.
//!
//! Buffers go round through two bounded channels: filled ones to the engine (`pieces`), and
//! the ones it is done with back to the thread (`empties`); the thread makes a new buffer only
//! while fewer than RING exist. A mapped `.dbn` needs no buffer: the thread validates its
//! chunks (touching their pages first, so that the page faults are its own) and hands over
//! where they are, at most RING ahead. Chunks arrive in file order, and an error arrives after
//! the chunks before it, in the reader's words, exactly where the reader in line would have
//! raised it. Dropping a `ReadAhead` closes both channels, which stops the thread wherever it
//! waits, and joins it: no pass leaves a thread behind.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};
use std::thread::JoinHandle;

use super::{Chunks, Filled};
use crate::error::InputError;

/// Buffers in the ring (the engine's, the thread's, and two filled ones waiting), and chunks
/// handed over ahead of the engine.
const RING: usize = 4;

/// What the thread hands over: a validated chunk (with the buffer it is in, if any), or the
/// error that ends the file.
enum Piece {
    Records(Vec<u8>, Filled),
    Failed(InputError),
}

/// The engine's side of a reading thread.
pub struct ReadAhead {
    pieces: Option<Receiver<Piece>>,
    empties: Option<SyncSender<Vec<u8>>>,
    current: Vec<u8>, // the buffer of the chunk the engine is processing (or an empty one)
    thread: Option<JoinHandle<()>>,
}

impl ReadAhead {
    /// Start reading `chunks` on a thread of its own.
    pub fn start(chunks: Chunks) -> Result<ReadAhead, InputError> {
        let (pieces_in, pieces) = sync_channel(RING);
        let (empties, empties_out) = sync_channel(RING);
        let path = chunks.path.clone();
        let thread = std::thread::Builder::new()
            .name("mbobench-read".into())
            .spawn(move || fill_ring(chunks, pieces_in, empties_out))
            .map_err(|e| InputError(format!("{path}: cannot start a reading thread ({e})")))?;
        Ok(ReadAhead {
            pieces: Some(pieces),
            empties: Some(empties),
            current: Vec::new(),
            thread: Some(thread),
        })
    }

    /// The next chunk, as `Chunks::fill` gives it (`buffer()` is the buffer it speaks of);
    /// the buffer of the one before goes back to the ring.
    pub fn next_chunk(&mut self) -> Result<Option<Filled>, InputError> {
        let done = std::mem::take(&mut self.current);
        if let (true, Some(empties)) = (done.capacity() > 0, &self.empties) {
            let _ = empties.try_send(done); // never full: it holds at most the RING buffers
        }
        let Some(pieces) = &self.pieces else {
            return Ok(None);
        };
        match pieces.recv() {
            Ok(Piece::Records(buffer, filled)) => {
                self.current = buffer;
                Ok(Some(filled))
            }
            Ok(Piece::Failed(error)) => {
                self.pieces = None;
                Err(error)
            }
            // The thread has finished the file (and dropped its end of the channel).
            Err(_) => {
                self.pieces = None;
                Ok(None)
            }
        }
    }

    /// The buffer of the chunk last given.
    pub fn buffer(&self) -> &[u8] {
        &self.current
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        // Closing both channels wakes the thread wherever it waits; it returns at once.
        self.pieces = None;
        self.empties = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join(); // a panic has aborted the process already (panic = "abort")
        }
    }
}

/// The thread: fill buffers with chunk after chunk until the end, an error, or an engine that
/// no longer listens.
fn fill_ring(mut chunks: Chunks, pieces: SyncSender<Piece>, empties: Receiver<Vec<u8>>) {
    let (mut made, bytes) = (0, chunks.buffer_bytes());
    loop {
        // A buffer the engine gave back, else a new one while the ring is not full, else wait.
        let mut buffer = if bytes == 0 {
            Vec::new() // a mapped file's chunks need none
        } else {
            match empties.try_recv() {
                Ok(buffer) => buffer,
                Err(TryRecvError::Empty) if made < RING => {
                    made += 1;
                    vec![0; bytes]
                }
                Err(TryRecvError::Empty) => match empties.recv() {
                    Ok(buffer) => buffer,
                    Err(_) => return,
                },
                Err(TryRecvError::Disconnected) => return,
            }
        };
        let piece = match chunks.fill(&mut buffer) {
            Ok(Some(filled)) => Piece::Records(buffer, filled),
            Ok(None) => return,
            Err(error) => Piece::Failed(error),
        };
        let failed = matches!(piece, Piece::Failed(_));
        if pieces.send(piece).is_err() || failed {
            return;
        }
    }
}
