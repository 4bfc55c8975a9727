//! Who is on the other end of a request: its client address, its network zone, and whether it
//! is a State agent's browser (`docs/access-policy.md`, "Who is an agent").
//!
//! [`identify`] is called for every request that needs to know (the WebSocket upgrade,
//! `GET /api/session`). It only reads: it creates no session and logs nothing.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::http::{HeaderMap, HeaderName};
use webconf_access::email::EmailAddress;
use webconf_access::sessions::SessionId;
use webconf_access::zones::client_ip;

use crate::auth::{cookie, AuthState};
use crate::config::ProxyHeader;

/// What the server knows of a browser, for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The client address: the peer, or behind a trusted proxy the forwarded client.
    /// Used for per-address rate limits; never logged.
    pub ip: IpAddr,
    /// The name of the network zone of `ip` (`internet` when no configured zone matches).
    pub zone: String,
    /// Why this browser is an agent's, or `None` for a guest.
    pub agent: Option<AgentVia>,
}

/// How a browser was recognised as an agent's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentVia {
    /// Its client address is in a zone with `agents = true`.
    Network,
    /// It holds a live agent session opened with a code mailed to this address.
    Email(EmailAddress),
}

impl Identity {
    /// True when this browser may open rooms.
    pub fn is_agent(&self) -> bool {
        self.agent.is_some()
    }
}

/// Identifies the browser behind a request: client address (trusting forwarding headers only
/// from `access.trusted_proxies`, and only the configured `access.proxy_header`), then its
/// zone; an agent if the zone says so, else if its `__Host-webconf-agent` cookie names a live
/// agent session.
pub fn identify(auth: &AuthState, peer: SocketAddr, headers: &HeaderMap, now: Instant) -> Identity {
    let ip = client_address(auth, peer, headers);
    let zone = auth.zones.classify(ip);
    let agent = if zone.agents {
        Some(AgentVia::Network)
    } else {
        cookie::get(headers, cookie::AGENT)
            .and_then(SessionId::parse)
            .and_then(|id| auth.session_email(now, &id))
            .map(AgentVia::Email)
    };
    Identity {
        ip,
        zone: zone.name.to_owned(),
        agent,
    }
}

/// The client address of a request, as [`identify`] finds it.
pub fn client_address(auth: &AuthState, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    let values = |name: HeaderName| -> Vec<&str> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    };
    let (xff, forwarded) = match auth.proxy_header {
        ProxyHeader::XForwardedFor => (
            values(HeaderName::from_static("x-forwarded-for")),
            Vec::new(),
        ),
        ProxyHeader::Forwarded => (Vec::new(), values(axum::http::header::FORWARDED)),
    };
    client_ip(peer.ip(), &xff, &forwarded, &auth.trusted_proxies)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::http::HeaderValue;

    use super::*;
    use crate::config::{Config, IpRange};

    fn auth(edit: impl FnOnce(&mut Config)) -> AuthState {
        let mut config = Config::default();
        config.mail.outbox_dir = std::env::temp_dir().join("webconf-identity-tests");
        edit(&mut config);
        config.validate().unwrap();
        AuthState::new(&config).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    fn peer(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 50000)
    }

    #[test]
    fn loopback_is_an_agent_by_network_by_default() {
        let auth = auth(|_| {});
        let now = Instant::now();
        for ip in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            let id = identify(&auth, peer(ip), &HeaderMap::new(), now);
            assert_eq!(
                (id.zone.as_str(), id.agent.clone()),
                ("internal", Some(AgentVia::Network)),
                "{ip}"
            );
        }
        let id = identify(&auth, peer("192.0.2.1"), &HeaderMap::new(), now);
        assert_eq!((id.zone.as_str(), id.agent), ("internet", None));
    }

    #[test]
    fn a_live_session_cookie_makes_an_agent_by_email() {
        let auth = auth(|c| c.access.zones.clear());
        let now = Instant::now();
        let email = EmailAddress::parse("prenom.nom@interieur.gouv.fr").unwrap();
        let session = auth.open_session(now, email.clone());
        let cookie = format!("theme=dark; {}={}", cookie::AGENT, session.as_str());
        let h = headers(&[("cookie", &cookie)]);
        let id = identify(&auth, peer("127.0.0.1"), &h, now);
        assert_eq!(id.zone, "internet");
        assert_eq!(id.agent, Some(AgentVia::Email(email)));
        assert!(id.is_agent());
        let later = now + Duration::from_secs(12 * 3600);
        assert_eq!(
            identify(&auth, peer("127.0.0.1"), &h, later).agent,
            None,
            "expired"
        );
        let forged = headers(&[(
            "cookie",
            "__Host-webconf-agent=0123456789abcdef0123456789abcdef",
        )]);
        assert_eq!(identify(&auth, peer("127.0.0.1"), &forged, now).agent, None);
        let garbage = headers(&[("cookie", "__Host-webconf-agent=../../etc")]);
        assert_eq!(
            identify(&auth, peer("127.0.0.1"), &garbage, now).agent,
            None
        );
    }

    #[test]
    fn forwarded_addresses_only_from_trusted_proxies_and_the_configured_header() {
        let auth =
            auth(|c| c.access.trusted_proxies = vec![IpRange("127.0.0.1/32".parse().unwrap())]);
        let now = Instant::now();
        let h = headers(&[
            ("x-forwarded-for", "10.9.9.9, 203.0.113.5"),
            ("forwarded", "for=127.0.0.2"),
        ]);
        let id = identify(&auth, peer("127.0.0.1"), &h, now);
        assert_eq!(
            id.ip,
            "203.0.113.5".parse::<IpAddr>().unwrap(),
            "right-most untrusted of X-Forwarded-For"
        );
        assert_eq!(
            (id.zone.as_str(), id.agent),
            ("internet", None),
            "the forged Forwarded is not read"
        );
        let id = identify(&auth, peer("192.0.2.1"), &h, now);
        assert_eq!(
            id.ip,
            "192.0.2.1".parse::<IpAddr>().unwrap(),
            "an untrusted peer's headers are ignored"
        );

        let auth = auth_forwarded();
        let id = identify(&auth, peer("127.0.0.1"), &h, now);
        assert_eq!(id.ip, "127.0.0.2".parse::<IpAddr>().unwrap());
        assert_eq!(id.agent, Some(AgentVia::Network));
    }

    fn auth_forwarded() -> AuthState {
        auth(|c| {
            c.access.trusted_proxies = vec![IpRange("127.0.0.1/32".parse().unwrap())];
            c.access.proxy_header = ProxyHeader::Forwarded;
        })
    }
}
