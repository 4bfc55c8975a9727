//! Simulcast layers: what the core knows of each layer a publisher sends (its height, its
//! bitrate, whether it is alive) and the pure choice of the layer that fits a tile.
//!
//! Layers are kept in the order the publisher declares them in its offer (`a=simulcast:send`),
//! lowest first: browsers list them in `sendEncodings` order, and the webconf client sends
//! `l`, `m`, `h` (scale 4, 2, 1). Heights are read from VP8 keyframes when possible; until then
//! (or for H.264) a nominal 720p-and-halves ladder is assumed.

use std::time::{Duration, Instant};

/// The height assumed for the top layer when the stream does not tell.
pub(crate) const NOMINAL_TOP_HEIGHT: u32 = 720;

/// A layer is alive if a frame of it arrived within this time (browsers stop sending the top
/// layers when their own uplink is short).
pub(crate) const LAYER_TIMEOUT: Duration = Duration::from_secs(1);

/// How long the rate meter integrates before it updates its figure.
const METER_WINDOW: Duration = Duration::from_millis(500);

/// Nominal bitrates (bit/s) of a three-layer ladder, used until a layer is measured.
const NOMINAL_BITRATES: [u64; 3] = [150_000, 500_000, 1_500_000];

/// The nominal height of layer `index` of `count` layers: the top is 720p, each lower layer
/// half of the one above.
pub(crate) fn nominal_height(index: usize, count: usize) -> u32 {
    let below_top = count.saturating_sub(index + 1).min(8) as u32;
    NOMINAL_TOP_HEIGHT >> below_top
}

/// The nominal bitrate of layer `index` of `count` layers.
pub(crate) fn nominal_bitrate(index: usize, count: usize) -> u64 {
    let below_top = count.saturating_sub(index + 1);
    NOMINAL_BITRATES[NOMINAL_BITRATES.len() - 1 - below_top.min(NOMINAL_BITRATES.len() - 1)]
}

/// The layer to send for a tile `max_height` pixels high, given the layers' heights (lowest
/// first): the smallest layer at least about as high as the tile (85 %: a 200 px tile is well
/// served by 180p), else the top one. `None` when the tile is hidden (`max_height == 0`).
pub(crate) fn layer_for_height(heights: &[u32], max_height: u32) -> Option<usize> {
    if max_height == 0 || heights.is_empty() {
        return None;
    }
    let enough = |h: u32| u64::from(h) * 20 >= u64::from(max_height) * 17;
    Some(
        heights
            .iter()
            .position(|h| enough(*h))
            .unwrap_or(heights.len() - 1),
    )
}

/// Width and height of a VP8 keyframe (RFC 6386 §9.1: 3-byte frame tag, start code
/// `9d 01 2a`, then 14-bit width and height, little endian). `None` for an interframe or
/// anything that does not look like a VP8 keyframe.
pub(crate) fn vp8_keyframe_size(frame: &[u8]) -> Option<(u16, u16)> {
    if frame.len() < 10 || frame[0] & 0x01 != 0 || frame[3..6] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let w = u16::from_le_bytes([frame[6], frame[7]]) & 0x3fff;
    let h = u16::from_le_bytes([frame[8], frame[9]]) & 0x3fff;
    (w > 0 && h > 0).then_some((w, h))
}

/// Measures a stream's bitrate over short windows, smoothed.
#[derive(Debug, Clone)]
pub(crate) struct RateMeter {
    since: Option<Instant>,
    bytes: u64,
    rate: Option<u64>,
}

impl RateMeter {
    pub(crate) fn new() -> RateMeter {
        RateMeter {
            since: None,
            bytes: 0,
            rate: None,
        }
    }

    /// Counts `len` bytes received at `now`.
    pub(crate) fn add(&mut self, now: Instant, len: usize) {
        let since = *self.since.get_or_insert(now);
        self.bytes += len as u64;
        let elapsed = now.saturating_duration_since(since);
        if elapsed >= METER_WINDOW {
            let sample = (self.bytes as f64 * 8.0 / elapsed.as_secs_f64()) as u64;
            // Smooth, but let a rise show at once: the allocation must never underestimate
            // what a layer costs.
            self.rate = Some(match self.rate {
                Some(r) if sample < r => (r * 3 + sample) / 4,
                _ => sample,
            });
            self.since = Some(now);
            self.bytes = 0;
        }
    }

    /// The measured rate in bit/s, once a window has passed.
    pub(crate) fn rate(&self) -> Option<u64> {
        self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LADDER: [u32; 3] = [180, 360, 720];

    #[test]
    fn the_smallest_layer_that_fills_the_tile_is_chosen() {
        assert_eq!(layer_for_height(&LADDER, 0), None, "hidden tile");
        assert_eq!(layer_for_height(&LADDER, 90), Some(0));
        assert_eq!(layer_for_height(&LADDER, 180), Some(0));
        assert_eq!(
            layer_for_height(&LADDER, 200),
            Some(0),
            "180p is within 85 % of 200 px"
        );
        assert_eq!(layer_for_height(&LADDER, 240), Some(1));
        assert_eq!(layer_for_height(&LADDER, 360), Some(1));
        assert_eq!(layer_for_height(&LADDER, 500), Some(2));
        assert_eq!(
            layer_for_height(&LADDER, 2160),
            Some(2),
            "capped at the top layer"
        );
        assert_eq!(
            layer_for_height(&[480], 100),
            Some(0),
            "no simulcast: the only layer"
        );
        assert_eq!(layer_for_height(&[], 100), None);
    }

    #[test]
    fn nominal_ladder_is_720p_and_halves() {
        assert_eq!(
            (0..3).map(|i| nominal_height(i, 3)).collect::<Vec<_>>(),
            LADDER
        );
        assert_eq!(nominal_height(0, 1), 720);
        assert_eq!(nominal_height(0, 2), 360);
        assert_eq!(nominal_bitrate(2, 3), 1_500_000);
        assert_eq!(nominal_bitrate(0, 3), 150_000);
        assert_eq!(nominal_bitrate(0, 1), 1_500_000);
        assert_eq!(nominal_bitrate(0, 2), 500_000);
    }

    #[test]
    fn vp8_keyframe_dimensions_are_read() {
        let mut key = vec![0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a];
        key.extend_from_slice(&640u16.to_le_bytes());
        key.extend_from_slice(&(360u16 | 0x4000).to_le_bytes()); // scale bits are ignored
        key.extend_from_slice(&[0; 20]);
        assert_eq!(vp8_keyframe_size(&key), Some((640, 360)));
        let mut inter = key.clone();
        inter[0] |= 1;
        assert_eq!(vp8_keyframe_size(&inter), None);
        assert_eq!(vp8_keyframe_size(&key[..8]), None);
        assert_eq!(vp8_keyframe_size(&[0x00; 30]), None, "no start code");
    }

    #[test]
    fn the_meter_measures_and_rises_at_once() {
        let t0 = Instant::now();
        let mut m = RateMeter::new();
        assert_eq!(m.rate(), None);
        // 1250 bytes every 10 ms = 1 Mbit/s.
        for i in 0..=50 {
            m.add(t0 + Duration::from_millis(i * 10), 1250);
        }
        let r = m.rate().expect("measured");
        assert!((950_000..=1_100_000).contains(&r), "{r}");
        // Half the rate: it decreases slowly.
        for i in 51..=101 {
            m.add(t0 + Duration::from_millis(i * 10), 625);
        }
        let r2 = m.rate().expect("measured");
        assert!(r2 < r && r2 > 600_000, "{r2}");
    }
}
