// In-app navigation: history.pushState then re-route, keeping an explicit `?lang=`.

/** @type {() => void} */
let router = () => {};

/**
 * Register the function that renders the view for location.pathname (main.js does it once).
 * @param {() => void} fn
 */
export function setRouter(fn) {
  router = fn;
}

/**
 * The `?lang=` of the current URL, to carry over to the next one ('' when none).
 * @returns {string}
 */
export function langQuery() {
  const lang = new URLSearchParams(location.search).get('lang');
  return lang ? `?lang=${encodeURIComponent(lang)}` : '';
}

/**
 * Go to an in-app path ("/" or "/<room>") without reloading the page.
 * @param {string} path
 */
export function navigate(path) {
  history.pushState(null, '', path + langQuery());
  router();
}

/**
 * An <a> click handler that navigates in-app (keeps modified clicks, e.g. Ctrl+click, native).
 * @param {MouseEvent} ev
 */
export function onLinkClick(ev) {
  if (ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey) return;
  const link = ev.currentTarget;
  if (!(link instanceof HTMLAnchorElement)) return;
  ev.preventDefault();
  navigate(link.pathname);
}
