//! The client address of an HTTP request: the socket's peer, or, behind a trusted proxy, the
//! right-most address of the forwarded chain that is not itself a trusted proxy.
//!
//! Parses `X-Forwarded-For` (comma-separated addresses) and `Forwarded` (RFC 7239: `for=`
//! parameters, quoted, IPv6 in brackets, optional ports, `unknown` and obfuscated `_names`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::zones::{canonical_ip, TrustedProxies};

/// One hop of the forwarded chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hop {
    /// An address.
    Addr(IpAddr),
    /// `unknown`, an obfuscated identifier (`_hidden`), or a `Forwarded` element without `for=`:
    /// a hop that names no address. Skipped by the walk.
    Opaque,
    /// Not parseable: the walk stops here.
    Garbage,
}

/// The client address of an HTTP request.
///
/// `peer` is the socket's peer; `x_forwarded_for` the values of every `X-Forwarded-For` header in
/// order; `forwarded` those of every `Forwarded` header (RFC 7239, `for=` parameters, quoted, with
/// IPv6 in brackets and optional ports, `unknown`/obfuscated identifiers ignored). Headers are
/// believed only when `peer` is a trusted proxy; then walk the combined chain from the right and
/// return the first address that is not a trusted proxy (if all are trusted, the left-most).
/// `Forwarded` takes precedence over `X-Forwarded-For` when both exist (a `Forwarded` header
/// counts as existing when one of its values is not blank). Unparseable entries stop the walk
/// (return the last good address, or the peer). IPv4-mapped IPv6 addresses are returned as IPv4.
///
/// # Deployment
/// The walk trusts the proxy to *append* the address it saw. A proxy that writes only one of the
/// two headers and passes the other through from the client lets the client forge that other
/// one: since `Forwarded` wins, a proxy that writes `X-Forwarded-For` must strip `Forwarded`
/// (nginx: `proxy_set_header Forwarded "";`), or the caller must pass `&[]` for the header the
/// proxy does not write.
pub fn client_ip(
    peer: IpAddr,
    x_forwarded_for: &[&str],
    forwarded: &[&str],
    trusted: &TrustedProxies,
) -> IpAddr {
    let peer = canonical_ip(peer);
    if !trusted.contains(peer) {
        return peer;
    }
    let chain: Vec<Hop> = if forwarded.iter().any(|v| !v.trim().is_empty()) {
        forwarded
            .iter()
            .flat_map(|v| split_quoted(v, b','))
            .filter_map(forwarded_element)
            .collect()
    } else {
        x_forwarded_for
            .iter()
            .flat_map(|v| v.split(','))
            .filter_map(xff_entry)
            .collect()
    };
    let mut last = peer;
    for hop in chain.iter().rev() {
        match *hop {
            Hop::Opaque => {}
            Hop::Garbage => return last,
            Hop::Addr(ip) => {
                let ip = canonical_ip(ip);
                if !trusted.contains(ip) {
                    return ip;
                }
                last = ip;
            }
        }
    }
    last
}

/// One `X-Forwarded-For` entry: an address, optionally with a port (`192.0.2.1:4711`,
/// `[2001:db8::1]:4711`) or in brackets. Empty entries (`a,,b`) are skipped.
fn xff_entry(entry: &str) -> Option<Hop> {
    let entry = entry.trim();
    if entry.is_empty() {
        return None;
    }
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(Hop::Addr(ip));
    }
    if let Ok(sa) = entry.parse::<SocketAddr>() {
        return Some(Hop::Addr(sa.ip()));
    }
    let bracketed = entry.strip_prefix('[').and_then(|e| e.strip_suffix(']'));
    Some(match bracketed.and_then(|e| e.parse::<Ipv6Addr>().ok()) {
        Some(v6) => Hop::Addr(IpAddr::V6(v6)),
        None => Hop::Garbage,
    })
}

/// The `for=` hop of one `Forwarded` element (`for=192.0.2.60;proto=http;by=203.0.113.43`).
/// Empty elements are skipped; an element without `for=` is opaque; one with a malformed pair,
/// a bad quoted string or two `for=` parameters (RFC 7239 §4 forbids it) is garbage.
fn forwarded_element(element: &str) -> Option<Hop> {
    if element.trim().is_empty() {
        return None;
    }
    let mut node = None;
    for pair in split_quoted(element, b';') {
        let pair = pair.trim();
        if pair.is_empty() {
            continue;
        }
        let Some((name, value)) = pair.split_once('=') else {
            return Some(Hop::Garbage);
        };
        if !name.trim().eq_ignore_ascii_case("for") {
            continue;
        }
        if node.is_some() {
            return Some(Hop::Garbage);
        }
        node = Some(match unquote(value.trim()) {
            Some(v) => parse_node(&v),
            None => Hop::Garbage,
        });
    }
    Some(node.unwrap_or(Hop::Opaque))
}

/// A node (RFC 7239 §6): `unknown`, `_obfuscated`, `IPv4[:port]` or `"[IPv6][:port]"`.
/// An IPv6 address without brackets is garbage: `2001:db8::1:80` would be ambiguous.
fn parse_node(node: &str) -> Hop {
    if node.eq_ignore_ascii_case("unknown") || node.starts_with('_') {
        return Hop::Opaque;
    }
    if let Some(rest) = node.strip_prefix('[') {
        let Some((addr, after)) = rest.split_once(']') else {
            return Hop::Garbage;
        };
        let port_valid = after.is_empty() || after.strip_prefix(':').is_some_and(port_ok);
        return match (addr.parse::<Ipv6Addr>(), port_valid) {
            (Ok(v6), true) => Hop::Addr(IpAddr::V6(v6)),
            _ => Hop::Garbage,
        };
    }
    let (addr, port_valid) = match node.split_once(':') {
        Some((addr, port)) => (addr, port_ok(port)),
        None => (node, true),
    };
    match (addr.parse::<Ipv4Addr>(), port_valid) {
        (Ok(v4), true) => Hop::Addr(IpAddr::V4(v4)),
        _ => Hop::Garbage,
    }
}

/// A port (after the `:`): 1-5 digits, or obfuscated (`_` then `[A-Za-z0-9._-]`).
fn port_ok(port: &str) -> bool {
    let digits = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    let obfuscated = port.len() > 1
        && port.starts_with('_')
        && port
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    digits || obfuscated
}

/// A parameter value: a token, or a quoted string with `\` escapes removed. `None` when a quote
/// is unbalanced or the value is empty.
fn unquote(value: &str) -> Option<String> {
    let Some(inner) = value.strip_prefix('"') else {
        return (!value.is_empty() && !value.contains('"')).then(|| value.to_owned());
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return chars.as_str().is_empty().then_some(out),
            c => out.push(c),
        }
    }
    None // no closing quote
}

/// `s` split at every `sep` that is not inside a quoted string. An unbalanced quote leaves the
/// rest as one piece (which then fails to unquote: garbage).
fn split_quoted(s: &str, sep: u8) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, b) in s.bytes().enumerate() {
        if escaped {
            escaped = false;
        } else if quoted && b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            quoted = !quoted;
        } else if !quoted && b == sep {
            parts.push(s.get(start..i).unwrap_or(""));
            start = i + 1;
        }
    }
    parts.push(s.get(start..).unwrap_or(""));
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// Trusted: the local reverse proxy and the load balancers in 10.0.0.0/24.
    fn trusted() -> TrustedProxies {
        TrustedProxies::new(vec![
            "127.0.0.1/32".parse().unwrap(),
            "10.0.0.0/24".parse().unwrap(),
            "fd00::/64".parse().unwrap(),
        ])
    }

    const PROXY: &str = "127.0.0.1";

    #[test]
    fn untrusted_peer_headers_are_ignored() {
        let t = trusted();
        let peer = ip("203.0.113.7");
        assert_eq!(client_ip(peer, &["10.0.0.5"], &[], &t), peer);
        assert_eq!(client_ip(peer, &[], &["for=127.0.0.1"], &t), peer);
        assert_eq!(client_ip(peer, &["1.2.3.4"], &["for=1.2.3.4"], &t), peer);
        // No trusted proxy at all: never believed, even from loopback.
        assert_eq!(
            client_ip(ip(PROXY), &["8.8.8.8"], &[], &TrustedProxies::default()),
            ip(PROXY)
        );
    }

    #[test]
    fn mapped_peer_is_normalised() {
        let t = TrustedProxies::default();
        assert_eq!(
            client_ip(ip("::ffff:198.51.100.4"), &[], &[], &t),
            ip("198.51.100.4")
        );
        // And a mapped trusted peer is recognised as the IPv4 proxy.
        assert_eq!(
            client_ip(ip("::ffff:127.0.0.1"), &["198.51.100.4"], &[], &trusted()),
            ip("198.51.100.4")
        );
    }

    #[test]
    fn trusted_chain_gives_the_right_most_untrusted_address() {
        let t = trusted();
        // The client forged "6.6.6.6"; the proxies appended what they saw.
        assert_eq!(
            client_ip(ip(PROXY), &["6.6.6.6, 198.51.100.4, 10.0.0.2"], &[], &t),
            ip("198.51.100.4")
        );
        // Same chain spread over several header lines, in order.
        assert_eq!(
            client_ip(ip(PROXY), &["6.6.6.6", "198.51.100.4", "10.0.0.2"], &[], &t),
            ip("198.51.100.4")
        );
        // A forged internal address to the left of the real client does not help.
        assert_eq!(
            client_ip(ip(PROXY), &["10.0.0.9, 198.51.100.4"], &[], &t),
            ip("198.51.100.4")
        );
        // Mapped entries are normalised, both for the trust check and for the result.
        assert_eq!(
            client_ip(
                ip(PROXY),
                &["::ffff:198.51.100.4, ::ffff:10.0.0.2"],
                &[],
                &t
            ),
            ip("198.51.100.4")
        );
        // Ports and brackets in X-Forwarded-For.
        assert_eq!(
            client_ip(ip(PROXY), &["198.51.100.4:5123"], &[], &t),
            ip("198.51.100.4")
        );
        assert_eq!(
            client_ip(ip(PROXY), &["[2001:db8::7]:443"], &[], &t),
            ip("2001:db8::7")
        );
        assert_eq!(
            client_ip(ip(PROXY), &["[2001:db8::7]"], &[], &t),
            ip("2001:db8::7")
        );
        assert_eq!(
            client_ip(ip(PROXY), &[" 2001:db8::7 , fd00::1"], &[], &t),
            ip("2001:db8::7")
        );
    }

    #[test]
    fn all_trusted_chain_gives_the_left_most() {
        let t = trusted();
        assert_eq!(
            client_ip(ip(PROXY), &["10.0.0.3, 10.0.0.2"], &[], &t),
            ip("10.0.0.3")
        );
        assert_eq!(
            client_ip(ip(PROXY), &[], &["for=10.0.0.3, for=_lb, for=10.0.0.2"], &t),
            ip("10.0.0.3")
        );
        // No header at all: the peer.
        assert_eq!(client_ip(ip(PROXY), &[], &[], &t), ip(PROXY));
        assert_eq!(client_ip(ip(PROXY), &[""], &[" "], &t), ip(PROXY));
    }

    #[test]
    fn forwarded_syntax_variants() {
        let t = trusted();
        let p = ip(PROXY);
        assert_eq!(
            client_ip(p, &[], &["for=198.51.100.4"], &t),
            ip("198.51.100.4")
        );
        assert_eq!(
            client_ip(p, &[], &["For=\"198.51.100.4:8080\";proto=https"], &t),
            ip("198.51.100.4")
        );
        assert_eq!(
            client_ip(p, &[], &["for=\"[2001:db8:cafe::17]:4711\""], &t),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(
            client_ip(p, &[], &["for=\"[2001:db8:cafe::17]\""], &t),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(
            client_ip(p, &[], &["for=\"[2001:db8::1]:_port\""], &t),
            ip("2001:db8::1")
        );
        // Several for= in one header and over several headers; other parameters anywhere.
        assert_eq!(
            client_ip(
                p,
                &[],
                &["for=6.6.6.6, for=198.51.100.4;by=10.0.0.2, proto=https;for=10.0.0.2"],
                &t
            ),
            ip("198.51.100.4")
        );
        assert_eq!(
            client_ip(
                p,
                &[],
                &[
                    "for=6.6.6.6",
                    "by=x;for=198.51.100.4",
                    "for=\"[fd00::3]:1\""
                ],
                &t
            ),
            ip("198.51.100.4")
        );
        // A quoted comma or semicolon does not split.
        assert_eq!(
            client_ip(
                p,
                &[],
                &["for=198.51.100.4;ext=\"a,b;c\", for=10.0.0.2"],
                &t
            ),
            ip("198.51.100.4")
        );
        // "unknown" and obfuscated identifiers are skipped, as is an element without for=.
        assert_eq!(
            client_ip(p, &[], &["for=198.51.100.4, for=unknown"], &t),
            ip("198.51.100.4")
        );
        assert_eq!(
            client_ip(
                p,
                &[],
                &["for=198.51.100.4, for=\"_hidden\", proto=https"],
                &t
            ),
            ip("198.51.100.4")
        );
        assert_eq!(client_ip(p, &[], &["for=UNKNOWN"], &t), p);
    }

    #[test]
    fn forwarded_takes_precedence_over_x_forwarded_for() {
        let t = trusted();
        assert_eq!(
            client_ip(ip(PROXY), &["192.0.2.1"], &["for=198.51.100.4"], &t),
            ip("198.51.100.4")
        );
        // A blank Forwarded does not count as present.
        assert_eq!(
            client_ip(ip(PROXY), &["192.0.2.1"], &["  "], &t),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn garbage_stops_the_walk() {
        let t = trusted();
        let p = ip(PROXY);
        // Garbage right after the peer: the peer.
        assert_eq!(client_ip(p, &["198.51.100.4, not-an-ip"], &[], &t), p);
        // Garbage behind a trusted hop: that hop.
        assert_eq!(
            client_ip(p, &["198.51.100.4, nonsense, 10.0.0.2"], &[], &t),
            ip("10.0.0.2")
        );
        // Garbage to the left of the client is never reached.
        assert_eq!(
            client_ip(p, &["garbage, 198.51.100.4"], &[], &t),
            ip("198.51.100.4")
        );
        for bad in [
            "for=",
            "for=\"198.51.100.4",             // unterminated quote
            "for=2001:db8::1",                // IPv6 without brackets
            "for=\"[2001:db8::1\"",           // missing ]
            "for=\"[2001:db8::1]:99999999\"", // bad port
            "for=\"[2001:db8::1]x\"",
            "for=198.51.100.4:",
            "for=198.51.100.4:http",
            "for=300.1.1.1",
            "for=fe80::1%eth0",
            "for=1.2.3.4;for=5.6.7.8", // two for= in one element
            "nonsense",
            "for=\"1.2.3.4\"junk",
        ] {
            assert_eq!(
                client_ip(p, &[], &[&format!("for=198.51.100.4, {bad}")], &t),
                p,
                "{bad}"
            );
        }
        for bad in [
            "1.2.3.4.5",
            "[::1",
            "fe80::1%eth0",
            "example.org",
            "unknown",
            "1.2.3.4 5.6.7.8",
        ] {
            assert_eq!(
                client_ip(p, &[&format!("198.51.100.4, {bad}")], &[], &t),
                p,
                "{bad}"
            );
        }
    }

    #[test]
    fn empty_list_elements_are_skipped() {
        let t = trusted();
        assert_eq!(
            client_ip(ip(PROXY), &["198.51.100.4,, ,10.0.0.2,"], &[], &t),
            ip("198.51.100.4")
        );
        assert_eq!(
            client_ip(ip(PROXY), &[], &["for=198.51.100.4,,;,"], &t),
            ip("198.51.100.4")
        );
    }
}
