//! How long the server holds a media packet: from the moment its reader task took the
//! datagram off the socket to the moment what the engine made of it (the forwarded copies)
//! was handed to the kernel, at the end of the engine's turn. That is the latency the SFU adds
//! (queueing behind other inputs, SRTP, packetizing, sending), without the network's or the
//! clients'. A load generator cannot tell it from its own delays on a shared machine; the
//! server measures it and logs its quantiles every [`LatencyLog::INTERVAL`] (debug level,
//! target `webconf::latency`), which `scripts/bench-vs-janus` reads.

use std::time::{Duration, Instant};

/// The longest duration counted apart (microseconds); longer ones count as this, their true
/// value kept in [`Histogram::max`].
const HIGHEST_US: u64 = 60_000_000;

/// A histogram of durations in microseconds with three significant digits (an HDR histogram:
/// constant memory, about 30 KB), so that a quantile near a target (1 ms) is read to within
/// 1 µs rather than to the nearest power of two.
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: hdrhistogram::Histogram<u64>,
    max: Duration,
}

impl Default for Histogram {
    fn default() -> Self {
        // Constant, valid bounds (low ≥ 1, high ≥ 2 × low, 3 digits ≤ 5): it cannot fail.
        let counts = hdrhistogram::Histogram::new_with_bounds(1, HIGHEST_US, 3)
            .expect("valid histogram bounds");
        Histogram {
            counts,
            max: Duration::ZERO,
        }
    }
}

impl Histogram {
    /// Counts one duration (under 1 µs counts as 1 µs).
    pub fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros())
            .unwrap_or(u64::MAX)
            .clamp(1, HIGHEST_US);
        self.counts.saturating_record(us);
        self.max = self.max.max(d);
    }

    /// How many were counted.
    pub fn count(&self) -> u64 {
        self.counts.len()
    }

    /// The longest.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The `q` quantile (0 < q ≤ 1), to three significant digits (the highest value equivalent
    /// to the one that holds it), never above the maximum. `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.counts.is_empty() {
            return None;
        }
        let us = self
            .counts
            .highest_equivalent(self.counts.value_at_quantile(q.clamp(0.0, 1.0)));
        Some(Duration::from_micros(us).min(self.max))
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
        LatencyLog {
            current: Histogram::default(),
            since: None,
            turn: Vec::with_capacity(64),
        }
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
    fn quantiles_have_three_significant_digits_and_never_exceed_the_maximum() {
        let mut h = Histogram::default();
        assert_eq!(h.quantile(0.5), None);
        for _ in 0..98 {
            h.record(us(40));
        }
        h.record(us(900));
        h.record(us(3_000));
        assert_eq!(h.count(), 100);
        assert_eq!(h.quantile(0.5), Some(us(40)));
        assert_eq!(h.quantile(0.98), Some(us(40)));
        // 900 µs is told from 1 ms (a power-of-two histogram said 1024 for both).
        assert_eq!(h.quantile(0.99), Some(us(900)));
        assert_eq!(h.quantile(1.0), Some(us(3_000)));
        assert_eq!(h.max(), us(3_000));
        // Three significant digits: 1 234 567 µs is read within 0.1 %.
        let mut h = Histogram::default();
        h.record(us(1_234_567));
        let q = h.quantile(0.5).expect("one value").as_micros();
        assert!(q.abs_diff(1_234_567) <= 1_235, "{q}");
        // Under a microsecond, and beyond the highest tracked value.
        let mut h = Histogram::default();
        h.record(Duration::from_nanos(300));
        h.record(Duration::from_secs(300));
        assert_eq!(h.quantile(0.5), Some(us(1)));
        assert_eq!(h.max(), Duration::from_secs(300));
        assert!(h
            .quantile(1.0)
            .is_some_and(|q| q >= Duration::from_secs(59)));
    }

    #[test]
    fn a_turn_counts_each_read_until_it_is_sent_and_intervals_roll_over() {
        let t0 = Instant::now();
        let mut log = LatencyLog::default();
        log.read(t0);
        log.read(t0 + us(100));
        assert!(
            log.sent(t0 + us(300)).is_none(),
            "the interval has just started"
        );
        log.read(t0 + LatencyLog::INTERVAL);
        // The interval runs from the first send (t0 + 300 µs).
        let h = log
            .sent(t0 + LatencyLog::INTERVAL + us(350))
            .expect("an interval ended");
        assert_eq!(h.count(), 3);
        assert_eq!(h.max(), us(350), "the last read waited 350 µs");
        // A new interval starts empty.
        assert!(
            log.sent(t0 + LatencyLog::INTERVAL * 3).is_none(),
            "nothing was read"
        );
    }
}
