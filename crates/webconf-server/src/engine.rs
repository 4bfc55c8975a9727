//! The engine: one tokio task that owns the room registry and the media core, and is the only
//! place either is changed. It applies one input at a time (a signaling message, a datagram, a
//! timer), then drains the core's outputs, like str0m's run loop.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};
use webconf_media::{PeerId, RoomId, Sfu, SfuError, SfuOutput};
use webconf_room::protocol::PROTOCOL_VERSION;
use webconf_room::{ClientMessage, DisplayName, ErrorCode, ParticipantId, RoomName, Rooms, ServerMessage};

/// A connection's identity inside the engine; also its media peer id.
pub type ConnId = u64;

/// What the engine asks a WebSocket task to do.
#[derive(Debug)]
pub enum Outgoing {
    /// Send this message.
    Message(ServerMessage),
    /// Close the socket with this code and reason.
    Close(u16, &'static str),
}

/// A signaling event for the engine, from a WebSocket task.
#[derive(Debug)]
pub enum Command {
    /// A socket was accepted; `tx` reaches it.
    Connect {
        /// Its id.
        conn: ConnId,
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
    },
}

/// A UDP datagram for the engine, from a socket reader task.
#[derive(Debug)]
pub struct Datagram {
    /// When it was read.
    pub at: Instant,
    /// The local socket address it arrived on.
    pub local: SocketAddr,
    /// The sender.
    pub remote: SocketAddr,
    /// The bytes.
    pub data: Vec<u8>,
}

struct Conn {
    tx: mpsc::Sender<Outgoing>,
    participant: Option<ParticipantId>,
}

/// The state the engine task owns.
pub struct Engine {
    rooms: Rooms,
    sfu: Sfu,
    conns: HashMap<ConnId, Conn>,
    by_participant: HashMap<ParticipantId, ConnId>,
    sockets: HashMap<SocketAddr, Arc<UdpSocket>>,
    max_participants: usize,
    dropped_datagrams: u64,
}

impl Engine {
    /// Builds the engine over the bound media sockets.
    pub fn new(sfu: Sfu, sockets: HashMap<SocketAddr, Arc<UdpSocket>>, max_participants: usize) -> Engine {
        Engine {
            rooms: Rooms::new(),
            sfu,
            conns: HashMap::new(),
            by_participant: HashMap::new(),
            sockets,
            max_participants,
            dropped_datagrams: 0,
        }
    }

    /// Runs until both input channels are closed.
    pub async fn run(mut self, mut commands: mpsc::Receiver<Command>, mut datagrams: mpsc::Receiver<Datagram>) {
        loop {
            let deadline = self.sfu.poll_timeout();
            let sleep = async {
                match deadline {
                    Some(t) => tokio::time::sleep_until(t.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    Some(cmd) => self.handle_command(Instant::now(), cmd),
                    None => break,
                },
                Some(dg) = datagrams.recv() => self.handle_datagram(dg),
                () = sleep => self.sfu.handle_timeout(Instant::now()),
            }
            self.flush(Instant::now());
        }
        info!("engine stopped");
    }

    fn handle_datagram(&mut self, dg: Datagram) {
        match self.sfu.handle_datagram(dg.at, dg.remote, dg.local, &dg.data) {
            Ok(()) => {}
            Err(SfuError::Unroutable(_)) | Err(SfuError::BadDatagram) => {
                self.dropped_datagrams += 1;
                if self.dropped_datagrams.is_power_of_two() {
                    debug!(count = self.dropped_datagrams, "dropped datagrams that belong to no participant");
                }
            }
            Err(e) => debug!("datagram: {e}"),
        }
    }

    /// Applies one signaling command.
    pub fn handle_command(&mut self, now: Instant, cmd: Command) {
        match cmd {
            Command::Connect { conn, tx } => {
                self.conns.insert(conn, Conn { tx, participant: None });
            }
            Command::Disconnect { conn } => {
                self.remove_participant(now, conn);
                self.conns.remove(&conn);
            }
            Command::Message { conn, msg } => self.handle_message(now, conn, msg),
        }
    }

    fn handle_message(&mut self, now: Instant, conn: ConnId, msg: ClientMessage) {
        let joined = self.conns.get(&conn).and_then(|c| c.participant.clone());
        match (msg, joined) {
            (ClientMessage::Ping {}, _) => self.send(conn, ServerMessage::Pong),
            (ClientMessage::Join { version, room, name }, None) => self.join(now, conn, version, &room, &name),
            (ClientMessage::Join { .. }, Some(_)) => {
                self.send_error(conn, ErrorCode::AlreadyJoined, "this socket already joined a room", false)
            }
            (_, None) => self.send_error(conn, ErrorCode::NotJoined, "send `join` first", false),
            (ClientMessage::Offer { sdp }, Some(_)) => match self.sfu.handle_offer(now, PeerId(conn), &sdp) {
                Ok(answer) => self.send(conn, ServerMessage::Answer { sdp: answer }),
                Err(e) => self.send_error(conn, ErrorCode::BadSdp, e.to_string(), false),
            },
            (ClientMessage::Answer { sdp }, Some(_)) => match self.sfu.handle_answer(now, PeerId(conn), &sdp) {
                Ok(()) => {}
                Err(SfuError::UnexpectedAnswer(_)) => {
                    self.send_error(conn, ErrorCode::UnexpectedAnswer, "no offer is waiting for an answer", false)
                }
                Err(e) => self.send_error(conn, ErrorCode::BadSdp, e.to_string(), false),
            },
            (ClientMessage::MediaState { audio, video }, Some(pid)) => {
                let outbox = self.rooms.set_media_state(&pid, audio, video);
                self.deliver(outbox);
            }
            (ClientMessage::Leave {}, Some(_)) => {
                self.remove_participant(now, conn);
                self.close(conn, 1000, "left");
            }
        }
    }

    fn join(&mut self, now: Instant, conn: ConnId, version: u32, room: &str, name: &str) {
        if version != PROTOCOL_VERSION {
            let msg = format!("this server speaks protocol version {PROTOCOL_VERSION}; reload the page");
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
            self.send_error(conn, ErrorCode::ServerBusy, "the server is full; try again later", true);
            self.close(conn, 1013, "server busy");
            return;
        }
        let pid = ParticipantId::random();
        let (joined, _) = self.rooms.join(room.clone(), pid.clone(), name);
        if let Err(e) = self.sfu.add_peer(now, PeerId(conn), RoomId(joined.media_key), pid.to_string()) {
            warn!("cannot create a media session: {e}");
            if let Some(left) = self.rooms.leave(&pid) {
                self.deliver(left.outbox);
            }
            self.send_error(conn, ErrorCode::ServerBusy, "the media server cannot take you now", true);
            self.close(conn, 1011, "media unavailable");
            return;
        }
        if let Some(c) = self.conns.get_mut(&conn) {
            c.participant = Some(pid.clone());
        }
        self.by_participant.insert(pid, conn);
        if joined.created {
            info!(participants = self.rooms.participant_count(), rooms = self.rooms.room_count(), "room opened");
        }
        self.send(conn, joined.welcome);
        self.deliver(joined.outbox);
    }

    /// Takes a connection's participant out of its room and its media session out of the core.
    fn remove_participant(&mut self, now: Instant, conn: ConnId) {
        let Some(pid) = self.conns.get_mut(&conn).and_then(|c| c.participant.take()) else {
            return;
        };
        self.by_participant.remove(&pid);
        if let Err(e) = self.sfu.remove_peer(now, PeerId(conn)) {
            debug!("removing media session: {e}");
        }
        if let Some(left) = self.rooms.leave(&pid) {
            if left.closed {
                info!(rooms = self.rooms.room_count(), "room closed");
            }
            self.deliver(left.outbox);
        }
    }

    /// Drains the core: datagrams to the sockets, offers to the browsers, dead peers out.
    pub fn flush(&mut self, now: Instant) {
        while let Some(out) = self.sfu.poll_output() {
            match out {
                SfuOutput::Transmit { source, destination, contents } => {
                    if let Some(sock) = self.sockets.get(&source) {
                        // A full send buffer drops the datagram: one slow path must not stall
                        // the loop that serves every other participant.
                        if let Err(e) = sock.try_send_to(&contents, destination) {
                            debug!("send to {destination} failed: {e}");
                        }
                    }
                }
                SfuOutput::Offer { peer, sdp } => self.send(peer.0, ServerMessage::Offer { sdp }),
                SfuOutput::Connected { peer } => debug!("{peer}: media connected"),
                SfuOutput::Dead { peer } => {
                    info!("{peer}: media session ended; removing the participant");
                    self.remove_participant(now, peer.0);
                    self.close(peer.0, 1011, "media session ended");
                }
            }
        }
    }

    fn deliver(&mut self, outbox: webconf_room::Outbox) {
        for (pid, msg) in outbox {
            if let Some(conn) = self.by_participant.get(&pid).copied() {
                self.send(conn, msg);
            }
        }
    }

    fn send_error(&mut self, conn: ConnId, code: ErrorCode, message: impl Into<String>, fatal: bool) {
        self.send(conn, ServerMessage::error(code, message, fatal));
    }

    fn send(&mut self, conn: ConnId, msg: ServerMessage) {
        self.push(conn, Outgoing::Message(msg));
    }

    fn close(&mut self, conn: ConnId, code: u16, reason: &'static str) {
        self.push(conn, Outgoing::Close(code, reason));
    }

    fn push(&mut self, conn: ConnId, out: Outgoing) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        if c.tx.try_send(out).is_err() {
            // The browser does not read its socket (or it is gone): drop it rather than
            // buffer without bound. Its task sees the channel close and ends.
            warn!(conn, "signaling queue full or closed; disconnecting");
            self.remove_participant(Instant::now(), conn);
            self.conns.remove(&conn);
        }
    }
}
