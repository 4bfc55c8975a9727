//! "Loss while forwarded": the frames missing from a flow *while the server was forwarding it*,
//! apart from the stretches where it chose not to (last-N, audio last-N, a hidden tile).
//!
//! A flow here is one (receiver, sender, audio or camera): the camera's simulcast layers are
//! one flow, because every layer of a frame carries the same sequence number (the generator
//! stamps them together) and webconf switches a subscriber's layer on a keyframe of the new
//! layer, so a seamless switch leaves no gap.
//!
//! # The rule
//! Frames arrive with their sender's sequence numbers. When a frame jumps past the highest one
//! seen, the frames skipped form a gap, and the gap is
//! - a **pause** (the server stopped forwarding on purpose) when it spans at least
//!   [`PAUSE_MIN`] of the stream's frames (25 audio frames, 15 video frames), or when it is
//!   video that resumes on a keyframe (webconf resumes a paused camera, and switches layers,
//!   only on a keyframe);
//! - a **loss** otherwise.
//!
//! A frame arriving late (below the highest seen) inside one of the last [`OPEN_GAPS`] loss gaps
//! fills it; any other late or repeated frame is ignored (the same frame of two layers around a
//! switch). Limits: a real loss of 500 ms or more, or one that a keyframe ends, counts as a
//! pause (RTP loss, measured apart, still sees transport losses); an audio pause shorter than
//! 500 ms counts as a loss. Frames before the first or after the last received are in no gap.

use std::collections::VecDeque;
use std::time::Duration;

/// The shortest gap read as a pause whatever frame ends it.
pub const PAUSE_MIN: Duration = Duration::from_millis(500);

/// Loss gaps a late frame may still fill.
pub const OPEN_GAPS: usize = 32;

/// Accounting of one (receiver, sender, audio or camera) flow.
#[derive(Debug, Clone, Default)]
pub struct ForwardedFlow {
    highest: Option<u32>,
    /// Recent loss gaps, inclusive ranges of sequence numbers not received yet.
    open: VecDeque<(u32, u32)>,
    /// The totals.
    pub totals: ForwardedTotals,
}

/// Totals of one or many flows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ForwardedTotals {
    /// Distinct frames received.
    pub received: u64,
    /// Frames missing inside forwarded stretches.
    pub lost: u64,
    /// Frames skipped by pauses.
    pub paused: u64,
    /// Pauses of at least [`PAUSE_MIN`].
    pub pauses: u64,
    /// Shorter video gaps read as pauses because a keyframe ended them.
    pub keyframe_pauses: u64,
}

impl ForwardedTotals {
    /// Adds `other`.
    pub fn add(&mut self, other: &ForwardedTotals) {
        self.received += other.received;
        self.lost += other.lost;
        self.paused += other.paused;
        self.pauses += other.pauses;
        self.keyframe_pauses += other.keyframe_pauses;
    }

    /// `lost / (received + lost)`: the loss while forwarded, 0 when nothing was forwarded.
    pub fn loss(&self) -> f64 {
        crate::metrics::fraction(self.lost, self.received + self.lost)
    }
}

impl ForwardedFlow {
    /// Notes frame `seq` of a stream with one frame every `interval`; `video_keyframe` when it
    /// is a video keyframe.
    pub fn record(&mut self, seq: u32, video_keyframe: bool, interval: Duration) {
        let t = &mut self.totals;
        let Some(highest) = self.highest else {
            self.highest = Some(seq);
            t.received += 1;
            return;
        };
        if seq > highest {
            let gap = seq - highest - 1;
            if gap > 0 {
                let span = interval.saturating_mul(gap);
                if span >= PAUSE_MIN {
                    t.pauses += 1;
                    t.paused += u64::from(gap);
                } else if video_keyframe {
                    t.keyframe_pauses += 1;
                    t.paused += u64::from(gap);
                } else {
                    t.lost += u64::from(gap);
                    if self.open.len() == OPEN_GAPS {
                        self.open.pop_front();
                    }
                    self.open.push_back((highest + 1, seq - 1));
                }
            }
            self.highest = Some(seq);
            t.received += 1;
            return;
        }
        // Late: fill a loss gap, if it is in one.
        let Some(i) = self.open.iter().position(|(a, b)| (*a..=*b).contains(&seq)) else {
            return;
        };
        let (a, b) = self.open[i];
        match (seq > a, seq < b) {
            (false, false) => {
                self.open.remove(i);
            }
            (true, false) => self.open[i] = (a, seq - 1),
            (false, true) => self.open[i] = (seq + 1, b),
            (true, true) => {
                self.open[i] = (a, seq - 1);
                self.open.insert(i + 1, (seq + 1, b));
                if self.open.len() > OPEN_GAPS {
                    self.open.pop_front();
                }
            }
        }
        t.lost -= 1;
        t.received += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUDIO: Duration = Duration::from_millis(20);
    const VIDEO: Duration = Duration::from_micros(33_333);

    fn feed(flow: &mut ForwardedFlow, frames: &[(u32, bool)], interval: Duration) {
        for (seq, key) in frames {
            flow.record(*seq, *key, interval);
        }
    }

    #[test]
    fn short_gaps_are_losses_long_ones_pauses() {
        let mut f = ForwardedFlow::default();
        // Audio 0..=9, 3 and 4 missing (40 ms): lost. Then 24 frames (480 ms) missing: lost.
        // Then 25 missing (500 ms): a pause (audio last-N).
        let mut seqs: Vec<u32> = (0..10).filter(|s| *s != 3 && *s != 4).collect();
        seqs.extend(34..40);
        seqs.extend(65..70);
        for s in seqs {
            f.record(s, false, AUDIO);
        }
        assert_eq!(
            f.totals,
            ForwardedTotals {
                received: 19,
                lost: 26,
                paused: 25,
                pauses: 1,
                keyframe_pauses: 0
            }
        );
        assert!((f.totals.loss() - 26.0 / 45.0).abs() < 1e-9);
    }

    #[test]
    fn video_resuming_on_a_keyframe_was_paused() {
        let mut f = ForwardedFlow::default();
        // 5 frames (167 ms) missing, resumed on a keyframe: a last-N pause or a layer that
        // came back; 5 missing resumed on a delta frame: lost.
        feed(
            &mut f,
            &[(0, true), (1, false), (7, true), (8, false), (14, false)],
            VIDEO,
        );
        assert_eq!(f.totals.received, 5);
        assert_eq!((f.totals.lost, f.totals.paused), (5, 5));
        assert_eq!((f.totals.pauses, f.totals.keyframe_pauses), (0, 1));
    }

    #[test]
    fn late_frames_fill_loss_gaps_and_repeats_are_ignored() {
        let mut f = ForwardedFlow::default();
        // 2..=5 lost, then 3 and 5 and 2 arrive late, 5 again (a repeat), 9 twice (the same
        // frame of two layers around a switch), a frame older than the flow's start.
        feed(
            &mut f,
            &[
                (1, false),
                (6, false),
                (3, false),
                (5, false),
                (2, false),
                (5, false),
                (9, false),
                (9, false),
                (0, false),
            ],
            VIDEO,
        );
        // Received 1, 6, 3, 5, 2, 9; lost 4, 7, 8.
        assert_eq!((f.totals.received, f.totals.lost), (6, 3));
        assert_eq!(f.open, VecDeque::from([(4, 4), (7, 8)]));
    }

    #[test]
    fn old_gaps_close_and_totals_add() {
        let mut f = ForwardedFlow::default();
        for i in 0..=(OPEN_GAPS as u32 + 1) {
            f.record(i * 2, false, AUDIO); // every odd frame lost
        }
        assert_eq!(f.open.len(), OPEN_GAPS);
        assert_eq!(f.totals.lost, OPEN_GAPS as u64 + 1);
        f.record(1, false, AUDIO); // its gap is no longer open: ignored
        assert_eq!(f.totals.lost, OPEN_GAPS as u64 + 1);
        f.record(3, false, AUDIO);
        assert_eq!(f.totals.lost, OPEN_GAPS as u64);
        let mut sum = ForwardedTotals::default();
        sum.add(&f.totals);
        sum.add(&f.totals);
        assert_eq!(sum.lost, 2 * OPEN_GAPS as u64);
        assert_eq!(ForwardedTotals::default().loss(), 0.0);
    }
}
