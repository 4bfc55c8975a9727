// Bandwidth-driven layers under a real bottleneck (issue 6, "Bandwidth estimation" and "A
// subscriber on a poor link never degrades what the others receive"; docs/architecture.md,
// "Media policy"). Needs root: runs only with WEBCONF_NETNS_TESTS=1 (.ci/run sets it).
//
// Alice and Carol (host namespace) publish their cameras in three layers (320, 640 and 1280
// wide) and pin each other. Bob runs in his own namespace (tests/e2e/lib/netns.mjs) with a big
// window, so his tiles ask for a large layer (≥ 640 wide) of both. Then nftables polices what
// enters Bob's namespace to LIMIT_KBYTES kB/s (drops the excess: the link's rate, not a queue):
//   - Bob keeps decoding video from both, on the small layer (≤ 320 wide), with no gap of
//     MAX_GAP_MS or more over SAMPLE_MS once adapted, and audio from both keeps flowing
//     throughout;
//   - meanwhile Alice and Carol still decode each other's large layer (≥ 640 wide): Bob's poor
//     link does not degrade them;
//   - once the limit is lifted, Bob's layers go back up (≥ 640 wide from both) within
//     RECOVER_MS.
// Times and rates are printed. The server runs with `media.bandwidth_estimation = true` (off
// by default: see docs/architecture.md, "Media policy").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Diagnostics,
  joinRoom,
  launchChromium,
  randomRoom,
  safeJson,
  startServer,
  waitFor,
  stepRunner,
} from './harness.mjs';
import { createNetns, netnsSkipReason } from './lib/netns.mjs';

const skip = netnsSkipReason();

/**
 * Bob's downlink while limited, in kB/s, unless WEBCONF_BWE_LIMIT_KBYTES says: derived from
 * what Bob receives unlimited, since Chromium's encoder sends its fake camera's 640-wide layer
 * at 200 to 400 kbit/s depending on the machine's load. With R kbit/s for the two 640-wide
 * layers (the 320-wide ones are about R/6 each), the limit is R/2 + 60 kbit/s: below 60 % of
 * what is sent (the server sees congestion), above the two small layers plus the two
 * microphones' reserve (2 × 50 kbit/s), below one small and one 640-wide layer.
 * @param {number} kbps
 */
function limitFor(kbps) {
  const fixed = Number(process.env.WEBCONF_BWE_LIMIT_KBYTES || 0);
  return fixed > 0 ? fixed : Math.round((kbps / 2 + 60) / 8);
}
/** How long Bob has to step down to the small layers once limited. */
const ADAPT_MS = 25_000;
/** How long the limited, adapted call is watched. */
const SAMPLE_MS = 6_000;
/** The longest gap between two decoded frames allowed once adapted. */
const MAX_GAP_MS = 2_000;
/**
 * The bound for Bob's layers to go back up once the limit is lifted. What it takes: the
 * estimate must climb from ~400 kbit/s to cover a 640-wide layer with 25 % headroom (~1.2
 * Mbit/s for both): str0m's probes (at the desired rate, and every 5 s while application
 * limited) and padding toward the next step; then the step-up pacing (one step per second,
 * none for 4 s after a step down) and a keyframe of the new layer. Measured 5-12 s on an idle
 * 2-core machine (see docs/architecture.md); 20 s leaves room for a loaded one.
 */
const RECOVER_MS = 20_000;

/**
 * Page side: samples, every `intervalMs` for `durationMs` (once if 0), for each participant id,
 * its camera's frame width, decoded frames and bytes, and its microphone's received packets
 * (receivers found by `a=msid:<id> <id>-video|-audio`). Self-contained: it runs in the page.
 * @param {string[]} ids
 * @param {number} durationMs
 * @param {number} intervalMs
 */
function sampleReceiving(ids, durationMs, intervalMs) {
  const read = async () => {
    const pc = /** @type {any} */ (window).webconf?.pc;
    /** @type {Record<string, {width: number, frames: number, videoBytes: number, audioPackets: number}>} */
    const out = {};
    for (const id of ids) out[id] = { width: 0, frames: 0, videoBytes: 0, audioPackets: 0 };
    if (!pc) return out;
    const sdp = pc.currentRemoteDescription?.sdp ?? '';
    /** @type {Map<string, {id: string, kind: string}>} */
    const byMid = new Map();
    for (const section of sdp.split(/\r?\nm=/).slice(1)) {
      const mid = /a=mid:(\S+)/.exec(section)?.[1];
      const msid = /a=msid:(\S+) (\S+)/.exec(section);
      if (!mid || !msid || !ids.includes(msid[1])) continue;
      if (msid[2] === `${msid[1]}-video`) byMid.set(mid, { id: msid[1], kind: 'video' });
      if (msid[2] === `${msid[1]}-audio`) byMid.set(mid, { id: msid[1], kind: 'audio' });
    }
    for (const tr of pc.getTransceivers()) {
      const info = tr.mid ? byMid.get(tr.mid) : undefined;
      if (!info) continue;
      const report = await tr.receiver.getStats();
      report.forEach((s) => {
        if (s.type !== 'inbound-rtp') return;
        const o = out[info.id];
        if (info.kind === 'video') {
          o.width = s.frameWidth ?? 0;
          o.frames += s.framesDecoded ?? 0;
          o.videoBytes += s.bytesReceived ?? 0;
        } else {
          o.audioPackets += s.packetsReceived ?? 0;
        }
      });
    }
    return out;
  };
  return new Promise((resolve) => {
    const samples = [];
    const start = performance.now();
    const tick = async () => {
      samples.push({ t: performance.now(), by: await read() });
      if (performance.now() - start >= durationMs) resolve(samples);
      else setTimeout(tick, intervalMs);
    };
    tick();
  });
}

/** Per id: the longest gap without a new decoded frame, the widths seen, audio packets gained. */
function figures(samples, ids) {
  const first = samples[0];
  const last = samples.at(-1);
  /** @type {Record<string, {longestGapMs: number, widths: number[], frames: number, audioPackets: number, kbps: number}>} */
  const res = {};
  for (const id of ids) {
    let longest = 0;
    let since = first.t;
    const widths = new Set();
    for (let i = 1; i < samples.length; i++) {
      widths.add(samples[i].by[id].width);
      if (samples[i].by[id].frames > samples[i - 1].by[id].frames) {
        longest = Math.max(longest, samples[i].t - since);
        since = samples[i].t;
      }
    }
    longest = Math.max(longest, last.t - since);
    const seconds = (last.t - first.t) / 1000;
    res[id] = {
      longestGapMs: Math.round(longest),
      widths: [...widths].sort((a, b) => a - b),
      frames: last.by[id].frames - first.by[id].frames,
      audioPackets: last.by[id].audioPackets - first.by[id].audioPackets,
      kbps: Math.round(((last.by[id].videoBytes - first.by[id].videoBytes) * 8) / seconds / 1000),
    };
  }
  return res;
}

/** Waits until `page` decodes every id's camera at a width for which `ok` holds; returns ms. */
async function waitWidths(page, ids, ok, what, timeoutMs) {
  const start = Date.now();
  let last = null;
  await waitFor(async () => {
    last = (await page.evaluate(sampleReceiving, ids, 0, 0))[0].by;
    return ids.every((id) => last[id].frames > 0 && ok(last[id].width));
  }, timeoutMs, { interval: 250, message: () => `${page.label} to decode ${what} (last ${safeJson(last)})` });
  return Date.now() - start;
}

// Not yet reliable (docs/architecture.md, "Media policy"): runs and reports as a todo, so it
// does not fail .ci/run, until it passes three times in a row; then remove `todo`.
const TODO = 'bandwidth-driven layers are off by default: under the policer one video climbs back into the limit and freezes';

test('a subscriber on a policed link gets small layers, the others keep large ones, and it recovers', { skip: skip ?? false, todo: skip ? false : TODO, timeout: 240_000 }, async (t) => {
  const diagnostics = new Diagnostics();
  const ns = await createNetns(t);
  const server = await startServer({
    listen: '0.0.0.0:0',
    mediaAddresses: ['127.0.0.1', ns.hostAddr],
    extraToml: [
      // Still in startServer's [media] table (it is the last one before these lines).
      'bandwidth_estimation = true',
      '',
      '[[access.zones]]',
      'name = "internal"',
      'ranges = ["127.0.0.0/8", "::1/128", "198.18.0.0/15"]',
      'agents = true',
    ].join('\n'),
  });
  diagnostics.addServer(server);
  const browserA = await launchChromium('chromium-alice-carol');
  const browserB = await launchChromium('chromium-bob-netns', { executablePath: ns.chromium, pipe: true });
  t.after(async () => {
    await browserA.close();
    await browserB.close();
    await server.stop();
  });
  const step = stepRunner(diagnostics);
  const room = randomRoom('bwe');
  const alice = await step('Alice joins', () => joinRoom(browserA, server, room, 'Alice', { diagnostics })
    .catch((e) => {
      if (!String(e).includes('ERR_NETWORK_CHANGED')) throw e;
      return joinRoom(browserA, server, room, 'Alice', { diagnostics, label: 'Alice (again)' });
    }));
  const carol = await step('Carol joins', () => joinRoom(browserA, server, room, 'Carol', { diagnostics }));
  const bob = await step('Bob joins from his namespace', () =>
    joinRoom(browserB, server, room, 'Bob', { diagnostics, host: ns.hostAddr, label: 'Bob' }));
  await bob.page.setViewport({ width: 1600, height: 1000 });
  const senders = [alice.id, carol.id];

  await step('Alice and Carol pin each other: each decodes the other\'s large layer', async () => {
    await alice.page.click(`.tile[data-participant-id="${carol.id}"] [data-action="pin"]`);
    await carol.page.click(`.tile[data-participant-id="${alice.id}"] [data-action="pin"]`);
    await Promise.all([
      waitWidths(alice.page, [carol.id], (w) => w >= 640, 'Carol\'s large layer', 30_000),
      waitWidths(carol.page, [alice.id], (w) => w >= 640, 'Alice\'s large layer', 30_000),
    ]);
  });

  const unlimitedKbps = await step('unlimited, Bob\'s big tiles get a large layer (≥ 640 wide) of both', async () => {
    await waitWidths(bob.page, senders, (w) => w >= 640, 'a large layer of Alice and Carol', 30_000);
    const s = figures(await bob.page.evaluate(sampleReceiving, senders, 3_000, 200), senders);
    console.log(`unlimited: Bob receives ${safeJson(s)}`);
    return s[alice.id].kbps + s[carol.id].kbps;
  });
  const LIMIT_KBYTES = limitFor(unlimitedKbps);
  await ns.limit(LIMIT_KBYTES);
  const limitedAt = Date.now();
  const adaptMs = await step(`limited to ${LIMIT_KBYTES} kB/s, Bob steps down to the small layers`, () =>
    waitWidths(bob.page, senders, (w) => w > 0 && w <= 320, 'the small layer (≤ 320 wide) of both', ADAPT_MS));
  console.log(`limited to ${LIMIT_KBYTES} kB/s: Bob on the small layers after ${adaptMs} ms`);

  await step('adapted: Bob\'s video from both keeps decoding, small, without freezes; audio flows; Alice and Carol keep the large layer', async () => {
    // Let the switch settle (the keyframes of the small layers, the queued losses).
    await waitFor(async () => Date.now() - limitedAt >= adaptMs + 3_000, 10_000, { interval: 200 });
    const [bobSamples, aliceSamples, carolSamples] = await Promise.all([
      bob.page.evaluate(sampleReceiving, senders, SAMPLE_MS, 100),
      alice.page.evaluate(sampleReceiving, [carol.id], SAMPLE_MS, 250),
      carol.page.evaluate(sampleReceiving, [alice.id], SAMPLE_MS, 250),
    ]);
    const atBob = figures(bobSamples, senders);
    const atAlice = figures(aliceSamples, [carol.id])[carol.id];
    const atCarol = figures(carolSamples, [alice.id])[alice.id];
    console.log(`limited, adapted: Bob receives ${safeJson(atBob)}; Alice receives Carol ${safeJson(atAlice)}; Carol receives Alice ${safeJson(atCarol)}`);
    for (const [id, name] of [[alice.id, 'Alice'], [carol.id, 'Carol']]) {
      const f = atBob[id];
      assert.ok(f.frames > 0, `Bob decodes ${name}'s video while limited: ${safeJson(f)}`);
      assert.ok(f.longestGapMs < MAX_GAP_MS, `no gap of ${MAX_GAP_MS} ms in ${name}'s video at Bob: ${safeJson(f)}`);
      assert.ok(f.widths.every((w) => w > 0 && w <= 320), `${name}'s video stays small at Bob: ${safeJson(f)}`);
      // 50 packets/s of Opus: most of SAMPLE_MS's must arrive.
      assert.ok(f.audioPackets >= (SAMPLE_MS / 1000) * 50 * 0.8, `${name}'s audio flows to Bob: ${safeJson(f)}`);
    }
    for (const [f, what] of [[atAlice, 'Carol at Alice'], [atCarol, 'Alice at Carol']]) {
      assert.ok(f.frames > 0 && f.longestGapMs < MAX_GAP_MS, `${what}: video keeps decoding: ${safeJson(f)}`);
      assert.ok(f.widths.every((w) => w >= 640), `${what}: still the large layer: ${safeJson(f)}`);
    }
  });

  await ns.restore();
  const recoverMs = await step('the limit lifted, Bob\'s layers go back up', () =>
    waitWidths(bob.page, senders, (w) => w >= 640, 'a large layer of both again', RECOVER_MS + 20_000));
  console.log(`limit lifted: Bob back on large layers after ${recoverMs} ms (bound ${RECOVER_MS} ms)`);
  assert.ok(recoverMs <= RECOVER_MS, `back up within ${RECOVER_MS} ms (took ${recoverMs} ms)`);
});
