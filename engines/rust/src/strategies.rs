//! The strategies every engine runs: deterministic, integer-only decisions over the book's top
//! at an event end (engines/strategies.py, the same decisions).
//!
//! Each decision is one plain function, the only place its logic lives. It reads the features
//! (receive time, best bid and ask, the size at each, the strategy's position) and writes what
//! the strategy wants to hold into a `Decision`: a resting bid price, a resting ask price
//! (NO_BID / NO_ASK for none), and a quantity to take at once (positive buys).
//!
//! Around the same decisions, two interfaces: `decide`, which takes the features as values
//! and writes into the caller's buffer, and `on_book`, the baseline owner's interface, which
//! takes a map of features by name and returns a fresh Vec of request objects.

use std::collections::HashMap;
use std::hint::select_unpredictable;

use crate::record::{ASK, BID, NO_ASK, NO_BID};

pub const MM_MAX_POSITION: i64 = 5;
pub const TAKER_RATIO: i128 = 3;
pub const TAKER_COOLDOWN_NS: i64 = 50_000_000;
pub const TAKER_MAX_POSITION: i64 = 3;
/// A time long before any record: the taker's last take before it has taken.
pub const NEVER: i64 = -(1 << 62);

/// How many strategies there are; each instrument runs all of them, in this order.
pub const STRATEGIES: usize = 2;
pub const NAMES: [&str; STRATEGIES] = ["market_maker", "imbalance_taker"];
/// Whether each strategy holds quotes (the fill simulator only places those of quoters).
pub const QUOTES: [bool; STRATEGIES] = [true, false];

/// What a strategy wants after an event end: [bid price, ask price, quantity to take].
pub type Decision = [i64; 3];

/// The features of an event end, as values.
#[derive(Debug, Clone, Copy)]
pub struct Features {
    pub ts: i64,
    pub bid: i64,
    pub ask: i64,
    pub bid_size: i64,
    pub ask_size: i64,
    pub position: i64,
}

/// A two-sided, uncrossed book.
#[inline(always)]
fn quotable(f: &Features) -> bool {
    (f.bid != NO_BID) & (f.ask != NO_ASK) & (f.bid < f.ask)
}

// Both decisions are written without branches (`&` for `&&`, `select_unpredictable` for `if`):
// which way they go follows the book's top, which no branch predictor can guess.

/// Join the touch on both sides, within a position limit; no quote on a side whose top size is
/// under a quarter of the other's (it is about to be run over).
pub fn market_maker(out: &mut Decision, f: &Features) {
    // Sizes are level totals; widened so that the products cannot overflow.
    let (bid_size, ask_size) = (f.bid_size as i128, f.ask_size as i128);
    let quotable = quotable(f);
    let bid_ok = quotable & (f.position < MM_MAX_POSITION) & (4 * bid_size >= ask_size);
    let ask_ok = quotable & (f.position > -MM_MAX_POSITION) & (4 * ask_size >= bid_size);
    out[0] = select_unpredictable(bid_ok, f.bid, NO_BID);
    out[1] = select_unpredictable(ask_ok, f.ask, NO_ASK);
    out[2] = 0;
}

/// Take one lot when the top leans hard one way (one side TAKER_RATIO times the other), at most
/// once per cooldown. `last_take` is its memory: the time of its last take, or NEVER.
pub fn imbalance_taker(out: &mut Decision, last_take: &mut i64, f: &Features) {
    // The cooldown does not count before the first take (the difference from NEVER may wrap,
    // and is not used then); after it, both times are below 2^63 and the difference is exact.
    let cooled = (*last_take == NEVER) | (f.ts.wrapping_sub(*last_take) >= TAKER_COOLDOWN_NS);
    let ok = quotable(f) & cooled;
    let (bid_size, ask_size) = (f.bid_size as i128, f.ask_size as i128);
    let buy = ok & (bid_size >= TAKER_RATIO * ask_size) & (f.position < TAKER_MAX_POSITION);
    let sell =
        ok & !buy & (ask_size >= TAKER_RATIO * bid_size) & (f.position > -TAKER_MAX_POSITION);
    out[0] = NO_BID;
    out[1] = NO_ASK;
    out[2] = buy as i64 - sell as i64;
    *last_take = select_unpredictable(buy | sell, f.ts, *last_take);
}

pub const QUOTE: u8 = 1; // request kind: hold a resting order at `price` on `side` (or none)
pub const TAKE: u8 = 2; // request kind: take `quantity` at the opposite best price now

/// An order request as the baseline's strategies emit them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderRequest {
    pub kind: u8,
    pub side: u8,
    pub price: i64,
    pub quantity: i64,
}

/// A strategy as an object: its decision, behind both interfaces.
pub trait Strategy {
    /// Its place in the fixed order (NAMES).
    fn index(&self) -> usize;

    /// Decide from features given as values, into the caller's buffer.
    fn decide(&mut self, out: &mut Decision, features: &Features);

    /// The baseline owner's interface: features by name in, a fresh list of requests out.
    fn on_book(&mut self, features: &HashMap<String, i64>) -> Vec<OrderRequest> {
        let values = Features {
            ts: features["ts"],
            bid: features["best_bid"],
            ask: features["best_ask"],
            bid_size: features["bid_size"],
            ask_size: features["ask_size"],
            position: features["position"],
        };
        let mut out = [0; 3];
        self.decide(&mut out, &values);
        let mut requests = Vec::new();
        if QUOTES[self.index()] {
            requests.push(OrderRequest { kind: QUOTE, side: BID, price: out[0], quantity: 1 });
            requests.push(OrderRequest { kind: QUOTE, side: ASK, price: out[1], quantity: 1 });
        }
        if out[2] != 0 {
            let side = if out[2] > 0 { BID } else { ASK };
            requests.push(OrderRequest { kind: TAKE, side, price: 0, quantity: out[2].abs() });
        }
        requests
    }
}

/// The features as the baseline builds them: a map with a String key per feature.
pub fn feature_map(f: &Features) -> HashMap<String, i64> {
    HashMap::from([
        ("ts".to_string(), f.ts),
        ("best_bid".to_string(), f.bid),
        ("best_ask".to_string(), f.ask),
        ("bid_size".to_string(), f.bid_size),
        ("ask_size".to_string(), f.ask_size),
        ("position".to_string(), f.position),
    ])
}

#[derive(Debug, Default)]
pub struct MarketMaker;

impl Strategy for MarketMaker {
    fn index(&self) -> usize {
        0
    }

    #[inline]
    fn decide(&mut self, out: &mut Decision, features: &Features) {
        market_maker(out, features);
    }
}

#[derive(Debug)]
pub struct ImbalanceTaker {
    last_take: i64,
}

impl Default for ImbalanceTaker {
    fn default() -> Self {
        ImbalanceTaker { last_take: NEVER }
    }
}

impl Strategy for ImbalanceTaker {
    fn index(&self) -> usize {
        1
    }

    #[inline]
    fn decide(&mut self, out: &mut Decision, features: &Features) {
        imbalance_taker(out, &mut self.last_take, features);
    }
}

/// A fresh set of the strategies, boxed, by name: the baseline's per-instrument registry.
pub fn by_name() -> HashMap<String, Box<dyn Strategy>> {
    let mut map: HashMap<String, Box<dyn Strategy>> = HashMap::new();
    map.insert(NAMES[0].to_string(), Box::new(MarketMaker));
    map.insert(NAMES[1].to_string(), Box::new(ImbalanceTaker::default()));
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(
        ts: i64,
        bid: i64,
        ask: i64,
        bid_size: i64,
        ask_size: i64,
        position: i64,
    ) -> Features {
        Features { ts, bid, ask, bid_size, ask_size, position }
    }

    #[test]
    fn the_market_maker_joins_the_touch_within_its_limits() {
        let mut out = [9; 3];
        market_maker(&mut out, &features(0, 100, 101, 10, 10, 0));
        assert_eq!(out, [100, 101, 0]);
        market_maker(&mut out, &features(0, 100, 101, 2, 10, 0)); // bid about to be run over
        assert_eq!(out, [NO_BID, 101, 0]);
        market_maker(&mut out, &features(0, 100, 101, 10, 10, MM_MAX_POSITION));
        assert_eq!(out, [NO_BID, 101, 0]);
        market_maker(&mut out, &features(0, 101, 101, 10, 10, 0)); // locked
        assert_eq!(out, [NO_BID, NO_ASK, 0]);
    }

    #[test]
    fn the_taker_leans_with_the_book_once_per_cooldown() {
        let mut out = [0; 3];
        let mut last = NEVER;
        imbalance_taker(&mut out, &mut last, &features(5, 100, 101, 30, 10, 0));
        assert_eq!((out, last), ([NO_BID, NO_ASK, 1], 5));
        imbalance_taker(&mut out, &mut last, &features(6, 100, 101, 10, 30, 0));
        assert_eq!(out[2], 0); // cooling down
        imbalance_taker(&mut out, &mut last, &features(5 + TAKER_COOLDOWN_NS, 100, 101, 10, 30, 0));
        assert_eq!((out[2], last), (-1, 5 + TAKER_COOLDOWN_NS));
        let mut first = NEVER; // never taken: no cooldown, whatever the time
        imbalance_taker(&mut out, &mut first, &features(0, 100, 101, 10, 30, -TAKER_MAX_POSITION));
        assert_eq!(out[2], 0); // at its short limit
    }

    #[test]
    fn on_book_emits_the_same_decisions_as_requests() {
        let f = features(0, 100, 101, 30, 10, 0);
        let quotes = MarketMaker.on_book(&feature_map(&f));
        assert_eq!(quotes.len(), 2);
        assert_eq!((quotes[0].side, quotes[0].price, quotes[1].price), (BID, 100, 101));
        let takes = ImbalanceTaker::default().on_book(&feature_map(&f));
        assert_eq!(takes, vec![OrderRequest { kind: TAKE, side: BID, price: 0, quantity: 1 }]);
    }
}
