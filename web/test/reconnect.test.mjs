import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RECONNECT_POLICY, ReconnectPlan, addressGone, iceAction, mediaStalled, reconnectDelay, rejoinRetryable,
} from '../js/reconnect.js';

const P = RECONNECT_POLICY;
const middle = () => 0.5; // no jitter
const low = () => 0;
const high = () => 0.999999;

test('the waits grow exponentially from the first one up to the cap', () => {
  const waits = [0, 1, 2, 3, 4, 5, 10, 100].map((n) => reconnectDelay(n, middle));
  assert.deepEqual(waits.slice(0, 4), [P.firstDelayMs, P.firstDelayMs * 2, P.firstDelayMs * 4, P.firstDelayMs * 8]);
  for (const w of waits) assert.ok(w <= P.maxDelayMs, `${w} <= cap`);
  assert.equal(waits.at(-1), P.maxDelayMs);
  for (let i = 1; i < waits.length; i++) assert.ok(waits[i] >= waits[i - 1], 'never shorter than the one before');
});

test('the jitter moves a wait by at most ± its fraction, and never below zero', () => {
  for (const n of [0, 3, 50]) {
    const base = reconnectDelay(n, middle);
    const lo = reconnectDelay(n, low);
    const hi = reconnectDelay(n, high);
    assert.ok(lo < base && hi > base, `jitter applies at attempt ${n}`);
    assert.ok(lo >= Math.floor(base * (1 - P.jitter)), `${lo} >= ${base} - ${P.jitter * 100} %`);
    assert.ok(hi <= Math.ceil(base * (1 + P.jitter)), `${hi} <= ${base} + ${P.jitter * 100} %`);
  }
  const wild = { ...P, jitter: 5 };
  assert.equal(reconnectDelay(0, low, wild), 0);
  assert.equal(reconnectDelay(-3, middle), P.firstDelayMs, 'a negative attempt counts as the first');
});

test('two clients of a restarted server do not come back at the same time', () => {
  let seed = 7;
  const rnd = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const a = reconnectDelay(0, rnd);
  const b = reconnectDelay(0, rnd);
  assert.notEqual(a, b);
});

test('the issue bounds: after the network returns, the next attempt starts within the cap', () => {
  // A 30 s cut: whatever the attempt number, the next try comes within maxDelayMs (+ jitter),
  // and an attempt hangs at most attemptTimeoutMs: rejoining within 10 s needs both small.
  assert.ok(P.maxDelayMs * (1 + P.jitter) + P.attemptTimeoutMs < 8_000);
  assert.ok(P.iceGraceMs <= 3_000, 'a short cut may recover on its own before the ICE restart');
});

test('a plan counts its attempts and gives up after giveUpMs', () => {
  const plan = new ReconnectPlan(1_000, P, middle);
  let now = 1_000;
  const waits = [];
  for (;;) {
    const w = plan.next(now);
    if (w === null) break;
    waits.push(w);
    now += w + P.attemptTimeoutMs; // each attempt times out
    assert.ok(waits.length < 1000, 'the plan ends');
  }
  assert.equal(plan.attempts, waits.length);
  assert.ok(now - 1_000 <= P.giveUpMs + P.attemptTimeoutMs + P.maxDelayMs);
  assert.ok(now - 1_000 > P.giveUpMs - P.attemptTimeoutMs - P.maxDelayMs * 2, `tried until near the end (${now})`);
  assert.equal(plan.next(now + 1), null, 'once given up, it stays so');
});

test('a short policy gives up at once when even the first wait is too long', () => {
  const plan = new ReconnectPlan(0, { ...P, giveUpMs: 10 }, middle);
  assert.equal(plan.next(0), null);
  assert.equal(plan.attempts, 0);
});

test('ICE states map to waiting, restarting or nothing', () => {
  assert.equal(iceAction('connected'), 'ok');
  assert.equal(iceAction('completed'), 'ok');
  assert.equal(iceAction('disconnected'), 'wait');
  assert.equal(iceAction('failed'), 'restart');
  assert.equal(iceAction('new'), 'none');
  assert.equal(iceAction('checking'), 'none');
  assert.equal(iceAction('closed'), 'none');
});

test('only a busy server or the join rate limit are retried; other refusals end the meeting', () => {
  assert.equal(rejoinRetryable('rate_limited'), true);
  assert.equal(rejoinRetryable('server_busy'), true);
  for (const code of ['forbidden', 'not_found', 'bad_name', 'bad_room_name', 'unsupported_version', 'whatever']) {
    assert.equal(rejoinRetryable(code), false, code);
  }
});

test('an address change is recognised from the addresses a restart gathers', () => {
  assert.equal(addressGone('198.18.1.2', ['127.0.0.1', '198.18.1.3']), true, 'moved to .3');
  assert.equal(addressGone('198.18.1.2', ['198.18.1.2', '198.18.1.3']), false, 'still there');
  // Chromium brackets IPv6 candidate addresses in icecandidate events, not in getStats().
  assert.equal(addressGone('fd00:198:18:7::2', ['[fd00:198:18:7::2]', '127.0.0.1']), false, 'IPv6 still there');
  assert.equal(addressGone('fd00:198:18:7::2', ['[fd00:198:18:7::3]']), true, 'IPv6 moved to ::3');
  assert.equal(addressGone('FD00::2', ['[fd00::2]']), false, 'case does not matter');
  assert.equal(addressGone('2001:db8::2', ['2001:db8::2']), false);
  assert.equal(addressGone(null, ['198.18.1.3']), false, 'unknown before: proves nothing');
  assert.equal(addressGone('198.18.1.2', []), false, 'nothing gathered (yet): proves nothing');
  assert.equal(addressGone('abcd.local', ['198.18.1.3']), false, 'hidden names prove nothing');
  assert.equal(addressGone('198.18.1.2', ['ef01.local']), false);
});

test('the media path stalls after stallMs without a received byte', () => {
  assert.equal(mediaStalled(1_000, 1_000 + P.stallMs - 1), false);
  assert.equal(mediaStalled(1_000, 1_000 + P.stallMs), true);
  assert.ok(P.stallMs + P.statsIntervalMs < 3_000, 'detected well before an address change\'s 5 s bound');
});
