// Last-N through the real binary and headless Chromium (issue 6; docs/protocol.md, "Cameras
// outside last-N"; docs/configuration.md, `media.last_n`): with `last_n = 2` and four
// participants publishing their fake camera, Dave receives two of the three other cameras.
//   - the two inside his last-N show moving video (frames decoded grow, per track, and the
//     tile says `data-video="on"`, no avatar);
//   - the one outside gets no frames: its tile shows the avatar and name
//     (`data-video-paused="true"`, `data-video="off"`, `.avatar` displayed);
//   - Dave pins that one with the tile's pin button: its video comes back (frames grow, avatar
//     hidden) and one of the two others goes to its avatar instead; unpinned, two cameras again.
//   - the connection indicators (web/js/ui/connindicator.js): the avatar-only participant's
//     microphone still comes in a microphone slot (the audio last-N is 5, and there are three
//     others), so Dave, a moderator, mutes it ("a microphone a moderator blocked takes no
//     place"): then the server forwards nothing of theirs, both camera slots carry the others,
//     and their tile says `idle` ("not received: only the most active participants' audio and
//     video are sent to you"), never `lost`; the tiles receiving video do not say `idle`, nor
//     does an avatar whose microphone comes in a slot.
//   - the one outside at the end turns its own microphone off (the toolbar: `media_state`
//     audio false; its browser keeps the audio m-line and sends silence): the server gives it
//     no microphone slot any more, and Dave's indicator of it says `idle`, never `lost`.
//   - one of the two inside turns its camera off (`media_state` video false; its browser goes on
//     sending black frames): the server gives it no place in the last-N, and the camera that
//     was outside comes in.
//
// Which two are inside last-N is not assumed: the server puts the latest speakers first, and
// Chromium's fake microphones beep. The test reads it from Dave's page and checks that exactly
// two flow. Four pages of one browser; every wait polls with generous timeouts (two cores,
// four 1280×720 simulcast encoders).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Diagnostics,
  joinRoom,
  launchChromium,
  randomRoom,
  safeJson,
  startServer,
  stepper,
  waitFor,
} from './harness.mjs';

const LAST_N = 2;
const diagnostics = new Diagnostics();
let server;
let browser;

before(async () => {
  // Appended to the [media] table.
  server = await startServer({ extraToml: `last_n = ${LAST_N}` });
  diagnostics.addServer(server);
  browser = await launchChromium('chromium-lastn');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/**
 * Page side: for each id, the decoded frames of that participant's camera (the receiver whose
 * `a=msid` track id is `<id>-video`, or the camera slot `a=msid:slots slot-video-<n>` that
 * carries it now by `window.webconf.slots`), the track's `muted`, and what its tile shows. A
 * slot's frames are the slot's since it opened, whoever it carried before.
 * @param {string[]} ids
 */
async function cameras(ids) {
  const pc = /** @type {any} */ (window).webconf.pc;
  const slots = /** @type {any} */ (window).webconf.slots ?? {};
  const sdp = pc?.currentRemoteDescription?.sdp ?? '';
  const sections = sdp.split(/\r?\nm=/);
  /** @type {Record<string, any>} */
  const out = {};
  for (const id of ids) {
    const tile = document.querySelector(`#tiles .tile[data-participant-id="${id}"]`);
    const avatar = tile?.querySelector('.avatar');
    const video = tile?.querySelector('video');
    const entry = {
      frames: -1,
      muted: null,
      tileVideo: tile?.getAttribute('data-video') ?? null,
      paused: tile?.getAttribute('data-video-paused') === 'true',
      avatarShown: avatar instanceof HTMLElement && getComputedStyle(avatar).display !== 'none',
      videoVisible: video instanceof HTMLElement && getComputedStyle(video).visibility !== 'hidden',
      name: tile?.querySelector('.tile-name')?.textContent ?? null,
    };
    for (const tr of pc ? pc.getTransceivers() : []) {
      if (!tr.mid) continue;
      const section = sections.find((s) => new RegExp(`\\na=mid:${tr.mid}\\r?\\n`).test(`\n${s}`));
      const slot = /\na=msid:slots slot-video-\d+/.test(section ?? '') && slots[tr.mid] === id;
      if (!section || !(slot || section.includes(`a=msid:${id} ${id}-video`))) continue;
      entry.muted = tr.receiver.track.muted;
      const report = await tr.receiver.getStats();
      report.forEach((s) => {
        if (s.type === 'inbound-rtp') entry.frames = s.framesDecoded ?? 0;
      });
    }
    out[id] = entry;
  }
  return out;
}

/** Dave mutes `id` as a moderator (participants panel, the participant's menu), then closes
 * the panel. */
async function muteAsModerator(page, id) {
  const row = `#participants-panel li[data-participant-id="${id}"]`;
  await page.click('#toggle-participants');
  await page.waitForSelector(`${row} .participant-more`, { visible: true, timeout: 5000 });
  await page.click(`${row} .participant-more`);
  await page.waitForSelector(`${row} [data-action="mute"]`, { visible: true, timeout: 5000 });
  await page.click(`${row} [data-action="mute"]`);
  await page.click('#toggle-participants');
}

/** Page side: the participants the latest `slots` table names (`window.webconf.slots`). */
function slotted() {
  return Object.values(/** @type {any} */ (window).webconf.slots ?? {}).filter(Boolean);
}

/** Page side: the participants the latest `slots` table names in a camera slot (an m-line
 * `a=msid:slots slot-video-<n>`). */
function cameraSlotted() {
  const w = /** @type {any} */ (window).webconf;
  const sdp = w.pc?.currentRemoteDescription?.sdp ?? '';
  return sdp.split(/\r?\nm=/)
    .filter((section) => /\na=msid:slots slot-video-\d+/.test(section))
    .map((section) => /\na=mid:(\S+)/.exec(`\n${section}`)?.[1])
    .map((mid) => (mid ? w.slots?.[mid] : null))
    .filter(Boolean);
}

/**
 * Page side: the connection indicator of each tile of `ids`: its `data-quality` and
 * `aria-label` (null without a tile or an indicator).
 * @param {string[]} ids
 */
function indicators(ids) {
  /** @type {Record<string, {quality: string | null, label: string | null} | null>} */
  const out = {};
  for (const id of ids) {
    const button = document.querySelector(`#tiles .tile[data-participant-id="${id}"] .conn-indicator`);
    out[id] = button instanceof HTMLElement
      ? { quality: button.dataset.quality ?? null, label: button.getAttribute('aria-label') }
      : null;
  }
  return out;
}

const RECEIVING = ['good', 'fair', 'poor'];
/** The idle label, in either language. */
const IDLE_LABEL = /most active participants|participants les plus actifs/;

/**
 * Polls Dave's page until the indicator of each id of `want` has one of the qualities listed
 * for it (the indicators refresh every 2 s). Returns what they show.
 * @param {Record<string, string[]>} want
 */
async function expectIndicators(page, want, what, timeoutMs = 20000) {
  let last = null;
  await waitFor(async () => {
    last = await page.evaluate(indicators, Object.keys(want));
    return Object.entries(want).every(([id, ok]) => last[id] && ok.includes(last[id].quality));
  }, timeoutMs, { interval: 500, message: () => `${page.label}: ${what}; last ${safeJson(last)}` });
  return last;
}

/**
 * Polls Dave's page until the cameras of `ids` split into "flowing" (frames decoded grew over
 * the last ~1.5 s and the tile shows the video) and "avatar" (no new frame over the last ~3 s and
 * the tile shows the avatar), and `accept({flowing, avatar})` holds. Returns that split.
 */
async function expectSplit(page, ids, accept, what, timeoutMs = 45000) {
  /** @type {Array<{at: number, cams: Record<string, any>}>} */
  const history = [];
  let split = null;
  await waitFor(async () => {
    const now = Date.now();
    history.push({ at: now, cams: await page.evaluate(cameras, ids) });
    while (history.length > 1 && now - history[0].at > 6000) history.shift();
    const latest = history[history.length - 1].cams;
    const olderThan = (ms) => [...history].reverse().find((h) => now - h.at >= ms)?.cams;
    const before15 = olderThan(1500);
    const before3 = olderThan(3000);
    if (!before15 || !before3) return false;
    const flowing = [];
    const avatar = [];
    for (const id of ids) {
      const c = latest[id];
      if (c.frames > before15[id].frames && c.frames > 0 && c.tileVideo === 'on' && !c.avatarShown && c.videoVisible) {
        flowing.push(id);
      } else if (c.frames === before3[id].frames && c.paused && c.tileVideo === 'off' && c.avatarShown && c.name) {
        avatar.push(id);
      }
    }
    split = { flowing, avatar };
    return flowing.length + avatar.length === ids.length && accept(split) ? split : false;
  }, timeoutMs, {
    interval: 500,
    message: () => `${page.label}: ${what}; last split ${safeJson(split)}; last samples ${safeJson(history.slice(-2))}`,
  });
  return split;
}

test(`last-N = ${LAST_N}: cameras outside it show the avatar, a pin brings one back`, async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('lastn');
  const members = [];
  let dave;
  let others;
  let split;
  /** The participant Dave mutes (outside the last-N then). */
  let muted;

  await step('four participants join with their cameras', async () => {
    for (const name of ['Alice', 'Bob', 'Carol', 'Dave']) {
      members.push(await joinRoom(browser, server, room, name, { diagnostics, timeoutMs: 60000 }));
    }
    dave = members[3];
    others = members.slice(0, 3).map((m) => m.id);
    await waitFor(async () => (await dave.page.evaluate(
      (ids) => ids.every((id) => document.querySelector(`#tiles .tile[data-participant-id="${id}"]`)), others)),
    20000, { message: 'Dave to show a tile for each of the three others' });
  });

  await step(`Dave receives ${LAST_N} cameras; the third shows its avatar and name`, async () => {
    split = await expectSplit(dave.page, others, (s) => s.flowing.length === LAST_N,
      `${LAST_N} cameras moving and ${others.length - LAST_N} avatar`);
    assert.equal(split.avatar.length, others.length - LAST_N, safeJson(split));
    const outside = split.avatar[0];
    const name = members.find((m) => m.id === outside).name;
    const shown = await dave.page.evaluate(cameras, [outside]);
    assert.equal(shown[outside].name, name, `the avatar's tile is named: ${safeJson(shown)}`);
  });

  await step('its microphone in a slot, the avatar-only tile\'s indicator is not idle', async () => {
    const outside = split.avatar[0];
    assert.ok((await dave.page.evaluate(slotted)).includes(outside), 'a microphone slot carries the one outside');
    await expectIndicators(dave.page, { [outside]: RECEIVING }, 'the avatar tile good, fair or poor (its microphone comes)');
  });

  await step('Dave mutes it: nothing of theirs is forwarded, its indicator says idle, not lost; the video tiles\' do not', async () => {
    const outside = split.avatar[0];
    muted = outside;
    await muteAsModerator(dave.page, outside);
    await waitFor(async () => !(await dave.page.evaluate(slotted)).includes(outside), 20000,
      { message: () => `Dave's slots table to name ${outside} nowhere once muted` });
    const shown = await expectIndicators(dave.page,
      Object.fromEntries([[outside, ['idle']], ...split.flowing.map((id) => [id, RECEIVING])]),
      'the avatar tile\'s indicator idle, the two video tiles\' good, fair or poor');
    assert.match(shown[outside].label, IDLE_LABEL, safeJson(shown));
    assert.doesNotMatch(shown[outside].label, /\blost\b|perdue/, safeJson(shown));
    const now = await dave.page.evaluate(cameras, [outside]);
    assert.ok(now[outside].avatarShown, `still on its avatar: ${safeJson(now)}`);
  });

  await step('Dave pins the avatar-only participant: its video comes back, another goes to avatar', async () => {
    const target = split.avatar[0];
    const before = split;
    await dave.page.click(`#tiles .tile[data-participant-id="${target}"] [data-action="pin"]`);
    const pressed = await dave.page.$eval(`#tiles .tile[data-participant-id="${target}"] [data-action="pin"]`,
      (b) => b.getAttribute('aria-pressed'));
    assert.equal(pressed, 'true');
    await waitFor(async () => {
      const view = await dave.page.evaluate(() => /** @type {any} */ (window).webconf.view);
      return view?.tiles.some((x) => x.participant === target && !x.screen && x.pinned);
    }, 10000, { message: 'Dave\'s view to say the pinned camera is pinned' });
    split = await expectSplit(dave.page, others,
      (s) => s.flowing.length === LAST_N && s.flowing.includes(target),
      `the pinned camera (${target}) moving again and one of ${safeJson(before.flowing)} on its avatar`);
    assert.equal(split.avatar.length, 1, safeJson(split));
    assert.ok(before.flowing.includes(split.avatar[0]), `the one now outside was inside before: ${safeJson({ before, split })}`);
    // The pinned one's video comes in a slot now (its microphone still muted); the one now on
    // its avatar still has its microphone in a slot: neither is idle (nor lost: bytes come).
    await expectIndicators(dave.page, { [target]: RECEIVING, [split.avatar[0]]: RECEIVING },
      `the pinned tile and the new avatar (its microphone forwarded) good, fair or poor, not idle`);
  });

  await step('unpinned: still two cameras moving and one avatar', async () => {
    const pinned = await dave.page.$$eval('#tiles .tile [data-action="pin"][aria-pressed="true"]',
      (bs) => bs.map((b) => b.closest('.tile')?.getAttribute('data-participant-id')));
    assert.equal(pinned.length, 1, safeJson(pinned));
    await dave.page.click(`#tiles .tile[data-participant-id="${pinned[0]}"] [data-action="pin"]`);
    split = await expectSplit(dave.page, others, (s) => s.flowing.length === LAST_N,
      `${LAST_N} cameras moving and one avatar after unpinning`);
    if (split.avatar[0] === muted) {
      await expectIndicators(dave.page, { [muted]: ['idle'] }, 'the muted one outside again: idle again');
    }
  });

  await step('the one outside turns its own microphone off: no slot carries it, its indicator says idle, never lost', async () => {
    const outside = split.avatar[0];
    const member = members.find((m) => m.id === outside);
    const micOff = () => member.page.$eval('#toggle-mic', (b) => b.getAttribute('aria-pressed') === 'true');
    if (await micOff()) {
      // Dave muted it before: it turns its microphone on again (which lifts the moderator's
      // block), and a microphone slot carries it again at once.
      await member.page.click('#toggle-mic');
      await waitFor(async () => !(await micOff()), 5000, { message: `${member.label}: its microphone on` });
    }
    await waitFor(async () => (await dave.page.evaluate(slotted)).includes(outside), 20000,
      { message: () => `Dave's slots table to name ${outside}, its microphone on` });
    await expectIndicators(dave.page, { [outside]: RECEIVING }, 'the avatar tile good, fair or poor (its microphone comes)');

    // Off by its own hand (`media_state` audio false, no moderator): its browser keeps the
    // audio m-line, yet the server gives it no slot, and Dave's page says idle from the first
    // refresh on: never lost (nor a figure of its silence), sampled until idle held 6 s.
    await member.page.click('#toggle-mic');
    await waitFor(micOff, 5000, { message: `${member.label}: its microphone off` });
    /** @type {Array<string | null>} */
    const seen = [];
    let idleSince = 0;
    await waitFor(async () => {
      const q = (await dave.page.evaluate(indicators, [outside]))[outside]?.quality ?? null;
      seen.push(q);
      if (q !== 'idle') idleSince = 0;
      else if (!idleSince) idleSince = Date.now();
      return idleSince && Date.now() - idleSince >= 6000;
    }, 30000, { interval: 300, message: () => `Dave's indicator of ${outside} idle for 6 s; seen ${safeJson(seen)}` });
    assert.ok(!seen.includes('lost'), `never lost once its microphone is off: ${safeJson(seen)}`);
    // Once idle, it stays idle (before it: the refreshes that had not seen the change yet).
    assert.ok(seen.slice(seen.indexOf('idle')).every((q) => q === 'idle'), safeJson(seen));
    assert.ok(!(await dave.page.evaluate(slotted)).includes(outside),
      `no slot of Dave's carries a microphone that is off: ${safeJson(await dave.page.evaluate(() => /** @type {any} */ (window).webconf.slots))}`);
    const shown = await dave.page.evaluate(indicators, [outside]);
    assert.match(shown[outside]?.label ?? '', IDLE_LABEL, safeJson(shown));
  });

  await step('one of the two inside turns its camera off: it takes no place, the one outside comes in', async () => {
    // Its browser disables the track (`media_state` video false) and goes on sending black
    // frames; the server gives that camera no place in the last-N, so Dave's second camera
    // slot goes to the camera that was outside.
    const outside = split.avatar[0];
    const off = split.flowing[0];
    const stays = split.flowing[1];
    const member = members.find((m) => m.id === off);
    const cameraOff = () => member.page.$eval('#toggle-camera', (b) => b.getAttribute('aria-pressed') === 'true');
    assert.equal(await cameraOff(), false, `${member.label}: its camera on before`);
    await member.page.click('#toggle-camera');
    await waitFor(cameraOff, 5000, { message: `${member.label}: its camera off` });
    await waitFor(async () => {
      const names = await dave.page.evaluate(cameraSlotted);
      return names.includes(outside) && !names.includes(off);
    }, 20000, { message: () => `Dave's slots table to carry ${outside}'s camera, not ${off}'s` });
    /** Frames decoded of each camera over ~2 s, sampled twice. */
    let grew = null;
    await waitFor(async () => {
      const a = await dave.page.evaluate(cameras, [outside, off, stays]);
      await new Promise((r) => setTimeout(r, 2000));
      const b = await dave.page.evaluate(cameras, [outside, off, stays]);
      grew = Object.fromEntries([outside, off, stays].map((id) => [id, b[id].frames - a[id].frames]));
      return grew[outside] > 5 && grew[stays] > 5 && grew[off] <= 0 ? grew : false;
    }, 30000, { interval: 500, message: () => `Dave to decode ${outside}'s and ${stays}'s cameras and none of ${off}'s; frames grew ${safeJson(grew)}` });
  });
});
