//! The service's own pages, `/faq`, `/contact` and `/legal`: complete HTML rendered by the
//! server (no script), in French or English, with the client's look (`/css/app.css`,
//! `/css/pages.css`).
//!
//! Invariants: the Markdown texts are read and rendered once, at start-up ([`Pages::load`]),
//! so a request does no I/O; nothing from the request reaches the page except the choice of
//! language; operator-written text goes through [`markdown::render`], which lets no HTML
//! through.

mod markdown;
mod text;

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use webconf_access::email::EmailAddress;

use crate::config::{Config, ConfigError, PagesConfig, TlsMode};
use crate::http::AppState;
use markdown::Rendered;
use text::Texts;

/// A language of the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// French, the reference and the default.
    Fr,
    /// English.
    En,
}

impl Lang {
    /// The language of a BCP 47 tag (`en-GB` is English), if it is one we have.
    fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("fr") {
            Some(Lang::Fr)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    fn other(self) -> Lang {
        match self {
            Lang::Fr => Lang::En,
            Lang::En => Lang::Fr,
        }
    }

    fn texts(self) -> &'static Texts {
        match self {
            Lang::Fr => &text::FR,
            Lang::En => &text::EN,
        }
    }
}

/// The language of a page: `?lang=fr|en` when given (then `true`: links keep it), otherwise the
/// preferred of French and English in `Accept-Language` (by `q`, then order), otherwise French.
pub fn choose_lang(query: Option<&str>, accept_language: Option<&str>) -> (Lang, bool) {
    let forced = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.strip_prefix("lang="))
        .find_map(Lang::from_tag);
    if let Some(lang) = forced {
        return (lang, true);
    }
    let mut best: Option<(Lang, f32)> = None;
    for item in accept_language.unwrap_or_default().split(',') {
        let mut parts = item.split(';');
        let Some(lang) = parts.next().and_then(Lang::from_tag) else {
            continue;
        };
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
            best = Some((lang, q));
        }
    }
    (best.map_or(Lang::Fr, |(lang, _)| lang), false)
}

/// One text per language.
#[derive(Debug)]
struct PerLang<T> {
    fr: T,
    en: T,
}

impl<T> PerLang<T> {
    fn get(&self, lang: Lang) -> &T {
        match lang {
            Lang::Fr => &self.fr,
            Lang::En => &self.en,
        }
    }
}

/// One text rendered twice: for pages whose language came from `Accept-Language`, and for pages
/// whose language was asked with `?lang=` (links to the site carry it on).
#[derive(Debug)]
struct Variants {
    plain: Rendered,
    with_lang: Rendered,
}

impl Variants {
    fn get(&self, explicit: bool) -> &Rendered {
        if explicit {
            &self.with_lang
        } else {
            &self.plain
        }
    }
}

/// The pages' content, prepared at start-up from `[pages]`.
#[derive(Debug)]
pub struct Pages {
    faq: PerLang<Variants>,
    legal: PerLang<Variants>,
    /// The contact addresses, in the order of [`PagesConfig::emails`]; `None`: not configured.
    contacts: [Option<String>; 3],
}

impl Pages {
    /// Reads the operator's Markdown files (or takes the built-in texts) and renders them with
    /// the placeholders `{media_ports}`, `{https_port}`, `{session_hours}` and `{operator_name}`
    /// filled from `config`. Call once at start-up; an unreadable or oversized file is an error
    /// naming its key.
    pub fn load(config: &Config) -> Result<Pages, ConfigError> {
        let p = &config.pages;
        let read = |key, path: &std::path::Path, builtin: &'static str| {
            PagesConfig::read_file(key, path).map(|text| text.unwrap_or_else(|| builtin.to_owned()))
        };
        let faq_fr = read(
            "pages.faq_fr",
            &p.faq_fr,
            include_str!("../pages/faq.fr.md"),
        )?;
        let faq_en = read(
            "pages.faq_en",
            &p.faq_en,
            include_str!("../pages/faq.en.md"),
        )?;
        let legal_fr = read(
            "pages.legal_fr",
            &p.legal_fr,
            include_str!("../pages/legal.fr.md"),
        )?;
        let legal_en = read(
            "pages.legal_en",
            &p.legal_en,
            include_str!("../pages/legal.en.md"),
        )?;

        let m = &config.media;
        let media_ports = if m.port_min == m.port_max {
            m.port_min.to_string()
        } else {
            format!("{}-{}", m.port_min, m.port_max)
        };
        let https_port = https_port(config).to_string();
        let session_hours = config.access.session_hours.to_string();
        let render = |source: &str, lang: Lang| {
            let operator = match p.operator_name.trim() {
                "" => lang.texts().operator_unset,
                name => name,
            };
            let placeholders = [
                ("media_ports", media_ports.as_str()),
                ("https_port", &https_port),
                ("session_hours", &session_hours),
                ("operator_name", operator),
            ];
            let query = format!("lang={}", lang.texts().code);
            Variants {
                plain: markdown::render(source, &placeholders, None),
                with_lang: markdown::render(source, &placeholders, Some(&query)),
            }
        };
        let contacts = p.emails().map(|(_, value)| {
            EmailAddress::parse(value)
                .ok()
                .map(|a| a.as_str().to_owned())
        });
        Ok(Pages {
            faq: PerLang {
                fr: render(&faq_fr, Lang::Fr),
                en: render(&faq_en, Lang::En),
            },
            legal: PerLang {
                fr: render(&legal_fr, Lang::Fr),
                en: render(&legal_en, Lang::En),
            },
            contacts,
        })
    }
}

/// The TCP port browsers use for the service: the port of `mail.public_url` when it is set;
/// 443 behind a reverse proxy (`http.tls = "off"`); the listening port otherwise, which
/// [`crate::run`] sets to the port actually bound (never 0). Also `GET /api/network`'s.
pub(crate) fn https_port(config: &Config) -> u16 {
    let url = config.mail.public_url.as_str();
    if let Some(authority) = url.strip_prefix("https://") {
        let port = authority
            .rsplit_once(':')
            .filter(|(_, p)| !p.ends_with(']'));
        return port.and_then(|(_, p)| p.parse().ok()).unwrap_or(443);
    }
    match config.http.tls {
        TlsMode::Off => 443,
        _ => config.http.listen.port(),
    }
}

/// The routes of the pages, merged into [`crate::http::app`] before its fallback.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/faq", get(faq))
        .route("/contact", get(contact))
        .route("/legal", get(legal))
}

/// Which of the pages; also the footer's links, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Faq,
    Contact,
    Legal,
}

impl Page {
    const ALL: [Page; 3] = [Page::Faq, Page::Contact, Page::Legal];

    fn path(self) -> &'static str {
        match self {
            Page::Faq => "/faq",
            Page::Contact => "/contact",
            Page::Legal => "/legal",
        }
    }

    fn name(self, t: &Texts) -> &'static str {
        match self {
            Page::Faq => t.faq,
            Page::Contact => t.contact,
            Page::Legal => t.legal,
        }
    }
}

/// The language of this request, and whether links must carry it.
fn request_lang(uri: &Uri, headers: &HeaderMap) -> (Lang, bool) {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    choose_lang(uri.query(), accept)
}

async fn faq(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let (lang, explicit) = request_lang(&uri, &headers);
    let text = state.pages.faq.get(lang).get(explicit);
    let body = markdown_body(text, lang.texts().faq_title);
    page(Page::Faq, lang, explicit, &body)
}

async fn legal(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let (lang, explicit) = request_lang(&uri, &headers);
    let text = state.pages.legal.get(lang).get(explicit);
    let body = markdown_body(text, lang.texts().legal_title);
    page(Page::Legal, lang, explicit, &body)
}

async fn contact(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let (lang, explicit) = request_lang(&uri, &headers);
    let t = lang.texts();
    let faq_link = format!(
        "<a href=\"{}\">{}</a>",
        link(Page::Faq.path(), lang, explicit),
        escape(t.faq)
    );
    let mut body = format!(
        "<h1>{}</h1>\n<p class=\"intro\">{}</p>\n",
        escape(t.contact_title),
        escape(t.contact_intro).replace("{faq}", &faq_link)
    );
    let ids = ["contact-support", "contact-security", "contact-privacy"];
    for ((id, (title, text)), address) in ids.iter().zip(t.contacts).zip(&state.pages.contacts) {
        let _ = write!(
            body,
            "<section class=\"contact\" id=\"{id}\" aria-labelledby=\"{id}-title\">\
             <h2 id=\"{id}-title\">{}</h2><p>{}</p>",
            escape(title),
            escape(text)
        );
        let _ = match address {
            Some(a) => writeln!(
                body,
                "<p class=\"contact-address\"><a href=\"mailto:{}\">{}</a></p></section>",
                escape(&mailto(a)),
                escape(a)
            ),
            None => writeln!(
                body,
                "<p class=\"contact-address contact-missing\">{}</p></section>",
                escape(t.not_configured)
            ),
        };
    }
    page(Page::Contact, lang, explicit, &body)
}

/// A rendered Markdown text, with the default heading when it has no `#` title of its own.
fn markdown_body(rendered: &Rendered, default_title: &str) -> String {
    if rendered.has_title {
        rendered.html.clone()
    } else {
        format!("<h1>{}</h1>\n{}", escape(default_title), rendered.html)
    }
}

/// `path`, with `?lang=` when the language was chosen explicitly (so that following links
/// keeps it); without, the next page chooses from `Accept-Language` as this one did.
fn link(path: &str, lang: Lang, explicit: bool) -> String {
    if explicit {
        format!("{path}?lang={}", lang.texts().code)
    } else {
        path.to_owned()
    }
}

/// The whole document around `body` (safe HTML).
fn page(current: Page, lang: Lang, explicit: bool, body: &str) -> Response {
    let t = lang.texts();
    let other = lang.other().texts();
    let mut html = String::with_capacity(body.len() + 3000);
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"{code}\">\n<head>\n\
         <meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"color-scheme\" content=\"light\">\n\
         <title>{title} – {app}</title>\n\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\n\
         <link rel=\"stylesheet\" href=\"/css/app.css\">\n\
         <link rel=\"stylesheet\" href=\"/css/pages.css\">\n\
         </head>\n<body class=\"service-page\">\n\
         <a class=\"skip-link\" href=\"#content\">{skip}</a>\n\
         <header class=\"site-header\"><div class=\"site-header-inner\">\
         <div class=\"brand\"><span class=\"brand-mark\" aria-hidden=\"true\"></span>\
         <a class=\"brand-title\" href=\"{home}\">{app}</a>\
         <span class=\"brand-tagline\">{tagline}</span></div>\
         <a class=\"lang-switch\" href=\"{switch_href}\" hreflang=\"{other_code}\" lang=\"{other_code}\" \
         aria-label=\"{switch_label}\">{switch}</a>\
         </div></header>\n\
         <main id=\"content\" class=\"app\" tabindex=\"-1\"><article class=\"card doc\">\n{body}</article></main>\n",
        code = t.code,
        title = escape(current.name(t)),
        app = escape(t.app_title),
        skip = escape(t.skip),
        home = link("/", lang, explicit),
        tagline = escape(t.tagline),
        switch_href = link(current.path(), lang.other(), true),
        other_code = other.code,
        switch_label = escape(t.switch_label),
        switch = escape(t.switch),
    );
    let _ = write!(
        html,
        "<footer class=\"site-footer\"><nav class=\"site-footer-inner\" aria-label=\"{}\"><ul>",
        escape(t.footer_label)
    );
    for p in Page::ALL {
        let current = if p == current {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = write!(
            html,
            "<li><a href=\"{}\"{current}>{}</a></li>",
            link(p.path(), lang, explicit),
            escape(p.name(t))
        );
    }
    html.push_str("</ul></nav></footer>\n</body>\n</html>\n");
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::VARY, "Accept-Language"),
        ],
        html,
    )
        .into_response()
}

/// Escapes text for HTML content and double-quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A parsed address as the path of a `mailto:` URL: characters that mean something in a URL
/// (`?`, `#`, `%`, `&`...), all legal in a local part, are percent-encoded.
fn mailto(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    for b in address.bytes() {
        if b.is_ascii_alphanumeric() || b"@.-_+".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests;
