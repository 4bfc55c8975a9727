//! Did every receiver get what the server should forward it? Without expectations, every
//! (receiver, sender) pair of a room where the sender publishes must carry media. With the
//! server's last-N given ([`Expectation`]) the other pairs may be silent on purpose, and a
//! receiver must get
//! - video from at least min(N, other video publishers) senders: webconf picks up to
//!   `media.last_n` of the *other* participants' cameras for each receiver;
//! - audio from at least min(N, other audio publishers) senders: webconf forwards each receiver
//!   the N loudest microphones of the *others* (audio last-N, 5; microphones that send no audio
//!   level always come; one's own is never sent back, so it takes no place).

use serde::Serialize;

use crate::client::ParticipantResult;

/// What the server is configured to forward, as far as the generator is told.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Expectation {
    /// The server's `media.last_n`: cameras forwarded to each receiver at most. `None`: every
    /// camera.
    pub video_last_n: Option<u32>,
    /// Microphones forwarded to each receiver at most. `None`: every microphone.
    pub audio_last_n: Option<u32>,
}

/// A (receiver, sender) pair with no media at all, where media was expected.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Missing {
    /// Receiving participant index.
    pub receiver: u32,
    /// Sending participant index.
    pub sender: u32,
    /// `audio` or `video`.
    pub kind: &'static str,
}

/// A receiver that got media from fewer senders than its last-N allows.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Shortfall {
    /// Receiving participant index.
    pub receiver: u32,
    /// `audio` or `video`.
    pub kind: &'static str,
    /// Senders it got at least one frame from.
    pub senders: u32,
    /// Senders it should have got at least (see the module's rule).
    pub expected: u32,
}

fn ok(r: &&ParticipantResult) -> bool {
    r.error.is_none() && r.times.connected.is_some()
}

/// The connected others of `rx`'s room.
fn others<'a>(
    results: &'a [ParticipantResult],
    rx: &'a ParticipantResult,
) -> impl Iterator<Item = &'a ParticipantResult> {
    results.iter().filter(ok).filter(move |tx| {
        tx.plan.index != rx.plan.index && tx.plan.room_index == rx.plan.room_index
    })
}

const KINDS: [(bool, &str); 2] = [(false, "audio"), (true, "video")];

fn publishes(tx: &ParticipantResult, video: bool) -> bool {
    if video {
        tx.plan.video
    } else {
        tx.plan.audio
    }
}

fn last_n(expect: &Expectation, video: bool) -> Option<u32> {
    if video {
        expect.video_last_n
    } else {
        expect.audio_last_n
    }
}

/// Every (receiver, sender, kind) of one room, for the kinds without a last-N expectation,
/// where the sender published and the receiver (connected, not failed) got nothing. Failed
/// participants are reported as failures, not here.
pub fn missing_media(results: &[ParticipantResult], expect: &Expectation) -> Vec<Missing> {
    let mut missing = Vec::new();
    for rx in results.iter().filter(ok) {
        for tx in others(results, rx) {
            for (video, kind) in KINDS {
                if last_n(expect, video).is_none()
                    && publishes(tx, video)
                    && rx.metrics.frames_from(tx.plan.index, video) == 0
                {
                    missing.push(Missing {
                        receiver: rx.plan.index,
                        sender: tx.plan.index,
                        kind,
                    });
                }
            }
        }
    }
    missing
}

/// Every receiver (connected, not failed) and kind with a last-N expectation where it got
/// media from fewer senders than the module's rule allows (last-N, the connected others of its
/// room that publish).
pub fn shortfalls(results: &[ParticipantResult], expect: &Expectation) -> Vec<Shortfall> {
    let mut short = Vec::new();
    for rx in results.iter().filter(ok) {
        for (video, kind) in KINDS {
            let Some(n) = last_n(expect, video) else {
                continue;
            };
            let (mut publishing, mut heard) = (0u32, 0u32);
            for tx in others(results, rx).filter(|tx| publishes(tx, video)) {
                publishing += 1;
                if rx.metrics.frames_from(tx.plan.index, video) > 0 {
                    heard += 1;
                }
            }
            let expected = n.min(publishing);
            if heard < expected {
                short.push(Shortfall {
                    receiver: rx.plan.index,
                    kind,
                    senders: heard,
                    expected,
                });
            }
        }
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{JoinTimes, Plan};
    use crate::media::{FrameHeader, StreamKind};
    use crate::metrics::ReceiverMetrics;
    use std::time::Duration;

    fn participant(index: u32, video: bool) -> ParticipantResult {
        ParticipantResult {
            plan: Plan {
                index,
                room_index: 0,
                room: "room0".into(),
                audio: true,
                video,
                audio_level: None,
            },
            times: JoinTimes {
                connected: Some(Duration::from_millis(40)),
                ..JoinTimes::default()
            },
            error: None,
            metrics: ReceiverMetrics::default(),
            server_errors: 0,
            send_errors: 0,
            pacing: Default::default(),
        }
    }

    fn hear(r: &mut ParticipantResult, sender: u32, stream: StreamKind) {
        let h = FrameHeader {
            stream,
            keyframe: true,
            sender,
            seq: 0,
            sent_us: 0,
        };
        r.metrics.record(&h, 1);
    }

    /// Four participants, 0..=2 publish video, everyone audio. Each gets audio from all others
    /// and video from one other publisher only (last-N 1), except 3 who gets no video at all.
    fn room() -> Vec<ParticipantResult> {
        let mut rs: Vec<ParticipantResult> = (0..4).map(|i| participant(i, i < 3)).collect();
        for rx in 0..4u32 {
            for tx in (0..4u32).filter(|tx| *tx != rx) {
                hear(&mut rs[rx as usize], tx, StreamKind::Audio);
            }
        }
        hear(&mut rs[0], 1, StreamKind::Layer(0));
        hear(&mut rs[1], 2, StreamKind::Layer(0));
        hear(&mut rs[2], 0, StreamKind::Layer(0));
        rs
    }

    /// (receiver, senders it is owed) of each shortfall.
    fn owed(rs: &[ParticipantResult], expect: &Expectation) -> Vec<(u32, u32)> {
        shortfalls(rs, expect)
            .iter()
            .map(|s| (s.receiver, s.expected))
            .collect()
    }

    #[test]
    fn without_expectation_every_silent_pair_is_missing() {
        let rs = room();
        let missing = missing_media(&rs, &Expectation::default());
        // 0 misses 2, 1 misses 0, 2 misses 1, 3 misses 0, 1 and 2: video.
        assert_eq!(missing.len(), 6);
        assert!(missing.iter().all(|m| m.kind == "video"));
        assert!(shortfalls(&rs, &Expectation::default()).is_empty());
    }

    #[test]
    fn with_last_n_a_receiver_needs_min_n_publishers_senders() {
        let mut rs = room();
        let one = Expectation {
            video_last_n: Some(1),
            audio_last_n: Some(5),
        };
        assert!(missing_media(&rs, &one).is_empty());
        assert_eq!(
            shortfalls(&rs, &one),
            vec![Shortfall {
                receiver: 3,
                kind: "video",
                senders: 0,
                expected: 1
            }]
        );
        // Last-N 2: 0, 1 and 2 have 2 other publishers and got 1; 3 has 3 and got 0.
        let two = Expectation {
            video_last_n: Some(2),
            audio_last_n: None,
        };
        let short = shortfalls(&rs, &two);
        assert_eq!(short.len(), 4);
        assert_eq!(short[3].expected, 2);
        // A failed participant is nobody's expected sender.
        rs[2].error = Some("ice: media not connected".into());
        assert_eq!(owed(&rs, &two), vec![(1, 1), (3, 2)]);
        // Audio last-N 2 is of the others' microphones: every receiver is owed min(2, other
        // audio publishers), whether it publishes audio or not (2 has failed: 2 others each).
        let audio = Expectation {
            video_last_n: None,
            audio_last_n: Some(2),
        };
        assert!(shortfalls(&rs, &audio).is_empty());
        rs[3].metrics = ReceiverMetrics::default();
        hear(&mut rs[3], 0, StreamKind::Audio);
        assert_eq!(
            shortfalls(&rs, &audio),
            vec![Shortfall {
                receiver: 3,
                kind: "audio",
                senders: 1,
                expected: 2
            }]
        );
        rs[3].plan.audio = false;
        // 3 no longer publishes: owed min(2, 2 others) = 2 still; 0 and 1 now have one other
        // audio publisher each, and hear it.
        assert_eq!(owed(&rs, &audio), vec![(3, 2)]);
    }
}
