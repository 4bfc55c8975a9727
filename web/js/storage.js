// What the browser remembers between visits: only the display name, in localStorage.
// localStorage may be missing or throw (private mode, storage disabled by policy): then nothing
// is remembered and nothing breaks.

const NAME_KEY = 'webconf.displayName';

/** @returns {string} The remembered display name, or ''. */
export function loadDisplayName() {
  try {
    return localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    return '';
  }
}

/** @param {string} name */
export function saveDisplayName(name) {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    // Not remembered; harmless.
  }
}
