// Display names: the rule of docs/protocol.md `join.name` ("1 to 64 characters, no control
// characters; surrounding spaces are trimmed"). Characters are counted as Unicode code points,
// like Rust's `str::chars`.

/** Maximum length in code points. */
export const MAX_NAME_CHARS = 64;

/**
 * @typedef {{ ok: true, name: string } | { ok: false, reason: 'empty' | 'tooLong' | 'control' }}
 *   DisplayNameResult
 */

/**
 * @param {string} input
 * @returns {DisplayNameResult}
 */
export function parseDisplayName(input) {
  const name = input.trim();
  if (name === '') return { ok: false, reason: 'empty' };
  if (/\p{Cc}/u.test(name)) return { ok: false, reason: 'control' };
  if (Array.from(name).length > MAX_NAME_CHARS) return { ok: false, reason: 'tooLong' };
  return { ok: true, name };
}

/**
 * Up to two initials for the avatar shown when the camera is off: "Alice Martin" → "AM".
 * @param {string} name
 * @returns {string}
 */
export function initials(name) {
  const words = name.trim().split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w));
  /** @param {string} w */
  const first = (w) => (Array.from(w).find((c) => /[\p{L}\p{N}]/u.test(c)) ?? '').toUpperCase();
  if (words.length === 0) return '?';
  if (words.length === 1) return first(words[0]);
  return first(words[0]) + first(words[words.length - 1]);
}
