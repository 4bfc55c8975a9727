//! Invitations (`docs/access-policy.md`, "Invitations") through the real HTTP API and a real
//! SMTP server: who may invite, what the mails say (and never say), the calendar file, the
//! limits, and `GET /api/ics`.

use serde_json::{json, Value};
use webconf_server::config::{AccessConfig, Config};

use crate::support::{
    captured_logs, code_in, config, free_port, mail_body, mail_header, Browser, Smtpd, TempDir,
    TestServer,
};

const ROOM: &str = "reunion2024abc";
const START: &str = "2026-12-01T09:00:00Z";

/// The test configuration with loopback back in an agents zone: the test browser (127.0.0.1)
/// is then an agent by network.
fn network_agents(dir: &std::path::Path, smtp: Option<u16>) -> Config {
    let mut config = config(dir, smtp);
    config.access.zones = AccessConfig::default().zones;
    config
}

fn invite_body(emails: &[&str], start: Option<&str>) -> String {
    let mut body = json!({ "room": ROOM, "emails": emails });
    if let Some(start) = start {
        body["start"] = json!(start);
    }
    body.to_string()
}

/// The MIME parts of a `multipart/*` mail, each as its own headers, blank line, body.
fn parts(mail: &str) -> Vec<String> {
    let mail = mail.replace("\r\n", "\n");
    let boundary = mail
        .split("boundary=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a multipart mail");
    let delimiter = format!("--{boundary}");
    mail.split(&delimiter)
        .skip(1)
        .filter(|p| !p.starts_with("--"))
        .map(|p| p.trim_start_matches('\n').to_owned())
        .collect()
}

fn base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for b in text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'=')
    {
        let v = ALPHABET.iter().position(|&a| a == b).expect("base64") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// The `Subject` of a mail, unfolded, RFC 2047 encoded words decoded.
fn subject_of(mail: &str) -> String {
    let mail = mail.replace("\r\n", "\n");
    let head = mail.split("\n\n").next().unwrap_or("").replace("\n ", " ");
    let value = head
        .lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .expect("a Subject");
    value
        .split_whitespace()
        .map(|word| {
            let lower = word.to_ascii_lowercase();
            match lower
                .strip_prefix("=?utf-8?b?")
                .and_then(|w| w.strip_suffix("?="))
            {
                Some(_) => String::from_utf8(base64(&word[10..word.len() - 2])).expect("UTF-8"),
                None => format!(" {word} "),
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The decoded `text/calendar` attachment of an invitation mail.
fn calendar_of(mail: &str) -> String {
    let part = parts(mail)
        .into_iter()
        .find(|p| p.contains("Content-Type: text/calendar"))
        .expect("a text/calendar part");
    assert!(
        part.contains("Content-Type: text/calendar; charset=utf-8; method=PUBLISH\n"),
        "{part}"
    );
    assert!(
        part.contains("Content-Transfer-Encoding: base64\n"),
        "{part}"
    );
    let (_, encoded) = part.split_once("\n\n").expect("part body");
    String::from_utf8(base64(encoded)).expect("UTF-8 calendar")
}

/// Checks an `.ics` text the way a strict calendar parser would, and returns its logical
/// lines (unfolded).
fn check_ics(ics: &str) -> Vec<String> {
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics:?}");
    assert!(ics.ends_with("END:VCALENDAR\r\n"), "{ics:?}");
    assert!(
        !ics.replace("\r\n", "").contains(['\r', '\n']),
        "CRLF only: {ics:?}"
    );
    for physical in ics.split("\r\n") {
        assert!(physical.len() <= 75, "folded at 75 octets: {physical:?}");
    }
    let lines: Vec<String> = ics
        .replace("\r\n ", "")
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    for want in [
        "VERSION:2.0",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        "END:VEVENT",
    ] {
        assert!(lines.iter().any(|l| l == want), "{want} in {lines:#?}");
    }
    let uid = lines.iter().find(|l| l.starts_with("UID:")).expect("UID");
    assert!(uid.len() > 4 + 32, "{uid}");
    lines
}

fn line<'a>(lines: &'a [String], name: &str) -> &'a str {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(':')))
        .unwrap_or_else(|| panic!("{name} in {lines:#?}"))
}

/// Makes `browser` an agent by e-mail with the code flow, as the web client does.
async fn prove(browser: &mut Browser, smtpd: &Smtpd, email: &str) {
    let before = smtpd.mails().len();
    let reply = browser
        .post_json("/api/auth/code", &json!({ "email": email }).to_string())
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    let code = code_in(&smtpd.mails()[before]);
    let reply = browser
        .post_json("/api/auth/verify", &json!({ "code": code }).to_string())
        .await;
    assert_eq!(reply.json["agent"], true, "{:?}", reply.json);
}

#[tokio::test]
async fn an_agent_invites_two_people_who_get_the_link_and_no_password() {
    let smtpd = Smtpd::start();
    let dir = TempDir::new("invite");
    let mut config = config(dir.path(), Some(smtpd.port));
    config.mail.public_url = "https://webconf.test".to_owned();
    let server = TestServer::start(config).await;
    let mut browser = server.browser();
    prove(&mut browser, &smtpd, "Organisatrice@Interieur.gouv.fr").await;
    let code_mails = smtpd.mails().len();

    // Invitees may be anyone: no domain allow-list for them.
    let reply = browser
        .post_json(
            "/api/invite",
            &invite_body(
                &["alice@x.gouv.fr", "Bob@Example.com", "alice@X.GOUV.FR"],
                None,
            ),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    assert_eq!(
        reply.json,
        json!({"sent": 2, "failed": []}),
        "duplicates mailed once"
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));

    let mails = smtpd.mails();
    let invitations = &mails[code_mails..];
    assert_eq!(invitations.len(), 2, "one mail per invitee");
    let mut to: Vec<&str> = invitations
        .iter()
        .map(|m| mail_header(m, "To").expect("To"))
        .collect();
    to.sort();
    assert_eq!(
        to,
        ["alice@x.gouv.fr", "bob@example.com"],
        "nobody sees the others"
    );
    for mail in invitations {
        assert_eq!(
            subject_of(mail),
            "Invitation à une réunion webconf / Invitation to a webconf meeting"
        );
        assert_eq!(
            mail_header(mail, "From"),
            Some("Webconf <no-reply@webconf.test>")
        );
        assert_eq!(
            mail_header(mail, "Content-Type"),
            Some("text/plain; charset=utf-8"),
            "no date, no calendar: a single text part"
        );
        let body = mail_body(mail);
        assert!(
            body.contains("\n    https://webconf.test/reunion2024abc\n"),
            "the link, on its own line: {body}"
        );
        assert!(body.contains("Bonjour") && body.contains("Hello"), "{body}");
        assert!(body.find("Bonjour") < body.find("Hello"), "French first");
        assert!(
            body.contains("Un agent de l'État (interieur.gouv.fr) vous invite")
                && body.contains("A State agent (interieur.gouv.fr) invites you"),
            "the service, from the agent's domain: {body}"
        );
        assert!(
            !body.to_lowercase().contains("organisatrice"),
            "never the agent's own address: {body}"
        );
        assert!(body.contains("Firefox") && body.contains("microphone"));
        for line in body.lines() {
            let lower = line.trim_start().to_lowercase();
            assert!(
                !lower.starts_with("mot de passe") && !lower.starts_with("password"),
                "no password line: {line}"
            );
        }
    }

    // Nothing personal was logged: no invitee, no agent address, no room name.
    let logs = captured_logs();
    assert!(
        logs.contains("invitations mailed"),
        "capture works:\n{logs}"
    );
    for secret in [
        "alice",
        "bob@",
        "Bob@",
        "example.com",
        "organisatrice",
        ROOM,
    ] {
        assert!(!logs.contains(secret), "{secret:?} was logged:\n{logs}");
    }
}

#[tokio::test]
async fn with_a_date_the_mail_carries_a_calendar_file() {
    let smtpd = Smtpd::start();
    let dir = TempDir::new("invite-ics");
    let server = TestServer::start(network_agents(dir.path(), Some(smtpd.port))).await;
    let mut browser = server.browser();
    let origin = browser.origin();
    let body = json!({"room": "Reunion2024ABC", "emails": ["invite@example.com"], "start": START, "minutes": 90});
    let reply = browser.post_json("/api/invite", &body.to_string()).await;
    assert_eq!(reply.json, json!({"sent": 1, "failed": []}));

    let mails = smtpd.mails();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(
        mail_header(mail, "Content-Type").is_some_and(|v| v.starts_with("multipart/mixed")),
        "{mail}"
    );
    let text = parts(mail)
        .into_iter()
        .find(|p| p.starts_with("Content-Type: text/plain"))
        .expect("a text part");
    let text = mail_body(&text);
    // No public_url: a first try on the server itself links to its loopback origin.
    let link = format!("{origin}/reunion2024abc");
    assert!(text.contains(&format!("\n    {link}\n")), "{text}");
    assert!(
        text.contains("Un agent de l'État vous invite"),
        "network agent: {text}"
    );
    assert!(
        text.contains("mardi 1er décembre 2026 à 10 h 00, heure de Paris"),
        "{text}"
    );
    assert!(text.contains("2026-12-01T09:00:00Z"), "{text}");
    assert!(
        text.contains("Tuesday 1 December 2026 at 10:00, Paris time"),
        "{text}"
    );
    assert!(text.contains("90 minutes"));

    let ics = calendar_of(mail);
    let lines = check_ics(&ics);
    assert_eq!(line(&lines, "DTSTART"), "20261201T090000Z");
    assert_eq!(line(&lines, "DTEND"), "20261201T103000Z");
    assert_eq!(line(&lines, "URL"), link);
    assert!(line(&lines, "DESCRIPTION").contains(&link));
    assert!(
        parts(mail)
            .iter()
            .any(|p| p.contains("filename=\"webconf-reunion2024abc.ics\"")),
        "{mail}"
    );
}

#[tokio::test]
async fn guests_and_foreign_pages_cannot_invite() {
    let smtpd = Smtpd::start();
    let dir = TempDir::new("invite-guest");
    let server = TestServer::start(config(dir.path(), Some(smtpd.port))).await;
    let mut browser = server.browser();
    assert_eq!(browser.get("/api/session").await.json["agent"], false);
    let body = invite_body(&["someone@example.com"], None);
    let reply = browser.post_json("/api/invite", &body).await;
    assert_eq!((reply.status, reply.error()), (403, "forbidden"));

    // The POST checks of the access API, before anything else.
    let origin = browser.origin();
    let cases: [(&[(&str, &str)], &str); 3] = [
        (&[("Content-Type", "application/json")], "forbidden_origin"),
        (
            &[
                ("Origin", "https://evil.example"),
                ("Content-Type", "application/json"),
            ],
            "forbidden_origin",
        ),
        (
            &[("Origin", &origin), ("Content-Type", "text/plain")],
            "bad_content_type",
        ),
    ];
    for (headers, error) in cases {
        let reply = browser
            .request("POST", "/api/invite", headers, Some(body.as_bytes()))
            .await;
        assert_eq!((reply.status, reply.error()), (403, error), "{headers:?}");
    }
    assert_eq!(browser.get("/api/invite").await.status, 405);
    assert!(smtpd.mails().is_empty());
}

#[tokio::test]
async fn bad_invitations_are_refused_and_send_nothing() {
    let smtpd = Smtpd::start();
    let dir = TempDir::new("invite-bad");
    let server = TestServer::start(network_agents(dir.path(), Some(smtpd.port))).await;
    let mut browser = server.browser();

    let reply = browser
        .post_json(
            "/api/invite",
            &invite_body(
                &["ok@example.com", "also.ok@x.gouv.fr", "not an address"],
                None,
            ),
        )
        .await;
    assert_eq!((reply.status, reply.error()), (400, "bad_email"));
    assert_eq!(reply.json["index"], 2);

    let many: Vec<String> = (0..21).map(|i| format!("p{i}@example.com")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let reply = browser
        .post_json("/api/invite", &invite_body(&many, None))
        .await;
    assert_eq!((reply.status, reply.error()), (400, "too_many_recipients"));
    assert_eq!(reply.json["max"], 20);

    for room in ["short1", "reunion-2024-abc", "reunionsanschiffres", ""] {
        let body = json!({"room": room, "emails": ["a@example.com"]});
        let reply = browser.post_json("/api/invite", &body.to_string()).await;
        assert_eq!(
            (reply.status, reply.error()),
            (400, "bad_room_name"),
            "{room:?}"
        );
    }
    let bad_bodies = [
        json!({"room": ROOM, "emails": []}),
        json!({"room": ROOM}),
        json!({"room": ROOM, "emails": "a@example.com"}),
        json!({"room": ROOM, "emails": ["a@example.com"], "start": "2026-12-01T10:00:00+01:00"}),
        json!({"room": ROOM, "emails": ["a@example.com"], "start": "2026-02-30T10:00:00Z"}),
        json!({"room": ROOM, "emails": ["a@example.com"], "start": START, "minutes": 4}),
        json!({"room": ROOM, "emails": ["a@example.com"], "start": START, "minutes": 1441}),
        json!({"room": ROOM, "emails": ["a@example.com"], "start": START, "minutes": "60"}),
        json!({"room": ROOM, "emails": ["a@example.com"], "pad": "x".repeat(17 * 1024)}),
    ];
    for body in bad_bodies {
        let reply = browser.post_json("/api/invite", &body.to_string()).await;
        assert_eq!(
            (reply.status, reply.error()),
            (400, "bad_request"),
            "{body}"
        );
    }
    // 16 KiB is enough for twenty long addresses.
    let long: Vec<String> = (0..20)
        .map(|i| {
            format!(
                "{}{i:02}@{}.{}.example.com",
                "l".repeat(62),
                "d".repeat(63),
                "e".repeat(63)
            )
        })
        .collect();
    let long: Vec<&str> = long.iter().map(String::as_str).collect();
    let body = invite_body(&long, Some(START));
    assert!(body.len() > 4096, "{}", body.len());
    assert!(smtpd.mails().is_empty(), "nothing was mailed");
    let reply = browser.post_json("/api/invite", &body).await;
    assert_eq!(reply.json, json!({"sent": 20, "failed": []}));
    assert_eq!(smtpd.mails().len(), 20);
}

#[tokio::test]
async fn recipients_per_agent_and_hour_are_capped_whole_batches_at_a_time() {
    let smtpd = Smtpd::start();
    let dir = TempDir::new("invite-cap");
    let mut config = network_agents(dir.path(), Some(smtpd.port));
    config.mail.invite_max_recipients = 3;
    config.mail.invite_per_agent_per_hour = 5;
    let server = TestServer::start(config).await;
    let mut browser = server.browser();

    let first = ["a@example.com", "b@example.com", "c@example.com"];
    let reply = browser
        .post_json("/api/invite", &invite_body(&first, None))
        .await;
    assert_eq!(reply.json["sent"], 3);
    let many = [
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "d@example.com",
    ];
    let reply = browser
        .post_json("/api/invite", &invite_body(&many, None))
        .await;
    assert_eq!((reply.status, reply.error()), (400, "too_many_recipients"));

    // 3 + 3 > 5: the whole second batch is refused and nothing of it is sent...
    let reply = browser
        .post_json("/api/invite", &invite_body(&first, None))
        .await;
    assert_eq!((reply.status, reply.error()), (429, "rate_limited"));
    let retry = reply.json["retry_after"].as_u64().expect("retry_after");
    assert!((3590..=3600).contains(&retry), "{retry}");
    assert_eq!(
        reply.header("retry-after"),
        Some(retry.to_string().as_str())
    );
    assert_eq!(smtpd.mails().len(), 3);
    // ...nor counted: the 2 that are left can still be used, by another browser of the agent.
    let reply = server
        .browser()
        .post_json(
            "/api/invite",
            &invite_body(&["d@example.com", "e@example.com"], None),
        )
        .await;
    assert_eq!(reply.json, json!({"sent": 2, "failed": []}));
    let reply = browser
        .post_json("/api/invite", &invite_body(&["f@example.com"], None))
        .await;
    assert_eq!((reply.status, reply.error()), (429, "rate_limited"));
    assert_eq!(smtpd.mails().len(), 5);
}

#[tokio::test]
async fn a_relay_that_is_down_gives_mail_failed_and_costs_nothing() {
    let dir = TempDir::new("invite-down");
    let mut config = network_agents(dir.path(), Some(free_port()));
    config.mail.invite_max_recipients = 3;
    config.mail.invite_per_agent_per_hour = 3;
    let server = TestServer::start(config).await;
    let mut browser = server.browser();
    let three = ["a@example.com", "b@example.com", "c@example.com"];
    for _ in 0..3 {
        let reply = browser
            .post_json("/api/invite", &invite_body(&three, None))
            .await;
        assert_eq!(
            (reply.status, reply.error()),
            (502, "mail_failed"),
            "not rate_limited: unsent mails are not counted"
        );
    }
}

#[tokio::test]
async fn without_a_known_public_address_no_link_is_made() {
    let smtpd = Smtpd::start();
    let dir = TempDir::new("invite-nourl");
    let server = TestServer::start(network_agents(dir.path(), Some(smtpd.port))).await;
    // The page claims another origin through a forged Host: never written in a mail.
    let headers = [
        ("Origin", "http://visio.evil.example"),
        ("Content-Type", "application/json"),
    ];
    let body = invite_body(&["a@example.com"], None);
    let (status, json) = post_with_host(
        &server,
        "visio.evil.example",
        "/api/invite",
        &headers,
        body.as_bytes(),
    )
    .await;
    assert_eq!(
        (status, json["error"].as_str()),
        (503, Some("no_public_url")),
        "{json}"
    );
    assert!(smtpd.mails().is_empty());
}

#[tokio::test]
async fn the_calendar_file_can_be_downloaded_by_anyone() {
    let dir = TempDir::new("ics");
    let mut config = config(dir.path(), None);
    config.mail.public_url = "https://webconf.test".to_owned();
    let server = TestServer::start(config).await;
    let mut browser = server.browser();
    assert_eq!(
        browser.get("/api/session").await.json["agent"],
        false,
        "a guest"
    );

    let (status, headers, ics) = raw_get(
        &server,
        "/api/ics?room=Reunion2024ABC&start=2026-12-01T09:00:00.000Z&minutes=45",
    )
    .await;
    assert_eq!(status, 200, "{ics}");
    let header = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("content-type"), Some("text/calendar; charset=utf-8"));
    assert_eq!(
        header("content-disposition"),
        Some("attachment; filename=\"webconf-reunion2024abc.ics\"")
    );
    assert_eq!(header("cache-control"), Some("no-store"));
    let lines = check_ics(&ics);
    assert_eq!(line(&lines, "DTSTART"), "20261201T090000Z");
    assert_eq!(line(&lines, "DTEND"), "20261201T094500Z");
    assert_eq!(line(&lines, "URL"), "https://webconf.test/reunion2024abc");
    assert!(ics.contains("\r\n "), "long lines are folded: {ics}");
    let (_, _, default) = raw_get(
        &server,
        "/api/ics?room=reunion2024abc&start=2026-12-01T09:00:00Z",
    )
    .await;
    assert_eq!(
        line(&check_ics(&default), "DTEND"),
        "20261201T100000Z",
        "60 minutes by default"
    );

    for query in [
        "room=reunion2024abc",
        "room=reunion2024abc&start=2026-12-01T09:00:00",
        "room=reunion2024abc&start=2026-12-01T10:00:00%2B01:00",
        "room=reunion2024abc&start=2026-13-01T09:00:00Z",
        "room=reunion2024abc&start=2026-12-01T09:00:00Z&minutes=4",
        "room=reunion2024abc&start=2026-12-01T09:00:00Z&minutes=1441",
        "room=reunion2024abc&start=2026-12-01T09:00:00Z&minutes=-5",
        "room=reunion2024abc&start=2026-12-01T09:00:00Z&minutes=60.5",
        "room=reunion2024abc&start=2026-12-01T09:00:00Z&minutes=",
        "room=reunion2024abc&start=2026-12-01T09:00:00Z&minutes=99999999999",
        "room=reunion2024abc&start=2026-12-01T09:00:00Z&start=2026-12-02T09:00:00Z",
    ] {
        let reply = browser.get(&format!("/api/ics?{query}")).await;
        assert_eq!(
            (reply.status, reply.error()),
            (400, "bad_request"),
            "{query}"
        );
    }
    for query in [
        "start=2026-12-01T09:00:00Z",
        "room=court1&start=2026-12-01T09:00:00Z",
        "room=reunion%2F2024abc&start=2026-12-01T09:00:00Z",
        "room=reunion2024abc%0D%0AX:1&start=2026-12-01T09:00:00Z",
    ] {
        let reply = browser.get(&format!("/api/ics?{query}")).await;
        assert_eq!(
            (reply.status, reply.error()),
            (400, "bad_room_name"),
            "{query}"
        );
    }
}

/// A GET whose body is not JSON: status, headers and the raw body text.
async fn raw_get(server: &TestServer, path: &str) -> (u16, Vec<(String, String)>, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        server.addr
    );
    stream.write_all(req.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8(raw).expect("UTF-8 answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    assert!(!chunked, "a sized body");
    (status, headers, body.to_owned())
}

/// A POST like `Browser::request`, but with another `Host` than the server's address.
async fn post_with_host(
    server: &TestServer,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut req = format!("POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    stream.write_all(req.as_bytes()).await.expect("send");
    stream.write_all(body).await.expect("send body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}
