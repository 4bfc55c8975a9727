//! One synthetic participant: a str0m [`Rtc`] (full ICE, DTLS client or server as negotiated)
//! on its own UDP socket (on 127.0.0.1 unless told otherwise), driven by its own tokio task in
//! the style of str0m's run loop: wait for a datagram, a signaling message, the next frame or
//! the `Rtc`'s timeout; apply it; drain the `Rtc`. One task per participant costs little while
//! idle, so hundreds share one core.
//!
//! With Janus ([`Target::separate_subscriber_pc`]) a publishing participant has a second `Rtc`
//! for what it receives (Janus's subscriber handle). Both share the socket and its host
//! candidate; [`Rtc::accepts`] tells whose a datagram is.
//!
//! What the `Rtc`s transmit goes through one [`Pacer`] per participant (its socket): video RTP
//! leaves at the pacing rate, everything else at once and ahead of queued video, as from a
//! browser (see [`crate::pacer`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::change::SdpPendingOffer;
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::crypto::CryptoProvider;
use str0m::format::Codec;
use str0m::media::{
    Direction, Frequency, MediaKind, MediaTime, Mid, Pt, Rid, Simulcast, SimulcastLayer,
};
use str0m::net::{DatagramSend, Protocol, Receive, Transmit};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::watch;

use crate::media::{self, FrameHeader, Jitter, MediaClock, StreamKind, VideoProfile};
use crate::metrics::ReceiverMetrics;
use crate::pacer::{classify, Pacer, PacerStats};
use crate::signaling::{Endpoint, Session, Signal, Target};
use crate::view::ViewReporter;

/// The simulcast layers published with `--simulcast`, lowest first, and their qualities.
pub const LAYERS: [(&str, VideoProfile); 3] = [
    ("q", VideoProfile::P180),
    ("h", VideoProfile::P360),
    ("f", VideoProfile::P720),
];

/// Live counters every participant adds to, read by the progress line and the report.
#[derive(Debug, Default)]
pub struct Progress {
    /// Participants admitted (`welcome`).
    pub joined: AtomicU64,
    /// Participants whose media connected (ICE + DTLS).
    pub connected: AtomicU64,
    /// Participants that failed.
    pub failed: AtomicU64,
    /// Frames received, all participants.
    pub frames_in: AtomicU64,
    /// RTP packets received (forwarded by the server), all participants.
    pub packets_in: AtomicU64,
    /// UDP bytes received, all participants.
    pub bytes_in: AtomicU64,
    /// Frames sent, all participants.
    pub frames_out: AtomicU64,
}

/// What every participant of a run shares.
pub struct Shared {
    /// The run's clock: send and receive times are µs since this instant.
    pub base: Instant,
    /// One crypto provider (aws-lc-rs) for every `Rtc`.
    pub crypto: Arc<CryptoProvider>,
    /// The server.
    pub endpoint: Endpoint,
    /// Which kind of server.
    pub target: Target,
    /// Single-layer video quality.
    pub profile: VideoProfile,
    /// Publish three simulcast layers instead of one.
    pub simulcast: bool,
    /// Time between periodic keyframes.
    pub keyframe_interval: Duration,
    /// Longest wait for `welcome` and then for media to connect.
    pub join_timeout: Duration,
    /// Local address of the participants' sockets.
    pub bind_ip: IpAddr,
    /// The rate video is paced at, bits per second; 0: no pacing (every datagram leaves as
    /// soon as str0m hands it out).
    pub pace_rate_bps: u64,
    /// Report every other participant's camera in a tile of this height (webconf's `view`);
    /// `None`: send no `view` (the server then sends every camera at full size).
    pub view_height: Option<u32>,
    /// Live counters.
    pub progress: Progress,
}

impl Shared {
    fn now_us(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.base).as_micros() as u64
    }
}

/// Who one participant is and what it publishes.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Index in the run (the `sender` of its frames).
    pub index: u32,
    /// Room index in the run.
    pub room_index: u32,
    /// Room name.
    pub room: String,
    /// Publishes audio frames.
    pub audio: bool,
    /// Publishes video frames.
    pub video: bool,
    /// The audio level (RFC 6464, dBov, -127 to 0) stamped on every audio frame; `None`: no
    /// level, so webconf forwards this microphone to everyone (its audio last-N ranks only
    /// microphones that send levels).
    pub audio_level: Option<i8>,
}

/// How far a participant got, for the join statistics.
#[derive(Debug, Clone, Default)]
pub struct JoinTimes {
    /// From the start of the WebSocket connection to `welcome`.
    pub welcome: Option<Duration>,
    /// To ICE connected.
    pub ice: Option<Duration>,
    /// To media connected (DTLS done).
    pub connected: Option<Duration>,
    /// To the first media frame received.
    pub first_media: Option<Duration>,
    /// To the first video frame received (of another participant's camera).
    pub first_video: Option<Duration>,
}

/// What one participant brings back.
#[derive(Debug)]
pub struct ParticipantResult {
    /// Its plan.
    pub plan: Plan,
    /// Join milestones.
    pub times: JoinTimes,
    /// Why it failed, if it did (`stage: reason`).
    pub error: Option<String>,
    /// Received media accounting.
    pub metrics: ReceiverMetrics,
    /// Non-fatal `error` messages from the server.
    pub server_errors: u64,
    /// Datagrams the socket refused to send.
    pub send_errors: u64,
    /// What its pacer did.
    pub pacing: PacerStats,
}

/// Where a run stands, broadcast to every participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Keep going.
    Run,
    /// Stop sending; keep receiving for the drain time, then leave.
    Stop,
}

/// Runs one participant until told to stop (or it fails). Never panics on network input.
pub async fn run(
    plan: Plan,
    shared: Arc<Shared>,
    phase: watch::Receiver<Phase>,
) -> ParticipantResult {
    let mut p = Participant {
        result: ParticipantResult {
            plan: plan.clone(),
            times: JoinTimes::default(),
            error: None,
            metrics: ReceiverMetrics::default(),
            server_errors: 0,
            send_errors: 0,
            pacing: PacerStats::default(),
        },
        shared,
        started: Instant::now(),
        jitter: Jitter::new(u64::from(plan.index) + 1),
    };
    if let Err(e) = p.drive(phase).await {
        p.shared.progress.failed.fetch_add(1, Ordering::Relaxed);
        p.result.error = Some(e);
    }
    p.result
}

struct Participant {
    result: ParticipantResult,
    shared: Arc<Shared>,
    started: Instant,
    jitter: Jitter,
}

/// The video bitrate of one publisher, keyframes included on average: its single layer, or the
/// sum of the simulcast [`LAYERS`].
pub fn video_bitrate(profile: VideoProfile, simulcast: bool, keyframe_interval: Duration) -> u64 {
    if simulcast {
        LAYERS
            .iter()
            .map(|(_, p)| p.mean_bitrate(keyframe_interval))
            .sum()
    } else {
        profile.mean_bitrate(keyframe_interval)
    }
}

/// One datagram to send.
struct Datagram {
    destination: SocketAddr,
    contents: DatagramSend,
}

impl AsRef<[u8]> for Datagram {
    fn as_ref(&self) -> &[u8] {
        &self.contents
    }
}

/// The sending side of a participant's socket: its pacer, and which payload types it paces.
struct Outbox<'a> {
    socket: &'a UdpSocket,
    pacer: Pacer<Datagram>,
    /// The video codecs' payload types and their retransmission (RTX) ones.
    video_pts: Vec<u8>,
}

impl Outbox<'_> {
    /// Hands a transmit to the pacer and sends what is due; returns the send errors.
    fn send(&mut self, now: Instant, t: Transmit) -> u64 {
        let class = classify(&t.contents, &self.video_pts);
        let d = Datagram {
            destination: t.destination,
            contents: t.contents,
        };
        self.pacer.push(now, class, d);
        self.flush(now)
    }

    /// Sends what the pacer releases at `now`; returns the send errors.
    fn flush(&mut self, now: Instant) -> u64 {
        let mut errors = 0;
        while let Some(d) = self.pacer.poll(now) {
            // Loopback: a full send buffer means the machine is saturated; count it.
            if self.socket.try_send_to(&d.contents, d.destination).is_err() {
                errors += 1;
            }
        }
        errors
    }
}

/// The payload types `rtc` would send video with: every video codec's, and its RTX.
fn video_pts(rtc: &Rtc) -> Vec<u8> {
    let mut pts: Vec<u8> = rtc
        .codec_config()
        .params()
        .iter()
        .filter(|p| p.spec().codec.is_video())
        .flat_map(|p| std::iter::once(p.pt()).chain(p.resend()))
        .map(|pt| *pt)
        .collect();
    pts.sort_unstable();
    pts.dedup();
    pts
}

/// The publishing side of the `Rtc`, known once our offer is answered.
struct Publishing {
    audio: Option<(Mid, Pt)>,
    video: Option<(Mid, Pt)>,
}

/// Above this audio level (dBov) a frame is flagged as voice (the server's speaker detector
/// takes -50 dBov as speech too).
const SPEECH_DBOV: i8 = -50;
/// The audio level of a `--talkers` participant (a voice at a normal level).
pub const TALKER_DBOV: i8 = -20;
/// The audio level of the others (silence).
pub const SILENT_DBOV: i8 = -127;

/// How long a participant keeps receiving after it stops sending, so frames in flight count.
const DRAIN: Duration = Duration::from_millis(1000);
/// Datagrams handled in a row before looking at timers and signaling again.
const RECV_BATCH: usize = 64;
/// Interval of the application keep-alive.
const KEEPALIVE: Duration = Duration::from_secs(5);

impl Participant {
    async fn drive(&mut self, mut phase: watch::Receiver<Phase>) -> Result<(), String> {
        let shared = self.shared.clone();
        let plan = self.result.plan.clone();
        let socket = bind_udp(shared.bind_ip).map_err(|e| format!("udp: {e}"))?;
        let local = socket.local_addr().map_err(|e| format!("udp: {e}"))?;
        let name = format!("load {}", plan.index);
        let mut session = Session::join(
            shared.target,
            &shared.endpoint,
            &plan.room,
            &name,
            shared.join_timeout,
        )
        .await
        .map_err(|e| format!("signaling: {e}"))?;
        self.result.times.welcome = Some(self.started.elapsed());
        shared.progress.joined.fetch_add(1, Ordering::Relaxed);
        // Janus has no `view`: the option means nothing there.
        let mut view = shared
            .view_height
            .filter(|_| shared.target == Target::Webconf)
            .map(|h| ViewReporter::new(h, session.others(), Instant::now()));

        let mut rtc = new_rtc(&shared, local)?;
        let mut out = Outbox {
            socket: &socket,
            pacer: Pacer::new(shared.pace_rate_bps),
            video_pts: video_pts(&rtc),
        };
        // With Janus, what a publisher receives comes on a second peer connection; a viewer
        // (publishing nothing) has only that one.
        let publishes = plan.audio || plan.video;
        let separate_sub = shared.target.separate_subscriber_pc() && publishes;
        let mut sub: Option<Rtc> = None;

        // Publish: an audio m-line (for webconf always: a muted microphone when not publishing
        // audio, as a browser with its microphone off), a video one when publishing video.
        let mut change = rtc.sdp_api();
        let stream = Some(format!("load{}", plan.index));
        let audio_mid = (plan.audio || shared.target.muted_audio_line()).then(|| {
            change.add_media(
                MediaKind::Audio,
                Direction::SendOnly,
                stream.clone(),
                None,
                None,
            )
        });
        let video_mid = plan.video.then(|| {
            let simulcast = shared.simulcast.then(|| {
                let mut s = Simulcast::new();
                for (rid, _) in LAYERS {
                    s.add_send_layer(SimulcastLayer::new(rid));
                }
                s
            });
            change.add_media(
                MediaKind::Video,
                Direction::SendOnly,
                stream.clone(),
                None,
                simulcast,
            )
        });
        let mut pending: Option<SdpPendingOffer> = None;
        if let Some((offer, p)) = change.apply() {
            session
                .send_offer(offer.to_sdp_string())
                .await
                .map_err(|e| format!("signaling: {e}"))?;
            pending = Some(p);
        }
        let mut publishing: Option<Publishing> = None;
        let mut clock: Option<MediaClock> = None;
        let mut connected = false;
        let mut stopping: Option<Instant> = None;
        let mut next_keepalive = Instant::now() + KEEPALIVE;
        let join_deadline = Instant::now() + shared.join_timeout;
        let mut buf = vec![0u8; 2000];

        loop {
            // Drain the Rtc until it names its next timeout.
            let mut rtc_timeout = self.drain(
                &mut rtc,
                Leg::Main,
                &mut out,
                &mut connected,
                &mut clock,
                video_mid,
            )?;
            if let Some(s) = sub.as_mut() {
                let t = self.drain(s, Leg::Sub, &mut out, &mut connected, &mut clock, None)?;
                rtc_timeout = rtc_timeout.min(t);
            }
            let now = Instant::now();
            // Paced video that came due meanwhile.
            self.result.send_errors += out.flush(now);
            self.result.pacing = out.pacer.stats();
            if !connected && now >= join_deadline {
                let stage = if self.result.times.ice.is_some() {
                    "dtls"
                } else {
                    "ice"
                };
                return Err(format!(
                    "{stage}: media not connected within {:?}",
                    shared.join_timeout
                ));
            }
            if !rtc.is_alive() || sub.as_ref().is_some_and(|s| !s.is_alive()) {
                return Err("media: session closed".into());
            }
            if let Some(t) = stopping {
                if now >= t {
                    session.leave().await;
                    return Ok(());
                }
            }
            let mut wake = rtc_timeout.min(next_keepalive).min(join_deadline.max(now));
            if let Some(t) = stopping {
                wake = wake.min(t);
            } else if let (Some(c), Some(_)) = (&clock, &publishing) {
                wake = wake.min(c.next_due(plan.video));
            }
            if let Some(t) = view.as_ref().and_then(ViewReporter::poll_timeout) {
                wake = wake.min(t);
            }
            if let Some(t) = out.pacer.next_release(now) {
                wake = wake.min(t);
            }

            tokio::select! {
                r = socket.recv_from(&mut buf) => {
                    let (mut n, mut source) = r.map_err(|e| format!("udp: {e}"))?;
                    // Take what else is already queued without going back through select.
                    for i in 1..=RECV_BATCH {
                        let now = Instant::now();
                        shared.progress.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                        let data = buf.get(..n).unwrap_or_default();
                        match sub.as_mut() {
                            Some(s) if accepts(s, now, source, local, data) => {
                                self.receive(s, now, source, local, data);
                                self.drain(s, Leg::Sub, &mut out, &mut connected, &mut clock, None)?;
                            }
                            _ => {
                                self.receive(&mut rtc, now, source, local, data);
                                self.drain(&mut rtc, Leg::Main, &mut out, &mut connected, &mut clock, video_mid)?;
                            }
                        }
                        if i == RECV_BATCH {
                            break;
                        }
                        match socket.try_recv_from(&mut buf) {
                            Ok((m, from)) => (n, source) = (m, from),
                            Err(_) => break,
                        }
                    }
                }
                signal = session.recv() => {
                    match signal.map_err(|e| format!("signaling: {e}"))? {
                        Signal::Answer(sdp) => {
                            let answer = SdpAnswer::from_sdp_string(&sdp).map_err(|e| format!("sdp: {e}"))?;
                            let p = pending.take().ok_or("signaling: answer without offer")?;
                            rtc.sdp_api().accept_answer(p, answer).map_err(|e| format!("sdp: {e}"))?;
                            out.video_pts = video_pts(&rtc);
                            publishing = Some(Publishing {
                                audio: audio_mid.filter(|_| plan.audio).and_then(|m| pt_of(&mut rtc, m, Codec::Opus).map(|pt| (m, pt))),
                                video: video_mid.and_then(|m| pt_of(&mut rtc, m, Codec::Vp8).map(|pt| (m, pt))),
                            });
                            session.send_media_state(plan.audio, plan.video).await.map_err(|e| format!("signaling: {e}"))?;
                        }
                        Signal::Offer(sdp) => {
                            let offer = SdpOffer::from_sdp_string(&sdp).map_err(|e| format!("sdp: {e}"))?;
                            let target = if separate_sub {
                                if sub.is_none() {
                                    sub = Some(new_rtc(&shared, local)?);
                                }
                                sub.as_mut().ok_or("no subscriber connection")?
                            } else {
                                &mut rtc
                            };
                            let answer = target.sdp_api().accept_offer(offer).map_err(|e| format!("sdp: {e}"))?;
                            session.send_answer(answer.to_sdp_string()).await.map_err(|e| format!("signaling: {e}"))?;
                        }
                        Signal::Error(_) => self.result.server_errors += 1,
                        Signal::Joined(id) => {
                            if let Some(v) = view.as_mut() {
                                v.handle_joined(id, Instant::now());
                            }
                        }
                        Signal::Left(id) => {
                            if let Some(v) = view.as_mut() {
                                v.handle_left(&id, Instant::now());
                            }
                        }
                        Signal::Other => {}
                    }
                }
                changed = phase.changed(), if stopping.is_none() => {
                    if changed.is_err() || *phase.borrow() == Phase::Stop {
                        stopping = Some(Instant::now() + DRAIN);
                    }
                }
                () = tokio::time::sleep_until(wake.into()) => {}
            }

            let now = Instant::now();
            if now >= next_keepalive {
                next_keepalive = now + KEEPALIVE;
                session
                    .keepalive()
                    .await
                    .map_err(|e| format!("signaling: {e}"))?;
            }
            if let Some(tiles) = view.as_mut().and_then(|v| v.poll_view(now)) {
                session
                    .send_view(tiles)
                    .await
                    .map_err(|e| format!("signaling: {e}"))?;
            }
            if now >= rtc_timeout {
                for r in std::iter::once(&mut rtc).chain(sub.as_mut()) {
                    if let Err(e) = r.handle_input(Input::Timeout(now)) {
                        return Err(format!("media: {e}"));
                    }
                }
            }
            if stopping.is_none() {
                if let (Some(c), Some(p)) = (clock.as_mut(), publishing.as_ref()) {
                    self.send_due(&mut rtc, c, p, now);
                }
            }
        }
    }

    fn receive(
        &mut self,
        rtc: &mut Rtc,
        now: Instant,
        source: SocketAddr,
        local: SocketAddr,
        data: &[u8],
    ) {
        let Ok(contents) = data.try_into() else {
            return;
        };
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source,
                destination: local,
                contents,
            },
        );
        // A datagram str0m refuses (garbage, late DTLS) is dropped; the session goes on.
        let _ = rtc.handle_input(input);
    }

    /// Polls the Rtc until its timeout: sends datagrams (through the pacer), accounts received
    /// media, notes milestones and keyframe requests.
    fn drain(
        &mut self,
        rtc: &mut Rtc,
        leg: Leg,
        out: &mut Outbox<'_>,
        connected: &mut bool,
        clock: &mut Option<MediaClock>,
        video_mid: Option<Mid>,
    ) -> Result<Instant, String> {
        loop {
            let output = rtc.poll_output().map_err(|e| format!("media: {e}"))?;
            match output {
                Output::Timeout(t) => return Ok(t),
                Output::Transmit(t) => {
                    self.result.send_errors += out.send(Instant::now(), t);
                }
                Output::Event(event) => match event {
                    Event::IceConnectionStateChange(
                        IceConnectionState::Connected | IceConnectionState::Completed,
                    ) => {
                        self.result.times.ice.get_or_insert(self.started.elapsed());
                    }
                    // The subscriber leg's connection is not the participant's join milestone.
                    Event::Connected if leg == Leg::Sub => {}
                    Event::Connected => {
                        *connected = true;
                        self.result.times.connected = Some(self.started.elapsed());
                        self.shared
                            .progress
                            .connected
                            .fetch_add(1, Ordering::Relaxed);
                        *clock = Some(MediaClock::new(
                            Instant::now(),
                            self.shared.keyframe_interval,
                        ));
                    }
                    Event::MediaData(d) => {
                        let now = Instant::now();
                        let video = rtc
                            .media(d.mid)
                            .is_some_and(|m| m.kind() == MediaKind::Video);
                        let packets =
                            (**d.seq_range.end()).saturating_sub(**d.seq_range.start()) + 1;
                        self.result.metrics.record_rtp(
                            (leg as u8, d.mid),
                            **d.seq_range.start(),
                            **d.seq_range.end(),
                        );
                        let progress = &self.shared.progress;
                        progress.frames_in.fetch_add(1, Ordering::Relaxed);
                        progress.packets_in.fetch_add(packets, Ordering::Relaxed);
                        match FrameHeader::parse(&d.data, video) {
                            Some(h) => {
                                let times = &mut self.result.times;
                                times.first_media.get_or_insert(self.started.elapsed());
                                if h.stream.is_video() {
                                    times.first_video.get_or_insert(self.started.elapsed());
                                }
                                self.result.metrics.record(&h, self.shared.now_us(now));
                            }
                            None => self.result.metrics.foreign_frames += 1,
                        }
                    }
                    Event::KeyframeRequest(req) if Some(req.mid) == video_mid => {
                        if let Some(c) = clock.as_mut() {
                            c.request_keyframe();
                        }
                    }
                    _ => {}
                },
            }
        }
    }

    /// Writes every frame due at `now`.
    fn send_due(
        &mut self,
        rtc: &mut Rtc,
        clock: &mut MediaClock,
        publishing: &Publishing,
        now: Instant,
    ) {
        let shared = self.shared.clone();
        let sent_us = shared.now_us(now);
        let sender = self.result.plan.index;
        if let Some(seq) = clock.take_audio(now) {
            if let Some((mid, pt)) = publishing.audio {
                let h = FrameHeader {
                    stream: StreamKind::Audio,
                    keyframe: false,
                    sender,
                    seq,
                    sent_us,
                };
                let frame = media::audio_frame(&h, &mut self.jitter);
                let t = MediaTime::new(clock.media_time(now, 48_000), Frequency::FORTY_EIGHT_KHZ);
                let level = self.result.plan.audio_level;
                self.write(rtc, mid, None, level, pt, now, t, frame);
            }
        }
        if let Some((seq, keyframe)) = clock.take_video(now) {
            if let Some((mid, pt)) = publishing.video {
                let t = MediaTime::new(clock.media_time(now, 90_000), Frequency::NINETY_KHZ);
                if shared.simulcast {
                    for (layer, (rid, profile)) in LAYERS.iter().enumerate() {
                        let stream = StreamKind::Layer(layer as u8);
                        let h = FrameHeader {
                            stream,
                            keyframe,
                            sender,
                            seq,
                            sent_us,
                        };
                        let frame = media::video_frame(&h, *profile, &mut self.jitter);
                        self.write(rtc, mid, Some(Rid::from(*rid)), None, pt, now, t, frame);
                    }
                } else {
                    let h = FrameHeader {
                        stream: StreamKind::Video,
                        keyframe,
                        sender,
                        seq,
                        sent_us,
                    };
                    let frame = media::video_frame(&h, shared.profile, &mut self.jitter);
                    self.write(rtc, mid, None, None, pt, now, t, frame);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn write(
        &mut self,
        rtc: &mut Rtc,
        mid: Mid,
        rid: Option<Rid>,
        audio_level: Option<i8>,
        pt: Pt,
        now: Instant,
        t: MediaTime,
        frame: Vec<u8>,
    ) {
        let Some(mut writer) = rtc.writer(mid) else {
            return;
        };
        if let Some(rid) = rid {
            writer = writer.rid(rid);
        }
        if let Some(level) = audio_level {
            writer = writer.audio_level(level, level > SPEECH_DBOV);
        }
        if writer.write(pt, now, t, frame).is_ok() {
            self.shared
                .progress
                .frames_out
                .fetch_add(1, Ordering::Relaxed);
        } else {
            self.result.send_errors += 1;
        }
    }
}

/// Receive buffer of each participant's socket: a browser's is large too; the default (about
/// 200 KiB) overflows when a busy machine delays the task by a few tens of milliseconds.
const RECV_BUFFER: usize = 1 << 20;

/// A UDP socket on `ip` with an ephemeral port and a [`RECV_BUFFER`] receive buffer (the kernel
/// caps it at `net.core.rmem_max`).
fn bind_udp(ip: IpAddr) -> std::io::Result<UdpSocket> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(SocketAddr::new(ip, 0)),
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    // Best effort: a smaller buffer still works.
    let _ = socket.set_recv_buffer_size(RECV_BUFFER);
    socket.bind(&SocketAddr::new(ip, 0).into())?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket.into())
}

/// Which peer connection of a participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leg {
    /// The only one (webconf, a Janus viewer) or a Janus publisher's.
    Main = 0,
    /// A Janus publisher's subscriber connection.
    Sub = 1,
}

/// A str0m client `Rtc` as the generator uses it (Opus and VP8 only, no stats), with our host
/// candidate. str0m 0.25 offers every SRTP profile it has (AEAD_AES_256_GCM,
/// AEAD_AES_128_GCM, AES128_CM_SHA1_80) and has no setting to narrow them: the DTLS server picks
/// (see `docs/benchmarks.md`).
fn new_rtc(shared: &Shared, local: SocketAddr) -> Result<Rtc, String> {
    let mut rtc = Rtc::builder()
        .set_crypto_provider(shared.crypto.clone())
        .clear_codecs()
        .enable_opus(true, false)
        .enable_vp8(true)
        .set_stats_interval(None)
        .build(Instant::now());
    let candidate = Candidate::host(local, "udp").map_err(|e| format!("candidate: {e}"))?;
    rtc.add_local_candidate(candidate);
    Ok(rtc)
}

/// Whether `rtc` takes this datagram (its STUN credentials or its remote address).
fn accepts(rtc: &Rtc, now: Instant, source: SocketAddr, local: SocketAddr, data: &[u8]) -> bool {
    let Ok(contents) = data.try_into() else {
        return false;
    };
    rtc.accepts(&Input::Receive(
        now,
        Receive {
            proto: Protocol::Udp,
            source,
            destination: local,
            contents,
        },
    ))
}

/// The payload type negotiated for `codec` on `mid`.
fn pt_of(rtc: &mut Rtc, mid: Mid, codec: Codec) -> Option<Pt> {
    let writer = rtc.writer(mid)?;
    let pt = writer
        .payload_params()
        .find(|p| p.spec().codec == codec)
        .map(|p| p.pt());
    pt
}
