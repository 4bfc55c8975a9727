//! The [`Sfu`] state machine: peers, rooms, the drive functions and the forwarding rules.

use std::collections::{BTreeSet, VecDeque};
use rustc_hash::FxHashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::bwe::{Bitrate, BweKind};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::crypto::CryptoProvider;
use str0m::media::{Direction, KeyframeRequest, MediaKind, Mid, Rid, Rids};
use str0m::net::{Protocol, Receive, TcpType};
use str0m::rtp::RtpPacket;
use str0m::{Candidate, Event, IceCreds, Input, Output, Rtc};
use tracing::{debug, warn};

use crate::peer::{Peer, TrackIn, TrackLabel, TrackOut, TrackOutState};
use crate::routing::{Route, Router};
use crate::speaker::SpeakerDetector;
use crate::{PeerId, PeerMediaStats, RoomId, SfuConfig, SfuError, SfuOutput, ViewRequest};

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
enum Work {
    TrackAdded(PeerId, Mid, MediaKind, TrackLabel),
    TrackRemoved(PeerId, Mid),
    Media(PeerId, RtpPacket),
    KeyframeRequest(PeerId, KeyframeRequest),
    Reallocate(PeerId),
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
    work: VecDeque<Work>,
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
    /// ([`Sfu::complete_writes`], and with estimation on one per packet written). Each walks
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
            .set_stats_interval(self.config.stats_interval.map(|i| match self.config.initial_estimate {
                Some(_) => i.min(PATH_REPORT_INTERVAL),
                None => i,
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
                let c = Candidate::builder().tcp().host(SocketAddr::new(*ip, tcp)).tcptype(TcpType::Passive).build();
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
                allow_video: true,
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
            },
        );
        self.drain(peer);
        Ok(())
    }

    /// Removes a participant's media session at once: nothing more is sent to it, and the
    /// others get a server offer stopping its tracks.
    pub fn remove_peer(&mut self, now: Instant, peer: PeerId) -> Result<(), SfuError> {
        let removed = self.peers.remove(&peer).ok_or(SfuError::UnknownPeer(peer))?;
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
                p.tracks_out.retain(|t| !(t.source == peer && t.state == TrackOutState::ToOpen));
                for t in p.tracks_out.iter_mut().filter(|t| t.source == peer) {
                    if let TrackOutState::Open(m) = t.state {
                        t.state = TrackOutState::ToStop(m);
                    }
                }
            }
            self.negotiate(other);
        }
        self.run_work(now);
        Ok(())
    }

    /// Lets (or stops) the peer's microphone and camera reach the others: a moderator's mute.
    pub fn set_forwarding(&mut self, peer: PeerId, audio: bool, video: bool) -> Result<(), SfuError> {
        let p = self.peers.get_mut(&peer).ok_or(SfuError::UnknownPeer(peer))?;
        p.allow_audio = audio;
        p.allow_video = video;
        Ok(())
    }

    /// Says what the peer's browser shows of the others and how big: the core sends each video
    /// in the simulcast layer that fits `max_height`, nothing for a source listed with 0, and
    /// puts `pinned` sources first for last-N. Sources not listed (a tile the browser has not
    /// reported yet) are sent at full size, within last-N. Replaces the previous view; until the first call every camera is
    /// wanted at full size. Takes effect at once.
    pub fn set_view(&mut self, now: Instant, peer: PeerId, view: &[ViewRequest]) -> Result<(), SfuError> {
        let p = self.peers.get_mut(&peer).ok_or(SfuError::UnknownPeer(peer))?;
        p.view = Some(view.iter().take(MAX_VIEW).copied().collect());
        self.reallocate(now, peer);
        self.run_work(now);
        Ok(())
    }

    /// Accepts the browser's offer (publishing its microphone and camera) and returns the
    /// answer to relay back. Server offers for the others' tracks follow in
    /// [`Sfu::poll_output`]; the answer must reach the browser before them.
    pub fn handle_offer(&mut self, now: Instant, peer: PeerId, sdp: &str) -> Result<String, SfuError> {
        let offer = SdpOffer::from_sdp_string(sdp).map_err(|e| SfuError::BadSdp(e.to_string()))?;
        let first = {
            let p = self.peers.get_mut(&peer).ok_or(SfuError::UnknownPeer(peer))?;
            if p.pending.is_some() {
                return Err(SfuError::OfferPending(peer));
            }
            let answer = p
                .rtc
                .sdp_api()
                .accept_offer(offer)
                .map_err(|e| SfuError::Negotiation(e.to_string()))?;
            let first = !p.offered;
            p.offered = true;
            // An ICE restart (new browser ufrag) gives this session new server credentials:
            // STUN is routed by our ufrag, so the router follows, and verified with our
            // password.
            let creds = p.rtc.direct_api().local_ice_credentials();
            if creds.ufrag != p.ufrag {
                self.router.rekey(peer, &p.ufrag, creds.ufrag.clone());
                p.ufrag = creds.ufrag;
            }
            p.ice_pass = creds.pass;
            (first, answer.to_sdp_string())
        };
        let (first, answer) = first;
        if first {
            self.subscribe_to_room(peer);
        }
        self.drain(peer);
        self.negotiate(peer);
        self.run_work(now);
        Ok(answer)
    }

    /// Accepts the browser's answer to our last [`SfuOutput::Offer`].
    pub fn handle_answer(&mut self, now: Instant, peer: PeerId, sdp: &str) -> Result<(), SfuError> {
        let p = self.peers.get_mut(&peer).ok_or(SfuError::UnknownPeer(peer))?;
        if p.pending.is_none() {
            return Err(SfuError::UnexpectedAnswer(peer));
        }
        // A malformed answer leaves the offer outstanding: the browser may still answer it.
        let answer = SdpAnswer::from_sdp_string(sdp).map_err(|e| SfuError::BadSdp(e.to_string()))?;
        let pending = p.pending.take().ok_or(SfuError::UnexpectedAnswer(peer))?;
        p.pending_sdp = None;
        let result = p.rtc.sdp_api().accept_answer(pending, answer);
        let window = self.config.retransmit_window;
        for t in p.tracks_out.iter_mut() {
            t.state = match (t.state, &result) {
                (TrackOutState::Negotiating(m), Ok(())) => {
                    if t.kind == MediaKind::Video {
                        set_retransmit_window(&mut p.rtc, m, window);
                    }
                    TrackOutState::Open(m)
                }
                (TrackOutState::Negotiating(_), Err(_)) => TrackOutState::ToOpen,
                (TrackOutState::NegotiatingStop(m), Err(_)) => TrackOutState::ToStop(m),
                (s, _) => s,
            };
        }
        if result.is_ok() {
            p.tracks_out
                .retain(|t| !matches!(t.state, TrackOutState::NegotiatingStop(_)));
        }
        // Decide the layers of the new tracks now; the first frame of each waits for a keyframe,
        // which is requested as soon as one of its layer arrives.
        self.reallocate(now, peer);
        self.drain(peer);
        self.negotiate(peer);
        self.run_work(now);
        result.map_err(|e| SfuError::Negotiation(e.to_string()))
    }

    /// The browser took back its session on a new signaling socket (`resume`) and may have
    /// missed our last offer, or answered it on the old socket without the answer reaching us:
    /// an outstanding offer is sent again, unchanged (the same SDP, [`SfuOutput::Offer`]).
    /// A browser that never got it answers it as any offer; one that had applied it answers it
    /// again with the same answer. Either answer completes it ([`Sfu::handle_answer`]). The
    /// offer is not withdrawn and made anew: a browser that had applied it would get an offer
    /// whose m-lines do not match its own, and refuse it. Returns whether an offer was sent;
    /// nothing happens without one.
    pub fn resend_offer(&mut self, peer: PeerId) -> Result<bool, SfuError> {
        let p = self.peers.get(&peer).ok_or(SfuError::UnknownPeer(peer))?;
        let Some(sdp) = p.pending_sdp.clone().filter(|_| p.pending.is_some()) else {
            return Ok(false);
        };
        self.outputs.push_back(SfuOutput::Offer { peer, sdp });
        Ok(true)
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
        let p = self.peers.get_mut(&peer).ok_or(SfuError::UnknownPeer(peer))?;
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

    /// Adds, to a peer whose first offer was just accepted, every track already published in
    /// its room.
    fn subscribe_to_room(&mut self, peer: PeerId) {
        let Some(room) = self.peers.get(&peer).map(|p| p.room) else {
            return;
        };
        let mut wanted = Vec::new();
        for other in self.rooms.get(&room).into_iter().flatten() {
            if *other == peer {
                continue;
            }
            if let Some(o) = self.peers.get(other) {
                for t in &o.tracks_in {
                    wanted.push(TrackOut::new(*other, t.mid, o.stream_id.clone(), t.kind, t.label));
                }
            }
        }
        if let Some(p) = self.peers.get_mut(&peer) {
            p.tracks_out.extend(wanted);
        }
    }

    /// Starts a server offer for a peer if it has changes waiting and none outstanding.
    fn negotiate(&mut self, peer: PeerId) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        if !p.offered || p.pending.is_some() || !p.rtc.is_alive() {
            return;
        }
        let mut change = p.rtc.sdp_api();
        for t in p.tracks_out.iter_mut() {
            match t.state {
                TrackOutState::ToOpen => {
                    let track_id = format!("{}-{}", t.source_stream, t.label.as_str());
                    let mid = change.add_media(
                        t.kind,
                        Direction::SendOnly,
                        Some(t.source_stream.clone()),
                        Some(track_id),
                        None,
                    );
                    t.state = TrackOutState::Negotiating(mid);
                }
                TrackOutState::ToStop(mid) => {
                    change.stop_media(mid);
                    t.state = TrackOutState::NegotiatingStop(mid);
                }
                _ => {}
            }
        }
        if !change.has_changes() {
            return;
        }
        if let Some((offer, pending)) = change.apply() {
            let sdp = offer.to_sdp_string();
            p.pending = Some(pending);
            p.pending_sdp = Some(sdp.clone());
            self.outputs.push_back(SfuOutput::Offer { peer, sdp });
        }
    }

    /// Polls one peer's `Rtc` until it returns a timeout, queueing transmits and work.
    pub(crate) fn drain(&mut self, peer: PeerId) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        loop {
            if !p.rtc.is_alive() {
                if let Some(t) = p.timeout.take() {
                    self.timers.remove(&(t, peer));
                }
                if !p.dead {
                    p.dead = true;
                    self.outputs.push_back(SfuOutput::Dead { peer });
                }
                return;
            }
            let output = match p.rtc.poll_output() {
                Ok(o) => o,
                Err(e) => {
                    warn!("{peer}: media session failed: {e}");
                    p.rtc.disconnect();
                    continue;
                }
            };
            match output {
                Output::Timeout(t) => {
                    if p.timeout != Some(t) {
                        if let Some(old) = p.timeout.replace(t) {
                            self.timers.remove(&(old, peer));
                        }
                        self.timers.insert((t, peer));
                    }
                    return;
                }
                Output::Transmit(t) => self.outputs.push_back(SfuOutput::Transmit {
                    proto: t.proto,
                    source: t.source,
                    destination: t.destination,
                    contents: t.contents.into(),
                }),
                Output::Event(event) => match event {
                    Event::Connected => self.outputs.push_back(SfuOutput::Connected { peer }),
                    Event::MediaAdded(m)
                        if matches!(m.direction, Direction::RecvOnly | Direction::SendRecv)
                            && !p.tracks_in.iter().any(|t| t.mid == m.mid)
                        => {
                            let (stream, rids) = p.rtc.media(m.mid).map(|x| (x.stream_id().to_owned(), rids_of(x.rids_rx()))).unwrap_or_default();
                            let label = TrackLabel::new(m.kind, &stream);
                            p.tracks_in.push(TrackIn::new(m.mid, m.kind, label, &rids));
                            self.work.push_back(Work::TrackAdded(peer, m.mid, m.kind, label));
                        }
                    Event::MediaChanged(m) => {
                        let receiving = matches!(m.direction, Direction::RecvOnly | Direction::SendRecv);
                        let known = p.tracks_in.iter().any(|t| t.mid == m.mid);
                        if !receiving && known {
                            // The browser stopped publishing this track (e.g. screen share ended).
                            p.tracks_in.retain(|t| t.mid != m.mid);
                            self.work.push_back(Work::TrackRemoved(peer, m.mid));
                        } else if receiving && !known {
                            let (kind, stream, rids) = p
                                .rtc
                                .media(m.mid)
                                .map(|x| (x.kind(), x.stream_id().to_owned(), rids_of(x.rids_rx())))
                                .unwrap_or((MediaKind::Video, String::new(), Vec::new()));
                            let label = TrackLabel::new(kind, &stream);
                            p.tracks_in.push(TrackIn::new(m.mid, kind, label, &rids));
                            self.work.push_back(Work::TrackAdded(peer, m.mid, kind, label));
                        }
                    }
                    Event::RtpPacket(pkt) => self.work.push_back(Work::Media(peer, pkt)),
                    Event::KeyframeRequest(req) => {
                        self.work.push_back(Work::KeyframeRequest(peer, req))
                    }
                    Event::EgressBitrateEstimate(BweKind::Twcc { estimate, .. }) if !p.estimate_pinned => {
                        p.estimate = Some(estimate.as_u64());
                        tracing::trace!(peer = peer.0, estimate = estimate.as_u64(), "estimate");
                        self.work.push_back(Work::Reallocate(peer));
                    }
                    Event::MediaEgressStats(st) => match p.nacks.iter_mut().find(|(m, _)| *m == st.mid) {
                        Some(entry) => entry.1 = entry.1.max(st.nacks),
                        None => p.nacks.push((st.mid, st.nacks)),
                    },
                    // Only sessions that carry media report: a signaling-only client sees none.
                    Event::PeerStats(st) if p.rtc.is_connected() => {
                        // Every `PATH_REPORT_INTERVAL`: what the path toward this peer lost and
                        // carried, for the allocation (`bwe::ceiling`, `bwe::carried_cleanly`).
                        // What we sent over str0m's loss window (its last second), so that
                        // the two describe the same packets.
                        p.last_path.push_back((st.timestamp, st.bytes_tx));
                        while p.last_path.len() > 2
                            && p.last_path.get(1).is_some_and(|(t, _)| st.timestamp.saturating_duration_since(*t) >= LOSS_WINDOW)
                        {
                            p.last_path.pop_front();
                        }
                        let sent = match p.last_path.front() {
                            Some((t, tx)) if st.timestamp > *t => {
                                let secs = st.timestamp.saturating_duration_since(*t).as_secs_f64();
                                (st.bytes_tx.saturating_sub(*tx) as f64 * 8.0 / secs) as u64
                            }
                            _ => 0,
                        };
                        p.path = st.egress_loss_fraction.map(|loss| (st.timestamp, crate::bwe::PathLoss { loss, sent }));
                        tracing::trace!(peer = peer.0, loss_out = ?st.egress_loss_fraction, sent, "path");
                        if st.egress_loss_fraction.is_some_and(|l| l >= crate::bwe::LOSS_CONGESTED || l.is_nan()) {
                            p.lossy_at = Some(st.timestamp);
                            self.work.push_back(Work::Reallocate(peer));
                        }
                        // The figures reported outward, every `stats_interval` (str0m's reports
                        // may come more often, see above).
                        let interval = self.config.stats_interval.unwrap_or_default();
                        if p.last_stats.is_some_and(|(t, _, _)| st.timestamp.saturating_duration_since(t) + PATH_REPORT_INTERVAL / 2 < interval) {
                            continue;
                        }
                        let prev = p.last_stats.replace((st.timestamp, st.bytes_rx, st.bytes_tx));
                        let rate = |now_bytes: u64, then_bytes: u64, then: Instant| {
                            let secs = st.timestamp.saturating_duration_since(then).as_secs_f64();
                            if secs <= 0.0 {
                                0
                            } else {
                                (now_bytes.saturating_sub(then_bytes) as f64 * 8.0 / secs) as u64
                            }
                        };
                        let (bitrate_in, bitrate_out) = match prev {
                            Some((t, rx, tx)) => (rate(st.bytes_rx, rx, t), rate(st.bytes_tx, tx, t)),
                            None => (0, 0),
                        };
                        let pair = st.selected_candidate_pair.as_ref();
                        let rtt = st.rtt.or_else(|| pair.and_then(|c| c.current_round_trip_time));
                        let stats = PeerMediaStats {
                            bitrate_in,
                            bitrate_out,
                            loss_in: st.ingress_loss_fraction,
                            loss_out: st.egress_loss_fraction,
                            rtt_ms: rtt.map(|d| d.as_millis() as u64),
                            transport: pair.map(|c| match c.protocol {
                                Protocol::Udp => "udp",
                                _ => "tcp",
                            }),
                            server_port: pair.map(|c| c.local.addr.port()),
                            estimate_out: p.estimate,
                            nacks_in: p.nacks.iter().map(|(_, n)| n).sum(),
                            videos_out: p.tracks_out.iter().filter(|t| t.kind == MediaKind::Video && t.fwd.target.is_some()).count() as u32,
                            videos_paused: p
                                .tracks_out
                                .iter()
                                .filter(|t| t.kind == MediaKind::Video && matches!(t.state, TrackOutState::Open(_)) && t.fwd.target.is_none())
                                .count() as u32,
                        };
                        tracing::trace!(peer = peer.0, loss_out = ?stats.loss_out, bitrate_out = stats.bitrate_out, rtt = ?stats.rtt_ms, "stats");
                        self.outputs.push_back(SfuOutput::Stats { peer, stats });
                    }
                    _ => {}
                },
            }
        }
    }

    /// Carries out work that crosses peers until none is left.
    pub(crate) fn run_work(&mut self, now: Instant) {
        while let Some(work) = self.work.pop_front() {
            match work {
                Work::TrackAdded(source, mid, kind, label) => self.on_track_added(source, mid, kind, label),
                Work::TrackRemoved(source, mid) => self.on_track_removed(source, mid),
                Work::Media(source, data) => self.forward(now, source, data),
                Work::KeyframeRequest(subscriber, req) => {
                    // Sent to the layer this subscriber receives; merged with the others'.
                    let origin = self.peers.get(&subscriber).and_then(|p| {
                        let (source, source_mid) = p.source_of(req.mid)?;
                        let layer = p.tracks_out.iter().find(|t| t.source == source && t.source_mid == source_mid)?.fwd.current?;
                        Some((source, source_mid, layer))
                    });
                    if let Some((source, source_mid, layer)) = origin {
                        self.request_keyframe(now, source, source_mid, layer, req.kind);
                    }
                }
                Work::Reallocate(peer) => self.reallocate(now, peer),
            }
        }
    }

    /// Stops, in every other peer of the room, the forwarded copy of a track its publisher
    /// stopped.
    fn on_track_removed(&mut self, source: PeerId, source_mid: Mid) {
        let Some(room) = self.peers.get(&source).map(|p| p.room) else {
            return;
        };
        let members = self.rooms.get(&room).cloned().unwrap_or_default();
        for other in members.into_iter().filter(|p| *p != source) {
            if let Some(o) = self.peers.get_mut(&other) {
                let matches = |t: &TrackOut| t.source == source && t.source_mid == source_mid;
                o.tracks_out.retain(|t| !(matches(t) && t.state == TrackOutState::ToOpen));
                for t in o.tracks_out.iter_mut().filter(|t| matches(t)) {
                    if let TrackOutState::Open(m) = t.state {
                        t.state = TrackOutState::ToStop(m);
                    }
                }
            }
            self.negotiate(other);
        }
    }

    fn on_track_added(&mut self, source: PeerId, mid: Mid, kind: MediaKind, label: TrackLabel) {
        let Some(src) = self.peers.get(&source) else {
            return;
        };
        let stream = src.stream_id.clone();
        let members = self.rooms.get(&src.room).cloned().unwrap_or_default();
        for other in members.into_iter().filter(|p| *p != source) {
            let Some(o) = self.peers.get_mut(&other) else {
                continue;
            };
            // A peer that has not offered yet will get this track in `subscribe_to_room`.
            if !o.offered {
                continue;
            }
            o.tracks_out.push(TrackOut::new(source, mid, stream.clone(), kind, label));
            self.negotiate(other);
        }
    }
}

/// The simulcast rids a media declares, in its order (empty without simulcast).
/// Keeps a forwarded video's sent packets for NACKs only `window` ([`SfuConfig::retransmit_window`]).
fn set_retransmit_window(rtc: &mut Rtc, mid: Mid, window: Duration) {
    if let Some(stream) = rtc.direct_api().stream_tx_by_mid(mid, None) {
        stream.set_rtx_cache(RETRANSMIT_MAX_PACKETS, window, Some(RETRANSMIT_RATIO_CAP));
    }
}

/// The most packets a forwarded video keeps for NACKs, whatever the window (str0m's default).
const RETRANSMIT_MAX_PACKETS: usize = 1000;
/// Queued retransmissions are dropped when they exceed this share of a stream's bytes
/// (str0m's default).
const RETRANSMIT_RATIO_CAP: f32 = 0.15;

fn rids_of(rids: &Rids) -> Vec<Rid> {
    match rids {
        Rids::Specific(v) => v.clone(),
        _ => Vec::new(),
    }
}
