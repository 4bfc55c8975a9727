import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEIGHT_STEP, ViewReporter, buildView, sameView } from '../js/viewreport.js';
import {
  MAX_VIEW_HEIGHT, MAX_VIEW_TILES, isKnownErrorCode, parseServerMessage, viewMessage,
} from '../js/protocol.js';
import { ActiveSpeaker } from '../js/speaker.js';
import { cameraEncodings } from '../js/media.js';

const A = 'p0c1d2e3f40516273';
const B = 'p7f3a09c2d18e4b65';

test('a view lists the tiles with their heights in device pixels, rounded', () => {
  const view = buildView([
    { participant: A, screen: false, height: 181.4, pinned: false },
    { participant: B, screen: true, height: 500, pinned: false },
  ], { dpr: 2 });
  assert.deepEqual(view, {
    type: 'view',
    tiles: [
      { participant: A, screen: false, height: 360, pinned: false },
      { participant: B, screen: true, height: 1000, pinned: false },
    ],
  });
  for (const tile of view.tiles) assert.equal(tile.height % HEIGHT_STEP, 0);
});

test('a hidden page, a tile not displayed or a nonsense height asks for no video', () => {
  const tiles = [{ participant: A, screen: false, height: 720, pinned: true }];
  assert.equal(buildView(tiles, { hidden: true }).tiles[0].height, 0);
  assert.equal(buildView([{ ...tiles[0], height: 0 }]).tiles[0].height, 0);
  assert.equal(buildView([{ ...tiles[0], height: Number.NaN }]).tiles[0].height, 0);
  // A bad devicePixelRatio counts as 1.
  assert.equal(buildView(tiles, { dpr: 0 }).tiles[0].height, 720);
});

test('viewMessage keeps the server bounds: heights clamped, pinned tiles kept first', () => {
  const many = Array.from({ length: MAX_VIEW_TILES + 20 }, (_, i) => ({
    participant: `p${i}`, screen: false, height: 100_000, pinned: i === MAX_VIEW_TILES + 10,
  }));
  const msg = viewMessage(many);
  assert.equal(msg.tiles.length, MAX_VIEW_TILES);
  assert.equal(msg.tiles[0].participant, `p${MAX_VIEW_TILES + 10}`);
  assert.ok(msg.tiles.every((x) => x.height === MAX_VIEW_HEIGHT));
  assert.equal(viewMessage([{ participant: A, screen: false, height: -5, pinned: false }]).tiles[0].height, 0);
});

test('sameView ignores the order of tiles but not their sizes or pins', () => {
  const a = buildView([
    { participant: A, screen: false, height: 180, pinned: false },
    { participant: B, screen: false, height: 720, pinned: false },
  ]);
  const reordered = { type: /** @type {const} */ ('view'), tiles: [...a.tiles].reverse() };
  assert.ok(sameView(a, reordered));
  assert.ok(!sameView(a, buildView([{ participant: A, screen: false, height: 180, pinned: false }])));
  assert.ok(!sameView(a, { ...a, tiles: a.tiles.map((x) => ({ ...x, height: x.height + 10 })) }));
  assert.ok(!sameView(a, { ...a, tiles: a.tiles.map((x) => ({ ...x, pinned: true })) }));
  assert.ok(!sameView(a, null));
  assert.ok(sameView(null, null));
});

/** A fake clock for the debounce. */
function fakeTimers() {
  /** @type {Map<number, {at: number, fn: () => void}>} */
  const timers = new Map();
  let now = 0;
  let next = 1;
  return {
    setTimer: (/** @type {() => void} */ fn, /** @type {number} */ ms) => {
      const id = next++;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimer: (/** @type {unknown} */ id) => timers.delete(/** @type {number} */ (id)),
    advance(/** @type {number} */ ms) {
      now += ms;
      for (const [id, t] of [...timers]) {
        if (t.at <= now) {
          timers.delete(id);
          t.fn();
        }
      }
    },
  };
}

test('the reporter sends after the layout settles, and only on change', () => {
  const clock = fakeTimers();
  /** @type {any[]} */
  const sent = [];
  const reporter = new ViewReporter({ send: (m) => (sent.push(m), true), delayMs: 300, ...clock });
  const small = buildView([{ participant: A, screen: false, height: 180, pinned: false }]);
  const large = buildView([{ participant: A, screen: false, height: 720, pinned: true }]);
  reporter.update(small);
  clock.advance(200);
  reporter.update(large); // restarts the wait
  clock.advance(200);
  assert.equal(sent.length, 0);
  clock.advance(100);
  assert.deepEqual(sent, [large]);
  // The same view again (a resize of a few pixels): nothing.
  reporter.update(buildView([{ participant: A, screen: false, height: 722, pinned: true }]));
  clock.advance(300);
  assert.equal(sent.length, 1);
  reporter.update(small);
  clock.advance(300);
  assert.deepEqual(sent, [large, small]);
  reporter.dispose();
  reporter.update(large);
  clock.advance(300);
  assert.equal(sent.length, 2);
});

test('a view that could not be sent is sent at the next chance', () => {
  const clock = fakeTimers();
  let open = false;
  /** @type {any[]} */
  const sent = [];
  const reporter = new ViewReporter({ send: (m) => (open ? (sent.push(m), true) : false), ...clock });
  const v = buildView([{ participant: A, screen: false, height: 360, pinned: false }]);
  reporter.update(v);
  clock.advance(300);
  assert.equal(sent.length, 0);
  open = true;
  reporter.update(v);
  clock.advance(300);
  assert.deepEqual(sent, [v]);
});

test('speakers from the server parse; malformed ones are dropped; bad_view is a known code', () => {
  assert.deepEqual(
    parseServerMessage(JSON.stringify({ type: 'speakers', active: A, recent: [A, B], extra: 1 })),
    { type: 'speakers', active: A, recent: [A, B] },
  );
  for (const bad of [
    { type: 'speakers', recent: [] },
    { type: 'speakers', active: 3, recent: [] },
    { type: 'speakers', active: A },
    { type: 'speakers', active: A, recent: [A, 7] },
  ]) {
    assert.equal(parseServerMessage(JSON.stringify(bad)), null, JSON.stringify(bad));
  }
  assert.ok(isKnownErrorCode('bad_view'));
});

test('the speaker view follows the server once it spoke, the local estimate before', () => {
  const speaker = new ActiveSpeaker();
  assert.deepEqual(speaker.choose(null), { active: null, recent: [], source: 'none' });
  assert.deepEqual(speaker.choose(B), { active: B, recent: [B], source: 'local' });
  speaker.fromServer({ active: A, recent: [A, B] });
  assert.deepEqual(speaker.choose(B), { active: A, recent: [A, B], source: 'server' });
  speaker.forget(B);
  assert.deepEqual(speaker.choose(B).recent, [A]);
});

test('the camera is published in three layers, lowest first', () => {
  assert.deepEqual(cameraEncodings().map((e) => [e.rid, e.scaleResolutionDownBy ?? 1]), [
    ['l', 4], ['m', 2], ['h', 1],
  ]);
});
