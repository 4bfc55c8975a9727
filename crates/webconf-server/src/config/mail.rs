//! `[mail]`: how one-time codes (and later invitations) leave the server.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use super::{env_value, ConfigError};

/// `[mail]`: an SMTP relay, or (with no `smtp_host`) files in an outbox directory.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// The SMTP relay's host name or address. Empty: no SMTP; each mail is written to
    /// `outbox_dir` instead (a first try without a mail server).
    pub smtp_host: String,
    /// The relay's TCP port: 587 for STARTTLS (submission), 465 for implicit TLS.
    pub smtp_port: u16,
    /// How the connection to the relay is protected.
    pub smtp_tls: SmtpTls,
    /// User name for SMTP authentication; empty: no authentication.
    pub smtp_username: String,
    /// File holding the SMTP password (its first line), so that the secret never sits in the
    /// TOML file; required when `smtp_username` is set.
    pub smtp_password_file: PathBuf,
    /// PEM file of extra certificate authorities to trust for the relay (an internal CA);
    /// empty: only the system's trust store (`/etc/ssl/certs`).
    pub smtp_ca_file: PathBuf,
    /// The `From` of every mail: `Name <address>` or a bare address.
    pub from: String,
    /// Where mails go when `smtp_host` is empty; empty: `<data_dir>/outbox`.
    pub outbox_dir: PathBuf,
    /// Seconds allowed for connecting to the relay and for each SMTP exchange.
    pub timeout_secs: u64,
    /// The service's address as written in invitation links, `https://host[:port]`
    /// (`https://webconf.example.gouv.fr`). When set it is always used; when empty, links use
    /// the origin of the inviting page only if it is one of `http.allowed_origins` or a
    /// loopback address: a `Host` header is chosen by whoever sends the request, and mail from
    /// the service must not point wherever a caller likes.
    pub public_url: String,
    /// Most distinct addresses in one invitation request (`POST /api/invite`).
    pub invite_max_recipients: u32,
    /// Most invitation recipients one agent may mail per hour (sliding window), counted per
    /// recipient: per address for agents who proved one, per client address for agents of a
    /// network zone. Keeps the service from being used to spam.
    pub invite_per_agent_per_hour: u32,
}

/// `mail.smtp_tls`: the protection of the connection to the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which is **required**: a relay that does not
    /// offer it (or a man in the middle that strips it) gets nothing, not even the address.
    #[default]
    Starttls,
    /// TLS from the first byte ("SMTPS", usually port 465).
    Tls,
    /// No encryption; only accepted towards a loopback relay (tests, a local MTA).
    None,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_tls: SmtpTls::Starttls,
            smtp_username: String::new(),
            smtp_password_file: PathBuf::new(),
            smtp_ca_file: PathBuf::new(),
            from: "Webconf <no-reply@localhost>".to_owned(),
            outbox_dir: PathBuf::new(),
            timeout_secs: 15,
            public_url: String::new(),
            invite_max_recipients: 20,
            invite_per_agent_per_hour: 50,
        }
    }
}

impl FromStr for SmtpTls {
    type Err = String;

    /// Parses the same spelling as the TOML file: `starttls`, `tls` or `none`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "starttls" => Ok(SmtpTls::Starttls),
            "tls" => Ok(SmtpTls::Tls),
            "none" => Ok(SmtpTls::None),
            _ => Err(format!(
                "unknown SMTP TLS mode {s:?}: expected starttls, tls or none"
            )),
        }
    }
}

impl MailConfig {
    /// True when mails go to an SMTP relay, false when they go to the outbox directory.
    pub fn uses_smtp(&self) -> bool {
        !self.smtp_host.is_empty()
    }

    /// The outbox directory: `outbox_dir`, or `<data_dir>/outbox` when it is empty.
    pub fn outbox(&self, data_dir: &Path) -> PathBuf {
        if self.outbox_dir.as_os_str().is_empty() {
            data_dir.join("outbox")
        } else {
            self.outbox_dir.clone()
        }
    }

    /// `timeout_secs` as a [`Duration`].
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// The `WEBCONF_MAIL_*` overrides.
    pub(super) fn apply_env(
        &mut self,
        get: &impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        let text = |v: &str| Some(v.to_owned());
        if let Some(host) = env_value(
            get,
            "WEBCONF_MAIL_SMTP_HOST",
            "a host name or address",
            text,
        )? {
            self.smtp_host = host;
        }
        if let Some(port) = env_value(
            get,
            "WEBCONF_MAIL_SMTP_PORT",
            "a TCP port such as 587",
            |v| v.parse().ok(),
        )? {
            self.smtp_port = port;
        }
        if let Some(tls) = env_value(get, "WEBCONF_MAIL_SMTP_TLS", "starttls, tls or none", |v| {
            v.parse().ok()
        })? {
            self.smtp_tls = tls;
        }
        if let Some(user) = env_value(get, "WEBCONF_MAIL_SMTP_USERNAME", "a user name", text)? {
            self.smtp_username = user;
        }
        if let Some(file) = env_value(get, "WEBCONF_MAIL_SMTP_PASSWORD_FILE", "a file", |v| {
            Some(v.into())
        })? {
            self.smtp_password_file = file;
        }
        if let Some(from) = env_value(get, "WEBCONF_MAIL_FROM", "Name <address>", text)? {
            self.from = from;
        }
        let hint = "the service's address such as https://webconf.example.gouv.fr";
        if let Some(url) = env_value(get, "WEBCONF_MAIL_PUBLIC_URL", hint, text)? {
            self.public_url = url;
        }
        Ok(())
    }

    /// Checks `[mail]`; called by [`super::Config::validate`]. Reads no file: the password
    /// and CA files are read when the mailer is built (`crate::mail::Mailer::new`).
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let host = self.smtp_host.as_str();
        if !host.is_empty() {
            ensure!(
                host.parse::<IpAddr>().is_ok() || is_dns_name(host),
                "mail.smtp_host",
                "({host:?}) must be a host name or an IP address, without port (use mail.smtp_port) or scheme"
            );
            ensure!(
                self.smtp_port >= 1,
                "mail.smtp_port",
                "must be between 1 and 65535, not 0"
            );
            ensure!(
                self.smtp_tls != SmtpTls::None || is_loopback_host(host),
                "mail.smtp_tls",
                "= \"none\" is only allowed towards a loopback relay (127.0.0.1, ::1, localhost), not {host:?}: \
                 use \"starttls\" (port 587) or \"tls\" (port 465)"
            );
        }
        let unset = |p: &Path| p.as_os_str().is_empty();
        ensure!(
            self.smtp_username.is_empty() || !unset(&self.smtp_password_file),
            "mail.smtp_password_file",
            "is required when mail.smtp_username is set: a file holding the password"
        );
        ensure!(
            !self.smtp_username.is_empty() || unset(&self.smtp_password_file),
            "mail.smtp_username",
            "is required when mail.smtp_password_file is set"
        );
        let from = self.from.parse::<lettre::message::Mailbox>();
        ensure!(
            from.is_ok(),
            "mail.from",
            "({:?}) must be an address or `Name <address>`, e.g. \"Webconf <no-reply@webconf.example.gouv.fr>\"",
            self.from
        );
        let secs = self.timeout_secs;
        ensure!(
            (1..=300).contains(&secs),
            "mail.timeout_secs",
            "({secs}) must be between 1 and 300"
        );
        self.validate_invitations()
    }

    /// The invitation keys: `public_url`, `invite_max_recipients`, `invite_per_agent_per_hour`.
    fn validate_invitations(&self) -> Result<(), ConfigError> {
        let url = self.public_url.as_str();
        if !url.is_empty() {
            let checked = super::check_origin(url);
            ensure!(
                checked.is_ok(),
                "mail.public_url",
                "({url:?}) {}, e.g. \"https://webconf.example.gouv.fr\"",
                checked.err().unwrap_or_default()
            );
            ensure!(
                url.starts_with("https://"),
                "mail.public_url",
                "({url:?}) must start with https://: invitees' browsers refuse camera and \
                 microphone on plain HTTP"
            );
        }
        let max = self.invite_max_recipients;
        ensure!(
            (1..=MAX_INVITE_RECIPIENTS).contains(&max),
            "mail.invite_max_recipients",
            "({max}) must be between 1 and {MAX_INVITE_RECIPIENTS}"
        );
        let per_hour = self.invite_per_agent_per_hour;
        ensure!(
            (max..=10_000).contains(&per_hour),
            "mail.invite_per_agent_per_hour",
            "({per_hour}) must be between mail.invite_max_recipients ({max}) and 10000, or no \
             request with that many recipients could ever be sent"
        );
        Ok(())
    }
}

/// Highest `mail.invite_max_recipients`: a request of that many addresses of 254 bytes still
/// fits the 16 KiB body cap of `POST /api/invite`.
pub const MAX_INVITE_RECIPIENTS: u32 = 50;

/// True for `localhost` and loopback addresses: the relays to which plain SMTP is allowed.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A plausible DNS name: dot-separated labels of letters, digits and `-`.
fn is_dns_name(host: &str) -> bool {
    host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        let config = Config::from_toml(text, Path::new("test.toml"))?;
        config.validate()?;
        Ok(config)
    }

    #[test]
    fn default_is_the_outbox_in_the_data_dir() {
        let config = Config::default();
        assert!(!config.mail.uses_smtp());
        assert_eq!(
            config.mail.outbox(Path::new("data")),
            Path::new("data/outbox")
        );
        assert_eq!(config.mail.smtp_tls, SmtpTls::Starttls);
        assert_eq!(config.mail.timeout(), Duration::from_secs(15));
        let config = parse("[mail]\noutbox_dir = \"/tmp/box\"").unwrap();
        assert_eq!(config.mail.outbox(Path::new("data")), Path::new("/tmp/box"));
    }

    #[test]
    fn relays_and_credentials() {
        let config = parse(
            "[mail]\nsmtp_host = \"smtp.example.gouv.fr\"\nsmtp_port = 465\nsmtp_tls = \"tls\"\n\
             smtp_username = \"webconf\"\nsmtp_password_file = \"/run/credentials/smtp\"\n\
             from = \"Webconf <no-reply@webconf.example.gouv.fr>\"",
        )
        .unwrap();
        assert!(config.mail.uses_smtp());
        assert_eq!(config.mail.smtp_tls, SmtpTls::Tls);
        for host in ["127.0.0.1", "::1", "localhost", "LocalHost"] {
            let text = format!("[mail]\nsmtp_host = \"{host}\"\nsmtp_tls = \"none\"");
            assert!(parse(&text).is_ok(), "{host}");
        }
    }

    #[test]
    fn bad_mail_values_name_the_key() {
        let cases = [
            (
                "[mail]\nsmtp_host = \"smtp.example.fr:587\"",
                "mail.smtp_host (\"smtp.example.fr:587\")",
            ),
            ("[mail]\nsmtp_host = \"smtp://x.fr\"", "mail.smtp_host"),
            (
                "[mail]\nsmtp_host = \"x.fr\"\nsmtp_port = 0",
                "mail.smtp_port",
            ),
            (
                "[mail]\nsmtp_host = \"x.fr\"\nsmtp_tls = \"none\"",
                "mail.smtp_tls = \"none\" is only allowed",
            ),
            (
                "[mail]\nsmtp_host = \"192.0.2.1\"\nsmtp_tls = \"none\"",
                "mail.smtp_tls",
            ),
            ("[mail]\nsmtp_tls = \"opportunistic\"", "smtp_tls"),
            (
                "[mail]\nsmtp_username = \"u\"",
                "mail.smtp_password_file is required",
            ),
            (
                "[mail]\nsmtp_password_file = \"/p\"",
                "mail.smtp_username is required",
            ),
            ("[mail]\nsmtp_password = \"secret\"", "smtp_password"),
            ("[mail]\nfrom = \"not an address\"", "mail.from"),
            ("[mail]\ntimeout_secs = 0", "mail.timeout_secs (0)"),
        ];
        for (text, expected) in cases {
            let message = parse(text).expect_err(text).to_string();
            assert!(message.contains(expected), "{text:?} gave {message:?}");
        }
    }

    #[test]
    fn mail_env_overrides_apply() {
        let env = |name: &str| {
            let value = match name {
                "WEBCONF_MAIL_SMTP_HOST" => "smtp.example.gouv.fr",
                "WEBCONF_MAIL_SMTP_PORT" => "465",
                "WEBCONF_MAIL_SMTP_TLS" => "tls",
                "WEBCONF_MAIL_SMTP_USERNAME" => "webconf",
                "WEBCONF_MAIL_SMTP_PASSWORD_FILE" => "/run/credentials/webconf/smtp",
                "WEBCONF_MAIL_FROM" => "no-reply@webconf.example.gouv.fr",
                _ => return None,
            };
            Some(value.to_owned())
        };
        let mail = Config::load_with_env(None, env).unwrap().mail;
        assert_eq!(
            (mail.smtp_host.as_str(), mail.smtp_port, mail.smtp_tls),
            ("smtp.example.gouv.fr", 465, SmtpTls::Tls)
        );
        assert_eq!(mail.smtp_username, "webconf");
        assert_eq!(
            mail.smtp_password_file,
            Path::new("/run/credentials/webconf/smtp")
        );
        assert_eq!(mail.from, "no-reply@webconf.example.gouv.fr");
        let bad = Config::load_with_env(None, |n| {
            (n == "WEBCONF_MAIL_SMTP_TLS").then(|| "maybe".into())
        });
        assert!(bad
            .unwrap_err()
            .to_string()
            .contains("WEBCONF_MAIL_SMTP_TLS"));
    }

    #[test]
    fn invitation_keys_have_defaults_and_bounds() {
        let mail = Config::default().mail;
        assert_eq!(
            (
                mail.public_url.as_str(),
                mail.invite_max_recipients,
                mail.invite_per_agent_per_hour
            ),
            ("", 20, 50)
        );
        let config = parse(
            "[mail]\npublic_url = \"https://webconf.example.gouv.fr:8443\"\n\
             invite_max_recipients = 50\ninvite_per_agent_per_hour = 50",
        )
        .unwrap();
        assert_eq!(
            config.mail.public_url,
            "https://webconf.example.gouv.fr:8443"
        );
        let cases = [
            ("[mail]\npublic_url = \"webconf.example.gouv.fr\"", "mail.public_url (\"webconf.example.gouv.fr\") must look like"),
            ("[mail]\npublic_url = \"https://webconf.example.gouv.fr/\"", "must not have a path"),
            ("[mail]\npublic_url = \"https://x.fr/salle\"", "mail.public_url"),
            ("[mail]\npublic_url = \"http://webconf.example.gouv.fr\"", "must start with https://"),
            ("[mail]\ninvite_max_recipients = 0", "mail.invite_max_recipients (0)"),
            ("[mail]\ninvite_max_recipients = 51", "mail.invite_max_recipients (51)"),
            ("[mail]\ninvite_per_agent_per_hour = 19", "mail.invite_per_agent_per_hour (19) must be between mail.invite_max_recipients (20)"),
            ("[mail]\ninvite_per_agent_per_hour = 10001", "mail.invite_per_agent_per_hour (10001)"),
        ];
        for (text, expected) in cases {
            let message = parse(text).expect_err(text).to_string();
            assert!(message.contains(expected), "{text:?} gave {message:?}");
        }
        let env = |n: &str| {
            (n == "WEBCONF_MAIL_PUBLIC_URL").then(|| "https://visio.example.fr".to_owned())
        };
        assert_eq!(
            Config::load_with_env(None, env).unwrap().mail.public_url,
            "https://visio.example.fr"
        );
    }
}
