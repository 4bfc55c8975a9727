//! The forwarding hot path: one publisher frame to every subscriber that receives it, with the
//! per-subscriber layer switch and timestamp rewriting.
//!
//! What str0m does for us, in frame mode (checked in its 0.25 source): each forwarded track is
//! one outgoing RTP stream of the subscriber's session, whose packetizer assigns its own
//! sequence numbers and (VP8) picture ids, so those stay continuous across a layer switch for
//! free. The RTP timestamp is the `MediaTime` we pass, unchanged, so that part is ours: layers
//! of one simulcast need not share a timestamp base, and a paused video must not jump.

use std::time::Instant;

use str0m::media::{KeyframeRequestKind, MediaData, MediaKind, MediaTime, Mid};
use str0m::Input;
use tracing::debug;

use crate::peer::TrackOutState;
use crate::sfu::Sfu;
use crate::simulcast::vp8_keyframe_size;
use crate::PeerId;

/// What to do with one frame for one subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Not for this subscriber (another layer, or paused).
    Drop,
    /// Send it; `switched` when it starts a new layer (or resumes).
    Forward { switched: bool },
    /// It is the layer we want to switch to, but not a keyframe: ask for one.
    WantKeyframe,
}

/// The per-subscriber state of one forwarded track.
#[derive(Debug, Clone, Default)]
pub struct Forwarding {
    /// The layer the allocation wants sent (`None`: paused). Video only.
    pub target: Option<usize>,
    /// The layer being sent now (switches to `target` on its next keyframe).
    pub current: Option<usize>,
    /// Whether this audio track is forwarded (audio last-N).
    pub audio_on: bool,
    /// Added to the source's RTP time to get ours.
    offset: i64,
    /// Our last RTP time (in the track's clock) and its wallclock.
    last_out: Option<(u64, Instant)>,
    /// Layer switches made (including starts and resumes).
    pub switches: u64,
}

impl Forwarding {
    /// A new forwarded track: audio on, video paused until the allocation decides.
    pub fn new() -> Forwarding {
        Forwarding { audio_on: true, ..Forwarding::default() }
    }

    /// Decides for one video frame of `layer`. Pure but for the switch it records.
    pub fn on_video_frame(&mut self, layer: usize, keyframe: bool) -> Decision {
        let Some(target) = self.target else {
            self.current = None;
            return Decision::Drop;
        };
        if self.current == Some(target) {
            return if layer == target { Decision::Forward { switched: false } } else { Decision::Drop };
        }
        if layer == target {
            if keyframe {
                self.current = Some(target);
                self.switches += 1;
                return Decision::Forward { switched: true };
            }
            return Decision::WantKeyframe;
        }
        // Keep the old layer flowing until the new one's keyframe.
        if self.current == Some(layer) {
            Decision::Forward { switched: false }
        } else {
            Decision::Drop
        }
    }

    /// Our RTP time for a frame at `time` (source clock units) that arrived at `wall`.
    ///
    /// Outside a switch the offset is kept. At a switch, the source time plus the old offset is
    /// kept if it moves forward by about the wallclock elapsed (layers sharing one capture
    /// clock, as Chrome's do); otherwise the offset is reset so that our time advances by the
    /// wallclock elapsed since our last frame.
    pub fn out_time(&mut self, time: u64, clock_rate: u32, wall: Instant, switched: bool) -> u64 {
        if switched {
            if let Some((last, last_wall)) = self.last_out {
                let elapsed = wall.saturating_duration_since(last_wall);
                let expected = last + (elapsed.as_secs_f64() * f64::from(clock_rate)) as u64;
                let kept = (time as i64).wrapping_add(self.offset) as u64;
                let tolerance = u64::from(clock_rate / 2);
                if !(kept > last && kept.abs_diff(expected) <= tolerance) {
                    let new = expected.max(last + 1);
                    self.offset = (new as i64).wrapping_sub(time as i64);
                }
            }
        }
        let out = (time as i64).wrapping_add(self.offset) as u64;
        self.last_out = Some((out, wall));
        out
    }
}

impl Sfu {
    /// Writes one publisher's media frame to every other peer of its room that receives it.
    pub(crate) fn forward(&mut self, now: Instant, source: PeerId, data: MediaData) {
        let Some(src) = self.peers.get_mut(&source) else {
            return;
        };
        let room = src.room;
        let allowed = src.may_forward(data.mid);
        self.activity.insert(room, now);
        let Some(track) = src.tracks_in.iter_mut().find(|t| t.mid == data.mid) else {
            return;
        };
        let kind = track.kind;
        let layer = track.layer_index(data.rid);
        let keyframe = kind == MediaKind::Video && data.is_keyframe();
        {
            let l = &mut track.layers[layer];
            l.meter.add(now, data.data.len());
            l.last_frame = Some(now);
            if keyframe {
                if let Some((_, h)) = vp8_keyframe_size(&data.data) {
                    l.height = Some(u32::from(h));
                }
            }
        }
        if kind == MediaKind::Audio {
            if let Some(level) = data.ext_vals.audio_level {
                self.speakers.entry(room).or_insert_with(crate::speaker::SpeakerDetector::new).observe(now, source, level);
            }
        }
        if !allowed {
            return;
        }
        if kind == MediaKind::Video && !data.contiguous {
            // Loss upstream: the decoders downstream need a fresh keyframe.
            self.request_keyframe(now, source, data.mid, layer, KeyframeRequestKind::Fir);
        }
        let clock_rate = data.time.denom();
        let mut want_keyframe = false;
        let paced = self.config.initial_estimate.is_some();
        // Hot path: no allocation per frame. Membership cannot change while we forward.
        let count = self.rooms.get(&room).map_or(0, Vec::len);
        for i in 0..count {
            let Some(other) = self.rooms.get(&room).and_then(|m| m.get(i)).copied() else {
                break;
            };
            if other == source {
                continue;
            }
            let Some(o) = self.peers.get_mut(&other) else {
                continue;
            };
            let Some(t) = o
                .tracks_out
                .iter_mut()
                .find(|t| t.source == source && t.source_mid == data.mid && matches!(t.state, TrackOutState::Open(_)))
            else {
                continue;
            };
            let TrackOutState::Open(mid) = t.state else {
                continue;
            };
            let switched = if kind == MediaKind::Video {
                match t.fwd.on_video_frame(layer, keyframe) {
                    Decision::Drop => continue,
                    Decision::WantKeyframe => {
                        want_keyframe = true;
                        continue;
                    }
                    Decision::Forward { switched } => switched,
                }
            } else {
                if !t.fwd.audio_on {
                    continue;
                }
                false
            };
            let out = t.fwd.out_time(data.time.numer(), clock_rate, data.network_time, switched);
            let time = MediaTime::new(out, data.time.frequency());
            if write(o, mid, &data, time) {
                o.sent.add(now, data.data.len());
                if paced {
                    // str0m's pacer (with estimation on) needs its timeout after every write:
                    // deferred, the estimate climbed more slowly in the harness (simulcast.rs).
                    if let Err(e) = o.rtc.handle_input(Input::Timeout(now)) {
                        debug!("{other}: timeout handling failed: {e}");
                    }
                    self.drain(other);
                    continue;
                }
                if !o.write_pending {
                    o.write_pending = true;
                    self.written.push(other);
                }
                self.written_at = Some(self.written_at.map_or(now, |t| t.max(now)));
            }
        }
        if want_keyframe {
            self.request_keyframe(now, source, data.mid, layer, KeyframeRequestKind::Pli);
        }
    }

    /// Packetizes the frames written since the last call, one `Input::Timeout` per subscriber.
    ///
    /// str0m packetizes written frames only when it handles a timeout (`Session::do_payload`),
    /// and it stamps send times (for its congestion control) with that time. A timeout also
    /// walks every stream of the subscriber's session, so one per frame cost O(streams) per
    /// frame and subscriber: a room of N paid N² per frame. Deferred to the moment the driver
    /// polls ([`Sfu::poll_output`]), a subscriber that got frames from several publishers (or
    /// several frames) while the driver took its queued datagrams pays once. `written_at` is
    /// the latest write's time, so no send time is stamped before its frame arrived.
    ///
    /// Only without bandwidth estimation (the server's default): str0m's pacer, there, wants
    /// its timeout after every write ([`Sfu::forward`]).
    pub(crate) fn complete_writes(&mut self) {
        let Some(now) = self.written_at.take() else {
            return;
        };
        let mut peers = std::mem::take(&mut self.written);
        for peer in &peers {
            if let Some(o) = self.peers.get_mut(peer) {
                o.write_pending = false;
                if o.rtc.is_alive() {
                    if let Err(e) = o.rtc.handle_input(Input::Timeout(now)) {
                        debug!("{peer}: timeout handling failed: {e}");
                    }
                }
            }
            self.drain(*peer);
        }
        peers.clear();
        if self.written.is_empty() {
            // Keep the allocation for the next turn.
            self.written = peers;
        }
        self.run_work(now);
    }

    /// Asks a publisher for a keyframe on one layer of one of its tracks, at most once per
    /// interval per layer: requests from many subscribers are merged into one.
    pub(crate) fn request_keyframe(&mut self, now: Instant, source: PeerId, mid: Mid, layer: usize, kind: KeyframeRequestKind) {
        let interval = self.config.keyframe_request_interval;
        let Some(p) = self.peers.get_mut(&source) else {
            return;
        };
        let Some(track) = p.tracks_in.iter_mut().find(|t| t.mid == mid) else {
            return;
        };
        if track.kind != MediaKind::Video {
            return;
        }
        let Some(l) = track.layers.get_mut(layer) else {
            return;
        };
        if let Some(last) = l.last_keyframe_request {
            if now.saturating_duration_since(last) < interval {
                return;
            }
        }
        l.last_keyframe_request = Some(now);
        let rid = l.rid;
        if let Some(mut writer) = p.rtc.writer(mid) {
            if let Err(e) = writer.request_keyframe(rid, kind) {
                debug!("{source}: keyframe request refused: {e}");
            }
        }
        self.drain(source);
    }
}

/// Writes a frame into a subscriber's track; false if it could not.
fn write(o: &mut crate::peer::Peer, mid: Mid, data: &MediaData, time: MediaTime) -> bool {
    let Some(writer) = o.rtc.writer(mid) else {
        return false;
    };
    let Some(pt) = writer.match_params(data.params) else {
        return false;
    };
    let writer = match (data.ext_vals.audio_level, data.ext_vals.voice_activity) {
        (Some(level), vad) => writer.audio_level(level, vad.unwrap_or(false)),
        _ => writer,
    };
    if let Err(e) = writer.write(pt, data.network_time, time, data.data.clone()) {
        debug!("cannot forward media: {e}");
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_switch_waits_for_a_keyframe_of_the_new_layer() {
        let mut f = Forwarding { target: Some(0), ..Forwarding::default() };
        // Nothing sent yet: wait for a keyframe of layer 0.
        assert_eq!(f.on_video_frame(0, false), Decision::WantKeyframe);
        assert_eq!(f.on_video_frame(1, true), Decision::Drop);
        assert_eq!(f.on_video_frame(0, true), Decision::Forward { switched: true });
        assert_eq!(f.on_video_frame(0, false), Decision::Forward { switched: false });
        // Go up: layer 0 flows until layer 2's keyframe.
        f.target = Some(2);
        assert_eq!(f.on_video_frame(2, false), Decision::WantKeyframe);
        assert_eq!(f.on_video_frame(0, false), Decision::Forward { switched: false });
        assert_eq!(f.on_video_frame(1, true), Decision::Drop);
        assert_eq!(f.on_video_frame(2, true), Decision::Forward { switched: true });
        assert_eq!(f.on_video_frame(0, false), Decision::Drop);
        assert_eq!(f.current, Some(2));
        // Pause: stops at once; resuming needs a keyframe again.
        f.target = None;
        assert_eq!(f.on_video_frame(2, true), Decision::Drop);
        assert_eq!(f.current, None);
        f.target = Some(2);
        assert_eq!(f.on_video_frame(2, false), Decision::WantKeyframe);
        assert_eq!(f.switches, 2);
    }

    #[test]
    fn timestamps_stay_continuous_across_layers_with_different_bases() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut f = Forwarding::default();
        // Layer A starts at 1000, 3000 ticks (33 ms) per frame.
        assert_eq!(f.out_time(1_000, 90_000, ms(0), true), 1_000);
        assert_eq!(f.out_time(4_000, 90_000, ms(33), false), 4_000);
        // Switch to layer B whose base is far away: continue from 4000 by the elapsed time.
        let out = f.out_time(900_000_000, 90_000, ms(66), true);
        assert!((6_900..=7_100).contains(&out), "{out}");
        assert_eq!(f.out_time(900_003_000, 90_000, ms(99), false), out + 3_000);
        // Switch to a layer sharing B's clock: its own time is kept exactly.
        assert_eq!(f.out_time(900_006_000, 90_000, ms(132), true), out + 6_000);
        // A pause of 2 s: time advances by the pause, not by the source's jump.
        let resumed = f.out_time(5, 90_000, ms(2_132), true);
        let expect = out + 6_000 + 180_000;
        assert!(resumed.abs_diff(expect) < 100, "{resumed} vs {expect}");
    }
}
