//! The error answers of `POST /api/invite` and `GET /api/ics`: the shape of the access API
//! (`{"error":"<code>","message":"<English explanation>"}`, `docs/access-policy.md`) with the
//! extra fields of invitations. Built only from fixed texts and numbers: it never echoes an
//! address, a room name or an internal error.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

/// One error answer of the invitation API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code the client translates.
    pub code: &'static str,
    /// An English sentence for people reading logs or raw answers.
    pub message: &'static str,
    /// `index` of `bad_email`: the position of the refused address in `emails`.
    pub index: Option<usize>,
    /// `max` of `too_many_recipients`: how many addresses one request may hold.
    pub max: Option<u32>,
    /// `retry_after` (seconds) of `rate_limited`, also sent as a `Retry-After` header.
    pub retry_after: Option<u64>,
}

impl InviteError {
    const fn new(status: StatusCode, code: &'static str, message: &'static str) -> InviteError {
        InviteError {
            status,
            code,
            message,
            index: None,
            max: None,
            retry_after: None,
        }
    }

    /// 400 `bad_request`: not the expected JSON or query, or a bad `start` or `minutes`.
    pub const fn bad_request(message: &'static str) -> InviteError {
        InviteError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 403 `forbidden_origin`: missing or foreign `Origin` on a POST.
    pub const FORBIDDEN_ORIGIN: InviteError = InviteError::new(
        StatusCode::FORBIDDEN,
        "forbidden_origin",
        "this request must come from the service's own pages",
    );
    /// 403 `bad_content_type`: a POST without `Content-Type: application/json`.
    pub const BAD_CONTENT_TYPE: InviteError = InviteError::new(
        StatusCode::FORBIDDEN,
        "bad_content_type",
        "POST requests must be Content-Type: application/json",
    );
    /// 403 `forbidden`: only agents may send invitations.
    pub const FORBIDDEN: InviteError = InviteError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "only State agents may send invitations",
    );
    /// 400 `bad_room_name`.
    pub const BAD_ROOM_NAME: InviteError = InviteError::new(
        StatusCode::BAD_REQUEST,
        "bad_room_name",
        "a room name has 10 to 64 letters and digits, at least 3 of them digits",
    );
    /// 502 `mail_failed`: no invitation could be sent.
    pub const MAIL_FAILED: InviteError = InviteError::new(
        StatusCode::BAD_GATEWAY,
        "mail_failed",
        "the invitations could not be sent; try again later",
    );
    /// 503 `no_public_url`: the server cannot tell which address to put in the link.
    pub const NO_PUBLIC_URL: InviteError = InviteError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "no_public_url",
        "the server does not know the address to write in links: its operator must set mail.public_url",
    );

    /// 400 `bad_email` for the address at `index` of `emails`.
    pub fn bad_email(index: usize) -> InviteError {
        InviteError {
            index: Some(index),
            ..InviteError::new(
                StatusCode::BAD_REQUEST,
                "bad_email",
                "this is not an e-mail address",
            )
        }
    }

    /// 400 `too_many_recipients`: more than `max` distinct addresses.
    pub fn too_many_recipients(max: u32) -> InviteError {
        InviteError {
            max: Some(max),
            ..InviteError::new(
                StatusCode::BAD_REQUEST,
                "too_many_recipients",
                "too many addresses in one invitation",
            )
        }
    }

    /// 429 `rate_limited` with `retry_after` rounded up to whole seconds (at least 1).
    pub fn rate_limited(retry_after: Duration) -> InviteError {
        let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        InviteError {
            retry_after: Some(secs.max(1)),
            ..InviteError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many invitations sent this hour; wait and retry",
            )
        }
    }
}

impl IntoResponse for InviteError {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("error".into(), Value::from(self.code));
        body.insert("message".into(), Value::from(self.message));
        if let Some(index) = self.index {
            body.insert("index".into(), json!(index));
        }
        if let Some(max) = self.max {
            body.insert("max".into(), json!(max));
        }
        if let Some(secs) = self.retry_after {
            body.insert("retry_after".into(), json!(secs));
        }
        let mut res = (self.status, Json(Value::Object(body))).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn answer(e: InviteError) -> (u16, Value, Option<String>) {
        let res = e.into_response();
        let status = res.status().as_u16();
        let retry = res
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = axum::body::to_bytes(res.into_body(), 4096).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap(), retry)
    }

    #[tokio::test]
    async fn errors_have_the_documented_shape() {
        let (status, v, _) = answer(InviteError::bad_email(3)).await;
        assert_eq!(
            (status, v["error"].as_str(), v["index"].as_u64()),
            (400, Some("bad_email"), Some(3))
        );
        let (status, v, _) = answer(InviteError::too_many_recipients(20)).await;
        assert_eq!(
            (status, v["error"].as_str(), v["max"].as_u64()),
            (400, Some("too_many_recipients"), Some(20))
        );
        let (status, v, retry) =
            answer(InviteError::rate_limited(Duration::from_millis(1500))).await;
        assert_eq!(
            (status, v["retry_after"].as_u64(), retry.as_deref()),
            (429, Some(2), Some("2"))
        );
        let (status, v, retry) = answer(InviteError::FORBIDDEN).await;
        assert_eq!(
            (status, v["error"].as_str(), retry),
            (403, Some("forbidden"), None)
        );
        assert_eq!(v.as_object().unwrap().len(), 2, "no extra fields: {v}");
    }
}
