//! The engine: one tokio task that owns the room registry and the media core, and is the only
//! place either is changed. It applies one input at a time (a signaling message, a datagram, a
//! timer), then drains the core's outputs, like str0m's run loop.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::media_queue::{MediaIn, MediaReceiver};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};
use webconf_access::ratelimit::{ip_key, RateLimiter};
use webconf_media::{PeerId, Protocol, RoomId, Sfu, SfuError, SfuOutput};
use webconf_room::protocol::PROTOCOL_VERSION;
use webconf_room::{
    ClientMessage, DisplayName, Effects, ErrorCode, ParticipantId, Role, RoomName, RoomPolicy,
    Rooms, ServerMessage,
};

/// A connection's identity inside the engine. A participant's media peer id is the id of the
/// connection it joined with, and stays when it resumes on another ([`resume`]).
pub type ConnId = u64;

/// What the engine asks a WebSocket task to do.
#[derive(Debug)]
pub enum Outgoing {
    /// Send this message.
    Message(ServerMessage),
    /// Close the socket with this code and reason.
    Close(u16, &'static str),
}

/// Who is behind a socket, as decided at the WebSocket upgrade.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    /// The client address (after trusted proxies).
    pub ip: IpAddr,
    /// A State agent (by network zone or verified e-mail): may open rooms, moderates them.
    pub agent: bool,
}

/// A signaling event for the engine, from a WebSocket task.
#[derive(Debug)]
pub enum Command {
    /// A socket was accepted; `tx` reaches it.
    Connect {
        /// Its id.
        conn: ConnId,
        /// Who is behind it.
        peer: Peer,
        /// Its outgoing queue (bounded: a client too slow to read is disconnected).
        tx: mpsc::Sender<Outgoing>,
    },
    /// A well-formed message arrived.
    Message {
        /// From whom.
        conn: ConnId,
        /// What.
        msg: ClientMessage,
    },
    /// The socket is closed or dead.
    Disconnect {
        /// Which.
        conn: ConnId,
        /// It broke without a closing handshake (rather than closed, or silent too long): its
        /// participant keeps its place for `resume` during the grace period.
        broken: bool,
    },
    /// A guest's room password was checked (off the loop).
    PasswordChecked {
        /// Whose join.
        conn: ConnId,
        /// The room asked for.
        room: RoomName,
        /// The display name given.
        name: DisplayName,
        /// Whether it matched.
        ok: bool,
    },
    /// A moderator's new room password was hashed (off the loop).
    PasswordHashed {
        /// The moderator's connection.
        conn: ConnId,
        /// The Argon2id hash.
        hash: String,
    },
    /// A connection-test probe is opened or closed (`/api/probe`, [`probe`]).
    Probe(probe::ProbeCommand),
}

mod actions;
pub mod latency;
mod media_policy;
pub mod probe;
mod resume;

/// Most datagrams the engine takes from its queue before it sends what they produced (whole
/// batches: a turn that reaches it ends after the batch that did).
const DATAGRAMS_PER_TURN: usize = 64;

/// Bytes of datagrams the engine gathers before sending them, at most (about 200 datagrams).
const UDP_BATCH_BYTES: usize = 256 * 1024;

/// A media packet for the engine: a UDP datagram from a socket reader task, or one frame of
/// an ICE-TCP connection ([`crate::tcp_media`]).
#[derive(Debug)]
pub struct Datagram {
    /// When it was read.
    pub at: Instant,
    /// The local socket address it arrived on (for TCP: the ICE-TCP candidate's address).
    pub local: SocketAddr,
    /// The sender.
    pub remote: SocketAddr,
    /// The bytes.
    pub data: Vec<u8>,
    /// UDP, or TCP for a frame of an ICE-TCP connection.
    pub transport: Protocol,
}

struct Conn {
    tx: mpsc::Sender<Outgoing>,
    peer: Peer,
    participant: Option<ParticipantId>,
    /// The socket broke at this time; the participant leaves at the end of the grace period
    /// unless it resumes on another connection. Nothing is sent to a broken socket.
    broken_at: Option<Instant>,
    /// Chat messages for a broken socket's participant, given on `resume` (at most
    /// [`resume::MISSED_CHAT`]; the rest of what it misses, the resume gives as the room's state).
    missed_chat: Vec<ServerMessage>,
}

/// The engine's limits, from the configuration.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Participants (in rooms or waiting) above which `join` is refused with `server_busy`.
    pub max_participants: usize,
    /// Time limits of rooms.
    pub rooms: RoomPolicy,
    /// Joins of rooms that are not open, per client address and minute (against guessing).
    pub unknown_room_joins_per_minute: u32,
    /// Limits of connection-test probes.
    pub probes: probe::ProbeLimits,
    /// How long a participant whose socket broke keeps its place for `resume`.
    pub resume_grace: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            resume_grace: Duration::from_secs(10),
            max_participants: 2000,
            rooms: RoomPolicy::default(),
            unknown_room_joins_per_minute: 30,
            probes: probe::ProbeLimits::default(),
        }
    }
}

/// The state the engine task owns.
pub struct Engine {
    rooms: Rooms,
    sfu: Sfu,
    conns: HashMap<ConnId, Conn>,
    by_participant: HashMap<ParticipantId, ConnId>,
    /// Each participant's media session in the core, both ways, and its `resume` secret.
    sessions: resume::Sessions,
    sockets: HashMap<SocketAddr, Arc<UdpSocket>>,
    /// The core's datagrams of one turn, sent together on `sockets`.
    udp: crate::udp_send::UdpSender,
    /// The outgoing queues of the ICE-TCP connections, by remote address.
    tcp: crate::tcp_media::TcpConns,
    max_participants: usize,
    resume_grace: Duration,
    unknown_room_joins: RateLimiter<IpAddr>,
    password_tries: RateLimiter<IpAddr>,
    /// The engine's own command queue, for results of work done off the loop.
    loopback: mpsc::Sender<Command>,
    dropped_datagrams: u64,
    /// How long datagrams wait in the server ([`latency`]).
    latency: latency::LatencyLog,
    /// The core's timeout counts at the last latency log line ([`Sfu::timeout_counts`]).
    timeouts_logged: (u64, u64),
    /// Seconds ticked (`handle_tick`), for periodic logs.
    ticks: u64,
    /// Connection-test probes: media sessions outside every room.
    probes: probe::Probes,
    /// Each network zone's media addresses; `None`: everyone gets every address.
    zone_media: Option<Arc<crate::zones_media::ZoneMedia>>,
}

impl Engine {
    /// Builds the engine over the bound media sockets.
    pub fn new(
        sfu: Sfu,
        sockets: HashMap<SocketAddr, Arc<UdpSocket>>,
        config: EngineConfig,
        loopback: mpsc::Sender<Command>,
    ) -> Engine {
        Engine {
            rooms: Rooms::new(config.rooms),
            sfu,
            conns: HashMap::new(),
            by_participant: HashMap::new(),
            sessions: resume::Sessions::default(),
            sockets,
            udp: crate::udp_send::UdpSender::default(),
            tcp: crate::tcp_media::TcpConns::default(),
            max_participants: config.max_participants,
            resume_grace: config.resume_grace,
            unknown_room_joins: RateLimiter::new(
                config.unknown_room_joins_per_minute,
                Duration::from_secs(60),
                100_000,
            ),
            password_tries: RateLimiter::new(5, Duration::from_secs(60), 100_000),
            loopback,
            dropped_datagrams: 0,
            ticks: 0,
            latency: latency::LatencyLog::default(),
            timeouts_logged: (0, 0),
            probes: probe::Probes::new(config.probes),
            zone_media: None,
        }
    }

    /// Offers each participant (and probe) only the media addresses of its network zone.
    pub fn with_zone_media(mut self, zone_media: Arc<crate::zones_media::ZoneMedia>) -> Engine {
        self.zone_media = Some(zone_media);
        self
    }

    /// Creates a media session offered the addresses of the zone of the client address `ip`.
    fn add_media_peer(
        &mut self,
        now: Instant,
        peer: PeerId,
        room: RoomId,
        stream_id: String,
        ip: IpAddr,
    ) -> Result<(), SfuError> {
        match &self.zone_media {
            Some(zm) => {
                self.sfu
                    .add_peer_with_addresses(now, peer, room, stream_id, zm.for_client(ip))
            }
            None => self.sfu.add_peer(now, peer, room, stream_id),
        }
    }

    /// Sends media packets the core addresses over TCP to these ICE-TCP connections.
    pub fn with_tcp(mut self, tcp: crate::tcp_media::TcpConns) -> Engine {
        self.tcp = tcp;
        self
    }

    /// Runs until both input channels are closed.
    pub async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut datagrams: MediaReceiver,
    ) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // One timer, moved when the core's deadline moves (a new one per turn cost a timer-wheel
        // insertion and removal per datagram).
        let sleep = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(sleep);
        let mut armed: Option<Instant> = None;
        loop {
            let deadline = self.sfu.poll_timeout();
            if let Some(t) = deadline.filter(|t| armed != Some(*t)) {
                sleep.as_mut().reset(t.into());
                armed = Some(t);
            }
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    Some(cmd) => self.handle_command(Instant::now(), cmd),
                    None => break,
                },
                Some(input) = datagrams.recv() => {
                    let mut taken = self.handle_media(input);
                    // Take what else is queued before sending: the core's datagrams of several
                    // inputs then leave together, in fewer system calls.
                    while taken < DATAGRAMS_PER_TURN {
                        match datagrams.try_recv() {
                            Some(input) => taken += self.handle_media(input),
                            None => break,
                        }
                    }
                }
                () = &mut sleep, if deadline.is_some() => {
                    armed = None;
                    self.sfu.handle_timeout(Instant::now());
                }
                _ = tick.tick() => self.handle_tick(Instant::now()),
            }
            self.flush(Instant::now());
        }
        info!("engine stopped");
    }

    /// Gives the core every datagram of a reader's message, in order; returns how many.
    fn handle_media(&mut self, input: MediaIn) -> usize {
        match input {
            MediaIn::Batch(batch) => {
                for (remote, data) in batch.iter() {
                    self.handle_datagram(batch.at, Protocol::Udp, batch.local, remote, data);
                }
                batch.len()
            }
            MediaIn::One(dg) => {
                self.handle_datagram(dg.at, dg.transport, dg.local, dg.remote, &dg.data);
                1
            }
        }
    }

    /// Gives the core one datagram read at `at`, and counts (or, for ICE-TCP, closes) what
    /// belongs to no session.
    fn handle_datagram(
        &mut self,
        at: Instant,
        transport: Protocol,
        local: SocketAddr,
        remote: SocketAddr,
        data: &[u8],
    ) {
        self.latency.read(at);
        match self.sfu.handle_packet(at, transport, remote, local, data) {
            Ok(()) => {}
            Err(SfuError::Unroutable(_))
            | Err(SfuError::BadDatagram)
            | Err(SfuError::Unauthenticated(_)) => {
                // An ICE-TCP connection that belongs to no session (its STUN request names no
                // ufrag we gave, or does not prove its password, or its session ended) is closed.
                if transport == Protocol::Tcp {
                    self.tcp.close(remote);
                }
                self.dropped_datagrams += 1;
                if self.dropped_datagrams.is_power_of_two() {
                    debug!(
                        count = self.dropped_datagrams,
                        "dropped datagrams that belong to no participant"
                    );
                }
            }
            Err(e) => debug!("datagram: {e}"),
        }
    }

    /// Once a second: room timers (idle, maximum duration, waiting guests), fed with the media
    /// activity the core saw.
    pub fn handle_tick(&mut self, now: Instant) {
        for (room, at) in self.sfu.take_media_activity() {
            self.rooms.media_seen(at, room.0);
        }
        let fx = self.rooms.handle_timeout(now);
        self.apply(now, fx);
        self.unknown_room_joins.purge(now);
        self.password_tries.purge(now);
        self.expire_probes(now);
        self.expire_broken(now);
        self.ticks += 1;
        if self.ticks.is_multiple_of(60) {
            let c = self.udp.counts();
            debug!(
                datagrams = c.datagrams,
                calls = c.calls,
                dropped = c.dropped,
                gso = self.udp.gso(),
                "UDP media sent so far"
            );
        }
    }

    /// Applies one signaling command.
    pub fn handle_command(&mut self, now: Instant, cmd: Command) {
        match cmd {
            Command::Connect { conn, peer, tx } => {
                self.conns.insert(
                    conn,
                    Conn {
                        tx,
                        peer,
                        participant: None,
                        broken_at: None,
                        missed_chat: Vec::new(),
                    },
                );
            }
            Command::Disconnect { conn, broken } => self.disconnect(now, conn, broken),
            Command::Message { conn, msg } => self.handle_message(now, conn, msg),
            Command::PasswordChecked {
                conn,
                room,
                name,
                ok,
            } => self.handle_password_checked(now, conn, room, name, ok),
            Command::PasswordHashed { conn, hash } => self.handle_password_hashed(now, conn, hash),
            Command::Probe(cmd) => self.handle_probe(now, cmd),
        }
    }

    fn handle_message(&mut self, now: Instant, conn: ConnId, msg: ClientMessage) {
        let participant = self.conns.get(&conn).and_then(|c| c.participant.clone());
        // A waiting guest has a participant id but is in no room yet.
        let in_room = participant
            .clone()
            .filter(|p| self.rooms.room_of(p).is_some());
        match (msg, in_room) {
            (ClientMessage::Ping {}, _) => self.send(conn, ServerMessage::Pong),
            (ClientMessage::Leave {}, _) if participant.is_some() => {
                self.remove_participant(now, conn);
                self.close(conn, 1000, "left");
            }
            (
                ClientMessage::Join {
                    version,
                    room,
                    name,
                    password,
                },
                _,
            ) if participant.is_none() => self.join(now, conn, version, &room, &name, password),
            (
                ClientMessage::Resume {
                    version,
                    participant: target,
                    token,
                },
                _,
            ) if participant.is_none() => self.resume(conn, version, target, &token),
            (ClientMessage::Join { .. } | ClientMessage::Resume { .. }, _) => self.send_error(
                conn,
                ErrorCode::AlreadyJoined,
                "this socket already joined a room",
                false,
            ),
            (_, None) => self.send_error(
                conn,
                ErrorCode::NotJoined,
                "send `join` and wait for `welcome` first",
                false,
            ),
            (msg @ (ClientMessage::Offer { .. } | ClientMessage::Answer { .. }), Some(pid)) => {
                match self.sessions.peer_of(&pid) {
                    Some(peer) => self.negotiate(now, conn, peer, msg),
                    None => {
                        self.send_error(conn, ErrorCode::NotJoined, "no media session yet", false)
                    }
                }
            }
            (
                ClientMessage::MediaState {
                    audio,
                    video,
                    screen,
                },
                Some(pid),
            ) => {
                let fx = self.rooms.set_media_state(&pid, audio, video, screen);
                // A moderator's block lifted first: the microphone then competes at once.
                self.apply(now, fx);
                // A microphone turned off takes no slot in the others' sessions (its browser
                // keeps the m-line and may send silence); apart from a moderator's block.
                // Likewise a camera turned off (its browser may send black frames) takes no place
                // in the others' last-N.
                if let Some(peer) = self.sessions.peer_of(&pid) {
                    let _ = self.sfu.set_microphone_on(now, peer, audio);
                    let _ = self.sfu.set_camera_on(now, peer, video);
                }
            }
            (ClientMessage::View { tiles }, Some(pid)) => self.handle_view(now, conn, &pid, &tiles),
            (ClientMessage::Leave {}, Some(_)) => {}
            (msg, Some(pid)) => self.handle_room_action(now, conn, pid, msg),
        }
    }

    /// The browser's offer (publishing, or an ICE restart) or answer, for its media session.
    fn negotiate(&mut self, now: Instant, conn: ConnId, peer: PeerId, msg: ClientMessage) {
        match msg {
            ClientMessage::Offer { sdp } => match self.sfu.handle_offer(now, peer, &sdp) {
                Ok(answer) => self.send(conn, ServerMessage::Answer { sdp: answer }),
                Err(SfuError::OfferPending(_)) => self.send_error(
                    conn,
                    ErrorCode::RenegotiationInProgress,
                    "answer the server's offer first, then offer again",
                    false,
                ),
                Err(e) => self.send_error(conn, ErrorCode::BadSdp, e.to_string(), false),
            },
            ClientMessage::Answer { sdp } => match self.sfu.handle_answer(now, peer, &sdp) {
                Ok(()) => {}
                Err(SfuError::UnexpectedAnswer(_)) => self.send_error(
                    conn,
                    ErrorCode::UnexpectedAnswer,
                    "no offer is waiting for an answer",
                    false,
                ),
                Err(e) => self.send_error(conn, ErrorCode::BadSdp, e.to_string(), false),
            },
            _ => {}
        }
    }

    fn join(
        &mut self,
        now: Instant,
        conn: ConnId,
        version: u32,
        room: &str,
        name: &str,
        password: Option<String>,
    ) {
        if version != PROTOCOL_VERSION {
            let msg =
                format!("this server speaks protocol version {PROTOCOL_VERSION}; reload the page");
            self.send_error(conn, ErrorCode::UnsupportedVersion, msg, true);
            self.close(conn, 1002, "unsupported version");
            return;
        }
        let room = match RoomName::parse(room) {
            Ok(r) => r,
            Err(e) => return self.send_error(conn, ErrorCode::BadRoomName, e.to_string(), false),
        };
        let name = match DisplayName::parse(name) {
            Ok(n) => n,
            Err(e) => return self.send_error(conn, ErrorCode::BadName, e.to_string(), false),
        };
        if self.rooms.participant_count() >= self.max_participants {
            self.send_error(
                conn,
                ErrorCode::ServerBusy,
                "the server is full; try again later",
                true,
            );
            self.close(conn, 1013, "server busy");
            return;
        }
        let Some(peer) = self.conns.get(&conn).map(|c| c.peer) else {
            return;
        };
        if !self.rooms.is_open(&room) {
            if let Err(retry) = self.unknown_room_joins.check(now, &ip_key(peer.ip)) {
                let msg = format!(
                    "too many rooms asked for; try again in {} s",
                    retry.as_secs().max(1)
                );
                return self.send_error(conn, ErrorCode::RateLimited, msg, false);
            }
        }
        if !peer.agent {
            if let Some(hash) = self.rooms.password_hash(&room).map(str::to_owned) {
                return self.check_password(now, conn, peer.ip, room, name, hash, password);
            }
        }
        self.admit(now, conn, room, name, false);
    }

    /// Gives the connection a participant id and puts it in (or in front of) the room.
    pub(super) fn admit(
        &mut self,
        now: Instant,
        conn: ConnId,
        room: RoomName,
        name: DisplayName,
        verified: bool,
    ) {
        let Some(peer) = self.conns.get(&conn).map(|c| c.peer) else {
            return;
        };
        if self
            .conns
            .get(&conn)
            .is_some_and(|c| c.participant.is_some())
        {
            return;
        }
        let pid = ParticipantId::random();
        let role = if peer.agent {
            Role::Moderator
        } else {
            Role::Guest
        };
        match self
            .rooms
            .join(now, room, pid.clone(), name, role, verified)
        {
            Ok(fx) => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.participant = Some(pid.clone());
                }
                self.by_participant.insert(pid, conn);
                self.apply(now, fx);
            }
            // The room was protected while the password was checked.
            Err(_) => self.send_error(
                conn,
                ErrorCode::PasswordRequired,
                "this meeting is protected by a password",
                false,
            ),
        }
    }

    /// Carries out what the room logic decided: messages, media sessions, evictions.
    fn apply(&mut self, now: Instant, fx: Effects) {
        self.deliver(fx.outbox);
        for adm in fx.admitted {
            let Some(conn) = self.by_participant.get(&adm.id).copied() else {
                continue;
            };
            let Some(ip) = self.conns.get(&conn).map(|c| c.peer.ip) else {
                continue;
            };
            if let Err(e) = self.add_media_peer(
                now,
                PeerId(conn),
                RoomId(adm.media_key),
                adm.id.to_string(),
                ip,
            ) {
                warn!("cannot create a media session: {e}");
                self.send_error(
                    conn,
                    ErrorCode::ServerBusy,
                    "the media server cannot take you now",
                    true,
                );
                self.remove_participant(now, conn);
                self.close(conn, 1011, "media unavailable");
            } else {
                let resume_token = self.sessions.open(adm.id.clone(), PeerId(conn));
                self.send(conn, ServerMessage::Session { resume_token });
                self.send_known_speakers(conn, RoomId(adm.media_key));
            }
        }
        for mc in fx.media_control {
            if let Some(peer) = self.sessions.peer_of(&mc.id) {
                let _ = self.sfu.set_forwarding(peer, mc.audio, mc.video);
            }
        }
        for pid in fx.evicted {
            if let Some(peer) = self.sessions.close(&pid) {
                let _ = self.sfu.remove_peer(now, peer);
            }
            if let Some(conn) = self.by_participant.remove(&pid) {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.participant = None;
                }
                self.close(conn, 1000, "room ended");
            }
        }
        if !fx.closed.is_empty() {
            info!(rooms = self.rooms.room_count(), "room closed");
        }
    }

    /// Takes a connection's participant out of its room and its media session out of the core.
    fn remove_participant(&mut self, now: Instant, conn: ConnId) {
        let Some(pid) = self.conns.get_mut(&conn).and_then(|c| c.participant.take()) else {
            return;
        };
        self.by_participant.remove(&pid);
        // A waiting guest has no media session.
        if let Some(peer) = self.sessions.close(&pid) {
            if let Err(e) = self.sfu.remove_peer(now, peer) {
                debug!("removing media session: {e}");
            }
        }
        let fx = self.rooms.leave(now, &pid);
        self.apply(now, fx);
    }

    /// Drains the core: datagrams to the sockets, offers to the browsers, dead peers out.
    pub fn flush(&mut self, now: Instant) {
        while let Some(out) = self.sfu.poll_output() {
            let Some(out) = self.probe_output(now, out) else {
                continue;
            };
            match out {
                SfuOutput::Transmit {
                    proto: Protocol::Tcp,
                    destination,
                    contents,
                    ..
                } => {
                    // A full queue drops the packet, like a full UDP send buffer.
                    self.tcp.send(destination, contents);
                }
                SfuOutput::Transmit {
                    source,
                    destination,
                    contents,
                    ..
                } => {
                    self.udp.push(source, destination, &contents);
                    // A turn of a large room can make megabytes: send as we go beyond this.
                    if self.udp.queued_bytes() >= UDP_BATCH_BYTES {
                        self.udp.send(&self.sockets);
                    }
                }
                SfuOutput::Offer { peer, sdp } => {
                    if let Some(conn) = self.conn_of_peer(peer) {
                        self.send(conn, ServerMessage::Offer { sdp });
                    }
                }
                SfuOutput::Connected { peer } => debug!("{peer}: media connected"),
                SfuOutput::Stats { peer, stats } => {
                    let Some(conn) = self.conn_of_peer(peer) else {
                        continue;
                    };
                    self.send(
                        conn,
                        ServerMessage::Stats {
                            bitrate_in: stats.bitrate_in,
                            bitrate_out: stats.bitrate_out,
                            loss_in: stats.loss_in,
                            loss_out: stats.loss_out,
                            rtt_ms: stats.rtt_ms,
                            transport: stats.transport.map(str::to_owned),
                            server_port: stats.server_port,
                        },
                    )
                }
                SfuOutput::ActiveSpeaker { room, peer } => self.relay_active_speaker(room, peer),
                SfuOutput::Slots { peer, slots } => self.relay_slots(peer, &slots),
                SfuOutput::Dead { peer } => {
                    info!("{peer}: media session ended; removing the participant");
                    if let Some(conn) = self.conn_of_peer(peer) {
                        self.remove_participant(now, conn);
                        self.close(conn, 1011, "media session ended");
                    }
                }
            }
        }
        self.udp.send(&self.sockets);
        if let Some(h) = self.latency.sent(Instant::now()) {
            let us = |d: Option<Duration>| d.map_or(0, |d| d.as_micros() as u64);
            let (timers, releases) = self.sfu.timeout_counts();
            let (timers_before, releases_before) =
                std::mem::replace(&mut self.timeouts_logged, (timers, releases));
            debug!(
                target: "webconf::latency",
                datagrams = h.count(),
                p50_us = us(h.quantile(0.5)),
                p99_us = us(h.quantile(0.99)),
                max_us = us(Some(h.max())),
                timeouts_timer = timers - timers_before,
                timeouts_release = releases - releases_before,
                "media held by the server (read to sent)"
            );
        }
    }

    fn deliver(&mut self, outbox: webconf_room::Outbox) {
        for (pid, msg) in outbox {
            if let Some(conn) = self.by_participant.get(&pid).copied() {
                self.send(conn, msg);
            }
        }
    }

    fn send_error(
        &mut self,
        conn: ConnId,
        code: ErrorCode,
        message: impl Into<String>,
        fatal: bool,
    ) {
        self.send(conn, ServerMessage::error(code, message, fatal));
    }

    fn send(&mut self, conn: ConnId, msg: ServerMessage) {
        self.push(conn, Outgoing::Message(msg));
    }

    fn close(&mut self, conn: ConnId, code: u16, reason: &'static str) {
        self.push(conn, Outgoing::Close(code, reason));
    }

    fn push(&mut self, conn: ConnId, out: Outgoing) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        // A broken socket's participant is only waiting to resume: the resume gives back the
        // room's current state, and the chat kept here.
        if c.broken_at.is_some() {
            if let Outgoing::Message(msg @ ServerMessage::Chat { .. }) = out {
                if c.missed_chat.len() < resume::MISSED_CHAT {
                    c.missed_chat.push(msg);
                }
            }
            return;
        }
        if c.tx.try_send(out).is_err() {
            // The browser does not read its socket (or it is gone): drop it rather than
            // buffer without bound. Its task sees the channel close and ends.
            warn!(conn, "signaling queue full or closed; disconnecting");
            self.remove_participant(Instant::now(), conn);
            self.conns.remove(&conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webconf_media::SfuConfig;

    fn engine() -> Engine {
        let (tx, _rx) = mpsc::channel(8);
        Engine::new(
            Sfu::new(SfuConfig::default()),
            HashMap::new(),
            EngineConfig::default(),
            tx,
        )
    }

    /// A State agent (a moderator) on socket `conn` joins the room; returns its queue and its
    /// media peer.
    fn join(e: &mut Engine, now: Instant, conn: ConnId) -> (mpsc::Receiver<Outgoing>, PeerId) {
        let (tx, rx) = mpsc::channel(256);
        let peer = Peer {
            ip: IpAddr::from([127, 0, 0, 1]),
            agent: true,
        };
        e.handle_command(now, Command::Connect { conn, peer, tx });
        let msg = ClientMessage::Join {
            version: PROTOCOL_VERSION,
            room: "reunion2024abc".into(),
            name: format!("Agent {conn}"),
            password: None,
        };
        e.handle_command(now, Command::Message { conn, msg });
        let pid = e.conns[&conn].participant.clone().expect("joined");
        let media = e.sessions.peer_of(&pid).expect("a media session");
        (rx, media)
    }

    fn media_state(e: &mut Engine, now: Instant, conn: ConnId, audio: bool) {
        let msg = ClientMessage::MediaState {
            audio,
            video: true,
            screen: false,
        };
        e.handle_command(now, Command::Message { conn, msg });
    }

    #[tokio::test]
    async fn media_state_tells_the_core_whether_the_microphone_is_on() {
        let mut e = engine();
        let now = Instant::now();
        let (_a, alice) = join(&mut e, now, 1);
        let (_b, bob) = join(&mut e, now, 2);
        assert!(e.sfu.microphone_on(bob).expect("bob"), "on by default");
        media_state(&mut e, now, 2, false);
        assert!(!e.sfu.microphone_on(bob).expect("bob"));
        assert!(e.sfu.microphone_on(alice).expect("alice"), "only Bob's");
        media_state(&mut e, now, 2, true);
        assert!(e.sfu.microphone_on(bob).expect("bob"));
        // A moderator's mute is a block, kept apart: Bob's browser then says its microphone is
        // off, and turning it on again lifts both.
        let target = e.conns[&2].participant.clone().expect("bob");
        e.handle_command(
            now,
            Command::Message {
                conn: 1,
                msg: ClientMessage::Mute { target },
            },
        );
        assert!(e.sfu.microphone_on(bob).expect("bob"), "the block alone");
        media_state(&mut e, now, 2, false);
        assert!(!e.sfu.microphone_on(bob).expect("bob"));
        media_state(&mut e, now, 2, true);
        assert!(e.sfu.microphone_on(bob).expect("bob"));
    }

    #[tokio::test]
    async fn media_state_tells_the_core_whether_the_camera_is_on() {
        let mut e = engine();
        let now = Instant::now();
        let (_a, alice) = join(&mut e, now, 1);
        let (_b, bob) = join(&mut e, now, 2);
        assert!(e.sfu.camera_on(bob).expect("bob"), "on by default");
        let state = |audio, video| ClientMessage::MediaState {
            audio,
            video,
            screen: false,
        };
        e.handle_command(
            now,
            Command::Message {
                conn: 2,
                msg: state(true, false),
            },
        );
        assert!(!e.sfu.camera_on(bob).expect("bob"));
        assert!(
            e.sfu.microphone_on(bob).expect("bob"),
            "the microphone apart"
        );
        assert!(e.sfu.camera_on(alice).expect("alice"), "only Bob's");
        e.handle_command(
            now,
            Command::Message {
                conn: 2,
                msg: state(false, true),
            },
        );
        assert!(e.sfu.camera_on(bob).expect("bob"));
        assert!(!e.sfu.microphone_on(bob).expect("bob"));
    }
}
