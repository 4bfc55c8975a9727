//! Network zones: which part of the network a client address belongs to, and whether that zone
//! makes a browser an agent's (see `docs/access-policy.md`, "Who is an agent").
//!
//! The client address itself (peer address or, behind a trusted proxy, the forwarded chain) is
//! found by [`crate::forwarded::client_ip`], re-exported here.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

pub use crate::forwarded::client_ip;

/// Name of the zone of every address that no rule matches.
pub const DEFAULT_ZONE: &str = "internet";

/// One zone of the configuration: a name and the address ranges that belong to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneRule {
    /// Shown to the browser (`GET /api/session` → `zone`) and in logs.
    pub name: String,
    /// CIDR ranges (`"10.0.0.0/8"`, `"2001:db8::/32"`). IPv4-mapped IPv6 ranges
    /// (`::ffff:10.0.0.0/104`) are read as the IPv4 range they denote.
    pub ranges: Vec<IpNet>,
    /// Whether a browser in this zone is an agent's without proving an e-mail address (the
    /// State's internal network). Defaults to `false`: a zone is trusted only when said so.
    #[serde(default)]
    pub agents: bool,
}

/// The zone a client address was classified in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone<'a> {
    /// Name of the matching rule, or [`DEFAULT_ZONE`].
    pub name: &'a str,
    /// Whether this zone makes the browser an agent's.
    pub agents: bool,
}

/// The configured zones, in order, plus the default zone `"internet"` (`agents = false`) for
/// addresses that no rule matches. Build it once at start-up.
#[derive(Debug, Clone)]
pub struct Zones {
    rules: Vec<ZoneRule>,
}

impl Zones {
    /// The zones of `rules`, tried in the given order.
    pub fn new(rules: Vec<ZoneRule>) -> Zones {
        let rules = rules
            .into_iter()
            .map(|mut rule| {
                rule.ranges = rule.ranges.into_iter().map(canonical_net).collect();
                rule
            })
            .collect();
        Zones { rules }
    }

    /// The zone of `ip`. First matching rule wins; IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is
    /// matched as IPv4; no match gives [`DEFAULT_ZONE`] with `agents = false`.
    pub fn classify(&self, ip: IpAddr) -> Zone<'_> {
        let ip = canonical_ip(ip);
        self.rules
            .iter()
            .find(|rule| rule.ranges.iter().any(|net| net.contains(&ip)))
            .map(|rule| Zone {
                name: rule.name.as_str(),
                agents: rule.agents,
            })
            .unwrap_or(Zone {
                name: DEFAULT_ZONE,
                agents: false,
            })
    }

    /// The default configuration: `"internal"` = `127.0.0.0/8` and `::1/128`, `agents = true`,
    /// so that a first try on `localhost` can open rooms at once.
    pub fn default_rules() -> Vec<ZoneRule> {
        vec![ZoneRule {
            name: "internal".to_owned(),
            ranges: vec![IpNet::V4(LOOPBACK_V4), IpNet::V6(LOOPBACK_V6)],
            agents: true,
        }]
    }
}

/// `127.0.0.0/8` (checked at compile time).
const LOOPBACK_V4: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(127, 0, 0, 0), 8);
/// `::1/128` (checked at compile time).
const LOOPBACK_V6: Ipv6Net = Ipv6Net::new_assert(Ipv6Addr::LOCALHOST, 128);

/// The proxies whose forwarding headers are believed (`X-Forwarded-For`, `Forwarded`). Empty by
/// default: then the socket's peer is always the client.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    ranges: Vec<IpNet>,
}

impl TrustedProxies {
    /// Proxies in `ranges` (IPv4-mapped IPv6 ranges read as IPv4).
    pub fn new(ranges: Vec<IpNet>) -> Self {
        TrustedProxies {
            ranges: ranges.into_iter().map(canonical_net).collect(),
        }
    }

    /// Whether `ip` (IPv4-mapped read as IPv4) is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical_ip(ip);
        self.ranges.iter().any(|net| net.contains(&ip))
    }
}

/// `ip` with an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) turned into IPv4. Only the mapped
/// form: `::1` and the deprecated IPv4-compatible `::a.b.c.d` stay IPv6.
pub(crate) fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// `net` truncated to its network address, an IPv4-mapped IPv6 range (`::ffff:0:0/96` or longer
/// prefix) turned into the IPv4 range it denotes.
fn canonical_net(net: IpNet) -> IpNet {
    let net = net.trunc();
    if let IpNet::V6(v6) = net {
        if v6.prefix_len() >= 96 {
            if let Some(v4) = v6.network().to_ipv4_mapped() {
                if let Ok(v4net) = Ipv4Net::new(v4, v6.prefix_len() - 96) {
                    return IpNet::V4(v4net);
                }
            }
        }
    }
    net
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn rule(name: &str, ranges: &[&str], agents: bool) -> ZoneRule {
        ZoneRule {
            name: name.to_owned(),
            ranges: ranges.iter().map(|r| r.parse().unwrap()).collect(),
            agents,
        }
    }

    fn zones() -> Zones {
        Zones::new(vec![
            rule("guests-wifi", &["10.9.0.0/16"], false),
            rule("rie", &["10.0.0.0/8", "2001:db8:100::/48"], true),
            rule("partners", &["192.0.2.0/24", "2001:db8::/32"], false),
        ])
    }

    #[test]
    fn matches_ipv4() {
        let z = zones();
        assert_eq!(
            z.classify(ip("10.1.2.3")),
            Zone {
                name: "rie",
                agents: true
            }
        );
        assert_eq!(
            z.classify(ip("192.0.2.200")),
            Zone {
                name: "partners",
                agents: false
            }
        );
    }

    #[test]
    fn matches_ipv6() {
        let z = zones();
        assert_eq!(
            z.classify(ip("2001:db8:100::5")),
            Zone {
                name: "rie",
                agents: true
            }
        );
        assert_eq!(
            z.classify(ip("2001:db8:200::5")),
            Zone {
                name: "partners",
                agents: false
            }
        );
    }

    #[test]
    fn matches_ipv4_mapped_as_ipv4() {
        let z = zones();
        assert_eq!(
            z.classify(ip("::ffff:10.1.2.3")),
            Zone {
                name: "rie",
                agents: true
            }
        );
        // A mapped range in the configuration is read as IPv4 as well.
        let z = Zones::new(vec![rule("m", &["::ffff:198.51.100.0/120"], true)]);
        assert_eq!(z.classify(ip("198.51.100.7")).name, "m");
        assert_eq!(z.classify(ip("::ffff:198.51.100.7")).name, "m");
        // IPv4-compatible addresses are not mapped ones: ::1 is loopback, not 0.0.0.1.
        let z = Zones::new(vec![rule("zero", &["0.0.0.0/8"], true)]);
        assert_eq!(z.classify(ip("::1")).name, DEFAULT_ZONE);
    }

    #[test]
    fn first_matching_rule_wins() {
        let z = zones();
        // 10.9.x.x is in both "guests-wifi" and "rie": the first rule wins.
        assert_eq!(
            z.classify(ip("10.9.1.1")),
            Zone {
                name: "guests-wifi",
                agents: false
            }
        );
    }

    #[test]
    fn unmatched_addresses_are_internet_and_not_agents() {
        let z = zones();
        assert_eq!(
            z.classify(ip("203.0.113.9")),
            Zone {
                name: "internet",
                agents: false
            }
        );
        assert_eq!(
            z.classify(ip("2a01::1")),
            Zone {
                name: "internet",
                agents: false
            }
        );
        assert_eq!(Zones::new(vec![]).classify(ip("10.1.1.1")).name, "internet");
    }

    #[test]
    fn default_rules_make_loopback_internal_agents() {
        let z = Zones::new(Zones::default_rules());
        for a in ["127.0.0.1", "127.255.0.3", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(
                z.classify(ip(a)),
                Zone {
                    name: "internal",
                    agents: true
                },
                "{a}"
            );
        }
        for a in ["128.0.0.1", "::2", "10.0.0.1"] {
            assert_eq!(z.classify(ip(a)).name, "internet", "{a}");
        }
    }

    #[test]
    fn zone_rule_deserializes_and_defaults_to_no_agents() {
        let r: ZoneRule =
            serde_json::from_str(r#"{"name":"rie","ranges":["10.0.0.0/8","2001:db8::/32"]}"#)
                .unwrap();
        assert_eq!(r, rule("rie", &["10.0.0.0/8", "2001:db8::/32"], false));
        assert!(
            serde_json::from_str::<ZoneRule>(r#"{"name":"x","ranges":[],"agent":true}"#).is_err()
        );
        assert!(
            serde_json::from_str::<ZoneRule>(r#"{"name":"x","ranges":["10.0.0.0/33"]}"#).is_err()
        );
    }

    #[test]
    fn trusted_proxies_contain_mapped_addresses() {
        let t = TrustedProxies::new(vec![
            "127.0.0.1/32".parse().unwrap(),
            "::ffff:10.0.0.0/104".parse().unwrap(),
        ]);
        assert!(t.contains(ip("127.0.0.1")));
        assert!(t.contains(ip("::ffff:127.0.0.1")));
        assert!(t.contains(ip("10.200.0.1")));
        assert!(!t.contains(ip("127.0.0.2")));
        assert!(!TrustedProxies::default().contains(ip("127.0.0.1")));
    }
}
