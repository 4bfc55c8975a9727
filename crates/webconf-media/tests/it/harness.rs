//! A deterministic multi-peer harness: several str0m clients (playing browsers) and one
//! [`Sfu`], a fake clock, an in-memory network with optional loss.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::ice::{StunMessage, TransId};
use str0m::media::{
    Direction, Frequency, MediaKind, MediaTime, Mid, Rid, Simulcast, SimulcastLayer,
};
use str0m::net::{Protocol, Receive, TcpType};
use str0m::rtp::{ExtensionValues, RawPacket, RtpWrite, Vp8Descriptor};
use str0m::{Candidate, Event, Input, Output, Rtc};
use webconf_media::{PeerId, RoomId, Sfu, SfuConfig, SfuOutput};

/// The simulcast layers a simulcast client sends: rid, height, frame size in bytes.
pub const LAYERS: [(&str, u16, usize); 3] = [("l", 180, 300), ("m", 360, 900), ("h", 720, 2400)];

/// The marker byte (at [`MARKER_AT`]) of a client's video frames without simulcast.
pub const SINGLE_LAYER: u8 = 9;

/// Where a video frame carries its layer marker.
pub const MARKER_AT: usize = 10;

/// One video frame a client received.
#[derive(Debug, Clone)]
pub struct RxFrame {
    /// The forwarded track id.
    pub track: String,
    /// The layer marker: the index in [`LAYERS`], or [`SINGLE_LAYER`].
    pub layer: u8,
    pub keyframe: bool,
    /// First and last RTP sequence numbers (extended).
    pub seq: (u64, u64),
    /// RTP time, 90 kHz.
    pub time: u64,
    pub contiguous: bool,
}

/// One RTP packet of a forwarded video a recording client received ([`World::record_rtp`]),
/// as on the wire (before str0m reassembles frames).
#[derive(Debug, Clone)]
pub struct RxRtp {
    /// The forwarded track's mid in the receiver's session.
    pub mid: Mid,
    pub seq: u16,
    /// The VP8 descriptor's S bit with partition 0: the first packet of a frame.
    pub frame_start: bool,
    /// VP8 PictureID and TL0PICIDX, if the descriptor has them.
    pub picture_id: Option<u16>,
    pub tl0_pic_idx: Option<u8>,
}

/// What an RTP-writing publisher ([`World::join_rtp_publisher`]) numbered last, per stream.
type TxStreams = Vec<((Mid, Option<Rid>), TxNumbers)>;

/// What an RTP-writing publisher ([`World::join_rtp_publisher`]) numbers per stream.
#[derive(Debug, Clone, Default)]
struct TxNumbers {
    seq: u64,
    picture_id: u16,
    tl0_pic_idx: u8,
}

/// How a client publishes.
#[derive(Debug, Clone, Copy, Default)]
pub struct JoinOptions {
    /// Three simulcast layers ([`LAYERS`]) instead of one.
    pub simulcast: bool,
}

/// The `a=msid` stream id of the SFU's microphone slots.
pub const SLOT_STREAM: &str = "slots";

/// The server's ICE-TCP port in the simulated network (its HTTPS port).
pub const SERVER_TCP_PORT: u16 = 443;

/// The server's media address in the simulated network.
pub const SERVER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));

/// A simulated browser.
pub struct Client {
    pub peer: PeerId,
    pub addr: SocketAddr,
    pub rtc: Rtc,
    pub audio_mid: Mid,
    pub video_mid: Mid,
    pub connected: bool,
    /// Frames received, by (stream id of the sender, kind).
    pub received: HashMap<(String, MediaKind), u64>,
    /// Frames received, by forwarded track id (`<stream>-audio`, `-video`, `-screen`); a
    /// microphone slot's frames count for the microphone it carries ([`Client::slots`]).
    pub received_tracks: HashMap<String, u64>,
    /// The latest slot table the SFU reported: mid → stream id of the microphone or camera it
    /// carries.
    pub slots: HashMap<String, Option<String>>,
    /// How many slot tables the SFU reported.
    pub slot_reports: u64,
    /// The screen-share track, once shared.
    pub screen_mid: Option<Mid>,
    /// Datagrams the SFU addressed to this client.
    pub datagrams_in: u64,
    pending: Option<SdpPendingOffer>,
    /// False once the client has hung up: the harness stops driving it.
    pub active: bool,
    /// Publishes three simulcast layers.
    pub simulcast: bool,
    /// The audio level (dBov) its microphone frames carry; `None` sends no level.
    pub audio_level: Option<i8>,
    /// Whether it publishes video at all.
    pub sends_video: bool,
    /// Its packets go over ICE-TCP.
    pub tcp: bool,
    /// Keyframes asked for by the SFU and not yet sent, by (mid, rid).
    keyframe_wanted: Vec<(Mid, Option<Rid>)>,
    /// Keyframe requests received from the SFU.
    pub keyframe_requests: u64,
    /// Every video frame received, in order.
    pub frames: Vec<RxFrame>,
    /// Every VP8 RTP packet received, in order, when recording ([`World::record_rtp`]).
    pub rtp: Vec<RxRtp>,
    /// Writes its own RTP packets (str0m's RTP mode), VP8 with PictureIDs and TL0PICIDXs as
    /// browsers send them ([`World::join_rtp_publisher`]); numbers per (mid, rid).
    rtp_writer: Option<TxStreams>,
    /// NACKs this client sent, per received mid (from its ingress stats).
    pub nacks_sent: HashMap<Mid, u64>,
    /// The SFU's answer to its first offer (SDP).
    pub answer: String,
    /// The last server offer it applied and the answer it made (SDP): the same offer again
    /// (after a `resume`) gets the same answer, its session untouched, as the browser does.
    pub answered: Option<(String, String)>,
}

impl Client {
    /// The stream ids of what its slots of `kind` carry now, by the SFU's last table.
    pub fn carried(&self, kind: MediaKind) -> Vec<String> {
        let mut out: Vec<String> = self
            .slots
            .iter()
            .filter(|(mid, _)| {
                self.rtc
                    .media(Mid::from(mid.as_str()))
                    .is_some_and(|m| m.kind() == kind)
            })
            .filter_map(|(_, s)| s.clone())
            .collect();
        out.sort();
        out
    }

    /// The mid of its slot of `kind` whose table entry is `stream`, if any.
    pub fn slot_of(&self, kind: MediaKind, stream: &str) -> Option<String> {
        self.slots
            .iter()
            .filter(|(mid, _)| {
                self.rtc
                    .media(Mid::from(mid.as_str()))
                    .is_some_and(|m| m.kind() == kind)
            })
            .find(|(_, s)| s.as_deref() == Some(stream))
            .map(|(m, _)| m.clone())
    }

    pub fn frames_from(&self, stream: &str, kind: MediaKind) -> u64 {
        self.received
            .get(&(stream.to_owned(), kind))
            .copied()
            .unwrap_or(0)
    }

    pub fn frames_of_track(&self, track: &str) -> u64 {
        self.received_tracks.get(track).copied().unwrap_or(0)
    }

    /// The video frames received on `track` since frame number `from`.
    pub fn video_frames(&self, track: &str, from: usize) -> Vec<&RxFrame> {
        self.frames[from.min(self.frames.len())..]
            .iter()
            .filter(|f| f.track == track)
            .collect()
    }
}

/// The forwarded camera track id of client `i`.
pub fn video_track(i: usize) -> String {
    format!("{}-video", stream_of(i))
}

/// The whole simulated call.
pub struct World {
    pub now: Instant,
    pub sfu: Sfu,
    pub clients: Vec<Client>,
    /// Fraction (0..1) of datagrams dropped, per destination address.
    pub loss: HashMap<SocketAddr, f64>,
    /// Deterministic pseudo-random state for loss.
    rng: u64,
    /// Every datagram the SFU sent, by destination.
    pub sent_to: HashMap<SocketAddr, u64>,
    /// Offers the SFU sent that found no client.
    pub stray_offers: u64,
    /// Peers whose signaling is down: the SFU's offers to them are lost (counted here).
    pub offers_lost: HashMap<PeerId, u64>,
    /// Peers whose signaling went down after the SFU's offer arrived: the client applies the
    /// offer, its answer is lost (counted here).
    pub answers_lost: HashMap<PeerId, u64>,
    /// Every offer the SFU sent (to whom, SDP), lost or not.
    pub offers: Vec<(PeerId, String)>,
    /// The SFU's transport reports, by peer.
    pub stats: HashMap<PeerId, Vec<webconf_media::PeerMediaStats>>,
    /// Active speaker changes the SFU reported, in order.
    pub speaker_events: Vec<(RoomId, PeerId)>,
    /// Wall time spent inside the SFU's drive functions (`handle_timeout`, `handle_packet`,
    /// `poll_output`), for the benchmarks: the server's share of a simulated call.
    pub sfu_busy: Duration,
    last_media: Instant,
    media_time: Duration,
    /// The server addresses the next joining client is given (its network zone's), instead
    /// of all of them; see `zones.rs`.
    pub zone_addresses: Option<Vec<IpAddr>>,
    /// The clients that join from now on record every VP8 RTP packet they receive
    /// ([`Client::rtp`]).
    pub record_rtp: bool,
}

pub fn stream_of(i: usize) -> String {
    format!("p{i:016x}")
}

/// The `(address, port)` of the UDP host candidates of an SDP.
pub fn udp_candidates(sdp: &str) -> Vec<SocketAddr> {
    sdp.lines()
        .filter(|l| l.starts_with("a=candidate:"))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if !f.get(2)?.eq_ignore_ascii_case("udp") {
                return None;
            }
            Some(SocketAddr::new(
                f.get(4)?.parse().ok()?,
                f.get(5)?.parse().ok()?,
            ))
        })
        .collect()
}

/// The ICE username fragment and password of an SDP (the SFU's, in one of its answers).
pub fn ice_credentials(sdp: &str) -> (String, String) {
    let attribute = |name: &str| {
        let prefix = format!("a={name}:");
        sdp.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .expect(name)
            .trim()
            .to_owned()
    };
    (attribute("ice-ufrag"), attribute("ice-pwd"))
}

/// A STUN binding request with this USERNAME (`<server ufrag>:<client ufrag>`), its
/// MESSAGE-INTEGRITY computed with `password` (none without one), as a browser sends it.
pub fn binding_request(username: &str, password: Option<&str>) -> Vec<u8> {
    let msg = StunMessage::binding_request(username, TransId::new(), true, 0, 1, false);
    let hmac = str0m::crypto::from_feature_flags().sha1_hmac_provider;
    let mut buf = vec![0u8; 1500];
    let n = msg
        .to_bytes(password.map(str::as_bytes), &mut buf, |key, data| {
            hmac.sha1_hmac(key, data)
        })
        .expect("serialize");
    buf.truncate(n);
    buf
}

impl World {
    /// A world whose SFU runs as the server does by default: bandwidth estimation off
    /// (`media.bandwidth_estimation`), so its retransmission window
    /// ([`webconf_media::RETRANSMIT_WINDOW_WITHOUT_ESTIMATION`]) and no pacer.
    pub fn new() -> World {
        World::with_config(SfuConfig {
            initial_estimate: None,
            retransmit_window: webconf_media::RETRANSMIT_WINDOW_WITHOUT_ESTIMATION,
            ..SfuConfig::default()
        })
    }

    /// A world whose SFU estimates each subscriber's bandwidth (the core's default).
    pub fn with_estimation() -> World {
        World::with_config(SfuConfig::default())
    }

    /// A world whose SFU has this configuration (addresses and ports are the harness's).
    pub fn with_config(config: SfuConfig) -> World {
        let now = Instant::now();
        World {
            now,
            sfu: Sfu::new(SfuConfig {
                addresses: vec![SERVER_IP],
                ports: vec![10000, 10001, 10002],
                tcp_port: Some(SERVER_TCP_PORT),
                ..config
            }),
            clients: Vec::new(),
            loss: HashMap::new(),
            rng: 0x2545_f491_4f6c_dd1d,
            sent_to: HashMap::new(),
            stray_offers: 0,
            offers_lost: HashMap::new(),
            answers_lost: HashMap::new(),
            offers: Vec::new(),
            stats: HashMap::new(),
            speaker_events: Vec::new(),
            sfu_busy: Duration::ZERO,
            last_media: now,
            media_time: Duration::ZERO,
            zone_addresses: None,
            record_rtp: false,
        }
    }

    /// A new client joins `room`: the SFU gets a peer, the client offers sendonly audio and
    /// video, the SFU answers. Returns the client's index.
    pub fn join(&mut self, room: u64) -> usize {
        self.join_with(room, JoinOptions::default())
    }

    /// [`World::join`] from a client whose UDP is blocked: it offers only a TCP active
    /// candidate, and the harness carries its packets as [`Protocol::Tcp`], as the server's
    /// ICE-TCP listener does.
    pub fn join_over_tcp(&mut self, room: u64) -> usize {
        self.join_on(room, JoinOptions::default(), true)
    }

    /// [`World::join`], publishing as `opts` says.
    pub fn join_with(&mut self, room: u64, opts: JoinOptions) -> usize {
        self.join_on(room, opts, false)
    }

    /// [`World::join_with`] from a client that writes its own RTP packets, as browsers do:
    /// VP8 with a 15-bit PictureID and a TL0PICIDX, numbered per layer from far-apart bases
    /// (one about to wrap). str0m's frame-mode packetizer writes no PictureID.
    pub fn join_rtp_publisher(&mut self, room: u64, opts: JoinOptions) -> usize {
        self.join_client(room, opts, false, true)
    }

    fn join_on(&mut self, room: u64, opts: JoinOptions, tcp: bool) -> usize {
        self.join_client(room, opts, tcp, false)
    }

    fn join_client(&mut self, room: u64, opts: JoinOptions, tcp: bool, rtp_writer: bool) -> usize {
        let i = self.clients.len();
        let peer = PeerId(i as u64 + 1);
        let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 1, i as u8 + 1)), 5000);
        match self.zone_addresses.clone() {
            Some(a) => {
                self.sfu
                    .add_peer_with_addresses(self.now, peer, RoomId(room), stream_of(i), &a)
            }
            None => self
                .sfu
                .add_peer(self.now, peer, RoomId(room), stream_of(i)),
        }
        .expect("add peer");

        let mut rtc = Rtc::builder()
            .set_stats_interval(Some(Duration::from_secs(1)))
            .set_rtp_mode(rtp_writer)
            .enable_raw_packets(self.record_rtp)
            .build(self.now);
        let candidate = if tcp {
            Candidate::builder()
                .tcp()
                .host(addr)
                .tcptype(TcpType::Active)
                .build()
        } else {
            Candidate::host(addr, "udp")
        };
        rtc.add_local_candidate(candidate.expect("candidate"));
        let mut change = rtc.sdp_api();
        let stream = Some(stream_of(i));
        let audio_mid = change.add_media(
            MediaKind::Audio,
            Direction::SendOnly,
            stream.clone(),
            None,
            None,
        );
        let simulcast = opts.simulcast.then(|| {
            let mut s = Simulcast::new();
            for (rid, _, _) in LAYERS {
                s.add_send_layer(SimulcastLayer::new(rid));
            }
            s
        });
        let video_mid = change.add_media(
            MediaKind::Video,
            Direction::SendOnly,
            stream,
            None,
            simulcast,
        );
        let (offer, pending) = change.apply().expect("offer");
        let answer_sdp = self
            .sfu
            .handle_offer(self.now, peer, &offer.to_sdp_string())
            .expect("sfu answers");
        let answer = SdpAnswer::from_sdp_string(&answer_sdp).expect("answer parses");
        rtc.sdp_api()
            .accept_answer(pending, answer)
            .expect("client accepts answer");

        self.clients.push(Client {
            peer,
            addr,
            rtc,
            audio_mid,
            video_mid,
            connected: false,
            received: HashMap::new(),
            received_tracks: HashMap::new(),
            slots: HashMap::new(),
            slot_reports: 0,
            screen_mid: None,
            datagrams_in: 0,
            pending: None,
            active: true,
            simulcast: opts.simulcast,
            audio_level: None,
            sends_video: true,
            tcp,
            keyframe_wanted: Vec::new(),
            keyframe_requests: 0,
            frames: Vec::new(),
            rtp: Vec::new(),
            rtp_writer: rtp_writer.then(Vec::new),
            nacks_sent: HashMap::new(),
            answer: answer_sdp,
            answered: None,
        });
        i
    }

    /// The client starts sharing its screen: a re-offer adding a sendonly video track whose
    /// stream id is `screen`, as the browser client does.
    pub fn share_screen(&mut self, i: usize) {
        let now = self.now;
        let peer = self.clients[i].peer;
        let c = &mut self.clients[i];
        let mut change = c.rtc.sdp_api();
        let mid = change.add_media(
            MediaKind::Video,
            Direction::SendOnly,
            Some("screen".into()),
            None,
            None,
        );
        let (offer, pending) = change.apply().expect("offer");
        let answer = self
            .sfu
            .handle_offer(now, peer, &offer.to_sdp_string())
            .expect("sfu answers the re-offer");
        let answer = SdpAnswer::from_sdp_string(&answer).expect("answer parses");
        c.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .expect("client accepts");
        c.screen_mid = Some(mid);
    }

    /// The client hangs up: the SFU drops its peer; the harness stops driving it.
    pub fn leave(&mut self, i: usize) {
        let peer = self.clients[i].peer;
        self.sfu.remove_peer(self.now, peer).expect("remove");
        self.clients[i].active = false;
    }

    fn lose(&mut self, dest: SocketAddr) -> bool {
        let Some(p) = self.loss.get(&dest).copied() else {
            return false;
        };
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let r = (self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64;
        r < p
    }

    /// Runs the world for `dur` of simulated time, in steps of at most 5 ms, every connected
    /// client publishing 50 audio frames and 30 video frames per second.
    pub fn run_for(&mut self, dur: Duration) {
        let end = self.now + dur;
        while self.now < end {
            self.step();
            self.now += Duration::from_millis(5);
        }
    }

    fn step(&mut self) {
        let now = self.now;
        // Timers.
        let t0 = Instant::now();
        self.sfu.handle_timeout(now);
        self.sfu_busy += t0.elapsed();
        for c in self.clients.iter_mut().filter(|c| c.active) {
            c.rtc
                .handle_input(Input::Timeout(now))
                .expect("client timeout");
        }
        // Media, every 20 ms (audio) and every other 20 ms slot plus keyframes (video).
        if now.duration_since(self.last_media) >= Duration::from_millis(20) {
            self.last_media = now;
            self.media_time += Duration::from_millis(20);
            let t: MediaTime = self.media_time.into();
            let tick = self.media_time.as_millis() / 20;
            for c in self.clients.iter_mut().filter(|c| c.active && c.connected) {
                let mut rtp_writer = c.rtp_writer.take();
                let mut write_frame =
                    |rtc: &mut Rtc,
                     mid: Mid,
                     rid: Option<Rid>,
                     codec: Codec,
                     now: Instant,
                     t: MediaTime,
                     data: Vec<u8>,
                     level: Option<i8>| match &mut rtp_writer {
                        Some(numbers) => {
                            write_rtp_frame(rtc, numbers, mid, rid, codec, now, t, &data, level)
                        }
                        None => write_frame(rtc, mid, rid, codec, now, t, data, level),
                    };
                write_frame(
                    &mut c.rtc,
                    c.audio_mid,
                    None,
                    Codec::Opus,
                    now,
                    t,
                    vec![0x55; 60],
                    c.audio_level,
                );
                if tick.is_multiple_of(2) && c.sends_video {
                    // A keyframe every second, or when asked for.
                    let periodic = tick.is_multiple_of(50);
                    let mut key = |mid: Mid, rid: Option<Rid>| {
                        let asked = c
                            .keyframe_wanted
                            .iter()
                            .position(|w| *w == (mid, rid) || *w == (mid, None));
                        if let Some(pos) = asked {
                            c.keyframe_wanted.remove(pos);
                        }
                        periodic || asked.is_some()
                    };
                    if c.simulcast {
                        for (n, (rid, height, size)) in LAYERS.iter().enumerate() {
                            let rid = Rid::from(*rid);
                            let frame =
                                vp8_frame(key(c.video_mid, Some(rid)), *height, *size, n as u8);
                            write_frame(
                                &mut c.rtc,
                                c.video_mid,
                                Some(rid),
                                Codec::Vp8,
                                now,
                                t,
                                frame,
                                None,
                            );
                        }
                    } else {
                        let frame = vp8_frame(key(c.video_mid, None), 480, 1201, SINGLE_LAYER);
                        write_frame(
                            &mut c.rtc,
                            c.video_mid,
                            None,
                            Codec::Vp8,
                            now,
                            t,
                            frame,
                            None,
                        );
                    }
                    if let Some(mid) = c.screen_mid {
                        let frame = vp8_frame(key(mid, None), 1080, 1201, SINGLE_LAYER);
                        write_frame(&mut c.rtc, mid, None, Codec::Vp8, now, t, frame, None);
                    }
                }
                if rtp_writer.is_some() {
                    // Written packets leave on the next timeout.
                    c.rtc
                        .handle_input(Input::Timeout(now))
                        .expect("client timeout");
                }
                c.rtp_writer = rtp_writer;
            }
        }
        // Network, until quiet.
        for _ in 0..1000 {
            let mut moved = false;
            for i in 0..self.clients.len() {
                if !self.clients[i].active {
                    continue;
                }
                while let Some(tx) = self.poll_client(i) {
                    moved = true;
                    if self.lose(tx.1) {
                        continue;
                    }
                    // Datagrams to an unknown address are simply lost.
                    let t0 = Instant::now();
                    let _ = self.sfu.handle_packet(now, tx.3, tx.0, tx.1, &tx.2);
                    self.sfu_busy += t0.elapsed();
                }
            }
            loop {
                let t0 = Instant::now();
                let out = self.sfu.poll_output();
                self.sfu_busy += t0.elapsed();
                let Some(out) = out else { break };
                moved = true;
                self.handle_sfu_output(out);
            }
            if !moved {
                break;
            }
        }
    }

    /// Drives a client until its next timeout; returns its next datagram.
    fn poll_client(&mut self, i: usize) -> Option<(SocketAddr, SocketAddr, Vec<u8>, Protocol)> {
        let c = &mut self.clients[i];
        loop {
            match c.rtc.poll_output().expect("client poll") {
                Output::Timeout(_) => return None,
                Output::Transmit(t) => {
                    return Some((t.source, t.destination, t.contents.into(), t.proto))
                }
                Output::Event(e) => match e {
                    Event::Connected => c.connected = true,
                    Event::MediaData(d) => {
                        let mut stream = c
                            .rtc
                            .media(d.mid)
                            .map(|m| m.stream_id().to_owned())
                            .unwrap_or_default();
                        let kind = c
                            .rtc
                            .media(d.mid)
                            .map(|m| m.kind())
                            .unwrap_or(MediaKind::Audio);
                        let mut track = c
                            .rtc
                            .media(d.mid)
                            .map(|m| m.track_id().to_owned())
                            .unwrap_or_default();
                        if stream == SLOT_STREAM {
                            // A slot: the frame is from what it carries now.
                            let Some(Some(carried)) = c.slots.get(&d.mid.to_string()) else {
                                continue;
                            };
                            stream.clone_from(carried);
                            let label = match kind {
                                MediaKind::Audio => "audio",
                                MediaKind::Video => "video",
                            };
                            track = format!("{carried}-{label}");
                        }
                        *c.received.entry((stream, kind)).or_default() += 1;
                        *c.received_tracks.entry(track.clone()).or_default() += 1;
                        if kind == MediaKind::Video {
                            c.frames.push(RxFrame {
                                track,
                                layer: d.data.get(MARKER_AT).copied().unwrap_or(255),
                                keyframe: d.is_keyframe(),
                                seq: (**d.seq_range.start(), **d.seq_range.end()),
                                time: d.time.rebase(Frequency::NINETY_KHZ).numer(),
                                contiguous: d.contiguous,
                            });
                        }
                    }
                    Event::KeyframeRequest(r) => {
                        c.keyframe_requests += 1;
                        c.keyframe_wanted.push((r.mid, r.rid));
                    }
                    Event::MediaIngressStats(st) => {
                        c.nacks_sent.insert(st.mid, st.nacks);
                    }
                    Event::RawPacket(raw) => {
                        let RawPacket::RtpRx(header, payload) = *raw else {
                            continue;
                        };
                        let vp8 =
                            c.rtc.codec_config().iter().any(|p| {
                                p.pt() == header.payload_type && p.spec().codec == Codec::Vp8
                            });
                        let mid = c.rtc.direct_api().stream_rx(&header.ssrc).map(|s| s.mid());
                        let (Some(mid), true, Ok(d)) = (mid, vp8, Vp8Descriptor::parse(&payload))
                        else {
                            continue;
                        };
                        c.rtp.push(RxRtp {
                            mid,
                            seq: header.sequence_number,
                            frame_start: payload[0] & 0x17 == 0x10,
                            picture_id: d.picture_id(),
                            tl0_pic_idx: d.tl0_pic_idx(),
                        });
                    }
                    _ => {}
                },
            }
        }
    }

    fn handle_sfu_output(&mut self, out: SfuOutput) {
        match out {
            SfuOutput::Transmit {
                proto,
                source,
                destination,
                contents,
            } => {
                *self.sent_to.entry(destination).or_default() += 1;
                if self.lose(destination) {
                    return;
                }
                let now = self.now;
                let Some(c) = self
                    .clients
                    .iter_mut()
                    .find(|c| c.active && c.addr == destination)
                else {
                    return;
                };
                c.datagrams_in += 1;
                // A packet on the wrong transport never reaches the client.
                if (proto == Protocol::Tcp) != c.tcp {
                    return;
                }
                let input = Input::Receive(
                    now,
                    Receive {
                        proto,
                        source,
                        destination,
                        contents: contents.as_slice().try_into().expect("datagram"),
                    },
                );
                c.rtc.handle_input(input).expect("client input");
            }
            SfuOutput::Offer { peer, sdp } => {
                self.offers.push((peer, sdp.clone()));
                if let Some(lost) = self.offers_lost.get_mut(&peer) {
                    *lost += 1;
                    return;
                }
                let Some(i) = self.clients.iter().position(|c| c.active && c.peer == peer) else {
                    self.stray_offers += 1;
                    return;
                };
                let c = &mut self.clients[i];
                assert!(c.pending.is_none());
                let answer = match &c.answered {
                    // Already applied and answered: the same answer again.
                    Some((offer, answer)) if *offer == sdp => answer.clone(),
                    _ => {
                        let offer = SdpOffer::from_sdp_string(&sdp).expect("offer parses");
                        let answer = c
                            .rtc
                            .sdp_api()
                            .accept_offer(offer)
                            .expect("client accepts offer");
                        let answer = answer.to_sdp_string();
                        c.answered = Some((sdp, answer.clone()));
                        answer
                    }
                };
                if let Some(lost) = self.answers_lost.get_mut(&peer) {
                    *lost += 1;
                    return;
                }
                self.sfu
                    .handle_answer(self.now, peer, &answer)
                    .expect("sfu accepts answer");
            }
            SfuOutput::Connected { .. } => {}
            SfuOutput::Stats { peer, stats } => self.stats.entry(peer).or_default().push(stats),
            SfuOutput::Dead { peer } => panic!("{peer} died unexpectedly"),
            SfuOutput::ActiveSpeaker { room, peer } => self.speaker_events.push((room, peer)),
            SfuOutput::Slots { peer, slots } => {
                let stream =
                    |p: PeerId| self.clients.iter().position(|c| c.peer == p).map(stream_of);
                let table = slots
                    .iter()
                    .map(|s| (s.mid.clone(), s.source.and_then(stream)))
                    .collect();
                if let Some(c) = self.clients.iter_mut().find(|c| c.peer == peer) {
                    c.slots = table;
                    c.slot_reports += 1;
                }
            }
        }
    }
}

/// A VP8-looking frame: a keyframe carries the start code and its size (RFC 6386), every
/// frame carries `layer` at [`MARKER_AT`].
fn vp8_frame(keyframe: bool, height: u16, size: usize, layer: u8) -> Vec<u8> {
    let mut f = vec![0xab; size.max(MARKER_AT + 1)];
    f[0] = if keyframe { 0x10 } else { 0x11 };
    if keyframe {
        f[3..6].copy_from_slice(&[0x9d, 0x01, 0x2a]);
        f[6..8].copy_from_slice(&(height * 16 / 9).to_le_bytes());
        f[8..10].copy_from_slice(&height.to_le_bytes());
    }
    f[MARKER_AT] = layer;
    f
}

#[allow(clippy::too_many_arguments)]
fn write_frame(
    rtc: &mut Rtc,
    mid: Mid,
    rid: Option<Rid>,
    codec: Codec,
    now: Instant,
    t: MediaTime,
    data: Vec<u8>,
    level: Option<i8>,
) {
    let Some(writer) = rtc.writer(mid) else {
        return;
    };
    let Some(pt) = writer
        .payload_params()
        .find(|p| p.spec().codec == codec)
        .map(|p| p.pt())
    else {
        return;
    };
    let t = t.rebase(if codec == Codec::Opus {
        Frequency::FORTY_EIGHT_KHZ
    } else {
        Frequency::NINETY_KHZ
    });
    let writer = match rid {
        Some(rid) => writer.rid(rid),
        None => writer,
    };
    let writer = match level {
        Some(l) => writer.audio_level(l, l > -50),
        None => writer,
    };
    writer.write(pt, now, t, data).expect("write");
}

/// [`write_frame`] by a client that writes RTP itself (RTP mode): a VP8 frame in packets of at
/// most 1000 bytes, each with a descriptor carrying a 15-bit PictureID, a TL0PICIDX and a TID;
/// Opus in one packet with its audio level.
#[allow(clippy::too_many_arguments)]
fn write_rtp_frame(
    rtc: &mut Rtc,
    numbers: &mut TxStreams,
    mid: Mid,
    rid: Option<Rid>,
    codec: Codec,
    now: Instant,
    t: MediaTime,
    data: &[u8],
    level: Option<i8>,
) {
    let Some(pt) = rtc
        .codec_config()
        .iter()
        .find(|p| p.spec().codec == codec)
        .map(|p| p.pt())
    else {
        return;
    };
    let time = t
        .rebase(if codec == Codec::Opus {
            Frequency::FORTY_EIGHT_KHZ
        } else {
            Frequency::NINETY_KHZ
        })
        .numer() as u32;
    let n = match numbers.iter().position(|(k, _)| *k == (mid, rid)) {
        Some(i) => i,
        None => {
            // Far-apart bases per layer, the last about to wrap (PictureID 32767 -> 0).
            let base = [1_000u16, 9_000, 32_700][numbers.len() % 3];
            let first = TxNumbers {
                seq: u64::from(base) * 2,
                picture_id: base,
                tl0_pic_idx: (base % 256) as u8,
            };
            numbers.push(((mid, rid), first));
            numbers.len() - 1
        }
    };
    let tx = &mut numbers[n].1;
    let mut api = rtc.direct_api();
    let Some(stream) = api.stream_tx_by_mid(mid, rid) else {
        return;
    };
    if codec == Codec::Opus {
        let ext_vals = ExtensionValues {
            audio_level: level,
            voice_activity: level.map(|l| l > -50),
            ..Default::default()
        };
        stream.write_rtp(
            RtpWrite::new(pt, tx.seq.into(), time, now, data.to_vec()).ext_vals(ext_vals),
        );
        tx.seq += 1;
        return;
    }
    let chunks: Vec<&[u8]> = data.chunks(1000).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let start = if i == 0 { 0x10 } else { 0 };
        let pid = tx.picture_id;
        let mut payload = vec![
            0x80 | start,
            0xe0,
            0x80 | (pid >> 8) as u8,
            pid as u8,
            tx.tl0_pic_idx,
            0x00,
        ];
        payload.extend_from_slice(chunk);
        let last = i + 1 == chunks.len();
        stream.write_rtp(
            RtpWrite::new(pt, tx.seq.into(), time, now, payload)
                .marker(last)
                .nackable(true),
        );
        tx.seq += 1;
    }
    tx.picture_id = (tx.picture_id + 1) % 0x8000;
    tx.tl0_pic_idx = tx.tl0_pic_idx.wrapping_add(1);
}
