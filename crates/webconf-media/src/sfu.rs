//! The [`Sfu`] state machine: peers, rooms, the drive functions and the forwarding rules.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer};
use str0m::crypto::CryptoProvider;
use str0m::media::{Direction, KeyframeRequest, KeyframeRequestKind, MediaData, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceCreds, Input, Output, Rtc};
use tracing::{debug, warn};

use crate::peer::{Peer, TrackIn, TrackLabel, TrackOut, TrackOutState};
use crate::routing::Router;
use crate::{PeerId, RoomId, SfuError};

/// What the core needs to know about its surroundings.
#[derive(Debug, Clone)]
pub struct SfuConfig {
    /// The IP addresses of the media sockets, advertised as ICE host candidates.
    pub addresses: Vec<IpAddr>,
    /// The UDP ports of the media sockets; each peer is given one, round-robin, and gets a
    /// candidate for every address on that port.
    pub ports: Vec<u16>,
    /// Minimum time between two keyframe requests sent to one publisher's track.
    pub keyframe_request_interval: Duration,
    /// How often each peer's transport figures are measured and reported
    /// ([`SfuOutput::Stats`]); `None` turns reports off.
    pub stats_interval: Option<Duration>,
}

impl Default for SfuConfig {
    fn default() -> Self {
        SfuConfig {
            addresses: vec![IpAddr::from([127, 0, 0, 1])],
            ports: (10000..=10010).collect(),
            keyframe_request_interval: Duration::from_millis(300),
            stats_interval: Some(Duration::from_secs(2)),
        }
    }
}

/// What the core asks its driver to do.
#[derive(Debug)]
pub enum SfuOutput {
    /// Send `contents` from the local socket bound to `source` to `destination`.
    Transmit {
        /// Local socket address (one of the configured address × port pairs).
        source: SocketAddr,
        /// Remote address.
        destination: SocketAddr,
        /// The datagram.
        contents: Vec<u8>,
    },
    /// Relay this SDP offer to the peer's browser; its answer goes to [`Sfu::handle_answer`].
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
}

/// Work found while draining one peer that touches other peers.
// `Media` is large, but boxing it would cost an allocation per forwarded frame; the queue is
// drained at once, so its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Work {
    TrackAdded(PeerId, Mid, MediaKind, TrackLabel),
    TrackRemoved(PeerId, Mid),
    Media(PeerId, MediaData),
    KeyframeRequest(PeerId, KeyframeRequest),
}

/// The selective forwarding unit. See the crate documentation.
pub struct Sfu {
    config: SfuConfig,
    crypto: Arc<CryptoProvider>,
    peers: HashMap<PeerId, Peer>,
    rooms: HashMap<RoomId, Vec<PeerId>>,
    router: Router,
    timers: BTreeSet<(Instant, PeerId)>,
    outputs: VecDeque<SfuOutput>,
    work: VecDeque<Work>,
    next_port: usize,
    /// When media last flowed in each room, since the last [`Sfu::take_media_activity`].
    activity: HashMap<RoomId, Instant>,
}

impl Sfu {
    /// Creates an empty core. Uses str0m's aws-lc-rs crypto provider.
    pub fn new(config: SfuConfig) -> Sfu {
        Sfu {
            config,
            crypto: Arc::new(str0m::crypto::from_feature_flags()),
            peers: HashMap::new(),
            rooms: HashMap::new(),
            router: Router::default(),
            timers: BTreeSet::new(),
            outputs: VecDeque::new(),
            work: VecDeque::new(),
            next_port: 0,
            activity: HashMap::new(),
        }
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
        if self.peers.contains_key(&peer) {
            return Err(SfuError::DuplicatePeer(peer));
        }
        if self.config.addresses.is_empty() || self.config.ports.is_empty() {
            return Err(SfuError::NoLocalAddress);
        }
        let port = self.config.ports[self.next_port % self.config.ports.len()];
        self.next_port = self.next_port.wrapping_add(1);

        let creds = IceCreds::new();
        let ufrag = creds.ufrag.clone();
        let mut rtc = Rtc::builder()
            .set_ice_lite(true)
            .set_local_ice_credentials(creds)
            .set_crypto_provider(self.crypto.clone())
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .enable_h264(true)
            .set_stats_interval(self.config.stats_interval)
            .build(now);
        for ip in &self.config.addresses {
            match Candidate::host(SocketAddr::new(*ip, port), "udp") {
                Ok(c) => {
                    rtc.add_local_candidate(c);
                }
                Err(e) => warn!("cannot use {ip}:{port} as a candidate: {e}"),
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
                tracks_in: Vec::new(),
                tracks_out: Vec::new(),
                pending: None,
                offered: false,
                timeout: None,
                dead: false,
                allow_audio: true,
                allow_video: true,
                last_stats: None,
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
        let result = p.rtc.sdp_api().accept_answer(pending, answer);
        let mut opened = Vec::new();
        for t in p.tracks_out.iter_mut() {
            t.state = match (t.state, &result) {
                (TrackOutState::Negotiating(m), Ok(())) => {
                    opened.push((t.source, t.source_mid, t.kind));
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
        // A newcomer needs a keyframe of every video it now receives.
        for (source, mid, kind) in opened {
            if kind == MediaKind::Video {
                self.request_keyframe(now, source, mid, KeyframeRequestKind::Pli);
            }
        }
        self.drain(peer);
        self.negotiate(peer);
        self.run_work(now);
        result.map_err(|e| SfuError::Negotiation(e.to_string()))
    }

    /// Feeds one datagram received on the local socket `destination` from `source`.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        contents: &[u8],
    ) -> Result<(), SfuError> {
        let peer = self
            .router
            .route(destination, source, contents)
            .ok_or(SfuError::Unroutable(source))?;
        let datagram = contents.try_into().map_err(|_| SfuError::BadDatagram)?;
        let p = self.peers.get_mut(&peer).ok_or(SfuError::UnknownPeer(peer))?;
        if !p.rtc.is_alive() {
            return Ok(());
        }
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
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
        while let Some(&(t, peer)) = self.timers.first() {
            if t > now {
                break;
            }
            self.timers.pop_first();
            if let Some(p) = self.peers.get_mut(&peer) {
                p.timeout = None;
                if p.rtc.is_alive() {
                    if let Err(e) = p.rtc.handle_input(Input::Timeout(now)) {
                        debug!("{peer}: timeout handling failed: {e}");
                    }
                }
            }
            self.drain(peer);
        }
        self.run_work(now);
    }

    /// When [`Sfu::handle_timeout`] should next be called, if anything is scheduled.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|(t, _)| *t)
    }

    /// The rooms where media flowed since the last call, with the last time it did. Lets the
    /// room logic tell a live meeting from an idle one.
    pub fn take_media_activity(&mut self) -> Vec<(RoomId, Instant)> {
        self.activity.drain().collect()
    }

    /// The next thing for the driver to do, until `None`.
    pub fn poll_output(&mut self) -> Option<SfuOutput> {
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
                    wanted.push(TrackOut {
                        source: *other,
                        source_mid: t.mid,
                        source_stream: o.stream_id.clone(),
                        kind: t.kind,
                        label: t.label,
                        state: TrackOutState::ToOpen,
                    });
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
            p.pending = Some(pending);
            self.outputs.push_back(SfuOutput::Offer {
                peer,
                sdp: offer.to_sdp_string(),
            });
        }
    }

    /// Polls one peer's `Rtc` until it returns a timeout, queueing transmits and work.
    fn drain(&mut self, peer: PeerId) {
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
                            let stream = p.rtc.media(m.mid).map(|x| x.stream_id().to_owned()).unwrap_or_default();
                            let label = TrackLabel::new(m.kind, &stream);
                            p.tracks_in.push(TrackIn {
                                mid: m.mid,
                                kind: m.kind,
                                label,
                                last_keyframe_request: None,
                            });
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
                            let (kind, stream) = p
                                .rtc
                                .media(m.mid)
                                .map(|x| (x.kind(), x.stream_id().to_owned()))
                                .unwrap_or((MediaKind::Video, String::new()));
                            let label = TrackLabel::new(kind, &stream);
                            p.tracks_in.push(TrackIn { mid: m.mid, kind, label, last_keyframe_request: None });
                            self.work.push_back(Work::TrackAdded(peer, m.mid, kind, label));
                        }
                    }
                    Event::MediaData(data) => self.work.push_back(Work::Media(peer, data)),
                    Event::KeyframeRequest(req) => {
                        self.work.push_back(Work::KeyframeRequest(peer, req))
                    }
                    // Only sessions that carry media report: a signaling-only client sees none.
                    Event::PeerStats(st) if p.rtc.is_connected() => {
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
                        };
                        self.outputs.push_back(SfuOutput::Stats { peer, stats });
                    }
                    _ => {}
                },
            }
        }
    }

    /// Carries out work that crosses peers until none is left.
    fn run_work(&mut self, now: Instant) {
        while let Some(work) = self.work.pop_front() {
            match work {
                Work::TrackAdded(source, mid, kind, label) => self.on_track_added(source, mid, kind, label),
                Work::TrackRemoved(source, mid) => self.on_track_removed(source, mid),
                Work::Media(source, data) => self.forward(now, source, data),
                Work::KeyframeRequest(subscriber, req) => {
                    let origin = self
                        .peers
                        .get(&subscriber)
                        .and_then(|p| p.source_of(req.mid));
                    if let Some((source, source_mid)) = origin {
                        self.request_keyframe(now, source, source_mid, req.kind);
                    }
                }
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
            o.tracks_out.push(TrackOut {
                source,
                source_mid: mid,
                source_stream: stream.clone(),
                kind,
                label,
                state: TrackOutState::ToOpen,
            });
            self.negotiate(other);
        }
    }

    /// Writes one publisher's media frame to every other peer of its room that receives it.
    fn forward(&mut self, now: Instant, source: PeerId, data: MediaData) {
        let Some((room, allowed)) = self.peers.get(&source).map(|p| (p.room, p.may_forward(data.mid))) else {
            return;
        };
        self.activity.insert(room, now);
        if !allowed {
            return;
        }
        if !data.contiguous {
            // Loss upstream: the decoders downstream need a fresh keyframe.
            self.request_keyframe(now, source, data.mid, KeyframeRequestKind::Fir);
        }
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
            let Some(mid) = o.open_mid_for(source, data.mid) else {
                continue;
            };
            let Some(writer) = o.rtc.writer(mid) else {
                continue;
            };
            let Some(pt) = writer.match_params(data.params) else {
                continue;
            };
            if let Err(e) = writer.write(pt, data.network_time, data.time, data.data.clone()) {
                debug!("{other}: cannot forward media: {e}");
            }
            self.drain(other);
        }
    }

    /// Asks a publisher for a keyframe on one of its tracks, at most once per interval.
    fn request_keyframe(&mut self, now: Instant, source: PeerId, mid: Mid, kind: KeyframeRequestKind) {
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
        if let Some(last) = track.last_keyframe_request {
            if now.saturating_duration_since(last) < interval {
                return;
            }
        }
        track.last_keyframe_request = Some(now);
        if let Some(mut writer) = p.rtc.writer(mid) {
            if let Err(e) = writer.request_keyframe(None, kind) {
                debug!("{source}: keyframe request refused: {e}");
            }
        }
        self.drain(source);
    }
}
