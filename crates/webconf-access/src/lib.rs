//! Access policy of webconf, without I/O: who is an agent (`docs/access-policy.md`).
//!
//! - [`zones`]: network zones ([`Zones`], [`Zone`]) and the client address behind trusted
//!   proxies ([`client_ip`], [`TrustedProxies`]).
//! - [`email`]: professional addresses ([`EmailAddress`]) and the domain allow-list
//!   ([`DomainAllowList`]).
//! - [`codes`]: one-time e-mail codes ([`CodeStore`], [`CodePolicy`]).
//! - [`sessions`]: agent sessions kept on the server ([`AgentSessions`], [`SessionId`]).
//! - [`ratelimit`]: a keyed, memory-bounded sliding-window rate limiter ([`RateLimiter`]).
//! - [`token`]: random hex tokens from the OS generator ([`random_hex`]).
//!
//! # Invariants
//! - Nothing here reads the clock, touches the network or spawns: every call that depends on
//!   time takes `now: Instant`, so tests drive it with a fake clock (`t0 + Duration`).
//! - One crypto library, aws-lc (through `aws-lc-rs`), for randomness, HMAC-SHA256, SHA-256 and
//!   constant-time comparison.
//! - Codes are never stored in clear (only `HMAC-SHA256(key, browser || code)` under a random
//!   key made at start-up), are compared in constant time, and die after a use, their validity,
//!   or `max_attempts` wrong tries.
//! - Every store is bounded: rate limiters by `max_keys`, pending codes by
//!   [`codes::MAX_PENDING_CODES`], sessions by `max_sessions`; each has a `purge(now)` to call
//!   periodically.
//!
//! # Nothing personal in logs
//! The service's rule: e-mail addresses, codes and passwords are never logged. So the `Debug`
//! output of every type that holds a secret or personal data is written by hand and redacted:
//! [`EmailAddress`] prints `EmailAddress(<redacted>)`, [`SessionId`] `SessionId(<redacted>)`,
//! [`CodeStore`], [`AgentSessions`] and [`RateLimiter`] print their settings and sizes only (no
//! key, code, address, id or client address). [`EmailAddress`] and [`SessionId`] have no
//! `Display`: the raw text is reached only through an explicit `as_str()`. Error messages never
//! repeat the input. The crate's own `tracing` events carry counts and reasons, never an
//! address, a code, an id or a client address.

pub mod codes;
pub mod email;
mod forwarded;
mod ordered;
pub mod ratelimit;
pub mod sessions;
pub mod token;
pub mod zones;

pub use codes::{CodePolicy, CodeStore, IssueError, VerifyError};
pub use email::{DomainAllowList, EmailAddress, EmailError};
pub use ratelimit::RateLimiter;
pub use sessions::{AgentSession, AgentSessions, SessionId};
pub use token::random_hex;
pub use zones::{client_ip, TrustedProxies, Zone, ZoneRule, Zones};
