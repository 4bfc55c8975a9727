//! The HTTP side: the router and the security headers on every response.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use tokio::sync::mpsc;

use crate::config::Config;
use crate::engine::Command;
use crate::{assets, ws};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The configuration in force.
    pub config: Arc<Config>,
    /// True when we terminate TLS ourselves (changes the expected `Origin` scheme).
    pub tls: bool,
    /// The engine's signaling queue.
    pub commands: mpsc::Sender<Command>,
    /// The access policy: zones, codes, agent sessions, mailer.
    pub auth: Arc<crate::auth::AuthState>,
    /// The service's own pages (FAQ, contact, legal notice), rendered at start-up.
    pub pages: Arc<crate::pages::Pages>,
}

/// The whole HTTP application; tests can call it without a socket.
pub fn app(state: AppState) -> Router {
    let tls = state.tls;
    Router::new()
        .route("/ws", get(ws::handler))
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/network", get(crate::netinfo::handler))
        .merge(crate::auth::routes())
        .merge(crate::invite::routes())
        .merge(crate::probe::routes())
        // Before the fallback, which would serve index.html for these single-segment paths.
        .merge(crate::pages::routes())
        .fallback(assets::serve)
        .with_state(state)
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            security_headers(req, next, tls)
        }))
}

/// Whether a request declares a JSON body (`application/json`, parameters ignored). With the
/// `Origin` check, this is what keeps cross-site forms away from the API's POSTs.
pub fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// The Content-Security-Policy of the client: everything from our own origin, nothing else.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

async fn security_headers(req: Request, next: Next, tls: bool) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static(
            "camera=(self), microphone=(self), display-capture=(self), geolocation=()",
        ),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if tls {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}
