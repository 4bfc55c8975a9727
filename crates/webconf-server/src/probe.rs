//! The media probe of the connection test page (`/test`):
//!
//! - `POST /api/probe` with `{"sdp":"<offer>"}` → `{"id":"<hex>","sdp":"<answer>"}`: the engine
//!   opens a media session that belongs to no room ([`crate::engine::probe`]), so the browser
//!   can check that ICE and DTLS reach the real UDP media ports, and read loss and round-trip
//!   time from the server's RTCP reports. It lives 30 s at most.
//! - `DELETE /api/probe/<id>` → 204, or 404 `not_found` when it is already gone.
//!
//! Same rules as the other `/api/*` POSTs: the service's own `Origin`, `Content-Type:
//! application/json`, a capped body, answers in JSON with `Cache-Control: no-store`, errors as
//! `{"error":"<code>","message":"<English sentence>"}` built from fixed texts only. Nothing
//! about the client (address, SDP) is logged.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{middleware, Json, Router};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::oneshot;

use crate::engine::probe::{ProbeCommand, ProbeError};
use crate::engine::Command;
use crate::http::AppState;
use crate::identity::client_address;
use crate::ws::origin_allowed;

/// Largest SDP offer accepted. A browser's offer with a microphone is 3 to 6 KiB.
pub const MAX_SDP: usize = 32 * 1024;
/// Largest body read: the offer, JSON-escaped.
const MAX_BODY: usize = 2 * MAX_SDP;
/// The engine answers at once; beyond this it is stuck or gone.
const ENGINE_TIMEOUT: Duration = Duration::from_secs(5);

/// The probe routes, to merge into [`crate::http::app`]. Needs the router to be served with
/// `into_make_service_with_connect_info::<SocketAddr>()`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/probe", post(open))
        .route("/api/probe/{id}", delete(close))
        .layer(middleware::map_response(|mut res: Response| async move {
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }))
}

/// `POST /api/probe` body.
#[derive(Deserialize)]
struct OpenRequest {
    sdp: String,
}

/// One error answer.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: &'static str,
    retry_after: Option<u64>,
}

const fn refusal(status: StatusCode, code: &'static str, message: &'static str) -> Refusal {
    Refusal {
        status,
        code,
        message,
        retry_after: None,
    }
}

const FORBIDDEN_ORIGIN: Refusal = refusal(
    StatusCode::FORBIDDEN,
    "forbidden_origin",
    "this request must come from the service's own pages",
);
const BAD_CONTENT_TYPE: Refusal = refusal(
    StatusCode::FORBIDDEN,
    "bad_content_type",
    "POST requests must be Content-Type: application/json",
);
const BAD_REQUEST: Refusal = refusal(
    StatusCode::BAD_REQUEST,
    "bad_request",
    "the body is not the expected JSON: {\"sdp\":\"<offer>\"}",
);
const TOO_LARGE: Refusal = refusal(
    StatusCode::PAYLOAD_TOO_LARGE,
    "too_large",
    "the SDP offer is limited to 32 KiB",
);
const BAD_SDP: Refusal = refusal(
    StatusCode::BAD_REQUEST,
    "bad_sdp",
    "the SDP offer was refused",
);
const BUSY: Refusal = refusal(
    StatusCode::SERVICE_UNAVAILABLE,
    "busy",
    "too many connection tests are running; try again in a minute",
);
const UNAVAILABLE: Refusal = refusal(
    StatusCode::SERVICE_UNAVAILABLE,
    "unavailable",
    "the media server cannot run a test now",
);
const NOT_FOUND: Refusal = refusal(
    StatusCode::NOT_FOUND,
    "not_found",
    "no such probe (it may have ended)",
);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut body = json!({"error": self.code, "message": self.message});
        if let Some(secs) = self.retry_after {
            body["retry_after"] = json!(secs);
        }
        let mut res = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

/// `POST /api/probe`: opens a probe with the browser's offer.
async fn open(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Refusal> {
    if !origin_allowed(&state, &headers) {
        return Err(FORBIDDEN_ORIGIN);
    }
    if !crate::http::is_json(&headers) {
        return Err(BAD_CONTENT_TYPE);
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| TOO_LARGE)?;
    let req: OpenRequest = serde_json::from_slice(&bytes).map_err(|_| BAD_REQUEST)?;
    if req.sdp.len() > MAX_SDP {
        return Err(TOO_LARGE);
    }
    if req.sdp.trim().is_empty() {
        return Err(BAD_SDP);
    }
    let ip = client_address(&state.auth, peer, &headers);
    let (reply, answer) = oneshot::channel();
    let cmd = Command::Probe(ProbeCommand::Open {
        ip,
        sdp: req.sdp,
        reply,
    });
    state.commands.send(cmd).await.map_err(|_| UNAVAILABLE)?;
    let result = tokio::time::timeout(ENGINE_TIMEOUT, answer)
        .await
        .map_err(|_| UNAVAILABLE)?
        .map_err(|_| UNAVAILABLE)?;
    match result {
        Ok(opened) => Ok(Json(json!({"id": opened.id, "sdp": opened.sdp})).into_response()),
        Err(ProbeError::RateLimited(retry)) => Err(Refusal {
            retry_after: Some(retry.as_secs().max(1)),
            ..refusal(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many connection tests from this address",
            )
        }),
        Err(ProbeError::Busy) => Err(BUSY),
        Err(ProbeError::BadSdp) => Err(BAD_SDP),
        Err(ProbeError::Unavailable) => Err(UNAVAILABLE),
    }
}

/// `DELETE /api/probe/<id>`: ends a probe before its time.
async fn close(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    if !origin_allowed(&state, &headers) {
        return Err(FORBIDDEN_ORIGIN);
    }
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(NOT_FOUND);
    }
    let (reply, answer) = oneshot::channel();
    state
        .commands
        .send(Command::Probe(ProbeCommand::Close { id, reply }))
        .await
        .map_err(|_| UNAVAILABLE)?;
    let found = tokio::time::timeout(ENGINE_TIMEOUT, answer)
        .await
        .map_err(|_| UNAVAILABLE)?
        .map_err(|_| UNAVAILABLE)?;
    if found {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(NOT_FOUND)
    }
}
