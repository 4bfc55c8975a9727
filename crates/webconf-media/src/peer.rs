//! One participant's media session: its [`Rtc`], the tracks it publishes and the tracks it
//! receives from the others, and the state of the server-side SDP negotiation.

use std::time::Instant;

use str0m::change::SdpPendingOffer;
use str0m::media::{MediaKind, Mid};
use str0m::Rtc;

use crate::{PeerId, RoomId};

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
    /// When we last asked the browser for a keyframe on this track (throttling).
    pub last_keyframe_request: Option<Instant>,
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

/// A track of another peer that we forward to this peer.
#[derive(Debug)]
pub(crate) struct TrackOut {
    /// Who publishes it.
    pub source: PeerId,
    /// The m-line of the track in the publisher's session.
    pub source_mid: Mid,
    /// The publisher's stream id (its participant id), put in `a=msid` for the browser.
    pub source_stream: String,
    /// Audio or video.
    pub kind: MediaKind,
    /// Microphone, camera or screen (the `a=msid` track id is `<stream>-<label>`).
    pub label: TrackLabel,
    /// Negotiation state with this peer's browser.
    pub state: TrackOutState,
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
    /// Tracks this peer publishes.
    pub tracks_in: Vec<TrackIn>,
    /// Tracks of others forwarded to this peer.
    pub tracks_out: Vec<TrackOut>,
    /// Our outstanding offer, if any (never more than one).
    pub pending: Option<SdpPendingOffer>,
    /// True once the browser's own offer has been answered: only then may we offer.
    pub offered: bool,
    /// When the `Rtc` next wants a timeout (mirrors the entry in the timer set).
    pub timeout: Option<Instant>,
    /// True once `Dead` was reported, so it is reported once.
    pub dead: bool,
    /// Whether the microphone may be forwarded (a moderator can block it).
    pub allow_audio: bool,
    /// Whether the camera may be forwarded (a moderator can block it).
    pub allow_video: bool,
    /// The previous stats report: when, media bytes received and sent (for bitrates).
    pub last_stats: Option<(Instant, u64, u64)>,
}

impl Peer {
    /// Whether media of this published track may be forwarded now.
    pub(crate) fn may_forward(&self, mid: Mid) -> bool {
        match self.tracks_in.iter().find(|t| t.mid == mid).map(|t| t.label) {
            Some(TrackLabel::Audio) => self.allow_audio,
            Some(TrackLabel::Video) => self.allow_video,
            Some(TrackLabel::Screen | TrackLabel::ScreenAudio) => true,
            None => false,
        }
    }

    /// The forwarded track carrying `source`'s `source_mid`, if negotiated.
    pub(crate) fn open_mid_for(&self, source: PeerId, source_mid: Mid) -> Option<Mid> {
        self.tracks_out.iter().find_map(|t| match t.state {
            TrackOutState::Open(mid) if t.source == source && t.source_mid == source_mid => {
                Some(mid)
            }
            _ => None,
        })
    }

    /// The source of the forwarded track on our `mid`, whatever its state.
    pub(crate) fn source_of(&self, mid: Mid) -> Option<(PeerId, Mid)> {
        self.tracks_out.iter().find_map(|t| match t.state {
            TrackOutState::Open(m)
            | TrackOutState::Negotiating(m)
            | TrackOutState::ToStop(m)
            | TrackOutState::NegotiatingStop(m)
                if m == mid =>
            {
                Some((t.source, t.source_mid))
            }
            _ => None,
        })
    }
}
