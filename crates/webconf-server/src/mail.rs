//! Outgoing mail: the one-time code, and invitations to a meeting ([`invitation_mail`],
//! [`Mailer::send_with_calendar`]).
//!
//! A [`Mailer`] sends through an SMTP relay (`[mail] smtp_host`) or, with no relay configured,
//! writes each mail as an `.eml` file into the outbox directory, so that a first try works
//! without a mail server.
//!
//! Invariants:
//! - **No personal data or secret is ever logged**: not the recipient's address, not the code,
//!   not the relay's reply text (which often quotes the address). Errors carry only a
//!   category, an SMTP status code, or an I/O or TLS reason ([`MailError`]).
//! - STARTTLS is required, never opportunistic: a relay that does not offer it is sent nothing,
//!   not even the envelope. Plain SMTP is only possible towards a loopback relay
//!   (validated in [`crate::config::MailConfig`]).
//! - Mails are plain text, UTF-8, French and English, with a `Message-ID` and a `Date`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tracing::{info, warn};
use webconf_access::email::EmailAddress;
use webconf_access::token::random_hex;

use crate::config::{Config, SmtpTls};
use crate::invite::time::{Civil, UtcTime};

/// Why the mailer could not be built at start-up. Names the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum MailSetupError {
    /// `mail.smtp_password_file` could not be read, or is empty.
    #[error("mail.smtp_password_file {}: {reason}", path.display())]
    PasswordFile {
        /// The file named in the configuration.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// `mail.smtp_ca_file` could not be read or holds no PEM certificate.
    #[error("mail.smtp_ca_file {}: {reason}", path.display())]
    CaFile {
        /// The file named in the configuration.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The TLS parameters for the relay could not be built.
    #[error("mail.smtp_host: cannot set up TLS towards the relay: {0}")]
    Tls(String),
    /// `mail.from` is not a mailbox (normally caught by `Config::validate`).
    #[error("mail.from is not an address or `Name <address>`")]
    From,
}

/// Why one mail was not sent. The `Display` text is safe to log and to show an operator:
/// it never contains the recipient, the code or the relay's reply text.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The recipient passed our e-mail check but cannot be put in an SMTP envelope.
    #[error("the recipient address cannot be used in a mail")]
    Address,
    /// The message could not be assembled (should not happen with a validated `from`).
    #[error("the message could not be built")]
    Build,
    /// The relay answered with an SMTP error (the text is the status code, never the reply).
    #[error("SMTP: {0}")]
    Refused(String),
    /// The relay could not be reached or the connection failed (connection refused, TLS,
    /// STARTTLS not offered, authentication impossible); the text is the I/O or TLS reason.
    #[error("SMTP: {0}")]
    Unreachable(String),
    /// The whole exchange with the relay took longer than allowed.
    #[error("SMTP: no answer within {0:?}")]
    Timeout(Duration),
    /// The outbox file could not be written (no relay configured).
    #[error("cannot write to the outbox: {0}")]
    Outbox(std::io::Error),
}

impl MailError {
    /// True when the relay itself is out of reach (not a refusal of this one mail): the
    /// caller may stop trying for a moment.
    pub fn relay_unreachable(&self) -> bool {
        matches!(self, MailError::Unreachable(_) | MailError::Timeout(_))
    }
}

/// The language to put first in a mail; the other follows. French unless the browser
/// prefers English ([`Lang::from_accept_language`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// French first, then English.
    #[default]
    Fr,
    /// English first, then French.
    En,
}

impl Lang {
    /// Picks the language from an `Accept-Language` header: the French or English entry with
    /// the highest weight wins (the first on a tie); French when neither is there.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for entry in header.unwrap_or("").split(',') {
            let mut parts = entry.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let primary = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
            let lang = match primary.as_str() {
                "fr" => Lang::Fr,
                "en" => Lang::En,
                _ => continue,
            };
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::Fr, |(_, lang)| lang)
    }
}

/// Sends mail. Cheap to clone (one `Arc`); build one at start-up with [`Mailer::new`].
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    from: Mailbox,
    /// Right-hand side of our `Message-ID`s: the `from` domain, so ids are ours.
    id_domain: String,
    /// How long a code is valid, to tell the reader.
    code_ttl: Duration,
    transport: Transport,
}

enum Transport {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// Bound on a whole send (connection, TLS, authentication, message).
        deadline: Duration,
    },
    Outbox(PathBuf),
}

impl Mailer {
    /// Builds the mailer from `[mail]` (and `access.code_ttl_secs` for the code mail's text).
    /// Reads `mail.smtp_password_file` and `mail.smtp_ca_file`; opens no connection. Call once
    /// at start-up.
    pub fn new(config: &Config) -> Result<Mailer, MailSetupError> {
        let mail = &config.mail;
        let from: Mailbox = mail.from.parse().map_err(|_| MailSetupError::From)?;
        let id_domain = from.email.domain().to_owned();
        let transport = if mail.uses_smtp() {
            if id_domain.eq_ignore_ascii_case("localhost") {
                warn!(
                    "mail.from is an @localhost address: most SMTP relays refuse it; set mail.from"
                );
            }
            let mut tls = TlsParameters::builder(mail.smtp_host.clone());
            if !mail.smtp_ca_file.as_os_str().is_empty() {
                let path = &mail.smtp_ca_file;
                let ca_error = |reason: String| MailSetupError::CaFile {
                    path: path.clone(),
                    reason,
                };
                let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
                let cert = Certificate::from_pem(&pem).map_err(|e| ca_error(e.to_string()))?;
                tls = tls.add_root_certificate(cert);
            }
            let tls = tls
                .build()
                .map_err(|e| MailSetupError::Tls(e.to_string()))?;
            let tls = match mail.smtp_tls {
                SmtpTls::Starttls => Tls::Required(tls),
                SmtpTls::Tls => Tls::Wrapper(tls),
                SmtpTls::None => Tls::None,
            };
            let mut builder =
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(mail.smtp_host.as_str())
                    .port(mail.smtp_port)
                    .tls(tls)
                    .timeout(Some(mail.timeout()));
            if !mail.smtp_username.is_empty() {
                let password = read_password(&mail.smtp_password_file)?;
                builder =
                    builder.credentials(Credentials::new(mail.smtp_username.clone(), password));
            }
            info!(
                relay = format!("{}:{}", mail.smtp_host, mail.smtp_port),
                tls = ?mail.smtp_tls,
                "mail goes through an SMTP relay"
            );
            Transport::Smtp {
                transport: builder.build(),
                deadline: mail.timeout() * 2,
            }
        } else {
            let outbox = mail.outbox(&config.data_dir);
            warn!(
                outbox = %outbox.display(),
                "no SMTP relay (mail.smtp_host is empty): mails will be written to the outbox \
                 directory instead of being sent; configure [mail] before real use"
            );
            Transport::Outbox(outbox)
        };
        Ok(Mailer {
            inner: Arc::new(Inner {
                from,
                id_domain,
                code_ttl: config.access.code_ttl(),
                transport,
            }),
        })
    }

    /// Sends the one-time `code` to `to`, in both languages, `lang` first. Call it after the
    /// code store issued the code; the caller answers `mail_failed` on error.
    pub async fn send_code(
        &self,
        to: &EmailAddress,
        code: &str,
        lang: Lang,
    ) -> Result<(), MailError> {
        let (subject, body) = code_mail(code, self.inner.code_ttl, lang);
        self.send(to, &subject, &body).await
    }

    /// Sends a plain-text UTF-8 mail. Never logs `to` or the content.
    pub async fn send(
        &self,
        to: &EmailAddress,
        subject: &str,
        text_body: &str,
    ) -> Result<(), MailError> {
        let message = self.build(to, subject, text_body)?;
        self.deliver(message).await
    }

    /// Assembles the message: headers, a random `Message-ID` in our domain, the date, and a
    /// quoted-printable UTF-8 text body (quoted-printable keeps the code readable as is).
    fn build(
        &self,
        to: &EmailAddress,
        subject: &str,
        text_body: &str,
    ) -> Result<Message, MailError> {
        let to: Address = to.as_str().parse().map_err(|_| MailError::Address)?;
        let id = format!("<{}@{}>", random_hex(16), self.inner.id_domain);
        let body = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .header(ContentTransferEncoding::QuotedPrintable)
            .body(text_body.to_owned());
        Message::builder()
            .from(self.inner.from.clone())
            .to(Mailbox::new(None, to))
            .subject(subject)
            .message_id(Some(id))
            .date_now()
            .singlepart(body)
            .map_err(|_| MailError::Build)
    }
}

/// Reads the SMTP password: the file's first line, without its line ending.
fn read_password(path: &Path) -> Result<String, MailSetupError> {
    let error = |reason: String| MailSetupError::PasswordFile {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    let password = text.lines().next().unwrap_or("").to_owned();
    if password.is_empty() {
        return Err(error(
            "is empty; put the password on its first line".to_owned(),
        ));
    }
    Ok(password)
}

/// An SMTP failure as a [`MailError`] that is safe to log: never the relay's reply text.
fn smtp_error(e: &lettre::transport::smtp::Error) -> MailError {
    if let Some(code) = e.status() {
        let kind = if e.is_permanent() {
            "refused"
        } else {
            "temporarily refused"
        };
        MailError::Refused(format!("the relay {kind} the mail ({code})"))
    } else if e.is_timeout() {
        MailError::Unreachable("timed out".to_owned())
    } else if e.is_response() {
        MailError::Refused("unreadable reply from the relay".to_owned())
    } else {
        // Connection, network, TLS and client errors: lettre's text is an I/O or TLS reason
        // or a fixed sentence such as "STARTTLS is not supported on this server".
        MailError::Unreachable(e.to_string())
    }
}

/// Writes `bytes` to a new `<secs>-<random>.eml` file in `dir` (created `0700`), mode `0600`.
async fn write_outbox(dir: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let mut builder = tokio::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir).await?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tokio::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).await?;
    }
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let path = dir.join(format!("{secs}-{}.eml", random_hex(8)));
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(&path).await?;
    tokio::io::AsyncWriteExt::write_all(&mut file, bytes).await?;
    tokio::io::AsyncWriteExt::flush(&mut file).await?;
    Ok(path)
}

/// "10 minutes" / "10 minutes", "90 secondes" / "90 seconds": the code's validity for people.
fn validity(ttl: Duration) -> (String, String) {
    let secs = ttl.as_secs();
    let plural = |n: u64| if n > 1 { "s" } else { "" };
    if secs >= 60 && secs.is_multiple_of(60) {
        let m = secs / 60;
        (
            format!("{m} minute{}", plural(m)),
            format!("{m} minute{}", plural(m)),
        )
    } else {
        (
            format!("{secs} seconde{}", plural(secs)),
            format!("{secs} second{}", plural(secs)),
        )
    }
}

/// The subject and plain-text body of the code mail, `lang` first. Pure, for tests.
pub fn code_mail(code: &str, ttl: Duration, lang: Lang) -> (String, String) {
    let (fr_ttl, en_ttl) = validity(ttl);
    let fr = format!(
        "Bonjour,\n\
         \n\
         Voici votre code pour ouvrir une salle de réunion sur le service\n\
         de visioconférence webconf en tant qu'agent de l'État\u{a0}:\n\
         \n\
         \x20   {code}\n\
         \n\
         Ce code est valable {fr_ttl} et ne peut servir qu'une seule fois.\n\
         \n\
         Si vous ne l'avez pas demandé, ignorez ce message\u{a0}: personne\n\
         ne peut utiliser votre adresse sans ce code.\n"
    );
    let en = format!(
        "Hello,\n\
         \n\
         Here is your code to open a meeting room on the webconf\n\
         video-conferencing service as a State agent:\n\
         \n\
         \x20   {code}\n\
         \n\
         This code is valid for {en_ttl} and can be used only once.\n\
         \n\
         If you did not ask for it, ignore this message: nobody can use\n\
         your address without this code.\n"
    );
    let subject = match lang {
        Lang::Fr => "Votre code webconf / Your webconf code",
        Lang::En => "Your webconf code / Votre code webconf",
    };
    let body = match lang {
        Lang::Fr => format!("(English below)\n\n{fr}\n-- \n\n{en}"),
        Lang::En => format!("(Version française ci-dessous)\n\n{en}\n-- \n\n{fr}"),
    };
    (subject.to_owned(), body)
}

/// A calendar file to attach to a mail: its file name and its iCalendar text (CRLF lines).
#[derive(Debug, Clone, Copy)]
pub struct CalendarFile<'a> {
    /// The attachment's name, e.g. `webconf-reunion2024abc.ics`: ASCII letters, digits, `-`, `.`.
    pub filename: &'a str,
    /// The `.ics` text (`crate::invite::ics::calendar`).
    pub ics: &'a str,
}

impl Mailer {
    /// Sends a plain-text UTF-8 mail to `to`, with `calendar` attached as
    /// `text/calendar; method=PUBLISH` when given (an invitation with a date). Never logs `to`
    /// or the content. The caller stops sending a batch when [`MailError::relay_unreachable`].
    pub async fn send_with_calendar(
        &self,
        to: &EmailAddress,
        subject: &str,
        text_body: &str,
        calendar: Option<CalendarFile<'_>>,
    ) -> Result<(), MailError> {
        let message = match calendar {
            None => self.build(to, subject, text_body)?,
            Some(file) => self.build_with_calendar(to, subject, text_body, file)?,
        };
        self.deliver(message).await
    }

    /// Like [`Mailer::build`], as `multipart/mixed`: the text, then the calendar file, base64
    /// encoded so that its CRLF line endings and folding arrive byte for byte.
    fn build_with_calendar(
        &self,
        to: &EmailAddress,
        subject: &str,
        text_body: &str,
        file: CalendarFile<'_>,
    ) -> Result<Message, MailError> {
        let to: Address = to.as_str().parse().map_err(|_| MailError::Address)?;
        let id = format!("<{}@{}>", random_hex(16), self.inner.id_domain);
        let text = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .header(ContentTransferEncoding::QuotedPrintable)
            .body(text_body.to_owned());
        let calendar_type = ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH")
            .map_err(|_| MailError::Build)?;
        let ics = Body::new_with_encoding(
            file.ics.as_bytes().to_vec(),
            ContentTransferEncoding::Base64,
        )
        .map_err(|_| MailError::Build)?;
        let attachment = Attachment::new(file.filename.to_owned()).body(ics, calendar_type);
        Message::builder()
            .from(self.inner.from.clone())
            .to(Mailbox::new(None, to))
            .subject(subject)
            .message_id(Some(id))
            .date_now()
            .multipart(MultiPart::mixed().singlepart(text).singlepart(attachment))
            .map_err(|_| MailError::Build)
    }

    /// Hands a built message to the relay, or writes it to the outbox (the transport half of
    /// [`Mailer::send`]).
    async fn deliver(&self, message: Message) -> Result<(), MailError> {
        match &self.inner.transport {
            Transport::Smtp {
                transport,
                deadline,
            } => match tokio::time::timeout(*deadline, transport.send(message)).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(smtp_error(&e)),
                Err(_) => Err(MailError::Timeout(*deadline)),
            },
            Transport::Outbox(dir) => {
                let path = write_outbox(dir, &message.formatted())
                    .await
                    .map_err(MailError::Outbox)?;
                warn!(
                    file = %path.display(),
                    "no SMTP relay configured: the mail was NOT sent; it was written to this file"
                );
                Ok(())
            }
        }
    }
}

/// Who invites, as an invitation mail names them. Never the person: only where they work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inviter<'a> {
    /// An agent recognised by the network (a zone with `agents = true`): "un agent de l'État".
    Network,
    /// An agent who proved an address of this domain (`interieur.gouv.fr`): the domain names
    /// the service they belong to.
    Domain(&'a str),
}

/// What an invitation mail says.
#[derive(Debug, Clone, Copy)]
pub struct Invitation<'a> {
    /// Who invites.
    pub inviter: Inviter<'a>,
    /// The meeting link, `https://<host>/<room>`.
    pub link: &'a str,
    /// When the meeting starts and how many minutes it is planned to last, if the agent gave a
    /// date; then a calendar file is attached too.
    pub schedule: Option<(UtcTime, u32)>,
}

/// The subject and plain-text body of an invitation: French, then English. Names who invites
/// (their service, not their name or address), the date in Paris time and UTC when there is
/// one, the link, and how to join. **Never a room password**: the mail says that the organiser
/// gives it another way, if there is one. Pure, for tests.
pub fn invitation_mail(invitation: &Invitation<'_>) -> (String, String) {
    let link = invitation.link;
    let (fr_who, en_who) = match invitation.inviter {
        Inviter::Network => ("Un agent de l'État".to_owned(), "A State agent".to_owned()),
        Inviter::Domain(domain) => (
            format!("Un agent de l'État ({domain})"),
            format!("A State agent ({domain})"),
        ),
    };
    let (fr_when, en_when, fr_ics, en_ics) = match invitation.schedule {
        None => (String::new(), String::new(), "", ""),
        Some((start, minutes)) => {
            let (paris, _) = start.paris();
            let utc = start.iso();
            (
                format!(
                    "Date : {} à {:02} h {:02}, heure de Paris\n\
                     \x20      ({utc} en temps universel, UTC)\n\
                     Durée prévue : {minutes} minutes\n\n",
                    french_date(&paris),
                    paris.hour,
                    paris.minute
                ),
                format!(
                    "Date: {} at {:02}:{:02}, Paris time\n\
                     \x20     ({utc} in Coordinated Universal Time, UTC)\n\
                     Planned length: {minutes} minutes\n\n",
                    english_date(&paris),
                    paris.hour,
                    paris.minute
                ),
                "Le fichier joint (.ics) ajoute la réunion à votre agenda.\n\n",
                "The attached file (.ics) adds the meeting to your calendar.\n\n",
            )
        }
    };
    let fr = format!(
        "Bonjour,\n\
         \n\
         {fr_who} vous invite à une réunion en\n\
         visioconférence sur le service webconf.\n\
         \n\
         {fr_when}\
         Pour rejoindre la réunion, ouvrez ce lien :\n\
         \n\
         \x20   {link}\n\
         \n\
         Utilisez un navigateur récent (Chrome, Edge ou Chromium à jour, ou\n\
         Firefox) et autorisez l'accès à la caméra et au microphone quand il\n\
         le demande. Aucun compte n'est nécessaire. Si l'organisateur n'est\n\
         pas encore arrivé, la page vous fait patienter jusqu'à son arrivée.\n\
         \n\
         Si la salle est protégée par un mot de passe, l'organisateur vous le\n\
         communique par un autre moyen : ce service ne l'envoie jamais.\n\
         \n\
         {fr_ics}\
         Vous recevez ce message parce qu'un agent a saisi votre adresse.\n\
         Si vous n'attendiez pas cette invitation, ignorez-la.\n"
    );
    let en = format!(
        "Hello,\n\
         \n\
         {en_who} invites you to a video meeting\n\
         on the webconf service.\n\
         \n\
         {en_when}\
         To join the meeting, open this link:\n\
         \n\
         \x20   {link}\n\
         \n\
         Use a recent browser (an up-to-date Chrome, Edge or Chromium, or\n\
         Firefox) and allow access to the camera and microphone when it asks.\n\
         No account is needed. If the organiser has not arrived yet, the page\n\
         asks you to wait until they do.\n\
         \n\
         If the room is protected by a password, the organiser gives it to you\n\
         another way: this service never sends it.\n\
         \n\
         {en_ics}\
         You receive this message because an agent entered your address.\n\
         If you did not expect this invitation, ignore it.\n"
    );
    let subject = "Invitation à une réunion webconf / Invitation to a webconf meeting";
    let body = format!("(English below)\n\n{fr}\n-- \n\n{en}");
    (subject.to_owned(), body)
}

/// "mardi 1er décembre 2026".
fn french_date(c: &Civil) -> String {
    const DAYS: [&str; 7] = [
        "dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi",
    ];
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let weekday = DAYS.get(c.weekday as usize).copied().unwrap_or("");
    let month = MONTHS
        .get((c.month as usize).wrapping_sub(1))
        .copied()
        .unwrap_or("");
    let day = if c.day == 1 {
        "1er".to_owned()
    } else {
        c.day.to_string()
    };
    format!("{weekday} {day} {month} {}", c.year)
}

/// "Tuesday 1 December 2026".
fn english_date(c: &Civil) -> String {
    const DAYS: [&str; 7] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let weekday = DAYS.get(c.weekday as usize).copied().unwrap_or("");
    let month = MONTHS
        .get((c.month as usize).wrapping_sub(1))
        .copied()
        .unwrap_or("");
    format!("{weekday} {} {month} {}", c.day, c.year)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_mail_has_both_languages_the_code_and_no_html() {
        for lang in [Lang::Fr, Lang::En] {
            let (subject, body) = code_mail("048213", Duration::from_secs(600), lang);
            assert!(
                subject.contains("Votre code") && subject.contains("Your webconf code"),
                "{subject}"
            );
            assert_eq!(body.matches("048213").count(), 2, "{body}");
            assert!(body.contains("agent de l'État") && body.contains("as a State agent"));
            assert!(body.contains("valable 10 minutes") && body.contains("valid for 10 minutes"));
            assert!(body.contains("une seule fois") && body.contains("used only once"));
            assert!(body.contains("personne\nne peut utiliser votre adresse sans ce code."));
            assert!(body.contains("nobody can use\nyour address without this code."));
            assert!(
                !body.contains('<') && !body.contains('>'),
                "no markup: {body}"
            );
            assert!(
                body.lines().all(|l| l.chars().count() <= 78),
                "short lines: {body}"
            );
        }
        let (_, fr) = code_mail("1", Duration::from_secs(600), Lang::Fr);
        assert!(fr.find("Bonjour") < fr.find("Hello"), "French first");
        let (_, en) = code_mail("1", Duration::from_secs(600), Lang::En);
        assert!(en.find("Hello") < en.find("Bonjour"), "English first");
    }

    #[test]
    fn validity_reads_naturally() {
        assert_eq!(
            validity(Duration::from_secs(600)),
            ("10 minutes".into(), "10 minutes".into())
        );
        assert_eq!(
            validity(Duration::from_secs(60)),
            ("1 minute".into(), "1 minute".into())
        );
        assert_eq!(
            validity(Duration::from_secs(90)),
            ("90 secondes".into(), "90 seconds".into())
        );
        assert_eq!(
            validity(Duration::from_secs(1)),
            ("1 seconde".into(), "1 second".into())
        );
    }

    #[test]
    fn accept_language_picks_french_or_english() {
        let cases = [
            (None, Lang::Fr),
            (Some(""), Lang::Fr),
            (Some("de-DE"), Lang::Fr),
            (Some("en-GB,en;q=0.9"), Lang::En),
            (Some("fr-FR,fr;q=0.9,en;q=0.8"), Lang::Fr),
            (Some("de;q=1, en;q=0.5, fr;q=0.7"), Lang::Fr),
            (Some("de, EN-us;q=0.5"), Lang::En),
            (Some("fr;q=0, en;q=0.1"), Lang::En),
            (Some("en;q=abc"), Lang::En),
        ];
        for (header, want) in cases {
            assert_eq!(Lang::from_accept_language(header), want, "{header:?}");
        }
    }

    fn outbox_config(dir: &Path) -> Config {
        let mut config = Config::default();
        config.mail.outbox_dir = dir.to_owned();
        config.mail.from = "Webconf <no-reply@webconf.example.gouv.fr>".to_owned();
        config
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("webconf-mail-{name}-{}", random_hex(6)));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[tokio::test]
    async fn outbox_mode_writes_a_private_eml_file() {
        let root = temp_dir("outbox");
        let dir = root.join("outbox");
        let mailer = Mailer::new(&outbox_config(&dir)).unwrap();
        let to = EmailAddress::parse("prenom.nom@interieur.gouv.fr").unwrap();
        mailer.send_code(&to, "048213", Lang::Fr).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("eml"));
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert!(
            text.contains("To: prenom.nom@interieur.gouv.fr\r\n"),
            "{text}"
        );
        assert!(
            text.contains("From: Webconf <no-reply@webconf.example.gouv.fr>\r\n"),
            "{text}"
        );
        assert!(
            text.contains("Message-ID: <") && text.contains("@webconf.example.gouv.fr>\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\nDate: "), "{text}");
        assert!(text.contains("MIME-Version: 1.0\r\n"), "{text}");
        assert!(
            text.contains("Content-Type: text/plain; charset=utf-8\r\n"),
            "{text}"
        );
        assert!(
            text.contains("Content-Transfer-Encoding: quoted-printable\r\n"),
            "{text}"
        );
        assert!(text.contains("    048213"), "{text}");
        assert!(!text.to_ascii_lowercase().contains("text/html"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&files[0]), 0o600);
        }
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn setup_errors_name_the_key() {
        let mut config = Config::default();
        config.mail.smtp_host = "127.0.0.1".into();
        config.mail.smtp_username = "webconf".into();
        config.mail.smtp_password_file = "/nonexistent/password".into();
        let message = Mailer::new(&config)
            .err()
            .expect("missing password file")
            .to_string();
        assert!(
            message.starts_with("mail.smtp_password_file /nonexistent/password"),
            "{message}"
        );

        let mut config = Config::default();
        config.mail.smtp_host = "127.0.0.1".into();
        config.mail.smtp_ca_file = "/nonexistent/ca.pem".into();
        let message = Mailer::new(&config)
            .err()
            .expect("missing CA file")
            .to_string();
        assert!(message.starts_with("mail.smtp_ca_file"), "{message}");
    }

    #[test]
    fn password_is_the_first_line() {
        let dir = temp_dir("password");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("pw");
        std::fs::write(&path, "s3cret w0rd\nignored\n").unwrap();
        assert_eq!(read_password(&path).unwrap(), "s3cret w0rd");
        std::fs::write(&path, "\n").unwrap();
        assert!(read_password(&path).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn invitation(inviter: Inviter<'_>, schedule: Option<(&str, u32)>) -> (String, String) {
        invitation_mail(&Invitation {
            inviter,
            link: "https://webconf.example.gouv.fr/reunion2024abc",
            schedule: schedule.map(|(s, m)| (UtcTime::parse(s).unwrap(), m)),
        })
    }

    #[test]
    fn invitation_mail_names_the_service_the_link_and_never_a_password() {
        for (inviter, fr, en) in [
            (
                Inviter::Domain("interieur.gouv.fr"),
                "Un agent de l'État (interieur.gouv.fr) vous invite",
                "A State agent (interieur.gouv.fr) invites you",
            ),
            (
                Inviter::Network,
                "Un agent de l'État vous invite",
                "A State agent invites you",
            ),
        ] {
            for schedule in [None, Some(("2026-12-01T09:00:00Z", 60))] {
                let (subject, body) = invitation(inviter, schedule);
                assert_eq!(
                    subject,
                    "Invitation à une réunion webconf / Invitation to a webconf meeting"
                );
                assert!(body.contains(fr) && body.contains(en), "{body}");
                assert!(body.find("Bonjour") < body.find("Hello"), "French first");
                assert_eq!(
                    body.matches("\n    https://webconf.example.gouv.fr/reunion2024abc\n")
                        .count(),
                    2,
                    "{body}"
                );
                assert!(body.contains("Firefox") && body.contains("Chromium"));
                assert!(
                    body.contains("caméra et au microphone")
                        && body.contains("camera and microphone")
                );
                assert!(body.contains("ce service ne l'envoie jamais"));
                assert!(body.contains("this service never sends it"));
                for line in body.lines() {
                    let lower = line.trim_start().to_lowercase();
                    assert!(
                        !lower.starts_with("mot de passe") && !lower.starts_with("password"),
                        "{line}"
                    );
                    assert!(line.chars().count() <= 78, "short lines: {line}");
                }
                assert!(
                    !body.contains('<') && !body.contains('>'),
                    "no markup: {body}"
                );
                assert_eq!(body.contains(".ics"), schedule.is_some());
                assert_eq!(body.contains("Date"), schedule.is_some());
            }
        }
    }

    #[test]
    fn invitation_dates_are_in_paris_time_and_utc() {
        let (_, body) = invitation(Inviter::Network, Some(("2026-12-01T09:00:00Z", 60)));
        assert!(
            body.contains("Date : mardi 1er décembre 2026 à 10 h 00, heure de Paris\n"),
            "{body}"
        );
        assert!(
            body.contains("(2026-12-01T09:00:00Z en temps universel, UTC)"),
            "{body}"
        );
        assert!(body.contains("Durée prévue : 60 minutes"));
        assert!(
            body.contains("Date: Tuesday 1 December 2026 at 10:00, Paris time\n"),
            "{body}"
        );
        assert!(body.contains("(2026-12-01T09:00:00Z in Coordinated Universal Time, UTC)"));
        assert!(body.contains("Planned length: 60 minutes"));
        let (_, body) = invitation(Inviter::Network, Some(("2027-07-14T06:30:00Z", 90)));
        assert!(
            body.contains("mercredi 14 juillet 2027 à 08 h 30, heure de Paris"),
            "{body}"
        );
        assert!(
            body.contains("Wednesday 14 July 2027 at 08:30, Paris time"),
            "{body}"
        );
        assert!(body.contains("90 minutes"));
    }

    #[tokio::test]
    async fn a_calendar_file_is_attached_as_text_calendar() {
        let root = temp_dir("calendar");
        let dir = root.join("outbox");
        let mailer = Mailer::new(&outbox_config(&dir)).unwrap();
        let to = EmailAddress::parse("invite@example.com").unwrap();
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n";
        let file = CalendarFile {
            filename: "webconf-reunion2024abc.ics",
            ics,
        };
        mailer
            .send_with_calendar(&to, "Sujet é", "Texte é\n", Some(file))
            .await
            .unwrap();
        mailer
            .send_with_calendar(&to, "Sujet", "Texte\n", None)
            .await
            .unwrap();
        let mut texts: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        texts.sort_by_key(|t| t.contains("multipart"));
        let [plain, mixed] = texts.as_slice() else {
            panic!("two mails: {texts:?}")
        };
        assert!(
            plain.contains("Content-Type: text/plain; charset=utf-8\r\n"),
            "{plain}"
        );
        assert!(!plain.contains("multipart"));
        assert!(mixed.contains("Content-Type: multipart/mixed;"), "{mixed}");
        assert!(
            mixed.contains("Content-Type: text/plain; charset=utf-8\r\n"),
            "{mixed}"
        );
        assert!(
            mixed.contains("Content-Type: text/calendar; charset=utf-8; method=PUBLISH\r\n"),
            "{mixed}"
        );
        assert!(
            mixed.contains(
                "Content-Disposition: attachment; filename=\"webconf-reunion2024abc.ics\""
            ),
            "{mixed}"
        );
        assert!(
            mixed.contains("Content-Transfer-Encoding: base64\r\n"),
            "{mixed}"
        );
        assert!(mixed.contains("To: invite@example.com\r\n"));
        let _ = std::fs::remove_dir_all(&root);
    }
}
