import { test } from 'node:test';
import assert from 'node:assert/strict';
import { durationUnit, formatClock } from '../js/duration.js';

test('countdown clock', () => {
  assert.equal(formatClock(0), '0:00');
  assert.equal(formatClock(-3), '0:00');
  assert.equal(formatClock(5), '0:05');
  assert.equal(formatClock(59.2), '1:00');
  assert.equal(formatClock(65), '1:05');
  assert.equal(formatClock(3600), '60:00');
});

test('duration in words: seconds below two minutes, whole minutes above', () => {
  assert.deepEqual(durationUnit(45), { base: 'count.seconds', n: 45 });
  assert.deepEqual(durationUnit(90), { base: 'count.seconds', n: 90 });
  assert.deepEqual(durationUnit(120), { base: 'count.minutes', n: 2 });
  assert.deepEqual(durationUnit(1800), { base: 'count.minutes', n: 30 });
  assert.deepEqual(durationUnit(601), { base: 'count.minutes', n: 11 });
});
