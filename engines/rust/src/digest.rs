//! The digest every engine must reproduce exactly (engines/results.py): FNV-1a over 64-bit
//! words, in this order:
//! - at every event end (a record with F_LAST): instrument key, best bid, best ask, bid size,
//!   ask size of that instrument's book;
//! - at every fill of a strategy order: strategy index, instrument key, side, price, quantity;
//! - at the end: the event count, then per strategy and instrument (sorted by strategy, then
//!   key) the position and the cash.
//!
//! Negative words fold in as two's complement: Python masks its unbounded ints to 64 bits, so
//! wrapping 64-bit arithmetic gives the same digest.

use crate::book::Top;
use crate::strategies::STRATEGIES;

pub const FNV_OFFSET: u64 = 0xCBF2_9CE4_8422_2325;
pub const FNV_PRIME: u64 = 0x0000_0100_0000_01B3;

/// Fold one word into an FNV-1a state.
#[inline(always)]
pub fn mix(h: u64, word: u64) -> u64 {
    (h ^ word).wrapping_mul(FNV_PRIME)
}

/// The running digest of a backtest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest(pub u64);

impl Default for Digest {
    fn default() -> Self {
        Digest(FNV_OFFSET)
    }
}

impl Digest {
    #[inline]
    fn word(&mut self, word: u64) {
        self.0 = mix(self.0, word);
    }

    /// An event end's book top.
    #[inline]
    pub fn top(&mut self, key: u64, top: &Top) {
        self.word(key);
        self.word(top.bid as u64);
        self.word(top.ask as u64);
        self.word(top.bid_size as u64);
        self.word(top.ask_size as u64);
    }

    /// A fill of strategy `s`'s order.
    #[inline]
    pub fn fill(&mut self, s: usize, key: u64, side: u8, price: i64, quantity: i64) {
        for word in [s as u64, key, side as u64, price as u64, quantity as u64] {
            self.word(word);
        }
    }

    /// Close the digest: the event count, then each strategy's position and cash on each
    /// instrument, `accounts` being (key, positions, cash) in any order.
    pub fn finish(
        mut self,
        events: u64,
        accounts: &[(u64, [i64; STRATEGIES], [i64; STRATEGIES])],
    ) -> u64 {
        self.word(events);
        let mut sorted: Vec<_> = accounts.to_vec();
        sorted.sort_unstable_by_key(|a| a.0);
        for s in 0..STRATEGIES {
            for (_, position, cash) in &sorted {
                self.word(position[s] as u64);
                self.word(cash[s] as u64);
            }
        }
        self.0
    }
}

/// A digest as the results show it: 16 hex digits.
pub fn hex(digest: u64) -> String {
    format!("{digest:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{NO_ASK, NO_BID};

    #[test]
    fn words_fold_as_fnv1a() {
        // FNV-1a of the 64-bit word 0 is one multiplication of the offset basis.
        assert_eq!(mix(FNV_OFFSET, 0), FNV_OFFSET.wrapping_mul(FNV_PRIME));
        assert_eq!(mix(0, 1), FNV_PRIME);
        // Negative words are two's complement.
        assert_eq!(mix(0, -1i64 as u64), u64::MAX.wrapping_mul(FNV_PRIME));
    }

    #[test]
    fn an_empty_run_has_pythons_digest() {
        // `once` on a DBN file with no records prints af63bd4c8601b7df: the count 0 alone.
        assert_eq!(hex(Digest::default().finish(0, &[])), "af63bd4c8601b7df");
    }

    #[test]
    fn the_top_is_five_words_in_order() {
        let top = Top { bid: NO_BID, ask: NO_ASK, bid_size: 0, ask_size: 3 };
        let mut d = Digest::default();
        d.top(7, &top);
        let mut h = FNV_OFFSET;
        for w in [7, 1u64 << 63, (1u64 << 63) - 1, 0, 3] {
            h = mix(h, w);
        }
        assert_eq!(d.0, h);
    }

    #[test]
    fn the_end_folds_strategy_major_then_key() {
        let accounts = [(9, [1, 2], [10, 20]), (3, [5, 6], [-50, -60])];
        let mut h = mix(FNV_OFFSET, 4);
        for (p, c) in [(5, -50i64), (1, 10), (6, -60), (2, 20)] {
            h = mix(mix(h, p as u64), c as u64);
        }
        assert_eq!(Digest::default().finish(4, &accounts), h);
    }
}
