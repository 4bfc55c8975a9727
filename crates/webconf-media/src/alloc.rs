//! Deciding, for each subscriber, what it receives: last-N cameras, the layer of each video
//! (tile size, then bandwidth estimate), which microphones; and running the speaker detectors.
//! The policies are pure functions ([`crate::lastn`], [`crate::simulcast`], [`crate::bwe`],
//! [`crate::speaker`]); this module gathers their inputs and applies their answers.

use std::time::Instant;

use str0m::bwe::Bitrate;
use str0m::media::{MediaKind, Mid};

use crate::bwe::{
    allocate, carried_cleanly, ceiling, grow, may_pad, VideoDemand, HOLD, UP_HEADROOM,
};
use crate::peer::{TrackLabel, TrackOutState};
use crate::pool::fill_slots;
use crate::sfu::Sfu;
use crate::simulcast::layer_for_height;
use crate::{lastn, PeerId, RoomId, SfuOutput};

/// What one forwarded audio track is assumed to need (Opus with headers), reserved before
/// video gets anything.
pub(crate) const AUDIO_RESERVE: u64 = 50_000;

/// The estimator is asked to probe up to this factor of what the tiles would like.
const PROBE_FACTOR: f64 = 1.3;

/// After a step down for lack of bandwidth, the estimate stays the ceiling for this long even
/// when it is above what we send: climbing back needs the estimate (raised by padding and
/// probes) to cover the next layer. Past it, videos climb freely again (one layer a second),
/// which re-tests a link that stayed poor at most this often.
const CEILING_AFTER_STEP_DOWN: std::time::Duration = std::time::Duration::from_secs(30);

/// Screen shares and pinned cameras keep their lowest layer up to this much beyond the
/// estimate (Jitsi's bridge: `max-oversend-bitrate = 500 kbps` for the on-stage video)...
const OVERSEND: u64 = 500_000;

/// ... unless the estimate is below this (a link that can barely carry the microphones).
const OVERSEND_MIN_ESTIMATE: u64 = 150_000;

/// str0m's estimator is restarted when its estimate falls below this share of what the path
/// carries cleanly after a loss episode (`bwe::carried_cleanly`)...
const RESET_BELOW: f64 = 0.75;

/// ... at most this often (a restart probes from the new start).
const RESET_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Without congestion, videos climb one layer per this interval at most (see [`grow`]).
const STEP_UP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// One forwarded video, as the allocation sees it.
struct Video {
    /// Its forwarded track (a screen's), or the camera slot carrying it, if any.
    index: Option<usize>,
    source: PeerId,
    /// The camera's or screen's m-line in its publisher's session.
    source_mid: Mid,
    screen: bool,
    pinned: bool,
    heights: Vec<u32>,
    bitrates: Vec<u64>,
    target: Option<usize>,
}

impl Sfu {
    /// Runs the speaker detectors and re-evaluates every subscriber, if due.
    pub(crate) fn maybe_reallocate(&mut self, now: Instant) {
        if self.next_allocation.is_some_and(|t| t > now) {
            return;
        }
        self.next_allocation = Some(now + self.config.allocation_interval);
        let rooms: Vec<RoomId> = self.speakers.keys().copied().collect();
        for room in rooms {
            if let Some(peer) = self.speakers.get_mut(&room).and_then(|d| d.tick(now)) {
                self.outputs
                    .push_back(SfuOutput::ActiveSpeaker { room, peer });
            }
        }
        let peers: Vec<PeerId> = self.peers.keys().copied().collect();
        for peer in peers {
            self.reallocate(now, peer);
        }
    }

    /// Decides what one subscriber receives now.
    pub(crate) fn reallocate(&mut self, now: Instant, peer: PeerId) {
        self.assign_mics(now, peer);
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        if let Some(e) = p.estimate {
            p.estimates.record(now, e);
        }
        let held_estimate = p.estimates.max(now);
        let latest_estimate = p.estimates.latest();
        let Some(p) = self.peers.get(&peer) else {
            return;
        };
        let room = p.room;
        let members = self.rooms.get(&room).map(Vec::as_slice).unwrap_or(&[]);
        let position = |s: PeerId| members.iter().position(|m| *m == s).unwrap_or(usize::MAX);
        let detector = self.speakers.get(&room);
        let recent: Vec<PeerId> = detector.map(|d| d.recent().to_vec()).unwrap_or_default();

        // The videos this subscriber could receive, with their sources' layers; the
        // microphones it hears (screen audio always, slots while they carry one).
        let mut videos: Vec<Video> = Vec::new();
        let mut audio_count: u64 = 0;
        for (index, t) in p.tracks_out.iter().enumerate() {
            if !matches!(
                t.state,
                TrackOutState::Open(_) | TrackOutState::Negotiating(_)
            ) {
                continue;
            }
            if t.kind == MediaKind::Audio {
                audio_count += u64::from(t.fwd.audio_on);
                continue;
            }
            if t.slot.is_some() {
                // Camera slots: gathered with the cameras below.
                continue;
            }
            let Some((source, source_mid)) = t.source else {
                continue;
            };
            if let Some(v) = self.video_of(now, source, source_mid, Some(index), t.fwd.target) {
                videos.push(v);
            }
        }
        // Every other participant's camera, with the slot that carries it, if any.
        let mut cameras_published = 0;
        for source in members.iter().copied().filter(|s| *s != peer) {
            let Some(src) = self.peers.get(&source) else {
                continue;
            };
            for tin in src
                .tracks_in
                .iter()
                .filter(|t| t.label == TrackLabel::Video)
            {
                cameras_published += 1;
                let slot = p.tracks_out.iter().position(|t| {
                    t.slot.is_some()
                        && t.kind == MediaKind::Video
                        && t.source == Some((source, tin.mid))
                });
                let target = slot.and_then(|i| p.tracks_out[i].fwd.target);
                if let Some(v) = self.video_of(now, source, tin.mid, slot, target) {
                    videos.push(v);
                }
            }
        }
        videos.sort_by_key(|v| position(v.source));

        // How big each is shown; `None`: not shown.
        let shown = |v: &Video| -> Option<u32> {
            if v.heights.is_empty() {
                return None;
            }
            match &p.view {
                None => Some(u32::MAX),
                Some(view) => match view
                    .iter()
                    .find(|r| r.source == v.source && r.screen == v.screen)
                {
                    Some(r) => (r.max_height > 0).then_some(r.max_height),
                    // Not (yet) in the view: a tile the client has not reported, e.g. one
                    // just created. Sent at full size until the client says how big it is
                    // (height 0 hides it), so a late or lost `view` never blacks a video out.
                    None => Some(u32::MAX),
                },
            }
        };
        let pinned: Vec<PeerId> = p
            .view
            .iter()
            .flatten()
            .filter(|r| r.pinned && !r.screen)
            .map(|r| r.source)
            .collect();
        for v in &mut videos {
            v.pinned = !v.screen && pinned.contains(&v.source);
        }
        let cameras: Vec<PeerId> = videos
            .iter()
            .filter(|v| !v.screen && shown(v).is_some())
            .map(|v| v.source)
            .collect();
        let chosen = lastn::select(&cameras, &pinned, &recent, self.config.last_n);

        // Priority order: screens, then the chosen cameras in last-N order.
        let mut order: Vec<usize> = (0..videos.len()).filter(|i| videos[*i].screen).collect();
        for c in &chosen {
            order.extend(
                (0..videos.len()).filter(|i| !videos[*i].screen && videos[*i].source == *c),
            );
        }
        let demands: Vec<VideoDemand> = order
            .iter()
            .map(|i| {
                let v = &videos[*i];
                VideoDemand {
                    want: shown(v).and_then(|h| layer_for_height(&v.heights, h)),
                    bitrates: v.bitrates.clone(),
                    // A switch under way counts as done: the allocation holds its own decisions.
                    // Down too: the old layer flows until the new one's keyframe, but keeping
                    // it is a step up (a switch back was cancelling the step down at once when
                    // the ceiling moved).
                    current: v.target,
                    protected: v.screen || v.pinned,
                }
            })
            .collect();
        // The estimate works as a ceiling when it is well below what we really send or the path
        // loses much of it (congested), or for a while after a step down for lack of bandwidth
        // (recovering: climbing back must be earned by the estimate, which padding and probes
        // raise); see `bwe::ceiling`. Otherwise it says little
        // (while the path is not full, str0m's estimate, like libwebrtc's, only follows what we
        // send: it is capped at 1.5 times the acknowledged rate), so videos keep their layers
        // and climb one at a time. The estimate used is the highest of the last `bwe::HOLD`
        // (1.5 s): a momentary dip (a CPU stall read as queueing delay) lowers nothing. A step
        // up must also fit the latest estimate: a momentary high raises nothing either.
        // A transport report's loss counts for `HOLD` (str0m reports every 0.5 s).
        let sent = p.sent.rate().unwrap_or(0);
        let held = self.config.initial_estimate.and(held_estimate);
        let recovering = p
            .last_step_down
            .is_some_and(|t| now.saturating_duration_since(t) < CEILING_AFTER_STEP_DOWN);
        let path = p
            .path
            .filter(|(t, _)| now.saturating_duration_since(*t) <= HOLD)
            .map(|(_, l)| l);
        // A report that ends less than `HOLD` after a step down mixes the loss of the layers
        // before it (str0m's loss window is a second, the switch waits for a keyframe) with
        // the rate after it: it would make the ceiling fall again. The estimate rules then.
        let settled = p.path.is_some_and(|(t, _)| {
            p.last_step_down
                .is_none_or(|d| t.saturating_duration_since(d) >= HOLD)
        });
        let ceiling = ceiling(held, sent, path.filter(|_| settled), recovering);
        let may_step_up = p
            .last_step_down
            .is_none_or(|t| now.saturating_duration_since(t) >= self.config.step_up_delay)
            && p.last_step_up
                .is_none_or(|t| now.saturating_duration_since(t) >= STEP_UP_INTERVAL);
        // After a loss episode, a clean report proves the layers being sent: the estimate
        // (str0m's memory of the overload) does not lower them (`bwe::carried_cleanly`).
        let since_loss = p.lossy_at.map(|t| now.saturating_duration_since(t));
        let carried = carried_cleanly(path, since_loss);
        let cost = |d: &VideoDemand, l: Option<usize>| {
            l.and_then(|l| d.bitrates.get(l))
                .filter(|b| **b != u64::MAX)
                .copied()
                .unwrap_or(0)
        };
        let sending: u64 = demands.iter().map(|d| cost(d, d.current)).sum();
        let alloc = match ceiling {
            Some(estimate) => {
                let mut budget = estimate.saturating_sub(audio_count * AUDIO_RESERVE);
                if carried.is_some() {
                    budget = budget.max(sending);
                }
                // What a step up must fit: the ceiling from the latest estimate if lower (the
                // held one may be a moment's high above what the path carries).
                let raise = latest_estimate
                    .map_or(estimate, |l| estimate.min(l))
                    .saturating_sub(audio_count * AUDIO_RESERVE);
                let oversend = if estimate >= OVERSEND_MIN_ESTIMATE {
                    OVERSEND
                } else {
                    0
                };
                allocate(budget, raise, &demands, may_step_up, oversend)
            }
            None => grow(&demands, may_step_up),
        };
        // What the allocation costs, and what its next step up would: str0m pads up to the
        // latter (capped by its estimate) so the estimate can grow to allow it, unless the
        // path is losing (`bwe::may_pad`).
        let spending: u64 = demands
            .iter()
            .zip(&alloc)
            .map(|(d, l)| cost(d, *l))
            .sum::<u64>()
            + audio_count * AUDIO_RESERVE;
        let next_step = demands.iter().zip(&alloc).find_map(|(d, l)| {
            let want = d.want?;
            let next = (l.map_or(0, |l| l + 1)..=want)
                .find(|n| d.bitrates.get(*n).is_some_and(|b| *b != u64::MAX))?;
            Some(((cost(d, Some(next)) as f64 * UP_HEADROOM) as u64).saturating_sub(cost(d, *l)))
        });
        let minimum = match (ceiling, next_step) {
            (Some(_), Some(extra)) if may_pad(path) => spending + extra,
            _ => 0,
        };
        let desired: u64 = demands
            .iter()
            .filter_map(|d| {
                d.want
                    .and_then(|w| d.bitrates.get(w))
                    .filter(|b| **b != u64::MAX)
            })
            .sum::<u64>()
            + audio_count * AUDIO_RESERVE;

        // Apply: the layer of each video (`None`: paused), then the camera slots to the
        // cameras sent, and their layers.
        let mut targets: Vec<(Option<usize>, Option<usize>)> = vec![(None, None); videos.len()];
        for (k, i) in order.iter().enumerate() {
            targets[*i] = (alloc[k], demands[k].want);
        }
        let mut stepped_down = false;
        let mut stepped_up = false;
        for (v, (target, want)) in videos.iter().zip(&targets) {
            let short = target < want; // `None < Some(_)`: paused or lowered for lack of bandwidth
            if short && *target < v.target {
                stepped_down = true;
            }
            if *target > v.target {
                stepped_up = true;
            }
        }
        let sent_cameras: Vec<((PeerId, Mid), usize)> = videos
            .iter()
            .zip(&targets)
            .filter(|(v, _)| !v.screen)
            .filter_map(|(v, (target, _))| Some(((v.source, v.source_mid), (*target)?)))
            .collect();
        let last_n = self.config.last_n;
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        for (v, (target, _)) in videos.iter().zip(&targets) {
            if let (true, Some(index)) = (v.screen, v.index) {
                p.tracks_out[index].fwd.target = *target;
            }
        }
        let keys: Vec<(PeerId, Mid)> = sent_cameras.iter().map(|(k, _)| *k).collect();
        let opened = fill_slots(p, MediaKind::Video, &keys, last_n, cameras_published);
        for (key, layer) in &sent_cameras {
            if let Some(t) = p
                .tracks_out
                .iter_mut()
                .find(|t| t.slot.is_some() && t.kind == MediaKind::Video && t.source == Some(*key))
            {
                t.fwd.target = Some(*layer);
            }
        }
        if stepped_up {
            p.last_step_up = Some(now);
        }
        if stepped_down {
            p.last_step_down = Some(now);
        }
        if stepped_up || stepped_down {
            tracing::debug!(
                peer = peer.0,
                ?held,
                latest = ?latest_estimate,
                sent,
                ?ceiling,
                ?carried,
                ?alloc,
                up = stepped_up,
                down = stepped_down,
                "layers"
            );
        }
        // str0m paces what it sends at 1.1 times its estimate: one far below what the path
        // carries cleanly would hold the videos kept above in its queue. Restart it from what
        // the path carried (it then probes from there), at most every `RESET_INTERVAL`.
        if let (Some(carried), Some(estimate)) = (carried, p.estimate) {
            let due = p
                .estimator_reset_at
                .is_none_or(|t| now.saturating_duration_since(t) >= RESET_INTERVAL);
            if !p.estimate_pinned && due && (estimate as f64) < carried as f64 * RESET_BELOW {
                tracing::debug!(
                    peer = peer.0,
                    estimate,
                    carried,
                    "estimator restarted from what the path carries"
                );
                p.rtc.bwe().reset(Bitrate::bps(carried));
                p.estimate = Some(carried);
                p.estimator_reset_at = Some(now);
            }
        }
        // Let str0m's estimator probe a little above what the tiles would like and, while the
        // estimate is the ceiling, pad up to what the next step up needs.
        let changed = |new: u64, old: u64| new.abs_diff(old) > old / 10;
        if self.config.initial_estimate.is_some()
            && (changed(desired, p.desired) || changed(minimum, p.padding_minimum))
        {
            p.desired = desired;
            p.padding_minimum = minimum;
            let target = (desired.max(AUDIO_RESERVE) as f64 * PROBE_FACTOR) as u64;
            p.rtc
                .bwe()
                .set_bitrate(Bitrate::bps(minimum.min(target)), Bitrate::bps(target));
        }
        if opened {
            self.negotiate(peer);
        }
        // A camera slot let go is reported at once (one taken, from its first packet).
        self.publish_slots(peer);
    }

    /// One video `peer` could receive, as the allocation sees it: `source`'s track `mid`, the
    /// forwarded track or slot `index` that carries it (if any), and its layer `target`.
    fn video_of(
        &self,
        now: Instant,
        source: PeerId,
        mid: Mid,
        index: Option<usize>,
        target: Option<usize>,
    ) -> Option<Video> {
        let src = self.peers.get(&source)?;
        let tin = src.tracks_in.iter().find(|x| x.mid == mid)?;
        let screen = tin.label == TrackLabel::Screen;
        // A blocked camera, one turned off (it may still send black frames), or one that sends
        // nothing, takes no place.
        let flowing = (screen || src.forwards_camera()) && tin.flowing(now);
        Some(Video {
            index,
            source,
            source_mid: mid,
            screen,
            pinned: false,
            heights: if flowing { tin.heights() } else { Vec::new() },
            bitrates: if flowing {
                tin.bitrates(now)
            } else {
                Vec::new()
            },
            target,
        })
    }

    /// Feeds a bandwidth estimate toward `peer` as if str0m's congestion control had produced
    /// it (for tests and diagnostics; the core gets real estimates from TWCC feedback).
    #[doc(hidden)]
    pub fn inject_estimate(
        &mut self,
        now: Instant,
        peer: PeerId,
        bps: u64,
    ) -> Result<(), crate::SfuError> {
        let p = self
            .peers
            .get_mut(&peer)
            .ok_or(crate::SfuError::UnknownPeer(peer))?;
        p.estimate = Some(bps);
        p.estimate_pinned = true;
        self.reallocate(now, peer);
        Ok(())
    }

    /// A room's active speaker, once someone spoke.
    pub fn active_speaker(&self, room: RoomId) -> Option<PeerId> {
        self.speakers.get(&room).and_then(|d| d.dominant())
    }

    /// A room's speakers, most recent first (for the speaker view and its filmstrip).
    pub fn speakers(&self, room: RoomId) -> Vec<PeerId> {
        self.speakers
            .get(&room)
            .map(|d| d.recent().to_vec())
            .unwrap_or_default()
    }
}
