//! One-time e-mail codes: issued to a browser for an address, checked once, in constant time.
//!
//! # What is stored
//! A random HMAC-SHA256 key is drawn when the store is created (never leaves it, not even in
//! `Debug`); a pending code is kept only as `HMAC-SHA256(key, browser || code)`, next to its
//! address, issue instant and count of wrong tries. The code in clear exists only in the value
//! [`CodeStore::issue`] returns, for the mail. `browser || code` is unambiguous because a code
//! always has exactly `digits` digits (anything else is refused before the HMAC is computed).
//!
//! # Limits
//! Issuing is rate-limited per address and per client address (IPv6 by `/64`, see
//! [`crate::ratelimit::ip_key`]); each code allows `max_attempts` wrong tries; at most
//! [`MAX_PENDING_CODES`] codes are pending at once (when full, expired ones go first, then the
//! oldest).

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use aws_lc_rs::{constant_time, hmac};

use crate::email::EmailAddress;
use crate::ratelimit::{ip_key, RateLimiter};
use crate::token;

/// Most pending codes (and most keys per rate limiter) held at once.
pub const MAX_PENDING_CODES: usize = 100_000;
/// Fewest digits a code may have; a policy asking for fewer gets this many.
pub const MIN_DIGITS: u32 = 6;
/// Most digits a code may have; a policy asking for more gets this many.
pub const MAX_DIGITS: u32 = 12;

/// How codes are made and limited. Built from the configuration; [`Default`] is the policy of
/// `docs/access-policy.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodePolicy {
    /// How long a code stays valid from its issue (`expires_in` of `POST /api/auth/code`).
    pub ttl: Duration,
    /// Wrong tries that kill a code.
    pub max_attempts: u32,
    /// Length of a code, in decimal digits ([`MIN_DIGITS`]..=[`MAX_DIGITS`]).
    pub digits: u32,
    /// At most this many codes per this window for one e-mail address (mail bombing).
    pub per_email: (u32, Duration),
    /// At most this many codes per this window from one client address (enumeration, spam).
    pub per_ip: (u32, Duration),
}

impl Default for CodePolicy {
    /// 10 minutes, 5 attempts, 6 digits, 5 per hour per e-mail, 20 per hour per client address.
    fn default() -> Self {
        const HOUR: Duration = Duration::from_secs(3600);
        CodePolicy {
            ttl: Duration::from_secs(600),
            max_attempts: 5,
            digits: 6,
            per_email: (5, HOUR),
            per_ip: (20, HOUR),
        }
    }
}

/// Why no code was issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IssueError {
    /// Too many codes for this address or from this client address (`rate_limited`, 429).
    #[error("too many code requests; retry after {} s", retry_after.as_secs())]
    RateLimited {
        /// When a new request can succeed (round up to whole seconds for `retry_after`).
        retry_after: Duration,
    },
}

/// Why a typed code was not accepted. After `TooManyAttempts` or `Expired` the pending code is
/// removed (a later verify gives `NoCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// No code is pending for this browser: never asked, already used, or removed (`no_code`).
    #[error("no code is pending for this browser")]
    NoCode,
    /// The code is older than its validity (`expired`); it has been removed.
    #[error("the code has expired")]
    Expired,
    /// The code is wrong (`wrong_code`); `remaining` tries are left (at least 1).
    #[error("wrong code; {remaining} tries left")]
    Wrong {
        /// Wrong tries still allowed before the code dies.
        remaining: u32,
    },
    /// This was the last allowed wrong try: the code is dead and removed (`too_many_attempts`).
    #[error("too many wrong codes; ask for a new one")]
    TooManyAttempts,
}

/// A code waiting to be typed.
struct Pending {
    /// `HMAC-SHA256(key, browser || code)`.
    tag: hmac::Tag,
    /// Where the code was sent: what a right code proves.
    email: EmailAddress,
    /// When it was issued; valid while `now < issued + ttl`.
    issued: Instant,
    /// Wrong tries so far (always below `max_attempts`: the code is removed on reaching it).
    failures: u32,
}

/// The pending codes, one per browser at most, and the limits on issuing them.
pub struct CodeStore {
    /// The policy, with `digits` and `max_attempts` clamped.
    policy: CodePolicy,
    /// Random HMAC-SHA256 key, made by [`CodeStore::new`], never exported.
    key: hmac::Key,
    /// By browser (the `__Host-webconf-pending` cookie value), ordered by issue instant.
    pending: crate::ordered::OrderedMap<String, Pending>,
    /// Codes issued per address.
    per_email: RateLimiter<EmailAddress>,
    /// Codes issued per client address ([`ip_key`]).
    per_ip: RateLimiter<IpAddr>,
}

impl CodeStore {
    /// A store with a fresh random HMAC key. `policy.digits` is clamped to
    /// [`MIN_DIGITS`]..=[`MAX_DIGITS`] and `policy.max_attempts` to at least 1.
    pub fn new(policy: CodePolicy) -> CodeStore {
        let digits = policy.digits.clamp(MIN_DIGITS, MAX_DIGITS);
        if digits != policy.digits {
            tracing::warn!(
                asked = policy.digits,
                used = digits,
                "code length out of bounds, clamped"
            );
        }
        let policy = CodePolicy {
            digits,
            max_attempts: policy.max_attempts.max(1),
            ..policy
        };
        let mut key = [0u8; 32];
        token::fill(&mut key);
        CodeStore {
            policy,
            key: hmac::Key::new(hmac::HMAC_SHA256, &key),
            pending: crate::ordered::OrderedMap::new(),
            per_email: RateLimiter::new(policy.per_email.0, policy.per_email.1, MAX_PENDING_CODES),
            per_ip: RateLimiter::new(policy.per_ip.0, policy.per_ip.1, MAX_PENDING_CODES),
        }
    }

    /// Issues a fresh code for this browser (replacing any pending one), after the rate limits
    /// (per e-mail and per client address; a request refused by either is counted by neither).
    /// Returns the code text (zero-padded digits from the OS generator, uniform: no modulo
    /// bias) to be mailed — never stored in clear, never logged.
    ///
    /// `browser` must be a value the server generated ([`crate::token::random_hex`]) and set as
    /// the pending cookie; `ip` the client address ([`crate::zones::client_ip`]).
    pub fn issue(
        &mut self,
        now: Instant,
        browser: &str,
        email: EmailAddress,
        ip: IpAddr,
    ) -> Result<String, IssueError> {
        let ip = ip_key(ip);
        let by_email = self.per_email.peek(now, &email);
        let by_ip = self.per_ip.peek(now, &ip);
        if by_email.is_err() || by_ip.is_err() {
            tracing::info!(
                per_email = by_email.is_err(),
                per_ip = by_ip.is_err(),
                "code request rate-limited"
            );
            let retry_after = by_email.err().max(by_ip.err()).unwrap_or_default();
            return Err(IssueError::RateLimited { retry_after });
        }
        self.per_email.record(now, &email);
        self.per_ip.record(now, &ip);

        if self.pending.get(browser).is_none() && self.pending.len() >= MAX_PENDING_CODES {
            self.purge_pending(now);
            let evicted = self.pending.make_room(MAX_PENDING_CODES);
            if evicted > 0 {
                tracing::warn!(evicted, "pending code store full: oldest codes dropped");
            }
        }
        let code = random_digits(self.policy.digits);
        let tag = self.tag(browser, &code);
        self.pending.insert(
            browser.to_owned(),
            Pending {
                tag,
                email,
                issued: now,
                failures: 0,
            },
            now,
        );
        Ok(code)
    }

    /// Checks a code typed in the browser that asked for it. Single use: success removes it and
    /// returns the address it was sent to. A wrong code counts an attempt; after `max_attempts`
    /// wrong ones the code is dead. Non-digit input or a wrong length counts as wrong. The
    /// comparison is constant-time. A code is valid while `now < issued + ttl`.
    pub fn verify(
        &mut self,
        now: Instant,
        browser: &str,
        code: &str,
    ) -> Result<EmailAddress, VerifyError> {
        let ttl = self.policy.ttl;
        let Some(pending) = self.pending.get(browser) else {
            return Err(VerifyError::NoCode);
        };
        if now.saturating_duration_since(pending.issued) >= ttl {
            self.pending.remove(browser);
            return Err(VerifyError::Expired);
        }
        let well_formed =
            code.len() == self.policy.digits as usize && code.bytes().all(|b| b.is_ascii_digit());
        if well_formed {
            let tag = self.tag(browser, code);
            if constant_time::verify_slices_are_equal(tag.as_ref(), pending.tag.as_ref()).is_ok() {
                return match self.pending.remove(browser) {
                    Some(p) => Ok(p.email),
                    None => Err(VerifyError::NoCode), // unreachable: looked up above
                };
            }
        }
        let max = self.policy.max_attempts;
        let Some(pending) = self.pending.get_mut(browser) else {
            return Err(VerifyError::NoCode);
        };
        pending.failures = pending.failures.saturating_add(1);
        if pending.failures >= max {
            self.pending.remove(browser);
            tracing::info!("code killed after too many wrong tries");
            return Err(VerifyError::TooManyAttempts);
        }
        Err(VerifyError::Wrong {
            remaining: max.saturating_sub(pending.failures),
        })
    }

    /// Drops expired codes and idle rate-limit keys. Call it periodically (every minute or so);
    /// [`Self::verify`] is correct without it.
    pub fn purge(&mut self, now: Instant) {
        self.purge_pending(now);
        self.per_email.purge(now);
        self.per_ip.purge(now);
    }

    fn purge_pending(&mut self, now: Instant) {
        let ttl = self.policy.ttl;
        self.pending
            .pop_while(|issued| now.saturating_duration_since(issued) >= ttl);
    }

    fn tag(&self, browser: &str, code: &str) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(browser.as_bytes());
        ctx.update(code.as_bytes());
        ctx.sign()
    }
}

impl fmt::Debug for CodeStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeStore")
            .field("policy", &self.policy)
            .field("pending", &self.pending.len())
            .field("per_email", &self.per_email)
            .field("per_ip", &self.per_ip)
            .finish_non_exhaustive()
    }
}

/// `digits` uniform decimal digits from the OS generator. Each digit comes from one random byte
/// below 250 (= 25 × 10), bytes from 250 up are thrown away: no modulo bias.
fn random_digits(digits: u32) -> String {
    let want = digits as usize;
    let mut code = String::with_capacity(want);
    let mut buf = [0u8; 32];
    while code.len() < want {
        token::fill(&mut buf);
        for &b in &buf {
            if code.len() == want {
                break;
            }
            if b < 250 {
                code.push(char::from(b'0' + b % 10));
            }
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);
    const B1: &str = "0123456789abcdef0123456789abcdef";
    const B2: &str = "fedcba9876543210fedcba9876543210";

    fn email(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// A code of the right shape that is not `code`.
    fn other(code: &str) -> String {
        code.bytes()
            .map(|b| char::from(b'0' + (b - b'0' + 1) % 10))
            .collect()
    }

    fn store() -> CodeStore {
        CodeStore::new(CodePolicy::default())
    }

    #[test]
    fn default_policy_is_the_documented_one() {
        let p = CodePolicy::default();
        assert_eq!(p.ttl, secs(600));
        assert_eq!(p.max_attempts, 5);
        assert_eq!(p.digits, 6);
        assert_eq!(p.per_email, (5, HOUR));
        assert_eq!(p.per_ip, (20, HOUR));
    }

    #[test]
    fn right_code_succeeds_once() {
        let t0 = Instant::now();
        let mut s = store();
        let code = s
            .issue(t0, B1, email("a@gouv.fr"), ip("192.0.2.1"))
            .unwrap();
        assert_eq!(s.verify(t0 + secs(30), B1, &code), Ok(email("a@gouv.fr")));
        assert_eq!(s.verify(t0 + secs(31), B1, &code), Err(VerifyError::NoCode));
    }

    #[test]
    fn wrong_then_right() {
        let t0 = Instant::now();
        let mut s = store();
        let code = s
            .issue(t0, B1, email("a@gouv.fr"), ip("192.0.2.1"))
            .unwrap();
        assert_eq!(
            s.verify(t0, B1, &other(&code)),
            Err(VerifyError::Wrong { remaining: 4 })
        );
        assert_eq!(s.verify(t0, B1, &code), Ok(email("a@gouv.fr")));
    }

    #[test]
    fn remaining_counts_down_and_the_fifth_wrong_kills_the_code() {
        let t0 = Instant::now();
        let mut s = store();
        let code = s
            .issue(t0, B1, email("a@gouv.fr"), ip("192.0.2.1"))
            .unwrap();
        let wrong = other(&code);
        for remaining in [4, 3, 2, 1] {
            assert_eq!(
                s.verify(t0, B1, &wrong),
                Err(VerifyError::Wrong { remaining })
            );
        }
        assert_eq!(s.verify(t0, B1, &wrong), Err(VerifyError::TooManyAttempts));
        // Dead: even the right code finds nothing now.
        assert_eq!(s.verify(t0, B1, &code), Err(VerifyError::NoCode));
    }

    #[test]
    fn malformed_input_counts_as_wrong() {
        let t0 = Instant::now();
        let mut s = store();
        let code = s
            .issue(t0, B1, email("a@gouv.fr"), ip("192.0.2.1"))
            .unwrap();
        let padded = format!(" {code}");
        let longer = format!("{code}0");
        let bad = [
            "",
            &code[..5],
            longer.as_str(),
            padded.as_str(),
            "abcdef",
            "١٢٣٤٥٦",
        ];
        let mut remaining = 5;
        for b in bad.iter().take(4) {
            remaining -= 1;
            assert_eq!(
                s.verify(t0, B1, b),
                Err(VerifyError::Wrong { remaining }),
                "{b:?}"
            );
        }
        assert_eq!(
            s.verify(t0, B1, "abcdef"),
            Err(VerifyError::TooManyAttempts)
        );
        let code = s
            .issue(t0, B1, email("a@gouv.fr"), ip("192.0.2.1"))
            .unwrap();
        assert_eq!(
            s.verify(t0, B1, "١٢٣٤٥٦"),
            Err(VerifyError::Wrong { remaining: 4 })
        );
        assert_eq!(s.verify(t0, B1, &code), Ok(email("a@gouv.fr")));
    }

    #[test]
    fn expires_at_exactly_ttl() {
        let t0 = Instant::now();
        let mut s = store();
        let code = s
            .issue(t0, B1, email("a@gouv.fr"), ip("192.0.2.1"))
            .unwrap();
        assert_eq!(
            s.verify(t0 + secs(600), B1, &code),
            Err(VerifyError::Expired)
        );
        assert_eq!(
            s.verify(t0 + secs(600), B1, &code),
            Err(VerifyError::NoCode)
        );

        let code = s
            .issue(t0, B2, email("a@gouv.fr"), ip("192.0.2.1"))
            .unwrap();
        let just_before = t0 + secs(600) - Duration::from_nanos(1);
        assert_eq!(s.verify(just_before, B2, &code), Ok(email("a@gouv.fr")));
    }

    #[test]
    fn expired_wins_over_a_wrong_code() {
        let t0 = Instant::now();
        let mut s = store();
        let code = s
            .issue(t0, B1, email("a@gouv.fr"), ip("192.0.2.1"))
            .unwrap();
        assert_eq!(
            s.verify(t0 + HOUR, B1, &other(&code)),
            Err(VerifyError::Expired)
        );
    }

    #[test]
    fn bound_to_the_browser() {
        let t0 = Instant::now();
        let mut s = store();
        let code = s
            .issue(t0, B1, email("a@gouv.fr"), ip("192.0.2.1"))
            .unwrap();
        assert_eq!(s.verify(t0, B2, &code), Err(VerifyError::NoCode));
        assert_eq!(s.verify(t0, "", &code), Err(VerifyError::NoCode));
        // The other browser's try did not cost the owner an attempt.
        assert_eq!(
            s.verify(t0, B1, &other(&code)),
            Err(VerifyError::Wrong { remaining: 4 })
        );
        assert_eq!(s.verify(t0, B1, &code), Ok(email("a@gouv.fr")));
    }

    #[test]
    fn a_new_code_replaces_the_pending_one_and_resets_attempts() {
        let t0 = Instant::now();
        let mut s = store();
        let first = s
            .issue(t0, B1, email("a@gouv.fr"), ip("192.0.2.1"))
            .unwrap();
        assert!(matches!(
            s.verify(t0, B1, &other(&first)),
            Err(VerifyError::Wrong { .. })
        ));
        let second = s
            .issue(t0 + secs(1), B1, email("b@gouv.fr"), ip("192.0.2.1"))
            .unwrap();
        if first != second {
            assert_eq!(
                s.verify(t0 + secs(2), B1, &first),
                Err(VerifyError::Wrong { remaining: 4 })
            );
        }
        assert_eq!(s.verify(t0 + secs(2), B1, &second), Ok(email("b@gouv.fr")));
    }

    #[test]
    fn per_email_limit_with_retry_after() {
        let t0 = Instant::now();
        let mut s = store();
        for i in 0..5u64 {
            let from = IpAddr::from([192, 0, 2, i as u8]);
            assert!(s
                .issue(t0 + secs(60 * i), B1, email("a@gouv.fr"), from)
                .is_ok());
        }
        // Case and spaces do not make another address.
        let again = s.issue(t0 + secs(600), B1, email(" A@Gouv.FR"), ip("198.51.100.1"));
        assert_eq!(
            again,
            Err(IssueError::RateLimited {
                retry_after: secs(3000)
            })
        );
        // Other addresses are not affected.
        assert!(s
            .issue(t0 + secs(600), B1, email("b@gouv.fr"), ip("198.51.100.1"))
            .is_ok());
        // One hour after the first, one more is allowed.
        assert!(s
            .issue(t0 + HOUR, B1, email("a@gouv.fr"), ip("198.51.100.1"))
            .is_ok());
        assert_eq!(
            s.issue(t0 + HOUR, B1, email("a@gouv.fr"), ip("198.51.100.1")),
            Err(IssueError::RateLimited {
                retry_after: secs(60)
            })
        );
    }

    #[test]
    fn per_ip_limit_with_retry_after() {
        let t0 = Instant::now();
        let mut s = store();
        for i in 0..20u64 {
            let e = email(&format!("agent{i}@gouv.fr"));
            assert!(
                s.issue(t0 + secs(i), B1, e, ip("203.0.113.9")).is_ok(),
                "{i}"
            );
        }
        let r = s.issue(t0 + secs(100), B1, email("new@gouv.fr"), ip("203.0.113.9"));
        assert_eq!(
            r,
            Err(IssueError::RateLimited {
                retry_after: HOUR - secs(100)
            })
        );
        // The same client through an IPv4-mapped address is the same client.
        let r = s.issue(
            t0 + secs(100),
            B1,
            email("new@gouv.fr"),
            ip("::ffff:203.0.113.9"),
        );
        assert!(r.is_err());
        // The refused requests were not counted for new@gouv.fr: 5 are still allowed elsewhere.
        for i in 0..5u8 {
            let from = IpAddr::from([198, 51, 100, i]);
            assert!(
                s.issue(t0 + secs(101), B2, email("new@gouv.fr"), from)
                    .is_ok(),
                "{i}"
            );
        }
    }

    #[test]
    fn per_ip_limit_groups_an_ipv6_slash_64() {
        let t0 = Instant::now();
        let mut s = store();
        for i in 0..20u16 {
            let from = IpAddr::from([0x2001, 0xdb8, 0, 1, i, 0, 0, 1]);
            assert!(s
                .issue(t0, B1, email(&format!("a{i}@gouv.fr")), from)
                .is_ok());
        }
        assert!(s
            .issue(t0, B1, email("z@gouv.fr"), ip("2001:db8:0:1:ffff::"))
            .is_err());
        assert!(s
            .issue(t0, B1, email("z@gouv.fr"), ip("2001:db8:0:2::1"))
            .is_ok());
    }

    #[test]
    fn both_limits_refusing_gives_the_later_retry() {
        let t0 = Instant::now();
        let policy = CodePolicy {
            per_email: (1, secs(100)),
            per_ip: (1, secs(1000)),
            ..CodePolicy::default()
        };
        let mut s = CodeStore::new(policy);
        s.issue(t0, B1, email("a@gouv.fr"), ip("192.0.2.1"))
            .unwrap();
        let r = s.issue(t0 + secs(10), B1, email("a@gouv.fr"), ip("192.0.2.1"));
        assert_eq!(
            r,
            Err(IssueError::RateLimited {
                retry_after: secs(990)
            })
        );
    }

    #[test]
    fn codes_have_the_right_length_and_vary() {
        let t0 = Instant::now();
        let mut s = CodeStore::new(CodePolicy {
            per_email: (1000, HOUR),
            per_ip: (1000, HOUR),
            ..CodePolicy::default()
        });
        let codes: Vec<String> = (0..50)
            .map(|_| {
                s.issue(t0, B1, email("a@gouv.fr"), ip("192.0.2.1"))
                    .unwrap()
            })
            .collect();
        for c in &codes {
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()), "{c}");
        }
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert!(distinct.len() > 40, "{}", distinct.len());

        for (asked, got) in [(8, 8), (2, MIN_DIGITS), (40, MAX_DIGITS)] {
            let mut s = CodeStore::new(CodePolicy {
                digits: asked,
                ..CodePolicy::default()
            });
            let code = s
                .issue(t0, B1, email("a@gouv.fr"), ip("192.0.2.1"))
                .unwrap();
            assert_eq!(code.len(), got as usize);
            assert_eq!(s.verify(t0, B1, &code), Ok(email("a@gouv.fr")));
        }
    }

    #[test]
    fn digits_are_uniform() {
        let mut counts = [0u32; 10];
        for _ in 0..2000 {
            for b in random_digits(10).bytes() {
                counts[usize::from(b - b'0')] += 1;
            }
        }
        // 20 000 digits: 2 000 expected each, standard deviation ~42.
        assert!(
            counts.iter().all(|&c| (1700..=2300).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn one_attempt_policy() {
        let t0 = Instant::now();
        let mut s = CodeStore::new(CodePolicy {
            max_attempts: 0,
            ..CodePolicy::default()
        });
        let code = s
            .issue(t0, B1, email("a@gouv.fr"), ip("192.0.2.1"))
            .unwrap();
        assert_eq!(
            s.verify(t0, B1, &other(&code)),
            Err(VerifyError::TooManyAttempts)
        );
    }

    #[test]
    fn purge_drops_expired_codes() {
        let t0 = Instant::now();
        let mut s = store();
        s.issue(t0, B1, email("a@gouv.fr"), ip("192.0.2.1"))
            .unwrap();
        let code = s
            .issue(t0 + secs(300), B2, email("b@gouv.fr"), ip("192.0.2.1"))
            .unwrap();
        s.purge(t0 + secs(600));
        assert_eq!(s.pending.len(), 1);
        assert_eq!(s.verify(t0 + secs(600), B2, &code), Ok(email("b@gouv.fr")));
        s.purge(t0 + 2 * HOUR);
        assert_eq!(s.pending.len(), 0);
    }

    #[test]
    fn only_the_hmac_is_stored() {
        let t0 = Instant::now();
        let mut s = store();
        let code = s
            .issue(t0, B1, email("a@gouv.fr"), ip("192.0.2.1"))
            .unwrap();
        let p = s.pending.get(B1).unwrap();
        let expected = hmac::sign(&s.key, format!("{B1}{code}").as_bytes());
        assert_eq!(p.tag.as_ref(), expected.as_ref());
    }

    #[test]
    fn debug_shows_no_secret() {
        let t0 = Instant::now();
        // 12 digits, so the code cannot show up by chance among the numbers printed.
        let mut s = CodeStore::new(CodePolicy {
            digits: 12,
            ..CodePolicy::default()
        });
        let code = s
            .issue(t0, B1, email("secret.person@gouv.fr"), ip("192.0.2.1"))
            .unwrap();
        let out = format!(
            "{s:?} {:?} {:?}",
            IssueError::RateLimited {
                retry_after: secs(1)
            },
            VerifyError::Wrong { remaining: 1 }
        );
        assert!(!out.contains(&code), "{out}");
        assert!(!out.contains("secret"), "{out}");
        assert!(!out.contains(B1), "{out}");
        assert!(!out.contains("192.0.2.1"), "{out}");
        assert!(!out.contains("key:") && !out.contains("Key"), "{out}");
    }
}
