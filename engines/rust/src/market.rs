//! The market state every engine keeps, and that the locking configurations put behind a
//! reader-writer lock: one book and one account per instrument, and the fill counts.
//!
//! Instruments are numbered (`slot`s) in the order they first appear; an engine resolves a
//! record's instrument key to its slot once, in the section that applies the record, and
//! reaches the instrument by slot afterwards (as the Python engines keep a reference to the
//! book they looked up). The keys of the first FEW instruments are compared all at once, with
//! no branch on which one it is (records of a few instruments interleave at random); others
//! go through a hash map.
//!
//! An engine reaches the state through `Market`: `Locked` takes the lock for each access,
//! `Direct` is the state itself (owned, or under a batch's write guard).

use std::sync::{PoisonError, RwLock};

use crate::book::{Book, Top, UnknownOrder};
use crate::digest::{hex, Digest};
use crate::fills::{Account, FillSimulator};
use crate::hash::{int_map, IntMap};
use crate::record::{Mbo, FILL, F_LAST};
use crate::strategies::{Decision, OrderRequest};

/// One instrument: its key (publisher_id << 32 | instrument_id), book and strategy account.
pub struct Instrument {
    pub key: u64,
    pub book: Book,
    pub account: Account,
}

/// Books, accounts and fill counts: what the baseline's lock protects.
pub struct MarketState {
    strict: bool,
    few: [u64; FEW], // the first instruments' keys by slot (NO_KEY: none yet)
    slots: IntMap<u64, usize>, // the others' slots
    pub instruments: Vec<Instrument>,
    pub fills: FillSimulator,
}

/// No instrument key is this (keys are below 2^48).
const NO_KEY: u64 = u64::MAX;
/// Instruments whose keys are found without a hash.
const FEW: usize = 4;

/// What a run computed: what a pass prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    pub events: u64,
    pub event_ends: u64,
    pub unknown_orders: u64,
    pub fills: u64,
    pub digest: String,
}

impl MarketState {
    pub fn new(strict: bool) -> MarketState {
        MarketState {
            strict,
            few: [NO_KEY; FEW],
            slots: int_map(),
            instruments: Vec::new(),
            fills: FillSimulator::default(),
        }
    }

    /// The slot of an instrument, and whether it was added now (its first record).
    #[inline(always)]
    fn slot(&mut self, key: u64) -> (usize, bool) {
        // Every one of the FEW keys compared, the match (keys are unique) kept without a branch.
        let mut found = FEW;
        for (i, &k) in self.few.iter().enumerate() {
            found = if k == key { i } else { found };
        }
        if found < FEW {
            return (found, false);
        }
        self.slot_beyond_few(key)
    }

    /// The slot of an instrument not among the first FEW (or new).
    #[cold]
    fn slot_beyond_few(&mut self, key: u64) -> (usize, bool) {
        let next = self.instruments.len();
        let slot = *self.slots.entry(key).or_insert(next);
        let added = slot == next;
        if added {
            self.instruments.push(Instrument {
                key,
                book: Book::new(self.strict),
                account: Account::default(),
            });
            if slot < FEW {
                self.few[slot] = key;
            }
        }
        (slot, added)
    }

    /// Apply one record: a fill first meets the quotes, then the book changes. At an event end
    /// the snapshot block, if any, is over. Returns the instrument's slot and whether it is new.
    #[inline(always)]
    pub fn apply(&mut self, h: &mut Digest, r: &Mbo) -> Result<(usize, bool), UnknownOrder> {
        let (slot, added) = self.slot(r.key);
        let inst = &mut self.instruments[slot];
        if r.action == FILL {
            self.fills.on_fill(h, &inst.book, &mut inst.account, r);
        }
        inst.book.apply(r.action, r.side, r.price, r.size, r.order_id, r.flags)?;
        inst.book.in_snapshot &= r.flags & F_LAST == 0; // an event end closes it (no branch)
        Ok((slot, added))
    }

    #[inline]
    pub fn top(&self, slot: usize) -> Top {
        self.instruments[slot].book.top()
    }

    #[inline]
    pub fn position(&self, slot: usize, s: usize) -> i64 {
        self.instruments[slot].account.position[s]
    }

    /// Carry out strategy s's decision on an instrument.
    #[inline]
    pub fn carry_out(&mut self, h: &mut Digest, slot: usize, s: usize, out: &Decision) {
        let inst = &mut self.instruments[slot];
        self.fills.apply(h, s, inst.key, &mut inst.book, &mut inst.account, out);
    }

    /// Carry out strategy s's requests on an instrument, in their order.
    pub fn submit(&mut self, h: &mut Digest, slot: usize, s: usize, requests: &[OrderRequest]) {
        let inst = &mut self.instruments[slot];
        for request in requests {
            self.fills.submit(h, s, inst.key, &mut inst.book, &mut inst.account, request);
        }
    }

    /// The run's results: counts, and the digest closed with the final positions and cash.
    pub fn totals(&self, h: Digest, events: u64, event_ends: u64) -> Totals {
        let accounts: Vec<_> =
            self.instruments.iter().map(|i| (i.key, i.account.position, i.account.cash)).collect();
        Totals {
            events,
            event_ends,
            unknown_orders: self.instruments.iter().map(|i| i.book.unknown).sum(),
            fills: self.fills.fills.iter().sum(),
            digest: hex(h.finish(events, &accounts)),
        }
    }
}

/// How an engine reaches the market state: through the lock, or directly.
pub trait Market {
    fn write<R>(&mut self, f: impl FnOnce(&mut MarketState) -> R) -> R;
    fn read<R>(&mut self, f: impl FnOnce(&MarketState) -> R) -> R;
}

/// Each access takes the lock (LOCK_EVENT).
pub struct Locked<'a>(pub &'a RwLock<MarketState>);

impl Market for Locked<'_> {
    #[inline]
    fn write<R>(&mut self, f: impl FnOnce(&mut MarketState) -> R) -> R {
        // A panic aborts the process (panic = "abort"), so the lock is never poisoned.
        f(&mut self.0.write().unwrap_or_else(PoisonError::into_inner))
    }

    #[inline]
    fn read<R>(&mut self, f: impl FnOnce(&MarketState) -> R) -> R {
        f(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The state itself: owned (LOCK_OFF), or under a batch's write guard (LOCK_BATCH).
pub struct Direct<'a>(pub &'a mut MarketState);

impl Market for Direct<'_> {
    #[inline(always)]
    fn write<R>(&mut self, f: impl FnOnce(&mut MarketState) -> R) -> R {
        f(self.0)
    }

    #[inline(always)]
    fn read<R>(&mut self, f: impl FnOnce(&MarketState) -> R) -> R {
        f(self.0)
    }
}
