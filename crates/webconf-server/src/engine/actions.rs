//! The engine's handling of what happens inside a room: chat, hands, reactions, moderator
//! controls and room passwords. The rules live in `webconf_room`; this maps them to messages,
//! and runs the slow password hashing off the loop.

use std::net::IpAddr;
use std::time::Instant;

use tracing::warn;
use webconf_access::ratelimit::ip_key;
use webconf_room::moderation::PASSWORD_CHARS;
use webconf_room::whiteboard::BoardError;
use webconf_room::{
    ActionError, ClientMessage, DisplayName, Effects, ErrorCode, ModeratorAction, ParticipantId,
    RoomName,
};

use super::{Command, ConnId, Engine};

impl Engine {
    /// A message of a participant who is in a room, other than media and signaling ones.
    pub(super) fn handle_room_action(
        &mut self,
        now: Instant,
        conn: ConnId,
        pid: ParticipantId,
        msg: ClientMessage,
    ) {
        let result = match msg {
            ClientMessage::Chat { text, to } => self.rooms.chat(&pid, &text, to.as_ref()),
            ClientMessage::RaiseHand { raised } => self.rooms.raise_hand(&pid, raised),
            ClientMessage::Reaction { emoji } => self.rooms.reaction(&pid, &emoji),
            ClientMessage::Mute { target } => {
                self.rooms
                    .moderate(now, &pid, ModeratorAction::Mute(target))
            }
            ClientMessage::MuteAll {} => self.rooms.moderate(now, &pid, ModeratorAction::MuteAll),
            ClientMessage::CameraOff { target } => {
                self.rooms
                    .moderate(now, &pid, ModeratorAction::CameraOff(target))
            }
            ClientMessage::Remove { target } => {
                self.rooms
                    .moderate(now, &pid, ModeratorAction::Remove(target))
            }
            ClientMessage::Promote { target } => {
                self.rooms
                    .moderate(now, &pid, ModeratorAction::Promote(target))
            }
            ClientMessage::LowerHands {} => {
                self.rooms.moderate(now, &pid, ModeratorAction::LowerHands)
            }
            ClientMessage::EndMeeting {} => {
                self.rooms.moderate(now, &pid, ModeratorAction::EndMeeting)
            }
            ClientMessage::SetPassword { password } => {
                return self.set_password(conn, pid, password)
            }
            ClientMessage::BoardAdd { object } => {
                let r = self.rooms.board_add(now, &pid, object);
                return self.board_result(now, conn, r);
            }
            ClientMessage::BoardUpdate { object } => {
                let r = self.rooms.board_update(&pid, object);
                return self.board_result(now, conn, r);
            }
            ClientMessage::BoardRemove { id } => {
                let r = self.rooms.board_remove(&pid, &id);
                return self.board_result(now, conn, r);
            }
            ClientMessage::BoardClear { layer, mine } => {
                let r = self.rooms.board_clear(&pid, layer, mine);
                return self.board_result(now, conn, r);
            }
            // Join, offer, answer, media state, leave and ping are handled by the caller.
            _ => return,
        };
        match result {
            Ok(fx) => self.apply(now, fx),
            Err(e) => self.send_action_error(conn, e),
        }
    }

    /// Applies a whiteboard change, or tells the sender why it was refused (the board is then
    /// unchanged).
    fn board_result(&mut self, now: Instant, conn: ConnId, result: Result<Effects, BoardError>) {
        match result {
            Ok(fx) => self.apply(now, fx),
            Err(e) => {
                let code = match e {
                    BoardError::Invalid(_) | BoardError::Duplicate => ErrorCode::BadDrawing,
                    BoardError::NotFound => ErrorCode::NotFound,
                    BoardError::Full => ErrorCode::BoardFull,
                    BoardError::Forbidden => ErrorCode::Forbidden,
                    BoardError::NotInRoom => ErrorCode::NotJoined,
                };
                self.send_error(conn, code, e.to_string(), false);
            }
        }
    }

    fn send_action_error(&mut self, conn: ConnId, e: ActionError) {
        let code = match e {
            ActionError::NotInRoom => ErrorCode::NotJoined,
            ActionError::Forbidden => ErrorCode::Forbidden,
            ActionError::NotFound => ErrorCode::NotFound,
            ActionError::Invalid => ErrorCode::BadMessage,
        };
        self.send_error(conn, code, e.to_string(), false);
    }

    /// A moderator protects the room (hashing off the loop) or removes the protection.
    fn set_password(&mut self, conn: ConnId, pid: ParticipantId, password: Option<String>) {
        if !self.rooms.is_moderator(&pid) {
            return self.send_action_error(conn, ActionError::Forbidden);
        }
        let Some(password) = password else {
            let result = self.rooms.set_password_hash(&pid, None);
            return match result {
                Ok(fx) => self.apply(Instant::now(), fx),
                Err(e) => self.send_action_error(conn, e),
            };
        };
        if !PASSWORD_CHARS.contains(&password.chars().count()) {
            let msg = format!(
                "a room password has {} to {} characters",
                PASSWORD_CHARS.start(),
                PASSWORD_CHARS.end()
            );
            return self.send_error(conn, ErrorCode::BadMessage, msg, false);
        }
        let loopback = self.loopback.clone();
        tokio::task::spawn_blocking(move || {
            if let Some(hash) = crate::password::hash(&password) {
                let _ = loopback.blocking_send(Command::PasswordHashed { conn, hash });
            } else {
                warn!("could not hash a room password");
            }
        });
    }

    pub(super) fn handle_password_hashed(&mut self, now: Instant, conn: ConnId, hash: String) {
        let Some(pid) = self.conns.get(&conn).and_then(|c| c.participant.clone()) else {
            return;
        };
        match self.rooms.set_password_hash(&pid, Some(hash)) {
            Ok(fx) => self.apply(now, fx),
            Err(e) => self.send_action_error(conn, e),
        }
    }

    /// A guest's join of a protected room: a missing password is asked for; tries are
    /// rate-limited per client address; the check runs off the loop.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn check_password(
        &mut self,
        now: Instant,
        conn: ConnId,
        ip: IpAddr,
        room: RoomName,
        name: DisplayName,
        hash: String,
        password: Option<String>,
    ) {
        let Some(password) = password.filter(|p| !p.is_empty()) else {
            return self.send_error(
                conn,
                ErrorCode::PasswordRequired,
                "this meeting is protected by a password",
                false,
            );
        };
        if let Err(retry) = self.password_tries.check(now, &ip_key(ip)) {
            let msg = format!(
                "too many password tries; try again in {} s",
                retry.as_secs().max(1)
            );
            return self.send_error(conn, ErrorCode::RateLimited, msg, false);
        }
        let loopback = self.loopback.clone();
        tokio::task::spawn_blocking(move || {
            let ok = crate::password::verify(&hash, &password);
            let _ = loopback.blocking_send(Command::PasswordChecked {
                conn,
                room,
                name,
                ok,
            });
        });
    }

    pub(super) fn handle_password_checked(
        &mut self,
        now: Instant,
        conn: ConnId,
        room: RoomName,
        name: DisplayName,
        ok: bool,
    ) {
        if !ok {
            return self.send_error(conn, ErrorCode::WrongPassword, "wrong password", false);
        }
        self.admit(now, conn, room, name, true);
    }
}
