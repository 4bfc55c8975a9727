//! The signaling messages. `docs/protocol.md` documents each with an example; the browser's
//! mirror is `web/js/protocol.js`.

use serde::{Deserialize, Serialize};

use crate::names::{ParticipantId, RoomName};

/// The protocol version this server speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// A message from the browser.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Enter a room. The room and display names are checked by the server after parsing, so
    /// that each gets its own error code.
    Join {
        /// Protocol version the client speaks.
        version: u32,
        /// Room name, checked with [`RoomName::parse`].
        room: String,
        /// Display name, checked with [`crate::DisplayName::parse`].
        name: String,
        /// The room password, for a guest entering a protected room.
        #[serde(default)]
        password: Option<String>,
    },
    /// Take back one's place after losing the socket (a network change, a short cut): the
    /// first message on a new socket, instead of `join`. The participant keeps its id, role
    /// and media session; the server answers with `welcome` (the room as it is now, then
    /// `hands`, `room_state` and `board_state`), or `resume_failed` and the client joins anew.
    Resume {
        /// Protocol version the client speaks.
        version: u32,
        /// The participant id `welcome` gave.
        participant: ParticipantId,
        /// The secret of the last `session` message.
        token: String,
    },
    /// The client's offer publishing its microphone and camera.
    Offer {
        /// SDP text.
        sdp: String,
    },
    /// The client's answer to the server's last offer.
    Answer {
        /// SDP text.
        sdp: String,
    },
    /// Microphone, camera or screen sharing turned on or off.
    MediaState {
        /// Microphone on.
        audio: bool,
        /// Camera on.
        video: bool,
        /// Sharing a screen.
        #[serde(default)]
        screen: bool,
    },
    /// A chat message to everyone, or privately to `to`.
    Chat {
        /// The text (1 to 2000 characters after trimming).
        text: String,
        /// The recipient of a private message.
        #[serde(default)]
        to: Option<ParticipantId>,
    },
    /// Raise or lower one's hand.
    RaiseHand {
        /// Raised or lowered.
        raised: bool,
    },
    /// An emoji reaction shown briefly to everyone.
    Reaction {
        /// One of [`REACTIONS`].
        emoji: String,
    },
    /// Moderator: stop forwarding a participant's microphone.
    Mute {
        /// Who.
        target: ParticipantId,
    },
    /// Moderator: mute everyone else.
    MuteAll {},
    /// Moderator: stop forwarding a participant's camera.
    CameraOff {
        /// Who.
        target: ParticipantId,
    },
    /// Moderator: remove a participant from the room.
    Remove {
        /// Who.
        target: ParticipantId,
    },
    /// Moderator: make a participant moderator.
    Promote {
        /// Who.
        target: ParticipantId,
    },
    /// Moderator: lower every raised hand.
    LowerHands {},
    /// Moderator: end the meeting for everyone.
    EndMeeting {},
    /// Draw a new object on the whiteboard (or over a shared screen).
    BoardAdd {
        /// The object.
        object: crate::whiteboard::DrawObject,
    },
    /// Move or edit an object.
    BoardUpdate {
        /// The object, with the id of the one it replaces.
        object: crate::whiteboard::DrawObject,
    },
    /// Erase an object.
    BoardRemove {
        /// Its id.
        id: String,
    },
    /// Clear a layer: all of it (moderators) or only one's own drawings (`mine`).
    BoardClear {
        /// Which layer.
        layer: crate::whiteboard::Layer,
        /// Only the sender's own drawings.
        #[serde(default)]
        mine: bool,
    },
    /// Moderator: protect the room with a password, or (`null`) remove the protection.
    SetPassword {
        /// The new password (4 to 128 characters), or `None`.
        password: Option<String>,
    },
    /// What the browser shows of the others and how big, for simulcast and last-N; replaces
    /// the previous view. Checked with [`check_view`].
    View {
        /// The tiles shown (at most [`MAX_VIEW_TILES`]).
        tiles: Vec<ViewTile>,
    },
    /// Hang up.
    Leave {},
    /// Keep-alive; answered by [`ServerMessage::Pong`].
    Ping {},
}

/// One tile of a [`ClientMessage::View`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewTile {
    /// Whose video. An id that is not in the sender's room is ignored.
    pub participant: ParticipantId,
    /// The participant's shared screen rather than its camera.
    #[serde(default)]
    pub screen: bool,
    /// The tile's height in device pixels (0 to [`MAX_VIEW_HEIGHT`]); 0 means hidden: no video.
    pub height: u32,
    /// Pinned by the user: keeps its video whatever last-N says.
    #[serde(default)]
    pub pinned: bool,
}

/// Most tiles in one `view`.
pub const MAX_VIEW_TILES: usize = 200;

/// Largest tile height in a `view` (8K).
pub const MAX_VIEW_HEIGHT: u32 = 4320;

/// Checks a `view`'s bounds; the error says which (for the `bad_view` reply).
pub fn check_view(tiles: &[ViewTile]) -> Result<(), String> {
    if tiles.len() > MAX_VIEW_TILES {
        return Err(format!(
            "a view has at most {MAX_VIEW_TILES} tiles, not {}",
            tiles.len()
        ));
    }
    if let Some((i, tile)) = tiles
        .iter()
        .enumerate()
        .find(|(_, t)| t.height > MAX_VIEW_HEIGHT)
    {
        return Err(format!(
            "tile {i}: height {} is above {MAX_VIEW_HEIGHT}",
            tile.height
        ));
    }
    Ok(())
}

/// The emoji reactions a participant may send.
pub const REACTIONS: [&str; 6] = ["👍", "👏", "😂", "😮", "❤️", "🎉"];

/// Longest chat message, in characters.
pub const MAX_CHAT_CHARS: usize = 2000;

/// Why a frame could not be read as a [`ClientMessage`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// Not valid JSON, not an object, unknown `type`, missing or mistyped field.
    #[error("{0}")]
    BadMessage(String),
}

impl ClientMessage {
    /// Parses one text frame. The error message says what is wrong (for the `error` reply) and
    /// never echoes more than a few bytes of the input.
    pub fn parse(text: &str) -> Result<ClientMessage, ProtocolError> {
        serde_json::from_str(text).map_err(|e| {
            let mut msg = e.to_string();
            msg.truncate(200);
            ProtocolError::BadMessage(msg)
        })
    }
}

/// What the others see of a participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParticipantInfo {
    /// The participant's id (also its WebRTC stream id).
    pub id: ParticipantId,
    /// Display name, as text.
    pub name: String,
    /// Moderator (a State agent) or guest.
    pub role: Role,
    /// Microphone on.
    pub audio: bool,
    /// Camera on.
    pub video: bool,
    /// Sharing a screen.
    pub screen: bool,
}

/// What a participant may do in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A State agent: may open the room and moderate it.
    Moderator,
    /// Anyone else with the link: may join an open room.
    Guest,
}

/// Which device a moderator turned off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKindName {
    /// The microphone.
    Audio,
    /// The camera.
    Video,
}

/// Why a room ends (or a guest's wait does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The last agent left, or a moderator ended the meeting.
    Ended,
    /// A single participant, or no media, for too long.
    Idle,
    /// The room reached its maximum duration.
    MaxDuration,
    /// A waiting guest waited too long for an agent to open the room.
    WaitTimeout,
}

/// A message to the browser.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Answer to `join`.
    Welcome {
        /// Protocol version of the server.
        version: u32,
        /// The new participant's id.
        you: ParticipantId,
        /// The room (normalised name).
        room: RoomName,
        /// This participant's role.
        role: Role,
        /// The others already in the room.
        participants: Vec<ParticipantInfo>,
    },
    /// Sent right after `welcome`: the secret with which this participant may `resume` on a
    /// new socket. Known only to this socket; a new one comes with every `welcome`.
    Session {
        /// 128 random bits, base64url.
        resume_token: String,
    },
    /// Answer to a guest's `join` when no agent has opened the room yet.
    Waiting {
        /// The room waited for.
        room: RoomName,
        /// How long the server lets the guest wait.
        timeout_secs: u64,
    },
    /// The room will close in `in_secs` seconds.
    RoomEnding {
        /// Why.
        reason: EndReason,
        /// Seconds left.
        in_secs: u64,
    },
    /// The room is closed; the socket closes right after.
    RoomEnded {
        /// Why.
        reason: EndReason,
    },
    /// The server's answer to the client's offer.
    Answer {
        /// SDP text.
        sdp: String,
    },
    /// A server offer adding or stopping forwarded tracks.
    Offer {
        /// SDP text.
        sdp: String,
    },
    /// Someone entered the room.
    ParticipantJoined {
        /// Who.
        participant: ParticipantInfo,
    },
    /// Someone's microphone or camera changed.
    ParticipantUpdated {
        /// Who, with the new state.
        participant: ParticipantInfo,
    },
    /// Someone left.
    ParticipantLeft {
        /// Who.
        id: ParticipantId,
    },
    /// A chat message.
    Chat {
        /// Sender.
        from: ParticipantId,
        /// Sender's display name.
        name: String,
        /// The text.
        text: String,
        /// True for a private message.
        private: bool,
        /// Recipient of a private message.
        #[serde(skip_serializing_if = "Option::is_none")]
        to: Option<ParticipantId>,
    },
    /// The raised hands, in the order they were raised.
    Hands {
        /// Participant ids.
        queue: Vec<ParticipantId>,
    },
    /// An emoji reaction.
    Reaction {
        /// Sender.
        from: ParticipantId,
        /// The emoji.
        emoji: String,
    },
    /// A moderator muted this participant's microphone (`audio`) or camera (`video`).
    Muted {
        /// `audio` or `video`.
        kind: MediaKindName,
        /// The moderator's display name.
        by: String,
    },
    /// A moderator removed this participant.
    Removed {
        /// The moderator's display name.
        by: String,
    },
    /// The whole board, for a newcomer (sent after `welcome` when not empty).
    BoardState {
        /// Every object, in drawing order.
        objects: Vec<crate::whiteboard::BoardObject>,
    },
    /// Someone drew an object.
    BoardAdd {
        /// The object and its author.
        object: crate::whiteboard::BoardObject,
    },
    /// Someone moved or edited an object.
    BoardUpdate {
        /// The object and who changed it.
        object: crate::whiteboard::BoardObject,
    },
    /// Someone erased an object.
    BoardRemove {
        /// Its id.
        id: String,
    },
    /// A layer was cleared (only `author`'s drawings when set).
    BoardClear {
        /// Which layer.
        layer: crate::whiteboard::Layer,
        /// Whose drawings, when only one author's were cleared.
        #[serde(skip_serializing_if = "Option::is_none")]
        author: Option<ParticipantId>,
    },
    /// The server's measurement of this participant's media (every 2 s), for the connection
    /// indicator: figures that do not depend on the browser alone.
    Stats {
        /// Media received from this participant, bits per second.
        bitrate_in: u64,
        /// Media sent to this participant, bits per second.
        bitrate_out: u64,
        /// Fraction of this participant's packets lost before reaching the server.
        loss_in: Option<f32>,
        /// Fraction of the server's packets lost before reaching this participant.
        loss_out: Option<f32>,
        /// Round-trip time in milliseconds.
        rtt_ms: Option<u64>,
        /// `udp` or `tcp`.
        transport: Option<String>,
        /// The server's media port in use.
        server_port: Option<u16>,
    },
    /// The room's speakers, from the server's audio levels: sent to the room when the active
    /// speaker changes, and to a newcomer after `welcome` when known.
    Speakers {
        /// The active speaker.
        active: ParticipantId,
        /// The latest speakers, most recent first (`active` included).
        recent: Vec<ParticipantId>,
    },
    /// What this participant's microphone slots carry (docs/protocol.md, `slots`): sent when
    /// it changes, and again after `resume`.
    Slots {
        /// Every slot, in the order opened.
        slots: Vec<Slot>,
    },
    /// The room's protection.
    RoomState {
        /// Protected by a password.
        locked: bool,
    },
    /// Answer to `ping`.
    Pong,
    /// A refused message.
    Error {
        /// Stable machine-readable code.
        code: ErrorCode,
        /// Explanation for logs and developers.
        message: String,
        /// Whether the server closes the socket right after.
        fatal: bool,
    },
}

/// The stable error codes of [`ServerMessage::Error`]; see the table in `docs/protocol.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, unknown type, missing or mistyped field, binary frame.
    BadMessage,
    /// Frame above the size cap.
    TooLarge,
    /// Too many messages per second.
    RateLimited,
    /// Unknown protocol version.
    UnsupportedVersion,
    /// The room name breaks the rule.
    BadRoomName,
    /// The display name is refused.
    BadName,
    /// A message that needs `join` first.
    NotJoined,
    /// A second `join`.
    AlreadyJoined,
    /// The media server refused an offer or answer.
    BadSdp,
    /// An answer with no outstanding server offer.
    UnexpectedAnswer,
    /// The server cannot take one more participant.
    ServerBusy,
    /// The room is protected and no password was given.
    PasswordRequired,
    /// The password is wrong.
    WrongPassword,
    /// A moderator action from a guest.
    Forbidden,
    /// The target participant is not in the room.
    NotFound,
    /// A client offer while a server offer awaits its answer.
    RenegotiationInProgress,
    /// A whiteboard object out of bounds, or an unknown/duplicate id.
    BadDrawing,
    /// The whiteboard reached its size cap.
    BoardFull,
    /// A `view` with too many tiles or a height out of bounds.
    BadView,
    /// A `resume` that cannot be honoured (the participant is gone, the secret is wrong, or
    /// the client's network no longer gives it the same rights): `join` instead.
    ResumeFailed,
}

impl ServerMessage {
    /// Builds an error reply.
    pub fn error(code: ErrorCode, message: impl Into<String>, fatal: bool) -> ServerMessage {
        ServerMessage::Error {
            code,
            message: message.into(),
            fatal,
        }
    }

    /// Serialises to the JSON text sent on the WebSocket.
    pub fn to_json(&self) -> String {
        // Serialising these plain types cannot fail; fall back to a fixed error just in case.
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"type":"error","code":"bad_message","message":"internal","fatal":false}"#.into()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_client_message() {
        let join = ClientMessage::parse(
            r#"{"type":"join","version":1,"room":"reunion2024abc","name":"Alice"}"#,
        );
        assert_eq!(
            join,
            Ok(ClientMessage::Join {
                version: 1,
                room: "reunion2024abc".into(),
                name: "Alice".into(),
                password: None,
            })
        );
        assert!(matches!(
            ClientMessage::parse(r#"{"type":"offer","sdp":"v=0"}"#),
            Ok(ClientMessage::Offer { .. })
        ));
        assert!(matches!(
            ClientMessage::parse(r#"{"type":"answer","sdp":"v=0"}"#),
            Ok(ClientMessage::Answer { .. })
        ));
        assert_eq!(
            ClientMessage::parse(r#"{"type":"media_state","audio":false,"video":true}"#),
            Ok(ClientMessage::MediaState {
                audio: false,
                video: true,
                screen: false
            })
        );
        match ClientMessage::parse(
            r#"{"type":"resume","version":1,"participant":"p00000000000000ab","token":"abc"}"#,
        ) {
            Ok(ClientMessage::Resume {
                version: 1,
                participant,
                token,
            }) => {
                assert_eq!(participant.as_str(), "p00000000000000ab");
                assert_eq!(token, "abc");
            }
            other => panic!("resume: {other:?}"),
        }
        assert!(
            ClientMessage::parse(r#"{"type":"resume","version":1,"participant":"p1"}"#).is_err()
        );
        assert_eq!(
            ClientMessage::parse(r#"{"type":"leave"}"#),
            Ok(ClientMessage::Leave {})
        );
        assert_eq!(
            ClientMessage::parse(r#"{"type":"ping"}"#),
            Ok(ClientMessage::Ping {})
        );
    }

    #[test]
    fn refuses_bad_messages_with_a_reason() {
        for bad in [
            "",
            "{",
            "[]",
            "42",
            r#"{"type":"dance"}"#,
            r#"{"sdp":"v=0"}"#,
            r#"{"type":"offer"}"#,
            r#"{"type":"offer","sdp":5}"#,
            r#"{"type":"media_state","audio":"yes","video":true}"#,
            r#"{"type":"leave","extra":1}"#,
        ] {
            let err = ClientMessage::parse(bad).expect_err(bad);
            let ProtocolError::BadMessage(msg) = err;
            assert!(!msg.is_empty(), "{bad}");
        }
        let ProtocolError::BadMessage(msg) =
            ClientMessage::parse(r#"{"type":"dance"}"#).expect_err("unknown type");
        assert!(msg.contains("dance"), "{msg}");
    }

    #[test]
    fn server_messages_serialise_as_documented() {
        let msg = ServerMessage::error(ErrorCode::BadMessage, "unknown type", false);
        assert_eq!(
            msg.to_json(),
            r#"{"type":"error","code":"bad_message","message":"unknown type","fatal":false}"#
        );
        assert_eq!(ServerMessage::Pong.to_json(), r#"{"type":"pong"}"#);
        let left = ServerMessage::ParticipantLeft {
            id: ParticipantId::random(),
        };
        assert!(left
            .to_json()
            .starts_with(r#"{"type":"participant_left","id":"p"#));
    }

    #[test]
    fn parses_and_checks_views() {
        let msg = ClientMessage::parse(
            r#"{"type":"view","tiles":[{"participant":"p0c1d2e3f40516273","screen":false,"height":360,"pinned":true},{"participant":"p7f3a09c2d18e4b65","height":0}]}"#,
        )
        .expect("view");
        let ClientMessage::View { tiles } = msg else {
            panic!("not a view: {msg:?}")
        };
        assert_eq!(tiles.len(), 2);
        assert_eq!(tiles[0].participant.as_str(), "p0c1d2e3f40516273");
        assert_eq!(
            (tiles[0].screen, tiles[0].height, tiles[0].pinned),
            (false, 360, true)
        );
        assert_eq!(
            (tiles[1].screen, tiles[1].height, tiles[1].pinned),
            (false, 0, false)
        );
        assert_eq!(check_view(&tiles), Ok(()));
        assert_eq!(
            ClientMessage::parse(r#"{"type":"view","tiles":[]}"#),
            Ok(ClientMessage::View { tiles: vec![] })
        );

        for bad in [
            r#"{"type":"view"}"#,
            r#"{"type":"view","tiles":{}}"#,
            r#"{"type":"view","tiles":[{"participant":"p1"}]}"#,
            r#"{"type":"view","tiles":[{"participant":"p1","height":-1}]}"#,
            r#"{"type":"view","tiles":[{"participant":"p1","height":"big"}]}"#,
            r#"{"type":"view","tiles":[{"participant":"p1","height":10,"volume":3}]}"#,
            r#"{"type":"view","tiles":[{"height":10}]}"#,
        ] {
            assert!(ClientMessage::parse(bad).is_err(), "{bad}");
        }

        let tile = |height| ViewTile {
            participant: ParticipantId::random(),
            screen: false,
            height,
            pinned: false,
        };
        assert_eq!(check_view(&[tile(MAX_VIEW_HEIGHT), tile(0)]), Ok(()));
        let err = check_view(&[tile(10), tile(MAX_VIEW_HEIGHT + 1)]).expect_err("too high");
        assert!(err.contains("tile 1") && err.contains("4321"), "{err}");
        let many: Vec<ViewTile> = (0..=MAX_VIEW_TILES).map(|_| tile(180)).collect();
        assert!(check_view(&many)
            .expect_err("too many")
            .contains("at most 200"));
        assert_eq!(check_view(&many[..MAX_VIEW_TILES]), Ok(()));
    }

    #[test]
    fn speakers_serialise_as_documented() {
        let a = ParticipantId::random();
        let b = ParticipantId::random();
        let msg = ServerMessage::Speakers {
            active: a.clone(),
            recent: vec![a.clone(), b.clone()],
        };
        assert_eq!(
            msg.to_json(),
            format!(r#"{{"type":"speakers","active":"{a}","recent":["{a}","{b}"]}}"#)
        );
        let err = ServerMessage::error(ErrorCode::BadView, "x", false).to_json();
        assert!(err.contains(r#""code":"bad_view""#), "{err}");
    }
}

/// One microphone slot of a participant's media session: see [`ServerMessage::Slots`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// The slot's `a=mid` in the server's offers.
    pub mid: String,
    /// The participant whose microphone it carries now; `null`: none.
    pub participant: Option<ParticipantId>,
}
