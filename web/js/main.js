// Entry point: pick the language, fill the page chrome, route on location.pathname.
//   /        → home page
//   /<room>  → room page (pre-join panel, then the meeting)
//   /test    → connection test page

import { pickLanguage, setLanguage, getLanguage, t } from './i18n.js';
import { setRouter, onLinkClick } from './nav.js';
import { appRoot, focusHeading } from './ui/dom.js';
import { renderHome } from './ui/home.js';
import { renderRoom } from './ui/room.js';
import { renderTestPage } from './ui/testpage.js';
import { showBrowserNotice } from './ui/browsernotice.js';
import { renderFooter } from './ui/footer.js';

setLanguage(pickLanguage(location.search, navigator.languages ?? [navigator.language]));
showBrowserNotice();

/** @type {() => void} */
let disposeView = () => {};
let firstRender = true;

function route() {
  disposeView();
  const root = appRoot();
  const path = location.pathname;
  let segment = path.replace(/^\/+/, '').replace(/\/+$/, '');
  try {
    segment = decodeURIComponent(segment);
  } catch {
    // Malformed escape: keep it as typed; it will be refused as a room name.
  }
  // `test` can never be a room: room names have at least 10 characters and 3 digits.
  if (segment === 'test') disposeView = renderTestPage(root);
  else disposeView = segment === '' ? renderHome(root) : renderRoom(root, segment);
  renderChrome();
  if (!firstRender) focusHeading(root);
  firstRender = false;
}

/** The header's texts and language switch, which depend on the current language and path. */
function renderChrome() {
  const title = document.getElementById('app-title');
  if (title instanceof HTMLAnchorElement) {
    title.textContent = t('app.title');
    title.title = t('app.tagline');
    title.href = `/${location.search.includes('lang=') ? `?lang=${getLanguage()}` : ''}`;
  }
  const tagline = document.getElementById('app-tagline');
  if (tagline) tagline.textContent = t('app.tagline');
  const sw = document.getElementById('lang-switch');
  if (sw instanceof HTMLAnchorElement) {
    const other = getLanguage() === 'fr' ? 'en' : 'fr';
    const params = new URLSearchParams(location.search);
    params.set('lang', other);
    sw.href = `${location.pathname}?${params}`;
    sw.hreflang = other;
    sw.lang = other;
    sw.textContent = t('lang.switch');
    sw.setAttribute('aria-label', t('lang.switch.label'));
  }
  renderFooter();
}

const title = document.getElementById('app-title');
if (title) title.addEventListener('click', onLinkClick);
setRouter(route);
window.addEventListener('popstate', route);
route();
