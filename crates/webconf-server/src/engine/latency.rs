//! How long the server holds a media packet: from the moment its reader task took the
//! datagram off the socket to the moment what the engine made of it (the forwarded copies)
//! was handed to the kernel, at the end of the engine's turn. That is the latency the SFU adds
//! (queueing behind other inputs, SRTP, packetizing, sending), without the network's or the
//! clients'. A load generator cannot tell it from its own delays on a shared machine; the
//! server measures it and logs its quantiles every [`LatencyLog::INTERVAL`] (debug level,
//! target `webconf_server::engine`), which `scripts/bench-vs-janus` reads.

use std::time::{Duration, Instant};

/// Buckets of whole microseconds on a log scale: bucket `i` holds `[2^(i-1), 2^i)` µs (bucket
/// 0: under 1 µs); the last one everything from about 1 s on.
const BUCKETS: usize = 21;

/// A histogram of durations with a factor-2 resolution, in constant memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    counts: [u64; BUCKETS],
    total: u64,
    max: Duration,
}

impl Histogram {
    /// Counts one duration.
    pub fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let bucket = (u64::BITS - us.leading_zeros()) as usize;
        self.counts[bucket.min(BUCKETS - 1)] += 1;
        self.total += 1;
        self.max = self.max.max(d);
    }

    /// How many were counted.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The longest.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// An upper bound of the `q` quantile (0 < q ≤ 1): the top of the bucket that holds it,
    /// never above the maximum. `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                if i == BUCKETS - 1 {
                    break;
                }
                return Some(Duration::from_micros(1u64 << i).min(self.max));
            }
        }
        Some(self.max)
    }
}

/// The histogram of one logging interval, and the reads of the current turn.
#[derive(Debug)]
pub struct LatencyLog {
    current: Histogram,
    since: Option<Instant>,
    /// When each datagram of the current turn was read.
    turn: Vec<Instant>,
}

impl Default for LatencyLog {
    fn default() -> Self {
        LatencyLog { current: Histogram::default(), since: None, turn: Vec::with_capacity(64) }
    }
}

impl LatencyLog {
    /// How often the quantiles are logged.
    pub const INTERVAL: Duration = Duration::from_secs(5);

    /// A datagram read at `at` is handled in this turn.
    pub fn read(&mut self, at: Instant) {
        self.turn.push(at);
    }

    /// The turn's output was sent at `now`: counts its datagrams. Returns the interval's
    /// histogram once [`LatencyLog::INTERVAL`] has passed since the first count, and starts a
    /// new one.
    pub fn sent(&mut self, now: Instant) -> Option<Histogram> {
        for at in self.turn.drain(..) {
            self.current.record(now.saturating_duration_since(at));
        }
        let since = *self.since.get_or_insert(now);
        if now.saturating_duration_since(since) < Self::INTERVAL || self.current.count() == 0 {
            return None;
        }
        self.since = Some(now);
        Some(std::mem::take(&mut self.current))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn quantiles_are_bucket_tops_never_above_the_maximum() {
        let mut h = Histogram::default();
        assert_eq!(h.quantile(0.5), None);
        for _ in 0..98 {
            h.record(us(40)); // bucket [32, 64)
        }
        h.record(us(900)); // [512, 1024)
        h.record(us(3_000)); // [2048, 4096)
        assert_eq!(h.count(), 100);
        assert_eq!(h.quantile(0.5), Some(us(64)));
        assert_eq!(h.quantile(0.98), Some(us(64)));
        assert_eq!(h.quantile(0.99), Some(us(1024)));
        assert_eq!(h.quantile(1.0), Some(us(3_000)), "the top bucket is capped by the maximum");
        assert_eq!(h.max(), us(3_000));
        // Under a microsecond, and beyond the last bucket.
        let mut h = Histogram::default();
        h.record(Duration::from_nanos(300));
        h.record(Duration::from_secs(30));
        assert_eq!(h.quantile(0.5), Some(us(1)));
        assert_eq!(h.quantile(1.0), Some(Duration::from_secs(30)));
    }

    #[test]
    fn a_turn_counts_each_read_until_it_is_sent_and_intervals_roll_over() {
        let t0 = Instant::now();
        let mut log = LatencyLog::default();
        log.read(t0);
        log.read(t0 + us(100));
        assert_eq!(log.sent(t0 + us(300)), None, "the interval has just started");
        log.read(t0 + LatencyLog::INTERVAL);
        // The interval runs from the first send (t0 + 300 µs).
        let h = log.sent(t0 + LatencyLog::INTERVAL + us(350)).expect("an interval ended");
        assert_eq!(h.count(), 3);
        assert_eq!(h.max(), us(350), "the last read waited 350 µs");
        // A new interval starts empty.
        assert_eq!(log.sent(t0 + LatencyLog::INTERVAL * 3), None, "nothing was read");
    }
}
