//! Inviting people to a meeting by e-mail (`docs/access-policy.md`, "Invitations"):
//!
//! - `POST /api/invite`: an agent mails the meeting link to up to `mail.invite_max_recipients`
//!   addresses, with a calendar file when a date is given;
//! - `GET /api/ics`: the same calendar file as a download, for anyone ("add to my calendar").
//!
//! Submodules: [`time`] (RFC 3339 in, iCalendar and Paris time out), [`ics`] (the `.ics`
//! file), `link` (the address links start with), `budget` (the recipients each agent may still
//! mail this hour), `error` (the answers).
//! The mail's text is [`crate::mail::invitation_mail`].
//!
//! Invariants:
//! - Only agents send invitations; each agent may mail `mail.invite_per_agent_per_hour`
//!   recipients per hour, and a request is taken whole or refused whole (nothing is sent).
//! - A mail never holds a room password (the server has none to give), nor text chosen by the
//!   inviting agent: only the link, the date, and fixed sentences. Its link points at
//!   `mail.public_url`, or at the origin of the inviting page only when that origin is one of
//!   `http.allowed_origins` or a loopback address: never at a host named by a request alone.
//! - Nothing personal is logged: no address, no room name, no client address; only counts.

mod budget;
mod error;
pub mod ics;
mod link;
pub mod time;

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{middleware, Extension, Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;
use tracing::{debug, info, warn};
use webconf_access::email::EmailAddress;
use webconf_access::ratelimit::ip_key;
use webconf_access::token::random_hex;
use webconf_room::RoomName;

use self::budget::RecipientBudget;
use self::ics::Meeting;
use self::link::{host_of, link_base};
use self::time::UtcTime;
use crate::http::AppState;
use crate::identity::{identify, AgentVia};
use crate::mail::{invitation_mail, CalendarFile, Invitation, Inviter};
use crate::ws::origin_allowed;

pub use error::InviteError;

/// Largest `POST /api/invite` body: room for the most addresses `mail.invite_max_recipients`
/// allows (50) at their longest (254 bytes).
pub const MAX_BODY: usize = 16 * 1024;
/// Planned length of a meeting when `minutes` is not given (the FAQ's advice: under an hour).
pub const DEFAULT_MINUTES: u32 = 60;
/// Accepted `minutes`: 5 minutes to a whole day.
pub const MINUTES: RangeInclusive<u32> = 5..=1440;
/// Most agents whose invitations of the last hour are remembered at once.
const MAX_AGENTS: usize = 100_000;
/// The window of `mail.invite_per_agent_per_hour`.
const HOUR: Duration = Duration::from_secs(3600);
/// How often the budget drops agents with nothing left in the window.
const PURGE_EVERY: Duration = Duration::from_secs(60);

/// The routes of invitations, to merge into [`crate::http::app`]. Needs the router to be
/// served with `into_make_service_with_connect_info::<SocketAddr>()`. Each call makes a fresh
/// recipient budget, so each application (and each test server) has its own.
pub fn routes() -> Router<AppState> {
    let shared = Arc::new(Shared {
        budgets: Mutex::new(Budgets {
            budget: RecipientBudget::new(HOUR, MAX_AGENTS),
            next_purge: Instant::now() + PURGE_EVERY,
        }),
    });
    Router::new()
        .route("/api/invite", post(invite))
        .route("/api/ics", get(calendar_file))
        .layer(Extension(shared))
        .layer(middleware::map_response(|mut res: Response| async move {
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }))
}

/// Who an invitation budget belongs to: the address of an agent who proved one, else the
/// client address (IPv6: its `/64`) of an agent recognised by the network.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Sender {
    Email(EmailAddress),
    Network(IpAddr),
}

struct Shared {
    budgets: Mutex<Budgets>,
}

struct Budgets {
    budget: RecipientBudget<Sender>,
    next_purge: Instant,
}

impl Shared {
    /// The budget, purged first when a purge is due. Held for microseconds, never across an
    /// `.await`; a poisoned lock is used as is (the worst left behind is a miscount).
    fn lock(&self, now: Instant) -> MutexGuard<'_, Budgets> {
        let mut b = self.budgets.lock().unwrap_or_else(PoisonError::into_inner);
        if now >= b.next_purge {
            b.budget.purge(now);
            b.next_purge = now + PURGE_EVERY;
        }
        b
    }
}

/// `POST /api/invite` body.
#[derive(Deserialize)]
struct InviteRequest {
    room: String,
    emails: Vec<String>,
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    minutes: Option<u32>,
}

/// `GET /api/ics` query; every value is checked by hand so that errors are ours.
#[derive(Deserialize)]
struct CalendarQuery {
    room: Option<String>,
    start: Option<String>,
    minutes: Option<String>,
}

/// `POST /api/invite`: mails the meeting link to each address, one mail per address (no
/// recipient sees the others), with the `.ics` attached when `start` is given.
async fn invite(
    State(state): State<AppState>,
    Extension(shared): Extension<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, InviteError> {
    check_post(&state, &headers)?;
    let now = Instant::now();
    let id = identify(&state.auth, peer, &headers, now);
    let (sender, inviter) = match &id.agent {
        None => {
            debug!("invitation refused: not an agent");
            return Err(InviteError::FORBIDDEN);
        }
        Some(AgentVia::Network) => (Sender::Network(ip_key(id.ip)), Inviter::Network),
        Some(AgentVia::Email(email)) => (
            Sender::Email(email.clone()),
            Inviter::Domain(email.domain()),
        ),
    };
    let req: InviteRequest = read_json(body).await?;
    let room = RoomName::parse(&req.room).map_err(|_| InviteError::BAD_ROOM_NAME)?;
    let mail_config = &state.config.mail;
    let recipients = recipients(&req.emails, mail_config.invite_max_recipients)?;
    let schedule = schedule(req.start.as_deref(), req.minutes)?;
    let base = link_base(&state, &headers).ok_or_else(no_public_url)?;
    let link = format!("{base}/{room}");

    let count = u32::try_from(recipients.len()).unwrap_or(u32::MAX);
    let reservation = shared
        .lock(now)
        .budget
        .reserve(now, &sender, count, mail_config.invite_per_agent_per_hour)
        .map_err(|retry_after| {
            debug!("invitation refused: hourly recipient budget used up");
            InviteError::rate_limited(retry_after)
        })?;

    let (subject, text) = invitation_mail(&Invitation {
        inviter,
        link: &link,
        schedule,
    });
    let ics = schedule.map(|(start, minutes)| {
        let meeting = Meeting {
            link: &link,
            start,
            minutes,
        };
        let uid = format!("{}@{}", random_hex(16), host_of(&base));
        ics::calendar(&meeting, &uid, UtcTime::from_system(SystemTime::now()))
    });
    let filename = format!("webconf-{room}.ics");
    let calendar = ics.as_deref().map(|ics| CalendarFile {
        filename: &filename,
        ics,
    });

    let mailer = state.auth.mailer();
    let mut sent = 0u32;
    let mut failed = Vec::new();
    let mut unused = 0u32;
    for (position, (index, to)) in recipients.iter().enumerate() {
        match mailer
            .send_with_calendar(to, &subject, &text, calendar)
            .await
        {
            Ok(()) => sent += 1,
            Err(e) => {
                // `e` is safe to log: it never holds the address or the relay's reply text.
                warn!(error = %e, "invitation mail not sent");
                if e.relay_unreachable() {
                    // This mail and the rest never reached the relay: they do not count.
                    let rest = recipients.get(position..).unwrap_or_default();
                    failed.extend(rest.iter().map(|(i, _)| *i));
                    unused = u32::try_from(rest.len()).unwrap_or(u32::MAX);
                    break;
                }
                failed.push(*index);
            }
        }
    }
    if unused > 0 {
        shared
            .lock(Instant::now())
            .budget
            .release(&sender, reservation, unused);
    }
    info!(
        sent,
        failed = failed.len(),
        dated = schedule.is_some(),
        "invitations mailed"
    );
    if sent == 0 {
        return Err(InviteError::MAIL_FAILED);
    }
    Ok(Json(json!({"sent": sent, "failed": failed})).into_response())
}

/// `GET /api/ics?room=…&start=…&minutes=…`: the calendar file of a meeting, as a download.
/// Open to anyone: it holds nothing but the link, which whoever asks already knows.
async fn calendar_file(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<CalendarQuery>, QueryRejection>,
) -> Result<Response, InviteError> {
    let Query(q) =
        query.map_err(|_| InviteError::bad_request("expected ?room=…&start=…&minutes=…"))?;
    let room =
        RoomName::parse(q.room.as_deref().unwrap_or("")).map_err(|_| InviteError::BAD_ROOM_NAME)?;
    let minutes = match q.minutes.as_deref() {
        None => None,
        Some(m) if !m.is_empty() && m.len() <= 4 && m.bytes().all(|b| b.is_ascii_digit()) => {
            m.parse().ok()
        }
        Some(_) => return Err(InviteError::bad_request(MINUTES_MESSAGE)),
    };
    let start = q.start.as_deref().ok_or(InviteError::bad_request(
        "start is required, e.g. 2026-12-01T09:00:00Z",
    ))?;
    let Some((start, minutes)) = schedule(Some(start), minutes)? else {
        return Err(InviteError::bad_request(START_MESSAGE));
    };
    let base = link_base(&state, &headers).ok_or_else(no_public_url)?;
    let link = format!("{base}/{room}");
    let uid = format!("{}@{}", random_hex(16), host_of(&base));
    let meeting = Meeting {
        link: &link,
        start,
        minutes,
    };
    let text = ics::calendar(&meeting, &uid, UtcTime::from_system(SystemTime::now()));
    let disposition = format!("attachment; filename=\"webconf-{room}.ics\"");
    let mut res = text.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    // The room name is letters and digits only, so this is always a valid header value.
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(res)
}

const START_MESSAGE: &str = "start must be a UTC date and time like 2026-12-01T09:00:00Z";
const MINUTES_MESSAGE: &str = "minutes must be a whole number between 5 and 1440";

/// The distinct addresses of `emails`, each with the index of its first appearance; refuses
/// an empty list, the first address that is not one (`bad_email` with its index), and more
/// than `max` distinct addresses. Invitees may be anyone: no domain is required.
fn recipients(emails: &[String], max: u32) -> Result<Vec<(usize, EmailAddress)>, InviteError> {
    if emails.is_empty() {
        return Err(InviteError::bad_request(
            "emails must hold at least one address",
        ));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (index, raw) in emails.iter().enumerate() {
        let email = EmailAddress::parse(raw).map_err(|_| InviteError::bad_email(index))?;
        if seen.insert(email.clone()) {
            out.push((index, email));
        }
    }
    if out.len() > max as usize {
        return Err(InviteError::too_many_recipients(max));
    }
    Ok(out)
}

/// The checked `start` and `minutes` (default [`DEFAULT_MINUTES`]); `None` without `start`.
fn schedule(
    start: Option<&str>,
    minutes: Option<u32>,
) -> Result<Option<(UtcTime, u32)>, InviteError> {
    let minutes = minutes.unwrap_or(DEFAULT_MINUTES);
    if !MINUTES.contains(&minutes) {
        return Err(InviteError::bad_request(MINUTES_MESSAGE));
    }
    match start {
        None => Ok(None),
        Some(s) => UtcTime::parse(s)
            .map(|t| Some((t, minutes)))
            .map_err(|_| InviteError::bad_request(START_MESSAGE)),
    }
}

fn no_public_url() -> InviteError {
    warn!(
        "an invitation link was asked for, but the server does not know its public address: \
         set mail.public_url (e.g. \"https://webconf.example.gouv.fr\")"
    );
    InviteError::NO_PUBLIC_URL
}

/// The checks every POST passes first: the service's own `Origin` (the WebSocket's check),
/// then a JSON content type. A cross-site form can send neither.
fn check_post(state: &AppState, headers: &HeaderMap) -> Result<(), InviteError> {
    if !origin_allowed(state, headers) {
        debug!("invitation refused: origin not allowed");
        return Err(InviteError::FORBIDDEN_ORIGIN);
    }
    if !crate::http::is_json(headers) {
        return Err(InviteError::BAD_CONTENT_TYPE);
    }
    Ok(())
}

/// Reads at most [`MAX_BODY`] bytes and parses them as `T`; anything else is `bad_request`.
async fn read_json<T: DeserializeOwned>(body: Body) -> Result<T, InviteError> {
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| InviteError::bad_request("the body is larger than 16 KiB"))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| InviteError::bad_request("the body is not the expected JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_parsed_deduplicated_and_counted() {
        let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let r = recipients(&list(&["a@x.gouv.fr", " A@X.gouv.fr ", "b@y.fr"]), 20).unwrap();
        let got: Vec<(usize, &str)> = r.iter().map(|(i, e)| (*i, e.as_str())).collect();
        assert_eq!(got, [(0, "a@x.gouv.fr"), (2, "b@y.fr")]);
        assert_eq!(
            recipients(&list(&["a@x.fr", "nope"]), 20).unwrap_err(),
            InviteError::bad_email(1)
        );
        assert_eq!(recipients(&[], 20).unwrap_err().code, "bad_request");
        let many: Vec<String> = (0..3).map(|i| format!("p{i}@example.com")).collect();
        assert!(recipients(&many, 3).is_ok());
        assert_eq!(
            recipients(&many, 2).unwrap_err(),
            InviteError::too_many_recipients(2)
        );
    }

    #[test]
    fn schedules_are_checked() {
        assert_eq!(schedule(None, None).unwrap(), None);
        let (start, minutes) = schedule(Some("2026-12-01T09:00:00Z"), None)
            .unwrap()
            .unwrap();
        assert_eq!(
            (start.iso().as_str(), minutes),
            ("2026-12-01T09:00:00Z", 60)
        );
        assert_eq!(
            schedule(Some("2026-12-01T09:00:00Z"), Some(5))
                .unwrap()
                .unwrap()
                .1,
            5
        );
        assert_eq!(
            schedule(Some("2026-12-01T09:00:00Z"), Some(1440))
                .unwrap()
                .unwrap()
                .1,
            1440
        );
        for m in [0, 4, 1441] {
            assert_eq!(
                schedule(Some("2026-12-01T09:00:00Z"), Some(m))
                    .unwrap_err()
                    .code,
                "bad_request"
            );
        }
        assert_eq!(
            schedule(Some("2026-12-01T10:00:00+01:00"), None)
                .unwrap_err()
                .code,
            "bad_request"
        );
    }
}
