// Camera slots through the real binary (docs/protocol.md, `slots`; web/js/ui/slotvideo.js): a
// camera slot carries one participant's camera after another as one continuous stream, so right
// after it changes hands its last decoded picture is still the previous participant's. The tile
// it moves into must never show that picture.
//
// With `last_n = 2`, Alice, Bob and Carol publish a camera of one colour each (a canvas in place
// of the fake camera: red, green, blue); Dave (headless Firefox: it is the browser whose
// `<video>` keeps showing the previous picture after a move, checked by hand with the reveal
// turned off) receives two of them. His page samples every remote tile shown with its video
// (`data-video="on"`) at every animation frame and checks the picture's colour against the
// participant's. Pinning the one in no slot (outside last-N) moves a slot from another
// participant to it, round after round (`#tiles .tile[data-slot-mid]` says which tile holds a
// slot: headless Firefox's frame watch shows every remote avatar after 3 s, its `<video>`
// counting no rendered frame, so `data-video` cannot tell who is inside).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Diagnostics,
  joinRoom,
  launchChromium,
  launchFirefox,
  randomRoom,
  safeJson,
  startServer,
  stepper,
  waitFor,
} from './harness.mjs';

const ROUNDS = 6;
const diagnostics = new Diagnostics();
let server;
let browser;
let daveBrowser;

before(async () => {
  // Appended to the [media] table.
  server = await startServer({ extraToml: 'last_n = 2' });
  diagnostics.addServer(server);
  browser = await launchChromium('chromium-slots');
  daveBrowser = await launchFirefox('firefox-slots');
});

after(async () => {
  await daveBrowser?.close();
  await browser?.close();
  await server?.stop();
});

/** Runs in a publisher's page before its scripts: the camera is a canvas of the colour its
 * name says (a moving square keeps the encoder sending frames); the microphone stays fake. */
function colourCamera() {
  const name = new URLSearchParams(location.search).get('name') ?? '';
  const rgb = { Alice: '255,0,0', Bob: '0,255,0', Carol: '0,0,255' }[name] ?? '128,128,128';
  const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const audio = constraints && constraints.audio ? constraints.audio : false;
    const real = audio ? await getUserMedia({ audio, video: false }) : new MediaStream();
    if (!constraints || !constraints.video) return real;
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 360;
    const g = canvas.getContext('2d');
    let n = 0;
    setInterval(() => {
      g.fillStyle = `rgb(${rgb})`;
      g.fillRect(0, 0, 640, 360);
      g.fillStyle = 'rgb(255,255,255)';
      g.fillRect((n++ * 9) % 600, 0, 40, 40);
    }, 33);
    return new MediaStream([...real.getAudioTracks(), canvas.captureStream(30).getVideoTracks()[0]]);
  };
}

/**
 * Dave's page: at every animation frame, the colour of each remote tile shown with its video;
 * a picture of another participant's colour is recorded in `window.__wrong`. Also records when
 * each tile turns `data-video="on"` (headless Firefox counts no rendered frames, so the frame
 * watch puts the avatar back after 3 s: "shown" means "turned on since").
 * @param {Record<string, string>} expected  Participant id → colour.
 */
function watchPictures(expected) {
  const w = /** @type {any} */ (window);
  w.__wrong = [];
  w.__samples = 0;
  w.__shown = [];
  const probe = document.createElement('canvas');
  probe.width = 64;
  probe.height = 36;
  const g = probe.getContext('2d', { willReadFrequently: true });
  const tick = () => {
    for (const tile of document.querySelectorAll('#tiles .tile:not([data-local])')) {
      const id = tile.getAttribute('data-participant-id');
      const video = tile.querySelector('video');
      if (tile.getAttribute('data-video') !== 'on' || !video || video.videoWidth === 0) continue;
      g.fillStyle = 'rgb(0,0,0)';
      g.fillRect(0, 0, 64, 36);
      g.drawImage(video, 0, 0, 64, 36);
      const [r, gr, b] = g.getImageData(32, 30, 1, 1).data;
      const got = r > 150 && gr < 100 && b < 100 ? 'red'
        : gr > 150 && r < 100 && b < 100 ? 'green'
          : b > 150 && r < 100 && gr < 100 ? 'blue' : null;
      w.__samples += 1;
      if (got && got !== expected[id]) {
        w.__wrong.push({ id, want: expected[id], got, at: Math.round(performance.now()), slots: { ...w.webconf.slots } });
      }
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  new MutationObserver((records) => {
    for (const rec of records) {
      const tile = /** @type {HTMLElement} */ (rec.target);
      if (tile.dataset.video === 'on') w.__shown.push({ id: tile.dataset.participantId, at: performance.now() });
    }
  }).observe(document.getElementById('tiles'), { subtree: true, attributes: true, attributeFilter: ['data-video'] });
}

/** Dave's page: each remote tile, whether it shows video, its slot; the pictures checked. */
function pageState() {
  const w = /** @type {any} */ (window);
  return {
    now: performance.now(),
    tiles: [...document.querySelectorAll('#tiles .tile:not([data-local])')].map((t) => ({
      id: t.getAttribute('data-participant-id'),
      video: t.getAttribute('data-video'),
      slot: t.getAttribute('data-slot-mid'),
      pinned: t.querySelector('[data-action="pin"]')?.getAttribute('aria-pressed') === 'true',
    })),
    slots: w.webconf.slots,
    samples: w.__samples,
    wrong: w.__wrong,
    shown: w.__shown,
  };
}

test('camera slots: a tile never shows another participant\'s picture as cameras move in and out of last-N', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('slots');
  /** @type {any[]} */
  const publishers = [];
  let dave;
  /** @type {any} */
  let s;
  const state = () => dave.page.evaluate(pageState);
  const shownSince = (id, since) => s.shown.some((x) => x.id === id && x.at >= since);

  await step('three coloured cameras and Dave (Firefox) join', async () => {
    for (const name of ['Alice', 'Bob', 'Carol']) {
      publishers.push(await joinRoom(browser, server, room, name, { diagnostics, beforeLoad: colourCamera, timeoutMs: 60000 }));
    }
    dave = await joinRoom(daveBrowser, server, room, 'Dave', { diagnostics, timeoutMs: 60000 });
    const expected = Object.fromEntries(publishers.map((p, i) => [p.id, ['red', 'green', 'blue'][i]]));
    await dave.page.evaluate(watchPictures, expected);
    await waitFor(async () => {
      s = await state();
      return s.tiles.length === 3 && publishers.every((p) => s.tiles.some((x) => x.id === p.id));
    }, 30000, { message: () => `Dave to show the three tiles: ${safeJson(s)}` });
    await waitFor(async () => {
      s = await state();
      return s.tiles.some((x) => x.slot);
    }, 30000, { message: () => `a tile showing a camera slot (data-slot-mid; a server of this branch sends cameras in slots): ${safeJson(s)}` });
  });

  for (let round = 1; round <= ROUNDS; round++) {
    await step(`round ${round}: Dave pins a camera outside his last-N, it is shown, in its own colour`, async () => {
      // Whoever is outside last-N now (in no slot); before the first round, wait for the server
      // to settle on two.
      let target;
      await waitFor(async () => {
        s = await state();
        const outside = s.tiles.filter((x) => !x.slot && !x.pinned);
        target = outside.length === 1 ? outside[0].id : null;
        return target !== null;
      }, 30000, { message: () => `one camera outside Dave's last-N: ${safeJson(s)}` });
      const since = s.now;
      const pinned = s.tiles.find((x) => x.pinned);
      if (pinned) await dave.page.click(`#tiles .tile[data-participant-id="${pinned.id}"] [data-action="pin"]`);
      await dave.page.click(`#tiles .tile[data-participant-id="${target}"] [data-action="pin"]`);
      await waitFor(async () => {
        s = await state();
        return shownSince(target, since);
      }, 30000, { message: () => `the pinned ${target} to be shown on Dave's page: ${safeJson(s)}` });
      assert.deepEqual(s.wrong, [], `a tile showed another participant's picture: ${safeJson(s)}`);
    });
  }

  await step('every sampled picture was its participant\'s', async () => {
    await new Promise((r) => setTimeout(r, 2000));
    s = await state();
    assert.ok(s.samples > 50, `pictures were sampled: ${safeJson(s)}`);
    assert.deepEqual(s.wrong, [], `a tile showed another participant's picture: ${safeJson(s)}`);
  });
});
