// The connection indicator on every tile and the "media blocked" banner, through the real
// binary and headless Chromium: (a) a working call shows `good` and real figures on every
// tile; (b) a participant whose browser may not use UDP (the media ports are blocked), on a
// server without the ICE-TCP fallback, shows `lost`, "N/A" and the banner with the server's real
// ports, and so does the other side.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Diagnostics,
  httpGet,
  joinRoom,
  launchChromium,
  randomRoom,
  startServer,
  stepper,
  waitFor,
} from './harness.mjs';

/** Joining (page load, signaling, the client's start-up) on a busy machine: seconds, not a minute. */
const JOIN_TIMEOUT_MS = 60000;

const diagnostics = new Diagnostics();
let server;
let browser;
let blockedBrowser;

before(async () => {
  // Without the ICE-TCP fallback (`media.tcp = false`, appended to the [media] table): a browser
  // that may not use UDP then has no media path at all, which case (b) needs. The fallback
  // itself is tests/e2e/tcp-fallback.test.mjs.
  server = await startServer({ extraToml: 'tcp = false' });
  diagnostics.addServer(server);
  browser = await launchChromium('chromium');
  blockedBrowser = await launchChromium('chromium-blocked', { blockUdp: true });
});

after(async () => {
  await browser?.close();
  await blockedBrowser?.close();
  await server?.stop();
});

/**
 * Page-side: the indicator of `id`'s tile, focused the way a keyboard user does, and what its
 * popover shows ({quality, label, shown, figures: {name: text}}).
 */
function readIndicator(id) {
  const tile = document.querySelector(`#tiles .tile[data-participant-id="${id}"]`);
  const button = tile?.querySelector('.conn-indicator');
  if (!(button instanceof HTMLElement)) return null;
  button.focus();
  const details = tile.querySelector('.conn-details');
  /** @type {Record<string, string>} */
  const figures = {};
  for (const row of details?.querySelectorAll('[data-figure]') ?? []) {
    figures[row.dataset.figure] = row.querySelector('dd')?.textContent ?? '';
  }
  const shown = details instanceof HTMLElement && !details.hidden && details.getBoundingClientRect().height > 0;
  button.blur();
  const hiddenAfterBlur = details instanceof HTMLElement && details.hidden;
  return {
    quality: button.dataset.quality,
    label: button.getAttribute('aria-label'),
    focused: button.tagName === 'BUTTON',
    shown,
    hiddenAfterBlur,
    figures,
  };
}

/** Waits until `page` shows `id`'s indicator with `quality` and figures accepted by `check`. */
async function expectIndicator(member, id, quality, check, timeoutMs = 30000) {
  let last;
  await waitFor(
    async () => {
      last = await member.page.evaluate(readIndicator, id);
      return last && last.quality === quality && check(last) ? last : null;
    },
    timeoutMs,
    { message: () => `${member.label}: indicator of ${id} to be "${quality}" with the expected figures; last ${JSON.stringify(last)}` },
  );
  return last;
}

/** "1.2 Mbit/s" or "640 kbit/s" → bits per second. */
function bitrate(text) {
  const m = /^([\d.,]+)\s*(k|M)bit\/s$/.exec((text ?? '').replace(/\u00a0/g, ' '));
  if (!m) return NaN;
  return Number(m[1].replace(',', '.')) * (m[2] === 'M' ? 1e6 : 1e3);
}

test('GET /api/network names the running server\'s ports', async () => {
  const res = await httpGet(server, '/api/network');
  assert.equal(res.status, 200);
  assert.match(String(res.headers['cache-control']), /no-store/);
  const body = JSON.parse(res.body);
  assert.deepEqual(body, {
    media: { addresses: ['127.0.0.1'], udp_ports: [server.mediaPorts.min, server.mediaPorts.max] },
    https_port: server.port,
  });
});

test('a working call: every indicator, own and remote, is good with real figures', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('conn');
  let alice;
  let bob;
  await step('Alice and Bob join', async () => {
    alice = await joinRoom(browser, server, room, 'Alice', { diagnostics, timeoutMs: JOIN_TIMEOUT_MS });
    bob = await joinRoom(browser, server, room, 'Bob', { diagnostics, timeoutMs: JOIN_TIMEOUT_MS });
  });
  const { min, max } = server.mediaPorts;
  const inRange = (text) => Number(text) >= min && Number(text) <= max;

  for (const [member, other] of [[alice, bob], [bob, alice]]) {
    await step(`${member.label} sees ${other.label}'s tile good, with figures`, async () => {
      // Every figure is waited for (the indicator refreshes every 2 s, and on a busy machine the
      // audio's statistics may come a refresh after the video's), then asserted as read.
      const r = await expectIndicator(member, other.id, 'good', (x) =>
        bitrate(x.figures.bitrateDown) > 0 && /^\d+×\d+$/.test(x.figures.resolution) && x.figures.transport === 'UDP'
        && inRange(x.figures.serverPort) && /opus/i.test(x.figures.codecs ?? ''), 60000);
      assert.ok(r.shown, 'focusing the indicator shows the figures');
      assert.ok(r.hiddenAfterBlur, 'leaving it hides them');
      assert.equal(r.figures.bitrateUp, undefined, 'a remote tile shows what we receive');
      assert.ok(inRange(r.figures.serverPort), `server port ${r.figures.serverPort} in ${min}-${max}`);
      assert.match(r.figures.codecs, /opus/i);
      assert.match(r.label, /good/);
    });
    await step(`${member.label}'s own tile is good, with what it sends`, async () => {
      const r = await expectIndicator(member, member.id, 'good', (x) =>
        bitrate(x.figures.bitrateUp) > 0 && bitrate(x.figures.bitrateDown) > 0 && /^\d+×\d+$/.test(x.figures.resolution)
        && x.figures.transport === 'UDP' && inRange(x.figures.serverPort) && x.figures.rtt !== 'N/A', 60000);
      assert.ok(r.shown);
      assert.ok(bitrate(r.figures.bitrateDown) > 0, `received ${r.figures.bitrateDown}`);
      assert.equal(r.figures.transport, 'UDP');
      assert.ok(inRange(r.figures.serverPort), `server port ${r.figures.serverPort} in ${min}-${max}`);
      assert.notEqual(r.figures.rtt, 'N/A');
    });
  }
  await step('no "media blocked" banner in a working call', async () => {
    for (const m of [alice, bob]) {
      assert.equal(await m.page.$('#media-blocked'), null, `${m.label} shows #media-blocked`);
    }
  });
  await step('Tab reaches an indicator from the keyboard', async () => {
    const reached = await waitFor(async () => {
      await alice.page.keyboard.press('Tab');
      return alice.page.evaluate(() => {
        const a = document.activeElement;
        if (!a || !a.matches('.conn-indicator')) return null;
        const details = a.parentElement?.querySelector('.conn-details');
        return details instanceof HTMLElement && !details.hidden ? 'shown' : 'hidden';
      });
    }, 15000, { interval: 10, message: 'Tab to reach a .conn-indicator' });
    assert.equal(reached, 'shown');
  });
  await alice?.page.close();
  await bob?.page.close();
});

test('a participant whose media ports are blocked: lost, N/A and the banner', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('blocked');
  let carol;
  let dan;
  await step('Carol joins from a working network, Dan from one that blocks UDP', async () => {
    carol = await joinRoom(browser, server, room, 'Carol', { diagnostics, timeoutMs: JOIN_TIMEOUT_MS });
    dan = await joinRoom(blockedBrowser, server, room, 'Dan', { diagnostics, timeoutMs: JOIN_TIMEOUT_MS });
  });
  const { min, max } = server.mediaPorts;
  const allNa = (x) => Object.values(x.figures).length > 0 && Object.values(x.figures).every((v) => v === 'N/A');

  await step('Dan sees the banner with the configured ports and address', async () => {
    const banner = await waitFor(
      () => dan.page.evaluate(() => {
        const b = document.getElementById('media-blocked');
        return b ? { role: b.getAttribute('role'), text: b.textContent, faq: b.querySelector('a')?.getAttribute('href') } : null;
      }),
      25000,
      { message: 'Dan to show #media-blocked' },
    );
    assert.equal(banner.role, 'alert');
    assert.ok(banner.text.includes(`UDP ports ${min}-${max}`), banner.text);
    assert.ok(banner.text.includes(`TCP port ${server.port}`), banner.text);
    assert.ok(banner.text.includes('127.0.0.1'), banner.text);
    assert.equal(banner.faq, '/faq');
    const ice = await dan.page.evaluate(() => window.webconf.pc?.iceConnectionState);
    assert.notEqual(ice, 'connected', 'the browser flag really kept the media path closed');
  });
  await step("Dan's own tile is lost with N/A figures", async () => {
    const r = await expectIndicator(dan, dan.id, 'lost', allNa, 20000);
    assert.ok(r.shown);
    assert.match(r.label, /lost/);
  });
  await step("Dan's tile for Carol is lost too (nothing arrives)", async () => {
    await expectIndicator(dan, carol.id, 'lost', allNa, 20000);
  });
  await step("Carol sees Dan's tile lost, N/A; her own is good; no banner for her", async () => {
    await expectIndicator(carol, carol.id, 'good', (x) => bitrate(x.figures.bitrateUp) > 0, 60000);
    await expectIndicator(carol, dan.id, 'lost', allNa, 20000);
    assert.equal(await carol.page.$('#media-blocked'), null, 'Carol media flows: no banner');
  });
  await carol?.page.close();
  await dan?.page.close();
});
