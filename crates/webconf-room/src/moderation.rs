//! What happens inside an open room beyond arriving and leaving: chat, hands, reactions, and
//! the moderators' controls. Every moderator action checks the sender's role here, so a guest
//! is refused whatever its client does.

use std::time::Instant;

use crate::names::ParticipantId;
use crate::protocol::{EndReason, MediaKindName, Role, ServerMessage, MAX_CHAT_CHARS, REACTIONS};
use crate::rooms::{Effects, MediaControl, Member, Room, Rooms};

/// Why an action in a room was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// The sender is in no room (or still waiting).
    #[error("you are not in a room")]
    NotInRoom,
    /// The sender is not a moderator.
    #[error("only moderators may do this")]
    Forbidden,
    /// The target (or private-message recipient) is not in the room.
    #[error("that participant is not in the room")]
    NotFound,
    /// Empty or too long chat message, unknown reaction, bad password length.
    #[error("invalid content")]
    Invalid,
}

/// A moderator's control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModeratorAction {
    /// Stop forwarding someone's microphone.
    Mute(ParticipantId),
    /// Stop forwarding everyone else's microphone.
    MuteAll,
    /// Stop forwarding someone's camera.
    CameraOff(ParticipantId),
    /// Put someone out of the room.
    Remove(ParticipantId),
    /// Make someone moderator.
    Promote(ParticipantId),
    /// Lower every hand.
    LowerHands,
    /// End the meeting for everyone.
    EndMeeting,
}

/// Password length limits, in characters.
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 4..=128;

impl Rooms {
    /// The room and index of a participant who is in a room.
    fn locate(&mut self, id: &ParticipantId) -> Result<&mut Room, ActionError> {
        let name = self.room_of(id).cloned().ok_or(ActionError::NotInRoom)?;
        self.rooms.get_mut(&name).ok_or(ActionError::NotInRoom)
    }

    /// A chat message, to everyone or privately. The text is trimmed; it is never stored.
    pub fn chat(
        &mut self,
        from: &ParticipantId,
        text: &str,
        to: Option<&ParticipantId>,
    ) -> Result<Effects, ActionError> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_CHAT_CHARS {
            return Err(ActionError::Invalid);
        }
        let room = self.locate(from)?;
        let name = member(room, from)
            .ok_or(ActionError::NotInRoom)?
            .name
            .as_str()
            .to_owned();
        let mut fx = Effects::default();
        match to {
            None => {
                let msg = ServerMessage::Chat {
                    from: from.clone(),
                    name,
                    text: text.to_owned(),
                    private: false,
                    to: None,
                };
                for m in &room.members {
                    fx.outbox.push((m.id.clone(), msg.clone()));
                }
            }
            Some(to) => {
                if member(room, to).is_none() {
                    return Err(ActionError::NotFound);
                }
                let msg = ServerMessage::Chat {
                    from: from.clone(),
                    name,
                    text: text.to_owned(),
                    private: true,
                    to: Some(to.clone()),
                };
                fx.outbox.push((to.clone(), msg.clone()));
                if to != from {
                    fx.outbox.push((from.clone(), msg));
                }
            }
        }
        Ok(fx)
    }

    /// Raises or lowers a hand; the queue keeps the order hands were raised.
    pub fn raise_hand(&mut self, id: &ParticipantId, raised: bool) -> Result<Effects, ActionError> {
        let room = self.locate(id)?;
        let was = room.hands.contains(id);
        if raised && !was {
            room.hands.push(id.clone());
        } else if !raised && was {
            room.hands.retain(|h| h != id);
        } else {
            return Ok(Effects::default());
        }
        Ok(hands_to_all(room))
    }

    /// An emoji reaction, shown to everyone.
    pub fn reaction(&mut self, from: &ParticipantId, emoji: &str) -> Result<Effects, ActionError> {
        if !REACTIONS.contains(&emoji) {
            return Err(ActionError::Invalid);
        }
        let room = self.locate(from)?;
        let mut fx = Effects::default();
        for m in &room.members {
            fx.outbox.push((
                m.id.clone(),
                ServerMessage::Reaction {
                    from: from.clone(),
                    emoji: emoji.to_owned(),
                },
            ));
        }
        Ok(fx)
    }

    /// Whether `id` is a moderator in its room.
    pub fn is_moderator(&self, id: &ParticipantId) -> bool {
        self.room_of(id)
            .and_then(|r| self.rooms.get(r))
            .and_then(|room| room.members.iter().find(|m| &m.id == id))
            .is_some_and(|m| m.role == Role::Moderator)
    }

    /// A moderator's control, refused unless `by` is a moderator of the room.
    pub fn moderate(
        &mut self,
        now: Instant,
        by: &ParticipantId,
        action: ModeratorAction,
    ) -> Result<Effects, ActionError> {
        if self.room_of(by).is_none() {
            return Err(ActionError::NotInRoom);
        }
        if !self.is_moderator(by) {
            return Err(ActionError::Forbidden);
        }
        let room_name = self.room_of(by).cloned().ok_or(ActionError::NotInRoom)?;
        let room = self
            .rooms
            .get_mut(&room_name)
            .ok_or(ActionError::NotInRoom)?;
        let by_name = member(room, by)
            .map(|m| m.name.as_str().to_owned())
            .unwrap_or_default();
        let mut fx = Effects::default();
        match action {
            ModeratorAction::Mute(target) => {
                let m = member_mut(room, &target).ok_or(ActionError::NotFound)?;
                block(m, MediaKindName::Audio, &by_name, &mut fx);
                fx.outbox.extend(updated_to_all(room, &target));
            }
            ModeratorAction::MuteAll => {
                let ids: Vec<ParticipantId> = room
                    .members
                    .iter()
                    .map(|m| m.id.clone())
                    .filter(|id| id != by)
                    .collect();
                for id in ids {
                    if let Some(m) = member_mut(room, &id) {
                        block(m, MediaKindName::Audio, &by_name, &mut fx);
                    }
                    fx.outbox.extend(updated_to_all(room, &id));
                }
            }
            ModeratorAction::CameraOff(target) => {
                let m = member_mut(room, &target).ok_or(ActionError::NotFound)?;
                block(m, MediaKindName::Video, &by_name, &mut fx);
                fx.outbox.extend(updated_to_all(room, &target));
            }
            ModeratorAction::Promote(target) => {
                let m = member_mut(room, &target).ok_or(ActionError::NotFound)?;
                m.role = Role::Moderator;
                fx.outbox.extend(updated_to_all(room, &target));
            }
            ModeratorAction::LowerHands => {
                room.hands.clear();
                fx.merge(hands_to_all(room));
            }
            ModeratorAction::Remove(target) => {
                if member(room, &target).is_none() {
                    return Err(ActionError::NotFound);
                }
                fx.outbox
                    .push((target.clone(), ServerMessage::Removed { by: by_name }));
                fx.evicted.push(target.clone());
                // Taken out like a hang-up: the others are told, hands are updated; the room
                // cannot end here since the moderator who acted stays.
                fx.merge(self.leave(now, &target));
            }
            ModeratorAction::EndMeeting => {
                fx.merge(self.end_room(&room_name, EndReason::Ended));
            }
        }
        Ok(fx)
    }

    /// The Argon2id hash of the room's password, to verify a guest's password against.
    pub fn password_hash(&self, room: &crate::RoomName) -> Option<&str> {
        self.rooms
            .get(room)
            .and_then(|r| r.password_hash.as_deref())
    }

    /// Sets (or with `None` removes) a room's password hash, on behalf of moderator `by`;
    /// everyone is told whether the room is protected. The caller hashes the password (slow,
    /// off the engine loop) and calls this with the result.
    pub fn set_password_hash(
        &mut self,
        by: &ParticipantId,
        hash: Option<String>,
    ) -> Result<Effects, ActionError> {
        if !self.is_moderator(by) {
            return Err(if self.room_of(by).is_some() {
                ActionError::Forbidden
            } else {
                ActionError::NotInRoom
            });
        }
        let room = self.locate(by)?;
        room.password_hash = hash;
        let locked = room.password_hash.is_some();
        let mut fx = Effects::default();
        for m in &room.members {
            fx.outbox
                .push((m.id.clone(), ServerMessage::RoomState { locked }));
        }
        Ok(fx)
    }
}

fn member<'a>(room: &'a Room, id: &ParticipantId) -> Option<&'a Member> {
    room.members.iter().find(|m| &m.id == id)
}

fn member_mut<'a>(room: &'a mut Room, id: &ParticipantId) -> Option<&'a mut Member> {
    room.members.iter_mut().find(|m| &m.id == id)
}

fn block(m: &mut Member, kind: MediaKindName, by: &str, fx: &mut Effects) {
    match kind {
        MediaKindName::Audio => {
            m.blocked_audio = true;
            m.audio = false;
        }
        MediaKindName::Video => {
            m.blocked_video = true;
            m.video = false;
        }
    }
    fx.media_control.push(MediaControl {
        id: m.id.clone(),
        audio: !m.blocked_audio,
        video: !m.blocked_video,
    });
    fx.outbox.push((
        m.id.clone(),
        ServerMessage::Muted {
            kind,
            by: by.to_owned(),
        },
    ));
}

fn updated_to_all(room: &Room, id: &ParticipantId) -> Vec<(ParticipantId, ServerMessage)> {
    let Some(info) = member(room, id).map(|m| m.info()) else {
        return Vec::new();
    };
    room.members
        .iter()
        .map(|m| {
            (
                m.id.clone(),
                ServerMessage::ParticipantUpdated {
                    participant: info.clone(),
                },
            )
        })
        .collect()
}

fn hands_to_all(room: &Room) -> Effects {
    let mut fx = Effects::default();
    for m in &room.members {
        fx.outbox.push((
            m.id.clone(),
            ServerMessage::Hands {
                queue: room.hands.clone(),
            },
        ));
    }
    fx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{DisplayName, RoomName};
    use crate::rooms::{JoinError, RoomPolicy};

    struct Call {
        rooms: Rooms,
        now: Instant,
        a: ParticipantId,
        g: ParticipantId,
        h: ParticipantId,
    }

    /// Alice (moderator), Gaston and Hélène (guests) in one room.
    fn call() -> Call {
        let now = Instant::now();
        let mut rooms = Rooms::new(RoomPolicy::default());
        let room = RoomName::parse("salon12345").expect("room");
        let (a, g, h) = (
            ParticipantId::random(),
            ParticipantId::random(),
            ParticipantId::random(),
        );
        for (id, name, role) in [
            (&a, "Alice", Role::Moderator),
            (&g, "Gaston", Role::Guest),
            (&h, "Hélène", Role::Guest),
        ] {
            rooms
                .join(
                    now,
                    room.clone(),
                    id.clone(),
                    DisplayName::parse(name).expect("name"),
                    role,
                    false,
                )
                .expect("join");
        }
        Call {
            rooms,
            now,
            a,
            g,
            h,
        }
    }

    fn recipients(fx: &Effects, pred: impl Fn(&ServerMessage) -> bool) -> Vec<ParticipantId> {
        fx.outbox
            .iter()
            .filter(|(_, m)| pred(m))
            .map(|(to, _)| to.clone())
            .collect()
    }

    #[test]
    fn every_moderator_action_from_a_guest_is_refused_and_changes_nothing() {
        let mut c = call();
        let actions = [
            ModeratorAction::Mute(c.a.clone()),
            ModeratorAction::MuteAll,
            ModeratorAction::CameraOff(c.h.clone()),
            ModeratorAction::Remove(c.a.clone()),
            ModeratorAction::Promote(c.g.clone()),
            ModeratorAction::LowerHands,
            ModeratorAction::EndMeeting,
        ];
        for action in actions {
            assert_eq!(
                c.rooms.moderate(c.now, &c.g, action.clone()).err(),
                Some(ActionError::Forbidden),
                "{action:?}"
            );
        }
        assert_eq!(
            c.rooms.set_password_hash(&c.g, Some("x".into())).err(),
            Some(ActionError::Forbidden)
        );
        assert_eq!(c.rooms.room_count(), 1);
        assert_eq!(c.rooms.participant_count(), 3);
        assert!(!c.rooms.is_moderator(&c.g));
        assert!(c
            .rooms
            .password_hash(&RoomName::parse("salon12345").expect("room"))
            .is_none());
    }

    #[test]
    fn mute_blocks_forwarding_until_the_person_unmutes() {
        let mut c = call();
        let fx = c
            .rooms
            .moderate(c.now, &c.a, ModeratorAction::Mute(c.g.clone()))
            .expect("mute");
        assert_eq!(
            fx.media_control,
            vec![MediaControl {
                id: c.g.clone(),
                audio: false,
                video: true
            }]
        );
        assert_eq!(
            recipients(&fx, |m| matches!(
                m,
                ServerMessage::Muted {
                    kind: MediaKindName::Audio,
                    ..
                }
            )),
            vec![c.g.clone()]
        );
        assert_eq!(recipients(&fx, |m| matches!(m, ServerMessage::ParticipantUpdated { participant } if !participant.audio)).len(), 3);
        // Turning the camera off and on again does not lift the microphone block.
        let fx = c.rooms.set_media_state(&c.g, false, true, false);
        assert!(fx.media_control.is_empty());
        let fx = c.rooms.set_media_state(&c.g, true, true, false);
        assert_eq!(
            fx.media_control,
            vec![MediaControl {
                id: c.g.clone(),
                audio: true,
                video: true
            }]
        );
    }

    #[test]
    fn mute_all_spares_the_moderator() {
        let mut c = call();
        let fx = c
            .rooms
            .moderate(c.now, &c.a, ModeratorAction::MuteAll)
            .expect("mute all");
        let mut muted: Vec<_> = fx.media_control.iter().map(|m| m.id.clone()).collect();
        muted.sort();
        let mut expected = vec![c.g.clone(), c.h.clone()];
        expected.sort();
        assert_eq!(muted, expected);
    }

    #[test]
    fn private_chat_reaches_only_its_recipient_and_sender() {
        let mut c = call();
        let fx = c.rooms.chat(&c.g, "  psst  ", Some(&c.h)).expect("chat");
        let mut to = recipients(
            &fx,
            |m| matches!(m, ServerMessage::Chat { private: true, text, .. } if text == "psst"),
        );
        to.sort();
        let mut expected = vec![c.g.clone(), c.h.clone()];
        expected.sort();
        assert_eq!(to, expected);
        assert!(!fx.outbox.iter().any(|(r, _)| r == &c.a));
        let fx = c.rooms.chat(&c.g, "hello", None).expect("chat");
        assert_eq!(fx.outbox.len(), 3);
        assert_eq!(
            c.rooms.chat(&c.g, "   ", None).err(),
            Some(ActionError::Invalid)
        );
        assert_eq!(
            c.rooms.chat(&c.g, &"x".repeat(2001), None).err(),
            Some(ActionError::Invalid)
        );
        assert_eq!(
            c.rooms
                .chat(&c.g, "hi", Some(&ParticipantId::random()))
                .err(),
            Some(ActionError::NotFound)
        );
    }

    #[test]
    fn hands_keep_their_order_and_a_moderator_lowers_them() {
        let mut c = call();
        c.rooms.raise_hand(&c.h, true).expect("raise");
        let fx = c.rooms.raise_hand(&c.g, true).expect("raise");
        assert!(fx.outbox.iter().all(|(_, m)| m
            == &ServerMessage::Hands {
                queue: vec![c.h.clone(), c.g.clone()]
            }));
        assert!(c
            .rooms
            .raise_hand(&c.g, true)
            .expect("again")
            .outbox
            .is_empty());
        let fx = c
            .rooms
            .moderate(c.now, &c.a, ModeratorAction::LowerHands)
            .expect("lower");
        assert!(fx
            .outbox
            .iter()
            .all(|(_, m)| m == &ServerMessage::Hands { queue: vec![] }));
        assert_eq!(
            c.rooms.reaction(&c.g, "👏").expect("reaction").outbox.len(),
            3
        );
        assert_eq!(
            c.rooms.reaction(&c.g, "💩").err(),
            Some(ActionError::Invalid)
        );
    }

    #[test]
    fn remove_promote_and_end() {
        let mut c = call();
        let fx = c
            .rooms
            .moderate(c.now, &c.a, ModeratorAction::Remove(c.h.clone()))
            .expect("remove");
        assert_eq!(fx.evicted, vec![c.h.clone()]);
        assert!(fx
            .outbox
            .contains(&(c.h.clone(), ServerMessage::Removed { by: "Alice".into() })));
        assert!(fx.outbox.contains(&(
            c.g.clone(),
            ServerMessage::ParticipantLeft { id: c.h.clone() }
        )));
        assert_eq!(c.rooms.participant_count(), 2);
        c.rooms
            .moderate(c.now, &c.a, ModeratorAction::Promote(c.g.clone()))
            .expect("promote");
        assert!(c.rooms.is_moderator(&c.g));
        // The promoted guest keeps the room open after the agent leaves.
        assert!(c.rooms.leave(c.now, &c.a).evicted.is_empty());
        let fx = c
            .rooms
            .moderate(c.now, &c.g, ModeratorAction::EndMeeting)
            .expect("end");
        assert_eq!(fx.evicted, vec![c.g.clone()]);
        assert_eq!(c.rooms.room_count(), 0);
    }

    #[test]
    fn a_protected_room_refuses_unverified_guests_but_not_agents() {
        let mut c = call();
        let fx = c
            .rooms
            .set_password_hash(&c.a, Some("$argon2id$stub".into()))
            .expect("set");
        assert!(fx
            .outbox
            .iter()
            .all(|(_, m)| m == &ServerMessage::RoomState { locked: true }));
        let room = RoomName::parse("salon12345").expect("room");
        let name = DisplayName::parse("Ines").expect("name");
        let i = ParticipantId::random();
        assert_eq!(
            c.rooms
                .join(
                    c.now,
                    room.clone(),
                    i.clone(),
                    name.clone(),
                    Role::Guest,
                    false
                )
                .err(),
            Some(JoinError::Locked)
        );
        assert_eq!(c.rooms.participant_count(), 3);
        let fx = c
            .rooms
            .join(
                c.now,
                room.clone(),
                i.clone(),
                name.clone(),
                Role::Guest,
                true,
            )
            .expect("verified");
        assert!(fx
            .outbox
            .contains(&(i.clone(), ServerMessage::RoomState { locked: true })));
        let agent = ParticipantId::random();
        assert!(c
            .rooms
            .join(c.now, room.clone(), agent, name, Role::Moderator, false)
            .is_ok());
        c.rooms.set_password_hash(&c.a, None).expect("remove");
        assert!(c.rooms.password_hash(&room).is_none());
    }
}
