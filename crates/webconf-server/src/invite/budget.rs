//! How many invitation recipients each agent may still mail this hour.
//!
//! A sliding-window log, like `webconf_access::ratelimit::RateLimiter`, with two differences
//! that invitations need and that limiter's public API cannot give:
//!
//! - **all or nothing**: a batch of `n` recipients is taken whole or not at all. Taking them one
//!   by one with `RateLimiter::check` would, for a batch that does not fit, count the first
//!   recipients and then refuse, so a refused request would still eat the agent's budget.
//! - **unused recipients are given back**: when the relay could not be reached, the recipients
//!   whose mail never left are released, so retrying after an outage costs nothing.
//!
//! Memory is bounded: each key keeps at most one entry per accepted batch within the window
//! (at most `max` entries, since a batch has at least one recipient), idle keys are dropped by
//! [`RecipientBudget::purge`], and at most `max_keys` keys are held (when full, idle keys go
//! first, then the key whose last batch is the oldest).

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Recipients counted against one key (see [`RecipientBudget::reserve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    at: Instant,
    count: u32,
}

/// At most `max` recipients per `window` per key, taken in whole batches. Keys are personal
/// data (an agent's address, a client address): `Debug` shows only sizes.
pub struct RecipientBudget<K> {
    window: Duration,
    max_keys: usize,
    /// Accepted batches of each key within the window: when, and how many recipients.
    keys: HashMap<K, VecDeque<(Instant, u32)>>,
}

impl<K: Hash + Eq + Clone> RecipientBudget<K> {
    /// An empty budget over `window`, remembering at most `max_keys` keys (at least 1).
    pub fn new(window: Duration, max_keys: usize) -> Self {
        RecipientBudget {
            window,
            max_keys: max_keys.max(1),
            keys: HashMap::new(),
        }
    }

    /// Takes `n` recipients for `key` if, with them, no more than `max` fall within the last
    /// window; otherwise takes nothing and returns how long to wait until a batch of `n` would
    /// fit (the whole window when `n > max`: it never will).
    pub fn reserve(
        &mut self,
        now: Instant,
        key: &K,
        n: u32,
        max: u32,
    ) -> Result<Reservation, Duration> {
        if n > max {
            return Err(self.window);
        }
        let window = self.window;
        let live = |at: &Instant| now.saturating_duration_since(*at) < window;
        let mut batches: Vec<(Instant, u32)> = self
            .keys
            .get(key)
            .map(|b| b.iter().filter(|(at, _)| live(at)).copied().collect())
            .unwrap_or_default();
        let used: u64 = batches.iter().map(|&(_, c)| u64::from(c)).sum();
        if used + u64::from(n) > u64::from(max) {
            batches.sort_by_key(|&(at, _)| at);
            let mut left = used;
            for (at, count) in batches {
                left -= u64::from(count);
                if left + u64::from(n) <= u64::from(max) {
                    return Err(window.saturating_sub(now.saturating_duration_since(at)));
                }
            }
            return Err(window);
        }
        if n == 0 {
            return Ok(Reservation { at: now, count: 0 });
        }
        if !self.keys.contains_key(key) && self.keys.len() >= self.max_keys {
            self.make_room(now);
        }
        let entry = self.keys.entry(key.clone()).or_default();
        entry.retain(|(at, _)| live(at));
        entry.push_back((now, n));
        Ok(Reservation { at: now, count: n })
    }

    /// Gives back `unused` recipients of `reservation` (at most its count): their mail was
    /// never handed to the relay.
    pub fn release(&mut self, key: &K, reservation: Reservation, unused: u32) {
        let unused = unused.min(reservation.count);
        if unused == 0 {
            return;
        }
        let Some(batches) = self.keys.get_mut(key) else {
            return;
        };
        if let Some(pos) = batches
            .iter()
            .position(|&(at, count)| at == reservation.at && count >= unused)
        {
            if let Some(batch) = batches.get_mut(pos) {
                batch.1 -= unused;
                if batch.1 == 0 {
                    batches.remove(pos);
                }
            }
        }
        if batches.is_empty() {
            self.keys.remove(key);
        }
    }

    /// Drops batches older than the window and keys left with none. Correctness does not
    /// depend on it, only memory: call it every minute or so.
    pub fn purge(&mut self, now: Instant) {
        let window = self.window;
        self.keys.retain(|_, batches| {
            batches.retain(|(at, _)| now.saturating_duration_since(*at) < window);
            !batches.is_empty()
        });
    }

    /// Number of keys remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key is remembered.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Frees one slot for a new key: idle keys first, else the key whose last batch is the
    /// oldest. Linear in the number of keys, and only run when the map is full.
    fn make_room(&mut self, now: Instant) {
        self.purge(now);
        if self.keys.len() < self.max_keys {
            return;
        }
        let oldest = self
            .keys
            .iter()
            .min_by_key(|(_, b)| b.iter().map(|&(at, _)| at).max())
            .map(|(k, _)| k.clone());
        if let Some(key) = oldest {
            self.keys.remove(&key);
            tracing::debug!(
                max_keys = self.max_keys,
                "invitation budget full: oldest key evicted"
            );
        }
    }
}

impl<K> std::fmt::Debug for RecipientBudget<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecipientBudget")
            .field("window", &self.window)
            .field("max_keys", &self.max_keys)
            .field("keys", &self.keys.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn batches_are_taken_whole_or_not_at_all() {
        let t0 = Instant::now();
        let mut b = RecipientBudget::new(HOUR, 100);
        assert!(b.reserve(t0, &"a", 20, 50).is_ok());
        assert!(b.reserve(t0 + secs(60), &"a", 20, 50).is_ok());
        // 40 used: 20 more do not fit, and the refusal counts nothing...
        assert_eq!(b.reserve(t0 + secs(120), &"a", 20, 50), Err(secs(3480)));
        assert_eq!(b.reserve(t0 + secs(120), &"a", 20, 50), Err(secs(3480)));
        // ...so the 10 that do fit are still there.
        assert!(b.reserve(t0 + secs(120), &"a", 10, 50).is_ok());
        assert!(b.reserve(t0 + secs(121), &"a", 1, 50).is_err());
        // Other keys are independent.
        assert!(b.reserve(t0 + secs(121), &"b", 50, 50).is_ok());
    }

    #[test]
    fn retry_after_is_when_enough_old_batches_have_left() {
        let t0 = Instant::now();
        let mut b = RecipientBudget::new(HOUR, 100);
        b.reserve(t0, &"a", 5, 20).unwrap();
        b.reserve(t0 + secs(600), &"a", 10, 20).unwrap();
        b.reserve(t0 + secs(1200), &"a", 5, 20).unwrap();
        let now = t0 + secs(1800);
        // 1 more: the first batch must leave (at t0 + 1 h).
        assert_eq!(b.reserve(now, &"a", 1, 20), Err(secs(1800)));
        // 6 more: the first two batches must leave (t0 + 600 s + 1 h).
        assert_eq!(b.reserve(now, &"a", 6, 20), Err(secs(2400)));
        // More than the maximum never fits.
        assert_eq!(b.reserve(now, &"a", 21, 20), Err(HOUR));
        // At t0 + 1 h the first batch has left: 5 fit again, exactly.
        assert!(b.reserve(t0 + HOUR, &"a", 5, 20).is_ok());
        assert!(b.reserve(t0 + HOUR, &"a", 1, 20).is_err());
    }

    #[test]
    fn unused_recipients_are_given_back() {
        let t0 = Instant::now();
        let mut b = RecipientBudget::new(HOUR, 100);
        let r = b.reserve(t0, &"a", 10, 10).unwrap();
        assert!(b.reserve(t0, &"a", 1, 10).is_err());
        b.release(&"a", r, 4);
        assert!(b.reserve(t0 + secs(1), &"a", 4, 10).is_ok());
        assert!(b.reserve(t0 + secs(1), &"a", 1, 10).is_err());
        // Giving back a whole batch forgets it; more than the batch is capped.
        let mut b = RecipientBudget::new(HOUR, 100);
        let r = b.reserve(t0, &"a", 3, 10).unwrap();
        b.release(&"a", r, 99);
        assert!(b.is_empty());
        b.release(&"a", r, 1);
        assert!(b.reserve(t0, &"a", 10, 10).is_ok());
    }

    #[test]
    fn memory_is_bounded() {
        let t0 = Instant::now();
        let mut b = RecipientBudget::new(HOUR, 3);
        for i in 0..10u64 {
            b.reserve(t0 + secs(i), &i, 1, 5).unwrap();
            assert!(b.len() <= 3);
        }
        // The keys whose last batch is the oldest were evicted (and so forgotten).
        assert!(b.reserve(t0 + secs(20), &0, 5, 5).is_ok());
        b.purge(t0 + secs(20) + HOUR);
        assert!(b.is_empty());
        let mut b = RecipientBudget::new(HOUR, 2);
        b.reserve(t0, &"idle", 1, 5).unwrap();
        b.reserve(t0 + secs(1800), &"live", 5, 5).unwrap();
        b.reserve(t0 + HOUR, &"new", 1, 5).unwrap();
        assert!(
            b.reserve(t0 + HOUR, &"live", 1, 5).is_err(),
            "the idle key went first"
        );
    }

    #[test]
    fn debug_shows_no_key() {
        let mut b = RecipientBudget::new(HOUR, 10);
        b.reserve(Instant::now(), &"someone@gouv.fr".to_owned(), 1, 5)
            .unwrap();
        assert!(!format!("{b:?}").contains("someone"));
    }
}
