// The footer's links to the service's own pages (FAQ, contact, legal notice). Those pages are
// rendered by the server, not by this client: the links are ordinary page loads, and carry
// `?lang=` so that the page opens in the language the client shows.

import { getLanguage, t } from '../i18n.js';

/** @type {Record<string, import('../i18n.js').MessageKey>} */
const LABELS = { faq: 'footer.faq', contact: 'footer.contact', legal: 'footer.legal' };

/** Translates the footer of index.html and points its links at the current language. */
export function renderFooter() {
  const nav = document.getElementById('site-footer');
  if (!nav) return;
  nav.setAttribute('aria-label', t('footer.label'));
  for (const link of nav.querySelectorAll('a[data-page]')) {
    if (!(link instanceof HTMLAnchorElement)) continue;
    const page = link.dataset.page ?? '';
    if (!Object.hasOwn(LABELS, page)) continue;
    const label = LABELS[page];
    link.textContent = t(label);
    link.href = `/${page}?lang=${getLanguage()}`;
  }
}
