//! The one engine, generic over the baseline's four suspected costs (engines/switches.py's
//! switches), each a const generic parameter so that every configuration is its own compiled
//! code and a cost switched off leaves nothing behind (a branch on a const is resolved at
//! compile time):
//!
//! - `QUEUE`: every record goes into a `BinaryHeap` of prioritized events (ordered by receive
//!   time, then arrival; min first) and the loop drains whatever is due;
//! - `LOCK`: the market state sits in an `Arc<RwLock<MarketState>>`. `LOCK_EVENT`: written to
//!   apply a record, read for the top at an event end, read per strategy for its features and
//!   written per strategy to submit its orders. `LOCK_BATCH`: written once per batch of
//!   records, everything of the batch under it. `LOCK_OFF`: no lock, the state owned outright;
//! - `ALLOC`: an event struct per record (cloned into the queue), features in a
//!   `HashMap<String, i64>` built per call, a fresh `Vec<OrderRequest>` per strategy call;
//!   off: the record's fields as values, features as values, one output buffer reused;
//! - `DISPATCH`: strategies in a `HashMap<String, Box<dyn Strategy>>` per instrument, found by
//!   name per event and called through the vtable; off: resolved once per instrument, called
//!   statically.
//!
//! What all configurations share (book, fills, strategies' decisions, digest) is below them, in
//! its own module, once.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, PoisonError, RwLock};

use crate::book::{Top, UnknownOrder};
use crate::digest::Digest;
use crate::error::InputError;
use crate::market::{Direct, Locked, Market, MarketState, Totals};
use crate::reader::Reader;
use crate::record::{Mbo, F_LAST};
use crate::strategies::{self, Decision, Features, ImbalanceTaker, MarketMaker, Strategy, NAMES};

pub const LOCK_OFF: u8 = 0;
pub const LOCK_EVENT: u8 = 1;
pub const LOCK_BATCH: u8 = 2;

/// The baseline's event object: a record's fields, converted.
#[derive(Debug, Clone)]
pub struct MarketEvent {
    pub ts_recv: u64,
    pub key: u64,
    pub action: u8,
    pub side: u8,
    pub price: i64,
    pub size: u32,
    pub order_id: u64,
    pub flags: u8,
}

impl MarketEvent {
    fn from_record(r: &Mbo) -> MarketEvent {
        let Mbo { ts_recv, key, action, side, price, size, order_id, flags } = *r;
        MarketEvent { ts_recv, key, action, side, price, size, order_id, flags }
    }

    fn fields(&self) -> Mbo {
        let MarketEvent { ts_recv, key, action, side, price, size, order_id, flags } = *self;
        Mbo { ts_recv, key, action, side, price, size, order_id, flags }
    }
}

/// A queued event and its priority: receive time, then arrival.
#[derive(Debug)]
struct PrioritizedEvent<E> {
    ts_recv: u64,
    arrival: u64,
    event: E,
}

impl<E> PartialEq for PrioritizedEvent<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.ts_recv, self.arrival) == (other.ts_recv, other.arrival)
    }
}

impl<E> Eq for PrioritizedEvent<E> {}

impl<E> PartialOrd for PrioritizedEvent<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for PrioritizedEvent<E> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest event first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.ts_recv, other.arrival).cmp(&(self.ts_recv, self.arrival))
    }
}

/// An instrument's strategies, resolved once, by their types (static dispatch).
#[derive(Default)]
struct Resolved {
    maker: MarketMaker,
    taker: ImbalanceTaker,
}

/// One backtest in one configuration of the four costs.
pub struct Engine<const QUEUE: bool, const LOCK: u8, const ALLOC: bool, const DISPATCH: bool> {
    path: String,
    batch_records: usize,
    digest: Digest,
    arrival: u64,
    event_ends: u64,
    event_queue: BinaryHeap<PrioritizedEvent<MarketEvent>>, // QUEUE with ALLOC
    field_queue: BinaryHeap<PrioritizedEvent<Mbo>>,         // QUEUE without ALLOC
    by_name: HashMap<u64, HashMap<String, Box<dyn Strategy>>>, // DISPATCH: key -> name -> strategy
    by_slot: Vec<Resolved>,                                 // no DISPATCH: per instrument slot
    out: Decision,                                          // no ALLOC: the one output buffer
}

/// Run one configuration over a reader's records; `batch_records` counts only with LOCK_BATCH.
pub fn run<const QUEUE: bool, const LOCK: u8, const ALLOC: bool, const DISPATCH: bool>(
    reader: &mut Reader,
    strict: bool,
    batch_records: usize,
) -> Result<Totals, InputError> {
    let mut engine = Engine::<QUEUE, LOCK, ALLOC, DISPATCH> {
        path: reader.path.clone(),
        batch_records: batch_records.max(1),
        digest: Digest::default(),
        arrival: 0,
        event_ends: 0,
        event_queue: BinaryHeap::new(),
        field_queue: BinaryHeap::new(),
        by_name: HashMap::new(),
        by_slot: Vec::new(),
        out: [0; 3],
    };
    let stride = reader.stride();
    if LOCK == LOCK_OFF {
        let mut state = MarketState::new(strict);
        while let Some(chunk) = reader.next_chunk()? {
            engine.records(chunk, stride, &mut Direct(&mut state))?;
        }
        return Ok(engine.totals(&state));
    }
    // The market state as a real engine shares it between threads.
    let shared = Arc::new(RwLock::new(MarketState::new(strict)));
    while let Some(chunk) = reader.next_chunk()? {
        if LOCK == LOCK_BATCH {
            for batch in chunk.chunks(engine.batch_records.saturating_mul(stride)) {
                let mut state = shared.write().unwrap_or_else(PoisonError::into_inner);
                engine.records(batch, stride, &mut Direct(&mut state))?;
            }
        } else {
            engine.records(chunk, stride, &mut Locked(&shared))?;
        }
    }
    let state = shared.read().unwrap_or_else(PoisonError::into_inner);
    Ok(engine.totals(&state))
}

impl<const QUEUE: bool, const LOCK: u8, const ALLOC: bool, const DISPATCH: bool>
    Engine<QUEUE, LOCK, ALLOC, DISPATCH>
{
    fn totals(&self, state: &MarketState) -> Totals {
        state.totals(self.digest, self.arrival, self.event_ends)
    }

    /// Every record of a run of bytes (whole records, `stride` apart), in file order.
    fn records<M: Market>(
        &mut self,
        bytes: &[u8],
        stride: usize,
        market: &mut M,
    ) -> Result<(), InputError> {
        for rec in bytes.chunks_exact(stride) {
            let fields = Mbo::decode(rec);
            if QUEUE && ALLOC {
                let event = MarketEvent::from_record(&fields);
                let queued = PrioritizedEvent {
                    ts_recv: event.ts_recv,
                    arrival: self.arrival,
                    event: event.clone(),
                };
                self.event_queue.push(queued);
                self.arrival += 1;
                // The event loop: drain whatever is due.
                while let Some(next) = self.event_queue.pop() {
                    self.on_event(next.arrival, &next.event.fields(), market)?;
                }
            } else if QUEUE {
                let queued = PrioritizedEvent {
                    ts_recv: fields.ts_recv,
                    arrival: self.arrival,
                    event: fields,
                };
                self.field_queue.push(queued);
                self.arrival += 1;
                while let Some(next) = self.field_queue.pop() {
                    self.on_event(next.arrival, &next.event, market)?;
                }
            } else if ALLOC {
                let event = MarketEvent::from_record(&fields);
                self.arrival += 1;
                self.on_event(self.arrival - 1, &event.fields(), market)?;
            } else {
                self.arrival += 1;
                self.on_event(self.arrival - 1, &fields, market)?;
            }
        }
        Ok(())
    }

    /// One record: apply it, and at an event end fold the top into the digest and run every
    /// strategy of its instrument.
    #[inline]
    fn on_event<M: Market>(
        &mut self,
        index: u64,
        r: &Mbo,
        market: &mut M,
    ) -> Result<(), InputError> {
        let digest = &mut self.digest;
        let (slot, added) =
            market.write(|state| state.apply(digest, r)).map_err(|u| self.unknown(index, u))?;
        if added {
            self.add_instrument(r.key);
        }
        if r.flags & F_LAST == 0 {
            return Ok(());
        }
        self.event_ends += 1;
        let top = market.read(|state| state.top(slot));
        self.digest.top(r.key, &top);
        let at = EventEnd { slot, ts: r.ts_recv as i64, top };
        let (digest, out) = (&mut self.digest, &mut self.out);
        if DISPATCH {
            for name in NAMES {
                let by_name = self.by_name.get_mut(&r.key).expect("an instrument's strategies");
                let strategy = by_name.get_mut(name).expect("every strategy by name");
                let s = strategy.index();
                step::<dyn Strategy, M, ALLOC>(strategy.as_mut(), s, &at, market, digest, out);
            }
        } else {
            let resolved = &mut self.by_slot[slot];
            step::<_, M, ALLOC>(&mut resolved.maker, 0, &at, market, digest, out);
            step::<_, M, ALLOC>(&mut resolved.taker, 1, &at, market, digest, out);
        }
        Ok(())
    }

    /// A new instrument's strategies, in the form this configuration reaches them.
    fn add_instrument(&mut self, key: u64) {
        if DISPATCH {
            self.by_name.insert(key, strategies::by_name());
        } else {
            self.by_slot.push(Resolved::default());
        }
    }

    /// The `--strict` error for an unknown order id, naming the record.
    #[cold]
    fn unknown(&self, index: u64, u: UnknownOrder) -> InputError {
        InputError(format!(
            "{}: record {index}: {} of unknown order id {} (--strict)",
            self.path, u.action as char, u.order_id
        ))
    }
}

/// Where the strategies of an event end look: the instrument, the time and its book's top.
struct EventEnd {
    slot: usize,
    ts: i64,
    top: Top,
}

/// One strategy at an event end: its features read, its decision made, its orders carried out.
#[inline(always)]
fn step<S: Strategy + ?Sized, M: Market, const ALLOC: bool>(
    strategy: &mut S,
    s: usize,
    at: &EventEnd,
    market: &mut M,
    digest: &mut Digest,
    out: &mut Decision,
) {
    let Top { bid, ask, bid_size, ask_size } = at.top;
    let features = |position| Features { ts: at.ts, bid, ask, bid_size, ask_size, position };
    if ALLOC {
        let map =
            market.read(|state| strategies::feature_map(&features(state.position(at.slot, s))));
        let requests = strategy.on_book(&map);
        market.write(|state| state.submit(digest, at.slot, s, &requests));
    } else {
        let position = market.read(|state| state.position(at.slot, s));
        strategy.decide(out, &features(position));
        market.write(|state| state.carry_out(digest, at.slot, s, out));
    }
}
