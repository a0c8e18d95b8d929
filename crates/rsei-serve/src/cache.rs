//! A small least-recently-used cache bounded by the total weight (bytes) of its values.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

/// Hit and miss counts of a cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    /// Values found.
    pub hits: u64,
    /// Values not found (then computed and usually inserted).
    pub misses: u64,
    /// Values held now.
    pub entries: usize,
    /// Total weight held now (bytes).
    pub bytes: usize,
    /// Largest total weight kept (bytes).
    pub budget: usize,
}

/// Least-recently-used map whose values have a weight; inserting past the budget evicts the
/// least recently used entries. A value heavier than the whole budget is not kept.
pub(crate) struct Lru<K, V> {
    map: HashMap<K, (V, u64, usize)>,
    order: BTreeMap<u64, K>,
    tick: u64,
    bytes: usize,
    budget: usize,
    hits: u64,
    misses: u64,
}

impl<K: Hash + Eq + Clone, V: Clone> Lru<K, V> {
    pub(crate) fn new(budget: usize) -> Self {
        Lru { map: HashMap::new(), order: BTreeMap::new(), tick: 0, bytes: 0, budget, hits: 0, misses: 0 }
    }

    /// The value of `k`, marked as just used.
    pub(crate) fn get(&mut self, k: &K) -> Option<V> {
        self.tick += 1;
        let tick = self.tick;
        match self.map.get_mut(k) {
            Some((v, t, _)) => {
                self.order.remove(t);
                *t = tick;
                self.order.insert(tick, k.clone());
                self.hits += 1;
                Some(v.clone())
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    /// Keeps `v` under `k` (replacing an older value), then evicts down to the budget.
    pub(crate) fn insert(&mut self, k: K, v: V, weight: usize) {
        if let Some((_, t, w)) = self.map.remove(&k) {
            self.order.remove(&t);
            self.bytes -= w;
        }
        if weight > self.budget {
            return;
        }
        self.tick += 1;
        self.order.insert(self.tick, k.clone());
        self.map.insert(k, (v, self.tick, weight));
        self.bytes += weight;
        while self.bytes > self.budget {
            let Some((_, old)) = self.order.pop_first() else { break };
            if let Some((_, _, w)) = self.map.remove(&old) {
                self.bytes -= w;
            }
        }
    }

    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats { hits: self.hits, misses: self.misses, entries: self.map.len(), bytes: self.bytes, budget: self.budget }
    }
}

#[cfg(test)]
mod tests {
    use super::Lru;

    #[test]
    fn evicts_the_least_recently_used_past_the_budget() {
        let mut c = Lru::new(10);
        c.insert("a", 1, 4);
        c.insert("b", 2, 4);
        assert_eq!(c.get(&"a"), Some(1)); // a is now the most recent
        c.insert("c", 3, 4); // 12 > 10: b goes
        assert_eq!(c.get(&"b"), None);
        assert_eq!(c.get(&"a"), Some(1));
        assert_eq!(c.get(&"c"), Some(3));
        c.insert("big", 9, 11); // heavier than the budget: not kept, nothing evicted
        assert_eq!(c.get(&"big"), None);
        let s = c.stats();
        assert_eq!((s.entries, s.bytes, s.hits, s.misses), (2, 8, 3, 2));
        c.insert("a", 5, 2); // replacing updates the weight
        assert_eq!(c.stats().bytes, 6);
        assert_eq!(c.get(&"a"), Some(5));
    }
}
