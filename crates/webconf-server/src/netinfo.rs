//! `GET /api/network`: what a local network must let through for this server's media to flow,
//! as the running server actually uses it. The client names it in the "media blocked" banner
//! (`web/js/ui/nomedia.js`) and the connection test page reads it, so that what people are
//! told to ask their IT support for is never out of step with the configuration.
//!
//! The addresses are those of the asking browser's network zone (`media_addresses` of its
//! `[[access.zones]]` entry, else `media.addresses`): the ones its ICE candidates will name.
//!
//! Invariants: the answer holds nothing about the person asking (no address, no session) and
//! nothing that a participant does not already learn from the ICE candidates and the FAQ; it is
//! computed from the configuration in force, which [`crate::run`] completes with what it bound
//! (the real listening port when `http.listen` asks for port 0, the resolved media addresses).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::config::Config;
use crate::http::AppState;

/// The body of `GET /api/network` (docs/operations.md, "HTTP API").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetworkInfo {
    /// Where audio and video go.
    pub media: MediaEndpoints,
    /// The TCP port browsers reach the page and the signaling on (the same rule as the FAQ's
    /// `{https_port}`: the port of `mail.public_url` when set, 443 behind a reverse proxy,
    /// else the listening port).
    pub https_port: u16,
}

/// The media side of [`NetworkInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaEndpoints {
    /// The addresses advertised to browsers in ICE candidates, in the server's order.
    pub addresses: Vec<IpAddr>,
    /// The UDP port range, `[first, last]`, both included.
    pub udp_ports: [u16; 2],
}

impl NetworkInfo {
    /// What `config` advertises. With `media.addresses` empty (automatic) this reads the
    /// network interfaces; [`crate::run`] stores the resolved list once at start-up, so a
    /// running server does not.
    pub fn from_config(config: &Config) -> NetworkInfo {
        NetworkInfo {
            media: MediaEndpoints {
                addresses: config.media.resolved_addresses(),
                udp_ports: [config.media.port_min, config.media.port_max],
            },
            https_port: crate::pages::https_port(config),
        }
    }

    /// What `config` advertises to a browser whose client address is `client`: its zone's
    /// media addresses.
    pub fn for_client(config: &Config, client: IpAddr) -> NetworkInfo {
        let mut info = NetworkInfo::from_config(config);
        let zones =
            crate::zones_media::ZoneMedia::new(&config.access, info.media.addresses.clone());
        info.media.addresses = zones.for_client(client).to_vec();
        info
    }
}

/// `GET /api/network`. Never cached: a restart with another configuration must show at once.
pub async fn handler(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let client = crate::identity::client_address(&state.auth, peer, &headers);
    let info = NetworkInfo::for_client(&state.config, client);
    ([(header::CACHE_CONTROL, "no-store")], Json(info)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TlsMode;

    #[test]
    fn reports_the_configured_addresses_ports_and_listening_port() {
        let mut config = Config::default();
        config.media.addresses = vec!["192.0.2.10".parse().unwrap(), "192.0.2.10".parse().unwrap()];
        config.media.port_min = 40000;
        config.media.port_max = 40099;
        config.http.listen = "0.0.0.0:8443".parse().unwrap();
        let info = NetworkInfo::from_config(&config);
        assert_eq!(
            serde_json::to_value(&info).unwrap(),
            serde_json::json!({
                "media": {"addresses": ["192.0.2.10"], "udp_ports": [40000, 40099]},
                "https_port": 8443
            })
        );
        // Behind a reverse proxy, browsers come on 443 whatever we listen on.
        config.http.tls = TlsMode::Off;
        assert_eq!(NetworkInfo::from_config(&config).https_port, 443);
    }

    #[test]
    fn each_zone_is_told_its_own_media_addresses() {
        let mut config = Config::default();
        config.media.addresses = vec!["203.0.113.5".parse().unwrap()];
        config.access.zones[0].media_addresses = vec!["127.0.0.1".parse().unwrap()];
        config.validate().unwrap();
        let addresses = |ip: &str| {
            NetworkInfo::for_client(&config, ip.parse().unwrap())
                .media
                .addresses
        };
        assert_eq!(
            addresses("127.0.0.1"),
            ["127.0.0.1".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            addresses("198.51.100.1"),
            ["203.0.113.5".parse::<IpAddr>().unwrap()]
        );
    }
}
