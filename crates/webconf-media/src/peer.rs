//! One participant's media session: its [`Rtc`], the tracks it publishes and the tracks it
//! receives from the others, and the state of the server-side SDP negotiation.

use std::net::IpAddr;
use std::time::Instant;

use str0m::change::SdpPendingOffer;
use str0m::format::PayloadParams;
use str0m::media::{MediaKind, Mid, Pt, Rid};
use str0m::rtp::Ssrc;
use str0m::Rtc;

use crate::forward::Forwarding;
use crate::simulcast::{nominal_bitrate, nominal_height, RateMeter, LAYER_TIMEOUT};
use crate::{PeerId, RoomId, ViewRequest};

/// At most this many layers are tracked per published track (browsers send three).
const MAX_LAYERS: usize = 4;

/// What a published track carries, from its kind and the browser's `a=msid` stream id
/// (`screen` for a screen share).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackLabel {
    /// The microphone.
    Audio,
    /// The camera.
    Video,
    /// A shared screen, window or tab.
    Screen,
    /// The sound of a shared tab.
    ScreenAudio,
}

impl TrackLabel {
    pub(crate) fn new(kind: MediaKind, stream_id: &str) -> TrackLabel {
        match (kind, stream_id.starts_with("screen")) {
            (MediaKind::Audio, false) => TrackLabel::Audio,
            (MediaKind::Video, false) => TrackLabel::Video,
            (MediaKind::Video, true) => TrackLabel::Screen,
            (MediaKind::Audio, true) => TrackLabel::ScreenAudio,
        }
    }

    /// Whether it reaches the others in slots ([`crate::pool`]): microphones and cameras do;
    /// screens and their sound are forwarded as they are.
    pub(crate) fn in_slots(self) -> bool {
        matches!(self, TrackLabel::Audio | TrackLabel::Video)
    }

    /// The suffix of the forwarded track's id: `<participant id>-<suffix>`.
    pub fn as_str(self) -> &'static str {
        match self {
            TrackLabel::Audio => "audio",
            TrackLabel::Video => "video",
            TrackLabel::Screen => "screen",
            TrackLabel::ScreenAudio => "screen-audio",
        }
    }
}

/// A track the browser publishes to us (its microphone, camera or screen).
#[derive(Debug)]
pub(crate) struct TrackIn {
    /// The m-line in this peer's session.
    pub mid: Mid,
    /// Audio or video.
    pub kind: MediaKind,
    /// Microphone, camera or screen.
    pub label: TrackLabel,
    /// Its simulcast layers, lowest first; a single layer (rid `None`) without simulcast.
    pub layers: Vec<LayerIn>,
    /// The codec parameters of the payload type its latest packet carried.
    pub params: Option<PayloadParams>,
}

/// One simulcast layer of a published track (or the only one).
#[derive(Debug)]
pub(crate) struct LayerIn {
    /// Its rid, `None` without simulcast.
    pub rid: Option<Rid>,
    /// The SSRC its packets arrive on, once one has.
    pub ssrc: Option<Ssrc>,
    /// Its height, read from a keyframe.
    pub height: Option<u32>,
    /// Its measured bitrate.
    pub meter: RateMeter,
    /// When its last packet arrived (the name is from frame mode: a layer flows while it does).
    pub last_frame: Option<Instant>,
    /// When we last asked the browser for a keyframe of it (throttling).
    pub last_keyframe_request: Option<Instant>,
}

impl LayerIn {
    fn new(rid: Option<Rid>) -> LayerIn {
        LayerIn {
            rid,
            ssrc: None,
            height: None,
            meter: RateMeter::new(),
            last_frame: None,
            last_keyframe_request: None,
        }
    }
}

impl TrackIn {
    /// A new published track; its layers are the rids the offer declares, in that order.
    pub(crate) fn new(mid: Mid, kind: MediaKind, label: TrackLabel, rids: &[Rid]) -> TrackIn {
        let layers = if rids.is_empty() {
            vec![LayerIn::new(None)]
        } else {
            rids.iter()
                .take(MAX_LAYERS)
                .map(|r| LayerIn::new(Some(*r)))
                .collect()
        };
        TrackIn {
            mid,
            kind,
            label,
            layers,
            params: None,
        }
    }

    /// The index of the layer of `rid`; a rid not declared is added on top (bounded).
    pub(crate) fn layer_index(&mut self, rid: Option<Rid>) -> usize {
        if let Some(i) = self.layers.iter().position(|l| l.rid == rid) {
            return i;
        }
        if rid.is_some()
            && self.layers.len() == 1
            && self.layers[0].rid.is_none()
            && self.layers[0].last_frame.is_none()
        {
            self.layers[0].rid = rid;
            return 0;
        }
        if self.layers.len() >= MAX_LAYERS {
            return self.layers.len() - 1;
        }
        self.layers.push(LayerIn::new(rid));
        self.layers.len() - 1
    }

    /// The height of each layer, known or nominal.
    pub(crate) fn heights(&self) -> Vec<u32> {
        let n = self.layers.len();
        self.layers
            .iter()
            .enumerate()
            .map(|(i, l)| l.height.unwrap_or_else(|| nominal_height(i, n)))
            .collect()
    }

    /// The bitrate of each layer, measured or nominal; `u64::MAX` for a layer not flowing.
    pub(crate) fn bitrates(&self, now: Instant) -> Vec<u64> {
        let n = self.layers.len();
        self.layers
            .iter()
            .enumerate()
            .map(|(i, l)| match l.last_frame {
                Some(t) if now.saturating_duration_since(t) < LAYER_TIMEOUT => l
                    .meter
                    .rate()
                    .unwrap_or_else(|| nominal_bitrate(i, n))
                    .max(1),
                _ => u64::MAX,
            })
            .collect()
    }

    /// Whether any layer flows.
    pub(crate) fn flowing(&self, now: Instant) -> bool {
        self.layers.iter().any(|l| {
            l.last_frame
                .is_some_and(|t| now.saturating_duration_since(t) < LAYER_TIMEOUT)
        })
    }
}

/// Where a forwarded track stands in the negotiation with the receiving browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TrackOutState {
    /// Must be added in the next server offer.
    ToOpen,
    /// Added in the outstanding offer, under this mid.
    Negotiating(Mid),
    /// Negotiated: media is written to this mid.
    Open(Mid),
    /// Its source is gone: must be stopped in the next server offer.
    ToStop(Mid),
    /// Stopped in the outstanding offer.
    NegotiatingStop(Mid),
}

/// The `a=msid` stream id of the microphone slots ([`crate::pool`]): no participant id (those
/// are `p` and hex digits), so the browser tells a slot from a participant's track.
pub(crate) const SLOT_STREAM: &str = "slots";

/// A track forwarded to this peer: one publisher's track, or a microphone slot that carries
/// the publishers' microphones in turn ([`crate::pool`]).
#[derive(Debug)]
pub(crate) struct TrackOut {
    /// The publisher and the m-line of its track whose media this track carries now. Fixed
    /// for a publisher's track; for a slot, chosen by the allocation (`None`: silent).
    pub source: Option<(PeerId, Mid)>,
    /// `Some(n)` for the n-th slot of its kind (microphone or camera) of this peer.
    pub slot: Option<usize>,
    /// For a slot, whose track its table entry names ([`crate::SfuOutput::Slots`]): a
    /// microphone's from when it is given the slot, a camera's from its first packet sent in
    /// it, so that the browser moves the slot's picture to that tile when it changes.
    pub shown: Option<PeerId>,
    /// The `a=msid` stream id: the publisher's participant id, or [`SLOT_STREAM`].
    pub msid_stream: String,
    /// Audio or video.
    pub kind: MediaKind,
    /// Microphone, camera or screen (the `a=msid` track id is `<stream>-<label>`).
    pub label: TrackLabel,
    /// Negotiation state with this peer's browser.
    pub state: TrackOutState,
    /// Which layer is sent, timestamp rewriting, audio on or off.
    pub fwd: Forwarding,
    /// The source's payload type last forwarded and ours for it.
    pub pt: Option<(Pt, Pt)>,
    /// The SSRC of its send stream, once written to: looked up by SSRC (a hash map), not by
    /// mid (a walk over every send stream of the session, 6 % of a 30-person call's CPU).
    pub ssrc: Option<Ssrc>,
}

impl TrackOut {
    /// One publisher's track, forwarded as it is.
    pub(crate) fn new(
        source: PeerId,
        source_mid: Mid,
        source_stream: String,
        kind: MediaKind,
        label: TrackLabel,
    ) -> TrackOut {
        TrackOut {
            source: Some((source, source_mid)),
            slot: None,
            shown: None,
            msid_stream: source_stream,
            kind,
            label,
            state: TrackOutState::ToOpen,
            fwd: Forwarding::new(),
            pt: None,
            ssrc: None,
        }
    }

    /// The `n`-th slot of `kind` (a microphone or a camera slot), carrying `source` once
    /// negotiated.
    pub(crate) fn slot(kind: MediaKind, n: usize, source: Option<(PeerId, Mid)>) -> TrackOut {
        let label = match kind {
            MediaKind::Audio => TrackLabel::Audio,
            MediaKind::Video => TrackLabel::Video,
        };
        let mut t = TrackOut::new(
            PeerId(0),
            Mid::from(""),
            SLOT_STREAM.to_owned(),
            kind,
            label,
        );
        t.slot = Some(n);
        t.carry(source);
        t
    }

    /// The `a=msid` track id: `<participant id>-<label>`, or `slot-audio-<n>` for a slot.
    pub(crate) fn msid_track(&self) -> String {
        match self.slot {
            Some(n) => format!("slot-{}-{n}", self.label.as_str()),
            None => format!("{}-{}", self.msid_stream, self.label.as_str()),
        }
    }

    /// Makes a slot carry `source` (`None`: nothing) from its next packet on: a microphone at
    /// once, a camera from its next keyframe (its layer is the allocation's to set).
    pub(crate) fn carry(&mut self, source: Option<(PeerId, Mid)>) {
        self.source = source;
        self.pt = None;
        match self.kind {
            MediaKind::Audio => {
                self.fwd.change_audio_source(source.is_some());
                self.shown = source.map(|(s, _)| s);
            }
            MediaKind::Video => {
                self.fwd.change_video_source();
                self.shown = None;
            }
        }
    }

    /// Its m-line in this peer's session, once offered.
    pub(crate) fn mid(&self) -> Option<Mid> {
        match self.state {
            TrackOutState::ToOpen => None,
            TrackOutState::Negotiating(m)
            | TrackOutState::Open(m)
            | TrackOutState::ToStop(m)
            | TrackOutState::NegotiatingStop(m) => Some(m),
        }
    }
}

/// One participant's media session.
pub(crate) struct Peer {
    /// The room whose peers receive this peer's media.
    pub room: RoomId,
    /// The participant id, used as the WebRTC stream id of what this peer publishes.
    pub stream_id: String,
    /// The WebRTC session (ICE-lite, DTLS-SRTP).
    pub rtc: Rtc,
    /// Our ICE username fragment in this session: the routing key of its STUN requests.
    pub ufrag: String,
    /// Our ICE password in this session: a STUN request binds an address pair only if its
    /// MESSAGE-INTEGRITY verifies with it.
    pub ice_pass: String,
    /// Tracks this peer publishes.
    pub tracks_in: Vec<TrackIn>,
    /// Tracks of others forwarded to this peer.
    pub tracks_out: Vec<TrackOut>,
    /// Our outstanding offer, if any (never more than one).
    pub pending: Option<SdpPendingOffer>,
    /// The SDP text of the outstanding offer (set and cleared with [`Self::pending`]): sent
    /// again unchanged after a `resume` ([`crate::Sfu::resend_offer`]).
    pub pending_sdp: Option<String>,
    /// True once the browser's own offer has been answered: only then may we offer.
    pub offered: bool,
    /// When the `Rtc` next wants a timeout (mirrors the entry in the timer set).
    pub timeout: Option<Instant>,
    /// True once `Dead` was reported, so it is reported once.
    pub dead: bool,
    /// A packet was written to one of its tracks and awaits [`crate::Sfu::complete_writes`].
    pub write_pending: bool,
    /// Whether the microphone may be forwarded (a moderator can block it).
    pub allow_audio: bool,
    /// Whether the participant says its microphone is on (`media_state`,
    /// [`crate::Sfu::set_microphone_on`]): its browser keeps the audio m-line and may go on
    /// sending silence while it is off. Apart from [`Self::allow_audio`]: the microphone is
    /// forwarded only while both hold.
    pub mic_on: bool,
    /// Whether the camera may be forwarded (a moderator can block it).
    pub allow_video: bool,
    /// Whether the participant says its camera is on (`media_state`,
    /// [`crate::Sfu::set_camera_on`]): a browser whose camera track is disabled goes on
    /// sending black frames. Apart from [`Self::allow_video`]: the camera takes a place in the
    /// others' last-N only while both hold.
    pub camera_on: bool,
    /// The previous stats report: when, media bytes received and sent (for bitrates).
    pub last_stats: Option<(Instant, u64, u64)>,
    /// What the browser shows of the others, once it said so ([`crate::Sfu::set_view`]).
    pub view: Option<Vec<ViewRequest>>,
    /// The latest bandwidth estimate toward this peer (bit/s), from TWCC feedback.
    pub estimate: Option<u64>,
    /// When the allocation last stepped a video down for lack of bandwidth.
    pub last_step_down: Option<Instant>,
    /// Media bytes written toward this peer.
    pub sent: RateMeter,
    /// The estimate was injected ([`crate::Sfu::inject_estimate`]): TWCC does not replace it.
    pub estimate_pinned: bool,
    /// When the allocation last stepped a video up.
    pub last_step_up: Option<Instant>,
    /// The desired bitrate last given to str0m's estimator (to probe up to it).
    pub desired: u64,
    /// The padding minimum last given to str0m's estimator (bit/s; 0: none).
    pub padding_minimum: u64,
    /// The recent estimates, for the allocation's hold ([`crate::bwe::EstimateHold`]).
    pub estimates: crate::bwe::EstimateHold,
    /// The latest transport report's loss toward this peer and what we sent meanwhile, and when
    /// it came: a lossy path is congested ([`crate::bwe::ceiling`]).
    pub path: Option<(Instant, crate::bwe::PathLoss)>,
    /// The recent transport reports (when, media bytes sent), for the rate in [`Self::path`].
    pub last_path: std::collections::VecDeque<(Instant, u64)>,
    /// When a transport report last showed a lossy path (`bwe::LOSS_CONGESTED`): for a while
    /// after, str0m's estimate is not trusted below what the path carries cleanly.
    pub lossy_at: Option<Instant>,
    /// When str0m's estimator was last restarted from what the path carried.
    pub estimator_reset_at: Option<Instant>,
    /// NACKs received from this peer so far, per forwarded track.
    pub nacks: Vec<(Mid, u64)>,
    /// The local addresses of its network zone: packets arriving on another are dropped.
    pub local_addresses: Vec<IpAddr>,
    /// The slot table last reported ([`crate::SfuOutput::Slots`]).
    pub slots_sent: Vec<crate::pool::SlotKey>,
}

impl Peer {
    /// Stops forwarding the publishers' tracks `gone` names (by publisher and m-line): one
    /// not offered yet is dropped, one negotiated is stopped in the next offer, and a slot
    /// carrying one is emptied (the allocation gives it to another).
    pub(crate) fn stop_forwarding(&mut self, gone: impl Fn(PeerId, Mid) -> bool) {
        let gone = |t: &TrackOut| t.source.is_some_and(|(s, m)| gone(s, m));
        self.tracks_out
            .retain(|t| !(t.slot.is_none() && gone(t) && t.state == TrackOutState::ToOpen));
        for t in self.tracks_out.iter_mut().filter(|t| gone(t)) {
            match (t.slot, t.state) {
                (Some(_), _) => t.carry(None),
                (None, TrackOutState::Open(m)) => t.state = TrackOutState::ToStop(m),
                _ => {}
            }
        }
    }

    /// Whether this peer's microphone may be forwarded and compete for the others' microphone
    /// slots: a moderator did not block it and the participant did not turn it off.
    pub(crate) fn forwards_microphone(&self) -> bool {
        self.allow_audio && self.mic_on
    }

    /// Whether this peer's camera may be forwarded and compete for the others' last-N: a
    /// moderator did not block it and the participant did not turn it off.
    pub(crate) fn forwards_camera(&self) -> bool {
        self.allow_video && self.camera_on
    }

    /// Whether media of this published track may be forwarded now.
    pub(crate) fn may_forward(&self, mid: Mid) -> bool {
        match self
            .tracks_in
            .iter()
            .find(|t| t.mid == mid)
            .map(|t| t.label)
        {
            Some(TrackLabel::Audio) => self.forwards_microphone(),
            Some(TrackLabel::Video) => self.forwards_camera(),
            Some(TrackLabel::Screen | TrackLabel::ScreenAudio) => true,
            None => false,
        }
    }

    /// The published track and layer (indices) of the stream `ssrc`, learnt from str0m's
    /// receive stream on its first packet and kept in the layer.
    pub(crate) fn locate(&mut self, ssrc: Ssrc) -> Option<(usize, usize)> {
        for (i, t) in self.tracks_in.iter().enumerate() {
            if let Some(l) = t.layers.iter().position(|l| l.ssrc == Some(ssrc)) {
                return Some((i, l));
            }
        }
        let (mid, rid) = {
            let mut api = self.rtc.direct_api();
            let stream = api.stream_rx(&ssrc)?;
            (stream.mid(), stream.rid())
        };
        let i = self.tracks_in.iter().position(|t| t.mid == mid)?;
        let l = self.tracks_in[i].layer_index(rid);
        self.tracks_in[i].layers[l].ssrc = Some(ssrc);
        Some((i, l))
    }

    /// The codec parameters of payload type `pt` in this session, for published track `track`
    /// (kept there for its next packets).
    pub(crate) fn params_of(&mut self, track: usize, pt: Pt) -> Option<PayloadParams> {
        let t = self.tracks_in.get_mut(track)?;
        match t.params {
            Some(p) if p.pt() == pt => Some(p),
            _ => {
                let p = *self.rtc.codec_config().iter().find(|p| p.pt() == pt)?;
                t.params = Some(p);
                Some(p)
            }
        }
    }
}
