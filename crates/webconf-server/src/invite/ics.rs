//! The `.ics` file of a meeting (iCalendar, RFC 5545): one event with the link, attached to
//! invitations and served by `GET /api/ics` for the client's "add to my calendar" button.
//!
//! `METHOD:PUBLISH`: the file announces an event, it is not a meeting request to answer (there
//! is no organizer address to answer to), so calendars offer to add it and send nothing back.
//! Times are in UTC (`DTSTART:20261201T090000Z`): every calendar shows them in its user's own
//! time zone, and the file needs no `VTIMEZONE`.
//!
//! The output is exactly what RFC 5545 asks for: CRLF line endings, lines folded at 75 octets
//! (never inside a UTF-8 character), text values escaped.

use super::time::UtcTime;

/// Longest content line, in octets, without its CRLF (RFC 5545 §3.1).
const MAX_LINE: usize = 75;

/// What the calendar entry describes.
#[derive(Debug, Clone, Copy)]
pub struct Meeting<'a> {
    /// The meeting link, `https://<host>/<room>`.
    pub link: &'a str,
    /// When it starts.
    pub start: UtcTime,
    /// How long it is planned to last.
    pub minutes: u32,
}

/// The whole `.ics` text of `meeting`. `uid` must be unique for this event (a random value
/// `@` the service's host); `stamp` is when the file is made (`DTSTAMP`). Pure, for tests.
pub fn calendar(meeting: &Meeting<'_>, uid: &str, stamp: UtcTime) -> String {
    let link = meeting.link;
    let description = format!(
        "Lien de la réunion : {link}\n\
         Ouvrez ce lien dans un navigateur récent (Chrome, Edge, Chromium ou Firefox) \
         et autorisez l'accès à la caméra et au microphone.\n\
         \n\
         Meeting link: {link}\n\
         Open this link in a recent browser (Chrome, Edge, Chromium or Firefox) \
         and allow access to the camera and microphone."
    );
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//webconf//webconf invitation//FR".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}", escape_text(uid)),
        format!("DTSTAMP:{}", stamp.ics()),
        format!("DTSTART:{}", meeting.start.ics()),
        format!(
            "DTEND:{}",
            meeting.start.plus_minutes(meeting.minutes).ics()
        ),
        format!(
            "SUMMARY:{}",
            escape_text("Réunion webconf / webconf meeting")
        ),
        format!("LOCATION:{}", escape_text(link)),
        // URL is of type URI: no text escaping (RFC 5545 §3.8.4.6).
        format!("URL:{link}"),
        format!("DESCRIPTION:{}", escape_text(&description)),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    lines.iter().map(|l| fold(l)).collect()
}

/// A TEXT value (RFC 5545 §3.3.11): `\` `;` `,` escaped, line breaks as `\n`.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// One content line, folded (RFC 5545 §3.1): at most 75 octets per physical line, each
/// continuation starting with one space, never splitting a UTF-8 character; ends with CRLF.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > MAX_LINE {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> UtcTime {
        UtcTime::parse(s).unwrap()
    }

    /// The logical lines of an `.ics` text, unfolded.
    fn unfold(ics: &str) -> Vec<String> {
        ics.replace("\r\n ", "")
            .split("\r\n")
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_event_has_every_field_in_utc() {
        let link = "https://webconf.example.gouv.fr/reunion2024abc";
        let meeting = Meeting {
            link,
            start: t("2026-12-01T09:00:00Z"),
            minutes: 90,
        };
        let ics = calendar(
            &meeting,
            "0123abcd@webconf.example.gouv.fr",
            t("2026-11-20T08:00:00Z"),
        );
        assert!(
            ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"),
            "{ics}"
        );
        assert!(ics.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"), "{ics}");
        let lines = unfold(&ics);
        for want in [
            "METHOD:PUBLISH",
            "UID:0123abcd@webconf.example.gouv.fr",
            "DTSTAMP:20261120T080000Z",
            "DTSTART:20261201T090000Z",
            "DTEND:20261201T103000Z",
            "SUMMARY:Réunion webconf / webconf meeting",
            "LOCATION:https://webconf.example.gouv.fr/reunion2024abc",
            "URL:https://webconf.example.gouv.fr/reunion2024abc",
        ] {
            assert!(lines.iter().any(|l| l == want), "{want} in {lines:#?}");
        }
        let description = lines
            .iter()
            .find(|l| l.starts_with("DESCRIPTION:"))
            .expect("description");
        assert!(description
            .contains("Lien de la réunion : https://webconf.example.gouv.fr/reunion2024abc\\n"));
        assert!(
            description.contains("Meeting link: https://webconf.example.gouv.fr/reunion2024abc\\n")
        );
        assert!(
            description.contains("(Chrome\\, Edge\\, Chromium ou Firefox)"),
            "{description}"
        );
        // No bare LF, every physical line within 75 octets.
        assert!(!ics.replace("\r\n", "").contains('\n'));
        assert!(ics.split("\r\n").all(|l| l.len() <= 75), "{ics}");
        assert!(ics.contains("\r\n "), "the description is folded");
        assert_eq!(ics.matches("BEGIN:").count(), 2);
    }

    #[test]
    fn folding_keeps_utf8_characters_whole() {
        assert_eq!(fold("SUMMARY:short"), "SUMMARY:short\r\n");
        let exact = "X".repeat(75);
        assert_eq!(fold(&exact), format!("{exact}\r\n"));
        let long = "X".repeat(76);
        assert_eq!(fold(&long), format!("{}\r\n X\r\n", "X".repeat(75)));
        // "é" is two octets: a line of 74 octets plus "é" would be 76, so "é" moves down.
        let line = format!("{}é{}", "a".repeat(74), "b".repeat(200));
        let folded = fold(&line);
        for physical in folded.split("\r\n") {
            assert!(physical.len() <= 75, "{physical:?}");
        }
        assert!(
            folded.starts_with(&format!("{}\r\n é", "a".repeat(74))),
            "{folded}"
        );
        assert_eq!(folded.replace("\r\n ", "").trim_end(), line);
        let emoji = "🎥".repeat(40);
        assert_eq!(fold(&emoji).replace("\r\n ", "").trim_end(), emoji);
    }

    #[test]
    fn text_values_are_escaped() {
        assert_eq!(escape_text("a,b;c\\d\r\ne"), "a\\,b\\;c\\\\d\\ne");
        assert_eq!(escape_text("plain"), "plain");
    }
}
