//! `GET /api/network` and the FAQ's ports through the real binary (`webconf serve`), as an
//! operator starts it: HTTPS with the self-signed certificate on `127.0.0.1:0`, so that the port
//! is known only once bound, and a UDP media range of our own.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{json, Value};

use crate::support::TempDir;

/// Two consecutive free UDP ports on 127.0.0.1 (released before the server binds them).
pub(crate) fn free_udp_pair() -> (u16, u16) {
    for _ in 0..50 {
        let a = UdpSocket::bind("127.0.0.1:0").expect("bind UDP");
        let port = a.local_addr().expect("addr").port();
        if port < u16::MAX && UdpSocket::bind(("127.0.0.1", port + 1)).is_ok() {
            return (port, port + 1);
        }
    }
    panic!("no two consecutive free UDP ports on 127.0.0.1");
}

/// The running binary; killed on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `webconf serve` on `config` and waits for its "listening on https://…" line.
pub(crate) fn serve(dir: &Path, config: &str) -> Server {
    let path = dir.join("webconf.toml");
    std::fs::write(&path, config).expect("write config");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_webconf"));
    cmd.arg("serve").arg("--config").arg(&path).current_dir(dir);
    // The file is the whole truth: WEBCONF_* variables would override it.
    for (key, _) in std::env::vars() {
        if key.starts_with("WEBCONF_") {
            cmd.env_remove(key);
        }
    }
    let mut child = cmd
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the webconf binary");
    let (tx, rx) = mpsc::channel::<String>();
    for stream in [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let mut log = Vec::new();
    let mut server = Server {
        child,
        addr: "0.0.0.0:0".parse().expect("addr"),
    };
    loop {
        let line = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => line,
            Err(_) => panic!(
                "webconf did not say where it listens within 60 s:\n{}",
                log.join("\n")
            ),
        };
        if let Some(rest) = line.split("listening on https://").nth(1) {
            let addr = rest.split_whitespace().next().unwrap_or_default();
            server.addr = addr
                .parse()
                .unwrap_or_else(|_| panic!("bad address in {line:?}"));
            return server;
        }
        log.push(line);
    }
}

/// `GET path` over TLS, trusting only the server's self-signed certificate. Returns
/// (status line, headers, body).
pub(crate) fn get(dir: &Path, addr: SocketAddr, path: &str) -> (String, String, String) {
    let pem = std::fs::read(dir.join("data/tls/cert.pem")).expect("the generated certificate");
    let cert = CertificateDer::from_pem_slice(&pem).expect("PEM certificate");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).expect("trust the certificate");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("127.0.0.1").expect("name").to_owned();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).expect("TLS client");
    let sock = std::net::TcpStream::connect(addr).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept-Language: en\r\nConnection: close\r\n\r\n"
    );
    tls.write_all(req.as_bytes()).expect("send");
    let mut raw = Vec::new();
    // The server may close without close_notify: keep what came.
    let _ = tls.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (
        status.to_owned(),
        headers.to_ascii_lowercase(),
        body.to_owned(),
    )
}

#[test]
fn api_network_and_faq_name_what_the_running_server_uses() {
    let dir = TempDir::new("network");
    let (min, max) = free_udp_pair();
    let data = dir.path().join("data");
    let config = format!(
        "data_dir = {data:?}\n\n[http]\nlisten = \"127.0.0.1:0\"\ntls = \"self-signed\"\n\n\
         [media]\nport_min = {min}\nport_max = {max}\naddresses = [\"127.0.0.1\"]\n"
    );
    let server = serve(dir.path(), &config);
    let port = server.addr.port();
    assert_ne!(port, 0);

    let (status, headers, body) = get(dir.path(), server.addr, "/api/network");
    assert!(status.contains(" 200 "), "{status}\n{body}");
    assert!(headers.contains("cache-control: no-store"), "{headers}");
    assert!(
        headers.contains("content-type: application/json"),
        "{headers}"
    );
    let value: Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(
        value,
        json!({
            "media": {"addresses": ["127.0.0.1"], "udp_ports": [min, max]},
            "https_port": port
        }),
        "the bound port, not the configured 0"
    );

    // The FAQ names the same ports (it used to say "TCP port 0" with `listen` on port 0).
    let (status, _, faq) = get(dir.path(), server.addr, "/faq?lang=en");
    assert!(status.contains(" 200 "), "{status}");
    assert!(faq.contains(&format!("TCP port {port}")), "{faq}");
    assert!(faq.contains(&format!("UDP ports {min}-{max}")), "{faq}");
    assert!(!faq.contains("TCP port 0,"), "{faq}");
}
