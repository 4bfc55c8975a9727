//! The mail transport against a real SMTP server: STARTTLS with an internal CA, STARTTLS that
//! is never given up, a relay that is down, and the outbox of a first try without SMTP.

use std::time::{Duration, Instant};

use serde_json::json;

use webconf_server::config::SmtpTls;

use crate::support::{code_in, config, free_port, Smtpd, TempDir, TestServer};

const AGENT: &str = "agent@interieur.gouv.fr";

fn code_body() -> String {
    json!({ "email": AGENT }).to_string()
}

/// A self-signed certificate for `localhost` and 127.0.0.1, written as PEM files in `dir`;
/// the certificate doubles as the CA to trust.
fn certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let certified = rcgen::generate_simple_self_signed(names).expect("certificate");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).expect("write cert");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("write key");
    (cert, key)
}

#[tokio::test]
async fn starttls_with_an_internal_ca() {
    let dir = TempDir::new("starttls");
    let (cert, key) = certificate(dir.path());
    let smtpd = Smtpd::start_with_starttls(&cert, &key);
    let mut config = config(dir.path(), Some(smtpd.port));
    config.mail.smtp_host = "localhost".to_owned();
    config.mail.smtp_tls = SmtpTls::Starttls;
    config.mail.smtp_ca_file = cert.clone();
    let server = TestServer::start(config).await;
    let mut browser = server.browser();
    let reply = browser.post_json("/api/auth/code", &code_body()).await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    let code = code_in(&smtpd.mails()[0]);
    let reply = browser
        .post_json("/api/auth/verify", &json!({ "code": code }).to_string())
        .await;
    assert_eq!(reply.json, json!({"agent": true, "email": AGENT}));
}

#[tokio::test]
async fn starttls_is_required_not_opportunistic() {
    // A relay that offers no STARTTLS (or a man in the middle that strips it) gets nothing.
    let smtpd = Smtpd::start();
    let dir = TempDir::new("no-starttls");
    let mut config = config(dir.path(), Some(smtpd.port));
    config.mail.smtp_host = "localhost".to_owned();
    config.mail.smtp_tls = SmtpTls::Starttls;
    let server = TestServer::start(config).await;
    let reply = server
        .browser()
        .post_json("/api/auth/code", &code_body())
        .await;
    assert_eq!((reply.status, reply.error()), (502, "mail_failed"));
    assert!(smtpd.mails().is_empty());

    // And a certificate from an unknown CA is refused.
    let (cert, key) = certificate(dir.path());
    let smtpd = Smtpd::start_with_starttls(&cert, &key);
    let mut config = crate::support::config(dir.path(), Some(smtpd.port));
    config.mail.smtp_host = "localhost".to_owned();
    config.mail.smtp_tls = SmtpTls::Starttls;
    let server = TestServer::start(config).await;
    let reply = server
        .browser()
        .post_json("/api/auth/code", &code_body())
        .await;
    assert_eq!((reply.status, reply.error()), (502, "mail_failed"));
    assert!(smtpd.mails().is_empty());
}

#[tokio::test]
async fn a_relay_that_is_down_gives_mail_failed_quickly() {
    let dir = TempDir::new("down");
    let server = TestServer::start(config(dir.path(), Some(free_port()))).await;
    let mut browser = server.browser();
    let started = Instant::now();
    let reply = browser.post_json("/api/auth/code", &code_body()).await;
    assert_eq!((reply.status, reply.error()), (502, "mail_failed"));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(
        reply.set_cookies().is_empty(),
        "no pending cookie for a code nobody received"
    );

    // The server keeps answering; the next requests fail at once, without counting against
    // the address's limit (5 per hour): more than 5 are answered mail_failed, not rate_limited.
    assert_eq!(browser.get("/api/session").await.status, 200);
    for _ in 0..6 {
        let started = Instant::now();
        let reply = browser.post_json("/api/auth/code", &code_body()).await;
        assert_eq!((reply.status, reply.error()), (502, "mail_failed"));
        assert!(started.elapsed() < Duration::from_secs(1));
    }
    assert_eq!(browser.get("/api/session").await.json["agent"], false);
}

#[tokio::test]
async fn without_smtp_the_mail_goes_to_the_outbox() {
    let dir = TempDir::new("outbox");
    let config = config(dir.path(), None);
    let outbox = config.mail.outbox(&config.data_dir);
    let server = TestServer::start(config).await;
    let mut browser = server.browser();
    let reply = browser.post_json("/api/auth/code", &code_body()).await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    let files: Vec<_> = std::fs::read_dir(&outbox)
        .expect("outbox")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1);
    let mail = std::fs::read_to_string(&files[0]).expect("read the .eml");
    let code = code_in(&mail);
    let reply = browser
        .post_json("/api/auth/verify", &json!({ "code": code }).to_string())
        .await;
    assert_eq!(reply.json, json!({"agent": true, "email": AGENT}));
}
