import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_MINUTES, describeInviteError, icsPath, inviteBody, parseEmailList, parseInviteError, parseInviteResult,
  plannedMinutes, scheduleStart,
} from '../js/invitation.js';

test('addresses: any separator, "Name <address>", repeats kept once, bad entries apart', () => {
  assert.deepEqual(parseEmailList(''), { emails: [], invalid: [] });
  assert.deepEqual(
    parseEmailList('a@x.gouv.fr, b@example.com;\nA@X.gouv.fr  c@example.org'),
    { emails: ['a@x.gouv.fr', 'b@example.com', 'c@example.org'], invalid: [] },
  );
  assert.deepEqual(
    parseEmailList('Paule Prénom <paule.prenom@interieur.gouv.fr>, pas-une-adresse'),
    { emails: ['paule.prenom@interieur.gouv.fr'], invalid: ['pas-une-adresse'] },
  );
});

test('schedule: local date and time to UTC, both or neither', () => {
  assert.deepEqual(scheduleStart('', ''), { ok: true, start: null });
  assert.deepEqual(scheduleStart('2031-03-04', ''), { ok: false, problem: 'incomplete' });
  assert.deepEqual(scheduleStart('', '10:00'), { ok: false, problem: 'incomplete' });
  assert.deepEqual(scheduleStart('2031-02-31', '10:00'), { ok: false, problem: 'invalid' });
  assert.deepEqual(scheduleStart('1999-12-31', '10:00'), { ok: false, problem: 'invalid' });
  const s = scheduleStart('2031-03-04', '10:30');
  assert.ok(s.ok);
  assert.equal(s.start, new Date(2031, 2, 4, 10, 30).toISOString().replace('.000Z', 'Z'));
  assert.match(String(s.start), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z$/);
});

test('planned length within the server bounds', () => {
  assert.equal(plannedMinutes('90'), 90);
  assert.equal(plannedMinutes('abc'), DEFAULT_MINUTES);
  assert.equal(plannedMinutes(1), 5);
  assert.equal(plannedMinutes(100000), 1440);
});

test('request body and calendar link never carry anything but room, addresses and time', () => {
  assert.deepEqual(inviteBody('reunion2024abc', ['a@x.fr'], null, 60), { room: 'reunion2024abc', emails: ['a@x.fr'] });
  assert.deepEqual(
    inviteBody('reunion2024abc', ['a@x.fr'], '2031-03-04T09:30:00Z', 90),
    { room: 'reunion2024abc', emails: ['a@x.fr'], start: '2031-03-04T09:30:00Z', minutes: 90 },
  );
  assert.equal(
    icsPath('reunion2024abc', '2031-03-04T09:30:00Z', 90),
    '/api/ics?room=reunion2024abc&start=2031-03-04T09%3A30%3A00Z&minutes=90',
  );
});

test('answers and errors', () => {
  assert.deepEqual(parseInviteResult({ sent: 2, failed: [] }), { sent: 2, failed: [] });
  assert.deepEqual(parseInviteResult({ sent: 1, failed: [1] }), { sent: 1, failed: [1] });
  assert.equal(parseInviteResult({ sent: '2', failed: [] }), null);
  assert.equal(parseInviteResult(null), null);
  const bad = parseInviteError(400, { error: 'bad_email', message: 'x', index: 1 });
  assert.deepEqual(describeInviteError(bad, ['a@x.fr', 'oops@']), { key: 'invite.error.bad_email', params: { email: 'oops@' } });
  assert.deepEqual(
    describeInviteError(parseInviteError(400, { error: 'too_many_recipients', max: 20 }), []),
    { key: 'invite.error.too_many_recipients', params: { max: 20 } },
  );
  assert.deepEqual(
    describeInviteError(parseInviteError(429, { error: 'rate_limited', retry_after: 125 }), []),
    { key: 'invite.error.rate_limited', minutes: 3 },
  );
  for (const code of ['mail_failed', 'forbidden', 'bad_room_name', 'no_public_url']) {
    assert.deepEqual(describeInviteError(parseInviteError(400, { error: code }), []), { key: `invite.error.${code}` });
  }
  assert.deepEqual(describeInviteError(parseInviteError(0, { error: 'network' }), []), { key: 'auth.error.network' });
  assert.deepEqual(describeInviteError(parseInviteError(502, undefined), []), { key: 'auth.error.unknown', params: { code: 'HTTP 502' } });
});
