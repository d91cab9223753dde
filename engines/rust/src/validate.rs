//! The check of every record before an engine sees it (harness/reader.py's, with the same
//! messages): its length and rtype, a known action and side, and two rules the Python reader
//! gets in the same change: a ts_recv below 2^63 (so that times are signed 64-bit) and a price
//! that is not i64::MIN (the empty bid side's sentinel, no real price).

use crate::error::InputError;
use crate::record::{
    action, code_repr, length, price, rtype, side, ts_recv, ACTIONS, RTYPE_MBO, SIDES,
};

/// Which action and side codes are known, by byte value.
const fn table(codes: &[u8]) -> [bool; 256] {
    let mut ok = [false; 256];
    let mut i = 0;
    while i < codes.len() {
        ok[codes[i] as usize] = true;
        i += 1;
    }
    ok
}

const ACTION_OK: [bool; 256] = table(&ACTIONS);
const SIDE_OK: [bool; 256] = table(&SIDES);

/// Check every record of a chunk: its length and rtype, a known action and side, a ts_recv
/// below 2^63 and a price that is not the empty bid side's sentinel. The first bad record is
/// reported with the first rule it breaks, in that order.
pub fn validate(
    path: &str,
    chunk: &[u8],
    stride: usize,
    words: u8,
    first_index: u64,
) -> Result<(), InputError> {
    for (i, rec) in chunk.chunks_exact(stride).enumerate() {
        // All rules folded into one test, so that a good record costs one branch.
        let bad = (length(rec) != words)
            | (rtype(rec) != RTYPE_MBO)
            | !ACTION_OK[action(rec) as usize]
            | !SIDE_OK[side(rec) as usize]
            | (ts_recv(rec) >> 63 != 0)
            | (price(rec) == i64::MIN);
        if bad {
            return Err(describe(path, rec, words, first_index + i as u64));
        }
    }
    Ok(())
}

fn describe(path: &str, rec: &[u8], words: u8, index: u64) -> InputError {
    let at = format!("{path}: record {index}");
    InputError(if length(rec) != words {
        format!("{at}: length {} words, expected {words} for MBO", length(rec))
    } else if rtype(rec) != RTYPE_MBO {
        format!("{at}: rtype 0x{:02x}, expected 0xa0 (MBO)", rtype(rec))
    } else if !ACTION_OK[action(rec) as usize] {
        format!("{at}: unknown action {}", code_repr(action(rec)))
    } else if !SIDE_OK[side(rec) as usize] {
        format!("{at}: unknown side {}", code_repr(side(rec)))
    } else if ts_recv(rec) >> 63 != 0 {
        format!("{at}: ts_recv {} is beyond 2^63-1 ns", ts_recv(rec))
    } else {
        format!("{at}: price {} is not a price", price(rec))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{RECORD_BYTES, RECORD_WORDS};

    fn good() -> Vec<u8> {
        let mut rec = vec![0u8; RECORD_BYTES];
        rec[0] = RECORD_WORDS;
        rec[1] = RTYPE_MBO;
        rec[38] = b'A';
        rec[39] = b'B';
        rec
    }

    fn check(rec: &[u8]) -> Result<(), InputError> {
        let mut chunk = good();
        chunk.extend_from_slice(rec);
        validate("f.dbn", &chunk, RECORD_BYTES, RECORD_WORDS, 10)
    }

    #[test]
    fn names_the_record_and_the_rule() {
        assert_eq!(check(&good()), Ok(()));
        let mut r = good();
        r[38] = b'X';
        assert_eq!(check(&r).unwrap_err().0, "f.dbn: record 11: unknown action 'X'");
        let mut r = good();
        r[39] = 0;
        assert_eq!(check(&r).unwrap_err().0, "f.dbn: record 11: unknown side '0x00'");
        let mut r = good();
        r[0] = 12;
        r[38] = b'X';
        assert_eq!(
            check(&r).unwrap_err().0,
            "f.dbn: record 11: length 12 words, expected 14 for MBO"
        );
        let mut r = good();
        r[1] = 0x13;
        assert_eq!(check(&r).unwrap_err().0, "f.dbn: record 11: rtype 0x13, expected 0xa0 (MBO)");
        let mut r = good();
        r[40..48].copy_from_slice(&(1u64 << 63).to_le_bytes());
        assert_eq!(
            check(&r).unwrap_err().0,
            "f.dbn: record 11: ts_recv 9223372036854775808 is beyond 2^63-1 ns"
        );
        let mut r = good();
        r[24..32].copy_from_slice(&i64::MIN.to_le_bytes());
        assert_eq!(
            check(&r).unwrap_err().0,
            "f.dbn: record 11: price -9223372036854775808 is not a price"
        );
        let mut r = good();
        r[24..32].copy_from_slice(&i64::MAX.to_le_bytes()); // DBN's undefined price is allowed
        assert_eq!(check(&r), Ok(()));
    }
}
