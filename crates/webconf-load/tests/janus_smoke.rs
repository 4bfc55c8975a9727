//! Smoke run of the Janus target: the real `janus` (Debian package, VideoRoom plugin) in a
//! network namespace of its own (Janus's ICE ignores loopback), reached over a veth pair on the
//! benchmarking range 198.19.0.0/16; 4 participants, all-to-all (audio + simulcast video), for
//! 8 s. Every participant must get media from every other, with at most 1 % of frames lost.
//!
//! Needs root (namespaces) and the `janus` package, so it runs only with
//! `WEBCONF_NETNS_TESTS=1` (CI sets it and runs as root); otherwise it prints why it skipped
//! and passes. When enabled, a missing `janus` is a failure, not a skip. The namespace, the
//! veth pair, Janus and its temporary directory are removed even when the test fails.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use webconf_load::media::VideoProfile;
use webconf_load::signaling::Target;
use webconf_load::LoadConfig;

const JANUS_PORT: u16 = 8188;

fn ip(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run ip {args:?}: {e}"));
    assert!(
        out.status.success(),
        "ip {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The namespace, the veth pair, Janus and its directory; all removed on drop.
struct Sandbox {
    ns: String,
    veth_host: String,
    dir: PathBuf,
    janus: Option<Child>,
    host_ip: Ipv4Addr,
    ns_ip: Ipv4Addr,
}

impl Sandbox {
    fn new() -> Sandbox {
        let pid = std::process::id();
        // A /30 per test process in 198.19.0.0/16 (198.18.0.0/30 is the benchmark script's).
        let block = (pid % 16_000) * 4 + 64;
        let net = Ipv4Addr::new(198, 19, (block >> 8) as u8, (block & 0xff) as u8);
        let base = u32::from(net);
        let mut sb = Sandbox {
            ns: format!("wcjs{pid}"),
            veth_host: format!("wjs{pid}h"),
            dir: std::env::temp_dir().join(format!("webconf-janus-smoke-{pid}")),
            janus: None,
            host_ip: Ipv4Addr::from(base + 1),
            ns_ip: Ipv4Addr::from(base + 2),
        };
        let veth_ns = format!("wjs{pid}n");
        let _ = std::fs::remove_dir_all(&sb.dir);
        std::fs::create_dir_all(&sb.dir).expect("temp dir");
        // From here on, drop cleans up whatever was created.
        ip(&["netns", "add", &sb.ns]);
        ip(&[
            "link",
            "add",
            &sb.veth_host,
            "type",
            "veth",
            "peer",
            "name",
            &veth_ns,
        ]);
        ip(&["link", "set", &veth_ns, "netns", &sb.ns]);
        ip(&[
            "addr",
            "add",
            &format!("{}/30", sb.host_ip),
            "dev",
            &sb.veth_host,
        ]);
        ip(&["link", "set", &sb.veth_host, "up"]);
        let in_ns = |args: &[&str]| {
            let mut all = vec!["netns", "exec", sb.ns.as_str(), "ip"];
            all.extend_from_slice(args);
            ip(&all);
        };
        in_ns(&["addr", "add", &format!("{}/30", sb.ns_ip), "dev", &veth_ns]);
        in_ns(&["link", "set", &veth_ns, "up"]);
        in_ns(&["link", "set", "lo", "up"]);
        sb.start_janus();
        sb
    }

    fn start_janus(&mut self) {
        let d = &self.dir;
        let w = |name: &str, text: String| std::fs::write(d.join(name), text).expect("config");
        w(
            "janus.jcfg",
            format!(
                "general: {{\n\tconfigs_folder = \"{dir}\"\n\tdebug_level = 4\n}}\n\
                 certificates: {{\n}}\n\
                 media: {{\n\tipv6 = false\n\trtp_port_range = \"20000-40000\"\n}}\n\
                 nat: {{\n\tfull_trickle = false\n\tice_tcp = false\n\tice_enforce_list = \"{ip}\"\n\tice_ignore_list = \"\"\n\tignore_mdns = true\n}}\n\
                 plugins: {{\n\tdisable = \"libjanus_audiobridge.so,libjanus_duktape.so,libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so\"\n}}\n\
                 transports: {{\n\tdisable = \"libjanus_http.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so\"\n}}\n\
                 loggers: {{\n\tdisable = \"libjanus_jsonlog.so\"\n}}\n\
                 events: {{\n\tbroadcast = false\n}}\n",
                dir = d.display(),
                ip = self.ns_ip
            ),
        );
        w(
            "janus.transport.websockets.jcfg",
            format!(
                "general: {{\n\tjson = \"compact\"\n\tws = true\n\tws_port = {JANUS_PORT}\n\tws_ip = \"{}\"\n\twss = false\n}}\n\
                 admin: {{\n\tadmin_ws = false\n\tadmin_wss = false\n}}\n",
                self.ns_ip
            ),
        );
        w("janus.plugin.videoroom.jcfg", "general: {\n}\n".into());
        let log = std::fs::File::create(d.join("janus.log")).expect("log file");
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns, "janus", "-o", "-d", "4", "-C"])
            .arg(d.join("janus.jcfg"))
            .arg("-F")
            .arg(d)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start janus in the namespace");
        self.janus = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = (IpAddr::V4(self.ns_ip), JANUS_PORT);
        while TcpStream::connect_timeout(&addr.into(), Duration::from_millis(200)).is_err() {
            if let Some(Ok(Some(status))) = self.janus.as_mut().map(Child::try_wait) {
                panic!("janus exited ({status}) before listening:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "janus did not listen within 30 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(self.dir.join("janus.log")) {
            let _ = f.read_to_string(&mut s);
        }
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(mut c) = self.janus.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip")
            .args(["link", "del", &self.veth_host])
            .output();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_participants_all_to_all_against_janus() {
    if std::env::var("WEBCONF_NETNS_TESTS").as_deref() != Ok("1") {
        println!("skipped: set WEBCONF_NETNS_TESTS=1 (needs root and the janus package)");
        return;
    }
    // `janus --version` prints its version and exits 1 ("Unknown option"): a run is enough.
    let version = Command::new("janus").arg("--version").output();
    assert!(
        version
            .as_ref()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("Janus version")),
        "WEBCONF_NETNS_TESTS=1 but janus is not installed (apt-get install -y janus): {version:?}"
    );
    let sandbox = Sandbox::new();
    let config = LoadConfig {
        target: Target::Janus,
        url: format!("ws://{}:{JANUS_PORT}", sandbox.ns_ip),
        bind_ip: IpAddr::V4(sandbox.host_ip),
        rooms: 1,
        participants_per_room: 4,
        video_publishers: 4,
        audio: true,
        profile: VideoProfile::P180,
        simulcast: true,
        duration: Duration::from_secs(8),
        join_interval: Duration::from_millis(50),
        join_timeout: Duration::from_secs(30),
        server_pid: sandbox.janus.as_ref().map(Child::id),
        room_prefix: "janussmoke".into(),
        progress: false,
        // Janus forwards every microphone: every pair must carry audio.
        expect: webconf_load::coverage::Expectation::default(),
        ..LoadConfig::default()
    };
    let report = webconf_load::run(config).await.expect("load run");
    println!("{}", report.table());
    let context = || {
        format!(
            "{}\n----- janus log -----\n{}",
            report.table(),
            sandbox.log()
        )
    };
    assert_eq!(
        report.join.connected,
        4,
        "every participant connects\n{}",
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
        report.media.loss <= 0.01,
        "loss {:.3} %\n{}",
        report.media.loss * 100.0,
        context()
    );
    assert!(
        report.failures(0.01).is_empty(),
        "{:?}\n{}",
        report.failures(0.01),
        context()
    );
    // Media flows at its rate: 4 receivers × 3 senders × (50 audio + 30 video) frames per
    // second; accept a quarter of that on a busy machine.
    let per_sec = report.media.frames_received as f64 / report.media.window_secs;
    assert!(
        per_sec > 0.25 * 4.0 * 3.0 * 80.0,
        "{per_sec:.0} frames/s\n{}",
        context()
    );
    assert_eq!(report.media.foreign_frames, 0, "{}", context());
    // Janus forwards one simulcast layer per subscriber: the report must show video layers.
    assert!(
        report
            .media
            .frames_by_stream
            .keys()
            .any(|k| k.starts_with("layer_")),
        "{}",
        context()
    );
    let server = report.server.as_ref().expect("janus figures from /proc");
    assert!(server.cpu_secs > 0.0, "{}", context());
}
