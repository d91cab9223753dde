//! Tests of the book's rules (engines/book.py's, checked case by case) and of its sorted
//! levels against a plain model.

use std::collections::BTreeMap;

use super::*;
use crate::record::{ASK, FILL, SIDE_NONE, TRADE};

const B: u8 = BID;
const A: u8 = ASK;

fn book() -> Book {
    Book::new(false)
}

#[test]
fn adds_join_the_tail_with_increasing_stamps() {
    let mut b = book();
    b.add(1, B, 100, 5);
    b.add(2, B, 100, 7);
    b.add(3, A, 101, 2);
    assert_eq!((b.stamp_of(1), b.stamp_of(2), b.stamp_of(3)), (Some(0), Some(1), Some(2)));
    assert_eq!(b.top(), Top { bid: 100, ask: 101, bid_size: 12, ask_size: 2 });
    assert_eq!(b.next_stamp, 3);
}

#[test]
fn an_empty_side_reads_as_its_sentinel() {
    let mut b = book();
    assert_eq!(b.top(), Top { bid: NO_BID, ask: NO_ASK, bid_size: 0, ask_size: 0 });
    b.add(1, A, 50, 1);
    assert_eq!(b.top(), Top { bid: NO_BID, ask: 50, bid_size: 0, ask_size: 1 });
}

#[test]
fn cancels_subtract_and_delete_at_zero() {
    let mut b = book();
    b.add(1, B, 100, 5);
    b.add(2, B, 99, 3);
    b.cancel(1, 2).unwrap();
    assert_eq!(b.level_size(B, 100), 3);
    assert_eq!(b.stamp_of(1), Some(0)); // a partial cancel keeps the place
    b.cancel(1, 9).unwrap(); // more than is left: deleted
    assert_eq!(b.stamp_of(1), None);
    assert_eq!(b.top().bid, 99); // the empty level is gone
}

#[test]
fn modifies_lose_their_place_on_a_new_price_or_a_larger_size() {
    let mut b = book();
    b.add(1, B, 100, 5);
    b.add(2, B, 100, 5);
    b.modify(1, B, 100, 4).unwrap(); // smaller: keeps its stamp
    assert_eq!((b.stamp_of(1), b.level_size(B, 100)), (Some(0), 9));
    b.modify(1, B, 100, 4).unwrap(); // equal: keeps it
    assert_eq!(b.stamp_of(1), Some(0));
    b.modify(1, B, 100, 6).unwrap(); // larger: to the tail
    assert_eq!((b.stamp_of(1), b.level_size(B, 100)), (Some(2), 11));
    b.modify(2, B, 101, 5).unwrap(); // new price: to the tail of the new level
    assert_eq!((b.stamp_of(2), b.level_size(B, 100), b.level_size(B, 101)), (Some(3), 6, 5));
    b.modify(2, B, 101, 0).unwrap(); // size 0: deleted
    assert_eq!((b.stamp_of(2), b.top().bid), (None, 100));
}

#[test]
fn a_modify_keeps_the_orders_own_side() {
    let mut b = book();
    b.add(1, B, 100, 5);
    b.modify(1, A, 105, 5).unwrap(); // the record says A; the order stays a bid
    assert_eq!(b.top(), Top { bid: 105, ask: NO_ASK, bid_size: 5, ask_size: 0 });
}

#[test]
fn unknown_ids_are_counted_the_modify_added() {
    let mut b = book();
    b.cancel(7, 1).unwrap();
    assert_eq!((b.unknown, b.order_count()), (1, 0));
    b.modify(8, A, 200, 3).unwrap();
    assert_eq!((b.unknown, b.stamp_of(8), b.top().ask), (2, Some(0), 200));
}

#[test]
fn strict_books_refuse_unknown_ids() {
    let mut b = Book::new(true);
    assert_eq!(b.cancel(7, 1), Err(UnknownOrder { action: CANCEL, order_id: 7 }));
    assert_eq!(b.apply(MODIFY, A, 1, 1, 8, 0), Err(UnknownOrder { action: MODIFY, order_id: 8 }));
    assert_eq!((b.unknown, b.order_count()), (0, 0));
}

#[test]
fn a_reused_id_replaces_its_order() {
    let mut b = book();
    b.add(1, B, 100, 5);
    b.add(1, A, 110, 2);
    assert_eq!(b.top(), Top { bid: NO_BID, ask: 110, bid_size: 0, ask_size: 2 });
    assert_eq!(b.order_count(), 1);
}

#[test]
fn side_none_orders_rest_with_the_asks() {
    let mut b = book();
    b.add(1, SIDE_NONE, 100, 5);
    assert_eq!(b.top().ask, 100);
}

#[test]
fn trades_fills_and_none_change_nothing_clear_removes_all() {
    let mut b = book();
    b.add(1, B, 100, 5);
    for action in [TRADE, FILL, b'N'] {
        b.apply(action, B, 100, 5, 1, 0).unwrap();
    }
    assert_eq!(b.level_size(B, 100), 5);
    b.apply(CLEAR, SIDE_NONE, NO_ASK, 0, 0, 0).unwrap();
    assert_eq!((b.order_count(), b.top().bid), (0, NO_BID));
    assert_eq!(b.next_stamp, 1); // stamps go on across a clear
}

#[test]
fn the_first_snapshot_add_clears_the_book_once() {
    let mut b = book();
    b.add(1, B, 100, 5);
    b.apply(ADD, B, 90, 1, 2, F_SNAPSHOT).unwrap();
    b.apply(ADD, B, 91, 1, 3, F_SNAPSHOT).unwrap();
    assert_eq!((b.order_count(), b.top().bid), (2, 91));
    b.in_snapshot = false; // an event end
    b.apply(ADD, B, 80, 1, 4, F_SNAPSHOT).unwrap();
    assert_eq!(b.order_count(), 1);
}

#[test]
fn extreme_prices_are_ordinary_levels() {
    let mut b = book();
    b.add(1, A, NO_ASK, 3); // DBN's undefined price on the ask side
    b.add(2, A, i64::MIN + 1, 1);
    b.add(3, B, i64::MIN + 1, 2);
    assert_eq!(b.top(), Top { bid: i64::MIN + 1, ask: i64::MIN + 1, bid_size: 2, ask_size: 1 });
    b.cancel(2, 1).unwrap();
    assert_eq!((b.top().ask, b.top().ask_size), (NO_ASK, 3));
}

/// A tiny deterministic generator for the randomised check.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn levels_match_a_plain_model_over_random_records() {
    // Prices within 60 ticks: levels come and go at the touch and deep in the rows.
    check_against_model(60, 1, 0);
    // Prices over 3,000 ticks of a large tick, with clears: the level cache's entries collide,
    // and are dropped with their levels.
    check_against_model(3_000, 250_000_000, 5_000);
}

/// Random adds, cancels and modifies (and a clear every `clear_every` records, if not 0) of
/// prices `1_000 + k * tick` for k below `prices`, the book's top and sizes against a model.
fn check_against_model(prices: u64, tick: i64, clear_every: usize) {
    let mut b = book();
    // order id -> (side, price, size); (side, price) -> (size, orders)
    let mut orders: BTreeMap<u64, (u8, i64, u32)> = BTreeMap::new();
    let mut seed = 0x1234_5678_9abc_def0u64;
    for n in 0..20_000 {
        if clear_every > 0 && n % clear_every == clear_every - 1 {
            b.clear();
            orders.clear();
        }
        let r = next(&mut seed);
        let id = r % 300;
        let side = if r >> 20 & 1 == 0 { B } else { A };
        let price = 1_000 + ((r >> 24) % prices) as i64 * tick;
        let size = (r >> 40) as u32 % 10;
        match r >> 8 & 3 {
            0 | 1 => {
                b.add(id, side, price, size);
                orders.insert(id, (side, price, size));
            }
            2 => {
                b.cancel(id, size).unwrap();
                if let Some(o) = orders.get_mut(&id) {
                    if size >= o.2 {
                        orders.remove(&id);
                    } else {
                        o.2 -= size;
                    }
                }
            }
            _ => {
                b.modify(id, side, price, size).unwrap();
                match orders.get(&id).copied() {
                    None => {
                        orders.insert(id, (side, price, size));
                    }
                    Some(_) if size == 0 => {
                        orders.remove(&id);
                    }
                    Some((s, _, _)) => {
                        orders.insert(id, (s, price, size));
                    }
                }
            }
        }
        let mut levels: BTreeMap<(u8, i64), i64> = BTreeMap::new();
        for &(s, p, q) in orders.values() {
            *levels.entry((if s == B { B } else { A }, p)).or_default() += q as i64;
        }
        let best_bid = levels.range((B, i64::MIN)..=(B, i64::MAX)).next_back();
        let best_ask = levels.range((A, i64::MIN)..=(A, i64::MAX)).next();
        let top = b.top();
        assert_eq!((top.bid, top.bid_size), best_bid.map_or((NO_BID, 0), |(k, v)| (k.1, *v)));
        assert_eq!((top.ask, top.ask_size), best_ask.map_or((NO_ASK, 0), |(k, v)| (k.1, *v)));
        assert_eq!(b.order_count(), orders.len());
    }
    for p in (0..prices as i64).map(|k| 1_000 + k * tick) {
        for s in [B, A] {
            let want: i64 =
                orders.values().filter(|o| o.0 == s && o.1 == p).map(|o| o.2 as i64).sum();
            assert_eq!(b.level_size(s, p), want);
        }
    }
}
