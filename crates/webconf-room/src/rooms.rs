//! Who is in which room, who waits for which room, and who must be told what.
//!
//! The rule of the service: only agents (role [`Role::Moderator`]) open rooms; a guest who asks
//! for a room that is not open waits until an agent opens it. When the last agent leaves, the
//! room ends for everyone. [`Rooms`] sends nothing itself: every call returns [`Effects`] for the
//! caller to carry out.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::names::{DisplayName, ParticipantId, RoomName};
use crate::protocol::{EndReason, ParticipantInfo, Role, ServerMessage, PROTOCOL_VERSION};

/// Messages to deliver, in order.
pub type Outbox = Vec<(ParticipantId, ServerMessage)>;

/// The time limits of rooms (from the `[rooms]` configuration).
#[derive(Debug, Clone)]
pub struct RoomPolicy {
    /// How long a guest may wait for an agent to open the room.
    pub waiting_timeout: Duration,
    /// A room with one participant, or without media, this long is closed.
    pub idle: Duration,
    /// Any room closes after this.
    pub max_duration: Duration,
    /// The `room_ending` warning comes this long before a timed closure.
    pub warning: Duration,
}

impl Default for RoomPolicy {
    fn default() -> Self {
        RoomPolicy {
            waiting_timeout: Duration::from_secs(1800),
            idle: Duration::from_secs(600),
            max_duration: Duration::from_secs(12 * 3600),
            warning: Duration::from_secs(60),
        }
    }
}

/// What the caller must do after a change.
#[derive(Debug, Default)]
pub struct Effects {
    /// Messages to deliver, in this order, before anything else below.
    pub outbox: Outbox,
    /// Participants who entered a room: give each a media session in room `media_key`.
    pub admitted: Vec<Admission>,
    /// Participants put out (their room ended, or their wait timed out): drop their media
    /// session and close their socket, after delivering the outbox.
    pub evicted: Vec<ParticipantId>,
    /// Rooms that closed, with their media key.
    pub closed: Vec<(RoomName, u64)>,
    /// Forwarding changes for the media core: a moderator muted someone, or they unmuted.
    pub media_control: Vec<MediaControl>,
}

/// Whether the media core may forward a participant's microphone and camera.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaControl {
    /// Whose media.
    pub id: ParticipantId,
    /// The microphone may be forwarded.
    pub audio: bool,
    /// The camera may be forwarded.
    pub video: bool,
}

/// Why a join was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    /// The room is protected and the caller did not verify a password.
    #[error("the room is protected by a password")]
    Locked,
}

impl Effects {
    pub(crate) fn merge(&mut self, other: Effects) {
        self.outbox.extend(other.outbox);
        self.admitted.extend(other.admitted);
        self.evicted.extend(other.evicted);
        self.closed.extend(other.closed);
        self.media_control.extend(other.media_control);
    }
}

/// A participant who entered a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    /// Who.
    pub id: ParticipantId,
    /// The room's key in the media core.
    pub media_key: u64,
}

pub(crate) struct Member {
    pub id: ParticipantId,
    pub name: DisplayName,
    pub role: Role,
    pub audio: bool,
    pub video: bool,
    pub screen: bool,
    /// Microphone / camera turned off by a moderator (the core does not forward them).
    pub blocked_audio: bool,
    pub blocked_video: bool,
}

impl Member {
    pub(crate) fn new(id: ParticipantId, name: DisplayName, role: Role) -> Member {
        Member {
            id,
            name,
            role,
            audio: true,
            video: true,
            screen: false,
            blocked_audio: false,
            blocked_video: false,
        }
    }
}

impl Member {
    pub(crate) fn info(&self) -> ParticipantInfo {
        ParticipantInfo {
            id: self.id.clone(),
            name: self.name.as_str().to_owned(),
            role: self.role,
            audio: self.audio,
            video: self.video,
            screen: self.screen,
        }
    }
}

pub(crate) struct Room {
    /// Key of this room in the media core; fresh for every opening of the room.
    pub media_key: u64,
    /// In order of arrival.
    pub members: Vec<Member>,
    /// When the room opened (for the maximum duration).
    pub opened_at: Instant,
    /// Since when the room has had a single participant.
    pub alone_since: Option<Instant>,
    /// Last join or media seen.
    pub last_activity: Instant,
    /// The closure already announced with `room_ending`, and its deadline.
    pub warned: Option<(EndReason, Instant)>,
    /// Raised hands, in order.
    pub hands: Vec<ParticipantId>,
    /// The password's Argon2id hash (PHC string), if the room is protected.
    pub password_hash: Option<String>,
    /// The whiteboard and the annotations over shared screens.
    pub board: crate::whiteboard::Board,
}

pub(crate) struct Waiter {
    pub id: ParticipantId,
    pub name: DisplayName,
    pub since: Instant,
}

enum Place {
    In(RoomName),
    Waiting(RoomName),
}

/// All open rooms of this server, and the guests waiting for rooms to open.
#[derive(Default)]
pub struct Rooms {
    pub(crate) policy: RoomPolicy,
    pub(crate) rooms: HashMap<RoomName, Room>,
    pub(crate) waiting: HashMap<RoomName, Vec<Waiter>>,
    by_media_key: HashMap<u64, RoomName>,
    place: HashMap<ParticipantId, Place>,
    next_media_key: u64,
}

impl Rooms {
    /// An empty registry.
    pub fn new(policy: RoomPolicy) -> Rooms {
        Rooms {
            policy,
            ..Rooms::default()
        }
    }

    /// Number of open rooms.
    pub fn room_count(&self) -> usize {
        self.rooms.len()
    }

    /// Number of participants in rooms or waiting.
    pub fn participant_count(&self) -> usize {
        self.place.len()
    }

    /// Whether the room is open.
    pub fn is_open(&self, room: &RoomName) -> bool {
        self.rooms.contains_key(room)
    }

    /// The room a participant is in (not waiting for).
    pub fn room_of(&self, id: &ParticipantId) -> Option<&RoomName> {
        match self.place.get(id) {
            Some(Place::In(room)) => Some(room),
            _ => None,
        }
    }

    /// Whether a participant waits for a room to open.
    pub fn is_waiting(&self, id: &ParticipantId) -> bool {
        matches!(self.place.get(id), Some(Place::Waiting(_)))
    }

    /// Ids of the participants of a room, in order of arrival.
    pub fn members(&self, room: &RoomName) -> Vec<ParticipantId> {
        self.rooms
            .get(room)
            .map(|r| r.members.iter().map(|m| m.id.clone()).collect())
            .unwrap_or_default()
    }

    /// A participant asks to enter `room`. An agent enters, opening the room if needed (and
    /// letting in everyone who waited for it); a guest enters an open room, or waits.
    /// A participant already somewhere is first taken out.
    ///
    /// A guest entering a protected room must have had its password verified by the caller
    /// (`password_verified`); otherwise [`JoinError::Locked`] and nothing changes.
    pub fn join(
        &mut self,
        now: Instant,
        room: RoomName,
        id: ParticipantId,
        name: DisplayName,
        role: Role,
        password_verified: bool,
    ) -> Result<Effects, JoinError> {
        let locked = self
            .rooms
            .get(&room)
            .is_some_and(|r| r.password_hash.is_some());
        if locked && role == Role::Guest && !password_verified {
            return Err(JoinError::Locked);
        }
        let mut fx = self.leave(now, &id);
        if !self.rooms.contains_key(&room) {
            if role == Role::Guest {
                let timeout_secs = self.policy.waiting_timeout.as_secs();
                fx.outbox.push((
                    id.clone(),
                    ServerMessage::Waiting {
                        room: room.clone(),
                        timeout_secs,
                    },
                ));
                self.waiting.entry(room.clone()).or_default().push(Waiter {
                    id: id.clone(),
                    name,
                    since: now,
                });
                self.place.insert(id, Place::Waiting(room));
                return Ok(fx);
            }
            self.next_media_key += 1;
            let key = self.next_media_key;
            self.by_media_key.insert(key, room.clone());
            self.rooms.insert(
                room.clone(),
                Room {
                    media_key: key,
                    members: Vec::new(),
                    opened_at: now,
                    alone_since: None,
                    last_activity: now,
                    warned: None,
                    hands: Vec::new(),
                    password_hash: None,
                    board: crate::whiteboard::Board::default(),
                },
            );
        }
        self.enter(now, &room, Member::new(id, name, role), &mut fx);
        if role == Role::Moderator {
            for w in self.waiting.remove(&room).unwrap_or_default() {
                self.enter(now, &room, Member::new(w.id, w.name, Role::Guest), &mut fx);
            }
        }
        Ok(fx)
    }

    /// Puts a member in an open room: `welcome` for it, `participant_joined` for the others.
    fn enter(&mut self, now: Instant, room_name: &RoomName, member: Member, fx: &mut Effects) {
        let Some(room) = self.rooms.get_mut(room_name) else {
            return;
        };
        let info = member.info();
        for m in &room.members {
            fx.outbox.push((
                m.id.clone(),
                ServerMessage::ParticipantJoined {
                    participant: info.clone(),
                },
            ));
        }
        fx.outbox.push((
            member.id.clone(),
            welcome(
                room_name,
                &member,
                room.members.iter().map(Member::info).collect(),
            ),
        ));
        if !room.hands.is_empty() {
            fx.outbox.push((
                member.id.clone(),
                ServerMessage::Hands {
                    queue: room.hands.clone(),
                },
            ));
        }
        if room.password_hash.is_some() {
            fx.outbox
                .push((member.id.clone(), ServerMessage::RoomState { locked: true }));
        }
        if !room.board.objects().is_empty() {
            let objects = room.board.objects().to_vec();
            fx.outbox
                .push((member.id.clone(), ServerMessage::BoardState { objects }));
        }
        fx.admitted.push(Admission {
            id: member.id.clone(),
            media_key: room.media_key,
        });
        self.place
            .insert(member.id.clone(), Place::In(room_name.clone()));
        room.members.push(member);
        room.last_activity = now;
        room.alone_since = if room.members.len() == 1 {
            Some(now)
        } else {
            None
        };
        room.warned = None;
    }

    /// The room as it is now, for a participant taking back its place on a new socket
    /// (`resume`): `welcome` with the others, then the raised hands, the protection and the
    /// board, each sent even when empty so that the client drops what it missed. `None` when
    /// the participant is in no room (gone, or still waiting).
    pub fn resync(&self, id: &ParticipantId) -> Option<Vec<ServerMessage>> {
        let Some(Place::In(room_name)) = self.place.get(id) else {
            return None;
        };
        let room = self.rooms.get(room_name)?;
        let me = room.members.iter().find(|m| &m.id == id)?;
        let others: Vec<ParticipantInfo> = room
            .members
            .iter()
            .filter(|m| &m.id != id)
            .map(Member::info)
            .collect();
        Some(vec![
            welcome(room_name, me, others),
            ServerMessage::Hands {
                queue: room.hands.clone(),
            },
            ServerMessage::RoomState {
                locked: room.password_hash.is_some(),
            },
            ServerMessage::BoardState {
                objects: room.board.objects().to_vec(),
            },
        ])
    }

    /// The media key of the room a participant is in (the core's room id).
    pub fn media_key_of(&self, id: &ParticipantId) -> Option<u64> {
        let Some(Place::In(room_name)) = self.place.get(id) else {
            return None;
        };
        self.rooms.get(room_name).map(|r| r.media_key)
    }

    /// Records a microphone/camera/screen change; `participant_updated` goes to the others.
    /// Turning a device on lifts a moderator's block on it (people may unmute themselves).
    pub fn set_media_state(
        &mut self,
        id: &ParticipantId,
        audio: bool,
        video: bool,
        screen: bool,
    ) -> Effects {
        let mut fx = Effects::default();
        let Some(room) = self
            .room_of(id)
            .cloned()
            .and_then(|r| self.rooms.get_mut(&r))
        else {
            return fx;
        };
        let Some(member) = room.members.iter_mut().find(|m| &m.id == id) else {
            return fx;
        };
        if (audio && member.blocked_audio) || (video && member.blocked_video) {
            member.blocked_audio &= !audio;
            member.blocked_video &= !video;
            fx.media_control.push(MediaControl {
                id: id.clone(),
                audio: !member.blocked_audio,
                video: !member.blocked_video,
            });
        }
        if member.audio == audio && member.video == video && member.screen == screen {
            return fx;
        }
        member.audio = audio;
        member.video = video;
        member.screen = screen;
        let info = member.info();
        for m in room.members.iter().filter(|m| &m.id != id) {
            fx.outbox.push((
                m.id.clone(),
                ServerMessage::ParticipantUpdated {
                    participant: info.clone(),
                },
            ));
        }
        fx
    }

    /// Notes that media flowed in the room with this media key (keeps it from being idle).
    pub fn media_seen(&mut self, now: Instant, media_key: u64) {
        if let Some(room) = self
            .by_media_key
            .get(&media_key)
            .and_then(|r| self.rooms.get_mut(r))
        {
            room.last_activity = now;
        }
    }

    /// Takes a participant out of its room or waiting list. When the last agent leaves, the
    /// room ends for everyone in it.
    pub fn leave(&mut self, now: Instant, id: &ParticipantId) -> Effects {
        let mut fx = Effects::default();
        match self.place.remove(id) {
            None => {}
            Some(Place::Waiting(room)) => {
                if let Some(list) = self.waiting.get_mut(&room) {
                    list.retain(|w| &w.id != id);
                    if list.is_empty() {
                        self.waiting.remove(&room);
                    }
                }
            }
            Some(Place::In(room_name)) => {
                let Some(room) = self.rooms.get_mut(&room_name) else {
                    return fx;
                };
                room.members.retain(|m| &m.id != id);
                for m in &room.members {
                    fx.outbox.push((
                        m.id.clone(),
                        ServerMessage::ParticipantLeft { id: id.clone() },
                    ));
                }
                if room.hands.contains(id) {
                    room.hands.retain(|h| h != id);
                    let queue = room.hands.clone();
                    for m in &room.members {
                        fx.outbox.push((
                            m.id.clone(),
                            ServerMessage::Hands {
                                queue: queue.clone(),
                            },
                        ));
                    }
                }
                if room.members.len() == 1 {
                    room.alone_since = Some(now);
                }
                if !room.members.iter().any(|m| m.role == Role::Moderator) {
                    fx.merge(self.end_room(&room_name, EndReason::Ended));
                }
            }
        }
        fx
    }

    /// Closes a room: everyone in it gets `room_ended` and is evicted; the room is deleted.
    pub fn end_room(&mut self, room_name: &RoomName, reason: EndReason) -> Effects {
        let mut fx = Effects::default();
        let Some(room) = self.rooms.remove(room_name) else {
            return fx;
        };
        self.by_media_key.remove(&room.media_key);
        for m in room.members {
            fx.outbox
                .push((m.id.clone(), ServerMessage::RoomEnded { reason }));
            self.place.remove(&m.id);
            fx.evicted.push(m.id);
        }
        fx.closed.push((room_name.clone(), room.media_key));
        fx
    }

    /// Ends a guest's wait.
    pub(crate) fn evict_waiter(&mut self, room: &RoomName, id: &ParticipantId, fx: &mut Effects) {
        if let Some(list) = self.waiting.get_mut(room) {
            list.retain(|w| &w.id != id);
            if list.is_empty() {
                self.waiting.remove(room);
            }
        }
        self.place.remove(id);
        fx.outbox.push((
            id.clone(),
            ServerMessage::RoomEnded {
                reason: EndReason::WaitTimeout,
            },
        ));
        fx.evicted.push(id.clone());
    }
}

/// `welcome` for `member` of `room`, with the others in it.
fn welcome(room: &RoomName, member: &Member, others: Vec<ParticipantInfo>) -> ServerMessage {
    ServerMessage::Welcome {
        version: PROTOCOL_VERSION,
        you: member.id.clone(),
        room: room.clone(),
        role: member.role,
        participants: others,
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

    fn welcome_of(fx: &Effects, id: &ParticipantId) -> Option<(Role, Vec<ParticipantInfo>)> {
        fx.outbox.iter().find_map(|(to, m)| match m {
            ServerMessage::Welcome {
                role, participants, ..
            } if to == id => Some((*role, participants.clone())),
            _ => None,
        })
    }

    #[test]
    fn an_agent_opens_a_room_and_others_are_announced() {
        let t0 = Instant::now();
        let mut rooms = Rooms::new(RoomPolicy::default());
        let (a, b) = (ParticipantId::random(), ParticipantId::random());
        let fa = rooms
            .join(
                t0,
                room("salon12345"),
                a.clone(),
                name("Alice"),
                Role::Moderator,
                false,
            )
            .expect("join");
        assert_eq!(welcome_of(&fa, &a), Some((Role::Moderator, vec![])));
        assert_eq!(fa.admitted.len(), 1);
        let fb = rooms
            .join(
                t0,
                room("SALON12345"),
                b.clone(),
                name("Bob"),
                Role::Guest,
                false,
            )
            .expect("join");
        let (role, others) = welcome_of(&fb, &b).expect("welcome");
        assert_eq!(role, Role::Guest);
        assert_eq!(others.len(), 1);
        assert_eq!(others[0].name, "Alice");
        assert_eq!(others[0].role, Role::Moderator);
        assert_eq!(
            fb.admitted,
            vec![Admission {
                id: b.clone(),
                media_key: fa.admitted[0].media_key
            }]
        );
        assert!(fb.outbox.iter().any(|(to, m)| to == &a
            && matches!(m, ServerMessage::ParticipantJoined { participant } if participant.id == b)));
    }

    #[test]
    fn a_guest_never_opens_a_room_it_waits_and_enters_when_an_agent_does() {
        let t0 = Instant::now();
        let mut rooms = Rooms::new(RoomPolicy::default());
        let (g, h, a) = (
            ParticipantId::random(),
            ParticipantId::random(),
            ParticipantId::random(),
        );
        let fg = rooms
            .join(
                t0,
                room("salon12345"),
                g.clone(),
                name("Gaston"),
                Role::Guest,
                false,
            )
            .expect("join");
        assert!(matches!(fg.outbox.as_slice(), [(to, ServerMessage::Waiting { .. })] if to == &g));
        assert!(fg.admitted.is_empty());
        assert!(!rooms.is_open(&room("salon12345")));
        assert!(rooms.is_waiting(&g));
        rooms
            .join(
                t0,
                room("salon12345"),
                h.clone(),
                name("Hélène"),
                Role::Guest,
                false,
            )
            .expect("join");
        // A waiting guest who gives up is forgotten.
        rooms.leave(t0, &h);
        let fa = rooms
            .join(
                t0,
                room("salon12345"),
                a.clone(),
                name("Alice"),
                Role::Moderator,
                false,
            )
            .expect("join");
        assert_eq!(fa.admitted.len(), 2);
        assert_eq!(
            welcome_of(&fa, &g).map(|(r, o)| (r, o.len())),
            Some((Role::Guest, 1))
        );
        assert!(welcome_of(&fa, &h).is_none());
        assert!(!rooms.is_waiting(&g));
        assert_eq!(rooms.members(&room("salon12345")), vec![a, g]);
    }

    #[test]
    fn the_room_ends_for_everyone_when_the_last_agent_leaves() {
        let t0 = Instant::now();
        let mut rooms = Rooms::new(RoomPolicy::default());
        let (a, b, g) = (
            ParticipantId::random(),
            ParticipantId::random(),
            ParticipantId::random(),
        );
        rooms
            .join(
                t0,
                room("salon12345"),
                a.clone(),
                name("Alice"),
                Role::Moderator,
                false,
            )
            .expect("join");
        rooms
            .join(
                t0,
                room("salon12345"),
                b.clone(),
                name("Bruno"),
                Role::Moderator,
                false,
            )
            .expect("join");
        rooms
            .join(
                t0,
                room("salon12345"),
                g.clone(),
                name("Gaston"),
                Role::Guest,
                false,
            )
            .expect("join");
        let fx = rooms.leave(t0, &a);
        assert!(fx.evicted.is_empty(), "another agent remains");
        let fx = rooms.leave(t0, &b);
        assert_eq!(fx.evicted, vec![g.clone()]);
        assert!(fx.outbox.contains(&(
            g.clone(),
            ServerMessage::RoomEnded {
                reason: EndReason::Ended
            }
        )));
        assert_eq!(fx.closed.len(), 1);
        assert_eq!(rooms.room_count(), 0);
        assert_eq!(rooms.participant_count(), 0);
        // The name is free again: a guest now waits.
        let fx = rooms
            .join(
                t0,
                room("salon12345"),
                g.clone(),
                name("Gaston"),
                Role::Guest,
                false,
            )
            .expect("join");
        assert!(matches!(fx.outbox[0].1, ServerMessage::Waiting { .. }));
    }

    #[test]
    fn leave_announces_and_reopening_gives_a_fresh_media_key() {
        let t0 = Instant::now();
        let mut rooms = Rooms::new(RoomPolicy::default());
        let (a, b) = (ParticipantId::random(), ParticipantId::random());
        let first = rooms
            .join(
                t0,
                room("salon12345"),
                a.clone(),
                name("Alice"),
                Role::Moderator,
                false,
            )
            .expect("join")
            .admitted[0]
            .media_key;
        rooms
            .join(
                t0,
                room("salon12345"),
                b.clone(),
                name("Bob"),
                Role::Moderator,
                false,
            )
            .expect("join");
        let fx = rooms.leave(t0, &a);
        assert_eq!(
            fx.outbox,
            vec![(b.clone(), ServerMessage::ParticipantLeft { id: a.clone() })]
        );
        assert!(
            rooms.leave(t0, &a).outbox.is_empty(),
            "leaving twice changes nothing"
        );
        rooms.leave(t0, &b);
        let again = rooms
            .join(
                t0,
                room("salon12345"),
                a,
                name("Alice"),
                Role::Moderator,
                false,
            )
            .expect("join")
            .admitted[0]
            .media_key;
        assert_ne!(again, first);
    }

    #[test]
    fn resync_gives_the_room_as_it_is_now_and_nothing_for_the_absent() {
        let t0 = Instant::now();
        let mut rooms = Rooms::new(RoomPolicy::default());
        let (a, g, w) = (
            ParticipantId::random(),
            ParticipantId::random(),
            ParticipantId::random(),
        );
        rooms
            .join(
                t0,
                room("salon12345"),
                a.clone(),
                name("Alice"),
                Role::Moderator,
                false,
            )
            .expect("join");
        rooms
            .join(
                t0,
                room("salon12345"),
                g.clone(),
                name("Gaston"),
                Role::Guest,
                false,
            )
            .expect("join");
        rooms
            .join(
                t0,
                room("autre123456"),
                w.clone(),
                name("Wanda"),
                Role::Guest,
                false,
            )
            .expect("join");
        let msgs = rooms.resync(&g).expect("in a room");
        match &msgs[0] {
            ServerMessage::Welcome {
                you,
                role,
                participants,
                ..
            } => {
                assert_eq!(you, &g);
                assert_eq!(*role, Role::Guest);
                assert_eq!(
                    participants
                        .iter()
                        .map(|p| p.id.clone())
                        .collect::<Vec<_>>(),
                    vec![a.clone()]
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(msgs[1], ServerMessage::Hands { queue: vec![] });
        assert_eq!(msgs[2], ServerMessage::RoomState { locked: false });
        assert_eq!(msgs[3], ServerMessage::BoardState { objects: vec![] });
        assert!(rooms.media_key_of(&g).is_some());
        assert_eq!(rooms.media_key_of(&g), rooms.media_key_of(&a));
        assert!(rooms.media_key_of(&w).is_none());
        assert!(
            rooms.resync(&w).is_none(),
            "a waiting guest has no room to resync"
        );
        rooms.leave(t0, &g);
        assert!(rooms.resync(&g).is_none(), "gone");
    }

    #[test]
    fn media_state_is_told_to_the_others_only_when_it_changes() {
        let t0 = Instant::now();
        let mut rooms = Rooms::new(RoomPolicy::default());
        let (a, b) = (ParticipantId::random(), ParticipantId::random());
        rooms
            .join(
                t0,
                room("salon12345"),
                a.clone(),
                name("Alice"),
                Role::Moderator,
                false,
            )
            .expect("join");
        rooms
            .join(
                t0,
                room("salon12345"),
                b.clone(),
                name("Bob"),
                Role::Guest,
                false,
            )
            .expect("join");
        let fx = rooms.set_media_state(&a, false, true, false);
        assert_eq!(fx.outbox.len(), 1);
        assert_eq!(fx.outbox[0].0, b);
        assert!(rooms
            .set_media_state(&a, false, true, false)
            .outbox
            .is_empty());
        assert!(rooms
            .set_media_state(&ParticipantId::random(), false, false, false)
            .outbox
            .is_empty());
    }

    #[test]
    fn rooms_are_separate() {
        let t0 = Instant::now();
        let mut rooms = Rooms::new(RoomPolicy::default());
        let (a, b) = (ParticipantId::random(), ParticipantId::random());
        rooms
            .join(
                t0,
                room("salon12345"),
                a.clone(),
                name("Alice"),
                Role::Moderator,
                false,
            )
            .expect("join");
        let fx = rooms
            .join(
                t0,
                room("autre12345"),
                b,
                name("Bob"),
                Role::Moderator,
                false,
            )
            .expect("join");
        assert_eq!(fx.outbox.len(), 1, "only its own welcome");
        assert_eq!(rooms.members(&room("salon12345")), vec![a]);
    }
}
