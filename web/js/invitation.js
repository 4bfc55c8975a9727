// Invitations (docs/access-policy.md, "Invitations"): what the invite dialog sends to
// `POST /api/invite` and links to at `GET /api/ics`, and the message for each answer. Pure: no
// DOM, no fetch, so that web/test/ runs it under node.
//
// The room password is never part of an invitation: nothing here takes one.

import { checkEmail, minutesToWait, parseApiError } from './auth.js';

/** @typedef {import('./i18n.js').MessageKey} MessageKey */

/** The planned length offered by default, and the server's bounds (`minutes`). */
export const DEFAULT_MINUTES = 60;
export const MIN_MINUTES = 5;
export const MAX_MINUTES = 1440;

/**
 * The addresses typed in the dialog: separated by commas, semicolons, spaces or new lines
 * (what a copy from a mail client gives), "Name <address>" reduced to the address, repeated
 * addresses (whatever their case) kept once, in the order typed.
 * @param {string} text
 * @returns {{ emails: string[], invalid: string[] }}  `invalid`: the entries that cannot be
 *   addresses (the server has the last word: `bad_email`).
 */
export function parseEmailList(text) {
  /** @type {string[]} */
  const emails = [];
  /** @type {string[]} */
  const invalid = [];
  const seen = new Set();
  // "Prénom Nom <p.nom@x.fr>": keep what is between the angle brackets.
  const cleaned = text.replace(/[^<>,;\n]*<([^<>]*)>/g, ' $1 ');
  for (const raw of cleaned.split(/[\s,;]+/)) {
    const entry = raw.trim();
    if (entry === '') continue;
    const key = entry.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    if (checkEmail(entry) === null) emails.push(entry);
    else invalid.push(entry);
  }
  return { emails, invalid };
}

/**
 * The start of a planned meeting from the dialog's local date (`YYYY-MM-DD`) and time
 * (`HH:MM`), read in the browser's time zone and sent in UTC as the server asks.
 * @param {string} date
 * @param {string} time
 * @returns {{ ok: true, start: string | null } | { ok: false, problem: 'incomplete' | 'invalid' }}
 *   `start` is null when nothing was planned (both fields empty).
 */
export function scheduleStart(date, time) {
  if (date === '' && time === '') return { ok: true, start: null };
  if (date === '' || time === '') return { ok: false, problem: 'incomplete' };
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const h = /^(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?$/.exec(time);
  if (!d || !h) return { ok: false, problem: 'invalid' };
  const [year, month, day, hour, minute] = [d[1], d[2], d[3], h[1], h[2]].map(Number);
  const local = new Date(year, month - 1, day, hour, minute, 0, 0);
  // Date rolls 31 February over into March: refuse instead.
  if (local.getFullYear() !== year || local.getMonth() !== month - 1 || local.getDate() !== day
    || hour > 23 || minute > 59 || year < 2000 || year > 2999) {
    return { ok: false, problem: 'invalid' };
  }
  return { ok: true, start: local.toISOString().replace(/\.\d{3}Z$/, 'Z') };
}

/**
 * A planned length from the dialog, clamped to the server's bounds.
 * @param {string | number} value
 * @returns {number}
 */
export function plannedMinutes(value) {
  const n = Math.round(Number(value));
  if (!Number.isFinite(n) || n <= 0) return DEFAULT_MINUTES;
  return Math.min(MAX_MINUTES, Math.max(MIN_MINUTES, n));
}

/**
 * The body of `POST /api/invite`.
 * @param {string} room
 * @param {string[]} emails
 * @param {string | null} start   UTC, from `scheduleStart`.
 * @param {number} minutes
 * @returns {{ room: string, emails: string[], start?: string, minutes?: number }}
 */
export function inviteBody(room, emails, start, minutes) {
  return start ? { room, emails, start, minutes } : { room, emails };
}

/**
 * The "add to my calendar" link (`GET /api/ics`), same origin.
 * @param {string} room
 * @param {string} start   UTC, from `scheduleStart`.
 * @param {number} minutes
 * @returns {string}
 */
export function icsPath(room, start, minutes) {
  const q = new URLSearchParams({ room, start, minutes: String(minutes) });
  return `/api/ics?${q}`;
}

/**
 * A successful answer, `{"sent": n, "failed": [indexes]}`; null when it is not that shape.
 * @param {unknown} body
 * @returns {{ sent: number, failed: number[] } | null}
 */
export function parseInviteResult(body) {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const { sent, failed } = /** @type {Record<string, unknown>} */ (body);
  if (typeof sent !== 'number' || !Number.isInteger(sent) || sent < 0) return null;
  if (!Array.isArray(failed) || !failed.every((i) => Number.isInteger(i) && i >= 0)) return null;
  return { sent, failed: /** @type {number[]} */ (failed) };
}

/**
 * A refused invitation: the API error plus the fields only invitations have (`index` of a
 * bad address, `max` recipients).
 * @typedef {import('./auth.js').ApiError & { index: number | null, max: number | null }} InviteError
 */

/**
 * @param {number} status
 * @param {unknown} body
 * @returns {InviteError}
 */
export function parseInviteError(status, body) {
  const base = parseApiError(status, body);
  const obj = typeof body === 'object' && body !== null ? /** @type {Record<string, unknown>} */ (body) : {};
  const int = (/** @type {unknown} */ v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null);
  return { ...base, index: int(obj.index), max: int(obj.max) };
}

/**
 * The text to show for a refused invitation: a key of the translation table and its
 * parameters. `minutes` (for `rate_limited`) is to be said with `tn('count.minutes', …)`.
 * @param {InviteError} err
 * @param {string[]} emails  The addresses sent, to name the one `bad_email` points at.
 * @returns {{ key: MessageKey, params?: Record<string, string | number>, minutes?: number }}
 */
export function describeInviteError(err, emails) {
  switch (err.code) {
    case 'bad_email': {
      const email = err.index !== null ? emails[err.index] : undefined;
      return email !== undefined
        ? { key: 'invite.error.bad_email', params: { email } }
        : { key: 'invite.error.bad_email.unknown' };
    }
    case 'too_many_recipients':
      return err.max !== null
        ? { key: 'invite.error.too_many_recipients', params: { max: err.max } }
        : { key: 'invite.error.too_many_recipients.unknown' };
    case 'rate_limited':
      return err.retryAfter !== null
        ? { key: 'invite.error.rate_limited', minutes: minutesToWait(err.retryAfter) }
        : { key: 'invite.error.rate_limited.unknown' };
    case 'mail_failed':
    case 'forbidden':
    case 'bad_room_name':
    case 'no_public_url':
      return { key: `invite.error.${err.code}` };
    case 'bad_request':
    case 'forbidden_origin':
    case 'bad_content_type':
    case 'network':
      return { key: `auth.error.${err.code}` };
    case 'bad_response':
      return { key: 'auth.error.unknown', params: { code: `HTTP ${err.status}` } };
    default:
      return { key: 'auth.error.unknown', params: { code: err.code } };
  }
}
