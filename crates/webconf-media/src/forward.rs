//! The forwarding hot path: each publisher RTP packet, as it arrives, to every subscriber that
//! receives its track and layer, with the per-subscriber layer switch and rewriting.
//!
//! The server's sessions run str0m in RTP mode (`set_rtp_mode(true)`): str0m hands us each
//! packet once decrypted (`Event::RtpPacket`; retransmissions un-RTX'd into their main stream)
//! and writes the packets we give it (`StreamTx::write_rtp`) under our sequence numbers, times
//! and VP8 descriptor patch. The payload is an `Arc<[u8]>` shared by the publisher's packet,
//! every subscriber's write and every subscriber's retransmission cache: nothing is copied or
//! packetized per subscriber, and no packet waits for the rest of its frame. So sequence
//! numbers, VP8 PictureIDs and TL0PICIDXs are ours to keep continuous across layer switches
//! and pauses ([`crate::rewrite`]), and the RTP timestamp too ([`Forwarding::out_time`]).

use std::time::Instant;

use str0m::format::Codec;
use str0m::media::{KeyframeRequestKind, MediaKind, Mid};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite, Vp8Descriptor};
use str0m::Input;
use tracing::debug;

use crate::codec::{h264_starts_keyframe, vp8_header};
use crate::peer::TrackOutState;
use crate::rewrite::{Rewrite, Vp8Ids};
use crate::sfu::{Sfu, Work};
use crate::simulcast::vp8_keyframe_size;
use crate::PeerId;

/// What to do with one packet for one subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Not for this subscriber (another layer, or paused).
    Drop,
    /// Send it; `switched` when it starts a new layer (or resumes).
    Forward { switched: bool },
    /// It is the layer we want to switch to, but does not start a keyframe: ask for one.
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
    /// Whether audio is being sent now (a resume starts a new run of sequence numbers).
    audio_sending: bool,
    /// Added to the source's RTP time to get ours.
    offset: i64,
    /// Our newest RTP time (in the track's clock) and its wallclock.
    last_out: Option<(u64, Instant)>,
    /// Sequence numbers and VP8 ids.
    pub rewrite: Rewrite,
    /// Layer switches made (including starts and resumes).
    pub switches: u64,
}

impl Forwarding {
    /// A new forwarded track: audio on, video paused until the allocation decides.
    pub fn new() -> Forwarding {
        Forwarding {
            audio_on: true,
            ..Forwarding::default()
        }
    }

    /// Decides for one video packet of `layer`; `keyframe` when it is the first packet of a
    /// keyframe. Pure but for the switch it records.
    pub fn on_video_packet(&mut self, layer: usize, keyframe: bool) -> Decision {
        // Paused, another layer, or the old layer once the new one flows: `wants` says.
        if !self.wants(MediaKind::Video, layer) {
            return Decision::Drop;
        }
        // Wanted: `layer` is the target, or the layer still sent until the target's keyframe.
        if self.current == Some(layer) {
            return Decision::Forward { switched: false };
        }
        if keyframe {
            self.current = Some(layer);
            self.switches += 1;
            return Decision::Forward { switched: true };
        }
        Decision::WantKeyframe
    }

    /// Whether a packet of `layer` (ignored for audio) may be sent or wanted at all: the drop
    /// rule of [`Forwarding::on_video_packet`] and [`Forwarding::on_audio_packet`], which ask
    /// it first (a pause is noted here). Cheap, so the hot path asks it before looking up the
    /// subscriber's stream: in a big room most subscribers drop most packets (last-N, other
    /// layers).
    pub fn wants(&mut self, kind: MediaKind, layer: usize) -> bool {
        if kind == MediaKind::Audio {
            if !self.audio_on {
                self.audio_sending = false;
            }
            return self.audio_on;
        }
        match self.target {
            None => {
                self.current = None;
                false
            }
            Some(target) => layer == target || self.current == Some(layer),
        }
    }

    /// A microphone slot changes what it carries (`on`: something): its next packet starts a
    /// new run, as after a pause, so our sequence numbers and times go on from ours, not from
    /// the new source's.
    pub fn change_audio_source(&mut self, on: bool) {
        self.audio_on = on;
        self.audio_sending = false;
    }

    /// A camera slot changes what it carries: nothing is sent until the allocation sets a
    /// layer and a keyframe of the new camera starts it, as a new run (sequence numbers,
    /// picture ids and times go on from ours).
    pub fn change_video_source(&mut self) {
        self.target = None;
        self.current = None;
    }

    /// Decides for one audio packet: sent while `audio_on`; the first after a pause resumes.
    pub fn on_audio_packet(&mut self) -> Decision {
        if !self.wants(MediaKind::Audio, 0) {
            return Decision::Drop;
        }
        let switched = !self.audio_sending;
        self.audio_sending = true;
        Decision::Forward { switched }
    }

    /// Our RTP time for a packet at `time` (source clock units) that arrived at `wall`.
    ///
    /// Outside a switch the offset is kept. At a switch, the source time plus the old offset is
    /// kept if it moves forward by about the wallclock elapsed (layers sharing one capture
    /// clock, as Chrome's do); otherwise the offset is reset so that our time advances by the
    /// wallclock elapsed since our newest packet. A late packet does not move that reference.
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
        if switched || self.last_out.is_none_or(|(last, _)| out >= last) {
            self.last_out = Some((out, wall));
        }
        out
    }
}

impl Sfu {
    /// Writes one publisher's RTP packet to every other peer of its room that receives it.
    pub(crate) fn forward(&mut self, now: Instant, source: PeerId, pkt: RtpPacket) {
        let Some(src) = self.peers.get_mut(&source) else {
            return;
        };
        let room = src.room;
        let Some((ti, layer)) = src.locate(pkt.header.ssrc) else {
            return;
        };
        let Some(params) = src.params_of(ti, pkt.header.payload_type) else {
            return;
        };
        let track = &mut src.tracks_in[ti];
        let (mid, kind) = (track.mid, track.kind);
        let codec = params.spec().codec;
        let payload = &pkt.payload;
        // str0m's parse, for the keyframe test and the patch; ours, for the ids and the offset
        // (str0m's keeps them private).
        let (vp8, descriptor) = match codec {
            Codec::Vp8 => (vp8_header(payload), Vp8Descriptor::parse(payload).ok()),
            _ => (None, None),
        };
        let keyframe = kind == MediaKind::Video
            && match codec {
                Codec::Vp8 => {
                    vp8.is_some() && descriptor.is_some_and(|d| d.starts_keyframe(payload))
                }
                Codec::H264 => h264_starts_keyframe(payload),
                _ => false,
            };
        {
            let l = &mut track.layers[layer];
            l.meter.add(now, payload.len());
            l.last_frame = Some(now);
            if keyframe {
                if let Some(h) = vp8.and_then(|v| vp8_keyframe_size(&payload[v.offset..])) {
                    l.height = Some(u32::from(h.1));
                }
            }
        }
        let allowed = src.may_forward(mid);
        self.activity.insert(room, now);
        if kind == MediaKind::Audio {
            if let Some(level) = pkt.header.ext_vals.audio_level {
                self.speakers
                    .entry(room)
                    .or_insert_with(crate::speaker::SpeakerDetector::new)
                    .observe(now, source, level);
            }
        }
        if !allowed {
            return;
        }
        let ids = vp8.map(|v| v.ids).unwrap_or_default();
        // Patched for every subscriber, unless there is nothing to patch.
        let descriptor = descriptor.filter(|_| ids != Vp8Ids::default());
        let ext_vals = ExtensionValues {
            audio_level: pkt.header.ext_vals.audio_level,
            voice_activity: pkt.header.ext_vals.voice_activity,
            ..ExtensionValues::default()
        };
        let source_pt = pkt.header.payload_type;
        let clock_rate = pkt.time.denom();
        let mut want_keyframe = false;
        let paced = self.config.initial_estimate.is_some();
        // Hot path: no allocation per packet. Membership cannot change while we forward.
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
            let Some(t) = o.tracks_out.iter_mut().find(|t| {
                t.source == Some((source, mid)) && matches!(t.state, TrackOutState::Open(_))
            }) else {
                continue;
            };
            let TrackOutState::Open(out_mid) = t.state else {
                continue;
            };
            if !t.fwd.wants(kind, layer) {
                continue;
            }
            // The subscriber's payload type for the codec, looked up once per source type, and
            // its stream: checked before the decision, which records switches.
            let pt = match t.pt {
                Some((from, to)) if from == source_pt => to,
                _ => {
                    let Some(to) = o.rtc.codec_config().match_params(params).map(|p| p.pt()) else {
                        continue;
                    };
                    t.pt = Some((source_pt, to));
                    to
                }
            };
            let mut api = o.rtc.direct_api();
            if t.ssrc.is_none_or(|ssrc| api.stream_tx(&ssrc).is_none()) {
                t.ssrc = api.stream_tx_by_mid(out_mid, None).map(|s| s.ssrc());
            }
            let Some(stream) = t.ssrc.and_then(|ssrc| api.stream_tx(&ssrc)) else {
                continue;
            };
            let decision = if kind == MediaKind::Video {
                t.fwd.on_video_packet(layer, keyframe)
            } else {
                t.fwd.on_audio_packet()
            };
            let switched = match decision {
                Decision::Drop => continue,
                Decision::WantKeyframe => {
                    want_keyframe = true;
                    continue;
                }
                Decision::Forward { switched } => switched,
            };
            if switched && t.slot.is_some() && t.shown != Some(source) {
                // A camera slot's first packet of its new camera: the browser moves the slot's
                // picture to that tile now.
                t.shown = Some(source);
                self.work.push_back(Work::Slots(other));
            }
            let Some(out) = t.fwd.rewrite.packet(switched, *pkt.seq_no, ids) else {
                continue;
            };
            let time = t
                .fwd
                .out_time(pkt.time.numer(), clock_rate, pkt.timestamp, switched);
            let mut write = RtpWrite::new(
                pt,
                out.seq.into(),
                time as u32,
                pkt.timestamp,
                pkt.payload.clone(),
            )
            .marker(pkt.header.marker)
            .ext_vals(ext_vals.clone())
            .nackable(kind == MediaKind::Video);
            if let Some(d) = &descriptor {
                let mut patch = d.patch();
                if let Some((id, _)) = out.vp8.picture_id {
                    patch = patch.picture_id(id);
                }
                if let Some(idx) = out.vp8.tl0_pic_idx {
                    patch = patch.tl0_pic_idx(idx);
                }
                match patch.build() {
                    Ok(patch) => write = write.vp8_patch(patch),
                    Err(e) => debug!("VP8 descriptor not rewritten: {e}"),
                }
            }
            stream.write_rtp(write);
            o.sent.add(now, payload.len());
            if paced {
                // str0m's pacer (with estimation on) needs its timeout after every write:
                // deferred, the estimate climbed more slowly in the harness (simulcast.rs).
                self.timeouts.1 += 1;
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
        if want_keyframe {
            self.request_keyframe(now, source, mid, layer, KeyframeRequestKind::Pli);
        }
    }

    /// Releases the packets written since the last call, one `Input::Timeout` per subscriber.
    ///
    /// In RTP mode str0m queues each written packet untimestamped and sends nothing until it
    /// handles a timeout (`SendQueue::handle_timeout` stamps the queued packets with that time,
    /// `need_timeout` says one is due); that time is also the send time its congestion
    /// control sees. A timeout walks every stream of the subscriber's session, so one per
    /// packet would cost O(streams) per packet and subscriber (a room of N: N² per packet).
    /// Deferred to the moment the driver polls ([`Sfu::poll_output`]), after the batch of
    /// datagrams it read in one turn, a subscriber pays once for all the packets it got in
    /// that turn, from every publisher. `written_at` is the latest write's time, so no send
    /// time is stamped before its packet arrived; the wait is the rest of the driver's turn.
    /// str0m offers no cheaper way to release a queue (nothing but a timeout stamps it).
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
                    self.timeouts.1 += 1;
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
    pub(crate) fn request_keyframe(
        &mut self,
        now: Instant,
        source: PeerId,
        mid: Mid,
        layer: usize,
        kind: KeyframeRequestKind,
    ) {
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
        let mut api = p.rtc.direct_api();
        match api.stream_rx_by_mid(mid, rid) {
            Some(stream) => stream.request_keyframe(kind),
            None => debug!("{source}: no stream to ask a keyframe of"),
        }
        self.drain(source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_switch_waits_for_a_keyframe_of_the_new_layer() {
        let mut f = Forwarding {
            target: Some(0),
            ..Forwarding::default()
        };
        // Nothing sent yet: wait for a keyframe of layer 0.
        assert_eq!(f.on_video_packet(0, false), Decision::WantKeyframe);
        assert_eq!(f.on_video_packet(1, true), Decision::Drop);
        assert_eq!(
            f.on_video_packet(0, true),
            Decision::Forward { switched: true }
        );
        assert_eq!(
            f.on_video_packet(0, false),
            Decision::Forward { switched: false }
        );
        // Go up: layer 0 flows until layer 2's keyframe.
        f.target = Some(2);
        assert_eq!(f.on_video_packet(2, false), Decision::WantKeyframe);
        assert_eq!(
            f.on_video_packet(0, false),
            Decision::Forward { switched: false }
        );
        assert_eq!(f.on_video_packet(1, true), Decision::Drop);
        assert_eq!(
            f.on_video_packet(2, true),
            Decision::Forward { switched: true }
        );
        assert_eq!(f.on_video_packet(0, false), Decision::Drop);
        assert_eq!(f.current, Some(2));
        // Pause: stops at once; resuming needs a keyframe again.
        f.target = None;
        assert_eq!(f.on_video_packet(2, true), Decision::Drop);
        assert_eq!(f.current, None);
        f.target = Some(2);
        assert_eq!(f.on_video_packet(2, false), Decision::WantKeyframe);
        assert_eq!(f.switches, 2);
    }

    #[test]
    fn wants_is_false_exactly_when_the_decision_is_drop_and_changes_the_same() {
        let layers = [None, Some(0), Some(1), Some(2)];
        for target in layers {
            for current in layers {
                for layer in 0..3 {
                    for keyframe in [false, true] {
                        let f = Forwarding {
                            target,
                            current,
                            ..Forwarding::default()
                        };
                        let (mut a, mut b) = (f.clone(), f);
                        let wants = a.wants(MediaKind::Video, layer);
                        let decision = b.on_video_packet(layer, keyframe);
                        let case = format!("{target:?} {current:?} {layer} {keyframe}");
                        assert_eq!(wants, decision != Decision::Drop, "{case}");
                        if !wants {
                            assert_eq!((a.current, a.switches), (b.current, b.switches), "{case}");
                        }
                    }
                }
            }
        }
        for audio_on in [false, true] {
            for audio_sending in [false, true] {
                let f = Forwarding {
                    audio_on,
                    audio_sending,
                    ..Forwarding::default()
                };
                let (mut a, mut b) = (f.clone(), f);
                let wants = a.wants(MediaKind::Audio, 0);
                assert_eq!(wants, b.on_audio_packet() != Decision::Drop);
                if !wants {
                    assert_eq!(a.audio_sending, b.audio_sending);
                }
            }
        }
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
