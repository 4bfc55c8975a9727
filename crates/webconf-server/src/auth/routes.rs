//! The handlers of `/api/session` and `/api/auth/*`. Every answer is JSON with
//! `Cache-Control: no-store`. POSTs are refused unless their `Origin` is the service's (the
//! WebSocket's check) and their `Content-Type` is `application/json`: a cross-site form cannot
//! send either, so there is no cross-site request forgery to fear; bodies are capped at 4 KiB.

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;
use tracing::{debug, info, warn};
use webconf_access::codes::{IssueError, VerifyError};
use webconf_access::email::EmailAddress;
use webconf_access::sessions::SessionId;
use webconf_access::token::random_hex;

use super::{cookie, ApiError, MAX_BODY, RELAY_DOWN_PAUSE};
use crate::http::AppState;
use crate::identity::{client_address, identify, AgentVia};
use crate::mail::Lang;
use crate::ws::origin_allowed;

/// Longest code text looked at; codes are 6 digits, people may add spaces.
const MAX_CODE_INPUT: usize = 64;

/// The routes of the access API, to merge into [`crate::http::app`]. Needs the router to be
/// served with `into_make_service_with_connect_info::<SocketAddr>()`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/session", get(session))
        .route("/api/auth/code", post(request_code))
        .route("/api/auth/verify", post(verify_code))
        .route("/api/auth/logout", post(logout))
        .layer(middleware::map_response(|mut res: Response| async move {
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }))
}

/// `POST /api/auth/code` body.
#[derive(Deserialize)]
struct CodeRequest {
    email: String,
}

/// `POST /api/auth/verify` body.
#[derive(Deserialize)]
struct VerifyRequest {
    code: String,
}

/// `GET /api/session`: the zone and agent status of this browser.
async fn session(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let id = identify(&state.auth, peer, &headers, Instant::now());
    let (agent, via, email) = match &id.agent {
        None => (false, None, None),
        Some(AgentVia::Network) => (true, Some("network"), None),
        Some(AgentVia::Email(email)) => (true, Some("email"), Some(email.as_str())),
    };
    Json(json!({"zone": id.zone, "agent": agent, "via": via, "email": email})).into_response()
}

/// `POST /api/auth/code`: mails a one-time code and binds it to this browser.
async fn request_code(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_post(&state, &headers)?;
    let req: CodeRequest = read_json(body).await?;
    let email = EmailAddress::parse(&req.email).map_err(|_| ApiError::BAD_EMAIL)?;
    let auth = &state.auth;
    if !auth.domains.allows(&email) {
        debug!("code refused: domain not allowed");
        return Err(ApiError::DOMAIN_NOT_ALLOWED);
    }
    let now = Instant::now();
    let ip = client_address(auth, peer, &headers);
    // Keep the browser's key when it already has one, so a new code replaces its pending one.
    let browser = cookie::get(&headers, cookie::PENDING)
        .filter(|v| cookie::is_token(v))
        .map_or_else(|| random_hex(16), str::to_owned);
    let code = {
        let mut stores = auth.stores(now);
        if stores.relay_down_until.is_some_and(|until| now < until) {
            debug!("code refused: the mail relay was unreachable moments ago");
            return Err(ApiError::MAIL_FAILED);
        }
        stores
            .codes
            .issue(now, &browser, email.clone(), ip)
            .map_err(|e| match e {
                IssueError::RateLimited { retry_after } => ApiError::rate_limited(retry_after),
            })?
    };
    let lang = Lang::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    if let Err(e) = auth.mailer.send_code(&email, &code, lang).await {
        // `e` is safe to log: it never holds the address, the code or the relay's reply text.
        warn!(error = %e, "code mail not sent");
        if e.relay_unreachable() {
            auth.stores(Instant::now()).relay_down_until = Some(Instant::now() + RELAY_DOWN_PAUSE);
        }
        return Err(ApiError::MAIL_FAILED);
    }
    info!("code mailed");
    let ttl = auth.code_ttl;
    let mut res = Json(json!({"sent": true, "expires_in": ttl.as_secs()})).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        cookie::set(cookie::PENDING, &browser, ttl),
    );
    Ok(res)
}

/// `POST /api/auth/verify`: checks the code; on success opens an agent session.
async fn verify_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_post(&state, &headers)?;
    let req: VerifyRequest = read_json(body).await?;
    let Some(browser) = cookie::get(&headers, cookie::PENDING).filter(|v| cookie::is_token(v))
    else {
        return Err(ApiError::NO_CODE);
    };
    // People copy "048 213" or " 048213 ": spaces are not part of the code.
    let code: String = req
        .code
        .chars()
        .take(MAX_CODE_INPUT)
        .filter(|c| !c.is_whitespace())
        .collect();
    let auth = &state.auth;
    let now = Instant::now();
    let mut stores = auth.stores(now);
    let email = stores
        .codes
        .verify(now, browser, &code)
        .map_err(|e| match e {
            VerifyError::NoCode => ApiError::NO_CODE,
            VerifyError::Expired => ApiError::EXPIRED,
            VerifyError::Wrong { remaining } => ApiError::wrong_code(remaining),
            VerifyError::TooManyAttempts => ApiError::TOO_MANY_ATTEMPTS,
        })?;
    // A browser holds one agent session: a previous one ends.
    if let Some(old) = cookie::get(&headers, cookie::AGENT).and_then(SessionId::parse) {
        stores.sessions.remove(&old);
    }
    let id = stores.sessions.create(now, email.clone());
    drop(stores);
    info!("agent session opened with an e-mail code");
    let mut res = Json(json!({"agent": true, "email": email.as_str()})).into_response();
    let h = res.headers_mut();
    h.append(
        header::SET_COOKIE,
        cookie::set(cookie::AGENT, id.as_str(), auth.session_ttl),
    );
    h.append(header::SET_COOKIE, cookie::clear(cookie::PENDING));
    Ok(res)
}

/// `POST /api/auth/logout`: ends the agent session, server side and cookie. The body is
/// ignored (`{}` or empty).
async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_post(&state, &headers)?;
    axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::bad_request("the body is too large"))?;
    if let Some(id) = cookie::get(&headers, cookie::AGENT).and_then(SessionId::parse) {
        if state.auth.stores(Instant::now()).sessions.remove(&id) {
            info!("agent session closed");
        }
    }
    let mut res = Json(json!({"agent": false})).into_response();
    res.headers_mut()
        .append(header::SET_COOKIE, cookie::clear(cookie::AGENT));
    Ok(res)
}

/// The checks every POST passes first: the service's own `Origin`, then a JSON content type.
fn check_post(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    if !origin_allowed(state, headers) {
        debug!("API request refused: origin not allowed");
        return Err(ApiError::FORBIDDEN_ORIGIN);
    }
    if !crate::http::is_json(headers) {
        return Err(ApiError::BAD_CONTENT_TYPE);
    }
    Ok(())
}

/// Reads at most [`MAX_BODY`] bytes and parses them as `T`; anything else is `bad_request`.
async fn read_json<T: DeserializeOwned>(body: Body) -> Result<T, ApiError> {
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::bad_request("the body is larger than 4 KiB"))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| ApiError::bad_request("the body is not the expected JSON"))
}
