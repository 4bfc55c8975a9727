//! The signaling WebSocket: origin check before the upgrade, then one task per socket that
//! enforces the size cap and the rate limit, parses frames, forwards well-formed messages to the
//! engine and writes the engine's replies. Bad input is answered here and never reaches the
//! engine, so it cannot change any room.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;
use tracing::debug;
use webconf_room::{ClientMessage, ErrorCode, ServerMessage};

/// The close code of a browser giving up a socket it believes dead (docs/protocol.md): its
/// participant keeps its place for a `resume`, as when the socket breaks.
pub const DEAD_LINK_CLOSE: u16 = 4000;

use crate::engine::{Command, ConnId, Outgoing, Peer};
use crate::http::AppState;

/// Messages a browser may send per second on average.
const RATE_PER_SEC: f64 = 50.0;
/// Burst allowance above the average.
const RATE_BURST: f64 = 100.0;
/// A message costs one unit of the rate, plus one per this many bytes: big messages (SDP in
/// large rooms) are allowed, but not fast.
const RATE_BYTES_PER_UNIT: usize = 65536;
/// How long a closing socket waits for the browser's close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(1);
/// Depth of a socket's outgoing queue; a browser that lets it fill up is disconnected.
const OUTGOING_QUEUE: usize = 256;

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

/// The read buffer of each signaling socket, bytes.
const WS_READ_BUFFER: usize = 8 * 1024;

/// `GET /ws`: checks the origin, then upgrades.
pub async fn handler(
    State(state): State<AppState>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&state, &headers) {
        debug!("websocket refused: origin not allowed");
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let id = crate::identity::identify(&state.auth, remote, &headers, Instant::now());
    let peer = Peer {
        ip: id.ip,
        agent: id.is_agent(),
    };
    let cap = state.config.signaling.max_message_bytes;
    // Frames between our cap and this hard limit are read and refused politely (`too_large`);
    // beyond it the library drops the connection without reading the rest.
    let hard_limit = cap.saturating_mul(4).max(1 << 20);
    ws.max_message_size(hard_limit)
        .max_frame_size(hard_limit)
        // tungstenite reads into a 128 KiB buffer per socket by default: more than all of a
        // participant's media state. Signaling messages are small; a big one (an SDP of a
        // large room) is read in several chunks.
        .read_buffer_size(WS_READ_BUFFER)
        .on_upgrade(move |socket| serve(state, peer, socket))
}

/// True when the `Origin` header is the service's own origin or an allowed one. A missing
/// `Origin` is refused: browsers always send it, and nothing else needs the signaling socket.
pub fn origin_allowed(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    if state
        .config
        .http
        .allowed_origins
        .iter()
        .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(&origin))
    {
        return true;
    }
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    let own = |scheme: &str| origin == format!("{scheme}://{host}");
    // Behind a TLS-terminating proxy the browser's origin is https while we serve http.
    own("https") || (!state.tls && own("http"))
}

/// A token bucket: `RATE_PER_SEC` on average, `RATE_BURST` at once.
struct RateLimit {
    tokens: f64,
    last: Instant,
}

impl RateLimit {
    fn new(now: Instant) -> RateLimit {
        RateLimit {
            tokens: RATE_BURST,
            last: now,
        }
    }

    /// Takes the cost of a message of `len` bytes, if there is enough left.
    fn allow(&mut self, now: Instant, len: usize) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * RATE_PER_SEC).min(RATE_BURST);
        let cost = 1.0 + (len / RATE_BYTES_PER_UNIT) as f64;
        if self.tokens >= cost {
            self.tokens -= cost;
            true
        } else {
            false
        }
    }
}

async fn serve(state: AppState, peer: Peer, mut socket: WebSocket) {
    let conn: ConnId = NEXT_CONN.fetch_add(1, Ordering::Relaxed);
    let (tx, mut rx) = mpsc::channel(OUTGOING_QUEUE);
    if state
        .commands
        .send(Command::Connect { conn, peer, tx })
        .await
        .is_err()
    {
        return;
    }
    let cfg = &state.config.signaling;
    let cap = cfg.max_message_bytes;
    let idle = Duration::from_secs(cfg.idle_timeout_secs);
    let mut ping = tokio::time::interval(Duration::from_secs(cfg.ping_interval_secs));
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_seen = Instant::now();
    let mut rate = RateLimit::new(last_seen);
    // The socket broke (no closing handshake either way): its participant may come back with
    // `resume`, so the engine keeps its place for a while.
    let mut broken = false;

    loop {
        tokio::select! {
            frame = socket.recv() => {
                let Some(Ok(frame)) = frame else {
                    broken = true;
                    break;
                };
                let now = Instant::now();
                last_seen = now;
                match frame {
                    Message::Text(text) => {
                        if text.len() > cap {
                            let msg = format!("messages are limited to {cap} bytes");
                            let _ = send(&mut socket, &ServerMessage::error(ErrorCode::TooLarge, msg, true)).await;
                            let _ = close(&mut socket, 1009, "message too large").await;
                            break;
                        }
                        if !rate.allow(now, text.len()) {
                            let err = ServerMessage::error(ErrorCode::RateLimited, "too many messages; slow down", false);
                            if send(&mut socket, &err).await.is_err() { break }
                            continue;
                        }
                        match ClientMessage::parse(text.as_str()) {
                            Ok(msg) => {
                                if state.commands.send(Command::Message { conn, msg }).await.is_err() { break }
                            }
                            Err(e) => {
                                let err = ServerMessage::error(ErrorCode::BadMessage, e.to_string(), false);
                                if send(&mut socket, &err).await.is_err() { break }
                            }
                        }
                    }
                    Message::Binary(_) => {
                        let err = ServerMessage::error(ErrorCode::BadMessage, "binary frames are not part of the protocol", false);
                        if send(&mut socket, &err).await.is_err() { break }
                    }
                    // 4000 "dead link": the browser gave up a socket it believes dead (its
                    // network changed) and is taking its place back on another one.
                    Message::Close(frame) => {
                        broken = frame.is_some_and(|f| f.code == DEAD_LINK_CLOSE);
                        break;
                    }
                    Message::Ping(_) | Message::Pong(_) => {}
                }
            }
            out = rx.recv() => match out {
                Some(Outgoing::Message(msg)) => {
                    if send(&mut socket, &msg).await.is_err() { break }
                }
                Some(Outgoing::Close(code, reason)) => {
                    let _ = close(&mut socket, code, reason).await;
                    break;
                }
                // The engine dropped us (queue overflow).
                None => {
                    let _ = close(&mut socket, 1008, "too slow").await;
                    break;
                }
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() { break }
            }
            // The deadline moves with every frame received (pongs included), so a browser that
            // vanished is dropped `idle` after its last sign of life, not a ping period later.
            () = tokio::time::sleep_until((last_seen + idle).into()) => {
                debug!(conn, "no sign of life; closing");
                let _ = close(&mut socket, 1001, "idle").await;
                break;
            }
        }
    }
    let _ = state
        .commands
        .send(Command::Disconnect { conn, broken })
        .await;
}

async fn send(socket: &mut WebSocket, msg: &ServerMessage) -> Result<(), axum::Error> {
    socket
        .send(Message::Text(Utf8Bytes::from(msg.to_json())))
        .await
}

/// Sends a close frame, then lets the browser answer it (at most [`CLOSE_WAIT`]): a socket
/// dropped at once, with the browser's reply or the rest of a big frame still coming, is reset,
/// and the browser then sees 1006 instead of our code.
async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) -> Result<(), axum::Error> {
    socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        })))
        .await?;
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        while let Some(Ok(frame)) = socket.recv().await {
            if matches!(frame, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use axum::http::HeaderValue;
    use std::sync::Arc;

    fn state(tls: bool, allowed: &[&str]) -> AppState {
        let mut config = Config::default();
        config.http.allowed_origins = allowed.iter().map(|s| s.to_string()).collect();
        let (commands, _rx) = mpsc::channel(1);
        let auth = Arc::new(crate::auth::AuthState::new(&config).expect("auth state"));
        let pages = Arc::new(crate::pages::Pages::load(&config).expect("pages"));
        AppState {
            config: Arc::new(config),
            tls,
            commands,
            auth,
            pages,
        }
    }

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).expect("host"));
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).expect("origin"));
        }
        h
    }

    #[test]
    fn own_origin_is_allowed_others_are_not() {
        let s = state(true, &[]);
        assert!(origin_allowed(
            &s,
            &headers(Some("https://127.0.0.1:8443"), "127.0.0.1:8443")
        ));
        assert!(origin_allowed(
            &s,
            &headers(Some("https://LOCALHOST:8443"), "localhost:8443")
        ));
        assert!(!origin_allowed(
            &s,
            &headers(Some("https://evil.example"), "127.0.0.1:8443")
        ));
        assert!(!origin_allowed(
            &s,
            &headers(Some("https://127.0.0.1:9999"), "127.0.0.1:8443")
        ));
        assert!(!origin_allowed(
            &s,
            &headers(Some("http://127.0.0.1:8443"), "127.0.0.1:8443")
        ));
        assert!(!origin_allowed(
            &s,
            &headers(Some("null"), "127.0.0.1:8443")
        ));
        assert!(!origin_allowed(&s, &headers(None, "127.0.0.1:8443")));
    }

    #[test]
    fn configured_origins_and_proxy_mode() {
        let s = state(false, &["https://webconf.example.gouv.fr"]);
        assert!(origin_allowed(
            &s,
            &headers(Some("https://webconf.example.gouv.fr"), "10.0.0.5:8080")
        ));
        // Behind a TLS-terminating proxy that keeps the Host header.
        assert!(origin_allowed(
            &s,
            &headers(Some("https://meet.example:8080"), "meet.example:8080")
        ));
        assert!(origin_allowed(
            &s,
            &headers(Some("http://meet.example:8080"), "meet.example:8080")
        ));
        assert!(!origin_allowed(
            &s,
            &headers(Some("https://evil.example"), "meet.example:8080")
        ));
    }

    #[test]
    fn rate_limit_allows_bursts_then_the_average() {
        let t0 = Instant::now();
        let mut r = RateLimit::new(t0);
        let allowed = (0..200).filter(|_| r.allow(t0, 100)).count();
        assert_eq!(allowed, RATE_BURST as usize);
        assert!(!r.allow(t0, 100));
        // One second later, about RATE_PER_SEC more.
        let t1 = t0 + Duration::from_secs(1);
        let allowed = (0..200).filter(|_| r.allow(t1, 100)).count();
        assert_eq!(allowed, RATE_PER_SEC as usize);
    }

    #[test]
    fn big_messages_cost_more() {
        let t0 = Instant::now();
        let mut r = RateLimit::new(t0);
        // 1 MiB costs 17 units: five of them fit in the burst of 100, not six.
        let allowed = (0..10).filter(|_| r.allow(t0, 1 << 20)).count();
        assert_eq!(allowed, 5);
        // A small one still passes in what is left.
        assert!(r.allow(t0, 10));
    }
}
