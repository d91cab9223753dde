//! The fill simulator: strategies' orders filled against the real flow, with L3 queue position
//! (engines/fills.py, the same fills).
//!
//! A strategy holds at most one resting order per side and instrument: a quote. A quote joins
//! the tail of its price level by taking the book's next queue stamp, so every real order
//! already there is ahead of it and every order added later is behind it. It fills only from
//! the real flow:
//! - a fill (F) of a resting real order on its side, at its price, that is *behind* it (a larger
//!   stamp): the venue has matched past the quote; it fills by that quantity, up to its own;
//! - a fill on its side at a price worse than its own (a sweep through its level).
//!
//! A fill of an order ahead of it, or of an order the book does not know, does not fill it.
//! Quotes do not change the real book and do not see each other. A take fills at once at the
//! opposite best price, up to the size shown there.
//!
//! Per-instrument state (quotes, positions, cash) is an `Account` kept beside the instrument's
//! book; the fill counts are the simulator's; every fill folds into the engine's digest.

use crate::book::Book;
use crate::digest::Digest;
use crate::record::{Mbo, ASK, BID, NO_ASK, NO_BID};
use crate::strategies::{Decision, OrderRequest, QUOTE, QUOTES, STRATEGIES};

/// A strategy's resting order: price, remaining quantity and queue stamp. A quantity of 0 is
/// no order (its price and stamp then mean nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quote {
    pub price: i64,
    pub quantity: i64,
    pub stamp: u64,
}

impl Quote {
    /// The quote as an order, None when there is none.
    #[cfg(test)]
    pub fn resting(&self) -> Option<Quote> {
        (self.quantity > 0).then_some(*self)
    }
}

/// One instrument's strategy state: per strategy, [bid quote, ask quote], net quantity, and
/// cash (price units times quantity: sells add, buys subtract; wrapping, as the digest masks).
#[derive(Debug, Clone, Default)]
pub struct Account {
    pub quotes: [[Quote; 2]; STRATEGIES],
    pub position: [i64; STRATEGIES],
    pub cash: [i64; STRATEGIES],
}

/// A fill of strategy `s`'s order on an instrument: its side, price and quantity.
struct Fill {
    s: usize,
    key: u64,
    side: u8,
    price: i64,
    quantity: i64,
}

/// Which of a pair of quotes a side's is.
#[inline]
fn slot(side: u8) -> usize {
    if side == BID {
        0
    } else {
        1
    }
}

/// Every strategy's fills, counted.
#[derive(Debug, Clone, Default)]
pub struct FillSimulator {
    pub fills: [u64; STRATEGIES],
}

impl FillSimulator {
    /// Carry out strategy s's decision: its quotes (if it quotes), then a take.
    #[inline]
    pub fn apply(
        &mut self,
        h: &mut Digest,
        s: usize,
        key: u64,
        book: &mut Book,
        account: &mut Account,
        out: &Decision,
    ) {
        if QUOTES[s] {
            quote(s, book, account, BID, out[0]);
            quote(s, book, account, ASK, out[1]);
        }
        if out[2] != 0 {
            self.take(h, s, key, book, account, out[2]);
        }
    }

    /// Carry out one request object (the baseline's form of the same decisions).
    pub fn submit(
        &mut self,
        h: &mut Digest,
        s: usize,
        key: u64,
        book: &mut Book,
        account: &mut Account,
        request: &OrderRequest,
    ) {
        if request.kind == QUOTE {
            quote(s, book, account, request.side, request.price);
        } else {
            let signed = if request.side == BID { request.quantity } else { -request.quantity };
            self.take(h, s, key, book, account, signed);
        }
    }

    /// Buy (quantity > 0) at the best ask or sell at the best bid, up to the size shown.
    fn take(
        &mut self,
        h: &mut Digest,
        s: usize,
        key: u64,
        book: &Book,
        account: &mut Account,
        quantity: i64,
    ) {
        let top = book.top();
        if quantity > 0 && top.ask != NO_ASK {
            let quantity = quantity.min(top.ask_size);
            self.fill(h, account, Fill { s, key, side: BID, price: top.ask, quantity });
        } else if quantity < 0 && top.bid != NO_BID {
            let quantity = (-quantity).min(top.bid_size);
            self.fill(h, account, Fill { s, key, side: ASK, price: top.bid, quantity });
        }
    }

    /// A fill record `r`: a real resting order on its side was filled; fill the quotes it
    /// proves were matched.
    #[inline]
    pub fn on_fill(&mut self, h: &mut Digest, book: &Book, account: &mut Account, r: &Mbo) {
        let Mbo { key, side, price, size, order_id, .. } = *r;
        if side != BID && side != ASK {
            return;
        }
        let i = slot(side);
        for s in 0..STRATEGIES {
            let mut quote = account.quotes[s][i];
            if quote.quantity == 0 {
                continue;
            }
            if price == quote.price {
                match book.stamp_of(order_id) {
                    // An order ahead of the quote, or one the book cannot place.
                    Some(stamp) if stamp >= quote.stamp => {}
                    _ => continue,
                }
            } else if if side == BID { price > quote.price } else { price < quote.price } {
                continue; // a better price than the quote's: its level has not been reached
            }
            let quantity = (size as i64).min(quote.quantity);
            self.fill(h, account, Fill { s, key, side, price: quote.price, quantity });
            quote.quantity -= quantity;
            account.quotes[s][i] = quote;
        }
    }

    fn fill(&mut self, h: &mut Digest, account: &mut Account, f: Fill) {
        if f.quantity <= 0 {
            return;
        }
        self.fills[f.s] += 1;
        let signed = if f.side == BID { f.quantity } else { -f.quantity };
        account.position[f.s] += signed;
        account.cash[f.s] = account.cash[f.s].wrapping_sub(signed.wrapping_mul(f.price));
        h.fill(f.s, f.key, f.side, f.price, f.quantity);
    }
}

/// Hold a one-lot quote at `price` (NO_BID / NO_ASK: hold none); a new price re-queues,
/// taking the book's next stamp.
#[inline]
fn quote(s: usize, book: &mut Book, account: &mut Account, side: u8, price: i64) {
    let current = &mut account.quotes[s][slot(side)];
    if (current.quantity > 0) & (current.price == price) {
        return; // the same quote stays where it is in the queue
    }
    let real = (price != NO_BID) & (price != NO_ASK);
    *current = Quote { price, quantity: real as i64, stamp: book.next_stamp };
    book.next_stamp += real as u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fill record of instrument 7.
    fn fill(side: u8, price: i64, size: u32, order_id: u64) -> Mbo {
        Mbo { ts_recv: 0, key: 7, action: b'F', side, price, size, order_id, flags: 0 }
    }

    fn setup() -> (FillSimulator, Digest, Book, Account) {
        (FillSimulator::default(), Digest::default(), Book::new(false), Account::default())
    }

    #[test]
    fn a_quote_fills_only_when_an_order_behind_it_fills() {
        let (mut f, mut h, mut book, mut acc) = setup();
        book.add(1, BID, 100, 5); // ahead of the quote
        f.apply(&mut h, 0, 7, &mut book, &mut acc, &[100, NO_ASK, 0]);
        book.add(2, BID, 100, 5); // behind it
        f.on_fill(&mut h, &book, &mut acc, &fill(BID, 100, 3, 1));
        assert_eq!(f.fills, [0, 0]);
        f.on_fill(&mut h, &book, &mut acc, &fill(BID, 100, 3, 99)); // unknown order: no proof
        assert_eq!(f.fills, [0, 0]);
        f.on_fill(&mut h, &book, &mut acc, &fill(BID, 100, 3, 2));
        assert_eq!((f.fills, acc.position[0], acc.cash[0]), ([1, 0], 1, -100));
        assert_eq!(acc.quotes[0][0].resting(), None); // the one lot is done
    }

    #[test]
    fn a_sweep_through_the_quotes_level_fills_it() {
        let (mut f, mut h, mut book, mut acc) = setup();
        f.apply(&mut h, 0, 7, &mut book, &mut acc, &[NO_BID, 105, 0]);
        f.on_fill(&mut h, &book, &mut acc, &fill(ASK, 104, 1, 5)); // better than the quote: no
        assert_eq!(f.fills[0], 0);
        f.on_fill(&mut h, &book, &mut acc, &fill(ASK, 106, 2, 5)); // worse: filled, one lot
        assert_eq!((f.fills[0], acc.position[0], acc.cash[0]), (1, -1, 105));
    }

    #[test]
    fn takes_fill_at_the_opposite_best_up_to_its_size() {
        let (mut f, mut h, mut book, mut acc) = setup();
        f.apply(&mut h, 1, 7, &mut book, &mut acc, &[NO_BID, NO_ASK, 1]); // no ask: nothing
        assert_eq!(f.fills[1], 0);
        book.add(1, ASK, 101, 0); // a level of size 0 fills nothing
        f.apply(&mut h, 1, 7, &mut book, &mut acc, &[NO_BID, NO_ASK, 1]);
        assert_eq!(f.fills[1], 0);
        book.add(2, ASK, 101, 4);
        f.apply(&mut h, 1, 7, &mut book, &mut acc, &[NO_BID, NO_ASK, 1]);
        assert_eq!((f.fills[1], acc.position[1], acc.cash[1]), (1, 1, -101));
    }

    #[test]
    fn requests_and_decisions_are_the_same_orders() {
        let (mut f, mut h, mut book, mut acc) = setup();
        let (mut g, mut h2, mut book2, mut acc2) = setup();
        book.add(1, ASK, 101, 4);
        book2.add(1, ASK, 101, 4);
        f.apply(&mut h, 0, 7, &mut book, &mut acc, &[100, 101, 0]);
        let requests = [
            OrderRequest { kind: QUOTE, side: BID, price: 100, quantity: 1 },
            OrderRequest { kind: QUOTE, side: ASK, price: 101, quantity: 1 },
        ];
        for r in &requests {
            g.submit(&mut h2, 0, 7, &mut book2, &mut acc2, r);
        }
        assert_eq!((acc.quotes, book.next_stamp), (acc2.quotes, book2.next_stamp));
        // Re-quoting the same price keeps the stamp; a new price takes a new one.
        f.apply(&mut h, 0, 7, &mut book, &mut acc, &[100, 102, 0]);
        assert_eq!(acc.quotes[0][0].resting().unwrap().stamp, 1);
        assert_eq!(acc.quotes[0][1].resting().unwrap().stamp, 3);
        // Quoting none withdraws the quote and takes no stamp.
        f.apply(&mut h, 0, 7, &mut book, &mut acc, &[NO_BID, 102, 0]);
        assert_eq!((acc.quotes[0][0].resting(), book.next_stamp), (None, 4));
    }
}
