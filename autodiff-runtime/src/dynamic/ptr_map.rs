//! A hash map keyed by node addresses, with a hasher made for pointers: the default
//! SipHash costs more than the rest of a backward pass on a small graph.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Multiplicative hashing of one address, with the high bits folded down so that
/// aligned addresses (low bits zero) still spread over the buckets.
#[derive(Default)]
pub(crate) struct PtrHasher(u64);

impl Hasher for PtrHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0 ^ n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
}

/// A map from a node's or leaf's address to a value.
pub(crate) type PtrMap<V> = HashMap<*const (), V, BuildHasherDefault<PtrHasher>>;

/// Numbers addresses in order of first sight: a linear scan while there are few (the
/// common small graph, no hashing and no allocation beyond one `Vec`), a [`PtrMap`]
/// beyond that.
pub(crate) struct PtrIndex {
    keys: Vec<*const ()>,
    map: Option<PtrMap<usize>>,
}

/// How many addresses [`PtrIndex`] scans before it builds a hash map.
const SCAN_LIMIT: usize = 32;

impl PtrIndex {
    /// An empty index.
    pub(crate) fn new() -> Self {
        PtrIndex {
            keys: Vec::with_capacity(8),
            map: None,
        }
    }

    /// An empty index that has not allocated (a placeholder while one is in use).
    pub(crate) fn empty() -> Self {
        PtrIndex {
            keys: Vec::new(),
            map: None,
        }
    }

    /// The number given to `key`, if it was seen.
    pub(crate) fn get(&self, key: *const ()) -> Option<usize> {
        match &self.map {
            Some(map) => map.get(&key).copied(),
            None => self.keys.iter().position(|&k| k == key),
        }
    }

    /// Gives `key` (not seen before) the next number and returns it.
    pub(crate) fn insert(&mut self, key: *const ()) -> usize {
        let id = self.keys.len();
        self.keys.push(key);
        match &mut self.map {
            Some(map) => {
                map.insert(key, id);
            }
            None if self.keys.len() > SCAN_LIMIT => {
                self.map = Some(self.keys.iter().enumerate().map(|(i, &k)| (k, i)).collect());
            }
            None => {}
        }
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keys_in_order_before_and_after_switching_to_a_map() {
        let values: Vec<u64> = (0..100).collect();
        let mut index = PtrIndex::new();
        for (i, v) in values.iter().enumerate() {
            let key: *const () = (v as *const u64).cast();
            assert_eq!(index.get(key), None);
            assert_eq!(index.insert(key), i);
        }
        for (i, v) in values.iter().enumerate() {
            assert_eq!(index.get((v as *const u64).cast()), Some(i));
        }
    }
}
