//! Sharing one subscriber's bandwidth estimate among the videos it receives: pure functions.
//!
//! Audio is served first (a fixed reserve per forwarded audio track, taken off the estimate
//! before this runs), so when the estimate drops video stops before audio suffers. Then, in
//! priority order (screen shares, pinned, speakers, the rest):
//!
//! 1. every *protected* video (a screen share, a pinned camera) gets its lowest layer, even a
//!    little beyond the budget (up to `oversend`, as Jitsi's bridge does for the on-stage
//!    video), then every other wanted video gets its lowest layer while that fits, so everyone
//!    stays visible at low quality before anyone gets high quality;
//! 2. the videos are raised, highest priority first, toward the layer their tile size asks for.
//!
//! Going up is careful: a layer above the one being sent costs [`UP_HEADROOM`] times its
//! bitrate, and no video goes up at all while `may_step_up` is false (the caller forbids it for
//! a while after a step down). Going down is immediate, but the estimate it works from is
//! [`EstimateHold::max`]: the highest of the last [`HOLD`], so only a sustained drop lowers
//! anything (a CPU stall of the browser or the server makes the delay-based estimate dip for a
//! moment; a real bottleneck keeps it down). That maximum only keeps layers: a step up must
//! also fit the latest estimate ([`EstimateHold::latest`]), so a momentary high raises nothing
//! while the estimate that follows it is lower (behind a bottleneck, a high above the link's
//! rate raised a layer the link could not carry: its queue overflowed and a video paused).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long the estimate must stay low before layers go down: the allocation works from the
/// highest estimate of this window.
pub(crate) const HOLD: Duration = Duration::from_millis(1500);

/// The estimates of the last [`HOLD`], to take their maximum.
#[derive(Debug, Default)]
pub(crate) struct EstimateHold {
    samples: VecDeque<(Instant, u64)>,
}

impl EstimateHold {
    /// Records the estimate in force at `now`.
    pub(crate) fn record(&mut self, now: Instant, estimate: u64) {
        // Older samples that are not above this one can never be the maximum again.
        while self.samples.back().is_some_and(|(_, e)| *e <= estimate) {
            self.samples.pop_back();
        }
        self.samples.push_back((now, estimate));
        self.prune(now);
    }

    fn prune(&mut self, now: Instant) {
        // Keep the newest sample whatever its age: it is the estimate in force.
        while self.samples.len() > 1
            && self
                .samples
                .front()
                .is_some_and(|(t, _)| now.saturating_duration_since(*t) > HOLD)
        {
            self.samples.pop_front();
        }
    }

    /// The highest estimate recorded during the last [`HOLD`] (the caller records one every
    /// allocation round), or the latest one if it is older; `None` before the first.
    pub(crate) fn max(&mut self, now: Instant) -> Option<u64> {
        self.prune(now);
        // Samples are kept in decreasing order: the front is the maximum.
        self.samples.front().map(|(_, e)| *e)
    }

    /// The latest estimate recorded, however old (it is the estimate in force); `None` before
    /// the first. What a step up must fit (see [`allocate`]'s `raise`).
    pub(crate) fn latest(&self) -> Option<u64> {
        // The newest sample is never dropped, by `record` or `prune`: the back is the latest.
        self.samples.back().map(|(_, e)| *e)
    }
}

/// The margin a step up needs: the estimate must cover the new layer by this factor.
pub(crate) const UP_HEADROOM: f64 = 1.25;

/// Below this share of what we really send, the estimate means congestion. Not higher: while
/// videos climb (one layer a second, without asking the estimate) the estimate lags behind what
/// we send, by up to a third on a lossless path (1.5 times the acknowledged rate of a moment
/// ago).
pub(crate) const CONGESTED: f64 = 0.6;

/// From this share of packets lost toward a subscriber (str0m's TWCC loss over the last second),
/// the path is full whatever the estimate says (libwebrtc's loss-based controller backs off
/// from 10 % too). Needed because behind a bottleneck that overflows (a link's queue drops the
/// excess) GCC's estimate can stay between [`CONGESTED`] and 1 times what we send for
/// seconds, while a fifth of every video is lost.
pub(crate) const LOSS_CONGESTED: f32 = 0.10;

/// One transport report's view of the path toward a subscriber.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PathLoss {
    /// The fraction of packets lost (str0m's TWCC loss over the report's last second).
    pub loss: f32,
    /// What we sent over the report's interval (bit/s).
    pub sent: u64,
}

impl PathLoss {
    /// What the path carried: what we sent less what it lost. A fraction out of 0..=1 counts
    /// as all lost.
    fn carried(&self) -> u64 {
        let kept = if (0.0..=1.0).contains(&self.loss) {
            1.0 - f64::from(self.loss)
        } else {
            0.0
        };
        (self.sent as f64 * kept).round() as u64
    }
}

/// What the allocation must fit in, if anything: `held` is the estimate ([`EstimateHold::max`];
/// `None`: bandwidth estimation is off), `sent` what we really send (bit/s), `path` the latest
/// transport report if recent, `recovering` true for a while after a step down.
///
/// - A lossy path (loss ≥ [`LOSS_CONGESTED`]) is congested: the ceiling is what it carried
///   while the report was measured (what a layer switch has not lowered yet), or the estimate
///   if lower.
/// - Otherwise the estimate is the ceiling when it is below [`CONGESTED`] times `sent`, or while
///   recovering (climbing back must be earned by the estimate, which padding and probes raise).
/// - Otherwise none: while the path is not full the estimate only follows what we send.
pub(crate) fn ceiling(
    held: Option<u64>,
    sent: u64,
    path: Option<PathLoss>,
    recovering: bool,
) -> Option<u64> {
    let estimate = held?;
    if let Some(path) = path.filter(|p| p.loss >= LOSS_CONGESTED || p.loss.is_nan()) {
        return Some(estimate.min(path.carried()));
    }
    (recovering || (estimate as f64) < sent as f64 * CONGESTED).then_some(estimate)
}

/// For this long after a transport report showed a lossy path, a clean one (loss under
/// [`LOSS_CONGESTED`]) proves what the path carries better than the estimate: str0m's
/// loss-based estimator (libwebrtc's loss-based BWE v2) keeps cutting its estimate by 5 %
/// every 250-500 ms for about 6 s after an overload's loss has stopped (measured behind a
/// `tc tbf` bottleneck: down to 100-250 kbit/s on a 600 kbit/s link), and pausing videos
/// lowers the acknowledged rate it bounds itself with, so it would fall further.
pub(crate) const LOSS_MEMORY: Duration = Duration::from_secs(15);

/// What the path demonstrably carries (bit/s), if the allocation should not go below it:
/// `path` is the latest transport report if recent, `since_loss` the time since the latest
/// lossy one. Only after a loss episode ([`LOSS_MEMORY`]) and only from a clean report: then
/// the estimate may be the memory of the overload (see [`LOSS_MEMORY`]), while the path,
/// whose queue overflowed moments ago, shows at once when it is full again. Otherwise the
/// estimate's fall is GCC's delay detector seeing a queue grow, and is trusted.
pub(crate) fn carried_cleanly(path: Option<PathLoss>, since_loss: Option<Duration>) -> Option<u64> {
    let path = path.filter(|p| (0.0..LOSS_CONGESTED).contains(&p.loss))?;
    since_loss.filter(|d| *d <= LOSS_MEMORY)?;
    Some(path.carried())
}

/// Below this share of packets lost toward a subscriber, the path has room to climb into:
/// libwebrtc's loss-based controller (v1) raises its estimate only below 2 %, holds it up to
/// 10 % ([`LOSS_CONGESTED`]).
pub(crate) const LOSS_CLEAN: f32 = 0.02;

/// Whether str0m may pad toward the next step up (padding is climbing: it fills the path to
/// raise the estimate). Not while the latest report loses [`LOSS_CLEAN`] or more: behind a
/// bottleneck whose queue is nearly full, padding up to the estimate (which lags above the
/// link's rate) keeps the queue overflowing, a few per cent lost for as long as it lasts
/// (measured: 3-8 % behind a 580 kbit/s `tc tbf` link, until a report reached 10 % and a
/// video paused). No report yet: padding is allowed.
pub(crate) fn may_pad(path: Option<PathLoss>) -> bool {
    path.is_none_or(|p| (0.0..LOSS_CLEAN).contains(&p.loss))
}

/// What one video asks for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VideoDemand {
    /// The highest useful layer (from the tile size), or `None` if the video is not wanted.
    pub want: Option<usize>,
    /// The bitrate of each layer, lowest first; `u64::MAX` for a layer that is not flowing.
    pub bitrates: Vec<u64>,
    /// The layer being sent now, if any.
    pub current: Option<usize>,
    /// A screen share or a pinned camera: its lowest layer may exceed the budget (see
    /// [`allocate`]).
    pub protected: bool,
}

impl VideoDemand {
    /// Whether sending `layer` is a step up: a layer above the one being sent, or a paused
    /// video restarting.
    fn steps_up(&self, layer: usize) -> bool {
        self.current.is_none_or(|c| layer > c)
    }

    fn cost(&self, layer: usize, may_step_up: bool) -> Option<u64> {
        let rate = *self.bitrates.get(layer)?;
        if rate == u64::MAX {
            return None;
        }
        match self.current {
            Some(c) if layer <= c => Some(rate),
            _ if !may_step_up => None,
            _ => Some((rate as f64 * UP_HEADROOM) as u64),
        }
    }
}

/// Under congestion: the layer each video gets (`None`: paused) within `keep` (bit/s for
/// video, from the held estimate), in the order of `videos`, which is priority order. A step up
/// (a layer above the one being sent, a paused video restarting) must also leave the total
/// within `raise` (from the latest estimate, if lower): the held maximum may be a momentary
/// high that the path cannot carry. Protected videos get their lowest layer while the total
/// stays within `keep + oversend` (`raise + oversend` for a step up).
pub(crate) fn allocate(
    keep: u64,
    raise: u64,
    videos: &[VideoDemand],
    may_step_up: bool,
    oversend: u64,
) -> Vec<Option<usize>> {
    let raise = raise.min(keep);
    // What the total may reach once `v` sends `layer`.
    let limit = |v: &VideoDemand, layer: usize| if v.steps_up(layer) { raise } else { keep };
    let mut alloc: Vec<Option<usize>> = vec![None; videos.len()];
    let mut spent: u64 = 0;
    // 1. Lowest layer for everyone wanted: the protected ones first, then the others, each in
    //    priority order.
    for protected in [true, false] {
        let extra = if protected { oversend } else { 0 };
        for (i, v) in videos.iter().enumerate() {
            if v.want.is_none() || v.protected != protected {
                continue;
            }
            // The lowest layer that flows (a publisher may have stopped sending its lowest).
            // A protected video that is paused restarts even while stepping up is forbidden.
            let Some((layer, cost)) = (0..v.bitrates.len())
                .find_map(|l| v.cost(l, may_step_up || protected).map(|c| (l, c)))
            else {
                continue;
            };
            if spent.saturating_add(cost) <= limit(v, layer).saturating_add(extra) {
                alloc[i] = Some(layer);
                spent += cost;
            }
        }
    }
    // 2. Raise toward the wanted layer, highest priority first.
    for (i, v) in videos.iter().enumerate() {
        let (Some(mut layer), Some(want)) = (alloc[i], v.want) else {
            continue;
        };
        let mut cost = v.cost(layer, may_step_up).unwrap_or(0);
        for next in layer + 1..=want.min(v.bitrates.len().saturating_sub(1)) {
            let Some(next_cost) = v.cost(next, may_step_up) else {
                continue;
            };
            if spent.saturating_sub(cost).saturating_add(next_cost) > limit(v, next) {
                break;
            }
            spent = spent.saturating_sub(cost) + next_cost;
            cost = next_cost;
            layer = next;
        }
        alloc[i] = Some(layer);
    }
    alloc
}

/// Without congestion: each wanted video keeps its layer (lowered at once if its tile
/// shrank), a new one starts at its lowest flowing layer, and, when `may_step_up`, each climbs
/// one layer toward its tile. The estimate is not consulted: while the path is not full it only
/// follows what we send, so climbing one layer at a time is how we probe; if the path cannot
/// take it, the estimate falls below what we send and [`allocate`] takes over.
pub(crate) fn grow(videos: &[VideoDemand], may_step_up: bool) -> Vec<Option<usize>> {
    videos
        .iter()
        .map(|v| {
            let want = v.want?;
            let flowing = |l: &usize| v.bitrates.get(*l).is_some_and(|b| *b != u64::MAX);
            let lowest = (0..v.bitrates.len()).find(flowing)?;
            match v.current {
                Some(c) if c >= want => Some(want.max(lowest)),
                Some(c) if may_step_up => Some((c + 1..=want).find(flowing).unwrap_or(c)),
                Some(c) => Some(c),
                None if may_step_up => Some(lowest.min(want.max(lowest))),
                None => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LADDER: [u64; 3] = [150_000, 500_000, 1_500_000];

    /// One budget for keeping and raising: the latest estimate is the held one.
    fn allocate_one(
        budget: u64,
        videos: &[VideoDemand],
        may_step_up: bool,
        oversend: u64,
    ) -> Vec<Option<usize>> {
        allocate(budget, budget, videos, may_step_up, oversend)
    }

    fn video(want: Option<usize>, current: Option<usize>) -> VideoDemand {
        VideoDemand {
            want,
            bitrates: LADDER.to_vec(),
            current,
            protected: false,
        }
    }

    #[test]
    fn a_big_estimate_gives_each_video_the_layer_its_tile_asks_for() {
        let v = [
            video(Some(2), Some(2)),
            video(Some(0), Some(0)),
            video(Some(1), Some(1)),
            video(None, None),
        ];
        assert_eq!(
            allocate_one(10_000_000, &v, true, 0),
            vec![Some(2), Some(0), Some(1), None]
        );
    }

    #[test]
    fn a_falling_estimate_steps_down_lowest_priority_first_then_pauses() {
        let v = [video(Some(2), Some(2)), video(Some(2), Some(2))];
        assert_eq!(allocate_one(3_000_000, &v, true, 0), vec![Some(2), Some(2)]);
        assert_eq!(allocate_one(2_000_000, &v, true, 0), vec![Some(2), Some(1)]);
        assert_eq!(allocate_one(1_000_000, &v, true, 0), vec![Some(1), Some(1)]);
        assert_eq!(allocate_one(400_000, &v, true, 0), vec![Some(0), Some(0)]);
        assert_eq!(
            allocate_one(200_000, &v, true, 0),
            vec![Some(0), None],
            "the first keeps its video"
        );
        assert_eq!(allocate_one(100_000, &v, true, 0), vec![None, None]);
    }

    #[test]
    fn stepping_up_needs_headroom_and_permission() {
        let v = [video(Some(2), Some(1))];
        // 1.5 Mbit/s exactly is not enough to go up: 1.875 is needed.
        assert_eq!(allocate_one(1_500_000, &v, true, 0), vec![Some(1)]);
        assert_eq!(allocate_one(1_900_000, &v, true, 0), vec![Some(2)]);
        // Not allowed to go up: stays, even with plenty.
        assert_eq!(allocate_one(10_000_000, &v, false, 0), vec![Some(1)]);
        // But going down is always allowed.
        assert_eq!(allocate_one(300_000, &v, false, 0), vec![Some(0)]);
        // A paused video does not restart while stepping up is forbidden.
        assert_eq!(
            allocate_one(10_000_000, &[video(Some(2), None)], false, 0),
            vec![None]
        );
    }

    #[test]
    fn a_held_high_keeps_the_layers_but_only_the_latest_estimate_raises_them() {
        // 360p, 180p and a paused video, all wanting 720p: 650 kbit/s sent.
        let v = [
            video(Some(2), Some(1)),
            video(Some(2), Some(0)),
            video(Some(2), None),
        ];
        // The held estimate (the highest of the last 1.5 s) leaves 1 Mbit/s for video: the
        // paused video would restart (150 kbit/s, 187.5 with headroom)...
        assert_eq!(
            allocate_one(1_000_000, &v, true, 0),
            vec![Some(1), Some(0), Some(0)]
        );
        // ... but the latest estimate leaves 450 kbit/s: that high was momentary. The layers
        // being sent are kept (the held estimate covers them; only a sustained drop lowers
        // them), nothing goes up.
        assert_eq!(
            allocate(1_000_000, 450_000, &v, true, 0),
            vec![Some(1), Some(0), None]
        );
        // Both high: the raise budget bounds each step up, the keep budget only what is sent.
        assert_eq!(
            allocate_one(2_500_000, &v, true, 0),
            vec![Some(2), Some(0), Some(0)]
        );
        assert_eq!(
            allocate(2_500_000, 1_000_000, &v, true, 0),
            vec![Some(1), Some(0), Some(0)]
        );
        // A raise budget above the keep budget counts as the keep budget.
        assert_eq!(
            allocate(1_000_000, 5_000_000, &v, true, 0),
            vec![Some(1), Some(0), Some(0)]
        );
        // A paused protected video restarts on the latest estimate too, oversend included.
        let mut pinned = video(Some(2), None);
        pinned.protected = true;
        assert_eq!(
            allocate(1_000_000, 0, &[pinned.clone()], false, 100_000),
            vec![None]
        );
        assert_eq!(
            allocate(1_000_000, 100_000, &[pinned], false, 100_000),
            vec![Some(0)]
        );
    }

    #[test]
    fn without_congestion_videos_start_low_and_climb_one_layer_at_a_time() {
        let v = [
            video(Some(2), Some(2)),
            video(Some(2), None),
            video(Some(2), Some(0)),
            video(Some(0), Some(2)),
            video(None, Some(1)),
        ];
        assert_eq!(
            grow(&v, true),
            vec![Some(2), Some(0), Some(1), Some(0), None]
        );
        assert_eq!(grow(&v, false), vec![Some(2), None, Some(0), Some(0), None]);
        let mut dead_top = video(Some(2), Some(1));
        dead_top.bitrates[2] = u64::MAX;
        assert_eq!(grow(&[dead_top], true), vec![Some(1)]);
    }

    #[test]
    fn a_layer_that_does_not_flow_is_skipped() {
        let mut v = video(Some(2), Some(1));
        v.bitrates[2] = u64::MAX;
        assert_eq!(
            allocate_one(10_000_000, &[v.clone()], true, 0),
            vec![Some(1)]
        );
        v.bitrates[0] = u64::MAX;
        v.current = None;
        assert_eq!(allocate_one(10_000_000, &[v], true, 0), vec![Some(1)]);
    }

    #[test]
    fn screens_and_pinned_videos_keep_their_lowest_layer_unless_the_estimate_is_tiny() {
        let mut pinned = video(Some(2), Some(2));
        pinned.protected = true;
        let other = video(Some(2), Some(2));
        // 100 kbit/s for video: the pinned video keeps its 150 kbit/s layer (oversend), the
        // other one is paused; without oversend both are.
        assert_eq!(
            allocate_one(100_000, &[other.clone(), pinned.clone()], true, 500_000),
            vec![None, Some(0)]
        );
        assert_eq!(
            allocate_one(100_000, &[other.clone(), pinned.clone()], true, 0),
            vec![None, None]
        );
        // The oversend is bounded: two protected 150 kbit/s layers over a zero budget need 300.
        let both = [pinned.clone(), pinned.clone()];
        assert_eq!(allocate_one(0, &both, true, 200_000), vec![Some(0), None]);
        // A protected video goes first even when it comes later in the order, and others get
        // only what is left of the budget.
        assert_eq!(
            allocate_one(300_000, &[other.clone(), pinned.clone()], true, 500_000),
            vec![Some(0), Some(0)]
        );
        assert_eq!(
            allocate_one(200_000, &[other.clone(), pinned.clone()], true, 500_000),
            vec![None, Some(0)]
        );
        // A paused protected video restarts even while stepping up is forbidden.
        let mut paused = pinned.clone();
        paused.current = None;
        assert_eq!(
            allocate_one(1_000_000, &[paused], false, 500_000),
            vec![Some(0)]
        );
    }

    #[test]
    fn the_estimate_is_a_ceiling_under_congestion_loss_or_recovery_only() {
        let path = |loss: f32, sent: u64| Some(PathLoss { loss, sent });
        // Bandwidth estimation off: never.
        assert_eq!(ceiling(None, 1_000_000, path(0.5, 1_000_000), true), None);
        // The estimate follows what we send (a path not full): no ceiling.
        assert_eq!(ceiling(Some(700_000), 1_000_000, None, false), None);
        assert_eq!(
            ceiling(Some(700_000), 1_000_000, path(0.02, 1_000_000), false),
            None
        );
        // Far below what we send: congested.
        assert_eq!(
            ceiling(Some(500_000), 1_000_000, None, false),
            Some(500_000)
        );
        // Recovering after a step down: the estimate, even above what we send.
        assert_eq!(
            ceiling(Some(1_500_000), 1_000_000, None, true),
            Some(1_500_000)
        );
        // A fifth lost: what the path carried, below an estimate that lags...
        assert_eq!(
            ceiling(Some(900_000), 1_000_000, path(0.2, 1_000_000), false),
            Some(800_000)
        );
        assert_eq!(
            ceiling(Some(600_000), 1_000_000, path(0.2, 1_000_000), false),
            Some(600_000)
        );
        // ... measured on what was sent then, not on what a step down already lowered.
        assert_eq!(
            ceiling(Some(900_000), 500_000, path(0.2, 1_000_000), true),
            Some(800_000)
        );
        assert_eq!(
            ceiling(Some(900_000), 1_000_000, path(1.5, 1_000_000), false),
            Some(0),
            "a bad fraction counts as all lost"
        );
        assert_eq!(
            ceiling(Some(900_000), 1_000_000, path(f32::NAN, 1_000_000), false),
            Some(0),
            "so does NaN"
        );
    }

    #[test]
    fn padding_only_while_the_path_loses_less_than_two_percent() {
        let path = |loss: f32| {
            Some(PathLoss {
                loss,
                sent: 400_000,
            })
        };
        assert!(may_pad(None));
        assert!(may_pad(path(0.0)));
        assert!(may_pad(path(0.019)));
        assert!(!may_pad(path(0.02)));
        assert!(!may_pad(path(0.3)));
        assert!(!may_pad(path(f32::NAN)));
    }

    #[test]
    fn a_clean_report_proves_what_the_path_carries_only_after_a_loss_episode() {
        let path = |loss: f32| {
            Some(PathLoss {
                loss,
                sent: 400_000,
            })
        };
        let after = |s: u64| Some(Duration::from_secs(s));
        assert_eq!(carried_cleanly(path(0.0), after(3)), Some(400_000));
        assert_eq!(
            carried_cleanly(path(0.05), after(3)),
            Some(380_000),
            "a little loss: what arrived"
        );
        assert_eq!(
            carried_cleanly(path(0.0), None),
            None,
            "no loss episode: the estimate is trusted"
        );
        assert_eq!(
            carried_cleanly(path(0.0), after(16)),
            None,
            "nor long after one"
        );
        assert_eq!(
            carried_cleanly(path(0.1), after(3)),
            None,
            "a lossy report proves nothing"
        );
        assert_eq!(carried_cleanly(path(f32::NAN), after(3)), None);
        assert_eq!(carried_cleanly(path(-0.1), after(3)), None);
        assert_eq!(carried_cleanly(None, after(3)), None);
    }

    #[test]
    fn the_hold_keeps_the_highest_estimate_of_the_last_second_and_a_half() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut h = EstimateHold::default();
        assert_eq!(h.max(t0), None);
        assert_eq!(h.latest(), None);
        h.record(t0, 2_000_000);
        // A dip (a CPU stall) does not count until it lasted HOLD.
        h.record(ms(200), 300_000);
        h.record(ms(400), 400_000);
        assert_eq!(h.max(ms(400)), Some(2_000_000));
        assert_eq!(h.latest(), Some(400_000), "what a step up must fit");
        h.record(ms(1400), 350_000);
        assert_eq!(h.max(ms(1400)), Some(2_000_000));
        h.record(ms(1600), 350_000);
        assert_eq!(
            h.max(ms(1600)),
            Some(400_000),
            "the 2 Mbit/s sample is 1.6 s old"
        );
        h.record(ms(3200), 350_000);
        assert_eq!(h.max(ms(3200)), Some(350_000));
        // A rise counts at once.
        h.record(ms(3400), 1_000_000);
        assert_eq!(h.max(ms(3400)), Some(1_000_000));
        // The latest estimate stays in force however old.
        assert_eq!(h.max(ms(60_000)), Some(1_000_000));
        assert_eq!(h.latest(), Some(1_000_000));
    }
}
