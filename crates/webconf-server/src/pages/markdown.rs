//! Markdown to HTML for the service's pages, safe for text the operator wrote.
//!
//! Invariants of the output, whatever the input: no raw HTML passes through (HTML blocks and
//! inline HTML are shown as escaped text), and every link or image points to `http:`, `https:`,
//! `mailto:` (links only) or a relative address; any other link keeps its text and loses its
//! target. Text is escaped by pulldown-cmark's HTML writer.

use pulldown_cmark::{CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};

/// A value for a `{name}` placeholder of the Markdown source.
pub type Placeholder<'a> = (&'a str, &'a str);

/// The rendered page body and whether it starts with its own `#` title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// HTML, safe to insert in the page.
    pub html: String,
    /// True when the first block is a level-1 heading, so the page need not add one.
    pub has_title: bool,
}

/// Renders `source`, first replacing each `{name}` of `placeholders` with its value (Markdown
/// punctuation in values is escaped, so a value is always plain text). Unknown `{...}` are
/// left as written. With `query` (`lang=en`), links to a path of this site (`/contact`) get it
/// appended, so that following them keeps the language. Call once per text and variant at
/// start-up: pages are served from the result.
pub fn render(source: &str, placeholders: &[Placeholder<'_>], query: Option<&str>) -> Rendered {
    let mut text = source.to_owned();
    for (name, value) in placeholders {
        text = text.replace(&format!("{{{name}}}"), &escape_markdown(value));
    }
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut parser = Parser::new_ext(&text, options).peekable();
    let has_title = matches!(
        parser.peek(),
        Some(Event::Start(Tag::Heading {
            level: HeadingLevel::H1,
            ..
        }))
    );
    let mut html = String::with_capacity(text.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, Sanitize::new(parser, query));
    Rendered { html, has_title }
}

/// The event filter that enforces the module's invariants.
struct Sanitize<'q, I> {
    inner: I,
    /// For each open link or image: whether its tags are kept (false: only its text is shown).
    open: Vec<bool>,
    /// Appended to links to a path of this site.
    query: Option<&'q str>,
}

impl<'q, I> Sanitize<'q, I> {
    fn new(inner: I, query: Option<&'q str>) -> Self {
        Sanitize {
            inner,
            open: Vec::new(),
            query,
        }
    }
}

impl<'a, I: Iterator<Item = Event<'a>>> Iterator for Sanitize<'_, I> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            let event = self.inner.next()?;
            return Some(match event {
                Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
                // An HTML block becomes a paragraph of its escaped source.
                Event::Start(Tag::HtmlBlock) => Event::Start(Tag::Paragraph),
                Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::Paragraph),
                Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) => {
                    let keep = link_type == LinkType::Email || safe_url(&dest_url, true);
                    self.open.push(keep);
                    if !keep {
                        continue;
                    }
                    let dest_url = match self.query {
                        Some(query) if is_site_path(&dest_url) => {
                            format!("{dest_url}?{query}").into()
                        }
                        _ => dest_url,
                    };
                    Event::Start(Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        id,
                    })
                }
                Event::Start(Tag::Image { ref dest_url, .. }) => {
                    let keep = safe_url(dest_url, false);
                    self.open.push(keep);
                    if !keep {
                        continue;
                    }
                    event
                }
                Event::End(TagEnd::Link | TagEnd::Image) => {
                    if !self.open.pop().unwrap_or(false) {
                        continue;
                    }
                    event
                }
                other => other,
            });
        }
    }
}

/// Whether `url` may be a link (`mailto` allowed) or image target: a relative address, or an
/// absolute one with an allowed scheme. Anything odd before the first `:` (white space, control
/// characters, `javascript`, `data`...) makes it unsafe.
fn safe_url(url: &CowStr<'_>, mailto: bool) -> bool {
    let end = url.find([':', '/', '?', '#']);
    match end.map(|i| (i, url.as_bytes().get(i))) {
        Some((i, Some(b':'))) => {
            let scheme = url.get(..i).unwrap_or_default().to_ascii_lowercase();
            scheme == "http" || scheme == "https" || (mailto && scheme == "mailto")
        }
        // Relative: a path, a query or a fragment (no scheme can start after '/', '?' or '#').
        _ => !url.starts_with(|c: char| c.is_control() || c.is_whitespace()),
    }
}

/// A path of this site without query or fragment (`/contact`), to which `?lang=` can be added.
fn is_site_path(url: &str) -> bool {
    url.starts_with('/') && !url.starts_with("//") && !url.contains(['?', '#'])
}

/// Backslash-escapes ASCII punctuation so that `value` reads as plain text in Markdown, and
/// turns line breaks into spaces so that it cannot start a block.
fn escape_markdown(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
            out.push(c);
        } else if c.is_control() {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(source: &str) -> String {
        render(source, &[], None).html
    }

    #[test]
    fn raw_html_is_escaped_never_passed_through() {
        let out = html("Bonjour <script>alert(1)</script> <b>gras</b>\n\n<div onclick=\"x()\">\nbloc\n</div>\n");
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("<b>"), "{out}");
        assert!(!out.contains("<div"), "{out}");
        assert!(
            out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{out}"
        );
        assert!(out.contains("<p>&lt;div onclick=\"x()\"&gt;"), "{out}");
        let comment = html("<!-- caché -->");
        assert!(comment.contains("&lt;!-- caché --&gt;"), "{comment}");
    }

    #[test]
    fn only_safe_links_keep_their_target() {
        let out = html(
            "[a](https://x.gouv.fr/a) [b](/contact) [c](mailto:dpd@x.gouv.fr) [d](#faq) \
             [e](javascript:alert(1)) [f](JaVaScRiPt:x) [g](data:text/html,x) [h](vbscript:x) \
             <https://y.gouv.fr> <dpd@x.gouv.fr> ![i](/favicon.svg) ![j](mailto:x@y.fr) \
             [k](\u{1}javascript:x)",
        );
        for kept in [
            "href=\"https://x.gouv.fr/a\"",
            "href=\"/contact\"",
            "href=\"mailto:dpd@x.gouv.fr\"",
            "href=\"#faq\"",
            "href=\"https://y.gouv.fr\"",
            "src=\"/favicon.svg\"",
        ] {
            assert!(out.contains(kept), "{kept} missing in {out}");
        }
        let lower = out.to_lowercase();
        for dropped in [
            "=\"javascript",
            "=\"data:",
            "=\"vbscript",
            "src=\"mailto",
            "=\"\u{1}",
        ] {
            assert!(!lower.contains(dropped), "{dropped} in {out}");
        }
        // The text of a dropped link stays.
        assert!(out.contains(" e "), "{out}");
        assert!(out.contains(" j "), "{out}");
    }

    #[test]
    fn placeholders_are_filled_as_plain_text() {
        let source =
            "# FAQ\n\nPorts UDP {media_ports}, TCP {https_port}, par {operator_name}. {unknown}";
        let out = render(
            source,
            &[
                ("media_ports", "10000-10010"),
                ("https_port", "443"),
                ("operator_name", "<b>DINUM</b> *x* [l](javascript:y)"),
            ],
            None,
        );
        assert!(out.has_title);
        assert!(
            out.html.contains("Ports UDP 10000-10010, TCP 443"),
            "{}",
            out.html
        );
        assert!(
            out.html
                .contains("&lt;b&gt;DINUM&lt;/b&gt; *x* [l](javascript:y)"),
            "{}",
            out.html
        );
        assert!(out.html.contains("{unknown}"), "{}", out.html);
        assert!(!render("Texte\n\n# Titre", &[], None).has_title);
    }

    #[test]
    fn links_to_the_site_keep_the_language_when_asked() {
        let source = "[a](/contact) [b](/faq#x) [c](https://x.fr/p) [d](//x.fr/p) [e](/legal?x=1)";
        let out = render(source, &[], Some("lang=en")).html;
        assert!(out.contains("href=\"/contact?lang=en\""), "{out}");
        for unchanged in ["/faq#x", "https://x.fr/p", "//x.fr/p", "/legal?x=1"] {
            assert!(
                out.contains(&format!("href=\"{unchanged}\"")),
                "{unchanged}: {out}"
            );
        }
        assert!(render(source, &[], None).html.contains("href=\"/contact\""));
    }
}
