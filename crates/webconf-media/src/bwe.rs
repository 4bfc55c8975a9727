//! Sharing one subscriber's bandwidth estimate among the videos it receives: a pure function.
//!
//! Audio is served first (a fixed reserve per forwarded audio track, taken off the estimate
//! before this runs), so when the estimate drops video stops before audio suffers. Then, in
//! priority order (screen shares, pinned, speakers, the rest):
//!
//! 1. every wanted video gets its lowest layer while that fits, so everyone stays visible at
//!    low quality before anyone gets high quality;
//! 2. the videos are raised, highest priority first, toward the layer their tile size asks for.
//!
//! Going up is careful: a layer above the one being sent costs [`UP_HEADROOM`] times its
//! bitrate, and no video goes up at all while `may_step_up` is false (the caller forbids it for
//! a while after a step down). Going down is immediate.

/// The margin a step up needs: the estimate must cover the new layer by this factor.
pub(crate) const UP_HEADROOM: f64 = 1.25;

/// What one video asks for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VideoDemand {
    /// The highest useful layer (from the tile size), or `None` if the video is not wanted.
    pub want: Option<usize>,
    /// The bitrate of each layer, lowest first; `u64::MAX` for a layer that is not flowing.
    pub bitrates: Vec<u64>,
    /// The layer being sent now, if any.
    pub current: Option<usize>,
}

impl VideoDemand {
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

/// Under congestion: the layer each video gets (`None`: paused) within `budget` (bit/s for
/// video), in the order of `videos`, which is priority order.
pub(crate) fn allocate(budget: u64, videos: &[VideoDemand], may_step_up: bool) -> Vec<Option<usize>> {
    let mut alloc: Vec<Option<usize>> = vec![None; videos.len()];
    let mut spent: u64 = 0;
    // 1. Lowest layer for everyone wanted, in priority order.
    for (i, v) in videos.iter().enumerate() {
        if v.want.is_none() {
            continue;
        }
        // The lowest layer that flows (a publisher may have stopped sending its lowest).
        let Some((layer, cost)) = (0..v.bitrates.len()).find_map(|l| v.cost(l, may_step_up).map(|c| (l, c))) else {
            continue;
        };
        if spent.saturating_add(cost) <= budget {
            alloc[i] = Some(layer);
            spent += cost;
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
            if (spent - cost).saturating_add(next_cost) > budget {
                break;
            }
            spent = spent - cost + next_cost;
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

    fn video(want: Option<usize>, current: Option<usize>) -> VideoDemand {
        VideoDemand { want, bitrates: LADDER.to_vec(), current }
    }

    #[test]
    fn a_big_estimate_gives_each_video_the_layer_its_tile_asks_for() {
        let v = [video(Some(2), Some(2)), video(Some(0), Some(0)), video(Some(1), Some(1)), video(None, None)];
        assert_eq!(allocate(10_000_000, &v, true), vec![Some(2), Some(0), Some(1), None]);
    }

    #[test]
    fn a_falling_estimate_steps_down_lowest_priority_first_then_pauses() {
        let v = [video(Some(2), Some(2)), video(Some(2), Some(2))];
        assert_eq!(allocate(3_000_000, &v, true), vec![Some(2), Some(2)]);
        assert_eq!(allocate(2_000_000, &v, true), vec![Some(2), Some(1)]);
        assert_eq!(allocate(1_000_000, &v, true), vec![Some(1), Some(1)]);
        assert_eq!(allocate(400_000, &v, true), vec![Some(0), Some(0)]);
        assert_eq!(allocate(200_000, &v, true), vec![Some(0), None], "the first keeps its video");
        assert_eq!(allocate(100_000, &v, true), vec![None, None]);
    }

    #[test]
    fn stepping_up_needs_headroom_and_permission() {
        let v = [video(Some(2), Some(1))];
        // 1.5 Mbit/s exactly is not enough to go up: 1.875 is needed.
        assert_eq!(allocate(1_500_000, &v, true), vec![Some(1)]);
        assert_eq!(allocate(1_900_000, &v, true), vec![Some(2)]);
        // Not allowed to go up: stays, even with plenty.
        assert_eq!(allocate(10_000_000, &v, false), vec![Some(1)]);
        // But going down is always allowed.
        assert_eq!(allocate(300_000, &v, false), vec![Some(0)]);
        // A paused video does not restart while stepping up is forbidden.
        assert_eq!(allocate(10_000_000, &[video(Some(2), None)], false), vec![None]);
    }

    #[test]
    fn without_congestion_videos_start_low_and_climb_one_layer_at_a_time() {
        let v = [video(Some(2), Some(2)), video(Some(2), None), video(Some(2), Some(0)), video(Some(0), Some(2)), video(None, Some(1))];
        assert_eq!(grow(&v, true), vec![Some(2), Some(0), Some(1), Some(0), None]);
        assert_eq!(grow(&v, false), vec![Some(2), None, Some(0), Some(0), None]);
        let mut dead_top = video(Some(2), Some(1));
        dead_top.bitrates[2] = u64::MAX;
        assert_eq!(grow(&[dead_top], true), vec![Some(1)]);
    }

    #[test]
    fn a_layer_that_does_not_flow_is_skipped() {
        let mut v = video(Some(2), Some(1));
        v.bitrates[2] = u64::MAX;
        assert_eq!(allocate(10_000_000, &[v.clone()], true), vec![Some(1)]);
        v.bitrates[0] = u64::MAX;
        v.current = None;
        assert_eq!(allocate(10_000_000, &[v], true), vec![Some(1)]);
    }
}
