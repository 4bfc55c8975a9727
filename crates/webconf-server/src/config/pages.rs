//! `[pages]`: the service's own pages (FAQ, contact, legal notice): who runs the service, the
//! addresses to write to, and the operator's own Markdown texts.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use webconf_access::email::EmailAddress;

use super::ConfigError;

/// Largest Markdown file accepted for a page: a FAQ is a few dozen kilobytes; anything near this
/// is a wrong path (a log, an image), not a text.
pub const MAX_PAGE_BYTES: u64 = 1024 * 1024;

/// Longest `operator_name`.
const MAX_OPERATOR_NAME: usize = 200;

/// `[pages]`: what `/faq`, `/contact` and `/legal` show. Every key is optional: with none, the
/// pages show the built-in texts and say that no contact address is configured.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PagesConfig {
    /// Who runs this instance (a ministry, a directorate), as written in the legal notice and
    /// the FAQ (`{operator_name}`). Empty: the pages say it is not configured.
    pub operator_name: String,
    /// User support: questions, problems joining a meeting. Empty: not configured.
    pub support_email: String,
    /// Where security problems are reported. Empty: not configured.
    pub security_email: String,
    /// Where personal-data requests (access, rectification, objection) are sent, usually the
    /// data protection officer. Empty: not configured.
    pub privacy_email: String,
    /// Markdown file of the French FAQ; empty: the built-in one.
    pub faq_fr: PathBuf,
    /// Markdown file of the English FAQ; empty: the built-in one.
    pub faq_en: PathBuf,
    /// Markdown file of the French legal notice; empty: the built-in template.
    pub legal_fr: PathBuf,
    /// Markdown file of the English legal notice; empty: the built-in template.
    pub legal_en: PathBuf,
}

impl PagesConfig {
    /// The three contact addresses with their keys, in the order the contact page lists them.
    pub fn emails(&self) -> [(&'static str, &str); 3] {
        [
            ("pages.support_email", self.support_email.as_str()),
            ("pages.security_email", self.security_email.as_str()),
            ("pages.privacy_email", self.privacy_email.as_str()),
        ]
    }

    /// The four Markdown files with their keys; an empty path means the built-in text.
    pub fn files(&self) -> [(&'static str, &Path); 4] {
        [
            ("pages.faq_fr", self.faq_fr.as_path()),
            ("pages.faq_en", self.faq_en.as_path()),
            ("pages.legal_fr", self.legal_fr.as_path()),
            ("pages.legal_en", self.legal_en.as_path()),
        ]
    }

    /// Checks `[pages]` without I/O; called by [`super::Config::validate`]. The files are
    /// checked (exist, at most [`MAX_PAGE_BYTES`], UTF-8) when they are read, once, at start-up:
    /// [`PagesConfig::read_file`].
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (key, value) in self.emails() {
            if value.is_empty() {
                continue;
            }
            let parsed = EmailAddress::parse(value);
            ensure!(
                parsed.is_ok(),
                key,
                "({value:?}) is not an e-mail address ({}); write a bare address such as \
                 \"support@webconf.example.gouv.fr\", or leave it empty",
                parsed.err().map(|e| e.to_string()).unwrap_or_default()
            );
        }
        let name = self.operator_name.as_str();
        ensure!(
            name.chars().count() <= MAX_OPERATOR_NAME && !name.chars().any(char::is_control),
            "pages.operator_name",
            "must be one line of at most {MAX_OPERATOR_NAME} characters, e.g. \
             \"Direction interministérielle du numérique (DINUM)\""
        );
        Ok(())
    }

    /// Reads the Markdown file of `key` (one of [`PagesConfig::files`]); `Ok(None)` when its
    /// path is empty (use the built-in text). Call once at start-up: the server keeps the text,
    /// so a changed file is seen after a restart.
    pub fn read_file(key: &'static str, path: &Path) -> Result<Option<String>, ConfigError> {
        if path.as_os_str().is_empty() {
            return Ok(None);
        }
        let shown = path.display();
        let meta = std::fs::metadata(path).map_err(|e| ConfigError::Invalid {
            key,
            message: format!("({shown}) cannot be read: {e}; give an existing Markdown file, or leave it empty for the built-in text"),
        })?;
        ensure!(meta.is_file(), key, "({shown}) is not a file");
        let size = meta.len();
        ensure!(
            size <= MAX_PAGE_BYTES,
            key,
            "({shown}) is {size} bytes; at most {MAX_PAGE_BYTES} (1 MiB) are accepted"
        );
        let bytes = std::fs::read(path).map_err(|e| ConfigError::Invalid {
            key,
            message: format!("({shown}) cannot be read: {e}"),
        })?;
        ensure!(
            bytes.len() as u64 <= MAX_PAGE_BYTES,
            key,
            "({shown}) grew past {MAX_PAGE_BYTES} bytes while being read"
        );
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| ConfigError::Invalid {
                key,
                message: format!("({shown}) is not UTF-8 text"),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        let config = Config::from_toml(text, Path::new("test.toml"))?;
        config.validate()?;
        Ok(config)
    }

    #[test]
    fn addresses_and_name_are_checked() {
        let config = parse(
            "[pages]\noperator_name = \"DINUM\"\nsupport_email = \"support@example.gouv.fr\"\n\
             security_email = \"securite@example.gouv.fr\"\nprivacy_email = \"dpd@example.gouv.fr\"",
        )
        .unwrap();
        assert_eq!(
            config.pages.emails()[1],
            ("pages.security_email", "securite@example.gouv.fr")
        );
        let cases = [
            (
                "[pages]\nsupport_email = \"support\"",
                "pages.support_email (\"support\")",
            ),
            (
                "[pages]\nsecurity_email = \"a@b@c.fr\"",
                "pages.security_email",
            ),
            (
                "[pages]\nprivacy_email = \"Dpd <dpd@x.fr>\"",
                "pages.privacy_email",
            ),
            ("[pages]\noperator_name = \"a\\nb\"", "pages.operator_name"),
            ("[pages]\nfaq = \"x.md\"", "faq"),
        ];
        for (text, expected) in cases {
            let message = parse(text).expect_err(text).to_string();
            assert!(message.contains(expected), "{text:?} gave {message:?}");
        }
    }

    #[test]
    fn files_must_exist_be_small_and_utf8() {
        let dir = std::env::temp_dir().join(format!("webconf-pages-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("faq.md");
        std::fs::write(&good, "# FAQ\n").unwrap();
        let read = PagesConfig::read_file("pages.faq_fr", &good).unwrap();
        assert_eq!(read.as_deref(), Some("# FAQ\n"));
        assert_eq!(
            PagesConfig::read_file("pages.faq_fr", Path::new("")).unwrap(),
            None
        );

        let big = dir.join("big.md");
        std::fs::write(&big, vec![b'a'; MAX_PAGE_BYTES as usize + 1]).unwrap();
        let latin1 = dir.join("latin1.md");
        std::fs::write(&latin1, b"caf\xe9").unwrap();
        let cases = [
            (dir.join("missing.md"), "pages.legal_en (", "cannot be read"),
            (big, "pages.legal_en (", "at most 1048576"),
            (latin1, "pages.legal_en (", "not UTF-8"),
            (dir.clone(), "pages.legal_en (", "not a file"),
        ];
        for (path, key, expected) in cases {
            let message = PagesConfig::read_file("pages.legal_en", &path)
                .unwrap_err()
                .to_string();
            assert!(
                message.starts_with(key) && message.contains(expected),
                "{message}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
