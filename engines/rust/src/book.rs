//! The L3 order book of one instrument: every engine applies records here (engines/book.py's
//! rules, the same results).
//!
//! - A appends the order at the tail of its price level's queue.
//! - C subtracts `size` from the order and deletes it at zero (the stored side and price count).
//! - M with a new price, or a larger size, moves the order to the tail of its (new) level; a
//!   smaller or equal size at the same price keeps its place; size 0 deletes it.
//! - R removes every order. T, F and N never change the book.
//! - A cancel or modify of an unknown order id is counted in `unknown`; the cancel is skipped,
//!   the modify applied as an add. With `strict`, either is an `UnknownOrder` error.
//! - The first snapshot add after live records clears the book (files from before Databento
//!   published R records open a snapshot with no clear).
//!
//! Queue priority is a stamp: every add or move to a tail takes the book's next stamp, so an
//! order is ahead of another at its level exactly when its stamp is smaller; the fill simulator
//! stamps its quotes from the same counter. Nothing reads the order of a level's queue beyond
//! that, so a level keeps only its total size and its number of orders.
//!
//! Levels are sorted Vecs whose best price is the last element (bids ascending, asks
//! descending): the top of the book is one read, and the levels that change most, near the
//! touch, are at the end, where an insert or a removal moves few elements.

use std::collections::hash_map::Entry;

use crate::hash::{int_map, IntMap};
use crate::record::{ADD, BID, CANCEL, CLEAR, F_SNAPSHOT, MODIFY, NO_ASK, NO_BID};

/// A cancel or modify named an order id the book has never seen (an error only when strict).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownOrder {
    pub action: u8,
    pub order_id: u64,
}

/// A resting order: side code, price (int64 fixed point), size, and queue stamp.
#[derive(Debug, Clone, Copy)]
struct Order {
    side: u8,
    price: i64,
    size: u32,
    stamp: u64,
}

/// The orders at one price of one side: their total size and how many there are.
#[derive(Debug, Clone, Copy)]
struct Level {
    price: i64,
    size: i64,
    orders: u32,
}

/// Best bid, best ask, and the total size at each (sentinels and 0 for an empty side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Top {
    pub bid: i64,
    pub ask: i64,
    pub bid_size: i64,
    pub ask_size: i64,
}

/// One instrument's orders by id and its price levels.
pub struct Book {
    strict: bool,
    orders: IntMap<u64, Order>,
    bids: Vec<Level>, // ascending: the best bid last
    asks: Vec<Level>, // descending: the best ask last
    /// The next queue stamp (the fill simulator takes stamps from it too).
    pub next_stamp: u64,
    /// Cancels and modifies of unknown order ids.
    pub unknown: u64,
    /// Inside a snapshot block; the engine clears it at every event end.
    pub in_snapshot: bool,
}

/// Where `price` is (Ok) or would go (Err) in a side's levels, best last. The last few levels,
/// near the touch, where most records land, are counted without a branch: how many of them
/// are better than `price` says where it is, unless all are (then a binary search of the rest).
#[inline]
fn find(levels: &[Level], price: i64, is_bid: bool) -> Result<usize, usize> {
    let n = levels.len();
    let tail = n.saturating_sub(NEAR_TOUCH);
    let better: usize = levels[tail..]
        .iter()
        .map(|l| if is_bid { l.price > price } else { l.price < price } as usize)
        .sum();
    if better == NEAR_TOUCH {
        // How a level's price compares with `price` in the Vec's order (worst first).
        let order = |p: i64| if is_bid { p.cmp(&price) } else { price.cmp(&p) };
        return levels[..tail].binary_search_by(|l| order(l.price));
    }
    // Better levels are a suffix: the one before it is `price`'s, or `price` goes after it.
    let at = n - better;
    if at > 0 && levels[at - 1].price == price {
        Ok(at - 1)
    } else {
        Err(at)
    }
}

/// Levels near the touch counted before a binary search of the rest.
const NEAR_TOUCH: usize = 8;

impl Book {
    pub fn new(strict: bool) -> Book {
        Book {
            strict,
            orders: int_map(),
            bids: Vec::new(),
            asks: Vec::new(),
            next_stamp: 0,
            unknown: 0,
            in_snapshot: false,
        }
    }

    /// Apply one record's book change (A, C, M, R; T, F and N change nothing).
    #[inline]
    pub fn apply(
        &mut self,
        action: u8,
        side: u8,
        price: i64,
        size: u32,
        order_id: u64,
        flags: u8,
    ) -> Result<(), UnknownOrder> {
        match action {
            ADD => {
                if flags & F_SNAPSHOT != 0 && !self.in_snapshot {
                    self.clear();
                    self.in_snapshot = true;
                }
                self.add(order_id, side, price, size);
            }
            CANCEL => self.cancel(order_id, size)?,
            MODIFY => self.modify(order_id, side, price, size)?,
            CLEAR => self.clear(),
            _ => {}
        }
        Ok(())
    }

    pub fn add(&mut self, order_id: u64, side: u8, price: i64, size: u32) {
        let order = Order { side, price, size, stamp: self.take_stamp() };
        if let Some(old) = self.orders.insert(order_id, order) {
            // A re-used id replaces the order it named.
            self.level_remove(old.side, old.price, old.size);
        }
        self.level_add(side, price, size);
    }

    pub fn cancel(&mut self, order_id: u64, size: u32) -> Result<(), UnknownOrder> {
        // One lookup through the entry, whether the order stays or goes.
        let Entry::Occupied(mut entry) = self.orders.entry(order_id) else {
            return self.count_unknown(CANCEL, order_id);
        };
        let order = *entry.get();
        if size >= order.size {
            entry.remove();
            self.level_remove(order.side, order.price, order.size);
        } else {
            entry.get_mut().size -= size;
            self.level_reduce(order.side, order.price, size as i64);
        }
        Ok(())
    }

    pub fn modify(
        &mut self,
        order_id: u64,
        side: u8,
        price: i64,
        size: u32,
    ) -> Result<(), UnknownOrder> {
        let stamp = self.next_stamp;
        let Entry::Occupied(mut entry) = self.orders.entry(order_id) else {
            self.count_unknown(MODIFY, order_id)?;
            self.add(order_id, side, price, size);
            return Ok(());
        };
        let old = *entry.get();
        if size == 0 {
            entry.remove();
            self.level_remove(old.side, old.price, old.size);
        } else if price != old.price || size > old.size {
            // Loses its place: to the tail of its (new) level, on its own side.
            *entry.get_mut() = Order { side: old.side, price, size, stamp };
            self.next_stamp += 1;
            self.level_remove(old.side, old.price, old.size);
            self.level_add(old.side, price, size);
        } else {
            entry.get_mut().size = size;
            self.level_reduce(old.side, price, (old.size - size) as i64);
        }
        Ok(())
    }

    pub fn clear(&mut self) {
        self.orders.clear();
        self.bids.clear();
        self.asks.clear();
    }

    #[inline]
    pub fn top(&self) -> Top {
        let (bid, bid_size) = self.bids.last().map_or((NO_BID, 0), |l| (l.price, l.size));
        let (ask, ask_size) = self.asks.last().map_or((NO_ASK, 0), |l| (l.price, l.size));
        Top { bid, ask, bid_size, ask_size }
    }

    /// The queue stamp of a resting order, None when the book does not know it.
    #[inline]
    pub fn stamp_of(&self, order_id: u64) -> Option<u64> {
        self.orders.get(&order_id).map(|o| o.stamp)
    }

    /// The total size resting at `price` on `side` (0 when no level is there).
    #[cfg(test)]
    pub fn level_size(&self, side: u8, price: i64) -> i64 {
        let levels = if side == BID { &self.bids } else { &self.asks };
        find(levels, price, side == BID).map_or(0, |i| levels[i].size)
    }

    /// How many orders rest on the book.
    #[cfg(test)]
    pub fn order_count(&self) -> usize {
        self.orders.len()
    }

    /// Take the next queue stamp.
    #[inline]
    pub fn take_stamp(&mut self) -> u64 {
        self.next_stamp += 1;
        self.next_stamp - 1
    }

    fn count_unknown(&mut self, action: u8, order_id: u64) -> Result<(), UnknownOrder> {
        if self.strict {
            return Err(UnknownOrder { action, order_id });
        }
        self.unknown += 1;
        Ok(())
    }

    #[inline]
    fn level_add(&mut self, side: u8, price: i64, size: u32) {
        let is_bid = side == BID;
        let levels = if is_bid { &mut self.bids } else { &mut self.asks };
        match find(levels, price, is_bid) {
            Ok(i) => {
                levels[i].size += size as i64;
                levels[i].orders += 1;
            }
            Err(i) => levels.insert(i, Level { price, size: size as i64, orders: 1 }),
        }
    }

    #[inline]
    fn level_remove(&mut self, side: u8, price: i64, size: u32) {
        let is_bid = side == BID;
        let levels = if is_bid { &mut self.bids } else { &mut self.asks };
        let i = find(levels, price, is_bid).expect("a resting order's level exists");
        levels[i].size -= size as i64;
        levels[i].orders -= 1;
        if levels[i].orders == 0 {
            levels.remove(i);
        }
    }

    #[inline]
    fn level_reduce(&mut self, side: u8, price: i64, by: i64) {
        let is_bid = side == BID;
        let levels = if is_bid { &mut self.bids } else { &mut self.asks };
        let i = find(levels, price, is_bid).expect("a resting order's level exists");
        levels[i].size -= by;
    }
}

#[cfg(test)]
#[path = "book_tests.rs"]
mod tests;
