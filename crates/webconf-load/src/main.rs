//! `webconf-load`: the command line. Parses arguments, runs the load, prints the report as a
//! table (stdout) and JSON (`--json`), and exits non-zero when the run fails its criteria.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use webconf_load::coverage::Expectation;
use webconf_load::media::VideoProfile;
use webconf_load::signaling::Target;
use webconf_load::LoadConfig;

/// Load generator for webconf: synthetic participants over the real signaling and DTLS-SRTP.
///
/// The server must run with `[http] tls = "off"` and the generator's address (127.0.0.1) in an
/// agents zone (the default `internal` zone), so that its participants may open rooms.
/// With `--target janus`, `--url` is Janus's WebSocket API (`ws://host:8188`, no TLS).
#[derive(Parser, Debug)]
#[command(name = "webconf-load", version)]
struct Cli {
    /// The server's base URL (plain HTTP), or Janus's WebSocket URL with `--target janus`.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Which kind of server.
    #[arg(long, value_enum, default_value_t = Target::Webconf)]
    target: Target,
    /// Number of rooms.
    #[arg(long, default_value_t = 1)]
    rooms: u32,
    /// Participants in each room.
    #[arg(long, default_value_t = 10)]
    participants_per_room: u32,
    /// How many participants of each room publish video (the others publish audio only).
    #[arg(long, default_value_t = 4)]
    publishers: u32,
    /// Nobody publishes audio.
    #[arg(long)]
    no_audio: bool,
    /// Only the first N participants of each room publish audio (default: all).
    #[arg(long)]
    audio_publishers: Option<u32>,
    /// Local address of the participants' UDP sockets (their ICE host candidate).
    #[arg(long, default_value = "127.0.0.1")]
    bind_ip: std::net::IpAddr,
    /// Single-layer video quality.
    #[arg(long, value_enum, default_value_t = VideoProfile::P360)]
    video: VideoProfile,
    /// Publish three simulcast layers (q 180p, h 360p, f 720p) instead of one.
    #[arg(long)]
    simulcast: bool,
    /// Seconds of measured media once everyone joined.
    #[arg(long, default_value_t = 15.0)]
    duration: f64,
    /// Milliseconds between two joins (0: everyone at once).
    #[arg(long, default_value_t = 20)]
    join_interval: u64,
    /// Seconds a participant waits for `welcome`, then for its media to connect.
    #[arg(long, default_value_t = 20.0)]
    join_timeout: f64,
    /// Seconds between periodic keyframes.
    #[arg(long, default_value_t = 3.0)]
    keyframe_interval: f64,
    /// PID of the server, to report its CPU time and memory (Linux /proc).
    #[arg(long)]
    server_pid: Option<u32>,
    /// Write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// webconf only (ignored with `--target janus`, which has no such message): every
    /// participant sends `view` with every other participant's camera in a tile of this height
    /// in device pixels (180: a grid of small tiles), after `welcome` and again ~300 ms after
    /// the roster changes. Default: no `view`, so the server sends every camera at full size.
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=4320))]
    view_height: Option<u32>,
    /// Stamp an audio level (RFC 6464) on every audio frame: the first N audio publishers of
    /// each room speak (-20 dBov), the others are silent (-127 dBov), as in a meeting, so that
    /// webconf's audio last-N (the 5 loudest) applies. Default: no level (webconf then forwards
    /// every microphone, as for a browser that sends none).
    #[arg(long)]
    talkers: Option<u32>,
    /// The server forwards at most this many cameras to each participant (webconf's
    /// `media.last_n`, 9 by default): each receiver must then get video from at least
    /// min(N, other video publishers) senders, instead of from every publisher.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    expect_last_n: Option<u32>,
    /// The server forwards at most this many microphones to each participant: each receiver
    /// must then get audio from at least min(N, other audio publishers) senders, instead of
    /// from every publisher. Default: 5 against webconf (its microphone slots carry the 5
    /// loudest others, or the first 5 without levels), none against Janus (it forwards all).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    expect_audio_last_n: Option<u32>,
    /// Fail (exit 1) when the loss while forwarded or the RTP loss is above this fraction
    /// (0.01 = 1 %). The end-to-end frame loss, which counts what the server pauses on purpose
    /// (last-N), is reported but not checked.
    #[arg(long, default_value_t = 0.01)]
    max_loss: f64,
    /// Pace the outgoing video as a browser does (libwebrtc's pacer): at F × the publisher's
    /// video bitrate (its simulcast layers' mean, keyframes included; at least 300 kbit/s),
    /// in bursts of at most 5 ms worth, audio and RTCP first. 0: no pacing, every packet of a
    /// frame leaves at once (the behaviour before pacing).
    #[arg(long, default_value_t = webconf_load::pacer::DEFAULT_PACE_FACTOR)]
    pace_factor: f64,
    /// Room name prefix (letters and digits).
    #[arg(long, default_value = "load")]
    room_prefix: String,
    /// No progress line on stderr.
    #[arg(long)]
    quiet: bool,
}

fn secs(v: f64, name: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(v)
        .map_err(|_| anyhow::anyhow!("--{name} must be a non-negative number of seconds"))
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let config = LoadConfig {
        target: cli.target,
        url: cli.url,
        rooms: cli.rooms,
        participants_per_room: cli.participants_per_room,
        video_publishers: cli.publishers,
        audio: !cli.no_audio,
        audio_publishers: cli.audio_publishers,
        bind_ip: cli.bind_ip,
        profile: cli.video,
        simulcast: cli.simulcast,
        duration: secs(cli.duration, "duration")?,
        join_interval: Duration::from_millis(cli.join_interval),
        join_timeout: secs(cli.join_timeout, "join-timeout")?,
        keyframe_interval: secs(cli.keyframe_interval, "keyframe-interval")?,
        server_pid: cli.server_pid,
        room_prefix: cli.room_prefix,
        progress: !cli.quiet,
        view_height: cli.view_height,
        talkers: cli.talkers,
        pace_factor: cli.pace_factor,
        expect: Expectation {
            video_last_n: cli.expect_last_n,
            audio_last_n: cli.expect_audio_last_n.or(match cli.target {
                Target::Webconf => Some(webconf_load::WEBCONF_AUDIO_LAST_N),
                Target::Janus => None,
            }),
        },
    };
    let report = webconf_load::run(config).await?;
    print!("{}", report.table());
    if let Some(path) = cli.json {
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    let failures = report.failures(cli.max_loss);
    if failures.is_empty() {
        println!("PASS");
        Ok(ExitCode::SUCCESS)
    } else {
        for f in &failures {
            println!("FAIL: {f}");
        }
        Ok(ExitCode::FAILURE)
    }
}
