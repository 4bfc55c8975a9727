//! Slots: each subscriber's session has a small pool of forwarded microphone tracks, at most
//! [`crate::SfuConfig::audio_last_n`], and of forwarded camera tracks, at most
//! [`crate::SfuConfig::last_n`], that carry in turn the microphones the audio last-N picks and
//! the cameras the last-N picks, instead of one forwarded track per microphone and camera of
//! the room. Screens (and their sound) are still forwarded one track each.
//!
//! Why: str0m's session work grows with its streams (each timeout walks every stream, each
//! poll of its send queue scans them all, each stream keeps its buffers), and in a room of N a
//! subscriber received 2 (N - 1) tracks of which at most `audio_last_n + last_n` ever carried
//! anything. With slots, a session holds at most `audio_last_n + last_n` streams (14) whatever
//! the size of the room, and a join or a leave no longer renegotiates every session once the
//! pools are full. Jitsi's bridge does the same with SSRC rewriting; here a slot keeps its
//! m-line and SSRC, and [`crate::forward`]'s rewriting keeps its sequence numbers, VP8 picture
//! ids and RTP times continuous across a change of source, as across a pause.
//!
//! What each slot carries is told to the browser ([`crate::SfuOutput::Slots`], the `slots`
//! message of docs/protocol.md): a microphone slot's when it is given (the browser plays every
//! microphone slot whatever it carries; the table only names the speaker), a camera slot's
//! when it is let go and when the first packet of its new camera (a keyframe) is sent, so the
//! browser moves the slot's picture to the right tile with that picture.
//!
//! Microphones: the loudest known first, then those that sent no audio level yet, in join
//! order. A slot keeps its microphone while it stays among them, so a change of the loudest
//! moves one slot, not all; and a microphone that has a slot counts [`STICKY`] louder than it
//! is, so two quiet rooms' noise floors trading places by a decibel do not swap a slot (and
//! send a table) every allocation. A microphone a moderator blocked ([`Sfu::set_forwarding`])
//! or its owner turned off ([`Sfu::set_microphone_on`]: the browser keeps its audio m-line and
//! may send silence, so the core still has the track) takes no place: the slot goes to the
//! next, and the browser's idle rule (web/js/slots.js) is not misled by a slot carrying a
//! microphone that is off. Cameras: the allocation's (`alloc.rs`): those given a
//! layer; camera slots are opened ahead, up to the number of cameras published, so a camera
//! that starts later finds its m-line negotiated.

use std::time::Instant;

use str0m::media::{MediaKind, Mid};

use crate::peer::{Peer, TrackLabel, TrackOut, TrackOutState};
use crate::sfu::Sfu;
use crate::speaker::MARGIN;
use crate::{PeerId, RoomId, SfuError, SfuOutput, SlotInfo};

/// How much louder (dB) a microphone must be than one that has a slot to take it: the speaker
/// detector's own margin for a change of active speaker.
const STICKY: f32 = MARGIN;

impl Sfu {
    /// Gives `peer`'s microphone slots to the microphones it should hear now, opening slots
    /// (up to `audio_last_n`) when it has fewer than it needs, and reports a changed table.
    pub(crate) fn assign_mics(&mut self, now: Instant, peer: PeerId) {
        let Some(p) = self.peers.get(&peer) else {
            return;
        };
        if !p.offered {
            // Its first server offer will hold them (`handle_offer`).
            return;
        }
        let cap = self.config.audio_last_n;
        let carried: Vec<(PeerId, Mid)> = p
            .tracks_out
            .iter()
            .filter(|t| t.slot.is_some() && t.kind == MediaKind::Audio)
            .filter_map(|t| t.source)
            .collect();
        let wanted = self.wanted_mics(now, peer, p.room, cap, &carried);
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        if fill_slots(p, MediaKind::Audio, &wanted, cap, 0) {
            self.negotiate(peer);
        }
        self.publish_slots(peer);
    }

    /// The microphones `peer` should hear, at most `cap`, in order: the loudest the room's
    /// detector knows (those `carried` now counted [`STICKY`] louder), then those that sent no
    /// audio level yet in join order. One's own is never sent back, and a microphone a
    /// moderator blocked, or one its owner turned off ([`Sfu::set_microphone_on`]), takes no
    /// place.
    fn wanted_mics(
        &self,
        now: Instant,
        peer: PeerId,
        room: RoomId,
        cap: usize,
        carried: &[(PeerId, Mid)],
    ) -> Vec<(PeerId, Mid)> {
        let mic = |s: PeerId| -> Option<(PeerId, Mid)> {
            let p = self.peers.get(&s)?;
            if s == peer || !p.forwards_microphone() {
                return None;
            }
            let t = p.tracks_in.iter().find(|t| t.label == TrackLabel::Audio)?;
            Some((s, t.mid))
        };
        let detector = self.speakers.get(&room);
        let mut wanted = Vec::with_capacity(cap);
        if let Some(d) = detector {
            let mut ranked: Vec<((PeerId, Mid), f32)> = d
                .loudest(now, usize::MAX)
                .into_iter()
                .filter_map(mic)
                .map(|m| {
                    let bonus = if carried.contains(&m) { STICKY } else { 0.0 };
                    (m, d.loudness(now, m.0) + bonus)
                })
                .collect();
            // Stable: equals keep the detector's order.
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            wanted.extend(ranked.into_iter().take(cap).map(|(m, _)| m));
        }
        for s in self.rooms.get(&room).into_iter().flatten() {
            if wanted.len() >= cap {
                break;
            }
            if detector.is_some_and(|d| d.knows(*s)) {
                continue;
            }
            if let Some(m) = mic(*s) {
                wanted.push(m);
            }
        }
        wanted
    }

    /// Reports `peer`'s slot table if it changed since last reported. Called at every
    /// allocation for every peer: the table is compared as [`SlotKey`]s, and its strings are
    /// made only when it changed.
    pub(crate) fn publish_slots(&mut self, peer: PeerId) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let keys = slot_keys(p);
        if keys != p.slots_sent {
            let table = slot_table(&keys);
            p.slots_sent = keys;
            self.outputs
                .push_back(SfuOutput::Slots { peer, slots: table });
        }
    }

    /// What each microphone slot of `peer`'s session carries now (sent again after a
    /// `resume`: the last report may have been lost with the old socket).
    pub fn slots(&self, peer: PeerId) -> Result<Vec<SlotInfo>, SfuError> {
        let p = self.peers.get(&peer).ok_or(SfuError::UnknownPeer(peer))?;
        Ok(slot_table(&slot_keys(p)))
    }
}

/// Gives `p`'s slots of `kind` to `wanted` (at most `cap`, in priority order): a slot keeps
/// what it carries while that is wanted; the wanted not carried yet get the other slots, empty
/// ones first, and new slots while there are fewer than `cap`; slots left over carry nothing.
/// Slots are also opened, empty, up to `ahead` (at most `cap`), so that a camera that starts
/// later finds its m-line negotiated. Returns whether slots were opened (to negotiate).
pub(crate) fn fill_slots(
    p: &mut Peer,
    kind: MediaKind,
    wanted: &[(PeerId, Mid)],
    cap: usize,
    ahead: usize,
) -> bool {
    let is_slot = |t: &TrackOut| t.slot.is_some() && t.kind == kind;
    let missing: Vec<(PeerId, Mid)> = wanted
        .iter()
        .take(cap)
        .filter(|m| {
            !p.tracks_out
                .iter()
                .any(|t| is_slot(t) && t.source == Some(**m))
        })
        .copied()
        .collect();
    // Slots whose track is no longer wanted, empty ones first.
    let mut free: Vec<usize> = (0..p.tracks_out.len())
        .filter(|i| {
            let t = &p.tracks_out[*i];
            is_slot(t) && !t.source.is_some_and(|s| wanted.contains(&s))
        })
        .collect();
    free.sort_by_key(|i| p.tracks_out[*i].source.is_some());
    let mut free = free.into_iter();
    let mut count = p.tracks_out.iter().filter(|t| is_slot(t)).count();
    let before = count;
    for m in missing {
        match free.next() {
            Some(i) => p.tracks_out[i].carry(Some(m)),
            None if count < cap => {
                p.tracks_out.push(TrackOut::slot(kind, count, Some(m)));
                count += 1;
            }
            None => break,
        }
    }
    for i in free {
        if p.tracks_out[i].source.is_some() {
            p.tracks_out[i].carry(None);
        }
    }
    while count < ahead.min(cap) {
        p.tracks_out.push(TrackOut::slot(kind, count, None));
        count += 1;
    }
    count > before
}

/// One entry of a slot table, without strings: its place (camera slots after microphone
/// slots, then in the order opened), its m-line and whom it shows.
pub(crate) type SlotKey = ((bool, usize), Mid, Option<PeerId>);

/// The slots of a session that have an m-line, in the order opened.
fn slot_keys(p: &Peer) -> Vec<SlotKey> {
    let mut keys: Vec<SlotKey> = p
        .tracks_out
        .iter()
        .filter(|t| {
            !matches!(
                t.state,
                TrackOutState::ToStop(_) | TrackOutState::NegotiatingStop(_)
            )
        })
        .filter_map(|t| Some(((t.kind == MediaKind::Video, t.slot?), t.mid()?, t.shown)))
        .collect();
    keys.sort_unstable_by_key(|k| k.0);
    keys
}

/// The table the browser is sent (the `slots` message).
fn slot_table(keys: &[SlotKey]) -> Vec<SlotInfo> {
    keys.iter()
        .map(|(_, mid, source)| SlotInfo {
            mid: mid.to_string(),
            source: *source,
        })
        .collect()
}
