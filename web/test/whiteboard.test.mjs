// The whiteboard: parsing of the server's `board_*` messages (docs/protocol.md), the client's
// builders, and the pure model of js/whiteboard.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseServerMessage, boardAdd, boardUpdate, boardRemove, boardClear, isKnownErrorCode,
  BOARD_SIZE, BOARD_MAX_POINTS, BOARD_ID_PATTERN,
} from '../js/protocol.js';
import {
  Board, History, inverseOp, forwardOp, newObjectId, layerKey, toBoard, toView, hitTest, translate,
  thinPoints, gestureToShape, textShape, isVisible, clampWidth, bounds,
} from '../js/whiteboard.js';

const A = 'p0c1d2e3f40516273';
const B = 'p7f3a09c2d18e4b65';

test('the board examples of docs/protocol.md parse', () => {
  assert.deepEqual(
    parseServerMessage('{"type":"board_state","objects":[{"author":"p0c1d2e3f40516273","id":"k3","layer":{"on":"board"},"color":"#e1000f","width":6,"shape":{"kind":"rect","at":[10,10],"size":[200,100]}}]}'),
    { type: 'board_state', objects: [{ author: A, id: 'k3', layer: { on: 'board' }, color: '#e1000f', width: 6, shape: { kind: 'rect', at: [10, 10], size: [200, 100] } }] },
  );
  assert.deepEqual(
    parseServerMessage('{"type":"board_add","object":{"author":"p0c1d2e3f40516273","id":"k4","layer":{"on":"board"},"color":"#000091","width":4,"shape":{"kind":"path","points":[[0,0],[5,8],[9,20]]}}}'),
    { type: 'board_add', object: { author: A, id: 'k4', layer: { on: 'board' }, color: '#000091', width: 4, shape: { kind: 'path', points: [[0, 0], [5, 8], [9, 20]] } } },
  );
  assert.deepEqual(
    parseServerMessage('{"type":"board_update","object":{"author":"p7f3a09c2d18e4b65","id":"k4","layer":{"on":"screen","owner":"p0c1d2e3f40516273"},"color":"#000091","width":4,"shape":{"kind":"line","from":[10,0],"to":[15,8],"arrow":true}}}'),
    { type: 'board_update', object: { author: B, id: 'k4', layer: { on: 'screen', owner: A }, color: '#000091', width: 4, shape: { kind: 'line', from: [10, 0], to: [15, 8], arrow: true } } },
  );
  assert.deepEqual(parseServerMessage('{"type":"board_remove","id":"k4"}'), { type: 'board_remove', id: 'k4' });
  assert.deepEqual(parseServerMessage('{"type":"board_clear","layer":{"on":"board"}}'), { type: 'board_clear', layer: { on: 'board' } });
  assert.deepEqual(
    parseServerMessage('{"type":"board_clear","layer":{"on":"screen","owner":"p0c1d2e3f40516273"},"author":"p7f3a09c2d18e4b65"}'),
    { type: 'board_clear', layer: { on: 'screen', owner: A }, author: B },
  );
  // A line without `arrow` (the server's default), a text with a line feed.
  const text = parseServerMessage(JSON.stringify({ type: 'board_add', object: { author: A, id: 't', layer: { on: 'board' }, color: '#000000', width: 8, shape: { kind: 'text', at: [1, 2], text: 'Ordre\ndu jour' } } }));
  assert.equal(text?.type === 'board_add' && text.object.shape.kind === 'text' && text.object.shape.text, 'Ordre\ndu jour');
  const line = parseServerMessage(JSON.stringify({ type: 'board_add', object: { author: A, id: 'l', layer: { on: 'board' }, color: '#000000', width: 8, shape: { kind: 'line', from: [0, 0], to: [1, 1] } } }));
  assert.equal(line?.type === 'board_add' && line.object.shape.kind === 'line' && line.object.shape.arrow, false);
  assert.ok(isKnownErrorCode('bad_drawing') && isKnownErrorCode('board_full'));
});

test('malformed board messages are refused, whole', () => {
  const good = { author: A, id: 'k1', layer: { on: 'board' }, color: '#e1000f', width: 6, shape: { kind: 'rect', at: [10, 10], size: [200, 100] } };
  /** @param {Record<string, unknown>} patch */
  const add = (patch) => JSON.stringify({ type: 'board_add', object: { ...good, ...patch } });
  assert.ok(parseServerMessage(add({})));
  for (const text of [
    add({ author: 5 }),
    add({ id: '' }),
    add({ id: 'a b' }),
    add({ id: 'x'.repeat(33) }),
    add({ color: 'red' }),
    add({ color: '#12345' }),
    add({ width: 0 }),
    add({ width: 101 }),
    add({ width: 2.5 }),
    add({ layer: { on: 'wall' } }),
    add({ layer: { on: 'screen' } }),
    add({ shape: { kind: 'blob' } }),
    add({ shape: { kind: 'path', points: [] } }),
    add({ shape: { kind: 'path', points: [[1, 2, 3]] } }),
    add({ shape: { kind: 'path', points: [[-1, 0]] } }),
    add({ shape: { kind: 'path', points: [[BOARD_SIZE + 1, 0]] } }),
    add({ shape: { kind: 'path', points: Array.from({ length: BOARD_MAX_POINTS + 1 }, () => [1, 1]) } }),
    add({ shape: { kind: 'line', from: [0, 0], to: [1, 1], arrow: 'yes' } }),
    add({ shape: { kind: 'rect', at: [9000, 9000], size: [2000, 10] } }),
    add({ shape: { kind: 'text', at: [1, 1], text: '' } }),
    add({ shape: { kind: 'text', at: [1, 1], text: '\u001b[2J' } }),
    add({ shape: { kind: 'text', at: [1, 1], text: 'é'.repeat(501) } }),
    '{"type":"board_add"}',
    '{"type":"board_state","objects":{}}',
    `{"type":"board_state","objects":[${JSON.stringify(good)},{"id":"bad"}]}`,
    '{"type":"board_remove","id":3}',
    '{"type":"board_clear","layer":"board"}',
    '{"type":"board_clear","layer":{"on":"board"},"author":7}',
  ]) {
    assert.equal(parseServerMessage(text), null, text);
  }
  // 500 characters (not UTF-16 units) are fine.
  assert.ok(parseServerMessage(add({ shape: { kind: 'text', at: [1, 1], text: '😀'.repeat(500) } })));
});

test('client builders follow docs/protocol.md', () => {
  const object = { id: 'k3', layer: /** @type {const} */ ({ on: 'board' }), color: '#e1000f', width: 6, shape: /** @type {const} */ ({ kind: 'line', from: [0, 0], to: [500, 500], arrow: true }) };
  assert.equal(JSON.stringify(boardAdd(object)), '{"type":"board_add","object":{"id":"k3","layer":{"on":"board"},"color":"#e1000f","width":6,"shape":{"kind":"line","from":[0,0],"to":[500,500],"arrow":true}}}');
  assert.equal(boardUpdate(object).type, 'board_update');
  assert.deepEqual(boardRemove('k3'), { type: 'board_remove', id: 'k3' });
  assert.equal(JSON.stringify(boardClear({ on: 'screen', owner: A }, true)), '{"type":"board_clear","layer":{"on":"screen","owner":"p0c1d2e3f40516273"},"mine":true}');
  assert.deepEqual(boardClear({ on: 'board' }), { type: 'board_clear', layer: { on: 'board' }, mine: false });
});

test('ids are unique and follow the server rule', () => {
  const ids = new Set();
  for (let i = 0; i < 1000; i += 1) {
    const id = newObjectId();
    assert.match(id, BOARD_ID_PATTERN);
    ids.add(id);
  }
  assert.equal(ids.size, 1000);
  assert.notEqual(newObjectId(() => 0, 5), newObjectId(() => 0, 5), 'the counter separates equal times');
});

/** @param {string} id @param {string} author @param {import('../js/protocol.js').BoardLayer} [layer] */
function obj(id, author, layer = { on: 'board' }) {
  return { id, author, layer, color: '#000091', width: 4, shape: /** @type {import('../js/protocol.js').BoardShape} */ ({ kind: 'path', points: [[0, 0], [100, 100]] }) };
}

test('the board follows the server: state, add, update in place, remove, clear by layer and author', () => {
  const b = new Board();
  const screen = { on: /** @type {const} */ ('screen'), owner: A };
  assert.deepEqual([...b.apply({ type: 'board_state', objects: [obj('a', A), obj('s1', A, screen), obj('s2', B, screen)] })].sort(), ['board', `screen:${A}`]);
  assert.deepEqual(b.list().map((o) => o.id), ['a', 's1', 's2']);
  assert.deepEqual(b.list(screen).map((o) => o.id), ['s1', 's2']);
  b.apply({ type: 'board_add', object: obj('b', B) });
  const moved = { ...obj('a', B), shape: /** @type {const} */ ({ kind: 'path', points: [[5, 5]] }) };
  assert.deepEqual([...b.apply({ type: 'board_update', object: moved })], ['board']);
  assert.deepEqual(b.list().map((o) => o.id), ['a', 's1', 's2', 'b'], 'an update keeps its place');
  assert.equal(b.get('a')?.author, B);
  assert.equal(b.apply({ type: 'board_update', object: obj('zz', A) }).size, 0, 'unknown id: nothing');
  assert.equal(b.apply({ type: 'board_remove', id: 'zz' }).size, 0);
  b.apply({ type: 'board_clear', layer: screen, author: B });
  assert.deepEqual(b.list().map((o) => o.id), ['a', 's1', 'b']);
  b.apply({ type: 'board_clear', layer: screen });
  assert.deepEqual(b.list().map((o) => o.id), ['a', 'b']);
  b.apply({ type: 'board_remove', id: 'a' });
  b.apply({ type: 'board_clear', layer: { on: 'board' } });
  assert.equal(b.size, 0);
  // The model keeps copies: mutating what was applied changes nothing.
  const o = obj('c', A);
  b.apply({ type: 'board_add', object: o });
  /** @type {any} */ (o.shape).points.push([1, 1]);
  assert.equal(/** @type {any} */ (b.get('c')?.shape).points.length, 2);
  b.apply({ type: 'board_state', objects: [] });
  assert.equal(b.size, 0, 'a new state replaces everything');
  assert.equal(layerKey({ on: 'screen', owner: B }), `screen:${B}`);
});

test('undo and redo: the inverse of each action', () => {
  const drawn = obj('x', A);
  const movedTo = { ...drawn, shape: translate(drawn.shape, 10, 10) };
  assert.deepEqual(inverseOp({ kind: 'add', after: drawn }), { op: 'remove', id: 'x' });
  assert.deepEqual(forwardOp({ kind: 'add', after: drawn }), { op: 'add', object: drawn });
  assert.deepEqual(inverseOp({ kind: 'update', before: drawn, after: movedTo }), { op: 'update', object: drawn });
  assert.deepEqual(forwardOp({ kind: 'update', before: drawn, after: movedTo }), { op: 'update', object: movedTo });
  assert.deepEqual(inverseOp({ kind: 'remove', before: drawn }), { op: 'add', object: drawn });
  assert.deepEqual(forwardOp({ kind: 'remove', before: drawn }), { op: 'remove', id: 'x' });

  const h = new History(2);
  assert.equal(h.canUndo, false);
  h.record({ kind: 'add', after: obj('1', A) });
  h.record({ kind: 'add', after: obj('2', A) });
  h.record({ kind: 'add', after: obj('3', A) });
  assert.equal(h.undoStack.length, 2, 'bounded');
  const e = h.takeUndo();
  assert.equal(e?.kind === 'add' && e.after.id, '3');
  if (e) h.undone(e);
  assert.equal(h.canRedo, true);
  const r = h.takeRedo();
  if (r) h.redone(r);
  assert.equal(h.undoStack.length, 2);
  h.takeUndo();
  h.undone(/** @type {any} */ (e));
  h.record({ kind: 'add', after: obj('4', A) });
  assert.equal(h.canRedo, false, 'a new action forgets what could be redone');
});

test('views map the square onto pixels both ways', () => {
  const view = { width: 1600, height: 900 };
  assert.deepEqual(toBoard(800, 450, view), [5000, 5000]);
  assert.deepEqual(toBoard(-10, 2000, view), [0, BOARD_SIZE], 'clamped');
  assert.deepEqual(toView([5000, 10000], view), [800, 900]);
});

test('hit-testing finds the topmost object under the pointer', () => {
  const view = { width: 1000, height: 1000 };
  const path = { ...obj('p', A), shape: /** @type {const} */ ({ kind: 'path', points: [[1000, 1000], [3000, 1000]] }) };
  const rect = { ...obj('r', A), shape: /** @type {const} */ ({ kind: 'rect', at: [2000, 500], size: [2000, 2000] }) };
  const ellipse = { ...obj('e', A), shape: /** @type {const} */ ({ kind: 'ellipse', at: [6000, 6000], size: [2000, 1000] }) };
  const text = { ...obj('t', A), shape: /** @type {const} */ ({ kind: 'text', at: [1000, 9000], text: 'Bonjour' }) };
  const line = { ...obj('l', A), shape: /** @type {const} */ ({ kind: 'line', from: [0, 5000], to: [1000, 6000], arrow: true }) };
  const all = [path, rect, ellipse, text, line];
  assert.equal(hitTest(all, 150, 100, view)?.id, 'p', 'on the stroke, outside the rectangle');
  assert.equal(hitTest(all, 250, 100, view)?.id, 'r', 'the rectangle is drawn over the stroke');
  assert.equal(hitTest(all, 150, 130, view), null, 'beside the stroke');
  assert.equal(hitTest(all, 700, 650, view)?.id, 'e');
  assert.equal(hitTest(all, 610, 610, view), null, 'in the ellipse box, outside the ellipse');
  assert.equal(hitTest(all, 110, 895, view)?.id, 't');
  assert.equal(hitTest(all, 50, 550, view)?.id, 'l');
  assert.equal(hitTest([], 1, 1, view), null);
});

test('moving a shape translates every point and stops at the edge', () => {
  assert.deepEqual(translate({ kind: 'path', points: [[0, 0], [10, 20]] }, 5, 5), { kind: 'path', points: [[5, 5], [15, 25]] });
  assert.deepEqual(translate({ kind: 'line', from: [100, 100], to: [200, 200], arrow: true }, -500, 0),
    { kind: 'line', from: [0, 100], to: [100, 200], arrow: true }, 'stops at the left edge, shape kept');
  assert.deepEqual(translate({ kind: 'rect', at: [9000, 9000], size: [500, 500] }, 5000, 5000),
    { kind: 'rect', at: [9500, 9500], size: [500, 500] });
  assert.deepEqual(translate({ kind: 'text', at: [10, 10], text: 'x' }, 3, 4), { kind: 'text', at: [13, 14], text: 'x' });
  const moved = translate({ kind: 'ellipse', at: [1, 1], size: [5, 5] }, 2.4, 2.6);
  assert.deepEqual(moved, { kind: 'ellipse', at: [3, 4], size: [5, 5] }, 'integers');
  assert.deepEqual(bounds(moved), { minX: 3, minY: 4, maxX: 8, maxY: 9 });
});

test('free-hand strokes are thinned to the server limit', () => {
  /** @type {[number, number][]} */
  const dense = Array.from({ length: 20_000 }, (_, i) => [Math.round(5000 + 4000 * Math.cos(i / 500)), Math.round(5000 + 4000 * Math.sin(i / 700))]);
  const thin = thinPoints(dense);
  assert.ok(thin.length <= BOARD_MAX_POINTS && thin.length > 10, `${thin.length} points`);
  assert.deepEqual(thin[0], dense[0]);
  assert.deepEqual(thin[thin.length - 1], dense[dense.length - 1]);
  // Nearby points are dropped; a straight line collapses once simplified.
  assert.deepEqual(thinPoints([[0, 0], [1, 1], [2, 2], [100, 100]]), [[0, 0], [100, 100]]);
  assert.deepEqual(thinPoints([[7, 7]]), [[7, 7]]);
  assert.deepEqual(thinPoints([]), []);
  /** @type {[number, number][]} */
  const line = Array.from({ length: 5000 }, (_, i) => [i * 2, i * 2]);
  assert.ok(thinPoints(line, 1, 100).length <= 100);
});

test('gestures become shapes within the canvas', () => {
  const pts = /** @type {[number, number][]} */ ([[100, 200], [150, 260], [400, 500]]);
  assert.deepEqual(gestureToShape('line', pts), { kind: 'line', from: [100, 200], to: [400, 500], arrow: false });
  assert.deepEqual(gestureToShape('arrow', pts), { kind: 'line', from: [100, 200], to: [400, 500], arrow: true });
  assert.deepEqual(gestureToShape('rect', [[400, 500], [100, 200]]), { kind: 'rect', at: [100, 200], size: [300, 300] }, 'any drag direction');
  assert.deepEqual(gestureToShape('ellipse', [[0, 0], [20_000, 50]]), { kind: 'ellipse', at: [0, 0], size: [BOARD_SIZE, 50] });
  assert.deepEqual(gestureToShape('pen', pts), { kind: 'path', points: pts });
  assert.equal(gestureToShape('pen', []), null);
  assert.equal(isVisible(/** @type {any} */ (gestureToShape('rect', [[5, 5], [5, 5]]))), false, 'a tap draws no rectangle');
  assert.equal(isVisible(/** @type {any} */ (gestureToShape('line', [[5, 5], [6, 5]]))), true);
  assert.deepEqual(textShape([10, 10], '  Bonjour\t! \r\n'), { kind: 'text', at: [10, 10], text: '  Bonjour ! ' .trimEnd() });
  assert.equal(textShape([10, 10], '   '), null);
  assert.equal(/** @type {any} */ (textShape([1, 1], 'x'.repeat(600)))?.text.length, 500);
  assert.equal(/** @type {any} */ (textShape([1, 1], 'a\u0007b'))?.text, 'ab');
  assert.equal(clampWidth(0), 1);
  assert.equal(clampWidth(250), 100);
});
