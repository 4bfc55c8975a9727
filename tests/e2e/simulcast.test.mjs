// Simulcast, per-subscriber layers and the server's active speaker, through the real binary and
// headless Chromium (docs/architecture.md, "Media policy"; docs/protocol.md, `view` and
// `speakers`):
//   - Alice publishes her camera in three layers (outbound-rtp rids l, m, h with different
//     frame widths; the fake camera is captured at 1280×720);
//   - Bob shows Alice in a small tile: he decodes the small layer (≤ 320 wide); he pins her:
//     the large one (≥ 640) within seconds; unpinned: small again;
//   - Carol, who shows Alice large, gets the large layer while Bob gets the small one;
//   - a `view` out of bounds is refused with `bad_view`;
//   - the speaker view follows the server's `speakers` (only Alice's microphone on, then only
//     Carol's), and a newcomer gets `speakers` right after `welcome`.
//
// Bob's window is small (640×480) so that his grid tiles are thumbnails; Carol's is the
// default 800×600. Chromium's default fake microphone beeps briefly once in a while: too short
// for the server's detector, which wants someone speaking (> -50 dBov) for 800 ms. The
// microphones here play a steady tone instead (`--use-file-for-fake-audio-capture`, a WAV
// written by the test), and a microphone turned off sends silence.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  Diagnostics,
  connectSignaling,
  joinRoom,
  launchChromium,
  randomRoom,
  safeJson,
  startServer,
  stepper,
  waitFor,
} from './harness.mjs';

const diagnostics = new Diagnostics();
let server;
let browser;

let toneDir;

/** A WAV file of a steady 440 Hz tone at half scale (about -9 dBov): 2 s, looped by Chromium. */
function writeTone(file) {
  const rate = 48000;
  const samples = rate * 2;
  const buf = Buffer.alloc(44 + samples * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + samples * 2, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) {
    buf.writeInt16LE(Math.round(16000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  }
  fs.writeFileSync(file, buf);
}

before(async () => {
  server = await startServer();
  diagnostics.addServer(server);
  toneDir = fs.mkdtempSync(path.join(os.tmpdir(), 'webconf-tone-'));
  const tone = path.join(toneDir, 'tone.wav');
  writeTone(tone);
  browser = await launchChromium('chromium-simulcast', { extraArgs: [`--use-file-for-fake-audio-capture=${tone}`] });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (toneDir) fs.rmSync(toneDir, { recursive: true, force: true });
});

/** Page side: the camera's outbound-rtp entries, by rid. */
function outboundLayers() {
  const pc = /** @type {any} */ (window).webconf.pc;
  if (!pc) return Promise.resolve([]);
  return pc.getStats().then((report) => {
    const out = [];
    report.forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        out.push({ rid: s.rid ?? null, frameWidth: s.frameWidth ?? 0, framesEncoded: s.framesEncoded ?? 0 });
      }
    });
    return out.sort((a, b) => String(a.rid).localeCompare(String(b.rid)));
  });
}

/**
 * Page side: the frame width and decoded frames of participant `id`'s camera, from the
 * receiver whose `a=msid` track id is `<id>-video`, or the camera slot (`a=msid:slots
 * slot-video-<n>`) that carries it now by `window.webconf.slots`.
 * @param {string} id
 */
async function inboundCamera(id) {
  const pc = /** @type {any} */ (window).webconf.pc;
  if (!pc) return null;
  const sdp = pc.currentRemoteDescription?.sdp ?? '';
  for (const tr of pc.getTransceivers()) {
    if (!tr.mid) continue;
    const section = sdp.split(/\r?\nm=/).find((s) => s.includes(`\na=mid:${tr.mid}\r`) || s.includes(`\na=mid:${tr.mid}\n`));
    const slot = /\na=msid:slots slot-video-\d+/.test(section ?? '') && /** @type {any} */ (window).webconf.slots?.[tr.mid] === id;
    if (!section || !(slot || section.includes(`a=msid:${id} ${id}-video`))) continue;
    const report = await tr.receiver.getStats();
    let found = null;
    report.forEach((s) => {
      if (s.type === 'inbound-rtp') found = { frameWidth: s.frameWidth ?? 0, framesDecoded: s.framesDecoded ?? 0 };
    });
    return found;
  }
  return null;
}

/** Waits until `page` decodes `id`'s camera at a width for which `ok(width)` holds. */
async function expectWidth(page, id, ok, what, timeoutMs = 15000) {
  let last = null;
  const widths = [];
  await waitFor(async () => {
    last = await page.evaluate(inboundCamera, id);
    if (last) widths.push(last.frameWidth);
    if (widths.length > 20) widths.shift();
    return last !== null && last.framesDecoded > 0 && ok(last.frameWidth);
  }, timeoutMs, {
    interval: 250,
    message: () => `${page.label} to decode ${what} (last ${safeJson(last)}, widths seen ${widths.join(',')}, view ${safeJson(lastView)})`,
  });
  // It stays there (not a passing frame of a switch).
  const again = await page.evaluate(inboundCamera, id);
  assert.ok(again && ok(again.frameWidth), `${page.label}: ${what} did not last: ${safeJson(again)}`);
  return again.frameWidth;
}

let lastView = null;

/** The height `page` last reported for `id`'s camera in its `view`. */
async function reportedHeight(page, id) {
  lastView = await page.evaluate(() => /** @type {any} */ (window).webconf.view);
  return lastView?.tiles.find((x) => x.participant === id && !x.screen)?.height ?? null;
}

/** The participant ids on `page`'s stage. */
function staged(page) {
  return page.evaluate(() => [...document.querySelectorAll('#tiles .tile[data-stage="true"]')]
    .map((x) => x.getAttribute('data-participant-id')));
}

test('simulcast layers per subscriber, pinning, and the server\'s active speaker', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('simulcast');
  let alice;
  let bob;
  let carol;

  await step('three participants join; Alice publishes three layers', async () => {
    alice = await joinRoom(browser, server, room, 'Alice', { diagnostics });
    bob = await joinRoom(browser, server, room, 'Bob', { diagnostics });
    await bob.page.setViewport({ width: 640, height: 480 });
    carol = await joinRoom(browser, server, room, 'Carol', { diagnostics });
    let layers = [];
    await waitFor(async () => {
      layers = await alice.page.evaluate(outboundLayers);
      return layers.length === 3 && new Set(layers.map((l) => l.frameWidth)).size === 3
        && layers.every((l) => l.framesEncoded > 0);
    }, 20000, { interval: 250, message: () => `Alice to encode 3 layers of different sizes: ${safeJson(layers)}` });
    assert.deepEqual(layers.map((l) => l.rid), ['h', 'l', 'm']);
    const width = Object.fromEntries(layers.map((l) => [l.rid, l.frameWidth]));
    assert.ok(width.l < width.m && width.m < width.h, `layer widths: ${safeJson(width)}`);
    assert.equal(width.h, 1280, `the camera is captured at 1280×720: ${safeJson(width)}`);
  });

  await step('Bob shows Alice in a thumbnail and gets the small layer', async () => {
    await waitFor(async () => {
      const h = await reportedHeight(bob.page, alice.id);
      return h !== null && h > 0 && h <= 200;
    }, 8000, { message: () => `Bob to report a small tile for Alice: ${safeJson(lastView)}` });
    await expectWidth(bob.page, alice.id, (w) => w > 0 && w <= 320, 'the small layer (<= 320 wide)');
  });

  await step('Bob pins Alice: the large layer; unpinned: small again', async () => {
    await bob.page.click(`.tile[data-participant-id="${alice.id}"] [data-action="pin"]`);
    assert.deepEqual(await staged(bob.page), [alice.id]);
    // Above 180 / 0.85 = 212 device pixels the 180-line layer is too small: the next one comes.
    await waitFor(async () => (await reportedHeight(bob.page, alice.id)) > 212, 5000,
      { message: () => `Bob to report Alice's staged tile large and pinned: ${safeJson(lastView)}` });
    assert.equal(lastView.tiles.find((x) => x.participant === alice.id).pinned, true);
    await expectWidth(bob.page, alice.id, (w) => w >= 640, 'the large layer (>= 640 wide) once pinned');
    await bob.page.click(`.tile[data-participant-id="${alice.id}"] [data-action="pin"]`);
    assert.deepEqual(await staged(bob.page), []);
    await expectWidth(bob.page, alice.id, (w) => w > 0 && w <= 320, 'the small layer again once unpinned');
  });

  await step('Carol shows Alice large: she gets the large layer while Bob keeps the small one', async () => {
    await carol.page.click(`.tile[data-participant-id="${alice.id}"] [data-action="pin"]`);
    await expectWidth(carol.page, alice.id, (w) => w >= 640, 'the large layer for Carol');
    const forBob = await bob.page.evaluate(inboundCamera, alice.id);
    assert.ok(forBob && forBob.frameWidth > 0 && forBob.frameWidth <= 320,
      `Bob should still get the small layer: ${safeJson(forBob)}`);
    await carol.page.click(`.tile[data-participant-id="${alice.id}"] [data-action="pin"]`);
  });

  await step('a view out of bounds is refused with bad_view', async () => {
    const raw = await connectSignaling(server.wsUrl, { origin: server.url, label: 'raw' });
    try {
      raw.sendJson({ type: 'join', version: 1, room: randomRoom('view'), name: 'Raw' });
      await raw.nextOfType('welcome', 5000);
      raw.sendJson({ type: 'view', tiles: [{ participant: alice.id, height: 5000 }] });
      const err = await raw.nextOfType('error', 3000);
      assert.equal(err.code, 'bad_view', safeJson(err));
      assert.equal(err.fatal, false);
      const many = Array.from({ length: 201 }, () => ({ participant: alice.id, height: 10 }));
      raw.sendJson({ type: 'view', tiles: many });
      assert.equal((await raw.nextOfType('error', 3000)).code, 'bad_view');
      // A good one (naming someone of another room: ignored) is accepted silently.
      raw.sendJson({ type: 'view', tiles: [{ participant: alice.id, height: 360, screen: false, pinned: true }] });
      raw.sendJson({ type: 'ping' });
      const next = await raw.next(3000);
      assert.equal(next.type, 'pong', `nothing but pong expected: ${safeJson(next)}`);
    } finally {
      raw.terminate();
    }
  });

  await step('the speaker view follows the server: only Alice speaks, then only Carol', async () => {
    // Bob and Carol turn their microphones off: only Alice's fake microphone beeps.
    await bob.page.click('#toggle-mic');
    await carol.page.click('#toggle-mic');
    await bob.page.click('#toggle-layout');
    const speaker = (page) => page.evaluate(() => /** @type {any} */ (window).webconf.speaker);
    let seen;
    await waitFor(async () => {
      seen = await speaker(bob.page);
      return seen.source === 'server' && seen.active === alice.id;
    }, 15000, { message: () => `Bob to get speakers with Alice active from the server: ${safeJson(seen)}` });
    await waitFor(async () => safeJson(await staged(bob.page)) === safeJson([alice.id]), 5000,
      { message: 'Bob\'s speaker view to stage Alice' });

    await alice.page.click('#toggle-mic');
    await carol.page.click('#toggle-mic');
    await waitFor(async () => {
      seen = await speaker(bob.page);
      return seen.source === 'server' && seen.active === carol.id;
    }, 15000, { message: () => `the server to make Carol the active speaker: ${safeJson(seen)}` });
    assert.ok(seen.recent.includes(alice.id) && seen.recent[0] === carol.id, safeJson(seen));
    await waitFor(async () => safeJson(await staged(bob.page)) === safeJson([carol.id]), 5000,
      { message: 'Bob\'s speaker view to stage Carol' });
  });

  await step('a newcomer gets speakers right after welcome', async () => {
    const raw = await connectSignaling(server.wsUrl, { origin: server.url, label: 'newcomer' });
    try {
      raw.sendJson({ type: 'join', version: 1, room, name: 'Newcomer' });
      await raw.nextOfType('welcome', 5000);
      const msg = await raw.nextOfType('speakers', 3000);
      assert.equal(msg.active, carol.id, safeJson(msg));
    } finally {
      raw.terminate();
    }
  });
});
