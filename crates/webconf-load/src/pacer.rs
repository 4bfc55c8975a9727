//! A browser-like pacer for one participant's outgoing datagrams.
//!
//! Without bandwidth estimation str0m's pacer is a null pacer: every RTP packet of a frame
//! leaves the moment the frame is written, so a simulcast keyframe (tens of packets) would hit
//! the server as one burst. A browser does not send like that: libwebrtc's pacer sends video at
//! `kPacingFactor` (2.5) × the target bitrate, audio first, in bursts of a few milliseconds.
//! This module does the same, as a leaky bucket, with the time given by the caller (no clock of
//! its own, so it is tested without sleeping):
//!
//! - [`Class::Immediate`] datagrams (audio RTP, every RTCP, STUN, DTLS: see [`classify`]) go
//!   out at once, ahead of any queued video;
//! - [`Class::Paced`] datagrams (video RTP and its retransmissions) are released in order at
//!   `rate` bits/s, with a burst allowance of [`BURST`] worth of the rate (at least one
//!   packet: a packet is released whenever the budget is not negative, and its size is then
//!   taken off, so that the budget may go below zero and the long-run rate stays exact);
//! - the queue is bounded: when more than [`MAX_QUEUE`] worth of the rate is queued, the oldest
//!   paced datagram is released anyway (counted in [`PacerStats::forced`]), so video never
//!   starves.
//!
//! A rate of 0 turns pacing off: every datagram is handed back at once, in the order pushed.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How much of the rate may leave in one go after an idle spell (libwebrtc's pacer sends in
/// bursts of a few milliseconds).
pub const BURST: Duration = Duration::from_millis(5);
/// Queued paced data beyond this much of the rate is released without waiting.
pub const MAX_QUEUE: Duration = Duration::from_secs(2);

/// The lowest pacing rate, bits per second (a low-bitrate publisher's keyframe still spreads
/// over tens of milliseconds, not seconds).
pub const MIN_RATE_BPS: u64 = 300_000;
/// libwebrtc's `kPacingFactor`: a browser paces at 2.5 × its target bitrate.
pub const DEFAULT_PACE_FACTOR: f64 = 2.5;

/// The pacing rate of a publisher whose video averages `video_bps`: `factor` × that, at least
/// [`MIN_RATE_BPS`]; 0 (no pacing) when `factor` is 0 (or not a positive number).
pub fn pacing_rate(factor: f64, video_bps: u64) -> u64 {
    if factor.is_nan() || factor <= 0.0 {
        return 0;
    }
    ((factor * video_bps as f64) as u64).max(MIN_RATE_BPS)
}

/// Budget (bytes) below zero still counted as zero: rounding of the time arithmetic.
const SLACK: f64 = 0.01;

/// How a datagram is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// At once, ahead of queued video.
    Immediate,
    /// In order, at the pacing rate.
    Paced,
}

/// The class of an outgoing datagram: [`Class::Paced`] for an RTP packet (SRTP leaves the RTP
/// header in clear) whose payload type is in `video_pts` (the video codecs' and their
/// retransmission payload types); [`Class::Immediate`] for everything else: STUN (first byte
/// 0..=3), DTLS (20..=63), RTCP (second byte 192..=223, RFC 5761), audio RTP.
pub fn classify(datagram: &[u8], video_pts: &[u8]) -> Class {
    match datagram {
        // RTP version 2 (RFC 7983: first byte 128..=191), and not RTCP.
        [b0, b1, ..] if (128..=191).contains(b0) && !(192..=223).contains(b1) => {
            if video_pts.contains(&(b1 & 0x7f)) {
                Class::Paced
            } else {
                Class::Immediate
            }
        }
        _ => Class::Immediate,
    }
}

/// What the pacer did, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacerStats {
    /// Paced datagrams released.
    pub paced: u64,
    /// Of those, released early because the queue held more than [`MAX_QUEUE`].
    pub forced: u64,
    /// The longest a paced datagram waited in the queue.
    pub max_delay: Duration,
    /// The most paced bytes queued at once.
    pub max_queued_bytes: usize,
}

/// A leaky-bucket pacer over datagrams of type `T` (anything with a length).
#[derive(Debug)]
pub struct Pacer<T> {
    /// Bytes per second; 0: off.
    rate: f64,
    /// Most the budget grows to, bytes.
    burst: f64,
    /// Most paced bytes queued before releasing anyway.
    max_queued: usize,
    /// Bytes that may be sent now; below zero: debt to wait out.
    budget: f64,
    /// When the budget was last brought up to date.
    updated: Option<Instant>,
    immediate: VecDeque<T>,
    paced: VecDeque<(T, usize, Instant)>,
    queued_bytes: usize,
    stats: PacerStats,
}

impl<T: AsRef<[u8]>> Pacer<T> {
    /// A pacer releasing video at `rate_bps` bits per second; 0: no pacing.
    pub fn new(rate_bps: u64) -> Pacer<T> {
        let rate = rate_bps as f64 / 8.0;
        Pacer {
            rate,
            burst: rate * BURST.as_secs_f64(),
            max_queued: (rate * MAX_QUEUE.as_secs_f64()) as usize,
            budget: rate * BURST.as_secs_f64(),
            updated: None,
            immediate: VecDeque::new(),
            paced: VecDeque::new(),
            queued_bytes: 0,
            stats: PacerStats::default(),
        }
    }

    /// Whether pacing is off (every datagram goes at once).
    pub fn is_off(&self) -> bool {
        self.rate <= 0.0
    }

    /// The pacing rate in bits per second (0: off).
    pub fn rate_bps(&self) -> u64 {
        (self.rate * 8.0) as u64
    }

    /// Takes a datagram to send at `now`.
    pub fn push(&mut self, now: Instant, class: Class, datagram: T) {
        if class == Class::Immediate || self.is_off() {
            self.immediate.push_back(datagram);
            return;
        }
        let len = datagram.as_ref().len();
        self.paced.push_back((datagram, len, now));
        self.queued_bytes += len;
        self.stats.max_queued_bytes = self.stats.max_queued_bytes.max(self.queued_bytes);
    }

    /// The next datagram to send at `now`, if any is due: immediate ones first, then the paced
    /// ones the budget (or the queue bound) allows.
    pub fn poll(&mut self, now: Instant) -> Option<T> {
        if let Some(d) = self.immediate.pop_front() {
            return Some(d);
        }
        self.refill(now);
        let &(_, len, _) = self.paced.front()?;
        let forced = self.queued_bytes > self.max_queued;
        let allowed = self.budget >= -SLACK;
        if !allowed && !forced {
            return None;
        }
        let (d, _, queued) = self.paced.pop_front()?;
        self.queued_bytes -= len;
        if !allowed {
            // Past the bound: out without waiting, and without adding to the debt.
            self.stats.forced += 1;
        } else {
            self.budget -= len as f64;
        }
        self.stats.paced += 1;
        self.stats.max_delay = self
            .stats
            .max_delay
            .max(now.saturating_duration_since(queued));
        Some(d)
    }

    /// When [`Pacer::poll`] next has something to give: `Some(t <= now)` when it has already,
    /// `None` while nothing is queued.
    pub fn next_release(&self, now: Instant) -> Option<Instant> {
        if !self.immediate.is_empty() {
            return Some(now);
        }
        self.paced.front()?;
        let budget = self.budget_at(now);
        if budget >= -SLACK || self.queued_bytes > self.max_queued {
            return Some(now);
        }
        // Rounded up to the microsecond: at that time the budget is back to zero.
        let us = (-budget * 1e6 / self.rate).ceil();
        Some(now + Duration::from_micros(us as u64))
    }

    /// Datagrams waiting (immediate and paced).
    pub fn len(&self) -> usize {
        self.immediate.len() + self.paced.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What it did so far.
    pub fn stats(&self) -> PacerStats {
        self.stats
    }

    fn budget_at(&self, now: Instant) -> f64 {
        match self.updated {
            None => self.budget,
            Some(t) => {
                let dt = now.saturating_duration_since(t).as_secs_f64();
                (self.budget + dt * self.rate).min(self.burst)
            }
        }
    }

    fn refill(&mut self, now: Instant) {
        self.budget = self.budget_at(now);
        if self.updated.is_none_or(|t| now > t) {
            self.updated = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIDEO_PT: u8 = 96;
    const RTX_PT: u8 = 97;
    const AUDIO_PT: u8 = 111;

    fn rtp(pt: u8, marker: bool, len: usize, tag: u8) -> Vec<u8> {
        let mut d = vec![tag; len.max(12)];
        d[0] = 0x80;
        d[1] = pt | if marker { 0x80 } else { 0 };
        d[2] = tag;
        d
    }

    fn tag(d: &[u8]) -> u8 {
        d[2]
    }

    /// Everything the pacer gives at `now`.
    fn drain(p: &mut Pacer<Vec<u8>>, now: Instant) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| p.poll(now)).collect()
    }

    #[test]
    fn classification_follows_the_demultiplexing_rules() {
        let video = [VIDEO_PT, RTX_PT];
        assert_eq!(
            classify(&rtp(VIDEO_PT, false, 1200, 0), &video),
            Class::Paced
        );
        assert_eq!(
            classify(&rtp(VIDEO_PT, true, 1200, 0), &video),
            Class::Paced
        );
        assert_eq!(classify(&rtp(RTX_PT, false, 300, 0), &video), Class::Paced);
        assert_eq!(
            classify(&rtp(AUDIO_PT, true, 120, 0), &video),
            Class::Immediate
        );
        // RTCP: SR 200, RR 201, RTPFB 205, PSFB 206 (with or without the RTP marker look).
        for pt in [200u8, 201, 205, 206] {
            let mut d = rtp(0, false, 40, 0);
            d[1] = pt;
            assert_eq!(classify(&d, &video), Class::Immediate, "rtcp {pt}");
        }
        // RTCP whose PT & 0x7f would read as a video PT must not be paced: 192 + 96 > 223, so
        // take PT 200 & 0x7f = 72 in the video list.
        let mut sr = rtp(0, false, 40, 0);
        sr[1] = 200;
        assert_eq!(classify(&sr, &[72]), Class::Immediate);
        // STUN, DTLS, garbage, empty.
        assert_eq!(classify(&[0, 1, 0, 0], &video), Class::Immediate);
        assert_eq!(classify(&[22, 254, 253, 0], &video), Class::Immediate);
        assert_eq!(classify(&[23, 254, 253, 0], &video), Class::Immediate);
        assert_eq!(classify(&[0x80], &video), Class::Immediate);
        assert_eq!(classify(&[], &video), Class::Immediate);
        // No video payload types known: nothing is paced.
        assert_eq!(
            classify(&rtp(VIDEO_PT, false, 1200, 0), &[]),
            Class::Immediate
        );
    }

    #[test]
    fn the_rate_is_the_factor_times_the_video_with_a_floor() {
        assert_eq!(pacing_rate(2.5, 2_000_000), 5_000_000);
        assert_eq!(pacing_rate(2.5, 50_000), MIN_RATE_BPS);
        assert_eq!(pacing_rate(0.0, 2_000_000), 0);
        assert_eq!(pacing_rate(-1.0, 2_000_000), 0);
        assert_eq!(pacing_rate(f64::NAN, 2_000_000), 0);
    }

    #[test]
    fn rate_zero_is_a_passthrough_in_push_order() {
        let t0 = Instant::now();
        let mut p = Pacer::new(0);
        assert!(p.is_off());
        for i in 0..100u8 {
            let class = if i.is_multiple_of(3) {
                Class::Immediate
            } else {
                Class::Paced
            };
            p.push(t0, class, rtp(VIDEO_PT, false, 1200, i));
        }
        assert_eq!(p.next_release(t0), Some(t0));
        let out: Vec<u8> = drain(&mut p, t0).iter().map(|d| tag(d)).collect();
        assert_eq!(out, (0..100).collect::<Vec<u8>>());
        assert!(p.is_empty());
        assert_eq!(p.next_release(t0), None);
        assert_eq!(p.stats().paced, 0);
    }

    #[test]
    fn burst_allowance_then_the_rate() {
        // 8 Mbit/s = 1 MB/s: 5 ms = 5000 bytes of burst.
        let t0 = Instant::now();
        let mut p = Pacer::new(8_000_000);
        for i in 0..20u8 {
            p.push(t0, Class::Paced, rtp(VIDEO_PT, false, 1000, i));
        }
        // 5000 bytes of budget: packets go while it is not negative (5000, 4000, ..., 0): 6.
        let first = drain(&mut p, t0);
        assert_eq!(first.len(), 6);
        // -1000 bytes: 1 ms to wait.
        let due = p.next_release(t0).unwrap();
        let wait = due - t0;
        assert!(
            wait >= Duration::from_millis(1) && wait <= Duration::from_micros(1001),
            "{wait:?}"
        );
        assert!(drain(&mut p, t0 + Duration::from_micros(990)).is_empty());
        assert_eq!(drain(&mut p, due).len(), 1);
        // In order.
        let mut now = due;
        let mut tags: Vec<u8> = first.iter().map(|d| tag(d)).collect();
        tags.push(6);
        while !p.is_empty() {
            now = p.next_release(now).unwrap();
            tags.extend(drain(&mut p, now).iter().map(|d| tag(d)));
        }
        assert_eq!(tags, (0..20).collect::<Vec<u8>>());
        // A burst of at least one packet even when the packet is larger than the allowance.
        let mut small = Pacer::new(300_000); // 187.5 bytes of burst
        small.push(t0, Class::Paced, rtp(VIDEO_PT, false, 1200, 0));
        small.push(t0, Class::Paced, rtp(VIDEO_PT, false, 1200, 1));
        assert_eq!(drain(&mut small, t0).len(), 1);
        // ... and then the wait is what the packet cost: (1200 - 187.5) bytes at 37.5 kB/s.
        let wait = small.next_release(t0).unwrap() - t0;
        assert!(
            (wait.as_secs_f64() - 1012.5 / 37_500.0).abs() < 1e-5,
            "{wait:?}"
        );
        assert_eq!(drain(&mut small, t0 + wait).len(), 1);
    }

    #[test]
    fn the_budget_does_not_pile_up_while_idle() {
        let t0 = Instant::now();
        let mut p = Pacer::new(8_000_000);
        p.push(t0, Class::Paced, rtp(VIDEO_PT, false, 1000, 0));
        assert_eq!(drain(&mut p, t0).len(), 1);
        // A second of silence, then a keyframe: only the 5 ms allowance (+ 1 packet) at once.
        let t1 = t0 + Duration::from_secs(1);
        for i in 0..50u8 {
            p.push(t1, Class::Paced, rtp(VIDEO_PT, false, 1000, i));
        }
        assert_eq!(drain(&mut p, t1).len(), 6);
    }

    /// A pseudo-random wake-up lateness of 0 to 999 µs (a timer of millisecond resolution on a
    /// busy machine).
    fn lateness(state: &mut u64) -> Duration {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        Duration::from_micros((*state >> 33) % 1000)
    }

    #[test]
    fn a_backlog_drains_at_the_rate() {
        // 1.5 s worth of 5.8 Mbit/s (2.5 × a 180p+360p+720p simulcast) queued at once, polled
        // when due plus up to 1 ms late: it drains at the rate within 1 %.
        let rate = 5_800_000u64;
        let bytes = (rate / 8 * 3 / 2) as usize;
        let t0 = Instant::now();
        let mut p = Pacer::new(rate);
        for _ in 0..bytes / 1200 {
            p.push(t0, Class::Paced, rtp(VIDEO_PT, false, 1200, 0));
        }
        let mut now = t0;
        let mut seed = 1;
        let mut sent = 0;
        let mut last = t0;
        while !p.is_empty() {
            let out = drain(&mut p, now);
            if !out.is_empty() {
                sent += out.len() * 1200;
                last = now;
            }
            now = p.next_release(now).unwrap_or(now) + lateness(&mut seed);
        }
        assert_eq!(sent, bytes / 1200 * 1200);
        // The burst allowance left at t0, the rest at the rate.
        let burst = rate as f64 / 8.0 * BURST.as_secs_f64();
        let bps = (sent as f64 - burst) * 8.0 / last.duration_since(t0).as_secs_f64();
        assert!(
            (bps / rate as f64 - 1.0).abs() < 0.01,
            "{bps} bit/s vs {rate}"
        );
        assert_eq!(p.stats().forced, 0);
    }

    #[test]
    fn the_rate_holds_over_a_long_run() {
        // 30 s of 30 frames/s, 8 packets of 1200 bytes per delta frame and 60 per keyframe
        // (every 3 s), paced at 5.8 Mbit/s and polled when due plus up to 1 ms late: everything
        // leaves, no 50 ms window carries more than the rate allows (+ the burst allowance and
        // one packet), and a keyframe is spread over about 100 ms.
        let rate = 5_800_000u64;
        let t0 = Instant::now();
        let mut p = Pacer::new(rate);
        let mut releases: Vec<(Instant, usize)> = Vec::new();
        let mut pushed = 0;
        let mut now = t0;
        let end = t0 + Duration::from_secs(30);
        let mut next_frame = t0;
        let mut frame = 0u32;
        let mut seed = 7;
        while now < end || !p.is_empty() {
            while now >= next_frame && now < end {
                let packets = if frame.is_multiple_of(90) { 60 } else { 8 };
                for _ in 0..packets {
                    p.push(now, Class::Paced, rtp(VIDEO_PT, false, 1200, 0));
                    pushed += 1200;
                }
                frame += 1;
                next_frame += Duration::from_micros(33_333);
            }
            let out: usize = drain(&mut p, now).iter().map(Vec::len).sum();
            if out > 0 {
                releases.push((now, out));
            }
            let wake = p
                .next_release(now)
                .map_or(next_frame, |t| t.min(next_frame));
            now = wake.max(now) + lateness(&mut seed);
        }
        let sent: usize = releases.iter().map(|r| r.1).sum();
        assert_eq!(sent, pushed);
        let window = Duration::from_millis(50);
        let allowed = rate as f64 / 8.0 * (window + BURST).as_secs_f64() + 1200.0;
        for (i, &(t, _)) in releases.iter().enumerate() {
            let in_window: usize = releases[i..]
                .iter()
                .take_while(|r| r.0 < t + window)
                .map(|r| r.1)
                .sum();
            assert!(in_window as f64 <= allowed, "{in_window} bytes in 50 ms");
        }
        assert_eq!(p.stats().forced, 0);
        // A 60-packet keyframe (72 kB) at 725 kB/s: its last packet waits about 100 ms.
        let d = p.stats().max_delay;
        assert!(
            d > Duration::from_millis(90) && d < Duration::from_millis(120),
            "{d:?}"
        );
    }

    #[test]
    fn audio_and_rtcp_are_never_behind_queued_video() {
        let t0 = Instant::now();
        let mut p = Pacer::new(1_000_000); // 125 kB/s, 625 bytes of burst
        for i in 0..30u8 {
            p.push(t0, Class::Paced, rtp(VIDEO_PT, false, 1200, i));
        }
        assert_eq!(drain(&mut p, t0).len(), 1);
        let later = t0 + Duration::from_millis(2);
        p.push(later, Class::Immediate, rtp(AUDIO_PT, true, 100, 200));
        p.push(later, Class::Immediate, vec![0x81, 201, 0, 1, 0, 0, 0, 0]);
        assert_eq!(p.next_release(later), Some(later));
        let out = drain(&mut p, later);
        assert_eq!(out.len(), 2, "audio and RTCP only; the video still waits");
        assert_eq!(tag(&out[0]), 200);
        assert_eq!(out[1][1], 201);
        // Immediate ones do not eat the video's budget.
        let due = p.next_release(later).unwrap();
        assert!(due > later);
        p.push(due, Class::Immediate, rtp(AUDIO_PT, true, 100, 201));
        let out = drain(&mut p, due);
        assert_eq!(tag(&out[0]), 201, "audio first even when video is due too");
        assert_eq!(tag(&out[1]), 1);
    }

    #[test]
    fn a_queue_past_two_seconds_is_released_anyway() {
        // 300 kbit/s: 2 s = 75 kB. Push 100 kB at once.
        let t0 = Instant::now();
        let mut p = Pacer::new(300_000);
        for i in 0..100u8 {
            p.push(t0, Class::Paced, rtp(VIDEO_PT, false, 1000, i));
        }
        let out = drain(&mut p, t0);
        // 1 on the budget, then the overflow above 75 kB goes without waiting.
        assert_eq!(out.len(), 1 + 24, "{}", out.len());
        assert_eq!(p.stats().forced, 24);
        let tags: Vec<u8> = out.iter().map(|d| tag(d)).collect();
        assert_eq!(tags, (0..25).collect::<Vec<u8>>(), "order kept");
        // What is left (75 kB) is paced: it never starves, it drains at the rate.
        let mut now = t0;
        let mut n = out.len();
        while !p.is_empty() {
            now = p.next_release(now).unwrap();
            n += drain(&mut p, now).len();
        }
        assert_eq!(n, 100);
        let took = now.duration_since(t0).as_secs_f64();
        assert!((took - 2.0).abs() < 0.05, "{took} s");
        assert_eq!(p.stats().forced, 24);
        assert_eq!(p.stats().paced, 100);
    }
}
