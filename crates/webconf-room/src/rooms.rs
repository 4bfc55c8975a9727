//! Who is in which room, and who must be told what.
//!
//! [`Rooms`] does not send anything: each call returns an [`Outbox`] of `(recipient, message)`
//! pairs for the caller to deliver.

use std::collections::HashMap;

use crate::names::{DisplayName, ParticipantId, RoomName};
use crate::protocol::{ParticipantInfo, ServerMessage};

/// Messages to deliver, in order.
pub type Outbox = Vec<(ParticipantId, ServerMessage)>;

struct Member {
    id: ParticipantId,
    name: DisplayName,
    audio: bool,
    video: bool,
}

impl Member {
    fn info(&self) -> ParticipantInfo {
        ParticipantInfo {
            id: self.id.clone(),
            name: self.name.as_str().to_owned(),
            audio: self.audio,
            video: self.video,
        }
    }
}

struct Room {
    /// Key of this room in the media core; fresh for every opening of the room.
    media_key: u64,
    /// In order of arrival.
    members: Vec<Member>,
}

/// The result of [`Rooms::join`].
#[derive(Debug)]
pub struct Joined {
    /// The room's key in the media core.
    pub media_key: u64,
    /// True if this participant opened the room.
    pub created: bool,
    /// The `welcome` for the newcomer.
    pub welcome: ServerMessage,
    /// `participant_joined` for the others.
    pub outbox: Outbox,
}

/// The result of [`Rooms::leave`].
#[derive(Debug)]
pub struct Left {
    /// The room the participant left.
    pub room: RoomName,
    /// True if the room is now closed (nobody left in it).
    pub closed: bool,
    /// `participant_left` for the others.
    pub outbox: Outbox,
}

/// All open rooms of this server.
#[derive(Default)]
pub struct Rooms {
    rooms: HashMap<RoomName, Room>,
    location: HashMap<ParticipantId, RoomName>,
    next_media_key: u64,
}

impl Rooms {
    /// An empty registry.
    pub fn new() -> Rooms {
        Rooms::default()
    }

    /// Number of open rooms.
    pub fn room_count(&self) -> usize {
        self.rooms.len()
    }

    /// Number of participants in all rooms.
    pub fn participant_count(&self) -> usize {
        self.location.len()
    }

    /// The room a participant is in.
    pub fn room_of(&self, id: &ParticipantId) -> Option<&RoomName> {
        self.location.get(id)
    }

    /// Ids of the participants of a room, in order of arrival.
    pub fn members(&self, room: &RoomName) -> Vec<ParticipantId> {
        self.rooms
            .get(room)
            .map(|r| r.members.iter().map(|m| m.id.clone()).collect())
            .unwrap_or_default()
    }

    /// Puts a participant in a room, opening the room if needed. A participant already in a
    /// room is first taken out of it.
    pub fn join(&mut self, room: RoomName, id: ParticipantId, name: DisplayName) -> (Joined, Option<Left>) {
        let left = self.leave(&id);
        let created = !self.rooms.contains_key(&room);
        let next_key = &mut self.next_media_key;
        let entry = self.rooms.entry(room.clone()).or_insert_with(|| {
            *next_key += 1;
            Room { media_key: *next_key, members: Vec::new() }
        });
        let member = Member { id: id.clone(), name, audio: true, video: true };
        let info = member.info();
        let participants = entry.members.iter().map(Member::info).collect();
        let outbox = entry
            .members
            .iter()
            .map(|m| (m.id.clone(), ServerMessage::ParticipantJoined { participant: info.clone() }))
            .collect();
        entry.members.push(member);
        let media_key = entry.media_key;
        self.location.insert(id.clone(), room.clone());
        let welcome = ServerMessage::Welcome {
            version: crate::protocol::PROTOCOL_VERSION,
            you: id,
            room,
            participants,
        };
        (Joined { media_key, created, welcome, outbox }, left)
    }

    /// Records a microphone/camera change; returns `participant_updated` for the others.
    pub fn set_media_state(&mut self, id: &ParticipantId, audio: bool, video: bool) -> Outbox {
        let Some(room) = self.location.get(id).and_then(|r| self.rooms.get_mut(r)) else {
            return Vec::new();
        };
        let Some(member) = room.members.iter_mut().find(|m| &m.id == id) else {
            return Vec::new();
        };
        if member.audio == audio && member.video == video {
            return Vec::new();
        }
        member.audio = audio;
        member.video = video;
        let info = member.info();
        room.members
            .iter()
            .filter(|m| &m.id != id)
            .map(|m| (m.id.clone(), ServerMessage::ParticipantUpdated { participant: info.clone() }))
            .collect()
    }

    /// Takes a participant out of its room, closing the room when it is empty.
    pub fn leave(&mut self, id: &ParticipantId) -> Option<Left> {
        let room_name = self.location.remove(id)?;
        let room = self.rooms.get_mut(&room_name)?;
        room.members.retain(|m| &m.id != id);
        let outbox = room
            .members
            .iter()
            .map(|m| (m.id.clone(), ServerMessage::ParticipantLeft { id: id.clone() }))
            .collect();
        let closed = room.members.is_empty();
        if closed {
            self.rooms.remove(&room_name);
        }
        Some(Left { room: room_name, closed, outbox })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(s: &str) -> RoomName {
        RoomName::parse(s).expect("room")
    }

    fn name(s: &str) -> DisplayName {
        DisplayName::parse(s).expect("name")
    }

    #[test]
    fn join_welcomes_and_announces() {
        let mut rooms = Rooms::new();
        let (a, b) = (ParticipantId::random(), ParticipantId::random());
        let (ja, _) = rooms.join(room("salon12345"), a.clone(), name("Alice"));
        assert!(ja.created);
        assert!(ja.outbox.is_empty());
        let (jb, _) = rooms.join(room("SALON12345"), b.clone(), name("Bob"));
        assert!(!jb.created);
        assert_eq!(jb.media_key, ja.media_key);
        let ServerMessage::Welcome { participants, you, .. } = jb.welcome else {
            panic!("welcome expected");
        };
        assert_eq!(you, b);
        assert_eq!(participants.len(), 1);
        assert_eq!(participants[0].name, "Alice");
        assert_eq!(jb.outbox.len(), 1);
        assert_eq!(jb.outbox[0].0, a);
        assert!(matches!(&jb.outbox[0].1, ServerMessage::ParticipantJoined { participant } if participant.id == b));
    }

    #[test]
    fn leave_announces_and_closes_empty_rooms() {
        let mut rooms = Rooms::new();
        let (a, b) = (ParticipantId::random(), ParticipantId::random());
        let (first, _) = rooms.join(room("salon12345"), a.clone(), name("Alice"));
        rooms.join(room("salon12345"), b.clone(), name("Bob"));
        let left = rooms.leave(&a).expect("was in a room");
        assert!(!left.closed);
        assert_eq!(left.outbox, vec![(b.clone(), ServerMessage::ParticipantLeft { id: a.clone() })]);
        assert!(rooms.leave(&a).is_none(), "leaving twice changes nothing");
        let left = rooms.leave(&b).expect("was in a room");
        assert!(left.closed);
        assert_eq!(rooms.room_count(), 0);
        assert_eq!(rooms.participant_count(), 0);
        // Reopening gives a fresh media key.
        let (again, _) = rooms.join(room("salon12345"), a, name("Alice"));
        assert!(again.created);
        assert_ne!(again.media_key, first.media_key);
    }

    #[test]
    fn media_state_is_told_to_the_others_only_when_it_changes() {
        let mut rooms = Rooms::new();
        let (a, b) = (ParticipantId::random(), ParticipantId::random());
        rooms.join(room("salon12345"), a.clone(), name("Alice"));
        rooms.join(room("salon12345"), b.clone(), name("Bob"));
        let out = rooms.set_media_state(&a, false, true);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, b);
        assert!(rooms.set_media_state(&a, false, true).is_empty());
        assert!(rooms.set_media_state(&ParticipantId::random(), false, false).is_empty());
    }

    #[test]
    fn rooms_are_separate() {
        let mut rooms = Rooms::new();
        let (a, b) = (ParticipantId::random(), ParticipantId::random());
        rooms.join(room("salon12345"), a.clone(), name("Alice"));
        let (jb, _) = rooms.join(room("autre12345"), b, name("Bob"));
        assert!(jb.created);
        assert!(jb.outbox.is_empty());
        assert_eq!(rooms.members(&room("salon12345")), vec![a]);
    }
}
