// Translations: every string shown in the UI comes from a table in i18n/. French is the
// reference and the default; English is chosen from the browser's languages, and `?lang=fr|en`
// overrides both.

import fr from './i18n/fr.js';
import en from './i18n/en.js';

/** @typedef {keyof typeof fr} MessageKey */
/** @typedef {'fr' | 'en'} Lang */
/**
 * A counted text: the table has `<base>.one` and `<base>.other`.
 * @typedef {'count.chars' | 'count.digits' | 'count.minutes' | 'count.seconds'
 *   | 'auth.error.rate_limited' | 'auth.error.wrong_code'
 *   | 'participants.count' | 'invite.sent' | 'chat.openUnread'} PluralBase
 */

/** @type {Record<Lang, Record<MessageKey, string>>} */
const TABLES = { fr, en };

/** @type {Lang} */
let current = 'fr';

/**
 * @param {string | null | undefined} tag  A BCP 47 tag such as "en-GB".
 * @returns {Lang | null}
 */
function toLang(tag) {
  const primary = (tag ?? '').toLowerCase().split('-')[0];
  return primary === 'fr' || primary === 'en' ? primary : null;
}

/**
 * The language to use: `?lang=` first, then the first supported language of the browser,
 * then French.
 * @param {string} search              location.search
 * @param {readonly string[]} languages navigator.languages
 * @returns {Lang}
 */
export function pickLanguage(search, languages) {
  const forced = toLang(new URLSearchParams(search).get('lang'));
  if (forced) return forced;
  for (const tag of languages) {
    const lang = toLang(tag);
    if (lang) return lang;
  }
  return 'fr';
}

/**
 * Select the language and label the document with it.
 * @param {Lang} lang
 */
export function setLanguage(lang) {
  current = lang;
  document.documentElement.lang = lang;
}

/** @returns {Lang} */
export function getLanguage() {
  return current;
}

/**
 * The text for `key` in the current language, with `{placeholder}`s replaced.
 * @param {MessageKey} key
 * @param {Record<string, string | number>} [params]
 * @returns {string}
 */
export function t(key, params) {
  const template = TABLES[current][key] ?? fr[key] ?? key;
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole);
}

/**
 * A counted text: `base.one` or `base.other` by the plural rules of the current language,
 * with `{n}` set to `n`.
 * @param {PluralBase} base
 * @param {number} n
 * @returns {string}
 */
export function tn(base, n) {
  const category = new Intl.PluralRules(current).select(n) === 'one' ? 'one' : 'other';
  return t(/** @type {MessageKey} */ (`${base}.${category}`), { n });
}

/**
 * Join phrases as a list in the current language ("a, b et c").
 * @param {string[]} parts
 * @returns {string}
 */
export function formatList(parts) {
  return new Intl.ListFormat(current, { style: 'long', type: 'conjunction' }).format(parts);
}
