//! Test harness: a real SMTP server (aiosmtpd), the server application on a real socket, and a
//! tiny HTTP/1.1 client that keeps cookies like a browser.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use webconf_access::token::random_hex;
use webconf_server::auth::AuthState;
use webconf_server::config::{Config, SmtpTls, TlsMode};
use webconf_server::http::{app, AppState};

/// A fresh empty directory under the system's temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("webconf-it-{name}-{}", random_hex(6)));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A TCP port on 127.0.0.1 with nothing listening on it (just released by us).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

/// A python3 that can `import aiosmtpd`: `$SMTP_PYTHON`, Debian's `/usr/bin/python3`,
/// or the `python3` on the PATH.
fn python() -> String {
    let candidates = [
        std::env::var("SMTP_PYTHON").ok(),
        Some("/usr/bin/python3".into()),
        Some("python3".into()),
    ];
    for python in candidates.into_iter().flatten() {
        let ok = Command::new(&python)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return python;
        }
    }
    panic!(
        "these tests need a real SMTP server, aiosmtpd: install the Debian package python3-aiosmtpd \
         (apt-get install -y python3-aiosmtpd; scripts/test and .ci/run do it), or set \
         SMTP_PYTHON to a python3 that can `import aiosmtpd`"
    );
}

/// A real SMTP server (aiosmtpd) storing every mail it accepts in a Maildir. Stopped on drop.
pub struct Smtpd {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    maildir: PathBuf,
    _dir: TempDir,
}

impl Smtpd {
    /// A plain SMTP server (no STARTTLS offered).
    pub fn start() -> Smtpd {
        Self::spawn(None)
    }

    /// A server that offers STARTTLS, and requires it, with this certificate and key (PEM).
    pub fn start_with_starttls(cert: &Path, key: &Path) -> Smtpd {
        Self::spawn(Some((cert, key)))
    }

    fn spawn(tls: Option<(&Path, &Path)>) -> Smtpd {
        let python = python();
        let dir = TempDir::new("smtpd");
        let maildir = dir.path().join("maildir");
        let log = dir.path().join("smtpd.log");
        let port = free_port();
        let mut cmd = Command::new(python);
        cmd.args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")]);
        if let Some((cert, key)) = tls {
            cmd.arg("--tlscert").arg(cert).arg("--tlskey").arg(key);
        }
        cmd.args(["-c", "aiosmtpd.handlers.Mailbox"]).arg(&maildir);
        let log_file = std::fs::File::create(&log).expect("smtpd log");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log"))
            .stderr(log_file)
            .spawn()
            .expect("start aiosmtpd");
        let mut smtpd = Smtpd {
            child,
            port,
            maildir,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return smtpd;
            }
            if let Ok(Some(status)) = smtpd.child.try_wait() {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("aiosmtpd exited ({status}) before listening:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on port {port} within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every mail received so far, oldest first, as raw text.
    pub fn mails(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
            .filter_map(Result::ok)
            .map(|e| {
                (
                    e.metadata()
                        .and_then(|m| m.modified())
                        .unwrap_or(std::time::UNIX_EPOCH),
                    e.path(),
                )
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, p)| std::fs::read_to_string(p).expect("read mail"))
            .collect()
    }
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The configuration of these tests: plain HTTP on 127.0.0.1, **no zone** (so 127.0.0.1 is in
/// `internet` and must prove an address), mails to `smtp` (plain SMTP, loopback) or, with
/// `None`, to the outbox in `dir`.
pub fn config(dir: &Path, smtp_port: Option<u16>) -> Config {
    let mut config = Config {
        data_dir: dir.join("data"),
        ..Config::default()
    };
    config.http.listen = "127.0.0.1:0".parse().expect("addr");
    config.http.tls = TlsMode::Off;
    config.access.zones = Vec::new();
    config.mail.from = "Webconf <no-reply@webconf.test>".to_owned();
    config.mail.timeout_secs = 5;
    if let Some(port) = smtp_port {
        config.mail.smtp_host = "127.0.0.1".to_owned();
        config.mail.smtp_port = port;
        config.mail.smtp_tls = SmtpTls::None;
    }
    config
}

/// Serves the HTTP application for `config` on a fresh 127.0.0.1 port (plain HTTP, with the
/// client's socket address, as `webconf_server::run` serves it), its engine commands going to
/// `commands`. Returns the address and the serving task.
pub async fn serve_app(
    config: Config,
    commands: mpsc::Sender<webconf_server::engine::Command>,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let auth = Arc::new(AuthState::new(&config).expect("auth state"));
    let pages = Arc::new(webconf_server::pages::Pages::load(&config).expect("pages"));
    let state = AppState {
        config: Arc::new(config),
        tls: false,
        commands,
        auth,
        pages,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, service).await;
    });
    (addr, task)
}

/// The application served on a real 127.0.0.1 socket, as `webconf_server::run` serves it
/// (with the client's socket address), without the media side.
pub struct TestServer {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
    _commands: mpsc::Receiver<webconf_server::engine::Command>,
}

impl TestServer {
    pub async fn start(config: Config) -> TestServer {
        capture_logs();
        config.validate().expect("valid test config");
        let (commands, rx) = mpsc::channel(16);
        let (addr, task) = serve_app(config, commands).await;
        TestServer {
            addr,
            task,
            _commands: rx,
        }
    }

    /// A new browser with no cookies, on this server's origin.
    pub fn browser(&self) -> Browser {
        Browser {
            addr: self.addr,
            cookies: BTreeMap::new(),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An HTTP answer with a JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub json: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The `error` code of an error answer.
    pub fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or("")
    }
}

/// Keeps cookies like a browser, sends its own `Origin`.
pub struct Browser {
    addr: SocketAddr,
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    /// A browser with no cookies on the server at `addr` (a server not built by [`TestServer`]).
    pub fn new(addr: SocketAddr) -> Browser {
        Browser {
            addr,
            cookies: BTreeMap::new(),
        }
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        self.request("GET", path, &[], None).await
    }

    /// A POST as the web client sends it: own `Origin`, JSON content type.
    pub async fn post_json(&mut self, path: &str, body: &str) -> Reply {
        let origin = self.origin();
        let headers = [
            ("Origin", origin.as_str()),
            ("Content-Type", "application/json"),
        ];
        self.request("POST", path, &headers, Some(body.as_bytes()))
            .await
    }

    /// Sends a request with exactly `headers` (plus `Host`, the cookies, `Content-Length`),
    /// stores the cookies of the answer.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        for (name, value) in headers {
            req.push_str(&format!("{name}: {value}\r\n"));
        }
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            req.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        let body = body.unwrap_or_default();
        if method != "GET" {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut stream = TcpStream::connect(self.addr)
            .await
            .expect("connect to the server");
        stream.write_all(req.as_bytes()).await.expect("send");
        stream.write_all(body).await.expect("send body");
        let mut raw = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut raw))
            .await
            .expect("the server answers within 30 s")
            .expect("read");
        let reply = parse_reply(&raw);
        for line in reply.set_cookies() {
            let first = line.split(';').next().unwrap_or("");
            let (name, value) = first.split_once('=').expect("cookie name=value");
            let deleted = value.is_empty() || line.contains("Max-Age=0");
            if deleted {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        reply
    }
}

fn parse_reply(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    let json = serde_json::from_str(&body).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        json,
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// The body of a received mail, quoted-printable decoded.
pub fn mail_body(mail: &str) -> String {
    let mail = mail.replace("\r\n", "\n");
    let (_, body) = mail.split_once("\n\n").expect("headers, blank line, body");
    let joined = body.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("UTF-8 body")
}

/// The header `name` of a raw mail (first occurrence, unfolded).
pub fn mail_header<'a>(mail: &'a str, name: &str) -> Option<&'a str> {
    mail.lines().take_while(|l| !l.is_empty()).find_map(|l| {
        l.split_once(':')
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    })
}

/// The one-time code in a code mail: the indented line of digits.
pub fn code_in(mail: &str) -> String {
    let body = mail_body(mail);
    let codes: Vec<&str> = body
        .lines()
        .map(str::trim)
        .filter(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    assert!(!codes.is_empty(), "no code in the mail:\n{body}");
    assert!(
        codes.iter().all(|c| *c == codes[0]),
        "one code, repeated in each language"
    );
    codes[0].to_owned()
}

/// Everything logged by the tests of this binary (all tests share the process), at `debug` and
/// above for every crate, so tests can check that nothing personal is ever logged.
pub fn captured_logs() -> String {
    let buffer = log_buffer();
    let bytes = buffer
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Installs the capturing subscriber once; call before the server starts.
pub fn capture_logs() {
    let _ = log_buffer();
}

type LogBuffer = Arc<std::sync::Mutex<Vec<u8>>>;

fn log_buffer() -> LogBuffer {
    static BUFFER: std::sync::OnceLock<LogBuffer> = std::sync::OnceLock::new();
    BUFFER
        .get_or_init(|| {
            let buffer = LogBuffer::default();
            let writer = buffer.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
                .with_ansi(false)
                .without_time()
                .with_writer(move || LogWriter(writer.clone()))
                .finish();
            let _ = tracing::subscriber::set_global_default(subscriber);
            buffer
        })
        .clone()
}

struct LogWriter(LogBuffer);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
