//! `[access]` (who is a State agent) and `[rooms]` (how long rooms live): the keys of
//! `docs/access-policy.md`.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer};
use webconf_access::email::DomainAllowList;
use webconf_access::zones::{ZoneRule, Zones};

use super::{env_value, ConfigError};

/// Longest zone name: it appears in `/api/session` and in logs, so keep it short.
const MAX_ZONE_NAME: usize = 32;

/// `[access]`: how the server tells State agents (who may open rooms) from guests.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccessConfig {
    /// E-mail domains whose holders are agents; each also covers its subdomains
    /// (`gouv.fr` admits `interieur.gouv.fr`). Empty: nobody becomes an agent by e-mail.
    pub agent_domains: Vec<String>,
    /// Peers whose `X-Forwarded-For` / `Forwarded` headers are believed (reverse proxies).
    /// Without them, every client behind a proxy would have the proxy's address and zone.
    pub trusted_proxies: Vec<IpRange>,
    /// Which forwarding header the trusted proxies write. Only that one is read: a proxy
    /// passes the other through from the client unchanged, so believing it would let anyone
    /// claim any address.
    pub proxy_header: ProxyHeader,
    /// Lifetime of an agent session (the `__Host-webconf-agent` cookie), in hours.
    pub session_hours: u32,
    /// How long a mailed code stays valid, in seconds.
    pub code_ttl_secs: u64,
    /// Wrong tries after which a code is dead.
    pub code_max_attempts: u32,
    /// Codes one e-mail address may be sent per hour (protects the mailbox from flooding).
    pub code_requests_per_email_per_hour: u32,
    /// Codes one client address may request per hour (limits guessing and mail abuse).
    pub code_requests_per_ip_per_hour: u32,
    /// The network zones, in order: the first whose ranges hold the client address wins;
    /// an address in none is in the zone `internet`, whose users are not agents. The default
    /// is one zone `internal` = loopback with `agents = true`; an empty list means none.
    pub zones: Vec<ZoneConfig>,
}

/// `access.proxy_header`: the forwarding header written by the trusted proxies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProxyHeader {
    /// `X-Forwarded-For` (nginx `$proxy_add_x_forwarded_for`, HAProxy `option forwardfor`,
    /// Caddy, Traefik): the common case.
    #[default]
    XForwardedFor,
    /// `Forwarded` (RFC 7239).
    Forwarded,
}

impl FromStr for ProxyHeader {
    type Err = String;

    /// Parses the same spelling as the TOML file: `x-forwarded-for` or `forwarded`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(ProxyHeader::XForwardedFor),
            "forwarded" => Ok(ProxyHeader::Forwarded),
            _ => Err(format!(
                "unknown proxy header {s:?}: expected x-forwarded-for or forwarded"
            )),
        }
    }
}

/// One `[[access.zones]]` entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneConfig {
    /// Shown in `/api/session` (`"zone"`): lower-case letters, digits, `-` and `_`.
    pub name: String,
    /// The addresses of the zone, as CIDR ranges (a bare address is a one-address range).
    pub ranges: Vec<IpRange>,
    /// True when everyone in the zone is a State agent (the State's internal network).
    #[serde(default)]
    pub agents: bool,
    /// The media addresses of the zone (issue 7): its participants are offered only these
    /// and their packets reaching another address are dropped. Empty (the default): the
    /// zone uses `media.addresses`, like the internet zone.
    #[serde(default)]
    pub media_addresses: Vec<std::net::IpAddr>,
}

/// A CIDR range from the configuration, e.g. `10.0.0.0/8`; a bare address is accepted as a
/// `/32` or `/128`. Host bits after the prefix are refused (`10.0.0.1/8` is surely a typo).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange(pub IpNet);

/// `[rooms]`: how long rooms and waiting guests live (enforced by the room registry).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoomsConfig {
    /// How long a guest waits for an agent to open the room before giving up.
    pub waiting_timeout_secs: u64,
    /// A room with a single participant, or without media, this long is closed.
    pub idle_secs: u64,
    /// Any room is closed this long after it opened.
    pub max_duration_secs: u64,
    /// The `room_ending` warning comes this long before an idle or maximum-duration close;
    /// 0 sends none.
    pub warning_secs: u64,
    /// Joins of rooms that are not open, per client address and minute (against guessing).
    pub unknown_room_joins_per_ip_per_minute: u32,
}

impl Default for AccessConfig {
    fn default() -> Self {
        AccessConfig {
            agent_domains: vec!["gouv.fr".to_owned()],
            trusted_proxies: Vec::new(),
            proxy_header: ProxyHeader::XForwardedFor,
            session_hours: 12,
            code_ttl_secs: 600,
            code_max_attempts: 5,
            code_requests_per_email_per_hour: 5,
            code_requests_per_ip_per_hour: 20,
            zones: Zones::default_rules()
                .into_iter()
                .map(ZoneConfig::from)
                .collect(),
        }
    }
}

impl Default for RoomsConfig {
    fn default() -> Self {
        RoomsConfig {
            waiting_timeout_secs: 1800,
            idle_secs: 600,
            max_duration_secs: 43200,
            warning_secs: 60,
            unknown_room_joins_per_ip_per_minute: 30,
        }
    }
}

impl From<ZoneRule> for ZoneConfig {
    fn from(rule: ZoneRule) -> Self {
        ZoneConfig {
            name: rule.name,
            ranges: rule.ranges.into_iter().map(IpRange).collect(),
            agents: rule.agents,
            media_addresses: Vec::new(),
        }
    }
}

impl From<&ZoneConfig> for ZoneRule {
    fn from(zone: &ZoneConfig) -> Self {
        ZoneRule {
            name: zone.name.clone(),
            ranges: zone.ranges.iter().map(|r| r.0).collect(),
            agents: zone.agents,
        }
    }
}

impl FromStr for IpRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(addr) = s.parse::<IpAddr>() {
            return Ok(IpRange(IpNet::from(addr)));
        }
        let net: IpNet = s.parse().map_err(|_| {
            format!("{s:?} is not a CIDR range such as 10.0.0.0/8 or 2001:db8::/32, nor an address")
        })?;
        if net.trunc() != net {
            return Err(format!(
                "{s:?} has bits set after the /{} prefix: write {}",
                net.prefix_len(),
                net.trunc()
            ));
        }
        Ok(IpRange(net))
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> Deserialize<'de> for IpRange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl AccessConfig {
    /// The zone rules for [`Zones::new`], in configuration order.
    pub fn zone_rules(&self) -> Vec<ZoneRule> {
        self.zones.iter().map(ZoneRule::from).collect()
    }

    /// The trusted proxy ranges for `TrustedProxies::new`.
    pub fn trusted_proxy_ranges(&self) -> Vec<IpNet> {
        self.trusted_proxies.iter().map(|r| r.0).collect()
    }

    /// `session_hours` as a [`Duration`].
    pub fn session_ttl(&self) -> Duration {
        Duration::from_secs(u64::from(self.session_hours) * 3600)
    }

    /// `code_ttl_secs` as a [`Duration`].
    pub fn code_ttl(&self) -> Duration {
        Duration::from_secs(self.code_ttl_secs)
    }

    /// `WEBCONF_ACCESS_AGENT_DOMAINS` and `WEBCONF_ACCESS_TRUSTED_PROXIES` (comma-separated),
    /// `WEBCONF_ACCESS_PROXY_HEADER`.
    pub(super) fn apply_env(
        &mut self,
        get: &impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        let hint = "comma-separated e-mail domains such as gouv.fr,example.fr";
        let parse_list = |v: &str| {
            Some(
                v.split(',')
                    .map(|d| d.trim().to_owned())
                    .filter(|d| !d.is_empty())
                    .collect(),
            )
        };
        if let Some(domains) = env_value(get, "WEBCONF_ACCESS_AGENT_DOMAINS", hint, parse_list)? {
            self.agent_domains = domains;
        }
        let hint = "comma-separated CIDR ranges such as 127.0.0.1/32,10.1.2.0/24";
        let parse_ranges = |v: &str| v.split(',').map(|r| r.parse().ok()).collect();
        if let Some(ranges) = env_value(get, "WEBCONF_ACCESS_TRUSTED_PROXIES", hint, parse_ranges)?
        {
            self.trusted_proxies = ranges;
        }
        let hint = "x-forwarded-for or forwarded";
        if let Some(header) =
            env_value(get, "WEBCONF_ACCESS_PROXY_HEADER", hint, |v| v.parse().ok())?
        {
            self.proxy_header = header;
        }
        Ok(())
    }

    /// Checks `[access]`; called by [`super::Config::validate`].
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let checked = DomainAllowList::new(&self.agent_domains);
        ensure!(
            checked.is_ok(),
            "access.agent_domains",
            "{}: list bare domains such as \"gouv.fr\" (subdomains are included)",
            checked.err().map(|e| e.to_string()).unwrap_or_default()
        );
        for range in &self.trusted_proxies {
            ensure!(
                range.0.prefix_len() > 0,
                "access.trusted_proxies",
                "entry {range} would trust every address, so anyone could claim any client address; list only your proxies"
            );
        }
        let hours = self.session_hours;
        ensure!(
            (1..=168).contains(&hours),
            "access.session_hours",
            "({hours}) must be between 1 and 168 (one week)"
        );
        let ttl = self.code_ttl_secs;
        ensure!(
            (1..=3600).contains(&ttl),
            "access.code_ttl_secs",
            "({ttl}) must be between 1 and 3600"
        );
        let tries = self.code_max_attempts;
        ensure!(
            (1..=20).contains(&tries),
            "access.code_max_attempts",
            "({tries}) must be between 1 and 20"
        );
        let per_email = self.code_requests_per_email_per_hour;
        ensure!(
            (1..=1000).contains(&per_email),
            "access.code_requests_per_email_per_hour",
            "({per_email}) must be between 1 and 1000"
        );
        let per_ip = self.code_requests_per_ip_per_hour;
        ensure!(
            (1..=100_000).contains(&per_ip),
            "access.code_requests_per_ip_per_hour",
            "({per_ip}) must be between 1 and 100000"
        );
        for (i, zone) in self.zones.iter().enumerate() {
            let name = &zone.name;
            let valid = !name.is_empty()
                && name.len() <= MAX_ZONE_NAME
                && name.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                });
            ensure!(
                valid,
                "access.zones",
                "entry {} has name {name:?}: use 1 to {MAX_ZONE_NAME} lower-case letters, digits, '-' or '_'",
                i + 1
            );
            ensure!(
                name != "internet",
                "access.zones",
                "entry {} is named \"internet\", the name of addresses in no zone: choose another name",
                i + 1
            );
            ensure!(
                !self.zones.iter().take(i).any(|z| z.name == *name),
                "access.zones",
                "name {name:?} is used twice: give each zone its own name"
            );
            ensure!(
                !zone.ranges.is_empty(),
                "access.zones",
                "zone {name:?} has no ranges: list its CIDR ranges"
            );
            for addr in &zone.media_addresses {
                ensure!(
                    !addr.is_unspecified() && !addr.is_multicast() && !is_broadcast(addr),
                    "access.zones",
                    "zone {name:?} has media address {addr}, which cannot be given to browsers: list concrete unicast addresses of this machine"
                );
            }
        }
        Ok(())
    }
}

impl RoomsConfig {
    /// `waiting_timeout_secs` as a [`Duration`].
    pub fn waiting_timeout(&self) -> Duration {
        Duration::from_secs(self.waiting_timeout_secs)
    }

    /// `idle_secs` as a [`Duration`].
    pub fn idle(&self) -> Duration {
        Duration::from_secs(self.idle_secs)
    }

    /// `max_duration_secs` as a [`Duration`].
    pub fn max_duration(&self) -> Duration {
        Duration::from_secs(self.max_duration_secs)
    }

    /// `warning_secs` as a [`Duration`].
    pub fn warning(&self) -> Duration {
        Duration::from_secs(self.warning_secs)
    }

    /// Checks `[rooms]`; called by [`super::Config::validate`].
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let wait = self.waiting_timeout_secs;
        ensure!(
            (1..=86_400).contains(&wait),
            "rooms.waiting_timeout_secs",
            "({wait}) must be between 1 and 86400"
        );
        let idle = self.idle_secs;
        ensure!(
            (1..=86_400).contains(&idle),
            "rooms.idle_secs",
            "({idle}) must be between 1 and 86400"
        );
        let max = self.max_duration_secs;
        ensure!(
            (1..=604_800).contains(&max),
            "rooms.max_duration_secs",
            "({max}) must be between 1 and 604800 (one week)"
        );
        let warning = self.warning_secs;
        ensure!(
            warning < idle && warning < max,
            "rooms.warning_secs",
            "({warning}) must be less than rooms.idle_secs ({idle}) and rooms.max_duration_secs ({max}); \
             lower it, or set 0 for no warning"
        );
        let joins = self.unknown_room_joins_per_ip_per_minute;
        ensure!(
            (1..=10_000).contains(&joins),
            "rooms.unknown_room_joins_per_ip_per_minute",
            "({joins}) must be between 1 and 10000"
        );
        Ok(())
    }
}

/// The IPv4 limited broadcast address, which no socket can be a candidate on.
fn is_broadcast(addr: &std::net::IpAddr) -> bool {
    matches!(addr, std::net::IpAddr::V4(v4) if v4.is_broadcast())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::Config;
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        let config = Config::from_toml(text, Path::new("test.toml"))?;
        config.validate()?;
        Ok(config)
    }

    fn error(text: &str) -> String {
        parse(text).expect_err(text).to_string()
    }

    #[test]
    fn defaults_follow_the_access_policy() {
        let access = AccessConfig::default();
        assert_eq!(access.agent_domains, ["gouv.fr"]);
        assert_eq!(access.session_ttl(), Duration::from_secs(12 * 3600));
        assert_eq!(access.code_ttl(), Duration::from_secs(600));
        assert_eq!(
            (
                access.code_max_attempts,
                access.code_requests_per_email_per_hour
            ),
            (5, 5)
        );
        assert_eq!(access.code_requests_per_ip_per_hour, 20);
        assert_eq!(access.proxy_header, ProxyHeader::XForwardedFor);
        assert_eq!(access.zone_rules(), Zones::default_rules());
        let rooms = RoomsConfig::default();
        assert_eq!(rooms.idle(), Duration::from_secs(600));
        assert_eq!(rooms.max_duration(), Duration::from_secs(12 * 3600));
    }

    #[test]
    fn zones_replace_the_default_and_an_empty_list_means_none() {
        let config = parse(
            "[[access.zones]]\nname = \"rie\"\nranges = [\"10.0.0.0/8\", \"2001:db8::/32\", \"192.0.2.7\"]\nagents = true\n\
             [[access.zones]]\nname = \"partners\"\nranges = [\"198.51.100.0/24\"]\n",
        )
        .unwrap();
        let rules = config.access.zone_rules();
        assert_eq!(rules.len(), 2);
        assert_eq!((rules[0].name.as_str(), rules[0].agents), ("rie", true));
        assert_eq!(rules[0].ranges[2], "192.0.2.7/32".parse::<IpNet>().unwrap());
        assert_eq!(
            (rules[1].name.as_str(), rules[1].agents),
            ("partners", false),
            "agents defaults to false"
        );

        let config = parse("[access]\nzones = []").unwrap();
        assert!(config.access.zones.is_empty());
        let zones = Zones::new(config.access.zone_rules());
        assert_eq!(
            zones.classify("127.0.0.1".parse().unwrap()).name,
            "internet"
        );

        assert_eq!(
            parse("[access]\nsession_hours = 24").unwrap().access.zones,
            AccessConfig::default().zones
        );
    }

    #[test]
    fn bad_access_and_rooms_values_name_the_key() {
        let cases = [
            ("[access]\nagent_domains = [\"fr\"]", "access.agent_domains"),
            ("[access]\nagent_domains = [\"gouv fr\"]", "access.agent_domains"),
            ("[access]\ntrusted_proxies = [\"10.0.0.0/33\"]", "trusted_proxies"),
            ("[access]\ntrusted_proxies = [\"10.0.0.1/8\"]", "write 10.0.0.0/8"),
            ("[access]\ntrusted_proxies = [\"0.0.0.0/0\"]", "access.trusted_proxies entry 0.0.0.0/0 would trust every"),
            ("[access]\nproxy_header = \"x-real-ip\"", "proxy_header"),
            ("[access]\nsession_hours = 0", "access.session_hours (0)"),
            ("[access]\nsession_hours = 169", "access.session_hours (169)"),
            ("[access]\ncode_ttl_secs = 0", "access.code_ttl_secs (0)"),
            ("[access]\ncode_max_attempts = 0", "access.code_max_attempts (0)"),
            ("[access]\ncode_requests_per_email_per_hour = 0", "access.code_requests_per_email_per_hour (0)"),
            ("[access]\ncode_requests_per_ip_per_hour = 0", "access.code_requests_per_ip_per_hour (0)"),
            ("[access]\ncolour = 1", "colour"),
            ("[[access.zones]]\nname = \"Lan\"\nranges = [\"10.0.0.0/8\"]", "access.zones entry 1 has name \"Lan\""),
            ("[[access.zones]]\nname = \"internet\"\nranges = [\"10.0.0.0/8\"]", "\"internet\""),
            ("[[access.zones]]\nname = \"a\"\nranges = []", "zone \"a\" has no ranges"),
            (
                "[[access.zones]]\nname = \"a\"\nranges = [\"10.0.0.0/8\"]\n[[access.zones]]\nname = \"a\"\nranges = [\"::1\"]",
                "name \"a\" is used twice",
            ),
            ("[[access.zones]]\nname = \"a\"\nranges = [\"10.0.0.0/8\"]\nagent = true", "agent"),
            ("[[access.zones]]\nranges = [\"10.0.0.0/8\"]", "name"),
            (
                "[[access.zones]]\nname = \"a\"\nranges = [\"10.0.0.0/8\"]\nmedia_addresses = [\"0.0.0.0\"]",
                "zone \"a\" has media address 0.0.0.0",
            ),
            ("[[access.zones]]\nname = \"a\"\nranges = [\"10.0.0.0/8\"]\nmedia_addresses = [\"::\"]", "media address ::"),
            ("[[access.zones]]\nname = \"a\"\nranges = [\"10.0.0.0/8\"]\nmedia_addresses = [\"224.0.0.1\"]", "224.0.0.1"),
            ("[[access.zones]]\nname = \"a\"\nranges = [\"10.0.0.0/8\"]\nmedia_addresses = [\"nope\"]", "media_addresses"),
            ("[rooms]\nwaiting_timeout_secs = 0", "rooms.waiting_timeout_secs (0)"),
            ("[rooms]\nidle_secs = 0", "rooms.idle_secs (0)"),
            ("[rooms]\nmax_duration_secs = 604801", "rooms.max_duration_secs (604801)"),
            ("[rooms]\nidle_secs = 30", "rooms.warning_secs (60) must be less than rooms.idle_secs (30)"),
            ("[rooms]\nunknown_room_joins_per_ip_per_minute = 0", "rooms.unknown_room_joins_per_ip_per_minute (0)"),
            ("[rooms]\nidle = 5", "idle"),
        ];
        for (text, expected) in cases {
            let message = error(text);
            assert!(message.contains(expected), "{text:?} gave {message:?}");
        }
        assert_eq!(
            parse("[rooms]\nidle_secs = 5\nwarning_secs = 0")
                .unwrap()
                .rooms
                .warning(),
            Duration::ZERO
        );
        assert!(parse("[access]\nagent_domains = []")
            .unwrap()
            .access
            .agent_domains
            .is_empty());
    }

    #[test]
    fn access_env_overrides_apply() {
        let env = |name: &str| {
            let value = match name {
                "WEBCONF_ACCESS_AGENT_DOMAINS" => "interieur.gouv.fr, example.fr",
                "WEBCONF_ACCESS_TRUSTED_PROXIES" => "127.0.0.1, 10.1.2.0/24",
                "WEBCONF_ACCESS_PROXY_HEADER" => "forwarded",
                _ => return None,
            };
            Some(value.to_owned())
        };
        let config = Config::load_with_env(None, env).unwrap();
        assert_eq!(
            config.access.agent_domains,
            ["interieur.gouv.fr", "example.fr"]
        );
        let want: Vec<IpNet> = vec![
            "127.0.0.1/32".parse().unwrap(),
            "10.1.2.0/24".parse().unwrap(),
        ];
        assert_eq!(config.access.trusted_proxy_ranges(), want);
        assert_eq!(config.access.proxy_header, ProxyHeader::Forwarded);

        let bad = Config::load_with_env(None, |n| {
            (n == "WEBCONF_ACCESS_TRUSTED_PROXIES").then(|| "10.0.0.0/99".into())
        });
        assert!(bad
            .unwrap_err()
            .to_string()
            .contains("WEBCONF_ACCESS_TRUSTED_PROXIES"));
    }
}
