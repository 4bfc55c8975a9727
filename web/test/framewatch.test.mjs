import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FRAME_STALL_MS, watchFrames } from '../js/framewatch.js';

/** Feeds samples [time, frames] and returns the `stalled` flag after each. */
function run(samples, stallMs = FRAME_STALL_MS) {
  let w = null;
  return samples.map(([now, frames]) => (w = watchFrames(w, frames, now, stallMs)).stalled);
}

test('frames that keep coming never stall', () => {
  assert.deepEqual(run([[0, 0], [1000, 25], [2000, 50], [3000, 75], [9000, 80]]), [false, false, false, false, false]);
});

test('a counter standing still stalls after the threshold, not before', () => {
  assert.deepEqual(run([[0, 10], [1000, 10], [2999, 10], [3000, 10], [4000, 10]]), [false, false, false, true, true]);
  // A video that never got a frame stalls too (a camera outside last-N from the start).
  assert.deepEqual(run([[0, 0], [1000, 0], [3500, 0]]), [false, false, true]);
});

test('one new frame ends the stall at once and starts a new period', () => {
  assert.deepEqual(run([[0, 10], [3000, 10], [4000, 11], [5000, 11], [6999, 11], [7000, 11]]),
    [false, true, false, false, false, true]);
});

test('a counter reset (new source) counts as a change', () => {
  assert.deepEqual(run([[0, 500], [3000, 500], [3100, 0]]), [false, true, false]);
});

test('no counter from the browser: never stalled', () => {
  assert.deepEqual(run([[0, null], [5000, null], [10000, null]]), [false, false, false]);
  assert.equal(watchFrames(null, Number.NaN, 0).stalled, false);
});

test('the default threshold is generous for a busy machine', () => {
  assert.ok(FRAME_STALL_MS >= 2000);
});
