//! A book's price levels: per side, the prices in one sorted row with the best last, and each
//! level's total size and order count in a pool slot that stays put while the row shifts.
//!
//! A row holds keys, not prices: bids as they are, asks negated, so that both rows ascend
//! towards their touch (no price is i64::MIN: the reader refuses it, so every key negates).
//! The touch, where most changes happen, is at the end of its row: its top is one read, an
//! insert or a removal there moves few keys, and a search looks there first. Every order holds
//! its level's pool slot, so that taking size off a level (a cancel, a modify) needs no search.
//! Adding at a price looks in a small cache of levels by key first (a direct-mapped table: a
//! hash, a load and a compare, where the search of a long row is a chain of dependent loads),
//! and searches its row only when the cache has no entry there; so does removing a level that
//! has emptied.

/// Levels near the touch compared one by one before a binary search of the rest.
const NEAR_TOUCH: usize = 4;
/// Entries of a row's level cache (a power of two), and log2 of that.
const CACHE_BITS: u32 = 8;
const CACHE: usize = 1 << CACHE_BITS;
/// The key of no level (no key is i64::MIN, see above): an empty cache entry.
const NO_KEY: i64 = i64::MIN;

/// One level's totals.
#[derive(Debug, Clone, Copy)]
struct Level {
    size: i64,
    orders: u32,
    ask: bool,
}

/// One side's row: keys ascending, the best last, and each key's pool slot; and the cache.
struct Row {
    keys: Vec<i64>,
    slots: Vec<u32>,
    /// Levels by key: (key, pool slot) at the key's hash, NO_KEY where none is. A level's
    /// entry goes when the level does, so that every entry names a level of the row.
    cache: [(i64, u32); CACHE],
}

impl Row {
    fn new() -> Row {
        Row { keys: Vec::new(), slots: Vec::new(), cache: [(NO_KEY, 0); CACHE] }
    }

    /// Where a key's cache entry is: the key mixed (murmur3's finalizer, first half: prices are
    /// multiples of a tick, which a plain multiplicative hash spreads badly), its low bits.
    #[inline(always)]
    fn entry(key: i64) -> usize {
        let x = (key as u64 ^ (key as u64 >> 33)).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        (x ^ (x >> 33)) as usize & (CACHE - 1)
    }

    /// The first position whose key is at least `key` (where `key` is or would go), and
    /// whether `key` is there. The last NEAR_TOUCH keys are compared without a branch: those
    /// at least `key` are a suffix, so their count says the position unless all of them are.
    #[inline(always)]
    fn find(&self, key: i64) -> (usize, bool) {
        let n = self.keys.len();
        let tail = n.saturating_sub(NEAR_TOUCH);
        let at_least: usize = self.keys[tail..].iter().map(|&k| (k >= key) as usize).sum();
        let at = if at_least < n - tail {
            n - at_least
        } else {
            self.keys[..tail].partition_point(|&k| k < key)
        };
        (at, at < n && self.keys[at] == key)
    }
}

/// The levels of both sides of a book.
pub struct Levels {
    rows: [Row; 2], // bids, then asks (and side N, which rests with the asks)
    pool: Vec<Level>,
    free: Vec<u32>, // pool slots of emptied levels, the last freed on top
}

/// A price as its side's row keeps it: asks negated.
#[inline(always)]
fn key_of(ask: bool, price: i64) -> i64 {
    if ask {
        -price
    } else {
        price
    }
}

impl Levels {
    pub fn new() -> Levels {
        Levels { rows: [Row::new(), Row::new()], pool: Vec::new(), free: Vec::new() }
    }

    /// Queue `size` more at `price` on a side, one order more; returns the level's pool slot.
    ///
    /// Not inlined, nor is `sub`: a profile (`mbobench profile`, which knows functions by their
    /// symbols) finds the book's time in their frames, for the price of a call.
    #[inline(never)]
    pub fn add(&mut self, ask: bool, price: i64, size: u32) -> u32 {
        let key = key_of(ask, price);
        let row = &mut self.rows[ask as usize];
        let entry = Row::entry(key);
        let slot = match row.cache[entry] {
            (cached, slot) if cached == key => slot,
            _ => {
                let (at, found) = row.find(key);
                let slot = if found {
                    row.slots[at]
                } else {
                    // A new level, in a freed pool slot if there is one.
                    let empty = Level { size: 0, orders: 0, ask };
                    let slot = match self.free.pop() {
                        Some(slot) => {
                            self.pool[slot as usize] = empty;
                            slot
                        }
                        None => {
                            self.pool.push(empty);
                            (self.pool.len() - 1) as u32
                        }
                    };
                    row.keys.insert(at, key);
                    row.slots.insert(at, slot);
                    slot
                };
                row.cache[entry] = (key, slot);
                slot
            }
        };
        let level = &mut self.pool[slot as usize];
        level.size += size as i64;
        level.orders += 1;
        slot
    }

    /// Take `size` and `orders` (0 or 1) off the level in pool slot `slot`, at `price`; a level
    /// left with no order leaves its row (and the cache).
    #[inline(never)]
    pub fn sub(&mut self, slot: u32, price: i64, size: i64, orders: u32) {
        let level = &mut self.pool[slot as usize];
        level.size -= size;
        level.orders -= orders;
        if level.orders == 0 {
            let ask = level.ask;
            let key = key_of(ask, price);
            let row = &mut self.rows[ask as usize];
            let (at, found) = row.find(key);
            debug_assert!(found && row.slots[at] == slot, "a resting order's level is in its row");
            row.keys.remove(at);
            row.slots.remove(at);
            let entry = &mut row.cache[Row::entry(key)];
            if entry.0 == key {
                *entry = (NO_KEY, 0);
            }
            self.free.push(slot);
        }
    }

    /// Change a level's size in place (an order that keeps its price and its level).
    #[inline]
    pub fn resize(&mut self, slot: u32, by: i64) {
        self.pool[slot as usize].size += by;
    }

    /// Whether pool slot `slot` is a level of the ask side.
    #[inline]
    pub fn is_ask(&self, slot: u32) -> bool {
        self.pool[slot as usize].ask
    }

    /// A side's best price and the size there, None when the side is empty.
    #[inline]
    pub fn best(&self, ask: bool) -> Option<(i64, i64)> {
        let row = &self.rows[ask as usize];
        let (&key, &slot) = (row.keys.last()?, row.slots.last()?);
        Some((key_of(ask, key), self.pool[slot as usize].size))
    }

    /// The size at `price` on a side (0 when no level is there).
    #[cfg(test)]
    pub fn size_at(&self, ask: bool, price: i64) -> i64 {
        let row = &self.rows[ask as usize];
        match row.find(key_of(ask, price)) {
            (at, true) => self.pool[row.slots[at] as usize].size,
            _ => 0,
        }
    }

    pub fn clear(&mut self) {
        for row in &mut self.rows {
            row.keys.clear();
            row.slots.clear();
            row.cache.fill((NO_KEY, 0));
        }
        self.pool.clear();
        self.free.clear();
    }
}
