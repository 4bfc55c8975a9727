//! The [`Sfu`] state machine: peers, rooms and the drive functions. Negotiation is in
//! [`negotiation`], draining a peer's session and the work it causes in [`drain`], the
//! forwarding hot path in [`crate::forward`].

use rustc_hash::FxHashMap;
use std::collections::{BTreeSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::bwe::Bitrate;
use str0m::crypto::CryptoProvider;
use str0m::media::{KeyframeRequest, MediaKind, Mid};
use str0m::net::{Protocol, Receive, TcpType};
use str0m::rtp::RtpPacket;
use str0m::{Candidate, IceCreds, Input, Rtc};
use tracing::{debug, warn};

use crate::peer::{Peer, TrackLabel};
use crate::routing::{Route, Router};
use crate::speaker::SpeakerDetector;
use crate::{PeerId, RoomId, SfuConfig, SfuError, SfuOutput, ViewRequest};

mod drain;
mod negotiation;

/// The most entries a view may hold (a browser shows far fewer tiles); more are ignored.
const MAX_VIEW: usize = 256;

/// How often str0m reports each peer's transport (loss over its last second, bytes sent), at
/// most: a bottleneck that starts losing is seen within this, not within `stats_interval`
/// (2 s), so the overload that follows a limit is shorter (GCC's estimate alone can lag above
/// what the path carries for seconds). The outward reports still come every `stats_interval`.
/// Without bandwidth estimation nothing reads the path: str0m reports every `stats_interval`.
pub(crate) const PATH_REPORT_INTERVAL: Duration = Duration::from_millis(500);

/// The span of str0m's egress loss fraction (`twcc_tx_register.loss(1 s)`).
const LOSS_WINDOW: Duration = Duration::from_secs(1);

/// Work found while draining one peer that touches other peers.
// `Media` is large, but boxing it would cost an allocation per forwarded packet; the queue is
// drained at once, so its size does not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Work {
    TrackAdded(PeerId, Mid, MediaKind, TrackLabel),
    TrackRemoved(PeerId, Mid),
    Media(PeerId, RtpPacket),
    KeyframeRequest(PeerId, KeyframeRequest),
    Reallocate(PeerId),
    /// A camera slot sent its new camera's first packet: report the table.
    Slots(PeerId),
}

/// The selective forwarding unit. See the crate documentation.
pub struct Sfu {
    pub(crate) config: SfuConfig,
    crypto: Arc<CryptoProvider>,
    /// Keyed by ids the caller chose (not the network): the hot path looks up each subscriber
    /// of a room per packet, so a fast hash (FxHash), not a DoS-resistant one.
    pub(crate) peers: FxHashMap<PeerId, Peer>,
    /// Each room's members, in join order.
    pub(crate) rooms: FxHashMap<RoomId, Vec<PeerId>>,
    router: Router,
    timers: BTreeSet<(Instant, PeerId)>,
    pub(crate) outputs: VecDeque<SfuOutput>,
    pub(crate) work: VecDeque<Work>,
    next_port: usize,
    /// When media last flowed in each room, since the last [`Sfu::take_media_activity`].
    pub(crate) activity: FxHashMap<RoomId, Instant>,
    /// Each room's active speaker detector.
    pub(crate) speakers: FxHashMap<RoomId, SpeakerDetector<PeerId>>,
    /// When the layers, last-N and speakers are next re-evaluated.
    pub(crate) next_allocation: Option<Instant>,
    /// Packets of a peer that arrived on a local address outside its zone, dropped.
    foreign_zone_drops: u64,
    /// STUN binding requests naming a peer's ufrag whose MESSAGE-INTEGRITY did not verify
    /// with its ICE password, dropped.
    unauthenticated_stun_drops: u64,
    /// Subscribers written to since the driver last polled, and the latest time of those
    /// writes ([`Sfu::complete_writes`]).
    pub(crate) written: Vec<PeerId>,
    pub(crate) written_at: Option<Instant>,
    /// See [`Sfu::timeout_counts`].
    pub(crate) timeouts: (u64, u64),
}

impl Sfu {
    /// Creates an empty core. Uses str0m's aws-lc-rs crypto provider.
    pub fn new(config: SfuConfig) -> Sfu {
        Sfu {
            config,
            crypto: Arc::new(str0m::crypto::from_feature_flags()),
            peers: FxHashMap::default(),
            rooms: FxHashMap::default(),
            router: Router::default(),
            timers: BTreeSet::new(),
            outputs: VecDeque::new(),
            work: VecDeque::new(),
            next_port: 0,
            activity: FxHashMap::default(),
            speakers: FxHashMap::default(),
            next_allocation: None,
            foreign_zone_drops: 0,
            unauthenticated_stun_drops: 0,
            written: Vec::new(),
            written_at: None,
            timeouts: (0, 0),
        }
    }

    /// Packets dropped so far because they reached a local address that is not one of their
    /// peer's ([`Sfu::add_peer_with_addresses`]).
    pub fn foreign_zone_drops(&self) -> u64 {
        self.foreign_zone_drops
    }

    /// STUN binding requests dropped so far because they named a peer's ICE username fragment
    /// but their MESSAGE-INTEGRITY did not verify with its ICE password: they bound no address
    /// pair ([`SfuError::Unauthenticated`]). One without MESSAGE-INTEGRITY is not counted here:
    /// str0m's STUN parser refuses it, so it is routed (if at all) by its address pair, as a
    /// malformed datagram ([`SfuError::BadDatagram`]), and binds nothing either.
    pub fn unauthenticated_stun_drops(&self) -> u64 {
        self.unauthenticated_stun_drops
    }

    /// The `Input::Timeout`s given to the peers' sessions so far: `(timers, releases)`, the
    /// ones str0m asked for and the ones that release written packets
    /// (once per subscriber per turn, and with estimation on one per packet written). Each walks
    /// every stream of its session, so their number per forwarded packet says much of the
    /// core's cost (logged with the held-media figures, docs/operations.md).
    pub fn timeout_counts(&self) -> (u64, u64) {
        self.timeouts
    }

    /// Number of peers currently held.
    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// Whether the peer exists.
    pub fn has_peer(&self, peer: PeerId) -> bool {
        self.peers.contains_key(&peer)
    }

    /// Creates the media session of a participant who joined `room`. `stream_id` (its
    /// participant id) labels its tracks in the other browsers. Call before [`Sfu::handle_offer`].
    pub fn add_peer(
        &mut self,
        now: Instant,
        peer: PeerId,
        room: RoomId,
        stream_id: String,
    ) -> Result<(), SfuError> {
        let addresses = self.config.addresses.clone();
        self.add_peer_with_addresses(now, peer, room, stream_id, &addresses)
    }

    /// [`Sfu::add_peer`] for a participant of a network zone with its own media addresses:
    /// it is offered candidates (UDP, and TCP when configured) only on `addresses` (each
    /// should be one of [`SfuConfig::addresses`]), and its packets that arrive on any other
    /// local address are dropped and counted ([`Sfu::foreign_zone_drops`]).
    pub fn add_peer_with_addresses(
        &mut self,
        now: Instant,
        peer: PeerId,
        room: RoomId,
        stream_id: String,
        addresses: &[IpAddr],
    ) -> Result<(), SfuError> {
        if self.peers.contains_key(&peer) {
            return Err(SfuError::DuplicatePeer(peer));
        }
        if addresses.is_empty() || self.config.ports.is_empty() {
            return Err(SfuError::NoLocalAddress);
        }
        let port = self.config.ports[self.next_port % self.config.ports.len()];
        self.next_port = self.next_port.wrapping_add(1);

        let creds = IceCreds::new();
        let ufrag = creds.ufrag.clone();
        let ice_pass = creds.pass.clone();
        // VP8 and H.264 come with an RTX payload type: NACKed packets are resent from the
        // send buffer (`SfuConfig::retransmit_window` of each forwarded video, set when it opens).
        // RTP mode: packets are forwarded as they come, not depacketized into frames and
        // packetized again per subscriber (`forward.rs`).
        let mut rtc = Rtc::builder()
            .set_rtp_mode(true)
            .set_ice_lite(true)
            .set_local_ice_credentials(creds)
            .set_crypto_provider(self.crypto.clone())
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .enable_h264(true)
            .set_stats_interval(self.config.stats_interval.map(|i| {
                match self.config.initial_estimate {
                    Some(_) => i.min(PATH_REPORT_INTERVAL),
                    None => i,
                }
            }))
            .enable_bwe(self.config.initial_estimate.map(Bitrate::bps))
            .build(now);
        for ip in addresses {
            match Candidate::host(SocketAddr::new(*ip, port), "udp") {
                Ok(c) => {
                    rtc.add_local_candidate(c);
                }
                Err(e) => warn!("cannot use {ip}:{port} as a candidate: {e}"),
            }
            // ICE-TCP: passive (the browser connects), lower priority than UDP by RFC 6544's
            // type preferences, so it is chosen only when UDP does not get through.
            if let Some(tcp) = self.config.tcp_port {
                let c = Candidate::builder()
                    .tcp()
                    .host(SocketAddr::new(*ip, tcp))
                    .tcptype(TcpType::Passive)
                    .build();
                match c {
                    Ok(c) => {
                        rtc.add_local_candidate(c);
                    }
                    Err(e) => warn!("cannot use TCP {ip}:{tcp} as a candidate: {e}"),
                }
            }
        }
        self.router.add_peer(peer, ufrag.clone());
        self.rooms.entry(room).or_default().push(peer);
        self.peers.insert(
            peer,
            Peer {
                room,
                stream_id,
                rtc,
                ufrag,
                ice_pass,
                tracks_in: Vec::new(),
                tracks_out: Vec::new(),
                pending: None,
                pending_sdp: None,
                offered: false,
                timeout: None,
                dead: false,
                write_pending: false,
                allow_audio: true,
                mic_on: true,
                allow_video: true,
                camera_on: true,
                last_stats: None,
                view: None,
                estimate: None,
                last_step_down: None,
                last_step_up: None,
                sent: crate::simulcast::RateMeter::new(),
                estimate_pinned: false,
                desired: 0,
                padding_minimum: 0,
                estimates: Default::default(),
                path: None,
                last_path: VecDeque::new(),
                lossy_at: None,
                estimator_reset_at: None,
                nacks: Vec::new(),
                local_addresses: addresses.to_vec(),
                slots_sent: Vec::new(),
            },
        );
        self.drain(peer);
        Ok(())
    }

    /// Removes a participant's media session at once: nothing more is sent to it, and the
    /// others get a server offer stopping its tracks.
    pub fn remove_peer(&mut self, now: Instant, peer: PeerId) -> Result<(), SfuError> {
        let removed = self
            .peers
            .remove(&peer)
            .ok_or(SfuError::UnknownPeer(peer))?;
        self.router.remove_peer(peer, &removed.ufrag);
        if let Some(t) = removed.timeout {
            self.timers.remove(&(t, peer));
        }
        let others = match self.rooms.get_mut(&removed.room) {
            Some(members) => {
                members.retain(|p| *p != peer);
                members.clone()
            }
            None => Vec::new(),
        };
        if others.is_empty() {
            self.rooms.remove(&removed.room);
            self.speakers.remove(&removed.room);
        } else if let Some(d) = self.speakers.get_mut(&removed.room) {
            d.remove(peer);
        }
        for other in others {
            if let Some(p) = self.peers.get_mut(&other) {
                p.stop_forwarding(|s, _| s == peer);
            }
            self.negotiate(other);
            // Its slots go to the next loudest at once.
            self.reallocate(now, other);
        }
        self.run_work(now);
        Ok(())
    }

    /// Lets (or stops) the peer's microphone and camera reach the others: a moderator's mute.
    /// Separate from the participant's own microphone switch ([`Self::set_microphone_on`]):
    /// the microphone is forwarded only while both allow it. Takes effect at the next
    /// allocation (`allocation_interval`).
    pub fn set_forwarding(
        &mut self,
        peer: PeerId,
        audio: bool,
        video: bool,
    ) -> Result<(), SfuError> {
        let p = self
            .peers
            .get_mut(&peer)
            .ok_or(SfuError::UnknownPeer(peer))?;
        p.allow_audio = audio;
        p.allow_video = video;
        Ok(())
    }

    /// Says whether the participant's microphone is on, as it says itself (`media_state`). Its
    /// browser keeps the audio m-line while the microphone is off (the track disabled or
    /// replaced), so the core still has the track and may still get silence on it: a
    /// microphone turned off is not forwarded and takes no microphone slot in the others'
    /// sessions, like one a moderator blocked ([`Self::set_forwarding`], kept apart: both must
    /// allow it). Turned on again, it competes again at once: every other session of the room
    /// reassigns its microphone slots now, not at the next allocation. On by default.
    pub fn set_microphone_on(
        &mut self,
        now: Instant,
        peer: PeerId,
        on: bool,
    ) -> Result<(), SfuError> {
        let p = self
            .peers
            .get_mut(&peer)
            .ok_or(SfuError::UnknownPeer(peer))?;
        if p.mic_on == on {
            return Ok(());
        }
        p.mic_on = on;
        // Only the microphone slots: the videos' layers keep the allocation's pace.
        for other in self.others_in_room(peer) {
            self.assign_mics(now, other);
        }
        self.run_work(now);
        Ok(())
    }

    /// Whether the participant's microphone is on, as it last said ([`Self::set_microphone_on`]).
    pub fn microphone_on(&self, peer: PeerId) -> Result<bool, SfuError> {
        self.peers
            .get(&peer)
            .map(|p| p.mic_on)
            .ok_or(SfuError::UnknownPeer(peer))
    }

    /// Says whether the participant's camera is on, as it says itself (`media_state`). A
    /// browser whose camera track is disabled keeps the video m-line and goes on sending
    /// (black) frames: a camera turned off takes no place in the others' last-N, like one a
    /// moderator blocked ([`Self::set_forwarding`], kept apart: both must allow it), so its
    /// camera slot goes to the next camera. Every other session of the room is allocated again
    /// now, not at the next allocation. On by default.
    pub fn set_camera_on(&mut self, now: Instant, peer: PeerId, on: bool) -> Result<(), SfuError> {
        let p = self
            .peers
            .get_mut(&peer)
            .ok_or(SfuError::UnknownPeer(peer))?;
        if p.camera_on == on {
            return Ok(());
        }
        p.camera_on = on;
        for other in self.others_in_room(peer) {
            self.reallocate(now, other);
        }
        self.run_work(now);
        Ok(())
    }

    /// Whether the participant's camera is on, as it last said ([`Self::set_camera_on`]).
    pub fn camera_on(&self, peer: PeerId) -> Result<bool, SfuError> {
        self.peers
            .get(&peer)
            .map(|p| p.camera_on)
            .ok_or(SfuError::UnknownPeer(peer))
    }

    /// The other members of `peer`'s room.
    pub(super) fn others_in_room(&self, peer: PeerId) -> Vec<PeerId> {
        let Some(room) = self.peers.get(&peer).map(|p| p.room) else {
            return Vec::new();
        };
        self.rooms
            .get(&room)
            .into_iter()
            .flatten()
            .copied()
            .filter(|o| *o != peer)
            .collect()
    }

    /// Says what the peer's browser shows of the others and how big: the core sends each video
    /// in the simulcast layer that fits `max_height`, nothing for a source listed with 0, and
    /// puts `pinned` sources first for last-N. Sources not listed (a tile the browser has not
    /// reported yet) are sent at full size, within last-N. Replaces the previous view; until the first call every camera is
    /// wanted at full size. Takes effect at once.
    pub fn set_view(
        &mut self,
        now: Instant,
        peer: PeerId,
        view: &[ViewRequest],
    ) -> Result<(), SfuError> {
        let p = self
            .peers
            .get_mut(&peer)
            .ok_or(SfuError::UnknownPeer(peer))?;
        p.view = Some(view.iter().take(MAX_VIEW).copied().collect());
        self.reallocate(now, peer);
        self.run_work(now);
        Ok(())
    }

    /// Feeds one UDP datagram received on the local socket `destination` from `source`.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        contents: &[u8],
    ) -> Result<(), SfuError> {
        self.handle_packet(now, Protocol::Udp, source, destination, contents)
    }

    /// Feeds one packet received over `proto`: a UDP datagram on the local socket
    /// `destination`, or one RFC 4571 frame (already de-framed) of the ICE-TCP connection from
    /// `source` to `destination` (the address of the `tcp_port` candidate it reached).
    ///
    /// A STUN binding request names its peer by our ICE username fragment; its address pair
    /// `(destination, source)` is bound to that peer, and the packets that follow on it routed
    /// there, only if it reached an address of the peer's zone (else it is dropped and counted,
    /// [`Sfu::foreign_zone_drops`]) and its MESSAGE-INTEGRITY verifies with the peer's ICE
    /// password (else [`SfuError::Unauthenticated`], counted by
    /// [`Sfu::unauthenticated_stun_drops`]). A dropped packet changes nothing.
    pub fn handle_packet(
        &mut self,
        now: Instant,
        proto: Protocol,
        source: SocketAddr,
        destination: SocketAddr,
        contents: &[u8],
    ) -> Result<(), SfuError> {
        let route = self
            .router
            .route(destination, source, contents)
            .ok_or(SfuError::Unroutable(source))?;
        let peer = route.peer();
        let datagram = contents.try_into().map_err(|_| SfuError::BadDatagram)?;
        let p = self
            .peers
            .get_mut(&peer)
            .ok_or(SfuError::UnknownPeer(peer))?;
        if !p.local_addresses.contains(&destination.ip()) {
            // Another zone's address: the zones' flows are kept apart, and nothing is bound.
            self.foreign_zone_drops += 1;
            debug!("{peer}: packet on a local address outside its zone dropped");
            return Ok(());
        }
        if let Route::Binding { request, .. } = route {
            // Only a request that proves the peer's ICE password may bind (or take) a pair: a
            // forged source address with a known ufrag must not move another's media.
            let hmac = self.crypto.sha1_hmac_provider;
            if !request.verify(p.ice_pass.as_bytes(), |key, data| hmac.sha1_hmac(key, data)) {
                self.unauthenticated_stun_drops += 1;
                debug!("{peer}: STUN binding request with a wrong or no integrity dropped");
                return Err(SfuError::Unauthenticated(source));
            }
            self.router.bind_pair(peer, destination, source);
        }
        if !p.rtc.is_alive() {
            return Ok(());
        }
        let input = Input::Receive(
            now,
            Receive {
                proto,
                source,
                destination,
                contents: datagram,
            },
        );
        if let Err(e) = p.rtc.handle_input(input) {
            debug!("{peer}: datagram refused: {e}");
        }
        self.drain(peer);
        self.run_work(now);
        Ok(())
    }

    /// Advances time: every peer whose timeout is due runs its timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.complete_writes();
        // Each due peer runs once per call, even if it asks again for `now` at once.
        let mut due = Vec::new();
        while let Some(&(t, peer)) = self.timers.first() {
            if t > now {
                break;
            }
            self.timers.pop_first();
            due.push(peer);
        }
        for peer in due {
            if let Some(p) = self.peers.get_mut(&peer) {
                p.timeout = None;
                self.timeouts.0 += 1;
                if p.rtc.is_alive() {
                    if let Err(e) = p.rtc.handle_input(Input::Timeout(now)) {
                        debug!("{peer}: timeout handling failed: {e}");
                    }
                }
            }
            self.drain(peer);
        }
        if !self.peers.is_empty() {
            self.maybe_reallocate(now);
        }
        self.run_work(now);
    }

    /// When [`Sfu::handle_timeout`] should next be called, if anything is scheduled.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.written_at.is_some() {
            // Frames written but not packetized: the driver should poll at once.
            return self.written_at;
        }
        let timer = self.timers.first().map(|(t, _)| *t);
        let allocation = self.next_allocation.filter(|_| !self.peers.is_empty());
        match (timer, allocation) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The rooms where media flowed since the last call, with the last time it did. Lets the
    /// room logic tell a live meeting from an idle one.
    pub fn take_media_activity(&mut self) -> Vec<(RoomId, Instant)> {
        self.activity.drain().collect()
    }

    /// The next thing for the driver to do, until `None`.
    pub fn poll_output(&mut self) -> Option<SfuOutput> {
        while self.written_at.is_some() {
            self.complete_writes();
        }
        self.outputs.pop_front()
    }
}
