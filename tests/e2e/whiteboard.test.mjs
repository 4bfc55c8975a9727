// The whiteboard and the annotations over a shared screen, through the real binary and headless
// Chromium, asserted from what the OTHER participants observe (their `window.webconf.board` and
// the pixels of their canvases):
//   (a) A draws a stroke with real mouse events, B sees it live (hooks and canvas); B draws a
//       rectangle, A sees it;
//   (b) a late joiner C receives the whole board;
//   then A's undo erases A's stroke for everyone;
//   (c) A shares a screen, B annotates over it, A sees the annotation (layer owner A); B clears
//       its marks, gone for both;
//   (d) a raw participant's out-of-bounds and oversized drawings get `bad_drawing` and change
//       nobody's board;
//   (e) a guest cannot clear the board (`forbidden`) and is not shown `#board-clear`;
// and, in a second test, an undo pressed before the server's relay of one's last drawing came
// back takes back that drawing (once it comes), not the one before.
//
// One server listens dual-stack; its only agent zone is 127.0.0.0/8: pages at 127.0.0.1 are
// moderators, pages at [::1] guests (as in controls.test.mjs).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  connectSignaling,
  Diagnostics,
  joinRoom,
  launchChromium,
  randomRoom,
  safeJson,
  startServer,
  stepper,
  waitFor,
} from './harness.mjs';

const AGENT = '127.0.0.1';
const GUEST = '[::1]';

const diagnostics = new Diagnostics();
let server;
let browser;

before(async () => {
  server = await startServer({
    listen: '[::]:0',
    mediaAddresses: ['127.0.0.1', '::1'],
    extraToml: ['[[access.zones]]', 'name = "internal"', 'ranges = ["127.0.0.0/8"]', 'agents = true', ''].join('\n'),
  });
  diagnostics.addServer(server);
  browser = await launchChromium('chromium-whiteboard');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// ---------------------------------------------------------------------------------------------
// Helpers

/** The page's `window.webconf.board` (a copy). */
function board(page) {
  return page.evaluate(() => JSON.parse(JSON.stringify(/** @type {any} */ (window).webconf.board)));
}

/** Waits until `fn(board)` holds on the page; returns the board. */
function waitBoard(member, fn, what, timeoutMs = 8000) {
  let last;
  return waitFor(async () => {
    last = await board(member.page);
    return fn(last) ? last : null;
  }, timeoutMs, { message: () => `${member.label}: ${what} (board: ${safeJson(last)})` });
}

/**
 * Counts "ink" pixels of a canvas in a region given as fractions of its size: pixels that are
 * not white (`mode` "white": the whiteboard's background) or not transparent ("clear": an
 * annotation layer).
 */
function ink(page, selector, [fx0, fy0, fx1, fy1], mode = 'white') {
  return page.evaluate((sel, box, m) => {
    const c = document.querySelector(sel);
    if (!(c instanceof HTMLCanvasElement) || !c.width || !c.height) return -1;
    const ctx = c.getContext('2d');
    if (!ctx) return -1;
    const x0 = Math.floor(box[0] * c.width);
    const y0 = Math.floor(box[1] * c.height);
    const w = Math.max(1, Math.floor((box[2] - box[0]) * c.width));
    const h = Math.max(1, Math.floor((box[3] - box[1]) * c.height));
    const d = ctx.getImageData(x0, y0, w, h).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (m === 'white' ? d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200 : d[i + 3] > 0) n += 1;
    }
    return n;
  }, selector, [fx0, fy0, fx1, fy1], mode);
}

/** Drags the mouse over an element from one point to another (fractions of its box). */
async function drag(page, selector, [fx0, fy0], [fx1, fy1], steps = 20) {
  const handle = await page.waitForSelector(selector, { visible: true, timeout: 5000 });
  const box = await handle.boundingBox();
  assert.ok(box && box.width > 50 && box.height > 50, `${selector} is too small to draw on: ${safeJson(box)}`);
  await page.mouse.move(box.x + fx0 * box.width, box.y + fy0 * box.height);
  await page.mouse.down();
  // A curve, not a straight line: a free-hand stroke.
  for (let i = 1; i <= steps; i += 1) {
    const k = i / steps;
    const x = fx0 + (fx1 - fx0) * k;
    const y = fy0 + (fy1 - fy0) * k + Math.sin(k * Math.PI) * 0.03;
    await page.mouse.move(box.x + x * box.width, box.y + y * box.height);
  }
  await page.mouse.up();
}

async function openBoard(member) {
  await member.page.click('#toggle-whiteboard');
  await member.page.waitForSelector('#whiteboard-canvas', { visible: true, timeout: 5000 });
  assert.equal(await member.page.$eval('#toggle-whiteboard', (b) => b.getAttribute('aria-pressed')), 'true');
  // The canvas has its size once laid out.
  await waitFor(() => member.page.$eval('#whiteboard-canvas', (c) => c.width > 100 && c.height > 50), 5000,
    { message: `${member.label}: the whiteboard canvas to be laid out` });
}

function isShown(page, selector) {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    return !!el && !el.closest('[hidden]') && el.getClientRects().length > 0;
  }, selector);
}

const STROKE_AREA = [0.15, 0.22, 0.55, 0.58];
const RECT_AREA = [0.58, 0.58, 0.82, 0.82];

// ---------------------------------------------------------------------------------------------

test('whiteboard and screen annotations between Chromium pages', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('board');
  let a;
  let b;
  let c;
  let raw;

  await step('A (moderator) and B (guest) join and open the whiteboard, with its warning', async () => {
    a = await joinRoom(browser, server, room, 'Alice', { label: 'A', diagnostics, host: AGENT });
    b = await joinRoom(browser, server, room, 'Bob', { label: 'B', diagnostics, host: GUEST });
    assert.equal(await a.page.evaluate(() => /** @type {any} */ (window).webconf.role), 'moderator');
    assert.equal(await b.page.evaluate(() => /** @type {any} */ (window).webconf.role), 'guest');
    await openBoard(a);
    await openBoard(b);
    for (const m of [a, b]) {
      assert.ok(await isShown(m.page, '#board-warning'), `${m.label}: #board-warning shown`);
      assert.match(await m.page.$eval('#board-warning', (e) => e.textContent ?? ''), /confidential/i);
      assert.equal(await ink(m.page, '#whiteboard-canvas', [0, 0, 1, 1]), 0, `${m.label}: the board starts blank`);
      assert.deepEqual(await board(m.page), []);
    }
  });

  await step('(a) A draws a stroke with the mouse: B sees it in its hooks and on its canvas', async () => {
    assert.equal(await a.page.$eval('#board-tool-pen', (e) => e.getAttribute('aria-pressed')), 'true', 'the pen is the default tool');
    await drag(a.page, '#whiteboard-canvas', [0.2, 0.3], [0.5, 0.5]);
    const seen = await waitBoard(b, (x) => x.length === 1, 'A\'s stroke');
    const [stroke] = seen;
    assert.equal(stroke.author, a.id);
    assert.deepEqual(stroke.layer, { on: 'board' });
    assert.equal(stroke.shape.kind, 'path');
    assert.ok(stroke.shape.points.length >= 2, safeJson(stroke));
    // In the board's units: from about (2000, 3000) to about (5000, 5000).
    const [x0, y0] = stroke.shape.points[0];
    assert.ok(Math.abs(x0 - 2000) < 300 && Math.abs(y0 - 3000) < 300, `first point ${x0},${y0}`);
    await waitFor(async () => (await ink(b.page, '#whiteboard-canvas', STROKE_AREA)) > 20, 5000,
      { message: 'B: the stroke drawn on its canvas' });
    assert.equal(await ink(b.page, '#whiteboard-canvas', RECT_AREA), 0, 'B: nothing elsewhere');
    // A's hook follows the server's relay, which may reach A a moment after B.
    await waitBoard(a, (x) => safeJson(x) === safeJson(seen), 'the same board as B');
  });

  await step('(a) B draws a rectangle: A sees it', async () => {
    await b.page.click('#board-tool-rect');
    assert.equal(await b.page.$eval('#board-tool-rect', (e) => e.getAttribute('aria-pressed')), 'true');
    assert.equal(await b.page.$eval('#board-tool-pen', (e) => e.getAttribute('aria-pressed')), 'false');
    await drag(b.page, '#whiteboard-canvas', [0.6, 0.6], [0.8, 0.8], 5);
    const seen = await waitBoard(a, (x) => x.length === 2, 'B\'s rectangle');
    const rect = seen[1];
    assert.equal(rect.author, b.id);
    assert.equal(rect.shape.kind, 'rect');
    assert.ok(Math.abs(rect.shape.at[0] - 6000) < 200 && Math.abs(rect.shape.size[0] - 2000) < 200, safeJson(rect));
    await waitFor(async () => (await ink(a.page, '#whiteboard-canvas', RECT_AREA)) > 20, 5000,
      { message: 'A: the rectangle drawn on its canvas' });
  });

  await step('(b) a late joiner C receives the whole board', async () => {
    c = await joinRoom(browser, server, room, 'Carol', { label: 'C', diagnostics, host: AGENT });
    const expected = await board(a.page);
    await waitBoard(c, (x) => safeJson(x) === safeJson(expected), 'the board of A (stroke and rectangle)');
    await openBoard(c);
    await waitFor(async () => (await ink(c.page, '#whiteboard-canvas', STROKE_AREA)) > 20
      && (await ink(c.page, '#whiteboard-canvas', RECT_AREA)) > 20, 5000, { message: 'C: both objects on its canvas' });
  });

  await step('(a) A\'s undo erases A\'s stroke for everyone; B\'s rectangle stays', async () => {
    await waitFor(() => a.page.$eval('#board-undo', (e) => !(/** @type {HTMLButtonElement} */ (e).disabled)), 3000,
      { message: 'A: #board-undo enabled' });
    await a.page.click('#board-undo');
    for (const m of [a, b, c]) {
      await waitBoard(m, (x) => x.length === 1 && x[0].author === b.id && x[0].shape.kind === 'rect', 'only B\'s rectangle');
    }
    await waitFor(async () => (await ink(b.page, '#whiteboard-canvas', STROKE_AREA)) === 0, 5000,
      { message: 'B: the stroke gone from its canvas' });
    assert.ok((await ink(b.page, '#whiteboard-canvas', RECT_AREA)) > 20, 'B: the rectangle still drawn');
    // Redo is offered to A and draws the stroke again… then undone again for a clean board.
    await a.page.click('#board-redo');
    await waitBoard(b, (x) => x.length === 2 && x.some((o) => o.author === a.id), 'A\'s stroke back (redo)');
    // A's history takes an action back only once A got the server's relay of it.
    await waitBoard(a, (x) => x.length === 2, 'A\'s stroke back (redo), at A');
    await a.page.click('#board-undo');
    await waitBoard(b, (x) => x.length === 1, 'A\'s stroke undone again');
  });

  await step('select and move, eraser, text, and their undo, seen by B', async () => {
    const [rect] = await waitBoard(a, (x) => x.length === 1, 'only B\'s rectangle, at A');
    await a.page.click('#board-tool-select');
    // Grab the rectangle's edge and drag it up and left by a tenth of the canvas.
    await drag(a.page, '#whiteboard-canvas', [0.6, 0.7], [0.5, 0.6], 5);
    const moved = await waitBoard(b, (x) => x.length === 1 && x[0].author === a.id, 'the rectangle moved by A');
    assert.equal(moved[0].id, rect.id);
    assert.ok(moved[0].shape.at[0] < rect.shape.at[0] - 500 && moved[0].shape.at[1] < rect.shape.at[1] - 500, safeJson(moved));
    assert.deepEqual(moved[0].shape.size, rect.shape.size, 'a move keeps the size');
    await waitBoard(a, (x) => x.length === 1 && safeJson(x[0].shape) === safeJson(moved[0].shape), 'the move confirmed at A');
    await a.page.click('#board-undo');
    await waitBoard(b, (x) => x.length === 1 && safeJson(x[0].shape) === safeJson(rect.shape), 'the move undone');
    await a.page.click('#board-tool-eraser');
    await drag(a.page, '#whiteboard-canvas', [0.55, 0.7], [0.65, 0.7], 5);
    await waitBoard(b, (x) => x.length === 0, 'the rectangle erased');
    await waitBoard(a, (x) => x.length === 0, 'the erasure confirmed at A');
    await a.page.click('#board-undo');
    await waitBoard(b, (x) => x.length === 1 && x[0].id === rect.id, 'the erasure undone (same id)');
    await a.page.click('#board-tool-text');
    const box = await (await a.page.$('#whiteboard-canvas')).boundingBox();
    await a.page.mouse.click(box.x + 0.1 * box.width, box.y + 0.9 * box.height);
    await a.page.waitForSelector('#board-text-input', { visible: true, timeout: 3000 });
    await waitFor(() => a.page.evaluate(() => document.activeElement?.id === 'board-text-input'), 3000,
      { message: 'A: the text field focused' });
    await a.page.keyboard.type('Ordre du jour');
    await a.page.keyboard.press('Enter');
    const withText = await waitBoard(b, (x) => x.length === 2 && x[1].shape.kind === 'text', 'A\'s text');
    assert.equal(withText[1].shape.text, 'Ordre du jour');
    await waitBoard(a, (x) => x.length === 2, 'A\'s text confirmed at A');
    await a.page.click('#board-undo');
    await waitBoard(b, (x) => x.length === 1, 'the text undone');
  });

  await step('export: #board-export downloads a PNG of the board', async () => {
    // Catch the blob the page makes a URL of and the download link it clicks (the CSP's
    // connect-src keeps blob: URLs from being fetched, so read the Blob itself).
    await b.page.evaluate(() => {
      const w = /** @type {any} */ (window);
      w.__exported = null;
      /** @type {Map<string, Blob>} */
      const blobs = new Map();
      const createObjectURL = URL.createObjectURL;
      URL.createObjectURL = (blob) => {
        const url = createObjectURL.call(URL, blob);
        blobs.set(url, /** @type {Blob} */ (blob));
        return url;
      };
      const click = HTMLAnchorElement.prototype.click;
      HTMLAnchorElement.prototype.click = function () {
        const blob = blobs.get(this.href);
        if (this.download && blob) {
          w.__exported = blob
            .arrayBuffer()
            .then((buf) => ({ name: this.download, bytes: Array.from(new Uint8Array(buf).slice(0, 8)), size: buf.byteLength }));
          return;
        }
        return click.call(this);
      };
    });
    await b.page.click('#board-export');
    await waitFor(() => b.page.evaluate(() => /** @type {any} */ (window).__exported !== null), 5000, { message: 'the export link' });
    const file = await b.page.evaluate(() => /** @type {any} */ (window).__exported);
    assert.match(file.name, /\.png$/, `download name ${file.name}`);
    assert.deepEqual(file.bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
    assert.ok(file.size > 1000, `a PNG of the drawn board, not an empty one (${file.size} bytes)`);
  });

  await step('(e) a guest is not shown #board-clear; a moderator is', async () => {
    assert.equal(await isShown(b.page, '#board-clear'), false, 'B (guest) sees no #board-clear');
    assert.equal(await isShown(a.page, '#board-clear'), true, 'A (moderator) sees #board-clear');
  });

  await step('(d)(e) a raw guest: out-of-bounds and oversized drawings get bad_drawing, clearing gets forbidden; boards unchanged', async () => {
    raw = await connectSignaling(server.wsUrlFor(GUEST), { origin: server.urlFor(GUEST), label: 'raw guest' });
    raw.sendJson({ type: 'join', version: 1, room, name: 'Raw' });
    const welcome = await raw.nextOfType('welcome', 5000);
    assert.equal(welcome.role, 'guest');
    const state = await raw.nextOfType('board_state', 5000);
    assert.equal(state.objects.length, 1, `the newcomer's board_state: ${safeJson(state)}`);
    const before = await board(a.page);
    const base = { layer: { on: 'board' }, color: '#e1000f', width: 6 };
    raw.sendJson({ type: 'board_add', object: { ...base, id: 'out1', shape: { kind: 'line', from: [0, 0], to: [20000, 5] } } });
    const e1 = await raw.nextOfType('error', 5000);
    assert.equal(e1.code, 'bad_drawing', safeJson(e1));
    const points = Array.from({ length: 2001 }, (_, i) => [i % 10000, 5]);
    raw.sendJson({ type: 'board_add', object: { ...base, id: 'big1', shape: { kind: 'path', points } } });
    const e2 = await raw.nextOfType('error', 5000);
    assert.equal(e2.code, 'bad_drawing', safeJson(e2));
    raw.sendJson({ type: 'board_clear', layer: { on: 'board' }, mine: false });
    const e3 = await raw.nextOfType('error', 5000);
    assert.equal(e3.code, 'forbidden', safeJson(e3));
    // A message after them is relayed: the refused ones were all answered, nothing was added.
    raw.sendJson({ type: 'board_add', object: { ...base, id: 'ok1', shape: { kind: 'rect', at: [100, 100], size: [50, 50] } } });
    const added = await raw.nextOfType('board_add', 5000);
    assert.equal(added.object.id, 'ok1');
    await waitBoard(a, (x) => x.length === 2, 'the raw guest\'s valid rectangle');
    for (const m of [a, b]) {
      const now = await board(m.page);
      assert.deepEqual(now.slice(0, 1), before, `${m.label}: the refused drawings changed nothing`);
      assert.deepEqual(now.map((o) => o.id).filter((id) => id === 'out1' || id === 'big1'), []);
    }
    raw.sendJson({ type: 'board_remove', id: 'ok1' });
    await waitBoard(b, (x) => x.length === 1, 'the raw guest\'s rectangle erased');
  });

  await step('(c) A shares a screen, B annotates over it: A sees the annotation; B clears its marks', async () => {
    // B closes the whiteboard: the shared screen takes the stage.
    await b.page.click('#toggle-whiteboard');
    await a.page.click('#share-screen');
    const tile = `#screens .tile[data-screen="${a.id}"]`;
    await waitFor(() => b.page.evaluate((sel) => {
      const v = document.querySelector(`${sel} video`);
      return v instanceof HTMLVideoElement && v.videoWidth > 0;
    }, tile), 15000, { message: 'B: A\'s screen tile playing' });
    const toggle = `#annotate-${a.id}`;
    await b.page.waitForSelector(toggle, { visible: true, timeout: 5000 });
    await b.page.click(toggle);
    assert.equal(await b.page.$eval(toggle, (e) => e.getAttribute('aria-pressed')), 'true');
    await drag(b.page, `${tile} .annotation-canvas`, [0.3, 0.3], [0.6, 0.5]);
    const seen = await waitBoard(a, (x) => x.some((o) => o.layer.on === 'screen'), 'B\'s annotation');
    const mark = seen.find((o) => o.layer.on === 'screen');
    assert.deepEqual(mark.layer, { on: 'screen', owner: a.id });
    assert.equal(mark.author, b.id);
    assert.equal(mark.shape.kind, 'path');
    await waitFor(async () => (await ink(b.page, `${tile} .annotation-canvas`, [0, 0, 1, 1], 'clear')) > 20, 5000,
      { message: 'B: the annotation drawn over the screen' });
    // C sees it too, live.
    await waitBoard(c, (x) => x.some((o) => o.layer.on === 'screen'), 'B\'s annotation');
    // B is a guest: only its own marks can be cleared.
    assert.equal(await isShown(b.page, `#annotate-clear-all-${a.id}`), false, 'no "clear all" for a guest');
    await b.page.click(`#annotate-clear-mine-${a.id}`);
    for (const m of [a, b]) {
      await waitBoard(m, (x) => !x.some((o) => o.layer.on === 'screen') && x.length === 1, 'the annotations gone, the board kept');
    }
    await waitFor(async () => (await ink(b.page, `${tile} .annotation-canvas`, [0, 0, 1, 1], 'clear')) === 0, 5000,
      { message: 'B: the annotation erased from the screen' });
  });

  await step('the hooks are reset when the meeting ends', async () => {
    await b.page.click('#hangup');
    await waitFor(() => b.page.evaluate(() => document.body.dataset.state === 'left'), 5000, { message: 'B: left' });
    assert.deepEqual(await board(b.page), []);
  });

  raw?.ws.close();
});

/**
 * Test instrumentation, run in the page before its scripts: while `window.__holdWs` is true,
 * the page's WebSockets deliver nothing; `window.__releaseWs()` delivers what was held, in
 * order. Models a slow link back from the server, on loopback.
 */
function holdIncomingWebSocketMessages() {
  const w = /** @type {any} */ (window);
  /** @type {Array<() => void>} */
  const held = [];
  const add = WebSocket.prototype.addEventListener;
  /** @this {WebSocket} */
  WebSocket.prototype.addEventListener = function (type, listener, options) {
    if (type !== 'message' || typeof listener !== 'function') return add.call(this, type, listener, options);
    return add.call(this, type, (/** @type {Event} */ ev) => {
      if (w.__holdWs) held.push(() => listener.call(this, ev));
      else listener.call(this, ev);
    }, options);
  };
  w.__holdWs = false;
  w.__releaseWs = () => {
    w.__holdWs = false;
    for (const deliver of held.splice(0)) deliver();
  };
}

test('an undo pressed before the relay of one\'s last drawing takes back that drawing', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('boardundo');
  let a;
  let b;
  await step('A (with a held link back from the server) and B join and open the whiteboard', async () => {
    a = await joinRoom(browser, server, room, 'Alice', { label: 'A', diagnostics, host: AGENT, beforeLoad: holdIncomingWebSocketMessages });
    b = await joinRoom(browser, server, room, 'Bob', { label: 'B', diagnostics, host: GUEST });
    await openBoard(a);
    await openBoard(b);
  });
  let first;
  await step('A draws a first stroke, confirmed', async () => {
    await drag(a.page, '#whiteboard-canvas', [0.2, 0.3], [0.5, 0.5]);
    [first] = await waitBoard(a, (x) => x.length === 1, 'A\'s first stroke, at A');
    await waitBoard(b, (x) => x.length === 1, 'A\'s first stroke, at B');
  });
  await step('A draws a second stroke and presses Ctrl+Z before its relay comes back: nothing is undone yet', async () => {
    await a.page.evaluate(() => { /** @type {any} */ (window).__holdWs = true; });
    await drag(a.page, '#whiteboard-canvas', [0.6, 0.6], [0.8, 0.8]);
    await waitBoard(b, (x) => x.length === 2, 'A\'s second stroke, at B');
    assert.equal((await board(a.page)).length, 1, 'A has not received its own relay (held)');
    assert.equal(await a.page.$eval('#board-undo', (e) => /** @type {HTMLButtonElement} */ (e).disabled), false,
      'A: undo is offered for a drawing on its way');
    await a.page.keyboard.down('Control');
    await a.page.keyboard.press('z');
    await a.page.keyboard.up('Control');
    // Without the wait, the undo took back the first (confirmed) stroke at once.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const atB = await board(b.page);
    assert.equal(atB.length, 2, `nothing undone while A waits for its relay: ${safeJson(atB.map((o) => o.id))}`);
  });
  await step('the relay comes back: the undo takes back the second stroke, the first stays', async () => {
    await a.page.evaluate(() => /** @type {any} */ (window).__releaseWs());
    for (const m of [a, b]) {
      await waitBoard(m, (x) => x.length === 1 && x[0].id === first.id, 'only the first stroke');
    }
  });
});
