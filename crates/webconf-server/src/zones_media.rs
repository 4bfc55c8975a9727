//! Which media addresses each network zone's participants are given (issue 7): a zone of
//! `[[access.zones]]` with `media_addresses` uses those, every other zone (and the `internet`
//! zone of addresses in none) uses `media.addresses`. The engine offers a participant only
//! its zone's addresses and the core drops its packets arriving on any other
//! ([`webconf_media::Sfu::add_peer_with_addresses`]); every distinct address gets its own
//! sockets, so two zones on different addresses never share one.
//!
//! Pure: built once at start-up from the validated configuration and the resolved
//! `media.addresses`.

use std::net::IpAddr;

use webconf_access::zones::Zones;

use crate::config::AccessConfig;

/// The media addresses of every zone.
#[derive(Debug)]
pub struct ZoneMedia {
    zones: Zones,
    /// The zones with their own addresses, in configuration order.
    by_zone: Vec<(String, Vec<IpAddr>)>,
    default: Vec<IpAddr>,
}

impl ZoneMedia {
    /// `default` is the resolved `media.addresses`: the internet zone's, and those of zones
    /// without `media_addresses`.
    pub fn new(access: &AccessConfig, default: Vec<IpAddr>) -> ZoneMedia {
        let by_zone = access
            .zones
            .iter()
            .filter(|z| !z.media_addresses.is_empty())
            .map(|z| {
                let mut list: Vec<IpAddr> = Vec::new();
                for a in &z.media_addresses {
                    if !list.contains(a) {
                        list.push(*a);
                    }
                }
                (z.name.clone(), list)
            })
            .collect();
        ZoneMedia {
            zones: Zones::new(access.zone_rules()),
            by_zone,
            default,
        }
    }

    /// The addresses of the zone named `zone`.
    pub fn for_zone(&self, zone: &str) -> &[IpAddr] {
        self.by_zone
            .iter()
            .find(|(n, _)| n == zone)
            .map(|(_, a)| a.as_slice())
            .unwrap_or(&self.default)
    }

    /// The addresses of the zone of the client address `ip` (after trusted proxies).
    pub fn for_client(&self, ip: IpAddr) -> &[IpAddr] {
        self.for_zone(self.zones.classify(ip).name)
    }

    /// Every distinct address to bind: `media.addresses` first, then the zones' own, in
    /// configuration order.
    pub fn all(&self) -> Vec<IpAddr> {
        let mut out = self.default.clone();
        for (_, addresses) in &self.by_zone {
            for a in addresses {
                if !out.contains(a) {
                    out.push(*a);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn media(toml: &str, default: &[&str]) -> ZoneMedia {
        let config = Config::from_toml(toml, std::path::Path::new("test.toml")).unwrap();
        ZoneMedia::new(&config.access, default.iter().map(|a| ip(a)).collect())
    }

    #[test]
    fn a_zone_with_media_addresses_gets_only_those_and_the_others_the_default() {
        let m = media(
            "[[access.zones]]\nname = \"internal\"\nranges = [\"10.0.0.0/8\"]\nagents = true\n\
             media_addresses = [\"10.1.2.3\", \"10.1.2.3\", \"fd00::3\"]\n\
             [[access.zones]]\nname = \"partners\"\nranges = [\"198.51.100.0/24\"]\n",
            &["203.0.113.5"],
        );
        assert_eq!(
            m.for_client(ip("10.9.9.9")),
            [ip("10.1.2.3"), ip("fd00::3")]
        );
        assert_eq!(m.for_zone("internal"), [ip("10.1.2.3"), ip("fd00::3")]);
        // A zone without its own addresses, and the internet, use media.addresses.
        assert_eq!(m.for_client(ip("198.51.100.7")), [ip("203.0.113.5")]);
        assert_eq!(m.for_client(ip("192.0.2.1")), [ip("203.0.113.5")]);
        assert_eq!(m.for_zone("internet"), [ip("203.0.113.5")]);
        // Everything is bound once, media.addresses first.
        assert_eq!(m.all(), [ip("203.0.113.5"), ip("10.1.2.3"), ip("fd00::3")]);
    }

    #[test]
    fn without_zone_addresses_everyone_gets_media_addresses() {
        let m = media("", &["192.0.2.10", "127.0.0.1"]);
        assert_eq!(
            m.for_client(ip("127.0.0.1")),
            [ip("192.0.2.10"), ip("127.0.0.1")]
        );
        assert_eq!(
            m.for_client(ip("8.8.8.8")),
            [ip("192.0.2.10"), ip("127.0.0.1")]
        );
        assert_eq!(m.all(), [ip("192.0.2.10"), ip("127.0.0.1")]);
    }

    #[test]
    fn a_shared_address_is_bound_once() {
        let m = media(
            "[[access.zones]]\nname = \"internal\"\nranges = [\"127.0.0.0/8\"]\nmedia_addresses = [\"127.0.0.1\"]\n",
            &["127.0.0.1", "::1"],
        );
        assert_eq!(m.all(), [ip("127.0.0.1"), ip("::1")]);
        assert_eq!(m.for_client(ip("::1")), [ip("127.0.0.1"), ip("::1")]);
        assert_eq!(m.for_client(ip("127.0.0.5")), [ip("127.0.0.1")]);
    }
}
