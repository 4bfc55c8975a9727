//! Agent sessions, kept on the server: the `__Host-webconf-agent` cookie holds only the id.
//!
//! The store is keyed by the SHA-256 of the id, not the id itself: a memory dump does not hand
//! out live cookies, and a lookup's timing says nothing about how much of a guessed id matched.

use std::fmt;
use std::time::{Duration, Instant};

use aws_lc_rs::digest;

use crate::email::EmailAddress;
use crate::ordered::OrderedMap;
use crate::token;

/// Bytes of randomness in a session id (128 bits).
const ID_BYTES: usize = 16;

/// Longest session accepted; a longer `ttl` is cut to this (a year: more would be a
/// misconfiguration, and it keeps `now + ttl` far from overflowing).
pub const MAX_SESSION_TTL: Duration = Duration::from_secs(366 * 24 * 3600);

/// An agent session id: 32 lower-case hex characters (128 random bits). `Debug` is redacted:
/// the id is a bearer secret.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SessionId(String);

impl SessionId {
    /// The id in a cookie value, if it has exactly the format [`AgentSessions::create`] makes:
    /// 32 characters of `[0-9a-f]`. Anything else (upper case, other length, other characters)
    /// is `None`: then the browser simply has no session.
    pub fn parse(s: &str) -> Option<SessionId> {
        let ok = s.len() == 2 * ID_BYTES
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| SessionId(s.to_owned()))
    }

    /// The id, to put in the cookie. Never log it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The store's key for this id.
    fn digest(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        let d = digest::digest(&digest::SHA256, self.0.as_bytes());
        for (o, b) in out.iter_mut().zip(d.as_ref()) {
            *o = *b;
        }
        out
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(<redacted>)")
    }
}

/// What the server knows of an agent session. `Debug` shows no address (see [`EmailAddress`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSession {
    /// The address the agent proved (shown back in `GET /api/session`).
    pub email: EmailAddress,
    /// When the session ends; [`AgentSessions::get`] gives `None` from this instant on.
    pub expires: Instant,
}

/// The live agent sessions, bounded in number: when `max_sessions` are live, creating one evicts
/// the one closest to expiry (its agent must prove the address again; the alternative, refusing
/// new sessions, would let whoever fills the store lock every other agent out).
pub struct AgentSessions {
    ttl: Duration,
    max_sessions: usize,
    /// By digest of the id, ordered by expiry.
    sessions: OrderedMap<[u8; 32], AgentSession>,
}

impl AgentSessions {
    /// Sessions that last `ttl` (at most [`MAX_SESSION_TTL`]) from their creation, at most
    /// `max_sessions` (at least 1) at once.
    pub fn new(ttl: Duration, max_sessions: usize) -> Self {
        AgentSessions {
            ttl: ttl.min(MAX_SESSION_TTL),
            max_sessions: max_sessions.max(1),
            sessions: OrderedMap::new(),
        }
    }

    /// Opens a session for `email` (after a verified code) and returns its fresh random id, for
    /// the cookie.
    pub fn create(&mut self, now: Instant, email: EmailAddress) -> SessionId {
        // Fail closed: if `now + ttl` cannot be represented the session is born expired.
        let expires = now.checked_add(self.ttl).unwrap_or(now);
        if self.sessions.len() >= self.max_sessions {
            self.purge(now);
            let evicted = self.sessions.make_room(self.max_sessions);
            if evicted > 0 {
                tracing::warn!(
                    evicted,
                    max = self.max_sessions,
                    "agent session store full: oldest sessions ended"
                );
            }
        }
        let id = SessionId(token::random_hex(ID_BYTES));
        self.sessions
            .insert(id.digest(), AgentSession { email, expires }, expires);
        id
    }

    /// The session `id`, unless it does not exist or has expired (`now >= expires`).
    pub fn get(&self, now: Instant, id: &SessionId) -> Option<&AgentSession> {
        self.sessions.get(&id.digest()).filter(|s| now < s.expires)
    }

    /// Ends the session `id` (logout); whether it existed.
    pub fn remove(&mut self, id: &SessionId) -> bool {
        self.sessions.remove(&id.digest()).is_some()
    }

    /// Drops expired sessions. Call it periodically; [`Self::get`] is correct without it.
    pub fn purge(&mut self, now: Instant) {
        self.sessions.pop_while(|expires| expires <= now);
    }

    /// How many sessions are held, expired ones not yet purged included.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.sessions.len() == 0
    }
}

impl fmt::Debug for AgentSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentSessions")
            .field("ttl", &self.ttl)
            .field("max_sessions", &self.max_sessions)
            .field("sessions", &self.sessions.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn email(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    #[test]
    fn create_get_expire() {
        let t0 = Instant::now();
        let mut s = AgentSessions::new(8 * HOUR, 100);
        let id = s.create(t0, email("a@gouv.fr"));
        assert_eq!(id.as_str().len(), 32);
        assert_eq!(SessionId::parse(id.as_str()), Some(id.clone()));
        let got = s.get(t0 + HOUR, &id).unwrap();
        assert_eq!(got.email, email("a@gouv.fr"));
        assert_eq!(got.expires, t0 + 8 * HOUR);
        assert!(s
            .get(t0 + 8 * HOUR - Duration::from_nanos(1), &id)
            .is_some());
        assert!(s.get(t0 + 8 * HOUR, &id).is_none());
        // Purge drops it only once expired.
        s.purge(t0 + 8 * HOUR - Duration::from_secs(1));
        assert!(s.get(t0, &id).is_some());
        s.purge(t0 + 8 * HOUR);
        assert!(s.get(t0, &id).is_none());
        assert_eq!(s.sessions.len(), 0);
    }

    #[test]
    fn ids_are_distinct_and_unknown_ids_find_nothing() {
        let t0 = Instant::now();
        let mut s = AgentSessions::new(HOUR, 100);
        let a = s.create(t0, email("a@gouv.fr"));
        let b = s.create(t0, email("a@gouv.fr"));
        assert_ne!(a, b);
        let other = SessionId::parse(&"0".repeat(32)).unwrap();
        assert!(s.get(t0, &other).is_none());
        assert!(!s.remove(&other));
    }

    #[test]
    fn remove_ends_the_session() {
        let t0 = Instant::now();
        let mut s = AgentSessions::new(HOUR, 100);
        let id = s.create(t0, email("a@gouv.fr"));
        assert!(s.remove(&id));
        assert!(s.get(t0, &id).is_none());
        assert!(!s.remove(&id));
    }

    #[test]
    fn bounded_evicting_the_oldest() {
        let t0 = Instant::now();
        let mut s = AgentSessions::new(HOUR, 2);
        let a = s.create(t0, email("a@gouv.fr"));
        let b = s.create(t0 + Duration::from_secs(1), email("b@gouv.fr"));
        let c = s.create(t0 + Duration::from_secs(2), email("c@gouv.fr"));
        assert!(s.get(t0 + Duration::from_secs(3), &a).is_none());
        assert!(s.get(t0 + Duration::from_secs(3), &b).is_some());
        assert!(s.get(t0 + Duration::from_secs(3), &c).is_some());
        assert_eq!(s.sessions.len(), 2);
    }

    #[test]
    fn ttl_is_capped() {
        let t0 = Instant::now();
        let mut s = AgentSessions::new(Duration::MAX, 10);
        let id = s.create(t0, email("a@gouv.fr"));
        assert_eq!(s.get(t0, &id).unwrap().expires, t0 + MAX_SESSION_TTL);
    }

    #[test]
    fn session_id_parse_is_exact() {
        assert!(SessionId::parse("0123456789abcdef0123456789abcdef").is_some());
        for bad in [
            "",
            "0123456789abcdef0123456789abcde",   // 31
            "0123456789abcdef0123456789abcdef0", // 33
            "0123456789ABCDEF0123456789abcdef",  // upper case
            "0123456789abcdef0123456789abcdeg",
            " 123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcde\n",
            "0123456789abcdef0123456789abcdé",
            "0x23456789abcdef0123456789abcdef",
        ] {
            assert!(SessionId::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn debug_shows_no_secret() {
        let t0 = Instant::now();
        let mut s = AgentSessions::new(HOUR, 10);
        let id = s.create(t0, email("secret.person@gouv.fr"));
        let session = s.get(t0, &id).unwrap().clone();
        let out = format!("{id:?} {session:?} {s:?}");
        assert!(!out.contains(id.as_str()), "{out}");
        assert!(!out.contains(&id.as_str()[..8]), "{out}");
        assert!(!out.contains("secret"), "{out}");
    }
}
