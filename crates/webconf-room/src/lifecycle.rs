//! Timed closures: idle rooms, rooms past their maximum duration, guests who waited too long.
//! The caller calls [`Rooms::handle_timeout`] about once a second with the current time.

use std::time::Instant;

use crate::names::{ParticipantId, RoomName};
use crate::protocol::{EndReason, ServerMessage};
use crate::rooms::{Effects, Room, Rooms};

impl Rooms {
    /// Applies every closure and warning due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) -> Effects {
        let mut fx = Effects::default();
        let policy = self.policy.clone();

        let mut to_end: Vec<(RoomName, EndReason)> = Vec::new();
        for (name, room) in self.rooms.iter_mut() {
            let Some((reason, deadline)) = next_closure(room, &policy) else {
                continue;
            };
            if now >= deadline {
                to_end.push((name.clone(), reason));
                continue;
            }
            let warn_at = deadline.checked_sub(policy.warning).unwrap_or(deadline);
            if now >= warn_at && room.warned != Some((reason, deadline)) {
                room.warned = Some((reason, deadline));
                let in_secs = deadline.saturating_duration_since(now).as_secs().max(1);
                for m in &room.members {
                    fx.outbox
                        .push((m.id.clone(), ServerMessage::RoomEnding { reason, in_secs }));
                }
            }
        }
        for (name, reason) in to_end {
            fx.merge(self.end_room(&name, reason));
        }

        let mut expired: Vec<(RoomName, ParticipantId)> = Vec::new();
        for (room, list) in &self.waiting {
            for w in list {
                if now.saturating_duration_since(w.since) >= policy.waiting_timeout {
                    expired.push((room.clone(), w.id.clone()));
                }
            }
        }
        for (room, id) in expired {
            self.evict_waiter(&room, &id, &mut fx);
        }
        fx
    }
}

/// The earliest timed closure of a room, and why.
fn next_closure(room: &Room, policy: &crate::rooms::RoomPolicy) -> Option<(EndReason, Instant)> {
    let max = (EndReason::MaxDuration, room.opened_at + policy.max_duration);
    let mut idle_start = room.last_activity;
    if let Some(alone) = room.alone_since {
        idle_start = idle_start.min(alone);
    }
    let idle = (EndReason::Idle, idle_start + policy.idle);
    Some(if idle.1 < max.1 { idle } else { max })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::names::DisplayName;
    use crate::protocol::Role;
    use crate::rooms::RoomPolicy;

    fn room(s: &str) -> RoomName {
        RoomName::parse(s).expect("room")
    }

    fn name(s: &str) -> DisplayName {
        DisplayName::parse(s).expect("name")
    }

    fn policy() -> RoomPolicy {
        RoomPolicy {
            waiting_timeout: Duration::from_secs(300),
            idle: Duration::from_secs(600),
            max_duration: Duration::from_secs(3600),
            warning: Duration::from_secs(60),
        }
    }

    fn ended(fx: &Effects, id: &ParticipantId) -> Option<EndReason> {
        fx.outbox.iter().find_map(|(to, m)| match m {
            ServerMessage::RoomEnded { reason } if to == id => Some(*reason),
            _ => None,
        })
    }

    fn warned(fx: &Effects, id: &ParticipantId) -> Option<(EndReason, u64)> {
        fx.outbox.iter().find_map(|(to, m)| match m {
            ServerMessage::RoomEnding { reason, in_secs } if to == id => Some((*reason, *in_secs)),
            _ => None,
        })
    }

    #[test]
    fn a_room_alone_for_the_idle_time_is_warned_then_closed() {
        let t0 = Instant::now();
        let mut rooms = Rooms::new(policy());
        let a = ParticipantId::random();
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
        rooms.media_seen(t0 + Duration::from_secs(500), 1);
        // Media alone does not keep a single participant's room open.
        let fx = rooms.handle_timeout(t0 + Duration::from_secs(539));
        assert!(fx.outbox.is_empty());
        let fx = rooms.handle_timeout(t0 + Duration::from_secs(540));
        assert_eq!(warned(&fx, &a), Some((EndReason::Idle, 60)));
        // Warned once only.
        assert!(rooms
            .handle_timeout(t0 + Duration::from_secs(541))
            .outbox
            .is_empty());
        let fx = rooms.handle_timeout(t0 + Duration::from_secs(600));
        assert_eq!(ended(&fx, &a), Some(EndReason::Idle));
        assert_eq!(fx.evicted, vec![a]);
        assert_eq!(fx.closed.len(), 1);
        assert_eq!(rooms.room_count(), 0);
    }

    #[test]
    fn two_people_with_media_stay_until_the_maximum_duration() {
        let t0 = Instant::now();
        let mut rooms = Rooms::new(policy());
        let (a, b) = (ParticipantId::random(), ParticipantId::random());
        let key = rooms
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
                Role::Guest,
                false,
            )
            .expect("join");
        let mut t = t0;
        let mut warning = None;
        while t < t0 + Duration::from_secs(3599) {
            t += Duration::from_secs(1);
            rooms.media_seen(t, key);
            let fx = rooms.handle_timeout(t);
            assert!(fx.evicted.is_empty(), "closed early at {:?}", t - t0);
            if let Some(w) = warned(&fx, &b) {
                warning = Some((w, t - t0));
            }
        }
        assert_eq!(
            warning,
            Some(((EndReason::MaxDuration, 60), Duration::from_secs(3540)))
        );
        let fx = rooms.handle_timeout(t0 + Duration::from_secs(3600));
        assert_eq!(ended(&fx, &a), Some(EndReason::MaxDuration));
        assert_eq!(ended(&fx, &b), Some(EndReason::MaxDuration));
    }

    #[test]
    fn two_people_without_media_are_idle() {
        let t0 = Instant::now();
        let mut rooms = Rooms::new(policy());
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
                b,
                name("Bob"),
                Role::Moderator,
                false,
            )
            .expect("join");
        let fx = rooms.handle_timeout(t0 + Duration::from_secs(600));
        assert_eq!(ended(&fx, &a), Some(EndReason::Idle));
    }

    #[test]
    fn a_join_moves_the_idle_deadline_and_a_new_warning_can_come() {
        let t0 = Instant::now();
        let mut rooms = Rooms::new(policy());
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
        assert!(warned(&rooms.handle_timeout(t0 + Duration::from_secs(550)), &a).is_some());
        let t1 = t0 + Duration::from_secs(560);
        rooms
            .join(
                t1,
                room("salon12345"),
                b.clone(),
                name("Bob"),
                Role::Guest,
                false,
            )
            .expect("join");
        rooms.leave(t1 + Duration::from_secs(1), &b);
        let fx = rooms.handle_timeout(t0 + Duration::from_secs(600));
        assert!(fx.evicted.is_empty());
        let fx = rooms.handle_timeout(t1 + Duration::from_secs(545));
        assert!(warned(&fx, &a).is_some());
    }

    #[test]
    fn a_guest_who_waits_too_long_is_told_and_evicted() {
        let t0 = Instant::now();
        let mut rooms = Rooms::new(policy());
        let g = ParticipantId::random();
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
        assert!(rooms
            .handle_timeout(t0 + Duration::from_secs(299))
            .evicted
            .is_empty());
        let fx = rooms.handle_timeout(t0 + Duration::from_secs(300));
        assert_eq!(ended(&fx, &g), Some(EndReason::WaitTimeout));
        assert_eq!(fx.evicted, vec![g.clone()]);
        assert!(!rooms.is_waiting(&g));
        assert_eq!(rooms.participant_count(), 0);
    }
}
