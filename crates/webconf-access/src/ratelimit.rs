//! A keyed rate limiter with bounded memory.
//!
//! # Algorithm: sliding-window log
//! Each key keeps the instants of its counted events inside the window (at most `max` of them).
//! An event is allowed when fewer than `max` events lie in the last `window`; it is then counted.
//!
//! Why not GCRA (one instant per key)? GCRA enforces a *rate* with a burst: after a burst of
//! `max` it lets one more event through every `window / max`, so up to about `2 × max` events can
//! fall in one window. The policy here is a promise in those exact words ("5 codes per hour per
//! address"), and the `retry_after` shown to the user must be true; the log gives both exactly.
//! Its cost, `max` instants per key, is small for the budgets it serves (5, 20); do not use it
//! with a `max` in the thousands.
//!
//! # Memory bound
//! [`RateLimiter::purge`] drops keys with no event left in the window, and the map never holds
//! more than `max_keys` keys: when a new key arrives while it is full, idle keys are dropped
//! first, then the key whose last event is the oldest is evicted. The trade-off: an attacker who
//! spreads events over more than `max_keys` keys within one window can push out a key and so
//! reset its count; the alternative, refusing new keys when full, would let the same attacker
//! lock every other user out. With `max_keys` well above the number of real users in a window,
//! the flood costs far more than it gains.

use std::collections::VecDeque;
use std::fmt;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::ordered::OrderedMap;
use crate::zones::canonical_ip;

/// At most `max` events per `window` per key (sliding-window log; see the module doc for why and
/// for the memory bound). Keys are often personal data (addresses): `Debug` prints none of them.
pub struct RateLimiter<K: Hash + Eq + Clone> {
    max: u32,
    window: Duration,
    max_keys: usize,
    /// Counted events of each key, oldest first; ordered by the key's last event.
    keys: OrderedMap<K, VecDeque<Instant>>,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// A limiter allowing `max` events per `window` per key, remembering at most `max_keys` keys
    /// (at least 1). With `max = 0` nothing is ever allowed (`retry_after` is the window).
    pub fn new(max: u32, window: Duration, max_keys: usize) -> Self {
        RateLimiter {
            max,
            window,
            max_keys: max_keys.max(1),
            keys: OrderedMap::new(),
        }
    }

    /// `Ok` if an event for `key` is allowed now (and counts it); `Err(retry_after)` otherwise
    /// (and does not count it): the time until the oldest counted event leaves the window.
    pub fn check(&mut self, now: Instant, key: &K) -> Result<(), Duration> {
        self.peek(now, key)?;
        self.record(now, key);
        Ok(())
    }

    /// Drops the keys with no event left in the window. Call it periodically (every minute or
    /// so); correctness does not depend on it, only memory.
    pub fn purge(&mut self, now: Instant) {
        let window = self.window;
        self.keys
            .pop_while(|last| now.saturating_duration_since(last) >= window);
    }

    /// Like [`Self::check`] without counting: lets a caller consult several limiters and count
    /// in all of them only when all allow.
    pub(crate) fn peek(&self, now: Instant, key: &K) -> Result<(), Duration> {
        if self.max == 0 {
            return Err(self.window);
        }
        let Some(events) = self.keys.get(key) else {
            return Ok(());
        };
        let live = || {
            events
                .iter()
                .filter(|&&at| now.saturating_duration_since(at) < self.window)
        };
        if live().count() < self.max as usize {
            return Ok(());
        }
        let oldest = live().min().copied().unwrap_or(now);
        Err(self
            .window
            .saturating_sub(now.saturating_duration_since(oldest)))
    }

    /// Counts an event for `key` now, without checking (see [`Self::peek`]).
    pub(crate) fn record(&mut self, now: Instant, key: &K) {
        let window = self.window;
        if let Some(events) = self.keys.get_mut(key) {
            events.retain(|&at| now.saturating_duration_since(at) < window);
            events.push_back(now);
            let last = self.keys.stamp(key).map_or(now, |s| s.max(now));
            self.keys.touch(key, last);
            return;
        }
        if self.keys.len() >= self.max_keys {
            self.purge(now);
            let evicted = self.keys.make_room(self.max_keys);
            if evicted > 0 {
                tracing::debug!(
                    evicted,
                    max_keys = self.max_keys,
                    "rate limiter full: oldest keys evicted"
                );
            }
        }
        self.keys.insert(key.clone(), VecDeque::from([now]), now);
    }

    /// Number of keys remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.keys.len()
    }

    /// Number of events remembered for `key`.
    #[cfg(test)]
    fn get_count(&self, key: &K) -> Option<usize> {
        self.keys.get(key).map(VecDeque::len)
    }
}

impl<K: Hash + Eq + Clone> fmt::Debug for RateLimiter<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("max", &self.max)
            .field("window", &self.window)
            .field("max_keys", &self.max_keys)
            .field("keys", &self.keys.len())
            .finish()
    }
}

/// The key to rate-limit a client address by: IPv4 addresses as they are (IPv4-mapped IPv6 read
/// as IPv4), IPv6 addresses by their `/64` prefix, since one subscriber or site usually holds a
/// whole `/64` and could otherwise step around a per-address limit.
pub fn ip_key(ip: IpAddr) -> IpAddr {
    match canonical_ip(ip) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
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
    fn allows_max_per_window_then_tells_when_to_retry() {
        let t0 = Instant::now();
        let mut rl = RateLimiter::new(3, HOUR, 100);
        assert_eq!(rl.check(t0, &"a"), Ok(()));
        assert_eq!(rl.check(t0 + secs(600), &"a"), Ok(()));
        assert_eq!(rl.check(t0 + secs(1200), &"a"), Ok(()));
        // Fourth within the hour: refused until the first leaves the window (t0 + 1 h).
        assert_eq!(rl.check(t0 + secs(1800), &"a"), Err(secs(1800)));
        // A refusal is not counted: the answer does not move.
        assert_eq!(rl.check(t0 + secs(1800), &"a"), Err(secs(1800)));
        assert_eq!(
            rl.check(t0 + HOUR - Duration::from_nanos(1), &"a"),
            Err(Duration::from_nanos(1))
        );
        // Other keys are independent.
        assert_eq!(rl.check(t0 + secs(1800), &"b"), Ok(()));
        // At exactly t0 + 1 h the first event has left the window.
        assert_eq!(rl.check(t0 + HOUR, &"a"), Ok(()));
        // Now the events are at +600, +1200, +3600: next free slot at +600 + 1 h.
        assert_eq!(rl.check(t0 + HOUR + secs(1), &"a"), Err(secs(599)));
        assert_eq!(rl.check(t0 + HOUR + secs(600), &"a"), Ok(()));
    }

    #[test]
    fn sliding_window_is_not_a_fixed_window() {
        // 2 per 10 s: events at 9 s and 10 s; at 11 s a fixed window starting at 10 s would
        // allow another, the sliding window does not.
        let t0 = Instant::now();
        let mut rl = RateLimiter::new(2, secs(10), 10);
        assert!(rl.check(t0 + secs(9), &1).is_ok());
        assert!(rl.check(t0 + secs(10), &1).is_ok());
        assert_eq!(rl.check(t0 + secs(11), &1), Err(secs(8)));
        assert!(rl.check(t0 + secs(19), &1).is_ok());
    }

    #[test]
    fn max_zero_allows_nothing() {
        let mut rl = RateLimiter::new(0, HOUR, 10);
        assert_eq!(rl.check(Instant::now(), &"a"), Err(HOUR));
        assert_eq!(rl.len(), 0);
    }

    #[test]
    fn purge_drops_idle_keys() {
        let t0 = Instant::now();
        let mut rl = RateLimiter::new(2, HOUR, 100);
        rl.check(t0, &"old").unwrap();
        rl.check(t0 + secs(1800), &"new").unwrap();
        rl.purge(t0 + HOUR - secs(1));
        assert_eq!(rl.len(), 2);
        rl.purge(t0 + HOUR);
        assert_eq!(rl.len(), 1);
        rl.purge(t0 + HOUR + secs(1800));
        assert_eq!(rl.len(), 0);
    }

    #[test]
    fn never_holds_more_than_max_keys() {
        let t0 = Instant::now();
        let mut rl = RateLimiter::new(2, HOUR, 3);
        for i in 0..10u64 {
            assert!(rl.check(t0 + secs(i), &i).is_ok());
            assert!(rl.len() <= 3);
        }
        assert_eq!(rl.len(), 3);
        // The oldest keys were evicted, and so forgotten (the trade-off): "0" starts afresh.
        assert!(rl.get_count(&0).is_none());
        // The oldest is the key whose *last* event is the oldest: "7" is used again, so when a
        // new key arrives "8" goes, not "7".
        assert!(rl.check(t0 + secs(20), &7).is_ok());
        assert!(rl.check(t0 + secs(21), &100).is_ok());
        assert_eq!(rl.get_count(&7), Some(2));
        assert!(rl.get_count(&8).is_none());
        assert_eq!(rl.get_count(&9), Some(1));
        assert_eq!(rl.len(), 3);
        // When full, idle keys are dropped before any live one is evicted.
        let mut rl = RateLimiter::new(1, secs(10), 2);
        rl.check(t0, &"idle").unwrap();
        rl.check(t0 + secs(5), &"live").unwrap();
        rl.check(t0 + secs(10), &"new").unwrap();
        assert!(rl.check(t0 + secs(11), &"live").is_err());
    }

    #[test]
    fn tolerates_instants_out_of_order() {
        let t0 = Instant::now() + HOUR;
        let mut rl = RateLimiter::new(2, HOUR, 10);
        rl.check(t0, &"a").unwrap();
        rl.check(t0 - secs(5), &"a").unwrap();
        assert_eq!(rl.check(t0, &"a"), Err(HOUR - secs(5)));
    }

    #[test]
    fn ip_key_groups_ipv6_by_64_and_unmaps_ipv4() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(ip_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(
            ip_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")),
            ip("2001:db8:1:2::")
        );
        assert_ne!(ip_key(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
        assert_eq!(ip_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(ip_key(ip("192.0.2.7")), ip("192.0.2.7"));
    }

    #[test]
    fn debug_shows_no_key() {
        let mut rl = RateLimiter::new(1, HOUR, 10);
        rl.check(Instant::now(), &"someone@gouv.fr".to_owned())
            .unwrap();
        assert!(!format!("{rl:?}").contains("someone"));
    }
}
