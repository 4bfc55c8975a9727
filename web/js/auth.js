// The agent session and the e-mail check, as docs/access-policy.md describes them: parsing of
// what `/api/session` and `/api/auth/*` answer, light checks of what the person types, and the
// choice of the message to show for each error code. Pure: no DOM, no fetch (see api.js), so
// that web/test/ runs it under node.

/** @typedef {import('./i18n.js').MessageKey} MessageKey */
/** @typedef {import('./i18n.js').PluralBase} PluralBase */

/**
 * What the server knows of this browser (`GET /api/session`). `agent` is what counts: only
 * an agent may open a room. `via` says how it was recognised; `email` is set for `email`.
 * @typedef {object} Session
 * @property {string} zone                         Name of the network zone, e.g. "internet".
 * @property {boolean} agent
 * @property {'network' | 'email' | null} via
 * @property {string | null} email
 */

/**
 * A refused `/api/*` request. `code` is the server's stable code (docs/access-policy.md,
 * "Errors"), or `network` when no answer came, or `bad_response` when the answer was not the
 * documented JSON. `remaining` (wrong_code) and `retryAfter` (rate_limited, seconds) are null
 * when the server did not send them.
 * @typedef {object} ApiError
 * @property {string} code
 * @property {number} status     HTTP status; 0 when no answer came.
 * @property {number | null} remaining
 * @property {number | null} retryAfter
 */

/**
 * The text for an error: `{key, params}` for `t()`, or `{plural, n}` for `tn()`.
 * `field` is the step the message belongs to; `restart` is true when the pending code is dead
 * and only a new one helps (the UI then offers "get a new code").
 * @typedef {({ key: MessageKey, params?: Record<string, string | number> }
 *   | { plural: PluralBase, n: number }) & { field: 'email' | 'code', restart: boolean }} AuthErrorText
 */

/** The session of a browser nothing is known about (also used when `/api/session` fails). */
export const ANONYMOUS = Object.freeze(/** @type {Session} */ ({
  zone: 'unknown', agent: false, via: null, email: null,
}));

/**
 * @param {unknown} v
 * @returns {v is Record<string, unknown>}
 */
function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parse the body of `GET /api/session`. Null when it is not the documented shape.
 * @param {unknown} body
 * @returns {Session | null}
 */
export function parseSession(body) {
  if (!isObject(body)) return null;
  const { zone, agent, via, email } = body;
  if (typeof agent !== 'boolean') return null;
  return {
    zone: typeof zone === 'string' ? zone : 'unknown',
    agent,
    via: via === 'network' || via === 'email' ? via : null,
    email: typeof email === 'string' && email !== '' ? email : null,
  };
}

/**
 * @param {unknown} v
 * @returns {number | null}
 */
function count(v) {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : null;
}

/**
 * Read an error answer `{"error": code, "message": ..., ...extra}` of status `status`.
 * @param {number} status
 * @param {unknown} body      The parsed JSON body, or undefined when it was not JSON.
 * @returns {ApiError}
 */
export function parseApiError(status, body) {
  const code = isObject(body) && typeof body.error === 'string' && body.error !== ''
    ? body.error
    : 'bad_response';
  return {
    code,
    status,
    remaining: isObject(body) ? count(body.remaining) : null,
    retryAfter: isObject(body) ? count(body.retry_after) : null,
  };
}

/**
 * The address as it will be sent: spaces around it removed (a pasted address often has some).
 * The server decides what is valid; this only trims.
 * @param {string} input
 * @returns {string}
 */
export function normalizeEmail(input) {
  return input.trim();
}

/**
 * A quick check before a round trip: something, an `@`, something with a dot after it, no
 * spaces. Not a validation (the server has the last word, `bad_email`).
 * @param {string} email  Normalised.
 * @returns {'empty' | 'invalid' | null}  Null when it may be an address.
 */
export function checkEmail(email) {
  if (email === '') return 'empty';
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) ? null : 'invalid';
}

/**
 * The code as it will be sent: spaces, dashes and dots that people type or paste between
 * groups of digits are removed ("048 213" → "048213").
 * @param {string} input
 * @returns {string}
 */
export function normalizeCode(input) {
  return input.replace(/[\s\-.\u00a0\u2009\u202f]/g, '');
}

/**
 * @param {string} code  Normalised.
 * @returns {'empty' | 'invalid' | null}  Null when it looks like a code.
 */
export function checkCode(code) {
  if (code === '') return 'empty';
  return /^\d{1,12}$/.test(code) ? null : 'invalid';
}

/**
 * Whole minutes to wait, rounded up, at least 1.
 * @param {number} seconds
 * @returns {number}
 */
export function minutesToWait(seconds) {
  return Math.max(1, Math.ceil(seconds / 60));
}

/**
 * The message for a refused `POST /api/auth/code` (`step` = 'email') or `/api/auth/verify`
 * (`step` = 'code').
 * @param {ApiError} err
 * @param {'email' | 'code'} step
 * @returns {AuthErrorText}
 */
export function describeAuthError(err, step) {
  switch (err.code) {
    case 'bad_email':
    case 'domain_not_allowed':
    case 'mail_failed':
      return { key: `auth.error.${err.code}`, field: 'email', restart: false };
    case 'rate_limited':
      return err.retryAfter === null
        ? { key: 'auth.error.rate_limited.unknown', field: step, restart: false }
        : { plural: 'auth.error.rate_limited', n: minutesToWait(err.retryAfter), field: step, restart: false };
    case 'wrong_code':
      if (err.remaining === null) return { key: 'auth.error.wrong_code.unknown', field: 'code', restart: false };
      // No try left: the code is dead, whatever the server calls it.
      if (err.remaining === 0) return { key: 'auth.error.too_many_attempts', field: 'code', restart: true };
      return { plural: 'auth.error.wrong_code', n: err.remaining, field: 'code', restart: false };
    case 'no_code':
    case 'expired':
    case 'too_many_attempts':
      return { key: `auth.error.${err.code}`, field: 'code', restart: true };
    case 'bad_request':
    case 'forbidden_origin':
    case 'bad_content_type':
    case 'network':
      return { key: `auth.error.${err.code}`, field: step, restart: false };
    case 'bad_response':
      // Not the API's JSON (a proxy's error page, a server without the API): say the status.
      return { key: 'auth.error.unknown', params: { code: `HTTP ${err.status}` }, field: step, restart: false };
    default:
      return { key: 'auth.error.unknown', params: { code: err.code }, field: step, restart: false };
  }
}
