// The server's HTTP API for agent sessions (docs/access-policy.md, "HTTP API used by the
// client"): same origin, JSON bodies, `Content-Type: application/json` on every POST (the
// browser adds `Origin` itself). Cookies are HttpOnly: the client never sees them, it asks
// `/api/session`.

import { ANONYMOUS, parseApiError, parseSession } from './auth.js';

/** @typedef {import('./auth.js').Session} Session */
/** @typedef {import('./auth.js').ApiError} ApiError */

/**
 * @template T
 * @typedef {{ ok: true, value: T } | { ok: false, error: ApiError }} ApiResult
 */

/** A request left without an answer this long counts as a network failure. */
const TIMEOUT_MS = 20_000;

/**
 * One request. Never rejects: a network failure is `{ ok: false, error: {code: 'network'} }`.
 * @param {'GET' | 'POST'} method
 * @param {string} path
 * @param {object} [body]
 * @returns {Promise<ApiResult<unknown>>}
 */
async function request(method, path, body) {
  /** @type {RequestInit} */
  const init = {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { Accept: 'application/json' },
    signal: AbortSignal.timeout(TIMEOUT_MS),
  };
  if (method === 'POST') {
    init.headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
    init.body = JSON.stringify(body ?? {});
  }
  /** @type {Response} */
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    console.warn(`webconf: ${method} ${path} failed`, err);
    return { ok: false, error: { code: 'network', status: 0, remaining: null, retryAfter: null } };
  }
  /** @type {unknown} */
  let json;
  try {
    json = await res.json();
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const error = parseApiError(res.status, json);
    console.warn(`webconf: ${method} ${path} answered ${res.status} ${error.code}`);
    return { ok: false, error };
  }
  if (json === undefined) {
    return { ok: false, error: { code: 'bad_response', status: res.status, remaining: null, retryAfter: null } };
  }
  return { ok: true, value: json };
}

/**
 * What the server knows of this browser. Falls back to `ANONYMOUS` when it cannot tell (the
 * server then still decides at `join`: an agent's network is recognised there too).
 * @returns {Promise<Session>}
 */
export async function fetchSession() {
  const res = await request('GET', '/api/session');
  if (!res.ok) return ANONYMOUS;
  return parseSession(res.value) ?? ANONYMOUS;
}

/**
 * Ask for a one-time code sent to `email`. Resolves with its validity in seconds.
 * @param {string} email
 * @returns {Promise<ApiResult<{ expiresIn: number }>>}
 */
export async function requestCode(email) {
  const res = await request('POST', '/api/auth/code', { email });
  if (!res.ok) return res;
  const v = /** @type {{expires_in?: unknown}} */ (res.value ?? {});
  const expiresIn = typeof v.expires_in === 'number' && v.expires_in > 0 ? v.expires_in : 600;
  return { ok: true, value: { expiresIn } };
}

/**
 * Check the code typed by the person. On success the browser holds the agent cookie.
 * @param {string} code
 * @param {string} email  The address the code was sent to, in case the answer omits it.
 * @returns {Promise<ApiResult<Session>>}
 */
export async function verifyCode(code, email) {
  const res = await request('POST', '/api/auth/verify', { code });
  if (!res.ok) return res;
  const v = /** @type {{agent?: unknown, email?: unknown}} */ (res.value ?? {});
  if (v.agent !== true) {
    return { ok: false, error: { code: 'bad_response', status: 200, remaining: null, retryAfter: null } };
  }
  // The zone is not in the answer and only informative: `/api/session` tells it when needed.
  return {
    ok: true,
    value: { zone: 'unknown', agent: true, via: 'email', email: typeof v.email === 'string' ? v.email : email },
  };
}

/**
 * End the agent session (server side and cookie).
 * @returns {Promise<ApiResult<null>>}
 */
export async function logout() {
  const res = await request('POST', '/api/auth/logout', {});
  return res.ok ? { ok: true, value: null } : res;
}
