//! Server configuration: defaults in code, then an optional TOML file, then environment
//! overrides, then [`Config::validate`].
//!
//! Invariant: a [`Config`] returned by [`Config::load`] has passed `validate()`, so the rest of
//! the server can use its values without re-checking them. Every key is described, with its
//! default, in `docs/configuration.md` and `webconf.example.toml`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

/// Returns [`ConfigError::Invalid`] naming `$key` when `$ok` is false. Shared by the
/// `validate` functions of this module and its submodules.
macro_rules! ensure {
    ($ok:expr, $key:expr, $($message:tt)+) => {
        if !$ok {
            return Err($crate::config::ConfigError::Invalid { key: $key, message: format!($($message)+) });
        }
    };
}

mod access;
mod mail;
mod pages;

pub use access::{AccessConfig, IpRange, ProxyHeader, RoomsConfig, ZoneConfig};
pub use mail::{MailConfig, SmtpTls};
pub use pages::{PagesConfig, MAX_PAGE_BYTES};

/// Most UDP media ports one server may claim: each is a socket the media loop polls.
const MAX_MEDIA_PORTS: u32 = 1000;

/// Why the configuration could not be loaded. Every message names the key (or file, or
/// environment variable) at fault and says what would be accepted.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file given with `--config` could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        /// The file that was asked for.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not match the schema (unknown key, wrong type).
    /// `message` is the toml crate's, which names the key and the line.
    #[error("invalid config file {}: {message}", path.display())]
    Parse {
        /// The file being parsed (`<string>` when parsed from memory).
        path: PathBuf,
        /// The toml crate's description of the problem.
        message: String,
    },
    /// A `WEBCONF_*` environment variable holds a value that cannot be used.
    #[error("environment variable {var}={value:?} is invalid: {reason}")]
    Env {
        /// The variable's name, e.g. `WEBCONF_MEDIA_PORTS`.
        var: &'static str,
        /// The value found.
        value: String,
        /// What is wrong and what is expected.
        reason: String,
    },
    /// A value parsed but is outside what the server accepts (found by [`Config::validate`]).
    /// Displayed as the key followed by the message, e.g.
    /// `media.port_min (20000) must be <= media.port_max (10010)`.
    #[error("{key} {message}")]
    Invalid {
        /// The dotted key, e.g. `media.port_min`.
        key: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// The whole configuration. Build it with [`Config::load`]; `Config::default()` is the
/// built-in configuration that `webconf serve` uses without a file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where state that must survive restarts is kept (the self-signed certificate in
    /// `<data_dir>/tls/`). Relative paths are relative to the working directory.
    pub data_dir: PathBuf,
    /// The HTTPS listener that serves the web app and the signaling WebSocket.
    pub http: HttpConfig,
    /// The UDP ports and addresses that carry audio and video.
    pub media: MediaConfig,
    /// Limits and liveness timers of the signaling WebSocket.
    pub signaling: SignalingConfig,
    /// Who is a State agent: network zones, trusted proxies, e-mail domains, one-time codes.
    pub access: AccessConfig,
    /// Lifetimes of rooms: waiting guests, idle rooms, maximum duration.
    pub rooms: RoomsConfig,
    /// How one-time codes are mailed: an SMTP relay, or the outbox directory.
    pub mail: MailConfig,
    /// The service's own pages: contact addresses, operator, FAQ and legal notice texts.
    pub pages: PagesConfig,
}

/// `[http]`: the TCP listener.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Address and port to listen on. Port 0 picks a free port (used by tests).
    pub listen: SocketAddr,
    /// Where the TLS certificate comes from, or `off` behind a reverse proxy.
    pub tls: TlsMode,
    /// PEM certificate chain (leaf first); only read when `tls = "files"`.
    pub cert_file: PathBuf,
    /// PEM private key; only read when `tls = "files"`.
    pub key_file: PathBuf,
    /// Origins, besides the server's own, whose pages may open the signaling WebSocket,
    /// e.g. `https://webconf.example.gouv.fr` when a reverse proxy serves another name.
    pub allowed_origins: Vec<String>,
}

/// `http.tls`: how the HTTP listener gets its certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// Generate a certificate on first start and keep it in `<data_dir>/tls/`, so that
    /// `webconf serve` works with no setup (browsers show a warning once).
    #[default]
    SelfSigned,
    /// Use `http.cert_file` and `http.key_file` (e.g. from Let's Encrypt or an internal CA).
    Files,
    /// Plain HTTP, for a reverse proxy that terminates TLS in front of the server.
    Off,
}

/// `[media]`: the UDP side.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// First UDP media port (inclusive).
    pub port_min: u16,
    /// Last UDP media port (inclusive).
    pub port_max: u16,
    /// Addresses to bind and to advertise to browsers in ICE candidates; empty means
    /// automatic (see [`MediaConfig::resolved_addresses`]).
    pub addresses: Vec<IpAddr>,
    /// Participants allowed in the whole server; one more is refused with `server_busy`,
    /// so an overloaded server degrades by refusing rather than by breaking every call.
    pub max_participants: u32,
    /// ICE-TCP: also accept media over TCP on the HTTPS port (the fallback of browsers whose
    /// UDP is blocked). The listener tells TLS from ICE-TCP by the first bytes.
    pub tcp: bool,
    /// The TCP port given to browsers in the ICE-TCP candidates; 0 (the default) means the
    /// port of `http.listen`. Set it when a NAT or load balancer maps another port (443) to
    /// `http.listen`.
    pub tcp_port: u16,
    /// Last-N: the most cameras one participant receives at once (pinned, then the latest
    /// speakers); the others show their avatar. Screen shares do not count. 1 to 100.
    pub last_n: u32,
    /// Bandwidth estimation: each participant's video layers also fit the estimate of its
    /// downlink (transport-wide congestion control), so a poor link gets smaller layers or
    /// avatars instead of losses. `false` (the default: it holds under a real bottleneck, but
    /// on a heavily loaded machine its delay-based estimate still pauses videos on a path that
    /// is not full, docs/architecture.md): layers follow the tile sizes only.
    pub bandwidth_estimation: bool,
}

/// `[signaling]`: the WebSocket.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalingConfig {
    /// Largest accepted text frame, in bytes; bigger ones are refused with `too_large`.
    pub max_message_bytes: usize,
    /// Seconds between WebSocket pings sent by the server.
    pub ping_interval_secs: u64,
    /// Seconds without any frame from the browser after which it is considered gone.
    pub idle_timeout_secs: u64,
    /// Seconds a participant whose socket broke (no closing handshake) keeps its place, for
    /// the browser to take it back with `resume`; 0: it leaves at once.
    pub resume_grace_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("data"),
            http: HttpConfig::default(),
            media: MediaConfig::default(),
            signaling: SignalingConfig::default(),
            access: AccessConfig::default(),
            rooms: RoomsConfig::default(),
            mail: MailConfig::default(),
            pages: PagesConfig::default(),
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 8443)),
            tls: TlsMode::SelfSigned,
            cert_file: PathBuf::new(),
            key_file: PathBuf::new(),
            allowed_origins: Vec::new(),
        }
    }
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            port_min: 10000,
            port_max: 10010,
            addresses: Vec::new(),
            max_participants: 2000,
            tcp: true,
            tcp_port: 0,
            last_n: 9,
            bandwidth_estimation: false,
        }
    }
}

impl Default for SignalingConfig {
    fn default() -> Self {
        SignalingConfig {
            max_message_bytes: 1_048_576,
            ping_interval_secs: 5,
            idle_timeout_secs: 15,
            resume_grace_secs: 10,
        }
    }
}

impl FromStr for TlsMode {
    type Err = String;

    /// Parses the same spelling as the TOML file: `self-signed`, `files` or `off`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "self-signed" => Ok(TlsMode::SelfSigned),
            "files" => Ok(TlsMode::Files),
            "off" => Ok(TlsMode::Off),
            _ => Err(format!(
                "unknown TLS mode {s:?}: expected self-signed, files or off"
            )),
        }
    }
}

impl Config {
    /// Loads the configuration for `webconf serve`: defaults, then `path` if given, then the
    /// `WEBCONF_*` environment variables, then [`Config::validate`]. Call once at start-up.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_with_env(path, |name| std::env::var(name).ok())
    }

    /// [`Config::load`] with the environment supplied by `get`, so tests need not touch the
    /// process environment.
    pub fn load_with_env(
        path: Option<&Path>,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut config = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                Self::from_toml(&text, path)?
            }
            None => Config::default(),
        };
        config.apply_env(get)?;
        config.validate()?;
        Ok(config)
    }

    /// Parses TOML text over the defaults, without environment or validation. `path` is only
    /// used in the error message.
    pub fn from_toml(text: &str, path: &Path) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// Applies the environment overrides, reading variables through `get` (`std::env::var`
    /// in [`Config::load`]). An unset or empty variable changes nothing.
    ///
    /// - `WEBCONF_DATA_DIR`: `data_dir`
    /// - `WEBCONF_HTTP_LISTEN`: `http.listen`, e.g. `0.0.0.0:443`
    /// - `WEBCONF_HTTP_TLS`: `http.tls`: `self-signed`, `files` or `off`
    /// - `WEBCONF_MEDIA_PORTS`: `media.port_min` and `media.port_max`, e.g. `10000-10010`
    /// - `WEBCONF_MEDIA_ADDRESSES`: `media.addresses`, comma-separated: `192.0.2.10,2001:db8::10`
    /// - `WEBCONF_ACCESS_AGENT_DOMAINS`: `access.agent_domains`, comma-separated
    /// - `WEBCONF_ACCESS_TRUSTED_PROXIES`: `access.trusted_proxies`, comma-separated CIDRs
    /// - `WEBCONF_ACCESS_PROXY_HEADER`: `access.proxy_header`
    /// - `WEBCONF_MAIL_SMTP_HOST`, `WEBCONF_MAIL_SMTP_PORT`, `WEBCONF_MAIL_SMTP_TLS`,
    ///   `WEBCONF_MAIL_SMTP_USERNAME`, `WEBCONF_MAIL_SMTP_PASSWORD_FILE`, `WEBCONF_MAIL_FROM`:
    ///   the `mail.*` key of the same name
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(dir) = env_value(&get, "WEBCONF_DATA_DIR", "a directory", |v| Some(v.into()))? {
            self.data_dir = dir;
        }
        let hint = "an address and port such as 0.0.0.0:8443 or [::]:443";
        if let Some(listen) = env_value(&get, "WEBCONF_HTTP_LISTEN", hint, |v| v.parse().ok())? {
            self.http.listen = listen;
        }
        let hint = "self-signed, files or off";
        if let Some(tls) = env_value(&get, "WEBCONF_HTTP_TLS", hint, |v| v.parse().ok())? {
            self.http.tls = tls;
        }
        let hint = "a UDP port range such as 10000-10010";
        let parse_range = |v: &str| {
            let (min, max) = v.split_once('-')?;
            Some((min.trim().parse().ok()?, max.trim().parse().ok()?))
        };
        if let Some((min, max)) = env_value(&get, "WEBCONF_MEDIA_PORTS", hint, parse_range)? {
            self.media.port_min = min;
            self.media.port_max = max;
        }
        let hint = "comma-separated IP addresses such as 192.0.2.10,2001:db8::10";
        let parse_ips = |v: &str| v.split(',').map(|a| a.trim().parse().ok()).collect();
        if let Some(addrs) = env_value(&get, "WEBCONF_MEDIA_ADDRESSES", hint, parse_ips)? {
            self.media.addresses = addrs;
        }
        self.access.apply_env(&get)?;
        self.mail.apply_env(&get)?;
        Ok(())
    }

    /// Checks every value against what the server accepts. [`Config::load`] calls it; call it
    /// again after changing a `Config` by hand. Does no I/O: whether certificate files exist
    /// is checked when TLS is set up ([`crate::tls::server_config`]).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let (http, media, sig) = (&self.http, &self.media, &self.signaling);
        let unset = |p: &PathBuf| p.as_os_str().is_empty();
        ensure!(
            !unset(&self.data_dir),
            "data_dir",
            "must not be empty; use \".\" for the working directory"
        );
        if http.tls == TlsMode::Files {
            let why = "is required when http.tls = \"files\"";
            ensure!(
                !unset(&http.cert_file),
                "http.cert_file",
                "{why}: the PEM certificate chain"
            );
            ensure!(
                !unset(&http.key_file),
                "http.key_file",
                "{why}: the PEM private key"
            );
        } else if !unset(&http.cert_file) || !unset(&http.key_file) {
            tracing::warn!(
                "http.cert_file and http.key_file are ignored unless http.tls = \"files\""
            );
        }
        for origin in &http.allowed_origins {
            let checked = check_origin(origin);
            ensure!(
                checked.is_ok(),
                "http.allowed_origins",
                "entry {origin:?} {}",
                checked.err().unwrap_or_default()
            );
        }
        let (min, max) = (media.port_min, media.port_max);
        ensure!(
            min >= 1,
            "media.port_min",
            "must be between 1 and 65535, not 0"
        );
        ensure!(
            min <= max,
            "media.port_min",
            "({min}) must be <= media.port_max ({max})"
        );
        let count = u32::from(max) - u32::from(min) + 1;
        ensure!(
            count <= MAX_MEDIA_PORTS,
            "media.port_max",
            "({max}) gives {count} ports from media.port_min ({min}); at most {MAX_MEDIA_PORTS} are allowed"
        );
        for addr in &media.addresses {
            ensure!(
                !addr.is_unspecified() && !addr.is_multicast(),
                "media.addresses",
                "entry {addr} cannot be given to browsers; list real addresses or leave it empty"
            );
        }
        ensure!(
            media.max_participants >= 1,
            "media.max_participants",
            "must be at least 1"
        );
        ensure!(
            (1..=100).contains(&media.last_n),
            "media.last_n",
            "({}) must be between 1 and 100",
            media.last_n
        );
        let bytes = sig.max_message_bytes;
        ensure!(
            (1024..=4_194_304).contains(&bytes),
            "signaling.max_message_bytes",
            "({bytes}) must be between 1024 and 4194304"
        );
        let (ping, idle) = (sig.ping_interval_secs, sig.idle_timeout_secs);
        ensure!(
            (1..=60).contains(&ping),
            "signaling.ping_interval_secs",
            "({ping}) must be between 1 and 60"
        );
        ensure!(
            idle > ping && idle <= 300,
            "signaling.idle_timeout_secs",
            "({idle}) must be greater than signaling.ping_interval_secs ({ping}) and at most 300"
        );
        let grace = sig.resume_grace_secs;
        ensure!(
            grace <= 120,
            "signaling.resume_grace_secs",
            "({grace}) must be at most 120"
        );
        self.access.validate()?;
        self.rooms.validate()?;
        self.mail.validate()?;
        self.pages.validate()?;
        Ok(())
    }
}

/// Reads one override: `Ok(None)` when unset or blank, an error naming `var` and saying what
/// was `expected` when `parse` fails.
pub(crate) fn env_value<T>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    expected: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<Option<T>, ConfigError> {
    let Some(value) = get(var).filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    match parse(value.trim()) {
        Some(parsed) => Ok(Some(parsed)),
        None => Err(ConfigError::Env {
            var,
            value,
            reason: format!("expected {expected}"),
        }),
    }
}

/// Accepts `scheme://host[:port]` with scheme http or https and nothing after the authority:
/// the exact form of a browser's `Origin` header.
fn check_origin(origin: &str) -> Result<(), &'static str> {
    const FORM: &str = "must look like https://host or https://host:port";
    let (scheme, rest) = origin.split_once("://").ok_or(FORM)?;
    if scheme != "https" && scheme != "http" {
        return Err("must start with https:// or http://");
    }
    if rest.contains(['/', '?', '#']) {
        return Err("must not have a path (not even a trailing \"/\"), query or fragment");
    }
    if rest.contains('@') || rest.chars().any(char::is_whitespace) {
        return Err(FORM);
    }
    // A bracketed IPv6 literal may contain ':'; the port, if any, follows the ']'.
    let (host, port) = match rest.strip_prefix('[') {
        Some(v6) => {
            let (addr, after) = v6.split_once(']').ok_or(FORM)?;
            addr.parse::<std::net::Ipv6Addr>().map_err(|_| FORM)?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or(FORM)?),
            };
            (addr, port)
        }
        None => match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        },
    };
    if host.is_empty() {
        return Err(FORM);
    }
    if let Some(port) = port {
        port.parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or("has an invalid port")?;
    }
    Ok(())
}

impl MediaConfig {
    /// The UDP media ports, inclusive. Only meaningful on a validated config.
    pub fn ports(&self) -> RangeInclusive<u16> {
        self.port_min..=self.port_max
    }

    /// The port advertised in ICE-TCP candidates, given the bound HTTPS address; `None` when
    /// `tcp` is off.
    pub fn ice_tcp_port(&self, http: SocketAddr) -> Option<u16> {
        self.tcp.then_some(if self.tcp_port == 0 {
            http.port()
        } else {
            self.tcp_port
        })
    }

    /// The addresses to bind the media sockets on and to advertise in ICE candidates.
    ///
    /// With `addresses` set, that list (duplicates removed). With it empty (automatic): every
    /// IPv4 address of the machine's interfaces except loopback and link-local (169.254/16),
    /// sorted, then 127.0.0.1 so a browser on the server itself can connect. IPv6 is left out
    /// of automatic mode on purpose: temporary and link-local IPv6 addresses come and go and
    /// make poor candidates; list IPv6 addresses explicitly to use them.
    ///
    /// Reads the network interfaces, so call it once at start-up and keep the result.
    pub fn resolved_addresses(&self) -> Vec<IpAddr> {
        let mut out: Vec<IpAddr> = Vec::new();
        if !self.addresses.is_empty() {
            for addr in &self.addresses {
                if !out.contains(addr) {
                    out.push(*addr);
                }
            }
            return out;
        }
        match if_addrs::get_if_addrs() {
            Ok(interfaces) => {
                out = interfaces
                    .iter()
                    .filter(|i| !i.is_loopback() && !i.is_link_local())
                    .map(|i| i.ip())
                    .filter(IpAddr::is_ipv4)
                    .collect();
                out.sort();
                out.dedup();
            }
            Err(e) => tracing::warn!(
                "cannot list network interfaces ({e}); media.addresses falls back to 127.0.0.1"
            ),
        }
        out.push(IpAddr::V4(Ipv4Addr::LOCALHOST));
        out
    }
}

impl SignalingConfig {
    /// `ping_interval_secs` as a [`Duration`].
    pub fn ping_interval(&self) -> Duration {
        Duration::from_secs(self.ping_interval_secs)
    }

    /// `idle_timeout_secs` as a [`Duration`].
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        let config = Config::from_toml(text, Path::new("test.toml"))?;
        config.validate()?;
        Ok(config)
    }

    /// Loads with only `var` set to `value` in the environment.
    fn with_env(var: &str, value: &str) -> Result<Config, ConfigError> {
        Config::load_with_env(None, |name| (name == var).then(|| value.to_owned()))
    }

    #[test]
    fn defaults_are_valid() {
        let config = Config::load_with_env(None, |_| None).unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.http.listen, "0.0.0.0:8443".parse().unwrap());
        assert_eq!(config.http.tls, TlsMode::SelfSigned);
        assert_eq!(config.media.ports(), 10000..=10010);
        assert_eq!(parse("").unwrap(), Config::default());
    }

    #[test]
    fn example_file_parses_and_shows_the_defaults() {
        let text = include_str!("../../../webconf.example.toml");
        assert_eq!(parse(text).unwrap(), Config::default());
    }

    #[test]
    fn examples_in_the_documentation_are_valid() {
        let doc = include_str!("../../../docs/configuration.md");
        let blocks: Vec<&str> = doc
            .split("```toml\n")
            .skip(1)
            .filter_map(|b| b.split("```").next())
            .collect();
        assert!(blocks.len() >= 2);
        for block in blocks {
            parse(block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        }
    }

    #[test]
    fn bad_files_are_rejected_naming_the_key() {
        let cases = [
            ("[http]\nlisten_port = 1", "listen_port"),
            ("colour = \"blue\"", "colour"),
            ("[medai]", "medai"),
            (
                "[media]\nport_min = 20000\nport_max = 10010",
                "media.port_min (20000) must be <=",
            ),
            (
                "[media]\nport_min = 10000\nport_max = 12000",
                "media.port_max (12000) gives 2001",
            ),
            ("[media]\nport_min = 0", "media.port_min"),
            ("[media]\nport_max = 70000", "port_max"),
            (
                "[media]\naddresses = [\"0.0.0.0\"]",
                "media.addresses entry 0.0.0.0",
            ),
            ("[media]\naddresses = [\"nope\"]", "addresses"),
            ("[media]\nmax_participants = 0", "media.max_participants"),
            (
                "[media]\nlast_n = 0",
                "media.last_n (0) must be between 1 and 100",
            ),
            ("[media]\nlast_n = 101", "media.last_n"),
            ("[http]\ntls = \"maybe\"", "tls"),
            ("[http]\ntls = \"files\"", "http.cert_file is required"),
            (
                "[http]\ntls = \"files\"\ncert_file = \"c.pem\"",
                "http.key_file is required",
            ),
            ("[http]\nlisten = \"localhost\"", "listen"),
            (
                "[http]\nallowed_origins = [\"https://x.fr/\"]",
                "\"https://x.fr/\" must not",
            ),
            (
                "[signaling]\nmax_message_bytes = 10",
                "signaling.max_message_bytes (10)",
            ),
            (
                "[signaling]\nping_interval_secs = 0",
                "signaling.ping_interval_secs (0)",
            ),
            (
                "[signaling]\nidle_timeout_secs = 5",
                "signaling.idle_timeout_secs (5)",
            ),
            ("data_dir = \"\"", "data_dir must not be empty"),
        ];
        for (text, expected) in cases {
            let message = parse(text).expect_err(text).to_string();
            assert!(message.contains(expected), "{text:?} gave {message:?}");
        }
    }

    #[test]
    fn origins_must_be_bare() {
        let good = "https://webconf.example.gouv.fr http://localhost:8080 https://[::1]:8443";
        for origin in good.split(' ') {
            assert_eq!(check_origin(origin), Ok(()), "{origin}");
        }
        let bad = "x.fr https://x.fr/ https://x.fr/a ftp://x.fr https:// https://x.fr:99999 \
                   https://u@x.fr https://[::1 https://[::1]8443";
        for origin in bad.split(' ') {
            assert!(check_origin(origin).is_err(), "{origin}");
        }
    }

    #[test]
    fn env_overrides_apply() {
        let env = |name: &str| {
            let value = match name {
                "WEBCONF_DATA_DIR" => "/var/lib/webconf",
                "WEBCONF_HTTP_LISTEN" => "127.0.0.1:0",
                "WEBCONF_HTTP_TLS" => "off",
                "WEBCONF_MEDIA_PORTS" => "40000-40099",
                "WEBCONF_MEDIA_ADDRESSES" => "192.0.2.10, 2001:db8::10,192.0.2.10",
                _ => return None,
            };
            Some(value.to_owned())
        };
        let config = Config::load_with_env(None, env).unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/webconf"));
        assert_eq!(config.http.listen, "127.0.0.1:0".parse().unwrap());
        assert_eq!(config.http.tls, TlsMode::Off);
        assert_eq!(config.media.ports(), 40000..=40099);
        let want: Vec<IpAddr> = vec![
            "192.0.2.10".parse().unwrap(),
            "2001:db8::10".parse().unwrap(),
        ];
        assert_eq!(
            config.media.resolved_addresses(),
            want,
            "configured list, de-duplicated"
        );
        assert_eq!(
            with_env("WEBCONF_HTTP_TLS", " ").unwrap(),
            Config::default(),
            "blank is unset"
        );
    }

    #[test]
    fn bad_env_values_name_the_variable() {
        let cases = [
            ("WEBCONF_HTTP_LISTEN", "8443", "WEBCONF_HTTP_LISTEN"),
            ("WEBCONF_HTTP_TLS", "yes", "WEBCONF_HTTP_TLS"),
            ("WEBCONF_MEDIA_PORTS", "10000", "WEBCONF_MEDIA_PORTS"),
            (
                "WEBCONF_MEDIA_ADDRESSES",
                "192.0.2.10,host",
                "WEBCONF_MEDIA_ADDRESSES",
            ),
            (
                "WEBCONF_MEDIA_PORTS",
                "9-2",
                "media.port_min (9) must be <= media.port_max (2)",
            ),
        ];
        for (var, value, expected) in cases {
            let message = with_env(var, value).expect_err(value).to_string();
            assert!(message.contains(expected), "{message}");
        }
    }

    #[test]
    fn automatic_addresses_are_ipv4_and_end_with_loopback() {
        let addrs = MediaConfig::default().resolved_addresses();
        assert_eq!(addrs.last(), Some(&IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert!(addrs.iter().all(|a| a.is_ipv4()), "{addrs:?}");
        assert_eq!(
            addrs.iter().filter(|a| a.is_loopback()).count(),
            1,
            "{addrs:?}"
        );
    }

    #[test]
    fn missing_file_is_an_error_naming_it() {
        let path = Path::new("/nonexistent/webconf.toml");
        let message = Config::load_with_env(Some(path), |_| None)
            .unwrap_err()
            .to_string();
        assert!(message.contains("/nonexistent/webconf.toml"), "{message}");
    }
}
