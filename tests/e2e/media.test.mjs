// Devices, screen sharing and layout through the real binary and headless Chromium, asserted
// from what the OTHER participants observe:
//   - switching camera and microphone in the meeting (replaceTrack, no renegotiation): the
//     others keep decoding; the choice is remembered by the pre-join panel (drop-downs, level
//     meter, test sound, "join with the microphone off");
//   - sharing a screen: the others decode a new `<id>-screen` track and show it on the stage;
//     stopping (button, or the browser's own "stop sharing") removes it; a share whose offer
//     crosses a server offer (`renegotiation_in_progress`) is retried;
//   - a browser that refuses the camera: the explanation, and joining with the microphone;
//   - speaker view, pinning, the active speaker, hiding one's own view;
//   - the unsupported / outdated browser notice.
//
// Chromium flags: `--use-fake-device-for-media-stream=device-count=3` gives three fake cameras
// (and three microphones: default, 1, 2). The second camera, fake_device_1, produces Y16 (depth)
// frames that the video encoder never gets (a stalled sender, whatever the page does): the test
// switches from fake_device_0 (I420) to fake_device_2 (MJPEG). With `--use-fake-ui-for-media-stream`,
// getDisplayMedia captures a fake screen without any picker, headless. The refused camera uses
// the browser's real permission mechanism: a Chromium WITHOUT the fake-UI flag, whose context
// grants only the microphone (`overridePermissions`).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Diagnostics,
  expectMediaFlowing,
  joinRoom,
  launchChromium,
  newPage,
  pageState,
  randomRoom,
  safeJson,
  sleep,
  startServer,
  stepper,
  waitFor,
  waitForState,
} from './harness.mjs';

const diagnostics = new Diagnostics();
let server;
let browser;
let deniedBrowser;

before(async () => {
  server = await startServer();
  diagnostics.addServer(server);
  browser = await launchChromium('chromium-media', {
    extraArgs: ['--use-fake-device-for-media-stream=device-count=3'],
  });
  deniedBrowser = await launchChromium('chromium-no-camera', {
    withoutArgs: ['--use-fake-ui-for-media-stream'],
  });
});

after(async () => {
  await browser?.close();
  await deniedBrowser?.close();
  await server?.stop();
});

// ---------------------------------------------------------------------------------------------
// Page-side helpers (serialised into the page: self-contained)

/**
 * Every receiving transceiver with its `a=msid` track id (from the remote description, by mid)
 * and its inbound-rtp counters: [{mid, trackId, kind, direction, packetsReceived,
 * framesDecoded}]. A microphone slot (`a=msid:slots slot-audio-<n>`) has the track id
 * `<id>-audio` of the participant it carries now (`window.webconf.slots`), a camera slot
 * (`slot-video-<n>`) `<id>-video`; either is left out while it carries none.
 */
async function pageReceivers() {
  const w = /** @type {any} */ (window);
  const pc = w.webconf.pc;
  if (!pc) return [];
  const sdp = (pc.currentRemoteDescription || pc.remoteDescription || {}).sdp || '';
  const byMid = new Map();
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    let mid;
    let stream;
    let track;
    for (const line of section.split(/\r?\n/)) {
      if (line.startsWith('a=mid:')) mid = line.slice(6).trim();
      else if (line.startsWith('a=msid:') && track === undefined) [stream, track] = line.slice(7).trim().split(/\s+/);
    }
    if (mid !== undefined && stream === 'slots') {
      const who = w.webconf.slots?.[mid];
      track = who ? `${who}-${/^slot-video-/.test(track ?? '') ? 'video' : 'audio'}` : undefined;
    }
    if (mid !== undefined && track) byMid.set(mid, track);
  }
  const out = [];
  for (const tr of pc.getTransceivers()) {
    if (!tr.mid || !byMid.has(tr.mid)) continue;
    const entry = {
      mid: tr.mid, trackId: byMid.get(tr.mid), kind: tr.receiver.track.kind, direction: tr.currentDirection,
      packetsReceived: 0, framesDecoded: 0,
    };
    const report = await tr.receiver.getStats();
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      entry.packetsReceived += s.packetsReceived || 0;
      entry.framesDecoded += s.framesDecoded || 0;
    });
    out.push(entry);
  }
  return out;
}

/** What a page sends: its senders' tracks and transceivers, and its local description. */
function pageSenders() {
  const pc = /** @type {any} */ (window).webconf.pc;
  return {
    senders: pc.getSenders().map((s) => (s.track
      ? { kind: s.track.kind, id: s.track.id, label: s.track.label, state: s.track.readyState, enabled: s.track.enabled }
      : null)),
    transceivers: pc.getTransceivers().map((t) => ({ mid: t.mid, direction: t.direction, current: t.currentDirection })),
    localSdp: pc.localDescription ? pc.localDescription.sdp : '',
    devices: /** @type {any} */ (window).webconf.devices,
  };
}

/** The receiver of `trackId` on `page`, or undefined. */
async function receiverOf(page, trackId) {
  return (await page.evaluate(pageReceivers)).find((r) => r.trackId === trackId);
}

/** Waits until `page` decodes a growing number of frames on the receiver of `trackId`. */
async function expectFramesGrowing(page, trackId, label) {
  const first = await waitFor(async () => {
    const r = await receiverOf(page, trackId);
    return r && r.framesDecoded > 0 ? r : null;
  }, 15000, { message: `${label} to decode frames of ${trackId}` });
  await sleep(1500);
  const second = await receiverOf(page, trackId);
  assert.ok(second && second.framesDecoded > first.framesDecoded,
    `${label}: framesDecoded of ${trackId} did not grow: ${safeJson(first)} -> ${safeJson(second)}`);
}

/** The camera's sender (the first video sender: screen shares come later). */
function cameraSender(state) {
  return state.senders.find((s) => s && s.kind === 'video');
}

/** The microphone's sender. */
function micSender(state) {
  return state.senders.find((s) => s && s.kind === 'audio');
}

/**
 * Makes the page hold the server's `offer`s until it sends an `offer` of its own, then deliver
 * them: the client's offer then crosses a server offer, as when two negotiations start at the
 * same time. Counts the `renegotiation_in_progress` errors in `window.__refusals`.
 */
function crossServerOffers() {
  const w = /** @type {any} */ (window);
  const Native = w.WebSocket;
  w.__refusals = 0;
  w.__holdOffers = false;
  w.__heldOffers = 0;
  w.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.__held = [];
      this.__listeners = [];
      super.addEventListener('message', (ev) => {
        let msg = {};
        try {
          msg = JSON.parse(ev.data);
        } catch {
          // not ours to judge
        }
        if (msg.type === 'error' && msg.code === 'renegotiation_in_progress') w.__refusals += 1;
        if (w.__holdOffers && msg.type === 'offer') {
          this.__held.push(ev);
          w.__heldOffers += 1;
          return;
        }
        for (const fn of this.__listeners) fn.call(this, ev);
      });
    }

    addEventListener(type, fn, options) {
      if (type === 'message') this.__listeners.push(fn);
      else super.addEventListener(type, fn, options);
    }

    send(data) {
      super.send(data);
      if (typeof data === 'string' && data.includes('"type":"offer"') && this.__held.length) {
        const held = this.__held.splice(0);
        w.__holdOffers = false;
        setTimeout(() => {
          for (const ev of held) for (const fn of this.__listeners) fn.call(this, ev);
        }, 0);
      }
    }
  };
}

// ---------------------------------------------------------------------------------------------

test('devices, screen sharing and layout between Chromium pages', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('media');
  let alice;
  let bob;

  await step('two pages join and decode each other', async () => {
    alice = await joinRoom(browser, server, room, 'Alice', { diagnostics });
    bob = await joinRoom(browser, server, room, 'Bob', { diagnostics });
    await Promise.all([expectMediaFlowing(bob.page, [alice.id]), expectMediaFlowing(alice.page, [bob.id])]);
  });

  await step('Alice switches camera and microphone from the settings menu: Bob keeps decoding', async () => {
    const before = await alice.page.evaluate(pageSenders);
    const bobBefore = await bob.page.evaluate(pageReceivers);
    assert.ok(before.devices && before.devices.camera, `webconf.devices: ${safeJson(before.devices)}`);

    await alice.page.click('#device-settings');
    await alice.page.waitForSelector('#device-menu:not([hidden]) #select-camera', { timeout: 5000 });
    assert.equal(await alice.page.$eval('#device-settings', (b) => b.getAttribute('aria-expanded')), 'true');
    const cameras = await waitFor(async () => {
      const opts = await alice.page.$$eval('#select-camera option', (os) => os.map((o) => ({ id: o.value, label: o.textContent })));
      return opts.length >= 3 ? opts : null;
    }, 5000, { message: 'three fake cameras in #select-camera (device-count=3)' });
    const otherCamera = cameras.find((c) => c.label === 'fake_device_2')?.id;
    assert.ok(otherCamera && otherCamera !== before.devices.camera, `cameras: ${safeJson(cameras)}, in use: ${before.devices.camera}`);
    await alice.page.select('#select-camera', otherCamera);
    const afterCamera = await waitFor(async () => {
      const s = await alice.page.evaluate(pageSenders);
      return s.devices.camera === otherCamera ? s : null;
    }, 10000, { message: `Alice's webconf.devices.camera to become ${otherCamera}` });
    const oldCam = cameraSender(before);
    const newCam = cameraSender(afterCamera);
    assert.ok(newCam && newCam.id !== oldCam.id && newCam.state === 'live',
      `the camera sender's track was not replaced: ${safeJson(oldCam)} -> ${safeJson(newCam)}`);

    const mics = await alice.page.$$eval('#select-mic option', (os) => os.map((o) => o.value).filter(Boolean));
    const otherMic = mics.find((id) => id !== before.devices.mic);
    assert.ok(otherMic, `a second microphone in #select-mic: ${safeJson(mics)}`);
    await alice.page.select('#select-mic', otherMic);
    const afterMic = await waitFor(async () => {
      const s = await alice.page.evaluate(pageSenders);
      return s.devices.mic === otherMic ? s : null;
    }, 10000, { message: `Alice's webconf.devices.mic to become ${otherMic}` });
    const oldMic = micSender(before);
    const newMic = micSender(afterMic);
    assert.ok(newMic && newMic.id !== oldMic.id && newMic.state === 'live',
      `the microphone sender's track was not replaced: ${safeJson(oldMic)} -> ${safeJson(newMic)}`);

    // replaceTrack, not a new negotiation: same local description, same transceivers.
    assert.equal(afterMic.localSdp, before.localSdp, 'switching devices renegotiated');
    assert.deepEqual(afterMic.transceivers, before.transceivers);

    // Bob decodes Alice on the same receivers as before.
    await expectMediaFlowing(bob.page, [alice.id], { windowMs: 2000 });
    const bobAfter = await bob.page.evaluate(pageReceivers);
    assert.deepEqual(bobAfter.map((r) => r.mid), bobBefore.map((r) => r.mid), 'Bob got new receivers');

    await alice.page.keyboard.press('Escape');
    await waitFor(() => alice.page.$eval('#device-menu', (m) => m.hidden), 3000, { message: 'Escape to close #device-menu' });
  });

  await step("the pre-join panel remembers Alice's devices, shows her microphone's level, plays a test sound", async () => {
    const page = await alice.page.browserContext().newPage();
    page.label = 'Alice (pre-join)';
    try {
      await page.goto(`${server.url}/${room}?name=Alice2`, { waitUntil: 'domcontentloaded' });
      await waitForState(page, 'prejoin', 10000, page.label);
      const remembered = (await alice.page.evaluate(pageSenders)).devices;
      let shown;
      await waitFor(async () => {
        shown = await page.evaluate(() => ({
          camera: document.querySelector('#select-camera')?.value,
          mic: document.querySelector('#select-mic')?.value,
          speakers: document.querySelectorAll('#select-speaker option').length,
        }));
        return shown.camera === remembered.camera && shown.mic === remembered.mic && shown.speakers > 0;
      }, 10000, { message: () => `the pre-join drop-downs to show the remembered devices ${safeJson(remembered)}, not ${safeJson(shown)}` });
      const level = await waitFor(
        () => page.$eval('#mic-level', (m) => (m.value > 0.01 ? m.value : 0)),
        10000,
        { message: '#mic-level to show the fake microphone\'s beep' },
      );
      assert.ok(level > 0);
      await page.click('#test-sound');
      await waitFor(() => page.$eval('#test-sound', (b) => b.dataset.playing !== 'true'), 5000, { message: 'the test sound to end' });
      const status = await page.$eval('.test-sound-status', (s) => s.textContent);
      assert.match(status, /two notes|deux notes/, `test sound status: ${status}`);
    } finally {
      await page.close();
    }
  });

  let carol;
  await step('a page joins with its microphone off from the pre-join panel: the others see it muted', async () => {
    const page = await newPage(browser, 'Carol');
    diagnostics.addPage('Carol', page);
    await page.goto(`${server.url}/${room}?name=Carol`, { waitUntil: 'domcontentloaded' });
    await waitForState(page, 'prejoin', 10000, 'Carol');
    await page.waitForSelector('#prejoin-mic:not([disabled])', { timeout: 10000 });
    await page.click('#prejoin-mic');
    assert.equal(await page.$eval('#prejoin-mic', (b) => b.getAttribute('aria-pressed')), 'true');
    await page.click('#prejoin-join');
    await waitForState(page, 'in-room', 15000, 'Carol');
    const id = await page.evaluate(() => /** @type {any} */ (window).webconf.participantId);
    carol = { page, id, name: 'Carol', label: 'Carol' };
    await waitFor(async () => {
      const p = (await pageState(bob.page)).participants?.[id];
      return p && p.audio === false && p.video === true;
    }, 5000, { message: 'Bob to see Carol with audio=false video=true' });
    assert.equal(await page.$eval('#toggle-mic', (b) => b.getAttribute('aria-pressed')), 'true');
  });

  await step('Alice shares her screen: Bob decodes a new "-screen" track and shows it on the stage', async () => {
    await alice.page.click('#share-screen');
    await waitFor(() => alice.page.$eval('#share-screen', (b) => b.getAttribute('aria-pressed') === 'true'), 5000,
      { message: "Alice's #share-screen to be pressed" });
    // Alice's offer labels the screen's stream `screen`.
    await waitFor(async () => /^a=msid:screen /m.test((await alice.page.evaluate(pageSenders)).localSdp), 8000,
      { message: "an a=msid:screen line in Alice's local description" });
    await expectFramesGrowing(bob.page, `${alice.id}-screen`, 'Bob');
    await waitFor(async () => {
      const s = await bob.page.evaluate(() => ({
        screens: /** @type {any} */ (window).webconf.screens,
        staged: document.querySelector(`.tile[data-screen][data-stage="true"]`)?.getAttribute('data-screen'),
        width: document.querySelector('.tile[data-screen] video')?.videoWidth ?? 0,
      }));
      return safeJson(s.screens) === safeJson([alice.id]) && s.staged === alice.id && s.width > 0;
    }, 10000, { message: "Bob's webconf.screens = [Alice] and her screen tile on the stage, playing" });
    // The camera tile still shows the camera, and the tiles are still one per participant.
    const tiles = (await pageState(bob.page)).tiles;
    assert.equal(tiles.length, 3, `Bob's #tiles: ${safeJson(tiles)}`);
    await expectMediaFlowing(bob.page, [alice.id]);
  });

  await step('Alice stops sharing: the screen tile goes away for Bob', async () => {
    await alice.page.click('#share-screen');
    await waitFor(async () => {
      const s = await bob.page.evaluate(() => ({
        screens: /** @type {any} */ (window).webconf.screens,
        tiles: document.querySelectorAll('.tile[data-screen]').length,
        layout: document.querySelector('.stage')?.getAttribute('data-layout'),
      }));
      return s.screens.length === 0 && s.tiles === 0 && s.layout === 'grid';
    }, 8000, { message: "Bob's screen tile of Alice to go (webconf.screens empty, grid layout)" });
    assert.equal(await alice.page.$eval('#share-screen', (b) => b.getAttribute('aria-pressed')), 'false');
    const sender = await alice.page.evaluate(pageSenders);
    assert.ok(!sender.senders.some((s) => s && /screen/.test(s.label)), `a screen track is still sent: ${safeJson(sender.senders)}`);
  });

  await step("sharing again (same transceivers); the browser's own \"stop sharing\" ends it too", async () => {
    await alice.page.click('#share-screen');
    await expectFramesGrowing(bob.page, `${alice.id}-screen`, 'Bob');
    await waitFor(() => carol.page.$$eval('.tile[data-screen]', (x) => x.length === 1), 8000, { message: "Carol to show Alice's screen" });
    // Microphone, camera, screen and its sound: the share's transceivers were reused.
    const transceivers = (await alice.page.evaluate(pageSenders)).transceivers;
    const sending = transceivers.filter((x) => x.direction !== 'recvonly');
    assert.equal(sending.length, 4, `a second share added transceivers: ${safeJson(transceivers)}`);
    // What the browser does when its "Stop sharing" bar is clicked: the capture track ends.
    await alice.page.evaluate(() => {
      const pc = /** @type {any} */ (window).webconf.pc;
      const sender = pc.getSenders().find((s) => s.track && /screen/.test(s.track.label));
      sender.track.dispatchEvent(new Event('ended'));
    });
    await waitFor(() => alice.page.$eval('#share-screen', (b) => b.getAttribute('aria-pressed') === 'false'), 5000,
      { message: "Alice's #share-screen to be released" });
    await waitFor(() => Promise.all([bob.page, carol.page].map((p) => p.evaluate(() => /** @type {any} */ (window).webconf.screens.length === 0)))
      .then((r) => r.every(Boolean)), 8000, { message: "Bob's and Carol's screen tiles of Alice to go" });
  });

  let dave;
  await step('a share whose offer crosses a server offer is retried (renegotiation_in_progress)', async () => {
    const page = await newPage(browser, 'Dave');
    diagnostics.addPage('Dave', page);
    await page.evaluateOnNewDocument(crossServerOffers);
    await page.goto(`${server.url}/${room}?name=Dave&autojoin=1`, { waitUntil: 'domcontentloaded' });
    await waitForState(page, 'in-room', 15000, 'Dave');
    dave = { page, id: await page.evaluate(() => /** @type {any} */ (window).webconf.participantId), label: 'Dave' };
    await expectMediaFlowing(page, [alice.id], { timeoutMs: 20000 });
    // Hold Dave's next server offer (Erin's tracks), then share: the two offers cross.
    await page.evaluate(() => { /** @type {any} */ (window).__holdOffers = true; });
    const erin = await joinRoom(browser, server, room, 'Erin', { diagnostics });
    await waitFor(() => page.evaluate(() => /** @type {any} */ (window).__heldOffers > 0), 8000,
      { message: "the server's offer of Erin's tracks to reach Dave's page (held there)" });
    await page.click('#share-screen');
    await waitFor(() => page.evaluate(() => /** @type {any} */ (window).__refusals > 0), 8000,
      { message: 'the server to refuse Dave\'s crossing offer with renegotiation_in_progress' });
    await expectFramesGrowing(alice.page, `${dave.id}-screen`, 'Alice');
    await expectMediaFlowing(page, [erin.id], { timeoutMs: 15000 });
    const notices = await page.$$eval('.meeting-notices [data-key]', (ns) => ns.map((n) => n.dataset.key));
    assert.ok(!notices.includes('negotiation') && !notices.includes('error-renegotiation_in_progress'),
      `Dave was shown an error: ${safeJson(notices)}`);
    await page.click('#share-screen');
    await waitFor(() => alice.page.evaluate(() => /** @type {any} */ (window).webconf.screens.length === 0), 8000,
      { message: "Alice's screen tile of Dave to go" });
    await erin.page.click('#hangup');
    await page.click('#hangup');
  });

  await step('layout: speaker view, active speaker, pinning, own view', async () => {
    const page = bob.page;
    // The fake microphones beep: Alice's tile gets data-speaking on Bob's page.
    await waitFor(() => page.$eval(`.tile[data-participant-id="${alice.id}"]`, (x) => x.dataset.speaking === 'true'), 10000,
      { message: "Bob to mark Alice's tile data-speaking=true" });
    // Carol's microphone is off: she never speaks.
    assert.notEqual(await page.$eval(`.tile[data-participant-id="${carol.id}"]`, (x) => x.dataset.speaking), 'true');

    await page.click('#toggle-layout');
    assert.equal(await page.$eval('#toggle-layout', (b) => b.getAttribute('aria-pressed')), 'true');
    const staged = await waitFor(() => page.evaluate(() => {
      const tiles = [...document.querySelectorAll('.tile[data-stage="true"]')];
      return document.querySelector('.stage')?.getAttribute('data-layout') === 'stage' && tiles.length === 1
        ? tiles[0].getAttribute('data-participant-id') : null;
    }), 5000, { message: 'speaker view to stage one tile' });
    assert.ok(staged === alice.id, `the active speaker (Alice) should be on the stage, not ${staged}`);
    const big = await page.$eval('.tile[data-stage="true"]', (x) => x.getBoundingClientRect().width);
    const small = await page.$eval(`.tile[data-participant-id="${carol.id}"]`, (x) => x.getBoundingClientRect().width);
    assert.ok(big > small * 2, `the staged tile is not large: ${big} vs ${small}`);

    // Pin Carol: she goes to the stage, in speaker view and in tile view.
    await page.click(`.tile[data-participant-id="${carol.id}"] [data-action="pin"]`);
    const pinned = async () => page.evaluate((id) => ({
      pressed: document.querySelector(`.tile[data-participant-id="${id}"] [data-action="pin"]`)?.getAttribute('aria-pressed'),
      staged: [...document.querySelectorAll('.tile[data-stage="true"]')].map((x) => x.getAttribute('data-participant-id')),
    }), carol.id);
    assert.deepEqual(await pinned(), { pressed: 'true', staged: [carol.id] });
    await page.click('#toggle-layout');
    assert.deepEqual(await pinned(), { pressed: 'true', staged: [carol.id] });
    await page.click(`.tile[data-participant-id="${carol.id}"] [data-action="pin"]`);
    assert.deepEqual(await pinned(), { pressed: 'false', staged: [] });
    assert.equal(await page.$eval('.stage', (x) => x.getAttribute('data-layout')), 'grid');

    // Own view hidden and shown again.
    await page.click('#toggle-self-view');
    assert.equal(await page.$eval('.tile[data-local="true"]', (x) => getComputedStyle(x).display), 'none');
    await page.click('#toggle-self-view');
    assert.notEqual(await page.$eval('.tile[data-local="true"]', (x) => getComputedStyle(x).display), 'none');
  });

  await step('the others still decode each other after all this', async () => {
    await expectMediaFlowing(bob.page, [alice.id]);
    await expectMediaFlowing(alice.page, [bob.id]);
  });
});

test('a browser that refuses the camera: the explanation, then joining with the microphone only', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('nocam');
  let alice;
  let page;
  let id;

  await step('the pre-join panel explains what to do', async () => {
    alice = await joinRoom(browser, server, room, 'Alice', { diagnostics });
    page = await newPage(deniedBrowser, 'Nadia (camera refused)');
    diagnostics.addPage(page.label, page);
    // The browser's own permission store: the microphone allowed, the camera not.
    await page.browserContext().overridePermissions(server.origin, ['microphone']);
    await page.goto(`${server.url}/${room}?name=Nadia&lang=fr`, { waitUntil: 'domcontentloaded' });
    await waitForState(page, 'prejoin', 10000, page.label);
    const notice = await waitFor(() => page.evaluate(() => {
      const n = document.querySelector('#device-error');
      return n ? { error: n.getAttribute('data-error'), missing: n.getAttribute('data-missing'), text: n.textContent } : null;
    }), 10000, { message: '#device-error on the pre-join panel' });
    assert.equal(notice.error, 'NotAllowedError');
    assert.equal(notice.missing, 'video');
    assert.match(notice.text, /paramètres de votre navigateur/, notice.text);
    assert.match(notice.text, /rechargez la page/, notice.text);
    assert.match(notice.text, /assistance informatique de proximité/, notice.text);
    assert.match(notice.text, /rejoindre la réunion avec le micro seulement/, notice.text);
    assert.equal(await page.$eval('#prejoin-camera', (b) => b.disabled), true);
    assert.equal(await page.$eval('#prejoin-mic', (b) => b.disabled), false);
  });

  await step('the person joins with the microphone: the others hear her and see her camera off', async () => {
    await page.click('#prejoin-join');
    await waitForState(page, 'in-room', 15000, page.label);
    id = await page.evaluate(() => /** @type {any} */ (window).webconf.participantId);
    await waitFor(async () => {
      const p = (await pageState(alice.page)).participants?.[id];
      return p && p.audio === true && p.video === false;
    }, 5000, { message: 'Alice to see Nadia with audio=true video=false' });
    await waitFor(() => alice.page.$eval(`.tile[data-participant-id="${id}"]`, (x) => x.dataset.video === 'off'), 5000,
      { message: "Alice to show Nadia's avatar (data-video=off)" });
    const first = await waitFor(async () => {
      const r = await receiverOf(alice.page, `${id}-audio`);
      return r && r.packetsReceived > 0 ? r : null;
    }, 15000, { message: "Alice to receive Nadia's audio" });
    await sleep(1000);
    const second = await receiverOf(alice.page, `${id}-audio`);
    assert.ok(second.packetsReceived > first.packetsReceived, "Nadia's audio stopped");
    // The explanation stays visible in the meeting, and Nadia decodes Alice.
    assert.equal(await page.$eval('#device-error', (n) => n.getAttribute('data-error')), 'NotAllowedError');
    await expectMediaFlowing(page, [alice.id]);
  });
});

test('the unsupported or outdated browser notice', async () => {
  const ok = await newPage(browser, 'notice-ok');
  await ok.goto(`${server.url}/`, { waitUntil: 'domcontentloaded' });
  await waitForState(ok, 'home', 10000, 'notice-ok');
  assert.equal(await ok.$('#browser-notice'), null, 'a supported browser got #browser-notice');
  await ok.close();

  const missing = await newPage(browser, 'notice-missing');
  await missing.evaluateOnNewDocument(() => { delete /** @type {any} */ (window).RTCRtpTransceiver; });
  await missing.goto(`${server.url}/?lang=fr`, { waitUntil: 'domcontentloaded' });
  const status = await waitFor(() => missing.$eval('#browser-notice', (n) => n.getAttribute('data-status')), 5000,
    { message: '#browser-notice without RTCRtpTransceiver' });
  assert.equal(status, 'unsupported');
  const text = await missing.$eval('#browser-notice', (n) => n.textContent);
  assert.match(text, /Chrome, Edge, Chromium/);
  assert.match(text, /Firefox/);
  await missing.close();

  const old = await newPage(browser, 'notice-old');
  await old.setUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.51 Safari/537.36');
  await old.goto(`${server.url}/`, { waitUntil: 'domcontentloaded' });
  assert.equal(await waitFor(() => old.$eval('#browser-notice', (n) => n.getAttribute('data-status')), 5000,
    { message: '#browser-notice for Chrome 99' }), 'outdated');
  await old.close();
});
