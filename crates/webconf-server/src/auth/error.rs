//! The API's error answer: `{"error":"<code>","message":"<English explanation>"}` with the
//! status and extra fields of `docs/access-policy.md` ("Errors"). Built only from fixed texts
//! and numbers: it never echoes the request or an internal error.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::cookie;

/// One error answer of the access API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code the client translates (`"wrong_code"`, ...).
    pub code: &'static str,
    /// An English sentence for people reading logs or raw answers.
    pub message: &'static str,
    /// `retry_after` (seconds) of `rate_limited`, also sent as a `Retry-After` header.
    pub retry_after: Option<u64>,
    /// `remaining` tries of `wrong_code`.
    pub remaining: Option<u32>,
    /// True when the pending-code cookie is dead and should be deleted.
    pub clear_pending: bool,
}

impl ApiError {
    const fn new(status: StatusCode, code: &'static str, message: &'static str) -> ApiError {
        ApiError {
            status,
            code,
            message,
            retry_after: None,
            remaining: None,
            clear_pending: false,
        }
    }

    /// 400 `bad_request`: the body is not the expected JSON (or is over 4 KiB).
    pub const fn bad_request(message: &'static str) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 403 `forbidden_origin`: missing or foreign `Origin` on a POST.
    pub const FORBIDDEN_ORIGIN: ApiError = ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden_origin",
        "this request must come from the service's own pages",
    );
    /// 403 `bad_content_type`: a POST without `Content-Type: application/json`.
    pub const BAD_CONTENT_TYPE: ApiError = ApiError::new(
        StatusCode::FORBIDDEN,
        "bad_content_type",
        "POST requests must be Content-Type: application/json",
    );
    /// 400 `bad_email`.
    pub const BAD_EMAIL: ApiError = ApiError::new(
        StatusCode::BAD_REQUEST,
        "bad_email",
        "this is not an e-mail address",
    );
    /// 403 `domain_not_allowed`.
    pub const DOMAIN_NOT_ALLOWED: ApiError = ApiError::new(
        StatusCode::FORBIDDEN,
        "domain_not_allowed",
        "addresses of this domain cannot open rooms; use your professional address",
    );
    /// 502 `mail_failed`.
    pub const MAIL_FAILED: ApiError = ApiError::new(
        StatusCode::BAD_GATEWAY,
        "mail_failed",
        "the mail could not be sent; try again later",
    );
    /// 400 `no_code`.
    pub const NO_CODE: ApiError = ApiError {
        clear_pending: true,
        ..ApiError::new(
            StatusCode::BAD_REQUEST,
            "no_code",
            "no code is pending for this browser; ask for one",
        )
    };
    /// 400 `expired`.
    pub const EXPIRED: ApiError = ApiError {
        clear_pending: true,
        ..ApiError::new(
            StatusCode::BAD_REQUEST,
            "expired",
            "the code has expired; ask for a new one",
        )
    };
    /// 429 `too_many_attempts`.
    pub const TOO_MANY_ATTEMPTS: ApiError = ApiError {
        clear_pending: true,
        ..ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "too many wrong codes: this code no longer works; ask for a new one",
        )
    };

    /// 429 `rate_limited` with `retry_after` rounded up to whole seconds (at least 1).
    pub fn rate_limited(retry_after: Duration) -> ApiError {
        let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        ApiError {
            retry_after: Some(secs.max(1)),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many code requests for this address or from this network; wait and retry",
            )
        }
    }

    /// 400 `wrong_code` with the tries left.
    pub fn wrong_code(remaining: u32) -> ApiError {
        ApiError {
            remaining: Some(remaining),
            ..ApiError::new(StatusCode::BAD_REQUEST, "wrong_code", "the code is wrong")
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("error".into(), Value::from(self.code));
        body.insert("message".into(), Value::from(self.message));
        if let Some(secs) = self.retry_after {
            body.insert("retry_after".into(), json!(secs));
        }
        if let Some(n) = self.remaining {
            body.insert("remaining".into(), json!(n));
        }
        let mut res = (self.status, Json(Value::Object(body))).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.clear_pending {
            res.headers_mut()
                .append(header::SET_COOKIE, cookie::clear(cookie::PENDING));
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(e: ApiError) -> (StatusCode, Value, Response) {
        let res = e.into_response();
        let status = res.status();
        let (parts, b) = res.into_parts();
        let bytes = axum::body::to_bytes(b, 4096).await.unwrap();
        let value = serde_json::from_slice(&bytes).unwrap();
        (
            status,
            value,
            Response::from_parts(parts, axum::body::Body::empty()),
        )
    }

    #[tokio::test]
    async fn errors_have_the_documented_shape() {
        let (status, v, res) = body(ApiError::rate_limited(Duration::from_millis(1500))).await;
        assert_eq!(status, 429);
        assert_eq!(v["error"], "rate_limited");
        assert_eq!(v["retry_after"], 2);
        assert!(v["message"].is_string());
        assert_eq!(res.headers()[header::RETRY_AFTER], "2");

        let (status, v, _) = body(ApiError::wrong_code(3)).await;
        assert_eq!(
            (
                status.as_u16(),
                v["error"].as_str(),
                v["remaining"].as_u64()
            ),
            (400, Some("wrong_code"), Some(3))
        );

        let (status, v, res) = body(ApiError::TOO_MANY_ATTEMPTS).await;
        assert_eq!(
            (status.as_u16(), v["error"].as_str()),
            (429, Some("too_many_attempts"))
        );
        assert!(res.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .starts_with("__Host-webconf-pending=;"));
        assert_eq!(v.as_object().unwrap().len(), 2, "no extra fields: {v}");
    }
}
