//! The browser client, embedded in release builds (read from `web/` in debug builds), and the
//! rules for which paths serve it.

use axum::body::Body;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

/// The files of `web/`. Development files (type-check config, unit tests, notes) are not served.
#[derive(RustEmbed)]
#[folder = "../../web/"]
#[exclude = "tsconfig.json"]
#[exclude = "test/*"]
#[exclude = "*.md"]
struct Web;

/// Serves `/` and room pages (`/<letters and digits>`) with `index.html`, other paths with the
/// matching file of `web/`, and anything else with 404.
pub async fn serve(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path.is_empty() || is_room_path(path) {
        return file("index.html", "no-cache");
    }
    file(path, "no-cache")
}

/// A single path segment of ASCII letters and digits: a room page. The page itself explains
/// the naming rule when the name breaks it.
fn is_room_path(path: &str) -> bool {
    path.len() <= 64 && !path.is_empty() && path.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn file(path: &str, cache: &'static str) -> Response {
    match Web::get(path) {
        Some(content) => {
            let mime = content.metadata.mimetype().to_owned();
            (
                [
                    (header::CONTENT_TYPE, mime),
                    (header::CACHE_CONTROL, cache.to_owned()),
                ],
                Body::from(content.data.into_owned()),
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_paths_are_single_alphanumeric_segments() {
        assert!(is_room_path("reunion2024abc"));
        assert!(is_room_path("abc"));
        assert!(!is_room_path("js/main.js"));
        assert!(!is_room_path("..%2fetc"));
        assert!(!is_room_path(&"a".repeat(65)));
    }
}
