//! The two cookies of the access policy: reading them from `Cookie` headers and writing their
//! `Set-Cookie` lines.
//!
//! Both carry the `__Host-` prefix, so the browser only accepts them when they are `Secure`,
//! have `Path=/` and no `Domain`: no other site, subdomain or plain-HTTP page can set or
//! overwrite them. `HttpOnly` keeps them from scripts; `SameSite=Lax` keeps them off
//! cross-site sub-requests.

use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue};

/// Binds a pending one-time code to this browser (the `browser` key of the code store).
pub const PENDING: &str = "__Host-webconf-pending";
/// Holds the agent session id after a verified code.
pub const AGENT: &str = "__Host-webconf-agent";

/// Longest cookie value we look at; ours are 32 hex digits.
const MAX_VALUE: usize = 128;

/// The value of the first cookie called `name` in the request's `Cookie` headers, if any.
/// Values longer than 128 bytes are ignored: none of ours is.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim().trim_matches('"'))
        .filter(|v| !v.is_empty() && v.len() <= MAX_VALUE)
}

/// A `Set-Cookie` value that sets `name` to `value` for `max_age`. `value` must be a cookie
/// token (ours are hex).
pub fn set(name: &str, value: &str, max_age: Duration) -> HeaderValue {
    let line = format!(
        "{name}={value}; Max-Age={}; Path=/; Secure; HttpOnly; SameSite=Lax",
        max_age.as_secs()
    );
    // Our names and hex values are visible ASCII; fall back to clearing if ever not.
    HeaderValue::from_str(&line).unwrap_or_else(|_| clear(name))
}

/// A `Set-Cookie` value that deletes `name` (`Max-Age=0`).
pub fn clear(name: &str) -> HeaderValue {
    let line = format!("{name}=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax");
    HeaderValue::from_str(&line).unwrap_or(HeaderValue::from_static("x=; Max-Age=0"))
}

/// True when `value` looks like one of our random ids: 32 lower-case hex digits (128 bits).
pub fn is_token(value: &str) -> bool {
    value.len() == 32
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookies: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for c in cookies {
            h.append(header::COOKIE, HeaderValue::from_str(c).unwrap());
        }
        h
    }

    #[test]
    fn finds_the_named_cookie_among_others() {
        let h = headers(&[
            "a=1; __Host-webconf-agent=abc; b=2",
            "__Host-webconf-pending=def",
        ]);
        assert_eq!(get(&h, AGENT), Some("abc"));
        assert_eq!(get(&h, PENDING), Some("def"));
        assert_eq!(get(&h, "b"), Some("2"));
        assert_eq!(get(&h, "c"), None);
        assert_eq!(get(&headers(&[]), AGENT), None);
    }

    #[test]
    fn exact_names_only_and_first_wins() {
        let h = headers(&["webconf-agent=x; __Host-webconf-agentx=y; __host-webconf-agent=z"]);
        assert_eq!(get(&h, AGENT), None);
        let h = headers(&["__Host-webconf-agent=first; __Host-webconf-agent=second"]);
        assert_eq!(get(&h, AGENT), Some("first"));
    }

    #[test]
    fn odd_values_are_tolerated_or_ignored() {
        assert_eq!(
            get(&headers(&["__Host-webconf-agent=\"q\""]), AGENT),
            Some("q")
        );
        assert_eq!(get(&headers(&["__Host-webconf-agent="]), AGENT), None);
        assert_eq!(get(&headers(&["__Host-webconf-agent"]), AGENT), None);
        assert_eq!(get(&headers(&[";;; = ;"]), AGENT), None);
        let long = format!("__Host-webconf-agent={}", "a".repeat(200));
        assert_eq!(get(&headers(&[&long]), AGENT), None);
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_bytes(b"__Host-webconf-agent=\xff").unwrap(),
        );
        assert_eq!(get(&h, AGENT), None, "non-UTF-8 header is skipped");
    }

    #[test]
    fn set_cookie_lines_have_every_attribute() {
        let v = set(
            AGENT,
            "0123456789abcdef0123456789abcdef",
            Duration::from_secs(43200),
        );
        assert_eq!(
            v.to_str().unwrap(),
            "__Host-webconf-agent=0123456789abcdef0123456789abcdef; Max-Age=43200; Path=/; Secure; HttpOnly; SameSite=Lax"
        );
        assert_eq!(
            clear(PENDING).to_str().unwrap(),
            "__Host-webconf-pending=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn tokens_are_32_hex_digits() {
        assert!(is_token("0123456789abcdef0123456789abcdef"));
        assert!(!is_token("0123456789ABCDEF0123456789abcdef"));
        assert!(!is_token("0123456789abcdef"));
        assert!(!is_token("0123456789abcdef0123456789abcdeg"));
    }
}
