//! The fixed texts of the service's pages (their frame and the contact page), French first.
//! The FAQ and the legal notice are Markdown files (`crates/webconf-server/pages/`).

/// Every fixed text of the pages, in one language.
pub struct Texts {
    /// `<html lang>`.
    pub code: &'static str,
    /// The service's name, in the header and the `<title>`.
    pub app_title: &'static str,
    /// Beside the name in the header.
    pub tagline: &'static str,
    /// The language switch: the other language's name, in that language.
    pub switch: &'static str,
    /// The language switch's accessible label, in the other language.
    pub switch_label: &'static str,
    /// The skip link to the main content.
    pub skip: &'static str,
    /// The footer's navigation landmark.
    pub footer_label: &'static str,
    /// Footer link and `<title>` of `/faq`.
    pub faq: &'static str,
    /// Footer link and `<title>` of `/contact`.
    pub contact: &'static str,
    /// Footer link and `<title>` of `/legal`.
    pub legal: &'static str,
    /// The FAQ's heading when its Markdown has no `#` title.
    pub faq_title: &'static str,
    /// The legal notice's heading when its Markdown has no `#` title.
    pub legal_title: &'static str,
    /// The contact page's heading.
    pub contact_title: &'static str,
    /// First paragraph of the contact page; `{faq}` is the FAQ's link.
    pub contact_intro: &'static str,
    /// Heading and paragraph of each address, in the order of `PagesConfig::emails`.
    pub contacts: [(&'static str, &'static str); 3],
    /// In place of an address the operator did not give.
    pub not_configured: &'static str,
    /// `{operator_name}` when `pages.operator_name` is empty.
    pub operator_unset: &'static str,
}

/// French: the reference.
pub const FR: Texts = Texts {
    code: "fr",
    app_title: "Webconférence",
    tagline: "Webconférence de l’État",
    switch: "English",
    switch_label: "Read this page in English",
    skip: "Aller au contenu",
    footer_label: "À propos du service",
    faq: "FAQ",
    contact: "Contact",
    legal: "Mentions légales",
    faq_title: "Foire aux questions",
    legal_title: "Mentions légales",
    contact_title: "Nous contacter",
    contact_intro: "Avant d’écrire, consultez la {faq}\u{a0}: elle répond aux questions les plus \
        fréquentes (prérequis, caméra et micro, réseau). Pour un problème de poste de travail ou \
        de réseau local, votre assistance informatique de proximité est souvent la mieux placée.",
    contacts: [
        (
            "Assistance aux utilisateurs",
            "Une question sur le service, un problème pour créer ou rejoindre une réunion\u{a0}:",
        ),
        (
            "Signaler un problème de sécurité",
            "Une faille, un comportement suspect, une réunion écoutée à votre insu\u{a0}: écrivez \
             à l’adresse dédiée aux signalements de sécurité. N’y joignez ni mot de passe ni \
             information sensible.",
        ),
        (
            "Données personnelles",
            "Pour exercer vos droits sur vos données personnelles (accès, rectification, \
             effacement, opposition) ou poser une question à ce sujet\u{a0}:",
        ),
    ],
    not_configured: "Adresse non configurée par l’opérateur du service.",
    operator_unset: "[nom de l’opérateur non configuré]",
};

/// English.
pub const EN: Texts = Texts {
    code: "en",
    app_title: "Web conference",
    tagline: "French State web conference",
    switch: "Français",
    switch_label: "Lire cette page en français",
    skip: "Skip to content",
    footer_label: "About the service",
    faq: "FAQ",
    contact: "Contact",
    legal: "Legal notice",
    faq_title: "Frequently asked questions",
    legal_title: "Legal notice",
    contact_title: "Contact us",
    contact_intro: "Before writing, please read the {faq}: it answers the most common questions \
        (requirements, camera and microphone, network). For a problem with your computer or \
        your local network, your local IT support is often best placed to help.",
    contacts: [
        (
            "User support",
            "A question about the service, a problem creating or joining a meeting:",
        ),
        (
            "Report a security problem",
            "A vulnerability, suspicious behaviour, a meeting overheard without your knowledge: \
             write to the address dedicated to security reports. Do not include passwords or \
             sensitive information.",
        ),
        (
            "Personal data",
            "To exercise your rights over your personal data (access, rectification, erasure, \
             objection) or ask a question about it:",
        ),
    ],
    not_configured: "Address not configured by the operator of the service.",
    operator_unset: "[operator name not configured]",
};
