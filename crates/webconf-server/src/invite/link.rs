//! Which address meeting links start with (`docs/access-policy.md`, "The link").
//!
//! A request's `Host` and `Origin` headers are chosen by whoever sends it, and a mail from the
//! service's own address is a good phishing lure: so a link uses `mail.public_url` when set,
//! and otherwise a request's origin only when the operator listed it (`http.allowed_origins`)
//! or when it is a loopback origin, whose link can only lead back to the reader's own machine.

use axum::http::{header, HeaderMap, HeaderValue};

use crate::http::AppState;

/// The `scheme://host[:port]` that meeting links start with: `mail.public_url` when set;
/// otherwise the request's `Origin`, or `https://<Host>` (also `http://<Host>` when we do not
/// terminate TLS), but only one that is in `http.allowed_origins` or is a loopback origin (a
/// first try on the server itself). `None` when nothing qualifies: a `Host` header is chosen
/// by the sender, and a mail from the service must not carry a link to a host of their choice.
pub(super) fn link_base(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let config = &state.config;
    let public = config.mail.public_url.trim_end_matches('/');
    if !public.is_empty() {
        return Some(public.to_owned());
    }
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let mut candidates = Vec::new();
    if let Some(origin) = text(header::ORIGIN) {
        candidates.push(origin.trim_end_matches('/').to_ascii_lowercase());
    }
    if let Some(host) = text(header::HOST) {
        let host = host.to_ascii_lowercase();
        candidates.push(format!("https://{host}"));
        if !state.tls {
            candidates.push(format!("http://{host}"));
        }
    }
    let allowed = &config.http.allowed_origins;
    candidates.into_iter().find(|c| {
        allowed
            .iter()
            .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(c))
            || is_loopback_origin(c)
    })
}

/// True for `http(s)://localhost[:port]`, `http(s)://127.x.y.z[:port]` and
/// `http(s)://[::1][:port]`, with nothing else (no path, user, odd character).
fn is_loopback_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return false;
    };
    let (host, port) = match rest.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((addr, "")) => (addr, None),
            Some((addr, after)) => match after.strip_prefix(':') {
                Some(port) => (addr, Some(port)),
                None => return false,
            },
            None => return false,
        },
        None => match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        },
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = host == "localhost"
        || (rest.starts_with('[')
            && host
                .parse::<std::net::Ipv6Addr>()
                .is_ok_and(|ip| ip.is_loopback()))
        || (!rest.starts_with('[')
            && host
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback()));
    port_ok && host_ok
}

/// The host of a `scheme://host[:port]` origin, for the right-hand side of a calendar `UID`.
pub(super) fn host_of(base: &str) -> &str {
    let rest = base.split_once("://").map_or(base, |(_, rest)| rest);
    match rest.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => rest.split(':').next().unwrap_or(rest),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::sync::mpsc;

    use super::*;
    use crate::auth::AuthState;
    use crate::config::Config;

    fn state(tls: bool, edit: impl FnOnce(&mut Config)) -> AppState {
        let mut config = Config::default();
        config.mail.outbox_dir = std::env::temp_dir().join("webconf-invite-tests");
        edit(&mut config);
        config.validate().unwrap();
        let auth = Arc::new(AuthState::new(&config).unwrap());
        let (commands, _) = mpsc::channel(1);
        let pages = Arc::new(crate::pages::Pages::load(&config).unwrap());
        AppState {
            config: Arc::new(config),
            tls,
            commands,
            auth,
            pages,
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    #[test]
    fn the_public_url_wins_when_set() {
        let s = state(true, |c| {
            c.mail.public_url = "https://webconf.example.gouv.fr".into()
        });
        let h = headers(&[("host", "evil.example"), ("origin", "https://evil.example")]);
        assert_eq!(
            link_base(&s, &h).as_deref(),
            Some("https://webconf.example.gouv.fr")
        );
        assert_eq!(
            link_base(&s, &HeaderMap::new()).as_deref(),
            Some("https://webconf.example.gouv.fr")
        );
    }

    #[test]
    fn a_request_host_is_used_only_when_allowed_or_loopback() {
        let s = state(false, |c| {
            c.http.allowed_origins = vec!["https://visio.example.gouv.fr".into()]
        });
        // The proxy's public origin, from the page's Origin or from the forwarded Host.
        let h = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "https://visio.example.gouv.fr"),
        ]);
        assert_eq!(
            link_base(&s, &h).as_deref(),
            Some("https://visio.example.gouv.fr")
        );
        let h = headers(&[("host", "Visio.Example.Gouv.Fr")]);
        assert_eq!(
            link_base(&s, &h).as_deref(),
            Some("https://visio.example.gouv.fr")
        );
        // Anything else named by the request is refused.
        for host in [
            "evil.example",
            "visio.example.gouv.fr.evil.example",
            "visio.example.gouv.fr:444",
        ] {
            let origin = format!("https://{host}");
            let h = headers(&[("host", host), ("origin", &origin)]);
            assert_eq!(link_base(&s, &h), None, "{host}");
        }
        assert_eq!(link_base(&s, &HeaderMap::new()), None);
        // A first try on the server itself.
        let s = state(true, |_| {});
        let h = headers(&[("host", "localhost:8443")]);
        assert_eq!(link_base(&s, &h).as_deref(), Some("https://localhost:8443"));
        let s = state(false, |_| {});
        let h = headers(&[
            ("host", "127.0.0.1:9000"),
            ("origin", "http://127.0.0.1:9000"),
        ]);
        assert_eq!(link_base(&s, &h).as_deref(), Some("http://127.0.0.1:9000"));
    }

    #[test]
    fn loopback_origins_are_exactly_that() {
        for ok in [
            "https://localhost",
            "http://localhost:8443",
            "https://127.0.0.1",
            "https://127.1.2.3:1",
            "https://[::1]",
            "https://[::1]:8443",
        ] {
            assert!(is_loopback_origin(ok), "{ok}");
        }
        for bad in [
            "https://localhost.evil.example",
            "https://127.0.0.1.evil.example",
            "https://evil.example#127.0.0.1",
            "https://127.0.0.1/path",
            "https://127.0.0.1:80/x",
            "https://user@127.0.0.1",
            "https://127.0.0.1:",
            "https://127.0.0.1:123456",
            "https://[::1]x",
            "https://[::2]",
            "https://::1",
            "ftp://localhost",
            "https://10.0.0.1",
            "localhost",
        ] {
            assert!(!is_loopback_origin(bad), "{bad}");
        }
    }

    #[test]
    fn uid_hosts() {
        assert_eq!(
            host_of("https://webconf.example.gouv.fr"),
            "webconf.example.gouv.fr"
        );
        assert_eq!(host_of("https://localhost:8443"), "localhost");
        assert_eq!(host_of("https://[::1]:8443"), "::1");
    }
}
