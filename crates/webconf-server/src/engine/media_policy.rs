//! The engine's side of the media policy (docs/architecture.md, "Media policy"): a browser's
//! `view` (what it shows of the others and how big) becomes the core's `Sfu::set_view`, and the
//! core's active-speaker changes become `speakers` messages to the room.
//!
//! The core knows peers, the browsers know participants: participant ids are mapped to peer ids
//! (`Sessions`) here, and only for participants of the
//! sender's own room, so that a `view` naming someone elsewhere changes nothing. Probe peers
//! never get here (`probe_output` takes their outputs first).

use std::time::Instant;

use tracing::debug;
use webconf_media::{PeerId, RoomId, SlotInfo, ViewRequest};
use webconf_room::protocol::{check_view, ViewTile};
use webconf_room::{ErrorCode, ParticipantId, ServerMessage, Slot};

use super::{ConnId, Engine};

impl Engine {
    /// A participant's `view`: checked (a bad one is refused with `bad_view` and changes
    /// nothing), mapped to peers of the same room (unknown ids and oneself are ignored), and
    /// given to the core.
    pub(super) fn handle_view(
        &mut self,
        now: Instant,
        conn: ConnId,
        pid: &ParticipantId,
        tiles: &[ViewTile],
    ) {
        if let Err(msg) = check_view(tiles) {
            return self.send_error(conn, ErrorCode::BadView, msg, false);
        }
        let Some(room) = self.rooms.room_of(pid) else {
            return;
        };
        let Some(own) = self.sessions.peer_of(pid) else {
            return;
        };
        let view: Vec<ViewRequest> = tiles
            .iter()
            .filter_map(|tile| {
                let source = self.sessions.peer_of(&tile.participant)?;
                if source == own || self.rooms.room_of(&tile.participant) != Some(room) {
                    return None;
                }
                Some(ViewRequest {
                    source,
                    screen: tile.screen,
                    max_height: tile.height,
                    pinned: tile.pinned,
                })
            })
            .collect();
        if let Err(e) = self.sfu.set_view(now, own, &view) {
            debug!("view: {e}");
        }
    }

    /// The core's active speaker of a room changed: tell everyone in it.
    pub(super) fn relay_active_speaker(&mut self, room: RoomId, peer: PeerId) {
        let Some(pid) = self.sessions.participant_of(peer).cloned() else {
            return;
        };
        let Some(msg) = self.speakers_message(room) else {
            return;
        };
        let Some(room_name) = self.rooms.room_of(&pid).cloned() else {
            return;
        };
        for member in self.rooms.members(&room_name) {
            if let Some(conn) = self.by_participant.get(&member).copied() {
                self.send(conn, msg.clone());
            }
        }
    }

    /// Tells a participant what its microphone slots carry (`webconf_media::SfuOutput::Slots`).
    pub(super) fn relay_slots(&mut self, peer: PeerId, slots: &[SlotInfo]) {
        let Some(conn) = self.conn_of_peer(peer) else {
            return;
        };
        let slots = slots
            .iter()
            .map(|s| Slot {
                mid: s.mid.clone(),
                participant: s
                    .source
                    .and_then(|p| self.sessions.participant_of(p).cloned()),
            })
            .collect();
        self.send(conn, ServerMessage::Slots { slots });
    }

    /// A newcomer's media session was created: tell it who speaks, when the room knows.
    pub(super) fn send_known_speakers(&mut self, conn: ConnId, room: RoomId) {
        if let Some(msg) = self.speakers_message(room) {
            self.send(conn, msg);
        }
    }

    /// `speakers` for a room, from the core's list (peers that are no longer participants
    /// left out), or `None` before anyone spoke.
    fn speakers_message(&self, room: RoomId) -> Option<ServerMessage> {
        let participant = |peer: PeerId| self.sessions.participant_of(peer).cloned();
        let active = participant(self.sfu.active_speaker(room)?)?;
        let mut recent: Vec<ParticipantId> = self
            .sfu
            .speakers(room)
            .into_iter()
            .filter_map(participant)
            .collect();
        if !recent.contains(&active) {
            recent.insert(0, active.clone());
        }
        Some(ServerMessage::Speakers { active, recent })
    }
}
