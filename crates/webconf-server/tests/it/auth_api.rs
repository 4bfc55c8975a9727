//! The e-mail code flow of `docs/access-policy.md` through the real HTTP API and a real SMTP
//! server: request a code, read it from the received mail, verify it, be an agent.

use std::time::Duration;

use serde_json::json;

use crate::support::{
    captured_logs, code_in, config, mail_body, mail_header, Smtpd, TempDir, TestServer,
};

const AGENT: &str = "agent@interieur.gouv.fr";

fn code_body(email: &str) -> String {
    json!({ "email": email }).to_string()
}

fn verify_body(code: &str) -> String {
    json!({ "code": code }).to_string()
}

/// A code that is not `code` (same length).
fn other_than(code: &str) -> String {
    let first = if code.starts_with('0') { '1' } else { '0' };
    format!("{first}{}", &code[1..])
}

#[tokio::test]
async fn an_agent_proves_its_address_with_a_mailed_code() {
    let smtpd = Smtpd::start();
    let dir = TempDir::new("flow");
    let server = TestServer::start(config(dir.path(), Some(smtpd.port))).await;
    let mut browser = server.browser();

    // 127.0.0.1 is not in any zone here: a guest.
    let session = browser.get("/api/session").await;
    assert_eq!(session.status, 200);
    assert_eq!(
        session.json,
        json!({"zone":"internet","agent":false,"via":null,"email":null})
    );
    assert_eq!(session.header("cache-control"), Some("no-store"));

    let reply = browser
        .post_json("/api/auth/code", &code_body(" Agent@Interieur.gouv.fr "))
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    assert_eq!(reply.json, json!({"sent": true, "expires_in": 600}));
    let set = reply.set_cookies();
    assert_eq!(set.len(), 1, "{set:?}");
    let pending = set[0];
    assert!(pending.starts_with("__Host-webconf-pending="), "{pending}");
    assert!(
        pending.ends_with("; Max-Age=600; Path=/; Secure; HttpOnly; SameSite=Lax"),
        "{pending}"
    );
    let value = browser.cookies["__Host-webconf-pending"].clone();
    assert_eq!(value.len(), 32, "128-bit random value");

    // The mail, as the SMTP server received it.
    let mails = smtpd.mails();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(
        mail_header(mail, "To"),
        Some(AGENT),
        "the address, trimmed and lower-cased"
    );
    assert_eq!(
        mail_header(mail, "X-RcptTo"),
        Some(AGENT),
        "envelope recipient"
    );
    assert_eq!(
        mail_header(mail, "From"),
        Some("Webconf <no-reply@webconf.test>")
    );
    assert_eq!(
        mail_header(mail, "Subject"),
        Some("Votre code webconf / Your webconf code")
    );
    assert!(mail_header(mail, "Message-ID")
        .is_some_and(|id| id.starts_with('<') && id.ends_with("@webconf.test>")));
    assert!(mail_header(mail, "Date").is_some());
    assert_eq!(
        mail_header(mail, "Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    let body = mail_body(mail);
    assert!(
        body.contains("agent de l'État") && body.contains("as a State agent"),
        "{body}"
    );
    assert!(body.find("Bonjour") < body.find("Hello"), "French first");
    let code = code_in(mail);
    assert!(!code.is_empty());

    // A wrong code first: one try fewer.
    let reply = browser
        .post_json("/api/auth/verify", &verify_body(&other_than(&code)))
        .await;
    assert_eq!((reply.status, reply.error()), (400, "wrong_code"));
    assert_eq!(reply.json["remaining"], 4);

    // The right one, typed with spaces.
    let spaced = format!(" {} {} ", &code[..3], &code[3..]);
    let reply = browser
        .post_json("/api/auth/verify", &verify_body(&spaced))
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    assert_eq!(reply.json, json!({"agent": true, "email": AGENT}));
    let set = reply.set_cookies();
    let agent = set
        .iter()
        .find(|c| c.starts_with("__Host-webconf-agent="))
        .expect("agent cookie");
    assert!(
        agent.ends_with("; Max-Age=43200; Path=/; Secure; HttpOnly; SameSite=Lax"),
        "{agent}"
    );
    assert!(
        set.iter()
            .any(|c| c.starts_with("__Host-webconf-pending=; Max-Age=0")),
        "{set:?}"
    );
    assert!(!browser.cookies.contains_key("__Host-webconf-pending"));
    let agent_cookie = browser.cookies["__Host-webconf-agent"].clone();
    assert_eq!(agent_cookie.len(), 32);

    let session = browser.get("/api/session").await;
    assert_eq!(
        session.json,
        json!({"zone":"internet","agent":true,"via":"email","email":AGENT})
    );

    // The code is single use, even replaying the old pending cookie.
    browser
        .cookies
        .insert("__Host-webconf-pending".into(), value.clone());
    let reply = browser
        .post_json("/api/auth/verify", &verify_body(&code))
        .await;
    assert_eq!((reply.status, reply.error()), (400, "no_code"));
    assert!(reply.json["message"].is_string());

    // Logout ends the session on the server: the old cookie is worth nothing.
    let reply = browser.post_json("/api/auth/logout", "{}").await;
    assert_eq!((reply.status, &reply.json), (200, &json!({"agent": false})));
    assert!(!browser.cookies.contains_key("__Host-webconf-agent"));
    assert_eq!(browser.get("/api/session").await.json["agent"], false);
    browser
        .cookies
        .insert("__Host-webconf-agent".into(), agent_cookie.clone());
    assert_eq!(browser.get("/api/session").await.json["agent"], false);

    // Another browser never had a code.
    let reply = server
        .browser()
        .post_json("/api/auth/verify", &verify_body(&code))
        .await;
    assert_eq!((reply.status, reply.error()), (400, "no_code"));

    // Nothing personal or secret was logged, by us or by the libraries (at debug level).
    let logs = captured_logs();
    assert!(
        logs.contains("code mailed") && logs.contains("agent session opened"),
        "capture works:\n{logs}"
    );
    for secret in [
        "interieur.gouv.fr",
        "Interieur",
        code.as_str(),
        value.as_str(),
        agent_cookie.as_str(),
    ] {
        assert!(!logs.contains(secret), "{secret:?} was logged:\n{logs}");
    }
}

#[tokio::test]
async fn five_wrong_codes_kill_the_code() {
    let smtpd = Smtpd::start();
    let dir = TempDir::new("attempts");
    let server = TestServer::start(config(dir.path(), Some(smtpd.port))).await;
    let mut browser = server.browser();
    assert_eq!(
        browser
            .post_json("/api/auth/code", &code_body(AGENT))
            .await
            .status,
        200
    );
    let code = code_in(&smtpd.mails()[0]);
    let pending = browser.cookies["__Host-webconf-pending"].clone();
    let wrong = other_than(&code);
    for remaining in [4, 3, 2, 1] {
        let reply = browser
            .post_json("/api/auth/verify", &verify_body(&wrong))
            .await;
        assert_eq!((reply.status, reply.error()), (400, "wrong_code"));
        assert_eq!(reply.json["remaining"], remaining);
    }
    let reply = browser
        .post_json("/api/auth/verify", &verify_body(&wrong))
        .await;
    assert_eq!((reply.status, reply.error()), (429, "too_many_attempts"));
    assert!(
        !browser.cookies.contains_key("__Host-webconf-pending"),
        "the dead code's cookie is deleted"
    );
    // Dead, even with the right code and the old cookie.
    browser
        .cookies
        .insert("__Host-webconf-pending".into(), pending);
    let reply = browser
        .post_json("/api/auth/verify", &verify_body(&code))
        .await;
    assert_eq!((reply.status, reply.error()), (400, "no_code"));
    assert_eq!(browser.get("/api/session").await.json["agent"], false);
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let smtpd = Smtpd::start();
    let dir = TempDir::new("expired");
    let mut config = config(dir.path(), Some(smtpd.port));
    config.access.code_ttl_secs = 1;
    let server = TestServer::start(config).await;
    let mut browser = server.browser();
    let reply = browser.post_json("/api/auth/code", &code_body(AGENT)).await;
    assert_eq!(reply.json, json!({"sent": true, "expires_in": 1}));
    let mail = &smtpd.mails()[0];
    assert!(mail_body(mail).contains("valable 1 seconde"));
    let code = code_in(mail);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let reply = browser
        .post_json("/api/auth/verify", &verify_body(&code))
        .await;
    assert_eq!((reply.status, reply.error()), (400, "expired"));
    let reply = browser
        .post_json("/api/auth/verify", &verify_body(&code))
        .await;
    assert_eq!((reply.status, reply.error()), (400, "no_code"));
}

#[tokio::test]
async fn bad_requests_are_refused_and_send_nothing() {
    let smtpd = Smtpd::start();
    let dir = TempDir::new("bad");
    let server = TestServer::start(config(dir.path(), Some(smtpd.port))).await;
    let mut browser = server.browser();

    let reply = browser
        .post_json("/api/auth/code", &code_body("someone@gmail.com"))
        .await;
    assert_eq!((reply.status, reply.error()), (403, "domain_not_allowed"));
    let reply = browser
        .post_json("/api/auth/code", &code_body("someone@notgouv.fr"))
        .await;
    assert_eq!((reply.status, reply.error()), (403, "domain_not_allowed"));
    for bad in ["not an address", "", "a@b@gouv.fr", "agent@gouv..fr"] {
        let reply = browser.post_json("/api/auth/code", &code_body(bad)).await;
        assert_eq!((reply.status, reply.error()), (400, "bad_email"), "{bad:?}");
    }
    for body in [
        "",
        "{",
        "{\"mail\":\"agent@gouv.fr\"}",
        "[]",
        "{\"email\":5}",
    ] {
        let reply = browser.post_json("/api/auth/code", body).await;
        assert_eq!(
            (reply.status, reply.error()),
            (400, "bad_request"),
            "{body:?}"
        );
    }
    let big = json!({"email": AGENT, "pad": "x".repeat(5000)}).to_string();
    let reply = browser.post_json("/api/auth/code", &big).await;
    assert_eq!((reply.status, reply.error()), (400, "bad_request"));

    // Origin and content type: what a cross-site form cannot send.
    let origin = browser.origin();
    let body = code_body(AGENT);
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("Content-Type", "application/json")], "forbidden_origin"),
        (
            &[
                ("Origin", "https://evil.example"),
                ("Content-Type", "application/json"),
            ],
            "forbidden_origin",
        ),
        (
            &[("Origin", "null"), ("Content-Type", "application/json")],
            "forbidden_origin",
        ),
        (
            &[
                ("Origin", &origin),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            "bad_content_type",
        ),
        (&[("Origin", &origin)], "bad_content_type"),
    ];
    for (headers, error) in cases {
        for path in ["/api/auth/code", "/api/auth/verify", "/api/auth/logout"] {
            let reply = browser
                .request("POST", path, headers, Some(body.as_bytes()))
                .await;
            assert_eq!(
                (reply.status, reply.error()),
                (403, error),
                "{path} {headers:?}"
            );
        }
    }
    let charset = [
        ("Origin", origin.as_str()),
        ("Content-Type", "application/json; charset=utf-8"),
    ];
    let reply = browser
        .request(
            "POST",
            "/api/auth/code",
            &charset,
            Some(b"{\"email\":\"x@gmail.com\"}"),
        )
        .await;
    assert_eq!(
        reply.error(),
        "domain_not_allowed",
        "a charset parameter is fine"
    );

    let reply = browser
        .post_json("/api/auth/verify", &verify_body("123456"))
        .await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "no_code"),
        "no pending cookie"
    );
    let reply = browser.get("/api/auth/code").await;
    assert_eq!(reply.status, 405);

    assert!(smtpd.mails().is_empty(), "nothing was mailed");
}

#[tokio::test]
async fn code_requests_are_limited_per_address() {
    let smtpd = Smtpd::start();
    let dir = TempDir::new("ratelimit");
    let server = TestServer::start(config(dir.path(), Some(smtpd.port))).await;
    let mut browser = server.browser();
    for _ in 0..5 {
        let reply = browser.post_json("/api/auth/code", &code_body(AGENT)).await;
        assert_eq!(reply.status, 200, "{:?}", reply.json);
    }
    // From another browser too: the limit protects the mailbox, whoever asks.
    let reply = server
        .browser()
        .post_json("/api/auth/code", &code_body(AGENT))
        .await;
    assert_eq!((reply.status, reply.error()), (429, "rate_limited"));
    let retry = reply.json["retry_after"].as_u64().expect("retry_after");
    assert!((3590..=3600).contains(&retry), "{retry}");
    assert_eq!(
        reply.header("retry-after"),
        Some(retry.to_string().as_str())
    );
    assert_eq!(smtpd.mails().len(), 5);

    // Only the last code of a browser is alive: a new request replaces the pending one.
    let mails = smtpd.mails();
    let first = code_in(&mails[0]);
    let last = code_in(&mails[4]);
    if first != last {
        let reply = browser
            .post_json("/api/auth/verify", &verify_body(&first))
            .await;
        assert_eq!(reply.error(), "wrong_code");
    }
    let reply = browser
        .post_json("/api/auth/verify", &verify_body(&last))
        .await;
    assert_eq!(reply.status, 200);

    // Another address from the same client is still fine.
    let reply = browser
        .post_json("/api/auth/code", &code_body("autre@culture.gouv.fr"))
        .await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn code_requests_are_limited_per_client_address() {
    let smtpd = Smtpd::start();
    let dir = TempDir::new("ratelimit-ip");
    let mut config = config(dir.path(), Some(smtpd.port));
    config.access.code_requests_per_ip_per_hour = 3;
    let server = TestServer::start(config).await;
    for i in 0..3 {
        let reply = server
            .browser()
            .post_json("/api/auth/code", &code_body(&format!("agent{i}@gouv.fr")))
            .await;
        assert_eq!(reply.status, 200);
    }
    let reply = server
        .browser()
        .post_json("/api/auth/code", &code_body("agent9@gouv.fr"))
        .await;
    assert_eq!((reply.status, reply.error()), (429, "rate_limited"));
    assert_eq!(smtpd.mails().len(), 3);
}
