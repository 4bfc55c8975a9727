//! The signaling side of a synthetic participant, per server kind ("target").
//!
//! [`Session`] is what the media side ([`crate::client`]) talks to: join, publish with an SDP
//! offer, answer the server's offers, leave. [`Target::Webconf`] speaks webconf's protocol
//! (`docs/protocol.md`) over a WebSocket. [`Target::Janus`] speaks Janus's VideoRoom JSON API
//! ([`crate::janus`]), for a side-by-side benchmark. The media side differs in one point only:
//! with Janus, a publisher's subscriptions arrive on a second peer connection
//! ([`Target::separate_subscriber_pc`]).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::view::Tile;

/// Which server the generator loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// webconf's own signaling (`/ws`, `docs/protocol.md`).
    Webconf,
    /// The Janus WebRTC Server's VideoRoom plugin (WebSocket API, `janus-protocol`).
    Janus,
}

impl Target {
    /// Whether a participant that publishes receives on a second peer connection (Janus: one
    /// publisher handle, one subscriber handle) rather than on its single one (webconf).
    pub fn separate_subscriber_pc(self) -> bool {
        self == Target::Janus
    }

    /// Whether a participant that publishes nothing still negotiates a (silent) audio m-line.
    /// webconf: yes, as a browser with its microphone off. Janus: a viewer does not publish.
    pub fn muted_audio_line(self) -> bool {
        self == Target::Webconf
    }
}

/// Why signaling failed.
#[derive(Debug, thiserror::Error)]
pub enum SignalingError {
    /// The URL is not `http://host:port` or `ws://host:port`.
    #[error("bad server URL `{0}`: expected http://host:port (the load test needs tls = \"off\")")]
    BadUrl(String),
    /// The WebSocket could not be opened or broke.
    #[error("websocket: {0}")]
    WebSocket(#[from] tokio_tungstenite::tungstenite::Error),
    /// The server closed the socket.
    #[error("the server closed the signaling socket")]
    Closed,
    /// The server refused something.
    #[error("server error `{code}`: {message}")]
    Refused {
        /// The stable error code.
        code: String,
        /// The server's explanation.
        message: String,
    },
    /// The server did not answer in time.
    #[error("no answer from the server within {0:?}")]
    Timeout(Duration),
    /// The server sent something we cannot read.
    #[error("unreadable server message: {0}")]
    Unreadable(String),
}

/// Where the server is: the WebSocket URL and the `Origin` to present (the server's own).
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `ws://host:port/ws`.
    pub ws_url: String,
    /// `http://host:port`.
    pub origin: String,
}

impl Endpoint {
    /// From the server's base URL (`http://127.0.0.1:8080`, with or without a trailing `/`;
    /// `ws://host:port[/ws]` is accepted too).
    pub fn parse(url: &str) -> Result<Endpoint, SignalingError> {
        let bad = || SignalingError::BadUrl(url.to_owned());
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("ws://"))
            .ok_or_else(bad)?;
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.is_empty() || authority.contains('@') {
            return Err(bad());
        }
        Ok(Endpoint {
            ws_url: format!("ws://{authority}/ws"),
            origin: format!("http://{authority}"),
        })
    }
}

/// A message the participant receives that the media side acts on.
#[derive(Debug)]
pub enum Signal {
    /// The server's answer to our offer.
    Answer(String),
    /// The server offers new or stopped tracks; answer with [`Session::send_answer`].
    Offer(String),
    /// A non-fatal error from the server (logged and counted, not acted on).
    Error(String),
    /// Someone entered the room (webconf's `participant_joined`): its participant id.
    Joined(String),
    /// Someone left the room (webconf's `participant_left`): its participant id.
    Left(String),
    /// Anything else (participants joining, stats, pong).
    Other,
}

/// The signaling session of one participant, whatever the target.
pub enum Session {
    /// webconf (boxed: its WebSocket is large, and the enum moves into each participant).
    Webconf(Box<WebconfSession>),
    /// Janus.
    Janus(crate::janus::JanusSession),
}

impl Session {
    /// Opens the signaling connection and enters `room`. Returns once admitted (`welcome`).
    pub async fn join(
        target: Target,
        endpoint: &Endpoint,
        room: &str,
        name: &str,
        timeout: Duration,
    ) -> Result<Session, SignalingError> {
        match target {
            Target::Webconf => Ok(Session::Webconf(Box::new(
                WebconfSession::join(endpoint, room, name, timeout).await?,
            ))),
            Target::Janus => Ok(Session::Janus(
                crate::janus::JanusSession::join(&endpoint.origin, room, name, timeout).await?,
            )),
        }
    }

    /// Publishes: sends our offer (the server's answer comes back as [`Signal::Answer`]).
    pub async fn send_offer(&mut self, sdp: String) -> Result<(), SignalingError> {
        match self {
            Session::Webconf(s) => s.send(&ClientMessage::Offer { sdp }).await,
            Session::Janus(s) => s.send_offer(sdp),
        }
    }

    /// Answers a server offer.
    pub async fn send_answer(&mut self, sdp: String) -> Result<(), SignalingError> {
        match self {
            Session::Webconf(s) => s.send(&ClientMessage::Answer { sdp }).await,
            Session::Janus(s) => s.send_answer(sdp),
        }
    }

    /// Tells the others what we publish (webconf wants it right after the first offer).
    pub async fn send_media_state(
        &mut self,
        audio: bool,
        video: bool,
    ) -> Result<(), SignalingError> {
        match self {
            Session::Webconf(s) => {
                s.send(&ClientMessage::MediaState {
                    audio,
                    video,
                    screen: false,
                })
                .await
            }
            // Janus has no such message: subscribers learn of publishers from the room.
            Session::Janus(_) => Ok(()),
        }
    }

    /// The participants already in the room when we were admitted (webconf's `welcome`;
    /// empty for Janus, whose roster the generator does not follow).
    pub fn others(&self) -> Vec<String> {
        match self {
            Session::Webconf(s) => s.others.clone(),
            Session::Janus(_) => Vec::new(),
        }
    }

    /// Tells the server what we show (webconf's `view`). Janus has no such message: a no-op.
    pub async fn send_view(&mut self, tiles: Vec<Tile>) -> Result<(), SignalingError> {
        match self {
            Session::Webconf(s) => s.send(&ClientMessage::View { tiles }).await,
            Session::Janus(_) => Ok(()),
        }
    }

    /// An application keep-alive.
    pub async fn keepalive(&mut self) -> Result<(), SignalingError> {
        match self {
            Session::Webconf(s) => s.send(&ClientMessage::Ping).await,
            // The Janus task sends its own session keep-alive every 25 s.
            Session::Janus(_) => Ok(()),
        }
    }

    /// The next message. Cancel-safe (it only reads the stream).
    pub async fn recv(&mut self) -> Result<Signal, SignalingError> {
        match self {
            Session::Webconf(s) => s.recv().await,
            Session::Janus(s) => s.recv().await,
        }
    }

    /// Hangs up and closes the connection.
    pub async fn leave(self) {
        match self {
            Session::Webconf(mut s) => {
                let _ = s.send(&ClientMessage::Leave).await;
                let _ = s.ws.close(None).await;
            }
            Session::Janus(s) => s.leave().await,
        }
    }
}

/// The messages of `docs/protocol.md` this generator sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ClientMessage<'a> {
    Join {
        version: u32,
        room: &'a str,
        name: &'a str,
    },
    Offer {
        sdp: String,
    },
    Answer {
        sdp: String,
    },
    MediaState {
        audio: bool,
        video: bool,
        screen: bool,
    },
    View {
        tiles: Vec<Tile>,
    },
    Ping,
    Leave,
}

/// A participant as the server describes it (we read its id only).
#[derive(Debug, Deserialize, PartialEq)]
pub(crate) struct PeerInfo {
    id: String,
}

/// The messages of `docs/protocol.md` this generator reads; the others are [`ServerMessage::Other`].
#[derive(Debug, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ServerMessage {
    Welcome {
        you: String,
        #[serde(default)]
        participants: Vec<PeerInfo>,
    },
    ParticipantJoined {
        participant: PeerInfo,
    },
    ParticipantLeft {
        id: String,
    },
    Waiting {},
    Answer {
        sdp: String,
    },
    Offer {
        sdp: String,
    },
    RoomEnded {
        reason: String,
    },
    Removed {},
    Error {
        code: String,
        message: String,
        #[serde(default)]
        fatal: bool,
    },
    #[serde(other)]
    Other,
}

/// A webconf signaling WebSocket.
pub struct WebconfSession {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Our participant id, from `welcome`.
    pub you: String,
    /// The others in the room at `welcome`.
    others: Vec<String>,
}

impl WebconfSession {
    async fn join(
        endpoint: &Endpoint,
        room: &str,
        name: &str,
        timeout: Duration,
    ) -> Result<WebconfSession, SignalingError> {
        let mut request = endpoint.ws_url.as_str().into_client_request()?;
        let origin = HeaderValue::from_str(&endpoint.origin)
            .map_err(|_| SignalingError::BadUrl(endpoint.origin.clone()))?;
        request.headers_mut().insert("origin", origin);
        let connect = tokio_tungstenite::connect_async(request);
        let (ws, _) = tokio::time::timeout(timeout, connect)
            .await
            .map_err(|_| SignalingError::Timeout(timeout))??;
        let mut session = WebconfSession {
            ws,
            you: String::new(),
            others: Vec::new(),
        };
        session
            .send(&ClientMessage::Join {
                version: 1,
                room,
                name,
            })
            .await?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let msg = tokio::time::timeout_at(deadline, session.next_message())
                .await
                .map_err(|_| SignalingError::Timeout(timeout))??;
            match msg {
                ServerMessage::Welcome { you, participants } => {
                    session.you = you;
                    session.others = participants.into_iter().map(|p| p.id).collect();
                    return Ok(session);
                }
                ServerMessage::Error { code, message, .. } => {
                    return Err(SignalingError::Refused { code, message })
                }
                ServerMessage::RoomEnded { reason } => {
                    return Err(SignalingError::Refused {
                        code: "room_ended".into(),
                        message: reason,
                    })
                }
                // `waiting`: a guest; only an agent opens the room. Keep waiting.
                _ => {}
            }
        }
    }

    async fn send(&mut self, msg: &ClientMessage<'_>) -> Result<(), SignalingError> {
        let text =
            serde_json::to_string(msg).map_err(|e| SignalingError::Unreadable(e.to_string()))?;
        self.ws.send(Message::text(text)).await?;
        Ok(())
    }

    async fn next_message(&mut self) -> Result<ServerMessage, SignalingError> {
        next_json(&mut self.ws).await
    }

    async fn recv(&mut self) -> Result<Signal, SignalingError> {
        Ok(match self.next_message().await? {
            ServerMessage::Answer { sdp } => Signal::Answer(sdp),
            ServerMessage::Offer { sdp } => Signal::Offer(sdp),
            ServerMessage::ParticipantJoined { participant } => Signal::Joined(participant.id),
            ServerMessage::ParticipantLeft { id } => Signal::Left(id),
            ServerMessage::Error {
                code,
                message,
                fatal: true,
            } => return Err(SignalingError::Refused { code, message }),
            ServerMessage::Error { code, .. } => Signal::Error(code),
            ServerMessage::RoomEnded { reason } => {
                return Err(SignalingError::Refused {
                    code: "room_ended".into(),
                    message: reason,
                })
            }
            ServerMessage::Removed {} => {
                return Err(SignalingError::Refused {
                    code: "removed".into(),
                    message: String::new(),
                })
            }
            _ => Signal::Other,
        })
    }
}

/// The next text frame of `ws`, read as JSON (webconf's or Janus's); pings are answered by
/// tungstenite itself, other frames skipped.
pub(crate) async fn next_json<T: serde::de::DeserializeOwned>(
    ws: &mut WebSocketStream<MaybeTlsStream<TcpStream>>,
) -> Result<T, SignalingError> {
    loop {
        match ws.next().await {
            None => return Err(SignalingError::Closed),
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(text.as_str())
                    .map_err(|e| SignalingError::Unreadable(e.to_string()))
            }
            Some(Ok(Message::Close(_))) => return Err(SignalingError::Closed),
            Some(Ok(_)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_from_base_url() {
        let e = Endpoint::parse("http://127.0.0.1:8080/").expect("parses");
        assert_eq!(e.ws_url, "ws://127.0.0.1:8080/ws");
        assert_eq!(e.origin, "http://127.0.0.1:8080");
        let e = Endpoint::parse("ws://[::1]:9000/ws").expect("parses");
        assert_eq!(e.ws_url, "ws://[::1]:9000/ws");
        for bad in ["https://x:1", "127.0.0.1:80", "http://", "http://u@h:1"] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn client_messages_match_the_protocol() {
        let join = serde_json::to_string(&ClientMessage::Join {
            version: 1,
            room: "load0001abc",
            name: "load 1",
        })
        .unwrap();
        assert_eq!(
            join,
            r#"{"type":"join","version":1,"room":"load0001abc","name":"load 1"}"#
        );
        let ms = serde_json::to_string(&ClientMessage::MediaState {
            audio: true,
            video: false,
            screen: false,
        })
        .unwrap();
        assert_eq!(
            ms,
            r#"{"type":"media_state","audio":true,"video":false,"screen":false}"#
        );
        let view = serde_json::to_string(&ClientMessage::View {
            tiles: vec![Tile {
                participant: "p2".into(),
                screen: false,
                height: 180,
                pinned: false,
            }],
        })
        .unwrap();
        assert_eq!(
            view,
            r#"{"type":"view","tiles":[{"participant":"p2","screen":false,"height":180,"pinned":false}]}"#
        );
        assert_eq!(
            serde_json::to_string(&ClientMessage::Ping).unwrap(),
            r#"{"type":"ping"}"#
        );
    }

    #[test]
    fn server_messages_are_read_or_ignored() {
        let welcome: ServerMessage = serde_json::from_str(
            r#"{"type":"welcome","version":1,"you":"p1","room":"r","role":"moderator","participants":[]}"#,
        )
        .unwrap();
        assert_eq!(
            welcome,
            ServerMessage::Welcome {
                you: "p1".into(),
                participants: vec![]
            }
        );
        let joined: ServerMessage = serde_json::from_str(
            r#"{"type":"participant_joined","participant":{"id":"p2","name":"B","role":"guest","audio":true,"video":true,"screen":false}}"#,
        )
        .unwrap();
        assert_eq!(
            joined,
            ServerMessage::ParticipantJoined {
                participant: PeerInfo { id: "p2".into() }
            }
        );
        let left: ServerMessage =
            serde_json::from_str(r#"{"type":"participant_left","id":"p2"}"#).unwrap();
        assert_eq!(left, ServerMessage::ParticipantLeft { id: "p2".into() });
        let stats: ServerMessage = serde_json::from_str(
            r#"{"type":"stats","bitrate_in":1,"bitrate_out":2,"loss_in":null}"#,
        )
        .unwrap();
        assert_eq!(stats, ServerMessage::Other);
        let err: ServerMessage = serde_json::from_str(
            r#"{"type":"error","code":"server_busy","message":"full","fatal":true}"#,
        )
        .unwrap();
        assert_eq!(
            err,
            ServerMessage::Error {
                code: "server_busy".into(),
                message: "full".into(),
                fatal: true
            }
        );
        assert!(serde_json::from_str::<ServerMessage>(r#"{"type":"offer"}"#).is_err());
    }
}
