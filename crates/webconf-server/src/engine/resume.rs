//! Media sessions and `resume` (docs/protocol.md, "Taking one's place back").
//!
//! A participant's media session lives in the core under the [`PeerId`] of the connection it
//! joined with. When its socket is lost (a network change, a short cut), the browser opens a new
//! one and sends `resume` with the secret of its last `session` message: the participant moves
//! to the new connection with its id, role and media session, the old connection is closed
//! without a `participant_left`, the browser gets the room as it is now (`welcome` and the
//! rest, [`webconf_room::Rooms::resync`]) and restarts ICE on the same session. Anything
//! doubtful gets `resume_failed` and changes nothing: the browser then joins anew.

use std::collections::HashMap;
use std::time::Instant;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use tracing::{debug, info};
use webconf_media::{PeerId, RoomId};
use webconf_room::protocol::PROTOCOL_VERSION;
use webconf_room::{ErrorCode, ParticipantId, ServerMessage};

use super::{ConnId, Engine};

/// Most chat messages kept for a participant whose socket broke, for its `resume`.
pub(super) const MISSED_CHAT: usize = 100;

/// Each participant's media peer and `resume` secret, and the way back from a peer.
#[derive(Debug, Default)]
pub(super) struct Sessions {
    by_participant: HashMap<ParticipantId, Session>,
    by_peer: HashMap<PeerId, ParticipantId>,
}

#[derive(Debug)]
struct Session {
    peer: PeerId,
    /// The current secret (hex of 128 random bits); replaced at each `welcome`.
    token: String,
}

/// A new secret: 128 bits from the OS generator, as 32 hex digits.
fn new_token() -> String {
    let bits: u128 = rand::random();
    format!("{bits:032x}")
}

impl Sessions {
    /// Records a participant's new media session; returns its first secret.
    pub(super) fn open(&mut self, participant: ParticipantId, peer: PeerId) -> String {
        let token = new_token();
        self.by_peer.insert(peer, participant.clone());
        self.by_participant.insert(
            participant,
            Session {
                peer,
                token: token.clone(),
            },
        );
        token
    }

    /// Forgets a participant's session; returns its peer, to take out of the core.
    pub(super) fn close(&mut self, participant: &ParticipantId) -> Option<PeerId> {
        let session = self.by_participant.remove(participant)?;
        self.by_peer.remove(&session.peer);
        Some(session.peer)
    }

    pub(super) fn peer_of(&self, participant: &ParticipantId) -> Option<PeerId> {
        self.by_participant.get(participant).map(|s| s.peer)
    }

    pub(super) fn participant_of(&self, peer: PeerId) -> Option<&ParticipantId> {
        self.by_peer.get(&peer)
    }

    /// Checks a `resume` secret (in constant time) and, when it matches, replaces it: each
    /// secret is good for one resume. `None`: no such participant, or the wrong secret.
    fn take_back(&mut self, participant: &ParticipantId, token: &str) -> Option<String> {
        let session = self.by_participant.get_mut(participant)?;
        verify_slices_are_equal(session.token.as_bytes(), token.as_bytes()).ok()?;
        session.token = new_token();
        Some(session.token.clone())
    }
}

impl Engine {
    /// A socket is gone. A participant in a room whose socket broke keeps its place (and its
    /// media session) for the grace period; otherwise it leaves now.
    pub(super) fn disconnect(&mut self, now: Instant, conn: ConnId, broken: bool) {
        let in_room = self
            .conns
            .get(&conn)
            .and_then(|c| c.participant.as_ref())
            .is_some_and(|p| self.sessions.peer_of(p).is_some());
        if broken && in_room && !self.resume_grace.is_zero() {
            if let Some(c) = self.conns.get_mut(&conn) {
                debug!(
                    conn,
                    "socket broke; keeping the participant's place for a resume"
                );
                c.broken_at = Some(now);
            }
            return;
        }
        self.remove_participant(now, conn);
        self.conns.remove(&conn);
    }

    /// Participants whose socket broke and who did not resume in time leave.
    pub(super) fn expire_broken(&mut self, now: Instant) {
        let grace = self.resume_grace;
        let expired: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                c.broken_at
                    .is_some_and(|at| now.duration_since(at) >= grace)
            })
            .map(|(&conn, _)| conn)
            .collect();
        for conn in expired {
            debug!(
                conn,
                "no resume within the grace period; the participant leaves"
            );
            self.remove_participant(now, conn);
            self.conns.remove(&conn);
        }
    }

    /// The connection serving a media peer's participant now.
    pub(super) fn conn_of_peer(&self, peer: PeerId) -> Option<ConnId> {
        let participant = self.sessions.participant_of(peer)?;
        self.by_participant.get(participant).copied()
    }

    /// `resume` on the fresh connection `conn`.
    pub(super) fn resume(
        &mut self,
        conn: ConnId,
        version: u32,
        participant: ParticipantId,
        token: &str,
    ) {
        if version != PROTOCOL_VERSION {
            let msg =
                format!("this server speaks protocol version {PROTOCOL_VERSION}; reload the page");
            self.send_error(conn, ErrorCode::UnsupportedVersion, msg, true);
            self.close(conn, 1002, "unsupported version");
            return;
        }
        let refuse = |engine: &mut Engine, why: &str| {
            debug!(conn, "resume refused: {why}");
            engine.send_error(
                conn,
                ErrorCode::ResumeFailed,
                format!("{why}; join the room again"),
                false,
            );
        };
        let Some(new_peer) = self.conns.get(&conn).map(|c| c.peer) else {
            return;
        };
        let Some(old_conn) = self.by_participant.get(&participant).copied() else {
            return refuse(self, "this participant is no longer in a room");
        };
        let Some(old_peer) = self.conns.get(&old_conn).map(|c| c.peer) else {
            return refuse(self, "this participant is no longer in a room");
        };
        // A waiting guest has no session (and no secret): only participants in a room resume.
        let Some(room_now) = self
            .rooms
            .resync(&participant)
            .filter(|_| self.sessions.peer_of(&participant).is_some())
        else {
            return refuse(self, "this participant is no longer in a room");
        };
        // The same rights as before, from the new address: an agent's place is not taken back
        // from outside the agents' networks, and a session offered one zone's media addresses is
        // not moved to a client of another zone (those flows stay apart).
        if old_peer.agent && !new_peer.agent {
            return refuse(
                self,
                "this network does not give you the organiser's rights",
            );
        }
        if let Some(zm) = &self.zone_media {
            if zm.for_client(old_peer.ip) != zm.for_client(new_peer.ip) {
                return refuse(self, "you are now on another network zone");
            }
        }
        let Some(resume_token) = self.sessions.take_back(&participant, token) else {
            return refuse(self, "this resume secret is not valid");
        };
        // Checked: move the participant. The old socket goes without a `participant_left`.
        let old_broken = self
            .conns
            .get(&old_conn)
            .is_some_and(|c| c.broken_at.is_some());
        let mut missed_chat = Vec::new();
        if let Some(c) = self.conns.get_mut(&old_conn) {
            c.participant = None;
            missed_chat = std::mem::take(&mut c.missed_chat);
        }
        if old_broken {
            self.conns.remove(&old_conn);
        } else {
            self.close(old_conn, 1000, "resumed");
        }
        if let Some(c) = self.conns.get_mut(&conn) {
            c.participant = Some(participant.clone());
        }
        self.by_participant.insert(participant.clone(), conn);
        info!(conn, old_conn, "participant resumed on a new connection");
        for msg in room_now {
            self.send(conn, msg);
        }
        for msg in missed_chat {
            self.send(conn, msg);
        }
        self.send(conn, ServerMessage::Session { resume_token });
        let Some(peer) = self.sessions.peer_of(&participant) else {
            return;
        };
        if let Some(key) = self.rooms.media_key_of(&participant) {
            self.send_known_speakers(conn, RoomId(key));
        }
        // An offer sent to the old socket may never have arrived, or its answer may have been
        // lost with that socket: send the same offer again (`Sfu::resend_offer`).
        match self.sfu.resend_offer(peer) {
            Ok(true) => debug!(conn, "the outstanding offer is sent again"),
            Ok(false) => {}
            Err(e) => debug!("resend_offer: {e}"),
        }
        // The last slot table may have been lost with the old socket too.
        if let Ok(slots) = self.sfu.slots(peer) {
            if !slots.is_empty() {
                self.relay_slots(peer, &slots);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_checked_and_good_for_one_resume() {
        let mut s = Sessions::default();
        let p = ParticipantId::random();
        let first = s.open(p.clone(), PeerId(7));
        assert_eq!(first.len(), 32);
        assert_eq!(s.peer_of(&p), Some(PeerId(7)));
        assert_eq!(s.participant_of(PeerId(7)), Some(&p));
        assert!(s.take_back(&p, "0123").is_none(), "wrong secret");
        assert!(
            s.take_back(&ParticipantId::random(), &first).is_none(),
            "someone else"
        );
        let second = s.take_back(&p, &first).expect("the right secret");
        assert_ne!(second, first);
        assert!(s.take_back(&p, &first).is_none(), "a secret is used once");
        assert_eq!(s.close(&p), Some(PeerId(7)));
        assert!(s.take_back(&p, &second).is_none(), "gone");
        assert!(s.participant_of(PeerId(7)).is_none());
    }
}
