//! Smoke runs against the real server: the `webconf` binary on free ports (plain HTTP, media on
//! 127.0.0.1, loopback in the default agents zone).
//! - 10 synthetic participants in one room (4 publishing video, all publishing audio) for 15 s:
//!   every subscriber must get media from every publisher, with at most 1 % of frames lost.
//! - 6 participants all publishing simulcast video and audio, the server at `last_n = 2`, each
//!   participant reporting 180-pixel tiles (`view`) and one of them talking: each receiver gets
//!   exactly 2 cameras, in the small layer, 4 or 5 microphones, and loses nothing while
//!   forwarded.
//!
//! The two tests take turns (a lock): each loads the machine on its own.
//!
//! The server binary: `$WEBCONF_BIN` when set; otherwise this test runs
//! `cargo build -p webconf-server --bin webconf` into its own target directory first (a no-op
//! when it is up to date; under `cargo test --workspace` it usually is, since the server's own
//! integration tests need the binary), and runs `<target>/<profile>/webconf`.

use std::io::Read;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use webconf_load::coverage::Expectation;
use webconf_load::media::VideoProfile;
use webconf_load::LoadConfig;

/// `<target>/<profile>`, from this test executable's path `<target>/<profile>/deps/smoke-…`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .expect("test executable lives in <target>/<profile>/deps")
}

fn server_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("WEBCONF_BIN") {
        return PathBuf::from(bin);
    }
    let profile = profile_dir();
    let target = profile.parent().expect("target dir");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--quiet",
        "-p",
        "webconf-server",
        "--bin",
        "webconf",
        "--target-dir",
    ])
    .arg(target)
    .current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("run cargo build -p webconf-server");
    assert!(status.success(), "cargo build -p webconf-server failed");
    let bin = profile.join("webconf");
    assert!(bin.exists(), "no server binary at {}", bin.display());
    bin
}

/// `count` consecutive free UDP ports in 20000..29999, probed with a bind.
fn media_ports(count: u16) -> (u16, u16) {
    let seed = std::process::id() as u64 ^ Instant::now().elapsed().as_nanos() as u64;
    for attempt in 0..200u64 {
        let base = 20_000 + ((seed.wrapping_mul(2_654_435_761) + attempt * 97) % 9_900) as u16;
        let free = (base..base + count).all(|p| UdpSocket::bind(("0.0.0.0", p)).is_ok());
        if free {
            return (base, base + count - 1);
        }
    }
    panic!("no free UDP port range for the media server");
}

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// The running server; killed and its directory removed on drop.
struct Server {
    child: Child,
    dir: PathBuf,
    url: String,
}

/// One load run at a time.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Server {
    /// Starts the server; `media_extra` is added to its `[media]` section.
    fn start(media_extra: &str) -> Server {
        let bin = server_binary();
        static STARTED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("webconf-load-smoke-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let port = free_tcp_port();
        let (min, max) = media_ports(11);
        let config = format!(
            "data_dir = {data:?}\n\n[http]\nlisten = \"127.0.0.1:{port}\"\ntls = \"off\"\n\n\
             [media]\nport_min = {min}\nport_max = {max}\naddresses = [\"127.0.0.1\"]\n{media_extra}\n\
             [[access.zones]]\nname = \"internal\"\nranges = [\"127.0.0.0/8\"]\nagents = true\n",
            data = dir.join("data").display().to_string(),
        );
        let config_path = dir.join("webconf.toml");
        std::fs::write(&config_path, &config).expect("write config");
        let log = std::fs::File::create(dir.join("server.log")).expect("log file");
        let mut cmd = Command::new(&bin);
        cmd.arg("serve")
            .arg("--config")
            .arg(&config_path)
            .current_dir(&dir);
        // The config file is the whole truth: WEBCONF_* variables would override it.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("WEBCONF_") {
                cmd.env_remove(k);
            }
        }
        let child = cmd
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info,str0m=warn,webconf::latency=debug")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        let mut server = Server {
            child,
            dir,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "webconf exited ({status}) before listening:\n{}",
                    server.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "webconf did not listen within 30 s:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(self.dir.join("server.log")) {
            let _ = f.read_to_string(&mut s);
        }
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs the generator and prints its table.
async fn run(config: LoadConfig) -> webconf_load::report::Report {
    let report = webconf_load::run(config).await.expect("load run");
    println!("{}", report.table());
    report
}

/// What a failed assertion shows: the report and the server's log.
fn context(report: &webconf_load::report::Report, server: &Server) -> String {
    format!(
        "{}\n----- server log -----\n{}",
        report.table(),
        server.log()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_participants_for_fifteen_seconds() {
    let _turn = TURN.lock().await;
    let server = Server::start("");
    let config = LoadConfig {
        url: server.url.clone(),
        rooms: 1,
        participants_per_room: 10,
        video_publishers: 4,
        audio: true,
        // 180p (one packet per delta frame) keeps the debug-built server and generator within
        // a loaded 2-core machine; the benchmarks in docs/benchmarks.md use release builds.
        profile: VideoProfile::P180,
        duration: Duration::from_secs(15),
        join_interval: Duration::from_millis(50),
        join_timeout: Duration::from_secs(30),
        server_pid: Some(server.child.id()),
        room_prefix: "smoke".into(),
        ..LoadConfig::default()
    };
    let report = run(config).await;
    let context = || context(&report, &server);

    assert_eq!(
        report.join.connected,
        10,
        "every participant connects\n{}",
        context()
    );
    assert!(
        report.failures(0.01).is_empty(),
        "{:?}\n{}",
        report.failures(0.01),
        context()
    );
    assert_eq!(
        report.missing_count,
        0,
        "{:?}\n{}",
        report.missing,
        context()
    );
    assert!(
        report.join.connected_time.max_ms < 25_000.0,
        "join takes at most 25 s even with debug builds on a loaded machine\n{}",
        context()
    );
    // Media flows at its rate, not a trickle: 10 receivers × (9 × 50 audio + 3.6 × 30 video)
    // frames per second; accept a quarter of that on a busy machine.
    let per_sec = report.media.frames_received as f64 / report.media.window_secs;
    assert!(
        per_sec > 0.25 * 10.0 * (9.0 * 50.0 + 3.6 * 30.0),
        "{per_sec:.0} frames/s\n{}",
        context()
    );
    assert_eq!(report.media.foreign_frames, 0, "{}", context());
    // A few ms on an idle machine (release builds); seconds only when the server falls behind.
    assert!(
        report.media.audio_latency.p50_ms < 3000.0,
        "audio is late: {}",
        context()
    );
    let server_figures = report.server.as_ref().expect("server figures from /proc");
    assert!(
        server_figures.cpu_secs > 0.0 && server_figures.rss_end_mib > 1.0,
        "{}",
        context()
    );
    // The server logs how long it held the media (engine/latency.rs, every 5 s): it counted
    // datagrams, and held them less than the seconds that would mean it fell behind.
    let log = server.log();
    let held: Vec<(u64, u64)> = log
        .lines()
        .filter(|l| l.contains("media held by the server"))
        .filter_map(|l| Some((log_field(l, "datagrams=")?, log_field(l, "p99_us=")?)))
        .collect();
    assert!(
        held.len() >= 2
            && held
                .iter()
                .all(|(n, p99)| *n > 0 && *p99 > 0 && *p99 < 3_000_000),
        "latency lines {held:?}\n{}",
        context()
    );
}

/// The number after `name` in a log line (`name=123`).
fn log_field(line: &str, name: &str) -> Option<u64> {
    let rest = &line[line.find(name)? + name.len()..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_n_and_small_tiles_are_not_loss() {
    let _turn = TURN.lock().await;
    let server = Server::start("last_n = 2\n");
    let config = LoadConfig {
        url: server.url.clone(),
        rooms: 1,
        participants_per_room: 6,
        video_publishers: 6,
        audio: true,
        simulcast: true,
        view_height: Some(180),
        talkers: Some(1),
        expect: Expectation {
            video_last_n: Some(2),
            audio_last_n: Some(5),
        },
        duration: Duration::from_secs(8),
        join_interval: Duration::from_millis(50),
        join_timeout: Duration::from_secs(30),
        server_pid: Some(server.child.id()),
        room_prefix: "lastn".into(),
        ..LoadConfig::default()
    };
    let report = run(config).await;
    let context = || context(&report, &server);
    assert_eq!(report.join.connected, 6, "{}", context());
    // Last-N 2: every receiver gets exactly two cameras (the view shows all five others).
    assert_eq!(
        report.media.video_senders_per_receiver,
        (2, 2),
        "{}",
        context()
    );
    // Audio last-N 5 of the room: the talker and four silent microphones; a receiver that is
    // one of those five hears four others.
    let (amin, amax) = report.media.audio_senders_per_receiver;
    assert!(amin >= 4 && amax <= 5, "{}", context());
    // 180-pixel tiles: the small layer, apart from the full-size start before the first view.
    let layer = |name: &str| {
        report
            .media
            .frames_by_stream
            .get(name)
            .copied()
            .unwrap_or(0)
    };
    let video = layer("layer_q") + layer("layer_h") + layer("layer_f");
    assert!(
        layer("layer_q") as f64 > 0.8 * video as f64,
        "mostly layer q\n{}",
        context()
    );
    // What the server chose not to send is not loss: none while forwarded, no RTP loss, and
    // every receiver has what last-N allows.
    assert!(
        report.failures(0.01).is_empty(),
        "{:?}\n{}",
        report.failures(0.01),
        context()
    );
    assert!(report.media.loss_forwarded < 0.01, "{}", context());
    // Media flows: per receiver 2 cameras (30 fps) and 4-5 microphones (50 fps); a quarter
    // of that on a busy machine.
    let per_sec = report.media.frames_received as f64 / report.media.window_secs;
    assert!(
        per_sec > 0.25 * 6.0 * (2.0 * 30.0 + 4.0 * 50.0),
        "{per_sec:.0} frames/s\n{}",
        context()
    );
}
