//! The Janus target: a synthetic participant in a room of Janus's VideoRoom plugin, over
//! Janus's WebSocket JSON API (subprotocol `janus-protocol`), for a side-by-side benchmark.
//!
//! One participant is one Janus session with up to two plugin handles, as a browser using
//! `janus.js` with Janus 1.x multistream:
//! - a **publisher** handle: `create` the room if needed (error 427 "already exists" is fine),
//!   `join` as publisher, then `configure` with our offer (audio and/or simulcast video);
//! - a **subscriber** handle, attached once another publisher is known: `join` as subscriber
//!   with every known feed (`streams: [{feed}]`), answer Janus's offer with `start`; later
//!   publishers are added with `subscribe`, which makes Janus send a new offer (`updated`).
//!
//! A participant that publishes nothing (a viewer) does not publish at all: it only joins and
//! subscribes. The Janus protocol runs in its own task ([`spawn`]); the participant talks to it
//! through channels, so [`JanusSession::recv`] is cancel-safe. The task sends a `keepalive`
//! every [`KEEPALIVE`].
//!
//! # Invariants
//! - Nothing Janus sends can panic the task: an unreadable message is skipped and counted as a
//!   non-fatal error; a refused `join` or `configure` ends the participant with a clear error.
//! - At most one subscriber negotiation is in flight: feeds that appear meanwhile wait for the
//!   previous `start` to be acknowledged.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::SinkExt;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::signaling::{next_json, Signal, SignalingError};

/// The VideoRoom plugin's package name.
pub const PLUGIN: &str = "janus.plugin.videoroom";
/// The WebSocket subprotocol of Janus's API.
pub const SUBPROTOCOL: &str = "janus-protocol";
/// Interval of the session keep-alive (Janus's default session timeout is 60 s).
pub const KEEPALIVE: Duration = Duration::from_secs(25);
/// Publishers allowed in a room created by the generator (the largest scenario is 100).
pub const ROOM_PUBLISHERS: u32 = 1000;
/// VideoRoom error code: the room already exists (another participant created it first).
pub const ERROR_ROOM_EXISTS: i64 = 427;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A Janus room id from a generator room name: FNV-1a, kept within 53 bits (a JSON number any
/// client reads exactly) and never 0 (Janus would pick a random id).
pub fn room_id(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h & ((1 << 53) - 1)).max(1)
}

/// The WebSocket URL of Janus from the `--url` given (`ws://host:port[/path]` or
/// `http://host:port`): `ws://host:port/`.
pub fn ws_url(url: &str) -> Result<String, SignalingError> {
    let bad = || SignalingError::BadUrl(url.to_owned());
    let rest = url
        .strip_prefix("ws://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(bad)?;
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return Err(bad());
    }
    Ok(format!("ws://{authority}/"))
}

/// A core API request (`create`, `attach`, `message`, `keepalive`, `destroy`, ...).
pub fn request(janus: &str, transaction: &str, session: Option<u64>, handle: Option<u64>) -> Value {
    let mut v = json!({ "janus": janus, "transaction": transaction });
    if let Some(s) = session {
        v["session_id"] = json!(s);
    }
    if let Some(h) = handle {
        v["handle_id"] = json!(h);
    }
    v
}

/// `attach` to the VideoRoom plugin.
pub fn attach(transaction: &str, session: u64) -> Value {
    let mut v = request("attach", transaction, Some(session), None);
    v["plugin"] = json!(PLUGIN);
    v
}

/// A plugin `message` with `body` and an optional JSEP.
pub fn message(
    transaction: &str,
    session: u64,
    handle: u64,
    body: Value,
    jsep: Option<Value>,
) -> Value {
    let mut v = request("message", transaction, Some(session), Some(handle));
    v["body"] = body;
    if let Some(j) = jsep {
        v["jsep"] = j;
    }
    v
}

/// A JSEP object. Our candidates are all in the SDP (`trickle: false`); the simulcast rids are
/// offered lowest first (q, h, f), so `rid_order` is `lmh` (Janus assumes `hml` otherwise).
pub fn jsep(kind: &str, sdp: &str) -> Value {
    json!({ "type": kind, "sdp": sdp, "trickle": false, "rid_order": "lmh" })
}

/// VideoRoom `create`: same codecs as webconf (VP8, Opus), no bitrate cap, no periodic
/// keyframe requests, transport-wide CC on (as webconf uses it for its estimator).
pub fn create_room(room: u64) -> Value {
    json!({
        "request": "create",
        "room": room,
        "publishers": ROOM_PUBLISHERS,
        "videocodec": "vp8",
        "audiocodec": "opus",
        "bitrate": 0,
        "fir_freq": 0,
        "transport_wide_cc_ext": true,
        "notify_joining": false,
    })
}

/// VideoRoom `join` as publisher.
pub fn join_publisher(room: u64, display: &str) -> Value {
    json!({ "request": "join", "ptype": "publisher", "room": room, "display": display })
}

/// VideoRoom `configure` of a publisher (sent with our offer: starts publishing).
pub fn configure(audio: bool, video: bool) -> Value {
    json!({ "request": "configure", "audio": audio, "video": video })
}

fn feeds(ids: &BTreeSet<u64>) -> Value {
    Value::Array(ids.iter().map(|id| json!({ "feed": id })).collect())
}

/// VideoRoom `join` as subscriber to every stream of `ids`.
pub fn join_subscriber(room: u64, private_id: Option<u64>, ids: &BTreeSet<u64>) -> Value {
    let mut v =
        json!({ "request": "join", "ptype": "subscriber", "room": room, "streams": feeds(ids) });
    if let Some(p) = private_id {
        v["private_id"] = json!(p);
    }
    v
}

/// VideoRoom `subscribe` (add feeds to an existing subscription; Janus sends a new offer).
pub fn subscribe(ids: &BTreeSet<u64>) -> Value {
    json!({ "request": "subscribe", "streams": feeds(ids) })
}

/// VideoRoom `start` (sent with the subscriber's answer).
pub fn start() -> Value {
    json!({ "request": "start" })
}

/// A message from Janus, the fields this generator reads.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Incoming {
    /// `success`, `error`, `ack`, `event`, `webrtcup`, `media`, `hangup`, ...
    pub janus: String,
    /// The transaction of the request it answers, if any.
    #[serde(default)]
    pub transaction: Option<String>,
    /// The handle it comes from (events).
    #[serde(default)]
    pub sender: Option<u64>,
    /// `success` of `create`/`attach`: the new id.
    #[serde(default)]
    pub data: Option<IdData>,
    /// A plugin's answer or event.
    #[serde(default)]
    pub plugindata: Option<PluginData>,
    /// An SDP from Janus.
    #[serde(default)]
    pub jsep: Option<Jsep>,
    /// A core `error`.
    #[serde(default)]
    pub error: Option<CoreError>,
}

/// `data` of a `success`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct IdData {
    /// The session or handle id.
    pub id: u64,
}

/// `plugindata`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct PluginData {
    /// The plugin's answer.
    #[serde(default)]
    pub data: Value,
}

/// `jsep`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Jsep {
    /// `offer` or `answer`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The SDP.
    pub sdp: String,
}

/// A core `error`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CoreError {
    /// Janus's error code.
    pub code: i64,
    /// Its explanation.
    #[serde(default)]
    pub reason: String,
}

/// What a VideoRoom answer or event means to a participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomEvent {
    /// `created` (a room).
    Created,
    /// `joined` as publisher: our id, private id, the publishers already there.
    Joined {
        /// Our publisher (feed) id.
        id: u64,
        /// Our private id (subscriptions name it).
        private_id: Option<u64>,
        /// Feeds already publishing.
        publishers: Vec<u64>,
    },
    /// New publishers.
    Publishers(Vec<u64>),
    /// A feed stopped publishing or left.
    Gone(u64),
    /// `attached` (subscriber joined) or `updated` (subscription changed).
    Subscription,
    /// Anything else that is not an error (`configured`, `started`, ...).
    Ok,
    /// A plugin error.
    Error {
        /// VideoRoom error code.
        code: i64,
        /// Its explanation.
        reason: String,
    },
}

fn u64_field(v: &Value, k: &str) -> Option<u64> {
    v.get(k).and_then(Value::as_u64)
}

/// Reads a VideoRoom `plugindata.data`.
pub fn room_event(data: &Value) -> RoomEvent {
    if let Some(code) = data.get("error_code").and_then(Value::as_i64) {
        return RoomEvent::Error {
            code,
            reason: data
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        };
    }
    let publishers = |d: &Value| -> Vec<u64> {
        d.get("publishers")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|p| u64_field(p, "id")).collect())
            .unwrap_or_default()
    };
    match data.get("videoroom").and_then(Value::as_str) {
        Some("created") => RoomEvent::Created,
        Some("joined") => match u64_field(data, "id") {
            Some(id) => RoomEvent::Joined {
                id,
                private_id: u64_field(data, "private_id"),
                publishers: publishers(data),
            },
            None => RoomEvent::Error {
                code: 0,
                reason: "joined without an id".into(),
            },
        },
        Some("attached" | "updated") => RoomEvent::Subscription,
        Some("event") => {
            if data.get("publishers").is_some() {
                return RoomEvent::Publishers(publishers(data));
            }
            // `unpublished` and `leaving` name the feed (or "ok" for ourselves).
            for k in ["unpublished", "leaving"] {
                if let Some(id) = u64_field(data, k) {
                    return RoomEvent::Gone(id);
                }
            }
            RoomEvent::Ok
        }
        _ => RoomEvent::Ok,
    }
}

/// What the participant asks of its Janus task.
#[derive(Debug)]
enum Command {
    /// Publish with this offer.
    Offer(String),
    /// Answer Janus's latest subscriber offer.
    Answer(String),
    /// Leave: destroy the session, close the socket.
    Leave,
}

/// A participant's Janus signaling, seen from the media side.
pub struct JanusSession {
    commands: mpsc::UnboundedSender<Command>,
    signals: mpsc::UnboundedReceiver<Result<Signal, SignalingError>>,
    task: tokio::task::JoinHandle<()>,
    /// Our publisher id in the room.
    pub id: u64,
}

impl JanusSession {
    /// Connects, creates a session, attaches the publisher handle, creates the room if needed
    /// and joins it as publisher. Returns once joined.
    pub async fn join(
        url: &str,
        room_name: &str,
        display: &str,
        timeout: Duration,
    ) -> Result<JanusSession, SignalingError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut req = ws_url(url)?.into_client_request()?;
        req.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static(SUBPROTOCOL),
        );
        let (ws, _) = tokio::time::timeout_at(deadline, tokio_tungstenite::connect_async(req))
            .await
            .map_err(|_| SignalingError::Timeout(timeout))??;
        let mut conn = Conn { ws, next: 0 };
        let room = room_id(room_name);

        let t = conn.txn();
        conn.send(&request("create", &t, None, None)).await?;
        let session = within(deadline, timeout, conn.success(&t)).await?;
        let t = conn.txn();
        conn.send(&attach(&t, session)).await?;
        let handle = within(deadline, timeout, conn.success(&t)).await?;

        // `create` is synchronous: its answer is a `success` with plugindata.
        let t = conn.txn();
        conn.send(&message(&t, session, handle, create_room(room), None))
            .await?;
        let created = within(deadline, timeout, conn.plugin_answer(&t)).await?;
        match room_event(&created) {
            RoomEvent::Error { code, .. } if code == ERROR_ROOM_EXISTS => {}
            RoomEvent::Error { code, reason } => {
                return Err(SignalingError::Refused {
                    code: format!("janus_{code}"),
                    message: reason,
                })
            }
            _ => {}
        }

        let t = conn.txn();
        conn.send(&message(
            &t,
            session,
            handle,
            join_publisher(room, display),
            None,
        ))
        .await?;
        let joined = within(deadline, timeout, conn.plugin_answer(&t)).await?;
        let (id, private_id, publishers) = match room_event(&joined) {
            RoomEvent::Joined {
                id,
                private_id,
                publishers,
            } => (id, private_id, publishers),
            RoomEvent::Error { code, reason } => {
                return Err(SignalingError::Refused {
                    code: format!("janus_{code}"),
                    message: reason,
                })
            }
            other => {
                return Err(SignalingError::Unreadable(format!(
                    "join answered {other:?}"
                )))
            }
        };

        let (commands, command_rx) = mpsc::unbounded_channel();
        let (signal_tx, signals) = mpsc::unbounded_channel();
        let mut task = Task {
            conn,
            session,
            publisher: handle,
            room,
            me: id,
            private_id,
            known: publishers.into_iter().filter(|p| *p != id).collect(),
            subscribed: BTreeSet::new(),
            subscriber: None,
            busy: false,
            attach_txn: None,
            start_txn: None,
            configure_txn: None,
            out: signal_tx,
        };
        let task = tokio::spawn(async move {
            if let Err(e) = task.run(command_rx).await {
                let _ = task.out.send(Err(e));
            }
        });
        Ok(JanusSession {
            commands,
            signals,
            task,
            id,
        })
    }

    /// Publishes with `sdp` (Janus's answer comes back as [`Signal::Answer`]).
    pub fn send_offer(&mut self, sdp: String) -> Result<(), SignalingError> {
        self.commands
            .send(Command::Offer(sdp))
            .map_err(|_| SignalingError::Closed)
    }

    /// Answers Janus's latest subscriber offer.
    pub fn send_answer(&mut self, sdp: String) -> Result<(), SignalingError> {
        self.commands
            .send(Command::Answer(sdp))
            .map_err(|_| SignalingError::Closed)
    }

    /// The next signal. Cancel-safe.
    pub async fn recv(&mut self) -> Result<Signal, SignalingError> {
        match self.signals.recv().await {
            Some(s) => s,
            None => Err(SignalingError::Closed),
        }
    }

    /// Destroys the session and closes the socket (waits at most 2 s).
    pub async fn leave(self) {
        let _ = self.commands.send(Command::Leave);
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(2), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// `f`, or a timeout error at `deadline`.
async fn within<T>(
    deadline: tokio::time::Instant,
    timeout: Duration,
    f: impl std::future::Future<Output = Result<T, SignalingError>>,
) -> Result<T, SignalingError> {
    tokio::time::timeout_at(deadline, f)
        .await
        .map_err(|_| SignalingError::Timeout(timeout))?
}

/// The WebSocket and the transaction counter.
struct Conn {
    ws: Ws,
    next: u64,
}

impl Conn {
    fn txn(&mut self) -> String {
        self.next += 1;
        format!("t{}", self.next)
    }

    async fn send(&mut self, v: &Value) -> Result<(), SignalingError> {
        self.ws.send(Message::text(v.to_string())).await?;
        Ok(())
    }

    /// The next message from Janus; unreadable ones are `Err(Unreadable)`.
    async fn next(&mut self) -> Result<Incoming, SignalingError> {
        next_json(&mut self.ws).await
    }

    /// Waits for the `success` of transaction `t` and returns its id (session or handle).
    async fn success(&mut self, t: &str) -> Result<u64, SignalingError> {
        loop {
            let m = self.next().await?;
            if m.transaction.as_deref() != Some(t) {
                continue;
            }
            match (m.janus.as_str(), m.data, m.error) {
                ("success", Some(d), _) => return Ok(d.id),
                (_, _, Some(e)) => {
                    return Err(SignalingError::Refused {
                        code: format!("janus_{}", e.code),
                        message: e.reason,
                    })
                }
                _ => {
                    return Err(SignalingError::Unreadable(format!(
                        "no id in `{}`",
                        m.janus
                    )))
                }
            }
        }
    }

    /// Waits for the plugin's answer to transaction `t` (a `success` for synchronous requests,
    /// an `event` after an `ack` for asynchronous ones) and returns its `plugindata.data`.
    async fn plugin_answer(&mut self, t: &str) -> Result<Value, SignalingError> {
        loop {
            let m = self.next().await?;
            if m.transaction.as_deref() != Some(t) || m.janus == "ack" {
                continue;
            }
            if let Some(e) = m.error {
                return Err(SignalingError::Refused {
                    code: format!("janus_{}", e.code),
                    message: e.reason,
                });
            }
            return m.plugindata.map(|p| p.data).ok_or_else(|| {
                SignalingError::Unreadable(format!("no plugindata in `{}`", m.janus))
            });
        }
    }
}

/// The Janus side of one participant, in its own task.
struct Task {
    conn: Conn,
    session: u64,
    publisher: u64,
    room: u64,
    me: u64,
    private_id: Option<u64>,
    /// Feeds publishing in the room (not us).
    known: BTreeSet<u64>,
    /// Feeds asked for in our subscription.
    subscribed: BTreeSet<u64>,
    /// The subscriber handle, once attached.
    subscriber: Option<u64>,
    /// A subscriber negotiation is in flight (attach → join/subscribe → offer → start → ack).
    busy: bool,
    attach_txn: Option<String>,
    start_txn: Option<String>,
    configure_txn: Option<String>,
    out: mpsc::UnboundedSender<Result<Signal, SignalingError>>,
}

impl Task {
    async fn run(
        &mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
    ) -> Result<(), SignalingError> {
        let mut keepalive =
            tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
        self.maybe_subscribe().await?;
        loop {
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    None | Some(Command::Leave) => {
                        let t = self.conn.txn();
                        let _ = self.conn.send(&request("destroy", &t, Some(self.session), None)).await;
                        let _ = self.conn.ws.close(None).await;
                        return Ok(());
                    }
                    Some(Command::Offer(sdp)) => {
                        let t = self.conn.txn();
                        let m = message(&t, self.session, self.publisher, configure(true, true), Some(jsep("offer", &sdp)));
                        self.configure_txn = Some(t);
                        self.conn.send(&m).await?;
                    }
                    Some(Command::Answer(sdp)) => {
                        let Some(h) = self.subscriber else { continue };
                        let t = self.conn.txn();
                        let m = message(&t, self.session, h, start(), Some(jsep("answer", &sdp)));
                        self.start_txn = Some(t);
                        self.conn.send(&m).await?;
                    }
                },
                msg = self.conn.next() => match msg {
                    Ok(m) => self.handle(m).await?,
                    Err(SignalingError::Unreadable(e)) => {
                        let _ = self.out.send(Ok(Signal::Error(format!("unreadable: {e}"))));
                    }
                    Err(e) => return Err(e),
                },
                _ = keepalive.tick() => {
                    let t = self.conn.txn();
                    self.conn.send(&request("keepalive", &t, Some(self.session), None)).await?;
                }
            }
        }
    }

    fn signal(&self, s: Signal) {
        let _ = self.out.send(Ok(s));
    }

    async fn handle(&mut self, m: Incoming) -> Result<(), SignalingError> {
        let txn = m.transaction.as_deref();
        // Our subscriber handle is attached.
        if txn.is_some() && txn == self.attach_txn.as_deref() {
            self.attach_txn = None;
            match (m.janus.as_str(), m.data) {
                ("success", Some(d)) => {
                    self.subscriber = Some(d.id);
                    let feeds: BTreeSet<u64> =
                        self.known.difference(&self.subscribed).copied().collect();
                    let t = self.conn.txn();
                    let body = join_subscriber(self.room, self.private_id, &feeds);
                    self.subscribed.extend(feeds);
                    self.conn
                        .send(&message(&t, self.session, d.id, body, None))
                        .await?;
                }
                _ => {
                    let code = m.error.map_or(0, |e| e.code);
                    return Err(SignalingError::Refused {
                        code: format!("janus_{code}"),
                        message: "cannot attach the subscriber handle".into(),
                    });
                }
            }
            return Ok(());
        }
        if m.janus == "error" {
            let code = m.error.map_or(0, |e| e.code);
            self.signal(Signal::Error(format!("janus_{code}")));
            return Ok(());
        }
        if m.janus != "event" && m.janus != "success" {
            // ack, webrtcup, media, slowlink, hangup, trickle, ...
            return Ok(());
        }
        let data = m.plugindata.map(|p| p.data).unwrap_or_default();
        let event = room_event(&data);
        let from_subscriber = m.sender.is_some() && m.sender == self.subscriber;
        let is_configure = txn.is_some() && txn == self.configure_txn.as_deref();
        let is_start = txn.is_some() && txn == self.start_txn.as_deref();
        if let RoomEvent::Error { code, reason } = &event {
            if is_configure {
                return Err(SignalingError::Refused {
                    code: format!("janus_{code}"),
                    message: reason.clone(),
                });
            }
            self.signal(Signal::Error(format!("janus_{code}")));
            if from_subscriber {
                // A subscribe or start failed (a feed left meanwhile): try again with what is left.
                self.busy = false;
                self.start_txn = None;
                self.subscribed.retain(|f| self.known.contains(f));
                self.maybe_subscribe().await?;
            }
            return Ok(());
        }
        match (&m.jsep, from_subscriber) {
            (Some(j), false) if j.kind == "answer" => self.signal(Signal::Answer(j.sdp.clone())),
            (Some(j), true) if j.kind == "offer" => self.signal(Signal::Offer(j.sdp.clone())),
            _ => {}
        }
        match event {
            RoomEvent::Publishers(ids) => {
                self.known.extend(ids.into_iter().filter(|i| *i != self.me));
                self.maybe_subscribe().await?;
            }
            RoomEvent::Gone(id) => {
                self.known.remove(&id);
                self.subscribed.remove(&id);
            }
            RoomEvent::Subscription if from_subscriber && m.jsep.is_none() => {
                // `updated` with nothing to renegotiate.
                self.busy = false;
                self.maybe_subscribe().await?;
            }
            _ if is_start => {
                self.start_txn = None;
                self.busy = false;
                self.maybe_subscribe().await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Subscribes to the known feeds not subscribed yet, unless a negotiation is in flight.
    async fn maybe_subscribe(&mut self) -> Result<(), SignalingError> {
        if self.busy || self.known.is_subset(&self.subscribed) {
            return Ok(());
        }
        self.busy = true;
        let t = self.conn.txn();
        match self.subscriber {
            None => {
                self.attach_txn = Some(t.clone());
                self.conn.send(&attach(&t, self.session)).await
            }
            Some(h) => {
                let feeds: BTreeSet<u64> =
                    self.known.difference(&self.subscribed).copied().collect();
                let body = subscribe(&feeds);
                self.subscribed.extend(feeds);
                self.conn
                    .send(&message(&t, self.session, h, body, None))
                    .await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_ids_are_stable_json_safe_and_distinct() {
        let a = room_id("load123456000");
        assert_eq!(a, room_id("load123456000"));
        assert_ne!(a, room_id("load123456001"));
        assert!(a > 0 && a < (1 << 53));
        assert!(room_id("") > 0);
    }

    #[test]
    fn ws_url_keeps_only_the_authority() {
        assert_eq!(
            ws_url("ws://198.18.0.2:8188").unwrap(),
            "ws://198.18.0.2:8188/"
        );
        assert_eq!(ws_url("http://h:1/janus").unwrap(), "ws://h:1/");
        for bad in ["wss://h:1", "h:1", "ws://", "ws://u@h:1"] {
            assert!(ws_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn requests_match_the_janus_api() {
        assert_eq!(
            request("create", "t1", None, None),
            json!({"janus": "create", "transaction": "t1"})
        );
        assert_eq!(
            attach("t2", 7),
            json!({"janus": "attach", "transaction": "t2", "session_id": 7, "plugin": "janus.plugin.videoroom"})
        );
        assert_eq!(
            request("keepalive", "t3", Some(7), None),
            json!({"janus": "keepalive", "transaction": "t3", "session_id": 7})
        );
        let m = message(
            "t4",
            7,
            9,
            configure(true, true),
            Some(jsep("offer", "v=0")),
        );
        assert_eq!(
            m,
            json!({
                "janus": "message", "transaction": "t4", "session_id": 7, "handle_id": 9,
                "body": {"request": "configure", "audio": true, "video": true},
                "jsep": {"type": "offer", "sdp": "v=0", "trickle": false, "rid_order": "lmh"}
            })
        );
        let c = create_room(42);
        assert_eq!(c["request"], "create");
        assert_eq!(c["room"], 42);
        assert_eq!(c["videocodec"], "vp8");
        assert_eq!(c["audiocodec"], "opus");
        assert!(c["publishers"].as_u64().unwrap() >= 100);
        assert_eq!(
            join_publisher(42, "load 1"),
            json!({"request": "join", "ptype": "publisher", "room": 42, "display": "load 1"})
        );
        let ids: BTreeSet<u64> = [5, 3].into_iter().collect();
        assert_eq!(
            join_subscriber(42, Some(77), &ids),
            json!({"request": "join", "ptype": "subscriber", "room": 42, "private_id": 77,
                   "streams": [{"feed": 3}, {"feed": 5}]})
        );
        assert_eq!(join_subscriber(42, None, &ids).get("private_id"), None);
        assert_eq!(
            subscribe(&ids),
            json!({"request": "subscribe", "streams": [{"feed": 3}, {"feed": 5}]})
        );
        assert_eq!(start(), json!({"request": "start"}));
    }

    #[test]
    fn janus_messages_are_read() {
        let success: Incoming = serde_json::from_str(
            r#"{"janus":"success","transaction":"t1","data":{"id":8123456789}}"#,
        )
        .unwrap();
        assert_eq!(success.data, Some(IdData { id: 8_123_456_789 }));
        let event: Incoming = serde_json::from_str(
            r#"{"janus":"event","session_id":1,"sender":2,"transaction":"t5",
                "plugindata":{"plugin":"janus.plugin.videoroom","data":{"videoroom":"event","room":42,"configured":"ok"}},
                "jsep":{"type":"answer","sdp":"v=0\r\n"}}"#,
        )
        .unwrap();
        assert_eq!(event.sender, Some(2));
        assert_eq!(event.jsep.as_ref().map(|j| j.kind.as_str()), Some("answer"));
        assert_eq!(room_event(&event.plugindata.unwrap().data), RoomEvent::Ok);
        let err: Incoming = serde_json::from_str(
            r#"{"janus":"error","transaction":"t9","error":{"code":458,"reason":"No such session"}}"#,
        )
        .unwrap();
        assert_eq!(err.error.map(|e| e.code), Some(458));
        // Unknown fields and message kinds are fine; a wrong type is an error, not a panic.
        let other: Incoming =
            serde_json::from_str(r#"{"janus":"webrtcup","session_id":1,"sender":2,"x":[1]}"#)
                .unwrap();
        assert_eq!(other.janus, "webrtcup");
        assert!(serde_json::from_str::<Incoming>(r#"{"janus":5}"#).is_err());
        assert!(
            serde_json::from_str::<Incoming>(r#"{"janus":"success","data":{"id":"x"}}"#).is_err()
        );
    }

    #[test]
    fn videoroom_answers_and_events_are_understood() {
        assert_eq!(
            room_event(&json!({"videoroom": "created", "room": 42})),
            RoomEvent::Created
        );
        assert_eq!(
            room_event(
                &json!({"videoroom": "event", "error_code": 427, "error": "Room 42 already exists"})
            ),
            RoomEvent::Error {
                code: 427,
                reason: "Room 42 already exists".into()
            }
        );
        assert_eq!(
            room_event(
                &json!({"videoroom": "joined", "room": 42, "id": 11, "private_id": 99,
                "publishers": [{"id": 5, "display": "load 0", "streams": [{"type": "audio", "mid": "0"}]}, {"display": "no id"}]})
            ),
            RoomEvent::Joined {
                id: 11,
                private_id: Some(99),
                publishers: vec![5]
            }
        );
        assert!(matches!(
            room_event(&json!({"videoroom": "joined"})),
            RoomEvent::Error { .. }
        ));
        assert_eq!(
            room_event(
                &json!({"videoroom": "event", "room": 42, "publishers": [{"id": 6}, {"id": 7}]})
            ),
            RoomEvent::Publishers(vec![6, 7])
        );
        assert_eq!(
            room_event(&json!({"videoroom": "event", "unpublished": 6})),
            RoomEvent::Gone(6)
        );
        assert_eq!(
            room_event(&json!({"videoroom": "event", "leaving": 7})),
            RoomEvent::Gone(7)
        );
        // Our own unpublish says "ok", not an id.
        assert_eq!(
            room_event(&json!({"videoroom": "event", "unpublished": "ok"})),
            RoomEvent::Ok
        );
        assert_eq!(
            room_event(&json!({"videoroom": "attached", "streams": []})),
            RoomEvent::Subscription
        );
        assert_eq!(
            room_event(&json!({"videoroom": "updated"})),
            RoomEvent::Subscription
        );
        assert_eq!(room_event(&json!("garbage")), RoomEvent::Ok);
    }
}
