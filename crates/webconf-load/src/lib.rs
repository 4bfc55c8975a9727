//! `webconf-load`: a load generator for webconf.
//!
//! It starts synthetic participants that join rooms through the real signaling protocol and
//! DTLS-SRTP (str0m on the client side), publish synthetic audio (50 frames/s) and video
//! (30 frames/s, periodic keyframes, one layer or three simulcast layers), subscribe to
//! everything the server offers, and measure join time, received bitrate, loss (sequence gaps
//! per flow), one-way latency (every frame carries its send time on this process's clock) and
//! the server's CPU time and memory (`/proc/<pid>`).
//!
//! # Invariants
//! - All participants live in this process: send and receive times come from one monotonic
//!   clock, so latency needs no clock synchronisation.
//! - The signaling side is per target ([`signaling::Target`]); the media side ([`client`]) is
//!   the same for every target.
//! - Nothing the server sends can panic the generator: a bad message fails that participant,
//!   which is reported.

pub mod client;
pub mod coverage;
pub mod forwarded;
pub mod janus;
pub mod media;
pub mod metrics;
pub mod pacer;
pub mod procstat;
pub mod report;
pub mod signaling;
pub mod view;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::client::{Phase, Plan, Progress, Shared};
use crate::coverage::Expectation;
use crate::media::VideoProfile;
use crate::report::{Report, RunSetup, ServerSamples, Window};
use crate::signaling::{Endpoint, Target};

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Which kind of server.
    pub target: Target,
    /// The server's base URL, `http://host:port` (the server must run with `tls = "off"`).
    pub url: String,
    /// Number of rooms.
    pub rooms: u32,
    /// Participants in each room.
    pub participants_per_room: u32,
    /// How many participants of each room publish video (the first ones).
    pub video_publishers: u32,
    /// Whether participants publish audio.
    pub audio: bool,
    /// How many participants of each room publish audio (the first ones); `None`: all.
    pub audio_publishers: Option<u32>,
    /// Single-layer video quality.
    pub profile: VideoProfile,
    /// Publish three simulcast layers (q, h, f) instead of one.
    pub simulcast: bool,
    /// Measured time once everyone joined.
    pub duration: Duration,
    /// Delay between two participants' joins (zero: all at once).
    pub join_interval: Duration,
    /// Longest wait for one participant's `welcome`, then for its media to connect.
    pub join_timeout: Duration,
    /// Time between periodic keyframes.
    pub keyframe_interval: Duration,
    /// The server's PID, to read its CPU time and memory.
    pub server_pid: Option<u32>,
    /// Room names are `<prefix><6 digits of run id><3 digits of room index>`.
    pub room_prefix: String,
    /// Print a progress line on stderr every second.
    pub progress: bool,
    /// The local address the participants' UDP sockets bind to (their ICE host candidate).
    pub bind_ip: std::net::IpAddr,
    /// webconf only: every participant reports every other one's camera in a tile of this
    /// height (device pixels) with `view`, as a browser's grid does; `None`: no `view` (every
    /// camera at full size).
    pub view_height: Option<u32>,
    /// Stamp an audio level on every audio frame: the first N audio publishers of each room
    /// speak, the others are silent, as in a meeting; `None`: no level (webconf then forwards
    /// the first microphones in join order, as many as its audio last-N).
    pub talkers: Option<u32>,
    /// Pace the outgoing video as a browser does, at this factor × the publisher's video
    /// bitrate (at least [`pacer::MIN_RATE_BPS`]); 0: no pacing, every packet of a frame leaves
    /// at once. Default [`pacer::DEFAULT_PACE_FACTOR`], libwebrtc's.
    pub pace_factor: f64,
    /// What the server is configured to forward (last-N), for the coverage check. The default
    /// is webconf's (its microphone slots: [`WEBCONF_AUDIO_LAST_N`]); set it for Janus, which
    /// forwards everything.
    pub expect: Expectation,
}

/// How many microphones webconf forwards to each participant by default (`media.audio_last_n`):
/// its microphone slots carry the loudest others, or without audio levels the first in join
/// order, never more.
pub const WEBCONF_AUDIO_LAST_N: u32 = 5;

impl Default for LoadConfig {
    fn default() -> Self {
        LoadConfig {
            target: Target::Webconf,
            url: "http://127.0.0.1:8080".into(),
            rooms: 1,
            participants_per_room: 10,
            video_publishers: 4,
            audio: true,
            profile: VideoProfile::P360,
            simulcast: false,
            duration: Duration::from_secs(15),
            join_interval: Duration::from_millis(20),
            join_timeout: Duration::from_secs(20),
            keyframe_interval: Duration::from_secs(3),
            server_pid: None,
            room_prefix: "load".into(),
            progress: true,
            audio_publishers: None,
            bind_ip: std::net::IpAddr::from([127, 0, 0, 1]),
            view_height: None,
            talkers: None,
            pace_factor: pacer::DEFAULT_PACE_FACTOR,
            expect: Expectation {
                audio_last_n: Some(WEBCONF_AUDIO_LAST_N),
                ..Expectation::default()
            },
        }
    }
}

/// The room name of room `index` in run `run_id`: at least 10 letters or digits with at least
/// 3 digits, as the protocol requires.
pub fn room_name(prefix: &str, run_id: u32, index: u32) -> String {
    let prefix: String = prefix
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(20)
        .collect();
    format!("{prefix}{:06}{:03}", run_id % 1_000_000, index % 1000)
}

fn sample(pid: Option<u32>) -> anyhow::Result<Option<(u32, procstat::ProcSample)>> {
    match pid {
        None => Ok(None),
        Some(pid) => Ok(Some((pid, procstat::sample(pid)?))),
    }
}

/// Runs the load: joins everyone, measures for `duration`, stops everyone, reports.
pub async fn run(config: LoadConfig) -> anyhow::Result<Report> {
    anyhow::ensure!(
        config.rooms > 0 && config.participants_per_room > 0,
        "nobody to run"
    );
    anyhow::ensure!(
        config.video_publishers <= config.participants_per_room,
        "--publishers ({}) is more than --participants-per-room ({})",
        config.video_publishers,
        config.participants_per_room
    );
    anyhow::ensure!(
        config.pace_factor.is_finite() && config.pace_factor >= 0.0,
        "the pace factor must be 0 (off) or a positive number"
    );
    let endpoint = Endpoint::parse(&config.url)?;
    let pace_rate_bps = pacer::pacing_rate(
        config.pace_factor,
        client::video_bitrate(config.profile, config.simulcast, config.keyframe_interval),
    );
    let shared = Arc::new(Shared {
        base: Instant::now(),
        crypto: Arc::new(str0m::crypto::from_feature_flags()),
        endpoint,
        target: config.target,
        profile: config.profile,
        simulcast: config.simulcast,
        keyframe_interval: config.keyframe_interval,
        join_timeout: config.join_timeout,
        bind_ip: config.bind_ip,
        view_height: config.view_height,
        pace_rate_bps,
        progress: Progress::default(),
    });
    let before = sample(config.server_pid)?;
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| {
            d.subsec_micros() ^ (d.as_secs() as u32).wrapping_mul(7919)
        });
    let total = config.rooms * config.participants_per_room;
    let (phase_tx, phase_rx) = watch::channel(Phase::Run);
    let mut tasks = Vec::with_capacity(total as usize);
    let mut ticker = Ticker::new(config.progress, shared.clone(), config.server_pid, total);

    // Join, one participant every `join_interval`.
    for index in 0..total {
        let room_index = index / config.participants_per_room;
        let k = index % config.participants_per_room;
        let audio = config.audio && config.audio_publishers.is_none_or(|n| k < n);
        let plan = Plan {
            index,
            room_index,
            room: room_name(&config.room_prefix, run_id, room_index),
            audio,
            video: k < config.video_publishers,
            audio_level: config.talkers.filter(|_| audio).map(|n| {
                if k < n {
                    client::TALKER_DBOV
                } else {
                    client::SILENT_DBOV
                }
            }),
        };
        tasks.push(tokio::spawn(client::run(
            plan,
            shared.clone(),
            phase_rx.clone(),
        )));
        if !config.join_interval.is_zero() {
            tokio::time::sleep(config.join_interval).await;
        }
        ticker.tick("joining");
    }
    // Wait until every participant connected or failed (each gives up after join_timeout).
    let p = &shared.progress;
    let join_limit = Instant::now() + config.join_timeout * 2 + Duration::from_secs(5);
    while p.connected.load(Ordering::Relaxed) + p.failed.load(Ordering::Relaxed) < u64::from(total)
        && Instant::now() < join_limit
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
        ticker.tick("joining");
    }

    // The measured window.
    let start_counts = counters(p);
    let window_start = Instant::now();
    let start_sample = sample(config.server_pid)?;
    let own_start = procstat::sample(std::process::id()).ok();
    let window_end = window_start + config.duration;
    while Instant::now() < window_end {
        let step = window_end
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(100));
        tokio::time::sleep(step).await;
        ticker.tick("running");
    }
    let end_sample = sample(config.server_pid)?;
    let own_end = procstat::sample(std::process::id()).ok();
    let end_counts = counters(p);
    let window = Window {
        elapsed: window_start.elapsed(),
        frames: end_counts.0 - start_counts.0,
        packets: end_counts.1 - start_counts.1,
        bytes: end_counts.2 - start_counts.2,
        generator_cpu: own_start
            .zip(own_end)
            .map(|(a, b)| b.cpu.saturating_sub(a.cpu)),
    };

    // Stop: everyone stops sending, drains, leaves.
    let _ = phase_tx.send(Phase::Stop);
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        match tokio::time::timeout(Duration::from_secs(10), task).await {
            Ok(Ok(r)) => results.push(r),
            Ok(Err(e)) => anyhow::bail!("a participant task panicked: {e}"),
            Err(_) => anyhow::bail!("a participant did not stop within 10 s"),
        }
    }
    if config.progress && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        eprintln!();
    }
    let server = match (before, start_sample, end_sample) {
        (Some((pid, before)), Some((_, start)), Some((_, end))) => Some(ServerSamples {
            pid,
            before,
            start,
            end,
        }),
        _ => None,
    };
    let setup = RunSetup {
        target: config.target,
        url: config.url.clone(),
        rooms: config.rooms,
        participants_per_room: config.participants_per_room,
        video_publishers_per_room: config.video_publishers,
        audio: config.audio,
        audio_publishers_per_room: config.audio_publishers,
        video_profile: config.profile,
        simulcast: config.simulcast,
        duration_secs: config.duration.as_secs_f64(),
        join_interval_ms: config.join_interval.as_millis() as u64,
        view_height: config.view_height,
        talkers: config.talkers,
        pace_factor: config.pace_factor,
        pace_rate_kbps: pace_rate_bps / 1000,
        expect: config.expect,
    };
    Ok(Report::build(setup, &results, window, server))
}

fn counters(p: &Progress) -> (u64, u64, u64) {
    (
        p.frames_in.load(Ordering::Relaxed),
        p.packets_in.load(Ordering::Relaxed),
        p.bytes_in.load(Ordering::Relaxed),
    )
}

/// The progress line, at most once a second, on stderr.
struct Ticker {
    enabled: bool,
    shared: Arc<Shared>,
    pid: Option<u32>,
    total: u32,
    started: Instant,
    last: Instant,
    last_counts: (u64, u64, u64),
    last_cpu: Option<Duration>,
}

impl Ticker {
    fn new(enabled: bool, shared: Arc<Shared>, pid: Option<u32>, total: u32) -> Ticker {
        let now = Instant::now();
        let last_cpu = pid.and_then(|p| procstat::sample(p).ok()).map(|s| s.cpu);
        Ticker {
            enabled,
            shared,
            pid,
            total,
            started: now,
            last: now,
            last_counts: (0, 0, 0),
            last_cpu,
        }
    }

    fn tick(&mut self, what: &str) {
        let now = Instant::now();
        let dt = now.duration_since(self.last);
        if !self.enabled || dt < Duration::from_secs(1) {
            return;
        }
        let p = &self.shared.progress;
        let c = counters(p);
        let secs = dt.as_secs_f64();
        let mut line = format!(
            "[{:>4.0} s] {what}: joined {}/{} connected {} failed {} | rx {:.1} Mbit/s {:.0} frames/s",
            now.duration_since(self.started).as_secs_f64(),
            p.joined.load(Ordering::Relaxed),
            self.total,
            p.connected.load(Ordering::Relaxed),
            p.failed.load(Ordering::Relaxed),
            (c.2 - self.last_counts.2) as f64 * 8.0 / secs / 1e6,
            (c.0 - self.last_counts.0) as f64 / secs,
        );
        if let Some(s) = self.pid.and_then(|pid| procstat::sample(pid).ok()) {
            if let Some(prev) = self.last_cpu {
                let cpu = s.cpu.saturating_sub(prev).as_secs_f64() / secs * 100.0;
                line.push_str(&format!(
                    " | server cpu {cpu:.0} % rss {:.1} MiB",
                    s.rss_kib as f64 / 1024.0
                ));
            }
            self.last_cpu = Some(s.cpu);
        }
        if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            eprint!("\r{line}   ");
        } else {
            eprintln!("{line}");
        }
        self.last = now;
        self.last_counts = c;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names_follow_the_naming_rule() {
        let name = room_name("load", 4_294_967, 12);
        assert_eq!(name, "load294967012");
        assert!(name.len() >= 10 && name.chars().filter(char::is_ascii_digit).count() >= 3);
        assert_eq!(room_name("l-o!", 1, 2), "lo000001002");
    }
}
