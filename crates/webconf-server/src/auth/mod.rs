//! Proving a professional e-mail address: the HTTP API of `docs/access-policy.md`
//! (`/api/session`, `/api/auth/code`, `/api/auth/verify`, `/api/auth/logout`) around the
//! sans-IO stores of `webconf-access`.
//!
//! - [`AuthState`]: everything the API and [`crate::identity::identify`] need, built once at
//!   start-up from the configuration and shared behind an `Arc` in [`crate::http::AppState`].
//! - [`routes`]: the axum routes.
//! - [`cookie`]: the `__Host-webconf-pending` and `__Host-webconf-agent` cookies.
//!
//! Invariants:
//! - Nothing personal or secret is logged: no e-mail address, code, session id, cookie or
//!   client address. Events say what happened ("agent session opened"), never to whom.
//! - Memory is bounded: the stores have hard caps, and expired codes, sessions and idle
//!   rate-limit keys are purged at most once a minute, on the requests that use them.
//! - The store lock is a plain mutex held for a few microseconds, never across an `.await`.

pub mod cookie;
mod error;
mod routes;

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use webconf_access::codes::{CodePolicy, CodeStore};
use webconf_access::email::{DomainAllowList, EmailAddress, EmailError};
use webconf_access::sessions::{AgentSessions, SessionId};
use webconf_access::zones::{TrustedProxies, Zones};

use crate::config::{Config, ProxyHeader, TlsMode};
use crate::mail::{MailSetupError, Mailer};

pub use error::ApiError;
pub use routes::routes;

/// Most agent sessions held at once; beyond it the one closest to expiry is ended.
pub const MAX_SESSIONS: usize = 100_000;
/// Largest request body accepted by the API.
pub const MAX_BODY: usize = 4096;
/// How often expired codes, sessions and rate-limit keys are dropped: on requests, and by the
/// task of [`spawn_purge`] when none comes.
pub const PURGE_EVERY: Duration = Duration::from_secs(60);
/// After the SMTP relay could not be reached, code requests are answered `mail_failed` at
/// once, without trying and without counting against any limit, for this long.
pub const RELAY_DOWN_PAUSE: Duration = Duration::from_secs(10);

/// Why [`AuthState::new`] failed. Names the configuration key at fault.
#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    /// The mailer could not be built (password or CA file, TLS).
    #[error(transparent)]
    Mail(#[from] MailSetupError),
    /// `access.agent_domains` holds an entry that is not a domain.
    #[error("access.agent_domains: {0}")]
    Domains(EmailError),
}

/// The access policy's state: zones, proxies, the allow-list, the pending codes and agent
/// sessions, the mailer. One per server, shared by every request.
pub struct AuthState {
    /// The configured network zones.
    pub(crate) zones: Zones,
    /// Proxies whose forwarding header is believed.
    pub(crate) trusted_proxies: TrustedProxies,
    /// Which forwarding header they write.
    pub(crate) proxy_header: ProxyHeader,
    /// Domains whose addresses may receive a code.
    domains: DomainAllowList,
    /// Mails the codes.
    mailer: Mailer,
    /// Validity of a code (`expires_in`, the pending cookie's `Max-Age`).
    code_ttl: Duration,
    /// Lifetime of an agent session (the agent cookie's `Max-Age`).
    session_ttl: Duration,
    stores: Mutex<Stores>,
}

/// Everything that changes, under one lock: one request touches at most two of these, briefly.
struct Stores {
    codes: CodeStore,
    sessions: AgentSessions,
    /// When the next purge is due.
    next_purge: Instant,
    /// Code requests get `mail_failed` without trying until then (see [`RELAY_DOWN_PAUSE`]).
    relay_down_until: Option<Instant>,
}

impl AuthState {
    /// Builds the state from a validated configuration: zones, proxies, allow-list, stores
    /// (with a fresh random key for the codes) and the mailer (reads the SMTP password and CA
    /// files). Call once at start-up.
    pub fn new(config: &Config) -> Result<AuthState, AuthSetupError> {
        let access = &config.access;
        let hour = Duration::from_secs(3600);
        let policy = CodePolicy {
            ttl: access.code_ttl(),
            max_attempts: access.code_max_attempts,
            per_email: (access.code_requests_per_email_per_hour, hour),
            per_ip: (access.code_requests_per_ip_per_hour, hour),
            ..CodePolicy::default()
        };
        if config.http.tls == TlsMode::Off && access.trusted_proxies.is_empty() {
            tracing::warn!(
                "http.tls = \"off\" but access.trusted_proxies is empty: if a reverse proxy is in \
                 front, every client has the proxy's address and so its zone (loopback is an \
                 agents zone by default: anyone could open rooms). List the proxy's address in \
                 access.trusted_proxies."
            );
        }
        Ok(AuthState {
            zones: Zones::new(access.zone_rules()),
            trusted_proxies: TrustedProxies::new(access.trusted_proxy_ranges()),
            proxy_header: access.proxy_header,
            domains: DomainAllowList::new(&access.agent_domains)
                .map_err(AuthSetupError::Domains)?,
            mailer: Mailer::new(config)?,
            code_ttl: access.code_ttl(),
            session_ttl: access.session_ttl(),
            stores: Mutex::new(Stores {
                codes: CodeStore::new(policy),
                sessions: AgentSessions::new(access.session_ttl(), MAX_SESSIONS),
                next_purge: Instant::now() + PURGE_EVERY,
                relay_down_until: None,
            }),
        })
    }

    /// The mailer, for other mails (invitations).
    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    /// The address of the live agent session `id`, if any.
    pub fn session_email(&self, now: Instant, id: &SessionId) -> Option<EmailAddress> {
        self.stores(now)
            .sessions
            .get(now, id)
            .map(|s| s.email.clone())
    }

    /// Opens an agent session as a verified code would (tests of code that reads sessions).
    #[cfg(test)]
    pub(crate) fn open_session(&self, now: Instant, email: EmailAddress) -> SessionId {
        self.stores(now).sessions.create(now, email)
    }

    /// Drops expired codes, sessions and rate-limit keys now. Requests already do it once a
    /// minute; [`spawn_purge`] does it when none comes.
    pub fn purge(&self, now: Instant) {
        let mut stores = self.lock();
        stores.purge(now);
    }

    /// How many agent sessions are held (expired ones not yet purged included).
    #[cfg(test)]
    pub(crate) fn sessions_held(&self) -> usize {
        self.lock().sessions.len()
    }

    /// The stores, purged first when a purge is due.
    fn stores(&self, now: Instant) -> MutexGuard<'_, Stores> {
        let mut stores = self.lock();
        if now >= stores.next_purge {
            stores.purge(now);
        }
        stores
    }

    /// A panic while the lock was held cannot leave the stores inconsistent in a way that
    /// matters more than refusing every request, so a poisoned lock is used as is.
    fn lock(&self) -> MutexGuard<'_, Stores> {
        self.stores.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Stores {
    fn purge(&mut self, now: Instant) {
        self.codes.purge(now);
        self.sessions.purge(now);
        self.next_purge = now + PURGE_EVERY;
    }
}

/// Purges `auth` every `every`, for as long as the runtime runs: an e-mail address (in a
/// pending code or an agent session) is then kept at most `every` past its validity even when
/// no request comes to trigger the purge.
pub fn spawn_purge(
    auth: std::sync::Arc<AuthState>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            auth.purge(Instant::now());
        }
    })
}

impl std::fmt::Debug for AuthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthState")
            .field("zones", &self.zones)
            .field("code_ttl", &self.code_ttl)
            .field("session_ttl", &self.session_ttl)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn the_purge_task_drops_expired_sessions_without_any_request() {
        let mut config = Config::default();
        config.mail.outbox_dir = std::env::temp_dir().join("webconf-auth-purge-tests");
        config.validate().expect("default config");
        let auth = Arc::new(AuthState::new(&config).expect("auth state"));
        let ttl = config.access.session_ttl();
        let email = EmailAddress::parse("agent@example.gouv.fr").expect("address");
        // One session that ended a second ago, one that is live.
        let now = Instant::now();
        let Some(long_ago) = now.checked_sub(ttl + Duration::from_secs(1)) else {
            return; // a machine up for less than a session's lifetime cannot date one back
        };
        auth.open_session(long_ago, email.clone());
        let live = auth.open_session(now, email);
        assert_eq!(auth.sessions_held(), 2);
        let task = spawn_purge(auth.clone(), Duration::from_millis(10));
        let mut held = auth.sessions_held();
        for _ in 0..200 {
            if held == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            held = auth.sessions_held();
        }
        task.abort();
        assert_eq!(held, 1, "the expired session is gone, the live one kept");
        assert!(auth.session_email(Instant::now(), &live).is_some());
    }
}
