//! The public types of the core: its configuration, its outputs, what a browser shows.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

pub use str0m::net::Protocol;

use crate::{PeerId, RoomId};

/// What the core needs to know about its surroundings, and its media policy.
#[derive(Debug, Clone)]
pub struct SfuConfig {
    /// The IP addresses of the media sockets, advertised as ICE host candidates.
    pub addresses: Vec<IpAddr>,
    /// The UDP ports of the media sockets; each peer is given one, round-robin, and gets a
    /// candidate for every address on that port.
    pub ports: Vec<u16>,
    /// The TCP port where the driver accepts ICE-TCP connections (RFC 4571 framing; the
    /// server shares its HTTPS port). When set, every peer also gets a passive TCP host
    /// candidate on each address, which browsers use when UDP is blocked. `None`: UDP only.
    pub tcp_port: Option<u16>,
    /// Minimum time between two keyframe requests sent for one layer of a publisher's track
    /// (requests from all subscribers are merged).
    pub keyframe_request_interval: Duration,
    /// How often each peer's transport figures are measured and reported
    /// ([`SfuOutput::Stats`]); `None` turns reports off.
    pub stats_interval: Option<Duration>,
    /// Last-N: the most cameras one participant receives (pinned first, then the latest
    /// speakers, then join order). The others are shown as avatars. Screen shares do not count.
    pub last_n: usize,
    /// How many of the loudest microphones each participant receives (sources that send no
    /// audio level are always forwarded).
    pub audio_last_n: usize,
    /// The bandwidth estimate (bit/s) each subscriber starts with; str0m's transport-wide
    /// congestion control refines it. `None` turns estimation off: every video gets the layer
    /// its tile asks for.
    pub initial_estimate: Option<u64>,
    /// How often the layers, last-N and the active speakers are re-evaluated.
    pub allocation_interval: Duration,
    /// How long after a step down for lack of bandwidth no video of that subscriber steps up.
    pub step_up_delay: Duration,
    /// How long each forwarded video packet is kept to answer the subscriber's NACKs. With
    /// every subscriber's copy of every video, this buffer is most of the server's memory.
    /// The default is str0m's own, 3 s, because with bandwidth estimation on, str0m also pads
    /// its probes with cached packets: with 1 s the estimate sometimes climbed back too slowly
    /// after a false alarm (harness test `nack::a_falling_estimate…`, run in parallel).
    /// Without estimation the server uses [`RETRANSMIT_WINDOW_WITHOUT_ESTIMATION`].
    pub retransmit_window: Duration,
}

/// The retransmission window when bandwidth estimation is off: 1 s is what libwebrtc's own
/// sender keeps at least (`max(1 s, 3 × RTT)`), several retransmissions at the round-trip times
/// of Europe; Janus keeps 500 ms (`max_nack_queue`).
pub const RETRANSMIT_WINDOW_WITHOUT_ESTIMATION: Duration = Duration::from_secs(1);

impl Default for SfuConfig {
    fn default() -> Self {
        SfuConfig {
            addresses: vec![IpAddr::from([127, 0, 0, 1])],
            ports: (10000..=10010).collect(),
            tcp_port: None,
            keyframe_request_interval: Duration::from_millis(300),
            stats_interval: Some(Duration::from_secs(2)),
            last_n: 9,
            audio_last_n: 5,
            initial_estimate: Some(1_500_000),
            allocation_interval: Duration::from_millis(200),
            step_up_delay: Duration::from_secs(4),
            retransmit_window: Duration::from_secs(3),
        }
    }
}

/// One video a browser shows, and how big: the core sends the simulcast layer that fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewRequest {
    /// Whose video.
    pub source: PeerId,
    /// The screen share rather than the camera.
    pub screen: bool,
    /// The tile's height in device pixels; 0 hides it (no video is sent).
    pub max_height: u32,
    /// Pinned by the user: it keeps its video whatever last-N says.
    pub pinned: bool,
}

/// What the core asks its driver to do.
#[derive(Debug)]
pub enum SfuOutput {
    /// Send `contents` from the local socket bound to `source` to `destination`; over TCP
    /// (`proto` is [`Protocol::Tcp`]) on the ICE-TCP connection from `destination`, framed.
    Transmit {
        /// UDP or TCP (an ICE-TCP connection to the `tcp_port`).
        proto: Protocol,
        /// Local socket address (one of the configured address × port pairs, or an address
        /// on the `tcp_port`).
        source: SocketAddr,
        /// Remote address.
        destination: SocketAddr,
        /// The datagram.
        contents: Vec<u8>,
    },
    /// Relay this SDP offer to the peer's browser; its answer goes to [`crate::Sfu::handle_answer`].
    /// [`crate::Sfu::resend_offer`] gives the outstanding one again, the same SDP.
    Offer {
        /// Whose browser.
        peer: PeerId,
        /// The offer, as SDP text.
        sdp: String,
    },
    /// ICE and DTLS completed for this peer: media can flow.
    Connected {
        /// Which peer.
        peer: PeerId,
    },
    /// The peer's session failed for good (DTLS closed, fatal error). Remove it.
    Dead {
        /// Which peer.
        peer: PeerId,
    },
    /// The server's own measurement of a peer's transport, every `stats_interval`.
    Stats {
        /// Which peer.
        peer: PeerId,
        /// The figures.
        stats: PeerMediaStats,
    },
    /// What the peer's microphone slots carry changed ([`crate::Sfu::slots`]): relay it to the
    /// browser, which plays each slot and tells who speaks in it by this table.
    Slots {
        /// Whose browser.
        peer: PeerId,
        /// Every microphone slot of its session, in the order they were opened.
        slots: Vec<SlotInfo>,
    },
    /// The active speaker of a room changed (stable: see the `speaker` module). The room's
    /// speakers, most recent first, are in [`crate::Sfu::speakers`].
    ActiveSpeaker {
        /// Which room.
        room: RoomId,
        /// Who speaks.
        peer: PeerId,
    },
}

/// One microphone slot of a subscriber's session: a forwarded audio track (`a=msid:slots
/// slot-audio-<n>`) that carries, in turn, whichever of the room's microphones the audio
/// last-N picks. A subscriber has at most [`SfuConfig::audio_last_n`] of them, whatever the
/// size of the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotInfo {
    /// The slot's m-line in the subscriber's session.
    pub mid: String,
    /// The peer whose microphone it carries now; `None`: silent.
    pub source: Option<PeerId>,
}

/// What the server measures of one participant's media, for its connection indicator.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerMediaStats {
    /// Media received from the participant, in bits per second, over the last interval.
    pub bitrate_in: u64,
    /// Media sent to the participant, in bits per second.
    pub bitrate_out: u64,
    /// Fraction of the participant's packets lost on the way to us (0..1), from RTCP.
    pub loss_in: Option<f32>,
    /// Fraction of our packets lost on the way to the participant, from its reports.
    pub loss_out: Option<f32>,
    /// Round-trip time, from RTCP or ICE.
    pub rtt_ms: Option<u64>,
    /// `udp` or `tcp`, once a candidate pair is selected.
    pub transport: Option<&'static str>,
    /// The server port in use.
    pub server_port: Option<u16>,
    /// The bandwidth estimate toward the participant (bit/s), if estimation is on.
    pub estimate_out: Option<u64>,
    /// Retransmission requests (NACKs) received from the participant so far; each is served
    /// from the send buffer.
    pub nacks_in: u64,
    /// Videos the participant receives now, and how many of them are paused for lack of
    /// bandwidth or by last-N.
    pub videos_out: u32,
    /// See `videos_out`.
    pub videos_paused: u32,
}
