//! The result of a run: built from every participant's result and the counters, printed as a
//! table and written as JSON, and checked against the pass criteria.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::client::ParticipantResult;
use crate::coverage::{missing_media, shortfalls, Expectation, Missing, Shortfall};
use crate::forwarded::ForwardedTotals;
use crate::media::StreamKind;
use crate::metrics::{fraction, Histogram};
use crate::procstat::ProcSample;

/// p50, p99 and maximum, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Quantiles {
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Maximum.
    pub max_ms: f64,
}

impl Quantiles {
    /// From a histogram of µs.
    pub fn from_histogram(h: &Histogram) -> Quantiles {
        let ms = |us: u64| us as f64 / 1000.0;
        Quantiles {
            p50_ms: ms(h.quantile(0.5)),
            p99_ms: ms(h.quantile(0.99)),
            max_ms: ms(h.max()),
        }
    }

    /// From a set of durations.
    pub fn from_durations(values: impl IntoIterator<Item = Duration>) -> Quantiles {
        let mut h = Histogram::default();
        for d in values {
            h.record(d.as_micros() as u64);
        }
        Quantiles::from_histogram(&h)
    }
}

/// How a run was set up.
#[derive(Debug, Clone, Serialize)]
pub struct RunSetup {
    /// `webconf`.
    pub target: crate::signaling::Target,
    /// The server's base URL.
    pub url: String,
    /// Rooms.
    pub rooms: u32,
    /// Participants in each room.
    pub participants_per_room: u32,
    /// Of those, how many publish video.
    pub video_publishers_per_room: u32,
    /// Whether participants publish audio.
    pub audio: bool,
    /// How many of each room publish audio (`None`: all).
    pub audio_publishers_per_room: Option<u32>,
    /// Single-layer video quality.
    pub video_profile: crate::media::VideoProfile,
    /// Three simulcast layers instead of one.
    pub simulcast: bool,
    /// Measured media time asked for, seconds.
    pub duration_secs: f64,
    /// Delay between two joins, ms.
    pub join_interval_ms: u64,
    /// The tile height reported with `view` (`None`: no `view`).
    pub view_height: Option<u32>,
    /// Audio publishers per room that speak (with audio levels); `None`: no levels sent.
    pub talkers: Option<u32>,
    /// Video pacing factor (× the publisher's video bitrate); 0: unpaced.
    pub pace_factor: f64,
    /// The resulting pacing rate of a video publisher, kbit/s (0: unpaced).
    pub pace_rate_kbps: u64,
    /// What the server was said to forward (last-N).
    pub expect: Expectation,
}

/// What the participants' pacers did (whole run).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PacingReport {
    /// Video datagrams paced, all participants.
    pub paced_datagrams: u64,
    /// Of those, released early because a pacer held more than 2 s of video.
    pub forced_releases: u64,
    /// The longest a video datagram waited in a pacer, ms.
    pub max_delay_ms: f64,
    /// The most video bytes one pacer held at once.
    pub max_queued_bytes: usize,
}

/// Joining.
#[derive(Debug, Clone, Serialize)]
pub struct JoinReport {
    /// Participants started.
    pub attempted: u32,
    /// Admitted by signaling.
    pub joined: u32,
    /// With media connected (ICE + DTLS).
    pub connected: u32,
    /// Failed, at any stage.
    pub failed: u32,
    /// The first failures, `participant N: stage: reason`.
    pub failures: Vec<String>,
    /// Time to `welcome`.
    pub welcome: Quantiles,
    /// Time to media connected (DTLS done): the join time.
    pub connected_time: Quantiles,
    /// Time to the first frame received.
    pub first_media: Quantiles,
    /// Time to the first video frame received (participants that received video).
    pub first_video: Quantiles,
}

/// Received media, over the whole run (loss, latency) or the measured window (rates).
#[derive(Debug, Clone, Serialize)]
pub struct MediaReport {
    /// Length of the measured window, seconds.
    pub window_secs: f64,
    /// Frames received in the window, all participants.
    pub frames_received: u64,
    /// RTP packets received in the window (packets the server forwarded that arrived).
    pub packets_received: u64,
    /// UDP bitrate received, all participants, kbit/s.
    pub bitrate_kbps_total: f64,
    /// The same per connected participant.
    pub bitrate_kbps_per_participant: f64,
    /// Frames the senders sent in the spans each receiver saw (whole run).
    pub frames_expected: u64,
    /// Frames missing from those spans.
    pub frames_lost: u64,
    /// `frames_lost / frames_expected`: end-to-end frame loss, for information. A flow the
    /// server pauses on purpose (last-N, simulcast layer switch) counts here too.
    pub loss: f64,
    /// Frames received, lost and paused per (receiver, sender, audio or camera) flow, gaps told
    /// apart as in [`crate::forwarded`] (whole run).
    pub forwarded: ForwardedTotals,
    /// "Loss while forwarded": `forwarded.lost / (forwarded.received + forwarded.lost)`, the
    /// pass criterion with `rtp_loss`.
    pub loss_forwarded: f64,
    /// Fewest and most senders a connected receiver got video from.
    pub video_senders_per_receiver: (u32, u32),
    /// Fewest and most senders a connected receiver got audio from.
    pub audio_senders_per_receiver: (u32, u32),
    /// RTP packets lost between the server and the participants (gaps in the server's own
    /// sequence numbers, whole run): transport loss only.
    pub rtp_packets_lost: u64,
    /// `rtp_packets_lost / (received + lost)`.
    pub rtp_loss: f64,
    /// Audio one-way latency (send → receive, both in this process).
    pub audio_latency: Quantiles,
    /// Video one-way latency (whole frames).
    pub video_latency: Quantiles,
    /// Frames received over the whole run by stream: `audio`, `video` (single layer),
    /// `layer_q` / `layer_h` / `layer_f` (simulcast: which layers the server forwarded).
    pub frames_by_stream: BTreeMap<String, u64>,
    /// Frames received without our header (should be 0).
    pub foreign_frames: u64,
    /// Datagrams or frames that could not be sent.
    pub send_errors: u64,
    /// Non-fatal `error` messages from the server.
    pub server_errors: u64,
}

/// The server process, over the measured window.
#[derive(Debug, Clone, Serialize)]
pub struct ServerReport {
    /// Its PID.
    pub pid: u32,
    /// CPU time used in the window, seconds.
    pub cpu_secs: f64,
    /// The same as a share of one core.
    pub cpu_percent: f64,
    /// CPU µs per RTP packet received by the participants in the window.
    pub cpu_us_per_packet: Option<f64>,
    /// Resident memory before the first join, MiB.
    pub rss_before_mib: f64,
    /// Resident memory at the end of the window, MiB.
    pub rss_end_mib: f64,
    /// Peak resident memory, MiB.
    pub rss_peak_mib: f64,
    /// (end − before) / connected participants, KiB.
    pub rss_per_participant_kib: f64,
    /// The same for anonymous resident memory (`RssAnon`: heap and stacks, not the pages of
    /// the binary touched for the first time), KiB: what each participant costs.
    pub anon_per_participant_kib: f64,
}

/// Everything a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The set-up.
    pub setup: RunSetup,
    /// Joining.
    pub join: JoinReport,
    /// Media.
    pub media: MediaReport,
    /// Pairs with no media where media was expected (at most 50 listed).
    pub missing: Vec<Missing>,
    /// Total pairs with no media where media was expected.
    pub missing_count: usize,
    /// Receivers that got media from fewer senders than the expected last-N (at most 50).
    pub shortfalls: Vec<Shortfall>,
    /// Total such (receiver, kind).
    pub shortfall_count: usize,
    /// The server, when `--server-pid` was given.
    pub server: Option<ServerReport>,
    /// CPU of the generator itself over the window, % of one core: near 100 % on one core, its
    /// own work (SRTP, scheduling) delays what it measures.
    pub generator_cpu_percent: Option<f64>,
    /// The generator's video pacing.
    pub pacing: PacingReport,
}

/// Counter values at the window's edges.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    /// Window length.
    pub elapsed: Duration,
    /// Frames received in it.
    pub frames: u64,
    /// RTP packets received in it.
    pub packets: u64,
    /// UDP bytes received in it.
    pub bytes: u64,
    /// CPU time this generator process used in it (all participants).
    pub generator_cpu: Option<Duration>,
}

/// Server samples: before the first join, at the window's start and end.
#[derive(Debug, Clone, Copy)]
pub struct ServerSamples {
    /// The PID.
    pub pid: u32,
    /// Before joins.
    pub before: ProcSample,
    /// Window start.
    pub start: ProcSample,
    /// Window end.
    pub end: ProcSample,
}

impl Report {
    /// Builds the report.
    pub fn build(
        setup: RunSetup,
        results: &[ParticipantResult],
        window: Window,
        server: Option<ServerSamples>,
    ) -> Report {
        let count =
            |f: &dyn Fn(&ParticipantResult) -> bool| results.iter().filter(|r| f(r)).count() as u32;
        let connected = count(&|r| r.times.connected.is_some() && r.error.is_none());
        let failures: Vec<String> = results
            .iter()
            .filter_map(|r| match (&r.error, r.times.connected) {
                (Some(e), _) => Some(format!("participant {}: {e}", r.plan.index)),
                (None, None) => Some(format!(
                    "participant {}: media never connected",
                    r.plan.index
                )),
                (None, Some(_)) => None,
            })
            .collect();
        let join = JoinReport {
            attempted: results.len() as u32,
            joined: count(&|r| r.times.welcome.is_some()),
            connected,
            failed: failures.len() as u32,
            failures: failures.into_iter().take(10).collect(),
            welcome: Quantiles::from_durations(results.iter().filter_map(|r| r.times.welcome)),
            connected_time: Quantiles::from_durations(
                results.iter().filter_map(|r| r.times.connected),
            ),
            first_media: Quantiles::from_durations(
                results.iter().filter_map(|r| r.times.first_media),
            ),
            first_video: Quantiles::from_durations(
                results.iter().filter_map(|r| r.times.first_video),
            ),
        };

        let mut frames_by_stream = BTreeMap::new();
        for r in results {
            for ((_, stream), flow) in &r.metrics.flows {
                *frames_by_stream.entry(stream_name(*stream)).or_insert(0) += flow.received;
            }
        }
        let mut audio = Histogram::default();
        let mut video = Histogram::default();
        let (mut expected, mut lost) = (0, 0);
        let mut forwarded = ForwardedTotals::default();
        let rtp_lost: u64 = results.iter().map(|r| r.metrics.rtp_lost).sum();
        let rtp_received: u64 = results.iter().map(|r| r.metrics.rtp_received).sum();
        for r in results {
            audio.merge(&r.metrics.audio_latency);
            video.merge(&r.metrics.video_latency);
            let (e, l) = r.metrics.loss();
            expected += e;
            lost += l;
            forwarded.add(&r.metrics.forwarded_totals());
        }
        let senders = |video: bool| {
            let counts = results
                .iter()
                .filter(|r| r.error.is_none() && r.times.connected.is_some())
                .map(|r| r.metrics.senders(video) as u32);
            counts.clone().min().zip(counts.max()).unwrap_or((0, 0))
        };
        let secs = window.elapsed.as_secs_f64();
        let kbps = if secs > 0.0 {
            window.bytes as f64 * 8.0 / secs / 1000.0
        } else {
            0.0
        };
        let media = MediaReport {
            window_secs: secs,
            frames_received: window.frames,
            packets_received: window.packets,
            bitrate_kbps_total: kbps,
            bitrate_kbps_per_participant: if connected > 0 {
                kbps / f64::from(connected)
            } else {
                0.0
            },
            frames_expected: expected,
            frames_lost: lost,
            loss: fraction(lost, expected),
            forwarded,
            loss_forwarded: forwarded.loss(),
            video_senders_per_receiver: senders(true),
            audio_senders_per_receiver: senders(false),
            rtp_packets_lost: rtp_lost,
            rtp_loss: fraction(rtp_lost, rtp_received + rtp_lost),
            audio_latency: Quantiles::from_histogram(&audio),
            video_latency: Quantiles::from_histogram(&video),
            frames_by_stream,
            foreign_frames: results.iter().map(|r| r.metrics.foreign_frames).sum(),
            send_errors: results.iter().map(|r| r.send_errors).sum(),
            server_errors: results.iter().map(|r| r.server_errors).sum(),
        };

        let missing = missing_media(results, &setup.expect);
        let short = shortfalls(results, &setup.expect);
        let server = server.map(|s| {
            let cpu = s.end.cpu.saturating_sub(s.start.cpu).as_secs_f64();
            let mib = |kib: u64| kib as f64 / 1024.0;
            let per_participant = |before: u64, end: u64| {
                if connected > 0 {
                    end.saturating_sub(before) as f64 / f64::from(connected)
                } else {
                    0.0
                }
            };
            ServerReport {
                pid: s.pid,
                cpu_secs: cpu,
                cpu_percent: if secs > 0.0 { cpu / secs * 100.0 } else { 0.0 },
                cpu_us_per_packet: (window.packets > 0).then(|| cpu * 1e6 / window.packets as f64),
                rss_before_mib: mib(s.before.rss_kib),
                rss_end_mib: mib(s.end.rss_kib),
                rss_peak_mib: mib(s.end.peak_rss_kib),
                rss_per_participant_kib: per_participant(s.before.rss_kib, s.end.rss_kib),
                anon_per_participant_kib: per_participant(s.before.anon_kib, s.end.anon_kib),
            }
        });
        Report {
            setup,
            join,
            media,
            missing_count: missing.len(),
            missing: missing.into_iter().take(50).collect(),
            shortfall_count: short.len(),
            shortfalls: short.into_iter().take(50).collect(),
            server,
            generator_cpu_percent: window
                .generator_cpu
                .filter(|_| secs > 0.0)
                .map(|c| c.as_secs_f64() / secs * 100.0),
            pacing: PacingReport {
                paced_datagrams: results.iter().map(|r| r.pacing.paced).sum(),
                forced_releases: results.iter().map(|r| r.pacing.forced).sum(),
                max_delay_ms: results
                    .iter()
                    .map(|r| r.pacing.max_delay.as_secs_f64() * 1000.0)
                    .fold(0.0, f64::max),
                max_queued_bytes: results
                    .iter()
                    .map(|r| r.pacing.max_queued_bytes)
                    .max()
                    .unwrap_or(0),
            },
        }
    }

    /// Why this run fails the pass criteria (empty: it passes): a participant failed, a
    /// receiver got nothing from a sender it should hear (or, with a last-N expectation, from
    /// too few senders), loss while forwarded or RTP loss above `max_loss`, no media at all.
    /// The end-to-end frame loss is not a criterion: it counts what the server pauses on
    /// purpose.
    pub fn failures(&self, max_loss: f64) -> Vec<String> {
        let mut why = Vec::new();
        if self.join.failed > 0 {
            why.push(format!(
                "{} of {} participants failed",
                self.join.failed, self.join.attempted
            ));
        }
        if self.missing_count > 0 {
            why.push(format!(
                "{} (receiver, sender) pairs got no media",
                self.missing_count
            ));
        }
        if self.shortfall_count > 0 {
            why.push(format!(
                "{} receivers got media from fewer senders than last-N allows",
                self.shortfall_count
            ));
        }
        if self.media.loss_forwarded > max_loss {
            why.push(format!(
                "loss while forwarded {:.3} % above {:.3} %",
                self.media.loss_forwarded * 100.0,
                max_loss * 100.0
            ));
        }
        if self.media.rtp_loss > max_loss {
            why.push(format!(
                "RTP loss {:.3} % above {:.3} %",
                self.media.rtp_loss * 100.0,
                max_loss * 100.0
            ));
        }
        if self.media.frames_received == 0 {
            why.push("no media received".into());
        }
        why
    }

    /// The report as a human-readable table.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let s = &self.setup;
        let j = &self.join;
        let m = &self.media;
        let q = |q: &Quantiles| format!("{:>8.1} {:>8.1} {:>8.1}", q.p50_ms, q.p99_ms, q.max_ms);
        let _ = writeln!(
            t,
            "webconf-load ({}): {} rooms × {} participants ({} video, audio {}, {}{}{}), {}, {:.0} s, {}",
            serde_json::to_string(&s.target)
                .unwrap_or_default()
                .trim_matches('"'),
            s.rooms,
            s.participants_per_room,
            s.video_publishers_per_room,
            match (s.audio, s.audio_publishers_per_room) {
                (false, _) => "off".to_owned(),
                (true, None) => "on".to_owned(),
                (true, Some(n)) => format!("{n} of each room"),
            },
            serde_json::to_string(&s.video_profile)
                .unwrap_or_default()
                .trim_matches('"'),
            if s.simulcast { " simulcast" } else { "" },
            s.view_height
                .map_or(String::new(), |h| format!(", view {h} px tiles"))
                + &s.talkers
                    .map_or(String::new(), |n| format!(", {n} talkers")),
            if s.pace_factor > 0.0 {
                format!("paced {}× ({} kbit/s)", s.pace_factor, s.pace_rate_kbps)
            } else {
                "unpaced".to_owned()
            },
            s.duration_secs,
            s.url
        );
        let _ = writeln!(
            t,
            "{:<28} {:>8} {:>8} {:>8}",
            "", "p50 ms", "p99 ms", "max ms"
        );
        let _ = writeln!(t, "{:<28} {}", "join: welcome", q(&j.welcome));
        let _ = writeln!(
            t,
            "{:<28} {}",
            "join: media connected",
            q(&j.connected_time)
        );
        let _ = writeln!(t, "{:<28} {}", "join: first frame", q(&j.first_media));
        let _ = writeln!(t, "{:<28} {}", "join: first video frame", q(&j.first_video));
        let _ = writeln!(t, "{:<28} {}", "latency: audio", q(&m.audio_latency));
        let _ = writeln!(t, "{:<28} {}", "latency: video frame", q(&m.video_latency));
        let _ = writeln!(
            t,
            "participants: {} started, {} joined, {} connected, {} failed",
            j.attempted, j.joined, j.connected, j.failed
        );
        for f in &j.failures {
            let _ = writeln!(t, "  {f}");
        }
        let _ = writeln!(
            t,
            "received ({:.1} s window): {:.0} kbit/s total, {:.0} kbit/s per participant, {} frames, {} RTP packets",
            m.window_secs, m.bitrate_kbps_total, m.bitrate_kbps_per_participant, m.frames_received, m.packets_received
        );
        let by_stream: Vec<String> = m
            .frames_by_stream
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(t, "frames by stream (whole run): {}", by_stream.join(", "));
        let f = &m.forwarded;
        let _ = writeln!(
            t,
            "loss while forwarded: {:.3} % ({} of {} frames; paused {} frames in {} pauses of 500 ms or more and {} shorter video gaps ended by a keyframe), RTP server → participants {:.3} %",
            m.loss_forwarded * 100.0,
            f.lost,
            f.received + f.lost,
            f.paused,
            f.pauses,
            f.keyframe_pauses,
            m.rtp_loss * 100.0,
        );
        let _ = writeln!(
            t,
            "loss end to end (pauses included): {:.3} % ({} of {} frames); foreign frames {}, send errors {}, server errors {}",
            m.loss * 100.0,
            m.frames_lost,
            m.frames_expected,
            m.foreign_frames,
            m.send_errors,
            m.server_errors
        );
        let expect = |n: Option<u32>| n.map_or("all".to_owned(), |n| format!("last-N {n}"));
        let _ = writeln!(
            t,
            "senders per receiver: video {}-{} (expected {}), audio {}-{} (expected {}); no media on {} (receiver, sender) pairs, too few senders for {} receivers",
            m.video_senders_per_receiver.0,
            m.video_senders_per_receiver.1,
            expect(s.expect.video_last_n),
            m.audio_senders_per_receiver.0,
            m.audio_senders_per_receiver.1,
            expect(s.expect.audio_last_n),
            self.missing_count,
            self.shortfall_count
        );
        for sf in self.shortfalls.iter().take(5) {
            let _ = writeln!(
                t,
                "  participant {}: {} from {} senders, expected {}",
                sf.receiver, sf.kind, sf.senders, sf.expected
            );
        }
        if let Some(g) = self.generator_cpu_percent {
            let _ = writeln!(t, "generator: cpu {g:.0} % of a core");
        }
        if s.pace_factor > 0.0 {
            let p = &self.pacing;
            let _ = writeln!(
                t,
                "pacing: {} video datagrams paced, longest wait {:.1} ms, at most {} bytes queued, {} released early (over 2 s queued)",
                p.paced_datagrams, p.max_delay_ms, p.max_queued_bytes, p.forced_releases
            );
        }
        if let Some(sv) = &self.server {
            let per_packet = sv
                .cpu_us_per_packet
                .map_or("-".into(), |v| format!("{v:.2}"));
            let _ = writeln!(
                t,
                "server pid {}: cpu {:.2} s ({:.0} % of a core), {} µs per forwarded packet; rss {:.1} → {:.1} MiB (peak {:.1}), {:.0} KiB per participant ({:.0} KiB anonymous)",
                sv.pid,
                sv.cpu_secs,
                sv.cpu_percent,
                per_packet,
                sv.rss_before_mib,
                sv.rss_end_mib,
                sv.rss_peak_mib,
                sv.rss_per_participant_kib,
                sv.anon_per_participant_kib
            );
        }
        t
    }
}

/// The report's name of a stream.
fn stream_name(stream: StreamKind) -> String {
    match stream {
        StreamKind::Audio => "audio".into(),
        StreamKind::Video => "video".into(),
        StreamKind::Layer(l) => {
            let rid = crate::client::LAYERS
                .get(usize::from(l))
                .map_or("?", |(rid, _)| rid);
            format!("layer_{rid}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{JoinTimes, Plan};
    use crate::media::{FrameHeader, VideoProfile};
    use crate::metrics::ReceiverMetrics;
    use crate::signaling::Target;

    fn participant(index: u32, room_index: u32, video: bool) -> ParticipantResult {
        ParticipantResult {
            plan: Plan {
                index,
                room_index,
                room: format!("room{room_index}"),
                audio: true,
                video,
                audio_level: None,
            },
            times: JoinTimes {
                welcome: Some(Duration::from_millis(5)),
                ice: Some(Duration::from_millis(20)),
                connected: Some(Duration::from_millis(40)),
                first_media: Some(Duration::from_millis(60)),
                first_video: None,
            },
            error: None,
            metrics: ReceiverMetrics::default(),
            server_errors: 0,
            send_errors: 0,
            pacing: Default::default(),
        }
    }

    fn receive(
        r: &mut ParticipantResult,
        sender: u32,
        stream: StreamKind,
        seqs: impl Iterator<Item = u32>,
    ) {
        for seq in seqs {
            r.metrics.record(
                &FrameHeader {
                    stream,
                    keyframe: false,
                    sender,
                    seq,
                    sent_us: 0,
                },
                2000,
            );
        }
    }

    fn setup() -> RunSetup {
        RunSetup {
            target: Target::Webconf,
            url: "http://127.0.0.1:1".into(),
            rooms: 2,
            participants_per_room: 2,
            video_publishers_per_room: 1,
            audio: true,
            audio_publishers_per_room: None,
            video_profile: VideoProfile::P360,
            simulcast: false,
            duration_secs: 1.0,
            join_interval_ms: 0,
            view_height: None,
            talkers: None,
            pace_factor: 2.5,
            pace_rate_kbps: 1350,
            expect: Expectation::default(),
        }
    }

    #[test]
    fn a_complete_run_passes_and_a_silent_pair_fails() {
        // Room 0: 0 publishes video, 1 audio only. Room 1: 2 (video) and 3, who fail to hear 2.
        let mut rs = vec![
            participant(0, 0, true),
            participant(1, 0, false),
            participant(2, 1, true),
            participant(3, 1, false),
        ];
        receive(&mut rs[0], 1, StreamKind::Audio, 0..100);
        receive(&mut rs[1], 0, StreamKind::Audio, 0..100);
        receive(
            &mut rs[1],
            0,
            StreamKind::Video,
            (0..60).filter(|s| *s != 30),
        );
        receive(&mut rs[2], 3, StreamKind::Audio, 0..100);
        receive(&mut rs[3], 2, StreamKind::Video, 0..60);
        let window = Window {
            elapsed: Duration::from_secs(2),
            frames: 519,
            packets: 600,
            bytes: 250_000,
            generator_cpu: Some(Duration::from_millis(500)),
        };
        let report = Report::build(setup(), &rs, window, None);
        assert_eq!(
            report.missing,
            vec![Missing {
                receiver: 3,
                sender: 2,
                kind: "audio"
            }]
        );
        assert_eq!(report.media.frames_lost, 1);
        assert_eq!(report.media.frames_expected, 420);
        assert_eq!(report.media.bitrate_kbps_total, 1000.0);
        assert_eq!(report.join.connected, 4);
        assert_eq!(report.generator_cpu_percent, Some(25.0));
        assert!((report.join.connected_time.p50_ms - 40.0).abs() < 1.0);
        let why = report.failures(0.01);
        assert_eq!(why.len(), 1, "{why:?}");
        assert!(why[0].contains("1 (receiver, sender) pairs"));
        // Loss above the threshold is a failure too.
        assert_eq!(report.failures(0.001).len(), 2);
        // The table and the JSON carry the figures.
        assert!(
            report.table().contains("loss while forwarded: 0.238 %"),
            "{}",
            report.table()
        );
        assert!(report.table().contains("paced 2.5× (1350 kbit/s)"));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["setup"]["pace_factor"], 2.5);
        assert_eq!(json["media"]["frames_lost"], 1);
        assert_eq!(json["missing"][0]["kind"], "audio");
        assert_eq!(json["media"]["frames_by_stream"]["audio"], 300);
        assert_eq!(json["media"]["frames_by_stream"]["video"], 119);

        receive(&mut rs[3], 2, StreamKind::Audio, 0..100);
        let report = Report::build(setup(), &rs, window, None);
        assert!(report.failures(0.01).is_empty());
    }

    #[test]
    fn pauses_are_not_loss_and_last_n_replaces_the_pair_check() {
        // Room of 3, everyone publishing video and audio; last-N 1.
        let mut rs: Vec<ParticipantResult> = (0..3).map(|i| participant(i, 0, true)).collect();
        for rx in 0..3u32 {
            for tx in (0..3u32).filter(|tx| *tx != rx) {
                receive(&mut rs[rx as usize], tx, StreamKind::Audio, 0..100);
            }
        }
        // Each receiver gets one camera: frames 0..30, paused 1 s (last-N), 60..90.
        for (rx, tx) in [(0, 1), (1, 2), (2, 0)] {
            let seqs = (0..30).chain(60..90);
            receive(&mut rs[rx], tx, StreamKind::Layer(0), seqs);
        }
        let mut s = setup();
        s.expect = Expectation {
            video_last_n: Some(1),
            audio_last_n: None,
        };
        let report = Report::build(s.clone(), &rs, Window::default(), None);
        let m = &report.media;
        assert_eq!(m.frames_lost, 90, "the pauses count end to end");
        assert!(m.loss > 0.1);
        assert_eq!(
            (m.forwarded.lost, m.forwarded.paused, m.forwarded.pauses),
            (0, 90, 3)
        );
        assert_eq!(m.loss_forwarded, 0.0);
        assert_eq!(m.video_senders_per_receiver, (1, 1));
        assert_eq!(m.audio_senders_per_receiver, (2, 2));
        assert_eq!((report.missing_count, report.shortfall_count), (0, 0));
        // Failures would only be "no media received" (the window is empty here).
        assert_eq!(report.failures(0.01), vec!["no media received".to_string()]);
        assert!(report.table().contains("video 1-1 (expected last-N 1)"));
        // Without the expectation, the silent camera pairs are missing media.
        s.expect = Expectation::default();
        let report = Report::build(s, &rs, Window::default(), None);
        assert_eq!(report.missing_count, 3);
    }

    #[test]
    fn failed_participants_fail_the_run_and_are_not_missing_pairs() {
        let mut rs = vec![participant(0, 0, true), participant(1, 0, true)];
        rs[1].error = Some("dtls: media not connected within 20s".into());
        rs[1].times.connected = None;
        receive(&mut rs[0], 5, StreamKind::Audio, 0..10);
        let report = Report::build(setup(), &rs, Window::default(), None);
        assert!(report.missing.is_empty());
        assert_eq!(report.join.failed, 1);
        assert_eq!(
            report.join.failures,
            vec!["participant 1: dtls: media not connected within 20s".to_string()]
        );
        let why = report.failures(0.01);
        assert!(why.iter().any(|w| w.contains("1 of 2 participants failed")));
        assert!(why.iter().any(|w| w.contains("no media received")));
        // Stopped before its media connected, without an error of its own: still a failure.
        rs[1].error = None;
        let report = Report::build(setup(), &rs, Window::default(), None);
        assert_eq!(
            report.join.failures,
            vec!["participant 1: media never connected".to_string()]
        );
    }

    #[test]
    fn server_figures_come_from_the_window() {
        let rs = vec![participant(0, 0, false), participant(1, 0, false)];
        let s = |cpu_ms, rss| ProcSample {
            cpu: Duration::from_millis(cpu_ms),
            rss_kib: rss,
            peak_rss_kib: rss,
            anon_kib: rss / 2,
        };
        let samples = ServerSamples {
            pid: 7,
            before: s(100, 10_240),
            start: s(500, 12_288),
            end: s(1500, 12_288),
        };
        let window = Window {
            elapsed: Duration::from_secs(2),
            frames: 100,
            packets: 1000,
            bytes: 1,
            generator_cpu: None,
        };
        let sv = Report::build(setup(), &rs, window, Some(samples))
            .server
            .expect("server");
        assert_eq!(sv.cpu_secs, 1.0);
        assert_eq!(sv.cpu_percent, 50.0);
        assert_eq!(sv.cpu_us_per_packet, Some(1000.0));
        assert_eq!(sv.rss_per_participant_kib, 1024.0);
        assert_eq!(sv.anon_per_participant_kib, 512.0);
    }
}
