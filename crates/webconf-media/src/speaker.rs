//! Active speaker detection from the audio level header extension (RFC 6464). A pure,
//! clock-free state machine: the caller feeds levels and ticks it with `now`.
//!
//! Each source's loudness (0 = silence … 127 = full scale, i.e. `127 + dBov`) is smoothed with
//! an exponential average ([`SMOOTHING`]). The loudest source becomes the active speaker only
//! when it is speaking (above [`SPEAKING`]), louder than the current speaker by [`MARGIN`],
//! and has stayed so for [`HOLD`]: a cough, a laugh or two people talking over each other do
//! not make the speaker view flicker. When everyone is silent the last speaker stays.

use std::time::{Duration, Instant};

/// Smoothing time constant of the loudness average.
pub(crate) const SMOOTHING: Duration = Duration::from_millis(300);
/// Loudness above which a source counts as speaking (-50 dBov).
pub(crate) const SPEAKING: f32 = 77.0;
/// How much louder (dB) a challenger must be than the current speaker.
pub(crate) const MARGIN: f32 = 6.0;
/// How long a challenger must hold its lead.
pub(crate) const HOLD: Duration = Duration::from_millis(800);
/// A source that sent no level for this long counts as silent.
const STALE: Duration = Duration::from_millis(500);

#[derive(Debug)]
struct Source<K> {
    key: K,
    loudness: f32,
    last: Instant,
}

/// The detector of one room.
#[derive(Debug)]
pub(crate) struct SpeakerDetector<K> {
    sources: Vec<Source<K>>,
    dominant: Option<K>,
    challenger: Option<(K, Instant)>,
    /// Sources that were the active speaker, most recent first.
    recent: Vec<K>,
}

impl<K: Copy + Eq> SpeakerDetector<K> {
    pub(crate) fn new() -> Self {
        SpeakerDetector {
            sources: Vec::new(),
            dominant: None,
            challenger: None,
            recent: Vec::new(),
        }
    }

    /// One audio frame of `key` with its level in dBov (0 loudest, -127 silence).
    pub(crate) fn observe(&mut self, now: Instant, key: K, level_dbov: i8) {
        let loud = (127.0 + f32::from(level_dbov.clamp(-127, 0))).clamp(0.0, 127.0);
        match self.sources.iter_mut().find(|s| s.key == key) {
            Some(s) => {
                let dt = now.saturating_duration_since(s.last).min(STALE);
                let alpha = 1.0 - (-dt.as_secs_f32() / SMOOTHING.as_secs_f32()).exp();
                s.loudness += alpha * (loud - s.loudness);
                s.last = now;
            }
            None => self.sources.push(Source {
                key,
                loudness: loud.min(SPEAKING - 1.0),
                last: now,
            }),
        }
    }

    /// Forgets a source (it left the room).
    pub(crate) fn remove(&mut self, key: K) {
        self.sources.retain(|s| s.key != key);
        self.recent.retain(|k| *k != key);
        if self.dominant == Some(key) {
            self.dominant = None;
        }
        if self.challenger.is_some_and(|(k, _)| k == key) {
            self.challenger = None;
        }
    }

    /// A source's smoothed loudness now (0 for an unknown or stale one).
    pub(crate) fn loudness(&self, now: Instant, key: K) -> f32 {
        self.sources
            .iter()
            .find(|s| s.key == key)
            .filter(|s| now.saturating_duration_since(s.last) < STALE)
            .map_or(0.0, |s| s.loudness)
    }

    /// Re-evaluates; returns the new active speaker when it changes.
    pub(crate) fn tick(&mut self, now: Instant) -> Option<K> {
        let best = self
            .sources
            .iter()
            .filter(|s| now.saturating_duration_since(s.last) < STALE)
            .filter(|s| s.loudness >= SPEAKING)
            .fold(None::<&Source<K>>, |b, s| match b {
                Some(b) if b.loudness >= s.loudness => Some(b),
                _ => Some(s),
            })
            .map(|s| (s.key, s.loudness));
        let Some((best, best_loud)) = best else {
            self.challenger = None;
            return None;
        };
        if self.dominant == Some(best) {
            self.challenger = None;
            return None;
        }
        let current = self.dominant.map_or(0.0, |d| self.loudness(now, d));
        if best_loud < current + MARGIN {
            self.challenger = None;
            return None;
        }
        let since = match self.challenger {
            Some((k, since)) if k == best => since,
            _ => {
                self.challenger = Some((best, now));
                now
            }
        };
        if now.saturating_duration_since(since) < HOLD {
            return None;
        }
        self.challenger = None;
        self.dominant = Some(best);
        self.recent.retain(|k| *k != best);
        self.recent.insert(0, best);
        Some(best)
    }

    /// Whether levels of this source were ever seen.
    pub(crate) fn knows(&self, key: K) -> bool {
        self.sources.iter().any(|s| s.key == key)
    }

    /// The active speaker, if anyone spoke yet.
    pub(crate) fn dominant(&self) -> Option<K> {
        self.dominant
    }

    /// Sources that were the active speaker, most recent first.
    pub(crate) fn recent(&self) -> &[K] {
        &self.recent
    }

    /// The `n` loudest sources now (speaking or not), loudest first.
    pub(crate) fn loudest(&self, now: Instant, n: usize) -> Vec<K> {
        let mut v: Vec<(K, f32)> = self
            .sources
            .iter()
            .map(|s| (s.key, self.loudness(now, s.key)))
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v.into_iter().take(n).map(|(k, _)| k).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `levels` (one per source, dBov) every 20 ms for `dur`, ticking every 100 ms;
    /// returns the changes seen.
    fn run(
        d: &mut SpeakerDetector<u8>,
        now: &mut Instant,
        levels: &[(u8, i8)],
        dur: Duration,
    ) -> Vec<u8> {
        let mut changes = Vec::new();
        let end = *now + dur;
        let mut n = 0;
        while *now < end {
            for (k, l) in levels {
                d.observe(*now, *k, *l);
            }
            if n % 5 == 0 {
                changes.extend(d.tick(*now));
            }
            n += 1;
            *now += Duration::from_millis(20);
        }
        changes
    }

    #[test]
    fn a_steady_speaker_is_found_after_the_hold() {
        let mut d = SpeakerDetector::new();
        let mut now = Instant::now();
        assert!(run(
            &mut d,
            &mut now,
            &[(1, -127), (2, -127)],
            Duration::from_secs(1)
        )
        .is_empty());
        assert_eq!(d.dominant(), None, "silence elects nobody");
        let changes = run(
            &mut d,
            &mut now,
            &[(1, -127), (2, -30)],
            Duration::from_millis(600),
        );
        assert!(changes.is_empty(), "not before the hold: {changes:?}");
        let changes = run(
            &mut d,
            &mut now,
            &[(1, -127), (2, -30)],
            Duration::from_secs(1),
        );
        assert_eq!(changes, vec![2]);
        assert_eq!(d.recent(), &[2]);
    }

    #[test]
    fn short_interruptions_and_equal_voices_do_not_flicker() {
        let mut d = SpeakerDetector::new();
        let mut now = Instant::now();
        run(
            &mut d,
            &mut now,
            &[(1, -30), (2, -127)],
            Duration::from_secs(2),
        );
        assert_eq!(d.dominant(), Some(1));
        // 2 coughs for 400 ms while 1 pauses.
        let c = run(
            &mut d,
            &mut now,
            &[(1, -127), (2, -20)],
            Duration::from_millis(400),
        );
        assert!(c.is_empty(), "{c:?}");
        // Both talk at about the same level: 1 stays.
        let c = run(
            &mut d,
            &mut now,
            &[(1, -30), (2, -28)],
            Duration::from_secs(3),
        );
        assert!(c.is_empty(), "{c:?}");
        // Everyone silent: 1 stays the speaker.
        let c = run(
            &mut d,
            &mut now,
            &[(1, -127), (2, -127)],
            Duration::from_secs(3),
        );
        assert!(c.is_empty(), "{c:?}");
        assert_eq!(d.dominant(), Some(1));
        // 2 really takes the floor.
        let c = run(
            &mut d,
            &mut now,
            &[(1, -127), (2, -30)],
            Duration::from_secs(2),
        );
        assert_eq!(c, vec![2]);
        assert_eq!(d.recent(), &[2, 1]);
    }

    #[test]
    fn loudest_and_removal() {
        let mut d = SpeakerDetector::new();
        let mut now = Instant::now();
        run(
            &mut d,
            &mut now,
            &[(1, -60), (2, -20), (3, -40)],
            Duration::from_secs(2),
        );
        assert_eq!(d.loudest(now, 2), vec![2, 3]);
        assert_eq!(d.dominant(), Some(2));
        d.remove(2);
        assert_eq!(d.dominant(), None);
        assert!(d.recent().is_empty());
        assert_eq!(d.loudest(now, 5), vec![3, 1]);
        // A source that stopped sending levels counts as silent.
        now += Duration::from_secs(1);
        d.observe(now, 1, -60);
        assert_eq!(d.loudest(now, 1), vec![1]);
    }
}
