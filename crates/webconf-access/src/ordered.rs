//! A map whose entries are also kept in the order of a time stamp, so that the oldest can be
//! found and dropped in `O(log n)`: the building block of every bounded store of this crate
//! (pending codes by issue time, sessions by expiry, rate-limiter keys by last event).

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::time::Instant;

/// Position in the order: the stamp, then a sequence number that breaks ties (two entries may
/// carry the same `Instant`).
type Stamp = (Instant, u64);

/// A value and its position in the order.
struct Slot<V> {
    value: V,
    stamp: Stamp,
}

/// A `HashMap` plus a `BTreeMap` index by stamp. Invariant: every key of `entries` appears in
/// `order` exactly once, under the stamp stored in its slot, and nothing else does.
pub(crate) struct OrderedMap<K, V> {
    entries: HashMap<K, Slot<V>>,
    order: BTreeMap<Stamp, K>,
    seq: u64,
}

impl<K: Hash + Eq + Clone, V> OrderedMap<K, V> {
    /// An empty map.
    pub(crate) fn new() -> Self {
        OrderedMap {
            entries: HashMap::new(),
            order: BTreeMap::new(),
            seq: 0,
        }
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    fn next_stamp(&mut self, at: Instant) -> Stamp {
        self.seq = self.seq.wrapping_add(1);
        (at, self.seq)
    }

    /// The value under `key`.
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries.get(key).map(|slot| &slot.value)
    }

    /// The value under `key`, mutably (its stamp does not change: see [`Self::touch`]).
    pub(crate) fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries.get_mut(key).map(|slot| &mut slot.value)
    }

    /// The stamp of `key`.
    pub(crate) fn stamp<Q>(&self, key: &Q) -> Option<Instant>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries.get(key).map(|slot| slot.stamp.0)
    }

    /// Inserts (or replaces) `key` with stamp `at`; returns the value it replaced.
    pub(crate) fn insert(&mut self, key: K, value: V, at: Instant) -> Option<V> {
        let stamp = self.next_stamp(at);
        self.order.insert(stamp, key.clone());
        let old = self.entries.insert(key, Slot { value, stamp })?;
        self.order.remove(&old.stamp);
        Some(old.value)
    }

    /// Moves `key` to stamp `at`.
    pub(crate) fn touch<Q>(&mut self, key: &Q, at: Instant)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let stamp = self.next_stamp(at);
        if let Some(slot) = self.entries.get_mut(key) {
            if let Some(k) = self.order.remove(&slot.stamp) {
                self.order.insert(stamp, k);
            }
            slot.stamp = stamp;
        }
    }

    /// Removes `key`; returns its value.
    pub(crate) fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let slot = self.entries.remove(key)?;
        self.order.remove(&slot.stamp);
        Some(slot.value)
    }

    /// Removes the entry with the oldest stamp.
    pub(crate) fn pop_oldest(&mut self) -> Option<(K, V)> {
        let (_, key) = self.order.pop_first()?;
        let slot = self.entries.remove(&key)?;
        Some((key, slot.value))
    }

    /// Removes entries, oldest first, as long as `stale(stamp)` holds; returns how many.
    /// `stale` must be monotonic in the stamp (true for every stamp up to some point).
    pub(crate) fn pop_while(&mut self, mut stale: impl FnMut(Instant) -> bool) -> usize {
        let mut removed = 0;
        while let Some(entry) = self.order.first_entry() {
            if !stale(entry.key().0) {
                break;
            }
            let key = entry.remove();
            self.entries.remove(&key);
            removed += 1;
        }
        removed
    }

    /// Removes entries, oldest first, while the map holds `max` entries or more, so that one
    /// more fits; returns how many were evicted.
    pub(crate) fn make_room(&mut self, max: usize) -> usize {
        let mut evicted = 0;
        while self.len() >= max.max(1) && self.pop_oldest().is_some() {
            evicted += 1;
        }
        evicted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn keeps_the_order_through_replace_touch_and_remove() {
        let t0 = Instant::now();
        let mut m = OrderedMap::new();
        m.insert("a", 1, t0);
        m.insert("b", 2, t0); // same instant: insertion order breaks the tie
        m.insert("c", 3, t0 + Duration::from_secs(1));
        assert_eq!(m.insert("a", 10, t0 + Duration::from_secs(2)), Some(1));
        assert_eq!(m.len(), 3);
        assert_eq!(m.stamp("a"), Some(t0 + Duration::from_secs(2)));
        m.touch("b", t0 + Duration::from_secs(3));
        assert_eq!(m.pop_oldest(), Some(("c", 3)));
        assert_eq!(m.remove("a"), Some(10));
        assert_eq!(m.get("b"), Some(&2));
        assert_eq!(m.pop_oldest(), Some(("b", 2)));
        assert_eq!(m.pop_oldest(), None);
        assert_eq!(m.order.len(), 0);
    }

    #[test]
    fn pop_while_stops_at_the_first_fresh_entry() {
        let t0 = Instant::now();
        let mut m = OrderedMap::new();
        for i in 0..5u64 {
            m.insert(i, (), t0 + Duration::from_secs(i));
        }
        assert_eq!(m.pop_while(|at| at < t0 + Duration::from_secs(3)), 3);
        assert_eq!(m.len(), 2);
        assert_eq!(m.make_room(2), 1);
        assert_eq!(m.get(&4), Some(&()));
        assert_eq!(m.order.len(), m.entries.len());
    }
}
