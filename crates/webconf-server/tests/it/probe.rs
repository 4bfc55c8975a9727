//! `POST /api/probe` and `DELETE /api/probe/<id>` (the connection test page's media probe)
//! through the real HTTP application and the real engine on a real UDP socket: refusals keep
//! nothing, the per-address rate limit and the cap on probes hold, and a real str0m client gets
//! ICE and DTLS through to the server's media port with the answer it is given.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use str0m::change::SdpAnswer;
use str0m::media::{Direction, MediaKind};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use webconf_media::{Sfu, SfuConfig};
use webconf_server::engine::probe::ProbeLimits;
use webconf_server::engine::{Engine, EngineConfig};

use crate::support::{config, serve_app, Browser, TempDir};

/// The application and the engine, with one UDP media socket on 127.0.0.1.
struct ProbeServer {
    addr: SocketAddr,
    media: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _dir: TempDir,
}

impl ProbeServer {
    async fn start(limits: ProbeLimits) -> ProbeServer {
        let dir = TempDir::new("probe");
        let config = config(dir.path(), None);
        config.validate().expect("valid test config");
        let sock = UdpSocket::bind("127.0.0.1:0").await.expect("bind UDP");
        let media = sock.local_addr().expect("UDP addr");
        let sockets = HashMap::from([(media, Arc::new(sock))]);
        let sfu = Sfu::new(SfuConfig {
            addresses: vec![media.ip()],
            ports: vec![media.port()],
            ..SfuConfig::default()
        });
        let (commands, cmd_rx) = mpsc::channel(64);
        let (dg_tx, dg_rx) = webconf_server::media_queue::channel(1024);
        webconf_server::media_io::spawn_readers(&sockets, dg_tx);
        let engine = Engine::new(
            sfu,
            sockets,
            EngineConfig {
                probes: limits,
                ..EngineConfig::default()
            },
            commands.clone(),
        );
        let engine_task = tokio::spawn(engine.run(cmd_rx, dg_rx));
        let (addr, http_task) = serve_app(config, commands).await;
        ProbeServer {
            addr,
            media,
            tasks: vec![engine_task, http_task],
            _dir: dir,
        }
    }

    fn browser(&self) -> Browser {
        Browser::new(self.addr)
    }
}

impl Drop for ProbeServer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// A str0m client publishing a microphone, with a host candidate on its own UDP socket.
struct Client {
    rtc: Rtc,
    sock: UdpSocket,
    pending: Option<str0m::change::SdpPendingOffer>,
}

impl Client {
    async fn new() -> (Client, String) {
        let sock = UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("bind client UDP");
        let mut rtc = Rtc::builder().build(Instant::now());
        let local = sock.local_addr().expect("addr");
        rtc.add_local_candidate(Candidate::host(local, "udp").expect("candidate"));
        let mut api = rtc.sdp_api();
        api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
        let (offer, pending) = api.apply().expect("an offer");
        let client = Client {
            rtc,
            sock,
            pending: Some(pending),
        };
        (client, offer.to_sdp_string())
    }

    /// Takes the server's answer, then drives ICE and DTLS until connected (true) or `limit`.
    async fn connect(&mut self, answer: &str, limit: Duration) -> bool {
        let answer = SdpAnswer::from_sdp_string(answer).expect("the answer parses");
        let pending = self.pending.take().expect("an offer is pending");
        self.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .expect("the answer is accepted");
        let local = self.sock.local_addr().expect("addr");
        let deadline = Instant::now() + limit;
        let mut buf = vec![0u8; 2048];
        loop {
            let timeout = match self.rtc.poll_output().expect("poll") {
                Output::Timeout(t) => t,
                Output::Transmit(t) => {
                    let _ = self.sock.send_to(&t.contents, t.destination).await;
                    continue;
                }
                Output::Event(Event::Connected) => return true,
                Output::Event(_) => continue,
            };
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            let wait = timeout.min(deadline).saturating_duration_since(now);
            let input = match tokio::time::timeout(wait, self.sock.recv_from(&mut buf)).await {
                Ok(Ok((n, source))) => {
                    let Ok(contents) = buf[..n].try_into() else {
                        continue;
                    };
                    Input::Receive(
                        Instant::now(),
                        Receive {
                            proto: Protocol::Udp,
                            source,
                            destination: local,
                            contents,
                        },
                    )
                }
                _ => Input::Timeout(Instant::now()),
            };
            self.rtc.handle_input(input).expect("input");
        }
    }
}

async fn offer() -> String {
    Client::new().await.1
}

fn body(sdp: &str) -> String {
    json!({ "sdp": sdp }).to_string()
}

#[tokio::test]
async fn a_real_client_connects_to_the_media_port_and_the_probe_can_be_deleted() {
    let server = ProbeServer::start(ProbeLimits::default()).await;
    let mut browser = server.browser();
    let (mut client, sdp) = Client::new().await;
    let reply = browser.post_json("/api/probe", &body(&sdp)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let id = reply.json["id"].as_str().expect("id").to_owned();
    assert_eq!(id.len(), 32);
    let answer = reply.json["sdp"].as_str().expect("sdp").to_owned();
    let candidate = format!("{} {} typ host", server.media.ip(), server.media.port());
    assert!(
        answer.contains(&candidate),
        "the answer names the media socket: {answer}"
    );

    assert!(
        client.connect(&answer, Duration::from_secs(10)).await,
        "ICE and DTLS complete with the server's media port"
    );

    let origin = browser.origin();
    let path = format!("/api/probe/{id}");
    let gone = browser
        .request("DELETE", &path, &[("Origin", origin.as_str())], None)
        .await;
    assert_eq!(gone.status, 204);
    let again = browser
        .request("DELETE", &path, &[("Origin", origin.as_str())], None)
        .await;
    assert_eq!(again.status, 404);
    assert_eq!(again.error(), "not_found");
    // Another site cannot end someone's probe.
    let foreign = browser
        .request(
            "DELETE",
            "/api/probe/00000000000000000000000000000000",
            &[("Origin", "https://evil.example")],
            None,
        )
        .await;
    assert_eq!(foreign.status, 403);
}

#[tokio::test]
async fn bad_requests_are_refused_with_a_code_and_keep_nothing() {
    let server = ProbeServer::start(ProbeLimits {
        max_probes: 1,
        per_ip_per_minute: 100,
    })
    .await;
    let mut browser = server.browser();
    let origin = browser.origin();

    let not_json = browser.post_json("/api/probe", "{\"sdp\": ").await;
    assert_eq!((not_json.status, not_json.error()), (400, "bad_request"));
    let wrong_shape = browser
        .post_json("/api/probe", "{\"offer\": \"v=0\"}")
        .await;
    assert_eq!(
        (wrong_shape.status, wrong_shape.error()),
        (400, "bad_request")
    );
    for bad in ["", "   ", "hello", "v=0\r\nm=audio 9 nonsense\r\n"] {
        let reply = browser.post_json("/api/probe", &body(bad)).await;
        assert_eq!((reply.status, reply.error()), (400, "bad_sdp"), "{bad:?}");
    }
    let huge = browser
        .post_json("/api/probe", &body(&"a".repeat(40 * 1024)))
        .await;
    assert_eq!((huge.status, huge.error()), (413, "too_large"));
    let form = browser
        .request(
            "POST",
            "/api/probe",
            &[
                ("Origin", origin.as_str()),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            Some(b"sdp=v%3D0"),
        )
        .await;
    assert_eq!((form.status, form.error()), (403, "bad_content_type"));
    let foreign = browser
        .request(
            "POST",
            "/api/probe",
            &[
                ("Origin", "https://evil.example"),
                ("Content-Type", "application/json"),
            ],
            Some(body(&offer().await).as_bytes()),
        )
        .await;
    assert_eq!((foreign.status, foreign.error()), (403, "forbidden_origin"));

    // None of these took the one place: a good offer still gets it.
    let ok = browser.post_json("/api/probe", &body(&offer().await)).await;
    assert_eq!(ok.status, 200, "{:?}", ok.json);
}

#[tokio::test]
async fn an_address_may_open_six_probes_a_minute() {
    let server = ProbeServer::start(ProbeLimits::default()).await;
    let mut browser = server.browser();
    let sdp = offer().await;
    for i in 0..6 {
        let reply = browser.post_json("/api/probe", &body(&sdp)).await;
        assert_eq!(reply.status, 200, "probe {i}: {:?}", reply.json);
    }
    let refused = browser.post_json("/api/probe", &body(&sdp)).await;
    assert_eq!((refused.status, refused.error()), (429, "rate_limited"));
    let retry = refused.json["retry_after"].as_u64().expect("retry_after");
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(
        refused.header("retry-after"),
        Some(retry.to_string().as_str())
    );
}

#[tokio::test]
async fn beyond_the_cap_the_server_is_busy_until_a_probe_ends() {
    let server = ProbeServer::start(ProbeLimits {
        max_probes: 2,
        per_ip_per_minute: 100,
    })
    .await;
    let mut browser = server.browser();
    let origin = browser.origin();
    let sdp = offer().await;
    let first = browser.post_json("/api/probe", &body(&sdp)).await;
    assert_eq!(first.status, 200);
    assert_eq!(
        browser.post_json("/api/probe", &body(&sdp)).await.status,
        200
    );
    let busy = browser.post_json("/api/probe", &body(&sdp)).await;
    assert_eq!((busy.status, busy.error()), (503, "busy"));

    let id = first.json["id"].as_str().expect("id");
    let path = format!("/api/probe/{id}");
    let deleted = browser
        .request("DELETE", &path, &[("Origin", origin.as_str())], None)
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(
        browser.post_json("/api/probe", &body(&sdp)).await.status,
        200
    );
}
