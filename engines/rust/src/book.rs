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
//! Orders are in a hash map by id (std's SwissTable, open addressing, with the integer hasher of
//! `hash.rs`); levels in a sorted row per side, best last, with their totals in a pool that
//! every order points into (`levels`).

mod levels;

use std::collections::hash_map::Entry;

use crate::hash::{int_map, IntMap};
use crate::record::{ADD, BID, CANCEL, CLEAR, F_SNAPSHOT, MODIFY, NO_ASK, NO_BID};
use levels::Levels;

/// A cancel or modify named an order id the book has never seen (an error only when strict).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownOrder {
    pub action: u8,
    pub order_id: u64,
}

/// A resting order: price, queue stamp, size, and its level's slot in the level pool (its
/// side is the level's).
#[derive(Debug, Clone, Copy)]
struct Order {
    price: i64,
    stamp: u64,
    size: u32,
    level: u32,
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
    levels: Levels,
    /// The next queue stamp (the fill simulator takes stamps from it too).
    pub next_stamp: u64,
    /// Cancels and modifies of unknown order ids.
    pub unknown: u64,
    /// Inside a snapshot block; the engine clears it at every event end.
    pub in_snapshot: bool,
}

impl Book {
    pub fn new(strict: bool) -> Book {
        Book {
            strict,
            orders: int_map(),
            levels: Levels::new(),
            next_stamp: 0,
            unknown: 0,
            in_snapshot: false,
        }
    }

    /// Apply one record's book change (A, C, M, R; T, F and N change nothing).
    #[inline(always)]
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

    #[inline(always)]
    pub fn add(&mut self, order_id: u64, side: u8, price: i64, size: u32) {
        let stamp = self.take_stamp();
        let level = self.levels.add(side != BID, price, size);
        if let Some(old) = self.orders.insert(order_id, Order { price, stamp, size, level }) {
            // A re-used id replaces the order it named (taken off its level after the new one
            // joined, so that a level they share stays put).
            self.levels.sub(old.level, old.price, old.size as i64, 1);
        }
    }

    #[inline(always)]
    pub fn cancel(&mut self, order_id: u64, size: u32) -> Result<(), UnknownOrder> {
        let Entry::Occupied(mut entry) = self.orders.entry(order_id) else {
            return self.count_unknown(CANCEL, order_id);
        };
        let order = entry.get_mut();
        if size >= order.size {
            let order = entry.remove();
            self.levels.sub(order.level, order.price, order.size as i64, 1);
        } else {
            order.size -= size;
            self.levels.resize(order.level, -(size as i64));
        }
        Ok(())
    }

    #[inline(always)]
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
            self.levels.sub(old.level, old.price, old.size as i64, 1);
        } else if price != old.price {
            // Loses its place: to the tail of its new level, on its own side.
            let ask = self.levels.is_ask(old.level);
            self.next_stamp += 1;
            self.levels.sub(old.level, old.price, old.size as i64, 1);
            let level = self.levels.add(ask, price, size);
            *entry.get_mut() = Order { price, stamp, size, level };
        } else {
            // Same price, same level: a larger size loses the place, a smaller one keeps it.
            let order = entry.get_mut();
            if size > old.size {
                order.stamp = stamp;
                self.next_stamp += 1;
            }
            order.size = size;
            self.levels.resize(old.level, size as i64 - old.size as i64);
        }
        Ok(())
    }

    pub fn clear(&mut self) {
        self.orders.clear();
        self.levels.clear();
    }

    #[inline]
    pub fn top(&self) -> Top {
        let (bid, bid_size) = self.levels.best(false).unwrap_or((NO_BID, 0));
        let (ask, ask_size) = self.levels.best(true).unwrap_or((NO_ASK, 0));
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
        self.levels.size_at(side != BID, price)
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

    #[cold]
    fn count_unknown(&mut self, action: u8, order_id: u64) -> Result<(), UnknownOrder> {
        if self.strict {
            return Err(UnknownOrder { action, order_id });
        }
        self.unknown += 1;
        Ok(())
    }
}

#[cfg(test)]
#[path = "book_tests.rs"]
mod tests;
