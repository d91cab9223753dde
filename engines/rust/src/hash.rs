//! A fast hasher for integer keys (order ids, instrument keys), written here because the crate
//! uses the standard library only. std's default SipHash resists hash flooding, which an
//! order-id map of a backtest does not need, at several times the cost.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map from integer keys with `IntHasher`.
pub type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;

/// A new, empty `IntMap`.
pub fn int_map<K, V>() -> IntMap<K, V> {
    HashMap::with_hasher(BuildHasherDefault::default())
}

/// Folded multiply: the 128-bit product of the key and an odd constant, high half xor low half.
/// Every bit of the key reaches the low bits (the table's index) and the high bits (the
/// table's control byte), so ids that differ only in their high bits still spread.
#[derive(Default, Clone, Copy)]
pub struct IntHasher(u64);

const K: u64 = 0x9E37_79B9_7F4A_7C15; // 2^64 / golden ratio, odd

impl Hasher for IntHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write_u64(&mut self, x: u64) {
        let m = ((self.0 ^ x) as u128).wrapping_mul(K as u128);
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }

    #[inline]
    fn write_u32(&mut self, x: u32) {
        self.write_u64(x as u64);
    }

    #[inline]
    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }

    /// Other keys, byte by byte (unused by this crate's maps, kept for completeness).
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, BuildHasherDefault};

    #[test]
    fn high_bits_reach_low_bits() {
        let build = BuildHasherDefault::<IntHasher>::default();
        let a = build.hash_one(1u64 << 40);
        let b = build.hash_one(2u64 << 40);
        assert_ne!(a & 0xFFFF, b & 0xFFFF);
        let mut map = int_map();
        for id in 0..1000u64 {
            map.insert(id << 32, id);
        }
        assert_eq!(map.get(&(7u64 << 32)), Some(&7));
    }
}
