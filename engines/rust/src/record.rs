//! The DBN MBO record and its codes: the one place they are defined (as engines/events.py is for
//! Python).
//!
//! A record is 56 bytes, the same in DBN versions 1, 2 and 3 (64 with the metadata's `ts_out`:
//! the gateway send time follows, and is ignored). Records of v1 and v2 files may start at odd
//! offsets, so fields are read from bytes (`from_le_bytes`), never through a cast.

/// Bytes of one MBO record without ts_out.
pub const RECORD_BYTES: usize = 56;
/// Bytes ts_out adds after each record.
pub const TS_OUT_BYTES: usize = 8;
/// The `length` field of an MBO record without ts_out: its size in 4-byte words.
pub const RECORD_WORDS: u8 = 14;
pub const RTYPE_MBO: u8 = 0xA0;

// Actions: the byte values of Databento's action letters.
pub const ADD: u8 = b'A'; // order added
pub const CANCEL: u8 = b'C'; // cancelled fully or partly; size = quantity removed
pub const MODIFY: u8 = b'M'; // price and/or size changed; size = the new size
pub const CLEAR: u8 = b'R'; // every order of the instrument removed
pub const TRADE: u8 = b'T'; // an aggressor traded; no book change
pub const FILL: u8 = b'F'; // a resting order filled; no book change (a later C or M does it)
pub const NONE: u8 = b'N'; // no book change, may carry flags
pub const ACTIONS: [u8; 7] = [ADD, CANCEL, MODIFY, CLEAR, TRADE, FILL, NONE];

// Sides.
pub const ASK: u8 = b'A'; // sell order, or sell aggressor
pub const BID: u8 = b'B'; // buy order, or buy aggressor
pub const SIDE_NONE: u8 = b'N';
pub const SIDES: [u8; 3] = [ASK, BID, SIDE_NONE];

// Flags (a bit field).
pub const F_LAST: u8 = 0x80; // last record of an event for its instrument: the book is whole
pub const F_SNAPSHOT: u8 = 0x20; // from a snapshot or replay

/// DBN's "no price", also the best ask of an empty ask side.
pub const NO_ASK: i64 = i64::MAX;
/// The best bid of an empty bid side; no record may carry it as a price (the reader rejects it).
pub const NO_BID: i64 = i64::MIN;

/// Offsets of the fields within a record.
mod at {
    pub const LENGTH: usize = 0;
    pub const RTYPE: usize = 1;
    pub const PUBLISHER_ID: usize = 2;
    pub const INSTRUMENT_ID: usize = 4;
    pub const ORDER_ID: usize = 16;
    pub const PRICE: usize = 24;
    pub const SIZE: usize = 32;
    pub const FLAGS: usize = 36;
    pub const ACTION: usize = 38;
    pub const SIDE: usize = 39;
    pub const TS_RECV: usize = 40;
}

/// The fields of one record that an engine reads (the Python engines' `rows`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mbo {
    pub ts_recv: u64,
    /// The instrument: publisher_id << 32 | instrument_id.
    pub key: u64,
    pub action: u8,
    pub side: u8,
    pub price: i64,
    pub size: u32,
    pub order_id: u64,
    pub flags: u8,
}

fn u16_at(rec: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([rec[at], rec[at + 1]])
}

fn u32_at(rec: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(rec[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(rec: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(rec[at..at + 8].try_into().expect("8 bytes"))
}

// A record's fields one by one, for validation.

pub fn length(rec: &[u8]) -> u8 {
    rec[at::LENGTH]
}

pub fn rtype(rec: &[u8]) -> u8 {
    rec[at::RTYPE]
}

pub fn action(rec: &[u8]) -> u8 {
    rec[at::ACTION]
}

pub fn side(rec: &[u8]) -> u8 {
    rec[at::SIDE]
}

pub fn ts_recv(rec: &[u8]) -> u64 {
    u64_at(rec, at::TS_RECV)
}

pub fn price(rec: &[u8]) -> i64 {
    u64_at(rec, at::PRICE) as i64
}

impl Mbo {
    /// Decode one record (`rec` at least RECORD_BYTES long).
    #[inline(always)]
    pub fn decode(rec: &[u8]) -> Mbo {
        // One bounds check up front lets the compiler drop the others.
        let rec = &rec[..RECORD_BYTES];
        Mbo {
            ts_recv: u64_at(rec, at::TS_RECV),
            key: (u16_at(rec, at::PUBLISHER_ID) as u64) << 32
                | u32_at(rec, at::INSTRUMENT_ID) as u64,
            action: rec[at::ACTION],
            side: rec[at::SIDE],
            price: u64_at(rec, at::PRICE) as i64,
            size: u32_at(rec, at::SIZE),
            order_id: u64_at(rec, at::ORDER_ID),
            flags: rec[at::FLAGS],
        }
    }
}

/// The letter of an action or side code as Python's `repr(action_name(code))` shows it:
/// `'X'` for a printable character, `'0x01'` otherwise.
pub fn code_repr(code: u8) -> String {
    if code > 32 && code < 127 {
        match code {
            b'\'' => "\"'\"".to_string(),
            b'\\' => "'\\\\'".to_string(),
            _ => format!("'{}'", code as char),
        }
    } else {
        format!("'0x{code:02x}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_fields_at_their_offsets() {
        let mut rec = [0u8; RECORD_BYTES];
        rec[0] = 14;
        rec[1] = 0xA0;
        rec[2..4].copy_from_slice(&7u16.to_le_bytes());
        rec[4..8].copy_from_slice(&17077u32.to_le_bytes());
        rec[16..24].copy_from_slice(&99u64.to_le_bytes());
        rec[24..32].copy_from_slice(&(-5i64).to_le_bytes());
        rec[32..36].copy_from_slice(&12u32.to_le_bytes());
        rec[36] = 0x82;
        rec[38] = b'M';
        rec[39] = b'B';
        rec[40..48].copy_from_slice(&123u64.to_le_bytes());
        let m = Mbo::decode(&rec);
        assert_eq!(m.key, 7 << 32 | 17077);
        assert_eq!((m.order_id, m.price, m.size, m.flags), (99, -5, 12, 0x82));
        assert_eq!((m.action, m.side, m.ts_recv), (b'M', b'B', 123));
        assert_eq!((length(&rec), rtype(&rec)), (14, 0xA0));
    }

    #[test]
    fn codes_show_as_python_repr() {
        assert_eq!(code_repr(b'X'), "'X'");
        assert_eq!(code_repr(1), "'0x01'");
        assert_eq!(code_repr(b' '), "'0x20'");
        assert_eq!(code_repr(b'\''), "\"'\"");
        assert_eq!(code_repr(b'\\'), "'\\\\'");
        assert_eq!(code_repr(200), "'0xc8'");
    }
}
