//! Computed reports kept in memory, keyed by the practice's revision: every change to a practice
//! writes an audit row in its own transaction, so the newest audit id changes whenever anything a
//! report reads could have changed, in this process or another one sharing the database.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Entries kept before the cache starts over; stale revisions are never read, only evicted.
const CAPACITY: usize = 4096;

#[derive(Debug)]
pub struct ReportCache<K, V> {
    entries: Mutex<HashMap<K, Arc<V>>>,
    capacity: usize,
}

impl<K: Eq + Hash, V> Default for ReportCache<K, V> {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl<K: Eq + Hash, V> ReportCache<K, V> {
    /// Keeps at most `capacity` entries (for larger values, such as rendered answers).
    pub fn with_capacity(capacity: usize) -> Self {
        ReportCache { entries: Mutex::new(HashMap::new()), capacity: capacity.max(1) }
    }

    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        self.entries.lock().ok()?.get(key).cloned()
    }

    /// Forgets everything (benchmarks use it to time the computation itself).
    pub fn clear(&self) {
        if let Ok(mut map) = self.entries.lock() {
            map.clear();
        }
    }

    pub fn put(&self, key: K, value: V) -> Arc<V> {
        let value = Arc::new(value);
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= self.capacity {
                map.clear();
            }
            map.insert(key, value.clone());
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_values_by_key_and_starts_over_when_full() {
        let cache: ReportCache<(i64, i64), String> = ReportCache::default();
        cache.put((1, 7), "seven".into());
        assert_eq!(cache.get(&(1, 7)).as_deref().map(String::as_str), Some("seven"));
        assert!(cache.get(&(1, 8)).is_none(), "a newer revision is a different key");
        for i in 0..CAPACITY as i64 {
            cache.put((2, i), i.to_string());
        }
        assert!(cache.get(&(1, 7)).is_none(), "evicted when the cache started over");
    }

    #[test]
    fn a_smaller_capacity_starts_over_sooner() {
        let cache: ReportCache<i64, String> = ReportCache::with_capacity(3);
        for i in 0..3 {
            cache.put(i, i.to_string());
        }
        assert!(cache.get(&0).is_some() && cache.get(&2).is_some());
        cache.put(3, "three".into());
        assert!(cache.get(&0).is_none() && cache.get(&2).is_none());
        assert_eq!(cache.get(&3).as_deref().map(String::as_str), Some("three"));
    }
}
