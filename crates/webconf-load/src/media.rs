//! Synthetic media: the header stamped in every frame, and the frames themselves (Opus-sized
//! audio at 50 frames/s, VP8-looking video at 30 frames/s with periodic keyframes).
//!
//! The SFU forwards whole frames (str0m frame mode), so the bytes written here arrive unchanged
//! at every subscriber: the header lets the receiver name the sender, count gaps and measure
//! latency against the one clock all participants of this process share.

use std::time::{Duration, Instant};

/// Marks a frame made by this generator.
pub const MAGIC: [u8; 2] = *b"wl";
/// Bytes of [`FrameHeader`] on the wire.
pub const HEADER_LEN: usize = 20;
/// Bytes before the header in a video frame: a VP8 frame tag, start code and dimensions, so
/// that str0m's VP8 depacketizer sees a plausible frame and flags keyframes right.
pub const VP8_PREFIX_LEN: usize = 10;
/// Audio frames per second (20 ms Opus frames).
pub const AUDIO_FPS: u32 = 50;
/// Video frames per second.
pub const VIDEO_FPS: u32 = 30;

/// Which stream of a sender a frame belongs to: the key of a flow with its own sequence numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamKind {
    /// The microphone.
    Audio,
    /// The camera, single layer.
    Video,
    /// A simulcast layer of the camera: 0 = q (lowest), 1 = h, 2 = f.
    Layer(u8),
}

impl StreamKind {
    fn to_byte(self) -> u8 {
        match self {
            StreamKind::Audio => 0,
            StreamKind::Video => 1,
            StreamKind::Layer(l) => 2 + l.min(2),
        }
    }

    fn from_byte(b: u8) -> Option<StreamKind> {
        match b {
            0 => Some(StreamKind::Audio),
            1 => Some(StreamKind::Video),
            2..=4 => Some(StreamKind::Layer(b - 2)),
            _ => None,
        }
    }

    /// Whether this is a video stream (the header then follows [`VP8_PREFIX_LEN`] bytes).
    pub fn is_video(self) -> bool {
        !matches!(self, StreamKind::Audio)
    }
}

/// What every synthetic frame carries at its start (after the VP8 prefix for video).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Audio, video or a simulcast layer.
    pub stream: StreamKind,
    /// Whether the frame is a keyframe (video).
    pub keyframe: bool,
    /// Index of the sending participant in this run.
    pub sender: u32,
    /// Sequence number of the frame in its (sender, stream) flow, from 0.
    pub seq: u32,
    /// Send time, µs since the run's shared monotonic base.
    pub sent_us: u64,
}

impl FrameHeader {
    /// Writes the header at the start of `out` (which must hold [`HEADER_LEN`] bytes).
    pub fn write(&self, out: &mut [u8]) {
        let Some(out) = out.get_mut(..HEADER_LEN) else {
            return;
        };
        out[0..2].copy_from_slice(&MAGIC);
        out[2] = self.stream.to_byte();
        out[3] = u8::from(self.keyframe);
        out[4..8].copy_from_slice(&self.sender.to_be_bytes());
        out[8..12].copy_from_slice(&self.seq.to_be_bytes());
        out[12..20].copy_from_slice(&self.sent_us.to_be_bytes());
    }

    /// Reads the header of a received audio frame or video frame. `None` for a frame this
    /// generator did not make (or a truncated one).
    pub fn parse(frame: &[u8], video: bool) -> Option<FrameHeader> {
        let start = if video { VP8_PREFIX_LEN } else { 0 };
        let h = frame.get(start..start + HEADER_LEN)?;
        if h[0..2] != MAGIC {
            return None;
        }
        Some(FrameHeader {
            stream: StreamKind::from_byte(h[2])?,
            keyframe: h[3] == 1,
            sender: u32::from_be_bytes(h[4..8].try_into().ok()?),
            seq: u32::from_be_bytes(h[8..12].try_into().ok()?),
            sent_us: u64::from_be_bytes(h[12..20].try_into().ok()?),
        })
    }
}

/// A video quality: average bitrate at [`VIDEO_FPS`]; keyframes are [`KEYFRAME_FACTOR`] times
/// a delta frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoProfile {
    /// 320×180, 150 kbit/s (simulcast layer q).
    P180,
    /// 640×360, 500 kbit/s (simulcast layer h; the default single layer).
    P360,
    /// 1280×720, 1500 kbit/s (simulcast layer f).
    P720,
}

/// How many delta frames' worth of bytes a keyframe holds.
pub const KEYFRAME_FACTOR: usize = 8;

impl VideoProfile {
    /// Average bitrate of the stream, in bits per second.
    pub fn bitrate(self) -> usize {
        match self {
            VideoProfile::P180 => 150_000,
            VideoProfile::P360 => 500_000,
            VideoProfile::P720 => 1_500_000,
        }
    }

    /// Width and height, written in the VP8 keyframe header.
    pub fn dimensions(self) -> (u16, u16) {
        match self {
            VideoProfile::P180 => (320, 180),
            VideoProfile::P360 => (640, 360),
            VideoProfile::P720 => (1280, 720),
        }
    }

    /// Mean bitrate with the periodic keyframes counted, in bits per second: one frame in
    /// `keyframe_interval` × [`VIDEO_FPS`] is a keyframe of [`KEYFRAME_FACTOR`] delta frames
    /// (keyframes on request come on top).
    pub fn mean_bitrate(self, keyframe_interval: Duration) -> u64 {
        let frames = (keyframe_interval.as_secs_f64() * f64::from(VIDEO_FPS))
            .round()
            .max(1.0);
        let per_frame = (frames - 1.0 + KEYFRAME_FACTOR as f64) / frames;
        (self.bitrate() as f64 * per_frame) as u64
    }

    /// Average size of a delta frame, in bytes.
    pub fn delta_size(self) -> usize {
        self.bitrate() / 8 / VIDEO_FPS as usize
    }
}

/// A tiny deterministic generator for frame-size jitter (xorshift64*): no need for quality.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    /// Seeded per participant so runs are reproducible.
    pub fn new(seed: u64) -> Jitter {
        Jitter(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// A size around `mean`, ±25 %.
    pub fn around(&mut self, mean: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40; // 24 bits
        let spread = mean / 2;
        mean - mean / 4 + (r as usize % (spread + 1))
    }
}

/// Builds one audio frame: the header, padded to an Opus-like size (60 to 160 bytes).
pub fn audio_frame(header: &FrameHeader, jitter: &mut Jitter) -> Vec<u8> {
    let len = jitter.around(100).clamp(HEADER_LEN, 160);
    let mut frame = vec![0x5a; len];
    header.write(&mut frame);
    frame
}

/// Builds one video frame of `profile`: a VP8 frame tag (keyframe bit as in `header`), the
/// keyframe start code and dimensions, the header, then filler up to a realistic size.
pub fn video_frame(header: &FrameHeader, profile: VideoProfile, jitter: &mut Jitter) -> Vec<u8> {
    let mean = if header.keyframe {
        profile.delta_size() * KEYFRAME_FACTOR
    } else {
        profile.delta_size()
    };
    let len = jitter.around(mean).max(VP8_PREFIX_LEN + HEADER_LEN);
    let mut frame = vec![0xab; len];
    // VP8 frame tag (RFC 6386 §9.1): bit 0 clear = keyframe, version 0, show_frame set.
    frame[0] = if header.keyframe { 0x10 } else { 0x11 };
    frame[1] = 0x02;
    frame[2] = 0x00;
    frame[3..6].copy_from_slice(&[0x9d, 0x01, 0x2a]);
    let (w, h) = profile.dimensions();
    frame[6..8].copy_from_slice(&w.to_le_bytes());
    frame[8..10].copy_from_slice(&h.to_le_bytes());
    header.write(&mut frame[VP8_PREFIX_LEN..]);
    frame
}

/// When the next audio and video frames of one participant are due, and their counters.
#[derive(Debug)]
pub struct MediaClock {
    start: Instant,
    /// Next audio frame time.
    pub next_audio: Instant,
    /// Next video frame time.
    pub next_video: Instant,
    /// Frames sent so far (= the next sequence number).
    pub audio_seq: u32,
    /// Video frames sent so far.
    pub video_seq: u32,
    keyframe_interval: Duration,
    last_keyframe: Option<Instant>,
    keyframe_wanted: bool,
}

/// Interval between two audio frames.
pub const AUDIO_INTERVAL: Duration = Duration::from_millis(1000 / AUDIO_FPS as u64);
/// Interval between two video frames.
pub const VIDEO_INTERVAL: Duration = Duration::from_micros(1_000_000 / VIDEO_FPS as u64);
/// Minimum time between two keyframes sent on request (an encoder's own throttle).
const KEYFRAME_MIN_GAP: Duration = Duration::from_millis(300);

impl MediaClock {
    /// Starts sending at `now`: the first video frame is a keyframe.
    pub fn new(now: Instant, keyframe_interval: Duration) -> MediaClock {
        MediaClock {
            start: now,
            next_audio: now,
            next_video: now,
            audio_seq: 0,
            video_seq: 0,
            keyframe_interval,
            last_keyframe: None,
            keyframe_wanted: true,
        }
    }

    /// The earliest of the next frames.
    pub fn next_due(&self, video: bool) -> Instant {
        if video {
            self.next_audio.min(self.next_video)
        } else {
            self.next_audio
        }
    }

    /// A receiver asked for a keyframe: the next video frame is one (throttled).
    pub fn request_keyframe(&mut self) {
        self.keyframe_wanted = true;
    }

    /// RTP media time of a frame sent now, at `hz`.
    pub fn media_time(&self, now: Instant, hz: u64) -> u64 {
        let us = now.saturating_duration_since(self.start).as_micros() as u64;
        us * hz / 1_000_000
    }

    /// If an audio frame is due at `now`, takes its sequence number and schedules the next.
    /// After a stall (more than 100 ms late) the schedule restarts from `now` instead of
    /// sending a burst.
    pub fn take_audio(&mut self, now: Instant) -> Option<u32> {
        if now < self.next_audio {
            return None;
        }
        self.next_audio = advance(self.next_audio, AUDIO_INTERVAL, now);
        let seq = self.audio_seq;
        self.audio_seq = self.audio_seq.wrapping_add(1);
        Some(seq)
    }

    /// If a video frame is due at `now`: its sequence number and whether it is a keyframe.
    pub fn take_video(&mut self, now: Instant) -> Option<(u32, bool)> {
        if now < self.next_video {
            return None;
        }
        self.next_video = advance(self.next_video, VIDEO_INTERVAL, now);
        let periodic = self
            .last_keyframe
            .is_none_or(|t| now.saturating_duration_since(t) >= self.keyframe_interval);
        let requested = self.keyframe_wanted
            && self
                .last_keyframe
                .is_none_or(|t| now.saturating_duration_since(t) >= KEYFRAME_MIN_GAP);
        let keyframe = periodic || requested;
        if keyframe {
            self.last_keyframe = Some(now);
            self.keyframe_wanted = false;
        }
        let seq = self.video_seq;
        self.video_seq = self.video_seq.wrapping_add(1);
        Some((seq, keyframe))
    }
}

fn advance(due: Instant, interval: Duration, now: Instant) -> Instant {
    let next = due + interval;
    if now.saturating_duration_since(next) > Duration::from_millis(100) {
        now + interval
    } else {
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(stream: StreamKind, keyframe: bool) -> FrameHeader {
        FrameHeader {
            stream,
            keyframe,
            sender: 513,
            seq: 70_000,
            sent_us: 1 << 40,
        }
    }

    #[test]
    fn header_round_trips_in_audio_and_video_frames() {
        let mut j = Jitter::new(7);
        let a = header(StreamKind::Audio, false);
        let frame = audio_frame(&a, &mut j);
        assert!((HEADER_LEN..=160).contains(&frame.len()));
        assert_eq!(FrameHeader::parse(&frame, false), Some(a));

        let v = header(StreamKind::Layer(2), true);
        let frame = video_frame(&v, VideoProfile::P720, &mut j);
        assert_eq!(frame[0] & 1, 0, "VP8 keyframe bit");
        assert_eq!(FrameHeader::parse(&frame, true), Some(v));
        let d = header(StreamKind::Video, false);
        let frame = video_frame(&d, VideoProfile::P360, &mut j);
        assert_eq!(frame[0] & 1, 1, "VP8 delta frame bit");
        assert_eq!(FrameHeader::parse(&frame, true), Some(d));
    }

    #[test]
    fn foreign_or_short_frames_are_not_ours() {
        assert_eq!(FrameHeader::parse(&[0u8; 64], false), None);
        assert_eq!(FrameHeader::parse(b"wl", false), None);
        let mut frame = vec![0u8; HEADER_LEN];
        header(StreamKind::Audio, false).write(&mut frame);
        frame[2] = 9; // unknown stream
        assert_eq!(FrameHeader::parse(&frame, false), None);
    }

    #[test]
    fn frame_sizes_are_realistic() {
        let mut j = Jitter::new(1);
        let mut total = 0;
        for seq in 0..300 {
            let h = FrameHeader {
                seq,
                ..header(StreamKind::Video, false)
            };
            total += video_frame(&h, VideoProfile::P360, &mut j).len();
        }
        let kbps = total * 8 / 10 / 1000; // 300 frames = 10 s
        assert!((400..=600).contains(&kbps), "{kbps} kbit/s");
        let key = video_frame(&header(StreamKind::Video, true), VideoProfile::P360, &mut j).len();
        assert!(key > 8_000, "keyframe {key} bytes");
    }

    #[test]
    fn mean_bitrate_counts_the_keyframes() {
        // 3 s = 90 frames, one of them 8 delta frames' worth: 97/90 of the nominal rate.
        let k = VideoProfile::P720.mean_bitrate(Duration::from_secs(3));
        assert_eq!(k, 1_500_000 * 97 / 90);
        assert_eq!(
            VideoProfile::P180.mean_bitrate(Duration::ZERO),
            150_000 * KEYFRAME_FACTOR as u64
        );
    }

    #[test]
    fn clock_paces_frames_and_honours_keyframe_requests() {
        let t0 = Instant::now();
        let mut c = MediaClock::new(t0, Duration::from_secs(3));
        assert_eq!(c.take_audio(t0), Some(0));
        assert_eq!(c.take_audio(t0), None);
        assert_eq!(
            c.take_video(t0),
            Some((0, true)),
            "first frame is a keyframe"
        );
        let t1 = t0 + VIDEO_INTERVAL;
        assert_eq!(c.take_video(t1), Some((1, false)));
        c.request_keyframe();
        // Too soon after the last keyframe: postponed, not lost.
        assert_eq!(c.take_video(t1 + VIDEO_INTERVAL), Some((2, false)));
        let t2 = t0 + Duration::from_millis(400);
        assert_eq!(c.take_video(t2), Some((3, true)));
        // Periodic keyframe.
        let t3 = t2 + Duration::from_secs(3);
        assert_eq!(c.take_video(t3), Some((4, true)));
        // After a stall the clock does not burst.
        assert_eq!(c.take_audio(t3), Some(1));
        assert_eq!(c.take_audio(t3), None);
    }
}
