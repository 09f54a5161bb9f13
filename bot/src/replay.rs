//! Requests already answered: a signed request sent again within its signature window is
//! answered without running its command again (issue 15, item 5). Discord interactions are keyed
//! by their id, Slack requests by a hash of what was signed. Bounded: entries expire after the
//! window, and past `capacity` the oldest go first.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an id is remembered: a timestamp is accepted up to five minutes either side of now,
/// so one request can be replayed for up to ten minutes after it was first seen.
pub const WINDOW: Duration = Duration::from_secs(600);
/// Most ids remembered at once (about 100 bytes each).
pub const CAPACITY: usize = 100_000;

pub struct Seen {
    window: Duration,
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    keys: HashSet<String>,
    order: VecDeque<(Instant, String)>,
}

impl Default for Seen {
    fn default() -> Self {
        Seen::new(WINDOW, CAPACITY)
    }
}

impl Seen {
    pub fn new(window: Duration, capacity: usize) -> Seen {
        Seen { window, capacity: capacity.max(1), inner: Mutex::new(Inner::default()) }
    }

    /// True the first time `key` is offered within the window; false for a repeat.
    pub fn first(&self, key: &str) -> bool {
        self.first_at(key, Instant::now())
    }

    fn first_at(&self, key: &str, now: Instant) -> bool {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Inner { keys, order } = &mut *inner;
        while let Some((at, _)) = order.front() {
            if now.duration_since(*at) < self.window && keys.len() < self.capacity {
                break;
            }
            if let Some((_, old)) = order.pop_front() {
                keys.remove(&old);
            }
        }
        if keys.contains(key) {
            return false;
        }
        keys.insert(key.to_string());
        order.push_back((now, key.to_string()));
        true
    }

    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_within_the_window_are_caught_and_memory_is_bounded() {
        let seen = Seen::new(Duration::from_secs(10), 3);
        let t0 = Instant::now();
        assert!(seen.first_at("a", t0));
        assert!(!seen.first_at("a", t0 + Duration::from_secs(5)));
        assert!(seen.first_at("a", t0 + Duration::from_secs(11)), "expired after the window");
        for k in ["b", "c", "d", "e"] {
            assert!(seen.first_at(k, t0 + Duration::from_secs(12)));
        }
        assert!(seen.len() <= 3, "{}", seen.len());
    }
}
