//! Professional e-mail addresses and the domain allow-list that says which ones make an agent.

use std::collections::HashSet;
use std::fmt;

/// Longest address accepted (RFC 5321 path limit less the angle brackets).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest local part accepted (RFC 5321 §4.5.3.1.1).
pub const MAX_LOCAL_LEN: usize = 64;
/// Longest domain accepted (RFC 1035).
const MAX_DOMAIN_LEN: usize = 253;
/// Longest domain label (RFC 1035).
const MAX_LABEL_LEN: usize = 63;

/// Why a text is not an acceptable e-mail address or allow-list entry. The messages never repeat
/// the input: e-mail addresses are not logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Nothing but white space.
    #[error("the e-mail address is empty")]
    Empty,
    /// Longer than [`MAX_EMAIL_LEN`] bytes, or a local part longer than [`MAX_LOCAL_LEN`].
    #[error("the e-mail address is too long")]
    TooLong,
    /// No `@`, or more than one.
    #[error("an e-mail address has exactly one '@'")]
    At,
    /// The part before `@` is empty or holds a character outside RFC 5322 `atext` and dots, or
    /// an empty dot-separated part (leading, trailing or doubled dot).
    #[error("the part before '@' is not a plain address (letters, digits, dots and !#$%&'*+/=?^_`{{|}}~-)")]
    LocalPart,
    /// The domain has a non-ASCII character: internationalised domains must be given in punycode
    /// (`xn--...`).
    #[error("internationalised domains must be written in punycode (xn--...)")]
    NonAsciiDomain,
    /// The domain is not dot-separated labels of `[a-z0-9-]` (1 to 63 characters, no leading or
    /// trailing `-`) with at least one dot and a top-level label that is not all digits.
    #[error("the domain is not a valid domain name")]
    Domain,
    /// An allow-list entry is not a domain name (same rules as the domain of an address).
    #[error("allow-list entry {entry:?} is not a domain name (like \"gouv.fr\": lower-case ASCII labels, punycode for IDN, at least one dot)")]
    AllowListEntry {
        /// The entry as configured (a domain, not personal data).
        entry: String,
    },
}

/// A syntactically acceptable e-mail address, trimmed and lower-cased.
///
/// Its `Debug` output is redacted: addresses are personal data and are never logged. There is
/// deliberately no `Display`; use [`EmailAddress::as_str`] where the address must be shown to
/// its owner or sent to the SMTP server.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Pragmatic check, for addresses typed by a person: trimmed, lower-cased; exactly one `@`;
    /// at most 254 bytes; a local part of at most 64 bytes made of RFC 5322 `atext` characters
    /// and single dots (no spaces, control characters, quotes or non-ASCII: that also keeps
    /// mail headers safe); a domain of at least two dot-separated labels of `[a-z0-9-]`, no
    /// leading or trailing `-`, a top-level label that is not all digits; an internationalised
    /// domain must be given in punycode.
    pub fn parse(s: &str) -> Result<EmailAddress, EmailError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.len() > MAX_EMAIL_LEN {
            return Err(EmailError::TooLong);
        }
        let mut parts = s.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(EmailError::At);
        };
        if local.len() > MAX_LOCAL_LEN {
            return Err(EmailError::TooLong);
        }
        if !local_part_ok(local) {
            return Err(EmailError::LocalPart);
        }
        if !domain.is_ascii() {
            return Err(EmailError::NonAsciiDomain);
        }
        let domain = domain.to_ascii_lowercase();
        if !domain_ok(&domain) {
            return Err(EmailError::Domain);
        }
        Ok(EmailAddress(format!(
            "{}@{domain}",
            local.to_ascii_lowercase()
        )))
    }

    /// The address, to show to its owner or to send mail to. Never log it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after `@`, lower case.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmailAddress(<redacted>)")
    }
}

/// RFC 5322 `dot-atom-text`: `atext` runs separated by single dots.
fn local_part_ok(local: &str) -> bool {
    const SPECIALS: &[u8] = b"!#$%&'*+/=?^_`{|}~-";
    !local.is_empty()
        && local.split('.').all(|run| {
            !run.is_empty()
                && run
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || SPECIALS.contains(&b))
        })
}

/// A lower-case ASCII domain name with at least one dot (see [`EmailError::Domain`]).
fn domain_ok(domain: &str) -> bool {
    if domain.is_empty() || domain.len() > MAX_DOMAIN_LEN {
        return false;
    }
    let labels_ok = domain.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= MAX_LABEL_LEN
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    let tld_ok = domain
        .rsplit_once('.')
        .is_some_and(|(_, tld)| !tld.bytes().all(|b| b.is_ascii_digit()));
    labels_ok && tld_ok
}

/// The domains whose addresses may receive a code and so become agents'. Build it once at
/// start-up from the configuration.
#[derive(Debug, Clone, Default)]
pub struct DomainAllowList {
    domains: HashSet<String>,
}

impl DomainAllowList {
    /// Entries like `"gouv.fr"` match `gouv.fr` and every subdomain (`interieur.gouv.fr`), never
    /// `notgouv.fr`. Entries are trimmed and lower-cased; a leading `.` or `@` is tolerated
    /// (`".gouv.fr"`, `"@gouv.fr"`). An entry that is not a domain name with at least one dot is
    /// refused (so a stray `"fr"` cannot open the service to a whole country). An empty list
    /// allows nobody.
    pub fn new(entries: &[String]) -> Result<DomainAllowList, EmailError> {
        let mut domains = HashSet::with_capacity(entries.len());
        for entry in entries {
            let trimmed = entry.trim();
            let domain = trimmed
                .strip_prefix('.')
                .or_else(|| trimmed.strip_prefix('@'))
                .unwrap_or(trimmed)
                .to_ascii_lowercase();
            if !domain.is_ascii() || !domain_ok(&domain) {
                return Err(EmailError::AllowListEntry {
                    entry: entry.clone(),
                });
            }
            domains.insert(domain);
        }
        Ok(DomainAllowList { domains })
    }

    /// Whether the domain of `email`, or one of its parent domains, is on the list.
    pub fn allows(&self, email: &EmailAddress) -> bool {
        let mut domain = email.domain();
        loop {
            if self.domains.contains(domain) {
                return true;
            }
            match domain.split_once('.') {
                Some((_, parent)) => domain = parent,
                None => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        EmailAddress::parse(s).unwrap().as_str().to_owned()
    }

    fn err(s: &str) -> EmailError {
        EmailAddress::parse(s).unwrap_err()
    }

    #[test]
    fn accepts_ordinary_addresses_lower_cased_and_trimmed() {
        assert_eq!(
            ok("  Prenom.Nom@Interieur.GOUV.fr \n"),
            "prenom.nom@interieur.gouv.fr"
        );
        assert_eq!(ok("a@b.fr"), "a@b.fr");
        assert_eq!(
            ok("prenom.nom+visio@x-y.gouv.fr"),
            "prenom.nom+visio@x-y.gouv.fr"
        );
        assert_eq!(
            ok("o'brien_2@xn--prfecture-b4a.gouv.fr"),
            "o'brien_2@xn--prfecture-b4a.gouv.fr"
        );
        assert_eq!(ok("a@3com.fr"), "a@3com.fr");
        let e = EmailAddress::parse("Jean@Culture.Gouv.Fr").unwrap();
        assert_eq!(e.domain(), "culture.gouv.fr");
    }

    #[test]
    fn rejects_malformed_addresses() {
        assert_eq!(err(""), EmailError::Empty);
        assert_eq!(err("   "), EmailError::Empty);
        assert_eq!(err("nobody"), EmailError::At);
        assert_eq!(err("a@b@c.fr"), EmailError::At);
        assert_eq!(err("@gouv.fr"), EmailError::LocalPart);
        assert_eq!(err("a b@gouv.fr"), EmailError::LocalPart);
        assert_eq!(err("a\u{0}b@gouv.fr"), EmailError::LocalPart);
        assert_eq!(err("a\r\nBcc: x@gouv.fr"), EmailError::LocalPart);
        assert_eq!(err("\"a b\"@gouv.fr"), EmailError::LocalPart);
        assert_eq!(err("a<b>@gouv.fr"), EmailError::LocalPart);
        assert_eq!(err(".a@gouv.fr"), EmailError::LocalPart);
        assert_eq!(err("a.@gouv.fr"), EmailError::LocalPart);
        assert_eq!(err("a..b@gouv.fr"), EmailError::LocalPart);
        assert_eq!(err("prénom@gouv.fr"), EmailError::LocalPart);
        assert_eq!(err("a@"), EmailError::Domain);
        assert_eq!(err("a@gouv"), EmailError::Domain);
        assert_eq!(err("a@gouv.fr."), EmailError::Domain);
        assert_eq!(err("a@.gouv.fr"), EmailError::Domain);
        assert_eq!(err("a@gouv..fr"), EmailError::Domain);
        assert_eq!(err("a@-gouv.fr"), EmailError::Domain);
        assert_eq!(err("a@gouv-.fr"), EmailError::Domain);
        assert_eq!(err("a@gou_v.fr"), EmailError::Domain);
        assert_eq!(err("a@gou v.fr"), EmailError::Domain);
        assert_eq!(err("a@[192.0.2.1]"), EmailError::Domain);
        assert_eq!(err("a@192.0.2.1"), EmailError::Domain);
        assert_eq!(err("a@préfecture.gouv.fr"), EmailError::NonAsciiDomain);
        assert_eq!(err(&format!("a@{}.fr", "x".repeat(64))), EmailError::Domain);
    }

    #[test]
    fn length_limits() {
        let local = "x".repeat(64);
        assert!(EmailAddress::parse(&format!("{local}@gouv.fr")).is_ok());
        assert_eq!(err(&format!("x{local}@gouv.fr")), EmailError::TooLong);
        // 254 bytes in all is accepted, 255 is not.
        let label = "d".repeat(63);
        let domain = format!("{label}.{label}.{label}.{}.fr", "d".repeat(57));
        let addr = format!("a@{domain}");
        assert_eq!(addr.len(), 254, "{}", addr.len());
        assert!(EmailAddress::parse(&addr).is_ok());
        assert_eq!(err(&format!("ab@{domain}")), EmailError::TooLong);
    }

    fn list(entries: &[&str]) -> DomainAllowList {
        DomainAllowList::new(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn allows(l: &DomainAllowList, addr: &str) -> bool {
        l.allows(&EmailAddress::parse(addr).unwrap())
    }

    #[test]
    fn allow_list_matches_the_domain_and_its_subdomains_only() {
        let l = list(&["gouv.fr", " Education.FR ", ".ac-paris.fr"]);
        assert!(allows(&l, "a@gouv.fr"));
        assert!(allows(&l, "a@interieur.gouv.fr"));
        assert!(allows(&l, "a@x.y.interieur.gouv.fr"));
        assert!(allows(&l, "a@education.fr"));
        assert!(allows(&l, "a@ac-paris.fr"));
        assert!(!allows(&l, "a@evilgouv.fr"));
        assert!(!allows(&l, "a@notgouv.fr"));
        assert!(!allows(&l, "a@gouv.fr.evil.com"));
        assert!(!allows(&l, "a@gouv-fr.com"));
        assert!(!allows(&l, "a@fr.gouv.com"));
        assert!(!allows(&l, "a@example.fr"));
        assert!(!allows(&list(&[]), "a@gouv.fr"));
    }

    #[test]
    fn allow_list_rejects_bad_entries() {
        for bad in [
            "fr",
            "",
            "gouv..fr",
            "*.gouv.fr",
            "gouv.fr/",
            "préfecture.fr",
            "a@gouv.fr",
        ] {
            let r = DomainAllowList::new(&[bad.to_owned()]);
            assert_eq!(
                r.unwrap_err(),
                EmailError::AllowListEntry {
                    entry: bad.to_owned()
                },
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_is_redacted() {
        let e = EmailAddress::parse("secret.person@gouv.fr").unwrap();
        let d = format!("{e:?} {:?}", Some(&e));
        assert!(!d.contains("secret"), "{d}");
        assert!(!d.contains("gouv"), "{d}");
        assert!(!format!("{}", err("secret.person@gouv..fr")).contains("secret"));
    }
}
