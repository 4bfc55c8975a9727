//! The pages through the real router: routes, language choice, contact addresses, placeholders.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use tokio::sync::mpsc;
use tower::ServiceExt;

use super::*;
use crate::auth::AuthState;

fn state(edit: impl FnOnce(&mut Config)) -> AppState {
    let mut config = Config::default();
    edit(&mut config);
    config.validate().unwrap();
    let auth = Arc::new(AuthState::new(&config).unwrap());
    let pages = Arc::new(Pages::load(&config).unwrap());
    let (commands, _) = mpsc::channel(1);
    AppState {
        config: Arc::new(config),
        tls: true,
        commands,
        auth,
        pages,
    }
}

/// GETs `uri` with an optional `Accept-Language`; returns the status and the body.
async fn get(
    state: &AppState,
    uri: &str,
    accept_language: Option<&str>,
) -> (StatusCode, String, HeaderMap) {
    let mut request = Request::get(uri);
    if let Some(value) = accept_language {
        request = request.header(header::ACCEPT_LANGUAGE, value);
    }
    let response = crate::http::app(state.clone())
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap(), headers)
}

#[test]
fn language_from_query_then_accept_language_then_french() {
    let cases = [
        (Some("lang=en"), Some("fr-FR,fr"), (Lang::En, true)),
        (Some("x=1&lang=fr"), Some("en"), (Lang::Fr, true)),
        (Some("lang=de"), Some("en-GB,en;q=0.9"), (Lang::En, false)),
        (None, Some("en-US,en;q=0.9,fr;q=0.8"), (Lang::En, false)),
        (
            None,
            Some("de-DE,de;q=0.9,fr;q=0.5,en;q=0.4"),
            (Lang::Fr, false),
        ),
        (None, Some("de, en;q=0.2, fr;q=0.7"), (Lang::Fr, false)),
        (None, Some("fr;q=0, en"), (Lang::En, false)),
        (None, Some("fr;q=0.5, en;q=0.5"), (Lang::Fr, false)),
        (None, Some("de, es"), (Lang::Fr, false)),
        (None, Some("*"), (Lang::Fr, false)),
        (None, Some(";;;,q=,en;q=abc"), (Lang::En, false)),
        (None, None, (Lang::Fr, false)),
    ];
    for (query, accept, want) in cases {
        assert_eq!(choose_lang(query, accept), want, "{query:?} {accept:?}");
    }
}

#[test]
fn builtin_texts_get_the_configured_values() {
    let config = Config {
        media: crate::config::MediaConfig {
            port_min: 40000,
            port_max: 40099,
            ..Default::default()
        },
        ..Config::default()
    };
    let pages = Pages::load(&config).unwrap();
    for rendered in [&pages.faq.fr.plain, &pages.faq.en.plain] {
        assert!(rendered.has_title);
        assert!(
            rendered.html.contains("UDP ports 40000-40099")
                || rendered.html.contains("ports UDP 40000-40099"),
            "{}",
            rendered.html
        );
        assert!(
            rendered.html.contains("TCP 8443") || rendered.html.contains("TCP port 8443"),
            "{}",
            rendered.html
        );
        assert!(
            !rendered.html.contains('{'),
            "a placeholder is left: {}",
            rendered.html
        );
    }
    for (rendered, unset) in [
        (&pages.legal.fr.plain, text::FR.operator_unset),
        (&pages.legal.en.plain, text::EN.operator_unset),
    ] {
        assert!(rendered.html.contains(unset), "{}", rendered.html);
        assert!(
            rendered.html.contains("12"),
            "session hours: {}",
            rendered.html
        );
        assert!(
            !rendered.html.contains('{'),
            "a placeholder is left: {}",
            rendered.html
        );
    }
    let mut config = Config::default();
    config.pages.operator_name = "Direction interministérielle du numérique".into();
    config.http.tls = TlsMode::Off;
    let pages = Pages::load(&config).unwrap();
    let legal = &pages.legal;
    assert!(legal
        .fr
        .plain
        .html
        .contains("opéré par Direction interministérielle du numérique"));
    assert!(legal
        .en
        .with_lang
        .html
        .contains("href=\"/contact?lang=en\""));
    assert!(legal.en.plain.html.contains("href=\"/contact\""));
    assert!(
        pages.faq.en.plain.html.contains("TCP port 443"),
        "behind a proxy"
    );
    config.mail.public_url = "https://webconf.example.gouv.fr:8443".into();
    assert_eq!(https_port(&config), 8443);
}

#[test]
fn operator_files_replace_the_builtin_texts() {
    let dir = std::env::temp_dir().join(format!("webconf-pages-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let faq = dir.join("faq.md");
    std::fs::write(&faq, "Questions <img src=x onerror=alert(1)> {media_ports}").unwrap();
    let mut config = Config::default();
    config.pages.faq_en = faq;
    let pages = Pages::load(&config).unwrap();
    assert!(!pages.faq.en.plain.has_title);
    let faq_en = &pages.faq.en.plain.html;
    assert!(
        faq_en.contains("Questions &lt;img src=x onerror=alert(1)&gt; 10000-10010"),
        "{faq_en}"
    );
    assert!(
        pages.faq.fr.plain.html.contains("Foire aux questions"),
        "French keeps the built-in text"
    );
    config.pages.legal_fr = dir.join("missing.md");
    let message = Pages::load(&config).unwrap_err().to_string();
    assert!(message.starts_with("pages.legal_fr ("), "{message}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn pages_are_served_in_the_chosen_language() {
    let state = state(|_| {});
    let (status, body, headers) = get(&state, "/faq", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
    assert!(
        body.starts_with("<!doctype html>\n<html lang=\"fr\">"),
        "{body}"
    );
    assert!(body.contains("<h1>Foire aux questions</h1>"));
    assert!(
        body.contains("href=\"/faq?lang=en\" hreflang=\"en\""),
        "language switch"
    );
    assert!(
        body.contains("<a href=\"/faq\" aria-current=\"page\">FAQ</a>"),
        "footer"
    );
    assert!(!body.contains("<script"), "no script");
    assert!(!body.contains("style="), "no inline style");

    let (_, body, _) = get(&state, "/faq?lang=en", Some("fr")).await;
    assert!(
        body.contains("<html lang=\"en\">") && body.contains("<h1>Frequently asked questions</h1>")
    );
    assert!(
        body.contains("<a href=\"/legal?lang=en\">Legal notice</a>"),
        "links keep ?lang"
    );
    assert!(body.contains("href=\"/faq?lang=fr\" hreflang=\"fr\""));

    let (_, body, _) = get(&state, "/legal", Some("en-GB,en;q=0.8")).await;
    assert!(body.contains("<html lang=\"en\">") && body.contains("<h1>Legal notice</h1>"));
    assert!(
        body.contains("<a href=\"/contact\">Contact</a>"),
        "links without ?lang"
    );

    let (status, body, _) = get(&state, "/reunion2024abc", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("/js/main.js"),
        "room pages are still the client"
    );
}

#[tokio::test]
async fn the_contact_page_lists_the_configured_addresses() {
    let state = state(|c| {
        c.pages.support_email = "Support@Example.gouv.fr".into();
        c.pages.privacy_email = "dpd+webconf@example.gouv.fr".into();
    });
    let (status, body, _) = get(&state, "/contact", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<h1>Nous contacter</h1>"));
    assert!(
        body.contains("<a href=\"mailto:support@example.gouv.fr\">support@example.gouv.fr</a>"),
        "{body}"
    );
    assert!(
        body.contains("<a href=\"mailto:dpd+webconf@example.gouv.fr\">"),
        "{body}"
    );
    assert_eq!(
        body.matches(text::FR.not_configured).count(),
        1,
        "security is not configured"
    );
    let (_, body, _) = get(&state, "/contact?lang=en", None).await;
    assert!(body.contains("<h1>Contact us</h1>") && body.contains(text::EN.not_configured));
    assert!(body.contains("<a href=\"/faq?lang=en\">FAQ</a>"));
}

#[test]
fn mailto_targets_are_encoded() {
    assert_eq!(mailto("a.b-c_d+e@x.gouv.fr"), "a.b-c_d+e@x.gouv.fr");
    assert_eq!(mailto("a?b#c%d&e'f@x.fr"), "a%3Fb%23c%25d%26e%27f@x.fr");
    assert_eq!(
        escape("<a href=\"x\">'&"),
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
    );
}
