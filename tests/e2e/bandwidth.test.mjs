// Bandwidth-driven layers under a real bottleneck (issue 6, "Bandwidth estimation" and "A
// subscriber on a poor link never degrades what the others receive"; docs/architecture.md,
// "Media policy"). Needs root: runs only with WEBCONF_NETNS_TESTS=1 (.ci/run sets it).
//
// Alice and Carol (host namespace) publish their cameras in three layers (320, 640 and 1280
// wide; the two small ones capped in bitrate and frame rate, see LAYER_CAPS) and pin each other. Bob runs in his own namespace (tests/e2e/lib/netns.mjs) with a big
// window, so his tiles ask for a large layer (≥ 640 wide) of both. Then Bob's downlink becomes a
// bottleneck of LIMIT_KBIT kbit/s (`tc tbf` on the host end of his veth: a token bucket with a
// 150 ms queue, as a real access link has; tests/e2e/lib/shaper.mjs), between what both small
// layers need and what one large layer would (measured from Alice's and Carol's layers):
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

/** The server's reserve per forwarded microphone, kbit/s (`AUDIO_RESERVE` in alloc.rs). */
const AUDIO_RESERVE = 50;
/** The margin the server wants for a step up (`UP_HEADROOM` in bwe.rs). */
const UP_HEADROOM = 1.25;
/**
 * GCC's estimate behind a full bottleneck swings between about 0.85 of the rate it sees
 * acknowledged (its back-off on overuse) and a little above the link's rate (before the queue's
 * growth is noticed), and counts RTP bytes, a few per cent under the wire's. The link's rate is
 * chosen so that the low end still keeps both small layers and the high end never raises one.
 */
const ESTIMATE_LOW = 0.8;
const ESTIMATE_HIGH = 1.08;

/**
 * Bob's downlink while limited, in kbit/s, unless WEBCONF_BWE_LIMIT_KBIT says: derived from
 * what Alice and Carol really send in each layer (their outbound-rtp by rid), since Chromium's
 * encoder sends its fake camera's layers at rates that vary with the machine's load (320 wide:
 * 100 to 200 kbit/s; 640 wide: 200 to 400). `keep` is the estimate the server needs to keep
 * both small layers (their rates plus two microphones' reserve), `raise` the one at which it
 * would raise one of them to 640 wide (with its headroom); the link's rate sits between
 * `keep / ESTIMATE_LOW` and `raise / ESTIMATE_HIGH`, and the test fails if the layers leave no
 * room for it (the encoder sends the two layers at nearly the same rate: nothing to test).
 * @param {{l: number, m: number}} a  Alice's layer rates, kbit/s.
 * @param {{l: number, m: number}} c  Carol's.
 */
function limitFor(a, c) {
  const fixed = Number(process.env.WEBCONF_BWE_LIMIT_KBIT || 0);
  const keep = a.l + c.l + 2 * AUDIO_RESERVE;
  const raise = Math.min(a.m * UP_HEADROOM + c.l, c.m * UP_HEADROOM + a.l) + 2 * AUDIO_RESERVE;
  const low = keep / ESTIMATE_LOW;
  const high = raise / ESTIMATE_HIGH;
  return { kbit: fixed > 0 ? fixed : Math.round((low + high) / 2), low: Math.round(low), high: Math.round(high) };
}

/**
 * Page side: the rate (kbit/s) of each layer the page's camera sends, by rid, over `durationMs`.
 * @param {number} durationMs
 */
async function sendingLayers(durationMs) {
  const pc = /** @type {any} */ (window).webconf?.pc;
  const read = async () => {
    /** @type {Record<string, number>} */
    const bytes = {};
    if (!pc) return bytes;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video' && s.rid) bytes[s.rid] = s.bytesSent ?? 0;
    });
    return bytes;
  };
  const before = await read();
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  const after = await read();
  const seconds = (performance.now() - start) / 1000;
  /** @type {Record<string, number>} */
  const kbps = {};
  for (const rid of Object.keys(after)) kbps[rid] = Math.round(((after[rid] - (before[rid] ?? 0)) * 8) / seconds / 1000);
  return kbps;
}

/**
 * The most each camera layer may send (bit/s by rid) and at what frame rate, set by this test's
 * pages only (the product leaves Chromium's own allocation): Chromium's fake camera on a loaded
 * machine was measured sending its 320-wide layer at 400-840 kbit/s (more than its 640-wide
 * one), and then no link rate keeps the small layers and refuses a large one. 200 kbit/s is
 * what libwebrtc allots a 320×180 simulcast layer at most; 500 its target for 640×360.
 *
 * The bitrate caps alone are not enough: they hold (getParameters shows them after every
 * renegotiation, and outbound-rtp's targetBitrate for `l` stays at 125-150 kbit/s), but at 20
 * frames/s libvpx overshoots that target on the 320×180 layer, the more so when the loaded
 * machine delivers the fake camera's frames late: measured 195-415 kbit/s on a 2-core machine
 * at load 20 (up to 1.2 Mbit/s at load 30), with `m` at 280-400. At 10 frames/s the same
 * machine sent `l` at 70-140 kbit/s and `m` at 280-390. Chromium encodes the three layers in
 * one libvpx call, so the frame rate set on `l` and `m` was measured on all three (`h` too).
 * The rates are checked again right before the limit is derived from them
 * (`awaitCappedLayers`).
 */
const LAYER_CAPS = { l: 200_000, m: 500_000 };
const LAYER_MAX_FPS = 10;
/** How far over its cap a layer may be measured (the encoder's rate control, a keyframe). */
const CAP_SLACK = 1.25;

/**
 * Page side: caps the camera's simulcast layers at `caps` (bit/s by rid) and `maxFps` frames/s
 * (the capped rids), unless they already are; returns, per video sender with layers, its
 * encodings as getParameters reads them afterwards and whether they had to be (re)applied.
 * @param {Record<string, number>} caps
 * @param {number} maxFps
 */
async function capLayers(caps, maxFps) {
  const pc = /** @type {any} */ (window).webconf?.pc;
  const out = [];
  for (const sender of pc?.getSenders() ?? []) {
    if (sender.track?.kind !== 'video') continue;
    const params = sender.getParameters();
    if (!params.encodings || params.encodings.length < 2) continue;
    const capped = (/** @type {any} */ e) => !e.rid || !caps[e.rid] || (e.maxBitrate === caps[e.rid] && e.maxFramerate === maxFps);
    const applied = !params.encodings.every(capped);
    if (applied) {
      for (const e of params.encodings) {
        if (e.rid && caps[e.rid]) {
          e.maxBitrate = caps[e.rid];
          e.maxFramerate = maxFps;
        }
      }
      await sender.setParameters(params);
    }
    const now = sender.getParameters().encodings;
    out.push({
      applied,
      held: now.every(capped),
      encodings: now.map((/** @type {any} */ e) => ({ rid: e.rid, maxBitrate: e.maxBitrate, maxFramerate: e.maxFramerate })),
    });
  }
  return out;
}

/**
 * Waits until both publishers' capped layers hold their caps (getParameters, re-applied if a
 * renegotiation or anything else dropped them) and their measured rates respect them (within
 * CAP_SLACK), and they leave room for a limit; returns the limit. Measured again for up to
 * `timeoutMs`: an encoder that just adapted to the machine's load sends a burst (a keyframe,
 * a layer restarted). Each try is printed.
 * @param {{page: any}[]} publishers  Alice, Carol.
 * @param {number} timeoutMs
 */
async function awaitCappedLayers(publishers, timeoutMs) {
  const start = Date.now();
  /** @type {string[]} */
  const tries = [];
  for (;;) {
    const params = await Promise.all(publishers.map((p) => p.page.evaluate(capLayers, LAYER_CAPS, LAYER_MAX_FPS)));
    const rates = await Promise.all(publishers.map((p) => p.page.evaluate(sendingLayers, 3_000)));
    const [a, c] = rates;
    const found = limitFor(a, c);
    const held = params.every((senders) => senders.length > 0 && senders.every((s) => s.held));
    const respected = rates.every((r) => Object.entries(LAYER_CAPS).every(([rid, cap]) => (r[rid] ?? 0) * 1000 <= cap * CAP_SLACK));
    const line = `Alice sends ${safeJson(a)}, Carol ${safeJson(c)} (kbit/s by rid; caps ${held ? 'held' : 'NOT held'}${params.flat().some((s) => s.applied) ? ', (re)applied' : ''}): ${safeJson(found)}`;
    tries.push(line);
    console.log(`unlimited: ${line}`);
    if (held && respected && found.low < found.high) return found;
    if (Date.now() - start > timeoutMs) {
      const last = safeJson(params);
      throw new Error(`the capped layers (${safeJson(LAYER_CAPS)} bit/s, ${LAYER_MAX_FPS} frames/s) must hold their caps, be sent within ${CAP_SLACK}× of them and leave room for a limit between keeping the small ones and raising one; after ${tries.length} tries: ${tries.join('; ')}; encodings ${last}`);
    }
  }
}

/** How long the capped layers may take to be sent within their caps. */
const CAPS_MS = 30_000;
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
 * (receivers found by `a=msid:<id> <id>-video|-audio`, microphone and camera slots by `window.webconf.slots`).
 * Self-contained: it runs in the page.
 * @param {string[]} ids
 * @param {number} durationMs
 * @param {number} intervalMs
 */
function sampleReceiving(ids, durationMs, intervalMs) {
  const read = async () => {
    const pc = /** @type {any} */ (window).webconf?.pc;
    /** @type {Record<string, {width: number, frames: number, videoBytes: number, audioPackets: number, lost: number, nacks: number, freezes: number}>} */
    const out = {};
    for (const id of ids) out[id] = { width: 0, frames: 0, videoBytes: 0, audioPackets: 0, lost: 0, nacks: 0, freezes: 0 };
    if (!pc) return out;
    const sdp = pc.currentRemoteDescription?.sdp ?? '';
    /** @type {Map<string, {id: string, kind: string}>} */
    const byMid = new Map();
    for (const section of sdp.split(/\r?\nm=/).slice(1)) {
      const mid = /a=mid:(\S+)/.exec(section)?.[1];
      const msid = /a=msid:(\S+) (\S+)/.exec(section);
      if (mid && msid && msid[1] === 'slots') {
        // A microphone or camera slot: the participant it carries now.
        const who = /** @type {any} */ (window).webconf?.slots?.[mid];
        const kind = msid[2].startsWith('slot-video-') ? 'video' : 'audio';
        if (who && ids.includes(who)) byMid.set(mid, { id: who, kind });
        continue;
      }
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
          o.lost += s.packetsLost ?? 0;
          o.nacks += s.nackCount ?? 0;
          o.freezes += s.freezeCount ?? 0;
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
  /** @type {Record<string, {longestGapMs: number, widths: number[], frames: number, audioPackets: number, kbps: number, lost: number, nacks: number, freezes: number}>} */
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
      // Video packets lost (after retransmissions), NACKs sent, freezes (Chromium's count).
      lost: last.by[id].lost - first.by[id].lost,
      nacks: last.by[id].nacks - first.by[id].nacks,
      freezes: last.by[id].freezes - first.by[id].freezes,
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

// Not yet reliable (docs/architecture.md, "Media policy"): it passed 5 runs in a row beside
// the helper's work and one fresh-clone CI run, then failed the next CI run (29 November): at
// a 677 kbit/s limit one of Alice's videos at Bob climbed back to 640 wide into the limit
// (widths [320, 640], 22 packets lost, a 607 ms gap). With the layers capped in frame rate too
// and checked right before the limit is derived (29 November, later; 15 runs, 10 at 10 and 5 at
// 15 frames/s, load average 3 to 7), the layers left room for a limit in every run, on the
// first measurement, but the limited phase failed 7 of them: in 3 one of Bob's videos was not
// decoded at all for the 6 s watched (0-3 kbit/s received, once with 81 NACKs), in 3 one climbed
// back to 640 wide into the limit (13-22 packets lost), in 1 a 2058 ms gap (12 lost). Two more
// runs with a busy loop beside them (load average 10-13): the precondition held again, and the
// limited phase failed both (a 3026 ms gap; a video not decoded for 6 s). Bob's link
// lost packets in most passing runs too. With the allocation logged, one failing run showed
// the chain: after the step down, a step up on the hold's highest estimate (443 kbit/s on a
// 424 kbit/s link) raised one video to 640 wide, the queue overflowed, and the estimate then
// fell to 250 kbit/s and paused the other video (docs/architecture.md). Runs and reports as a todo, so it does not fail
// .ci/run, until it passes reliably; then remove `todo`.
const TODO = 'bandwidth-driven layers are off by default: under the shaped link one video sometimes stalls or climbs back into the limit';

test('a subscriber on a bottleneck link gets small layers, the others keep large ones, and it recovers', { skip: skip ?? false, todo: skip ? false : TODO, timeout: 240_000 }, async (t) => {
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

  await step('Alice and Carol cap their small layers (this test only)', async () => {
    for (const who of [alice, carol]) {
      await waitFor(async () => (await who.page.evaluate(capLayers, LAYER_CAPS, LAYER_MAX_FPS)).length > 0, 15_000, {
        interval: 250,
        message: () => `${who.page.label}'s camera to publish its layers`,
      });
    }
  });

  await step('Alice and Carol pin each other: each decodes the other\'s large layer', async () => {
    await alice.page.click(`.tile[data-participant-id="${carol.id}"] [data-action="pin"]`);
    await carol.page.click(`.tile[data-participant-id="${alice.id}"] [data-action="pin"]`);
    await Promise.all([
      waitWidths(alice.page, [carol.id], (w) => w >= 640, 'Carol\'s large layer', 30_000),
      waitWidths(carol.page, [alice.id], (w) => w >= 640, 'Alice\'s large layer', 30_000),
    ]);
  });

  const limit = await step('unlimited, Bob\'s big tiles get a large layer (≥ 640 wide) of both', async () => {
    await waitWidths(bob.page, senders, (w) => w >= 640, 'a large layer of Alice and Carol', 30_000);
    const s = figures(await bob.page.evaluate(sampleReceiving, senders, 3_000, 200), senders);
    console.log(`unlimited: Bob receives ${safeJson(s)}`);
    // The caps checked again (and the encoder's rates against them) right before the limit
    // is derived from the rates.
    return awaitCappedLayers([alice, carol], CAPS_MS);
  });
  assert.ok(limit.low < limit.high, `the layers leave room for a limit between keeping the small ones and raising one: ${safeJson(limit)}`);
  const LIMIT_KBIT = limit.kbit;
  await ns.shape({ kbitPerSecond: LIMIT_KBIT });
  const limitedAt = Date.now();
  const adaptMs = await step(`limited to ${LIMIT_KBIT} kbit/s, Bob steps down to the small layers`, () =>
    waitWidths(bob.page, senders, (w) => w > 0 && w <= 320, 'the small layer (≤ 320 wide) of both', ADAPT_MS));
  console.log(`limited to ${LIMIT_KBIT} kbit/s (${safeJson(limit)}): Bob on the small layers after ${adaptMs} ms`);

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
