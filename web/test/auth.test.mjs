import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ANONYMOUS, checkCode, checkEmail, describeAuthError, minutesToWait, normalizeCode, normalizeEmail,
  parseApiError, parseSession,
} from '../js/auth.js';
import fr from '../js/i18n/fr.js';
import en from '../js/i18n/en.js';

// The examples of docs/access-policy.md, verbatim.
test('every /api/session example of docs/access-policy.md parses', () => {
  assert.deepEqual(parseSession(JSON.parse('{"zone":"internet","agent":false,"via":null,"email":null}')),
    { zone: 'internet', agent: false, via: null, email: null });
  assert.deepEqual(parseSession(JSON.parse('{"zone":"internal","agent":true,"via":"network","email":null}')),
    { zone: 'internal', agent: true, via: 'network', email: null });
  assert.deepEqual(parseSession(JSON.parse('{"zone":"internet","agent":true,"via":"email","email":"prenom.nom@interieur.gouv.fr"}')),
    { zone: 'internet', agent: true, via: 'email', email: 'prenom.nom@interieur.gouv.fr' });
});

test('a session that is not the documented shape is refused', () => {
  for (const body of [undefined, null, 'x', [], {}, { agent: 'yes' }, { zone: 'internet' }]) {
    assert.equal(parseSession(body), null, JSON.stringify(body));
  }
  assert.deepEqual(parseSession({ agent: true, via: 'magic', email: 3 }), { zone: 'unknown', agent: true, via: null, email: null });
  assert.equal(ANONYMOUS.agent, false);
});

test('error answers: code and the extra fields', () => {
  assert.deepEqual(parseApiError(400, { error: 'wrong_code', message: 'nope', remaining: 3 }),
    { code: 'wrong_code', status: 400, remaining: 3, retryAfter: null });
  assert.deepEqual(parseApiError(429, { error: 'rate_limited', message: 'slow down', retry_after: 125 }),
    { code: 'rate_limited', status: 429, remaining: null, retryAfter: 125 });
  assert.deepEqual(parseApiError(404, undefined), { code: 'bad_response', status: 404, remaining: null, retryAfter: null });
  assert.deepEqual(parseApiError(400, { error: 'wrong_code', remaining: -1 }).remaining, null);
  assert.deepEqual(parseApiError(400, { error: 'wrong_code', remaining: '2' }).remaining, null);
  assert.equal(parseApiError(500, { error: '' }).code, 'bad_response');
});

test('e-mail and code as typed', () => {
  assert.equal(normalizeEmail('  prenom.nom@interieur.gouv.fr \n'), 'prenom.nom@interieur.gouv.fr');
  assert.equal(checkEmail(''), 'empty');
  assert.equal(checkEmail('prenom.nom@interieur.gouv.fr'), null);
  for (const bad of ['prenom.nom', 'a@b', '@interieur.gouv.fr', 'a b@gouv.fr', 'a@@gouv.fr']) {
    assert.equal(checkEmail(bad), 'invalid', bad);
  }
  assert.equal(normalizeCode(' 048 213 '), '048213');
  assert.equal(normalizeCode('048-213'), '048213');
  assert.equal(normalizeCode('048\u00a0213'), '048213');
  assert.equal(checkCode(''), 'empty');
  assert.equal(checkCode('048213'), null);
  assert.equal(checkCode('04821a'), 'invalid');
});

test('minutes to wait are rounded up, at least one', () => {
  assert.equal(minutesToWait(0), 1);
  assert.equal(minutesToWait(1), 1);
  assert.equal(minutesToWait(60), 1);
  assert.equal(minutesToWait(61), 2);
  assert.equal(minutesToWait(600), 10);
});

/** Every code of the table in docs/access-policy.md, "Errors". */
const DOC_CODES = ['bad_request', 'bad_email', 'domain_not_allowed', 'rate_limited', 'mail_failed', 'no_code',
  'wrong_code', 'expired', 'too_many_attempts', 'forbidden_origin', 'bad_content_type'];

/** @param {string} code @param {object} [extra] */
const err = (code, extra = {}) => ({ code, status: 400, remaining: null, retryAfter: null, ...extra });

test('each documented error code has its own message, in French and English', () => {
  const seen = new Set();
  for (const code of DOC_CODES) {
    const d = describeAuthError(err(code, { remaining: 2, retryAfter: 300 }), 'email');
    const key = 'plural' in d ? `${d.plural}.other` : d.key;
    assert.ok(key in fr, `${code}: no French text ${key}`);
    assert.ok(key in en, `${code}: no English text ${key}`);
    assert.ok(!seen.has(key), `${code} shares its text ${key} with another code`);
    seen.add(key);
    assert.notEqual(key, 'auth.error.unknown', `${code} falls back to the generic text`);
  }
});

test('what each error means for the steps', () => {
  assert.deepEqual(describeAuthError(err('wrong_code', { remaining: 4 }), 'code'),
    { plural: 'auth.error.wrong_code', n: 4, field: 'code', restart: false });
  assert.deepEqual(describeAuthError(err('wrong_code'), 'code'),
    { key: 'auth.error.wrong_code.unknown', field: 'code', restart: false });
  // No try left: "0 tries left" would invite a sixth; say the code is dead instead.
  assert.deepEqual(describeAuthError(err('wrong_code', { remaining: 0 }), 'code'),
    { key: 'auth.error.too_many_attempts', field: 'code', restart: true });
  for (const code of ['expired', 'too_many_attempts', 'no_code']) {
    const d = describeAuthError(err(code), 'code');
    assert.equal(d.restart, true, code);
    assert.equal(d.field, 'code', code);
  }
  assert.deepEqual(describeAuthError(err('rate_limited', { retryAfter: 90 }), 'email'),
    { plural: 'auth.error.rate_limited', n: 2, field: 'email', restart: false });
  assert.deepEqual(describeAuthError(err('rate_limited'), 'code'),
    { key: 'auth.error.rate_limited.unknown', field: 'code', restart: false });
  assert.equal(describeAuthError(err('domain_not_allowed'), 'email').field, 'email');
  // A mail that cannot be sent again is about the address step, even from the code step.
  assert.equal(describeAuthError(err('mail_failed'), 'code').field, 'email');
  assert.deepEqual(describeAuthError(err('teapot'), 'code'),
    { key: 'auth.error.unknown', params: { code: 'teapot' }, field: 'code', restart: false });
  assert.equal(describeAuthError(err('network'), 'email').key, 'auth.error.network');
  assert.deepEqual(describeAuthError(err('bad_response', { status: 404 }), 'email'),
    { key: 'auth.error.unknown', params: { code: 'HTTP 404' }, field: 'email', restart: false });
});

test('the domain message names the professional address and the IT support', () => {
  assert.match(fr['auth.error.domain_not_allowed'], /adresse professionnelle/);
  assert.match(fr['auth.error.domain_not_allowed'], /assistance informatique/);
  assert.match(en['auth.error.domain_not_allowed'], /IT support/);
});
