// The meeting's controls through the real binary, real headless Chromium (fake camera and
// microphone) and a real SMTP server: chat, raised hands, reactions, moderation (mute, camera
// off, promote, remove, end for all), room passwords, invitations by e-mail, and the server's
// refusal of every moderator message from a guest. Each step asserts what the OTHER
// participants observe: their DOM, their `window.webconf`, their WebRTC statistics.
//
// One server listens dual-stack. Its only agent zone is 127.0.0.0/8: a page opened at
// https://127.0.0.1:PORT is a State agent's (a moderator), one at https://[::1]:PORT an internet
// guest's. Pages are in French (`?lang=fr`), the reference language.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fr from '../../web/js/i18n/fr.js';
import {
  connectSignaling,
  Diagnostics,
  expectMediaStopped,
  expectRoster,
  httpGet,
  joinRoom,
  launchChromium,
  mediaStats,
  openPage,
  pageState,
  randomRoom,
  safeJson,
  sleep,
  startServer,
  startSmtp,
  stepper,
  waitFor,
  waitForMediaFlowing,
  waitForState,
} from './harness.mjs';

const AGENT = '127.0.0.1';
const GUEST = '[::1]';
const LANG = '&lang=fr';

const diagnostics = new Diagnostics();
let smtp;
let server;
/** State agents' pages (127.0.0.1). */
let agentBrowser;
/** Internet guests' pages ([::1]). */
let guestBrowser;

before(async () => {
  smtp = await startSmtp();
  diagnostics.add('smtp server', (n) => smtp.tail(n));
  server = await startServer({
    listen: '[::]:0',
    mediaAddresses: ['127.0.0.1', '::1'],
    extraToml: [
      '[[access.zones]]',
      'name = "internal"',
      'ranges = ["127.0.0.0/8"]',
      'agents = true',
      '',
      '[mail]',
      `smtp_host = ${JSON.stringify(smtp.host)}`,
      `smtp_port = ${smtp.port}`,
      'smtp_tls = "none"',
      '',
    ].join('\n'),
  });
  diagnostics.addServer(server);
  [agentBrowser, guestBrowser] = await Promise.all([launchChromium('chromium-agents'), launchChromium('chromium-guests')]);
});

after(async () => {
  await agentBrowser?.close();
  await guestBrowser?.close();
  await server?.stop();
  await smtp?.stop();
});

// ---------------------------------------------------------------------------------------------
// Helpers

/** An agent (moderator) joins `room`. */
function agentJoins(room, name, label) {
  return joinRoom(agentBrowser, server, room, name, { label, diagnostics, host: AGENT, query: LANG, timeoutMs: 60000 });
}

/** An internet guest joins `room` (open, not protected). */
function guestJoins(room, name, label) {
  return joinRoom(guestBrowser, server, room, name, { label, diagnostics, host: GUEST, query: LANG, timeoutMs: 60000 });
}

/** The controls' test hooks of a page. */
function hooks(page) {
  return page.evaluate(() => {
    const w = /** @type {any} */ (window).webconf;
    return { role: w.role, chat: w.chat, hands: w.hands, locked: w.locked, participants: w.participants };
  });
}

/** Waits until `selector` is shown, then clicks it. */
async function click(page, selector, timeout = 5000) {
  await page.waitForSelector(selector, { visible: true, timeout });
  await page.click(selector);
}

/** Clears a field and types `text` into it. */
async function typeInto(page, selector, text) {
  await page.waitForSelector(selector, { visible: true, timeout: 5000 });
  await page.$eval(selector, (el) => {
    /** @type {HTMLInputElement} */ (el).value = '';
  });
  await page.type(selector, text);
}

/** Whether `selector` exists and is shown. */
function isShown(page, selector) {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    return !!el && !el.closest('[hidden]') && el.getClientRects().length > 0;
  }, selector);
}

function attr(page, selector, name) {
  return page.evaluate((sel, n) => document.querySelector(sel)?.getAttribute(n) ?? null, selector, name);
}

/** Opens the participants panel (if closed) and a participant's moderator menu, clicks `action`. */
async function moderate(page, targetId, action) {
  if (!(await isShown(page, '#participants-panel'))) await click(page, '#toggle-participants');
  const row = `#participants-panel li[data-participant-id="${targetId}"]`;
  if ((await attr(page, `${row} .participant-more`, 'aria-expanded')) !== 'true') await click(page, `${row} .participant-more`);
  await click(page, `${row} [data-action="${action}"]`);
}

/** `data-hand` of every tile of a page, by participant id. */
function tileHands(page) {
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#tiles .tile')].map((el) => [
    el.getAttribute('data-participant-id'), el.getAttribute('data-hand'),
  ])));
}

/** Audio packets and decoded video frames of `id` as `page` receives them. */
async function inbound(page, id) {
  const { byParticipant } = await mediaStats(page);
  const e = byParticipant[id] || {};
  return { audio: e.audio ? e.audio.packetsReceived : 0, samples: e.audio?.totalSamplesReceived, frames: e.video ? e.video.framesDecoded || 0 : 0 };
}

/**
 * Asserts that `page` stops receiving `id`'s microphone while its camera keeps coming: audio
 * packets stay the same over two samples `windowMs` apart, video frames grow.
 */
async function expectAudioStopped(page, id, { label = page.label, timeoutMs = 20000, windowMs = 1000 } = {}) {
  const history = [];
  const start = Date.now();
  let prev = await inbound(page, id);
  history.push(prev);
  for (;;) {
    await sleep(windowMs);
    const now = await inbound(page, id);
    history.push(now);
    if (now.audio === prev.audio && now.frames > prev.frames) return;
    if (Date.now() - start > timeoutMs) {
      throw new Error(`${label}: audio of ${id} did not stop while its video kept flowing; samples: ${safeJson(history)}`);
    }
    prev = now;
  }
}

/** Asserts that `page` stops receiving `id`'s camera (no new frames, no new video packets). */
async function expectVideoStopped(page, id, { label = page.label, timeoutMs = 20000, windowMs = 1000 } = {}) {
  const history = [];
  const start = Date.now();
  const video = async () => {
    const { byParticipant } = await mediaStats(page);
    const v = byParticipant[id]?.video;
    return { packets: v ? v.packetsReceived : 0, frames: v ? v.framesDecoded || 0 : 0 };
  };
  let prev = await video();
  for (;;) {
    await sleep(windowMs);
    const now = await video();
    history.push(now);
    if (now.packets === prev.packets && now.frames === prev.frames) return;
    if (Date.now() - start > timeoutMs) throw new Error(`${label}: video of ${id} kept flowing; samples: ${safeJson(history)}`);
    prev = now;
  }
}

async function closeAll(...members) {
  for (const m of members) await m?.page?.close().catch(() => {});
}

// ---------------------------------------------------------------------------------------------
// 1 and 2: chat, raised hands, reactions, shortcuts

test('chat (public, private, unread), raised hands in order, reactions', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('chat');
  let a;
  let b;
  let c;

  await step('a moderator and two guests are in the room', async () => {
    a = await agentJoins(room, 'Agathe Agent', 'A (agent)');
    b = await guestJoins(room, 'Bruno Invité', 'B (guest)');
    c = await guestJoins(room, 'Chloé Invitée', 'C (guest)');
    await Promise.all([expectRoster(a, [b, c]), expectRoster(b, [a, c]), expectRoster(c, [a, b])]);
  });

  const publicText = 'Bonjour à tous <b>pas du gras</b> & <img src=x onerror=alert(1)>';
  await step('a public message reaches everyone, as text; the closed panels count it unread', async () => {
    await click(a.page, '#toggle-chat');
    assert.equal(await attr(a.page, '#chat-input', 'maxlength'), '2000', 'the chat input is not limited to 2000 characters');
    await typeInto(a.page, '#chat-input', publicText);
    await click(a.page, '#chat-send');
    for (const m of [a, b, c]) {
      await waitFor(async () => (await hooks(m.page)).chat.some((x) => x.text === publicText), 5000, {
        message: `${m.label} to receive the public message in window.webconf.chat`,
      });
      const got = (await hooks(m.page)).chat.find((x) => x.text === publicText);
      assert.deepEqual(got, { from: a.id, name: 'Agathe Agent', text: publicText, private: false, to: null }, `${m.label}: ${safeJson(got)}`);
      const dom = await m.page.evaluate(() => ({
        texts: [...document.querySelectorAll('#chat-messages .chat-text')].map((el) => el.textContent),
        markup: document.querySelectorAll('#chat-messages b, #chat-messages img').length,
      }));
      assert.deepEqual(dom, { texts: [publicText], markup: 0 }, `${m.label}: the message is not shown as plain text`);
    }
    for (const m of [b, c]) {
      assert.ok(await isShown(m.page, '#chat-unread'), `${m.label}: no unread counter on #toggle-chat`);
      assert.equal(await m.page.$eval('#chat-unread', (el) => el.textContent), '1', `${m.label}: unread counter`);
    }
    assert.equal(await isShown(a.page, '#chat-unread'), false, 'the sender (panel open) shows an unread counter');
  });

  await step('opening the chat (with the C key) clears the unread counter', async () => {
    await b.page.click('#toggle-chat');
    await c.page.evaluate(() => /** @type {HTMLElement} */ (document.activeElement)?.blur());
    await c.page.keyboard.press('c');
    for (const m of [b, c]) {
      await waitFor(() => isShown(m.page, '#chat-panel'), 3000, { message: `${m.label}: #chat-panel to open` });
      assert.equal(await isShown(m.page, '#chat-unread'), false, `${m.label}: the unread counter stays after opening the chat`);
      assert.equal(await attr(m.page, '#toggle-chat', 'aria-expanded'), 'true');
    }
    // Typing a "c" in the chat field is text, not a shortcut.
    await c.page.focus('#chat-input');
    await c.page.keyboard.type('c');
    assert.ok(await isShown(c.page, '#chat-panel'), 'typing "c" in the chat field closed the chat');
    await c.page.$eval('#chat-input', (el) => { /** @type {HTMLTextAreaElement} */ (el).value = ''; });
  });

  const secret = 'Message privé pour Bruno seulement';
  await step('a private message reaches its recipient and its sender, not the third participant', async () => {
    await waitFor(() => a.page.evaluate((id) => [...document.querySelectorAll('#chat-to option')].some((o) => o.value === id), b.id), 3000, {
      message: 'B in the recipient list (#chat-to) of A',
    });
    await a.page.select('#chat-to', b.id);
    await typeInto(a.page, '#chat-input', secret);
    await a.page.keyboard.press('Enter');
    const want = { from: a.id, name: 'Agathe Agent', text: secret, private: true, to: b.id };
    for (const m of [b, a]) {
      await waitFor(async () => (await hooks(m.page)).chat.some((x) => x.text === secret), 5000, { message: `${m.label} to receive the private message` });
      assert.deepEqual((await hooks(m.page)).chat.find((x) => x.text === secret), want);
    }
    const marked = await b.page.evaluate((text) => {
      const item = [...document.querySelectorAll('#chat-messages .chat-message')].find((li) => li.querySelector('.chat-text')?.textContent === text);
      return item ? { private: item.getAttribute('data-private'), marker: item.querySelector('.chat-private')?.textContent ?? null } : null;
    }, secret);
    assert.deepEqual(marked, { private: 'true', marker: fr['chat.privateFrom'] }, 'B does not show the message as private');
    // A public message sent after it is the barrier: once C has it, the server has dealt with
    // the private one.
    await a.page.select('#chat-to', '');
    await typeInto(a.page, '#chat-input', 'barrière');
    await click(a.page, '#chat-send');
    await waitFor(async () => (await hooks(c.page)).chat.some((x) => x.text === 'barrière'), 5000, { message: 'C to receive the barrier message' });
    const cChat = (await hooks(c.page)).chat;
    assert.equal(cChat.some((x) => x.text === secret), false, `C received the private message: ${safeJson(cChat)}`);
    assert.equal(await c.page.evaluate((s) => document.body.textContent.includes(s), secret), false, 'C shows the private message');
  });

  await step('B raises its hand, then C (with the R key): everyone sees the queue [B, C] and the ranks on the tiles', async () => {
    await click(b.page, '#raise-hand');
    await waitFor(async () => safeJson((await hooks(a.page)).hands) === safeJson([b.id]), 5000, { message: 'A to see B\'s hand' });
    await c.page.evaluate(() => /** @type {HTMLElement} */ (document.activeElement)?.blur());
    await c.page.keyboard.press('r');
    for (const m of [a, b, c]) {
      await waitFor(async () => safeJson((await hooks(m.page)).hands) === safeJson([b.id, c.id]), 5000, {
        message: async () => `${m.label} to see the hands [B, C]: ${safeJson((await hooks(m.page)).hands)}`,
      });
      await waitFor(async () => {
        const h = await tileHands(m.page);
        return h[b.id] === '1' && h[c.id] === '2' && h[a.id] === null;
      }, 3000, { message: `${m.label}: tiles with data-hand B=1, C=2` });
    }
    assert.equal(await attr(b.page, '#raise-hand', 'aria-pressed'), 'true');
    assert.equal(await attr(c.page, '#raise-hand', 'aria-pressed'), 'true');
    assert.equal(await attr(a.page, '#raise-hand', 'aria-pressed'), 'false');
    await click(a.page, '#toggle-participants');
    const ranks = await a.page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#participants-panel li[data-participant-id]')]
      .map((li) => [li.getAttribute('data-participant-id'), li.getAttribute('data-hand')])));
    assert.deepEqual(ranks, { [a.id]: null, [b.id]: '1', [c.id]: '2' }, 'ranks in the participants panel of A');
  });

  await step('the moderator lowers every hand', async () => {
    await click(a.page, '#lower-hands');
    for (const m of [a, b, c]) {
      await waitFor(async () => (await hooks(m.page)).hands.length === 0, 5000, { message: `${m.label}: no hand raised` });
      await waitFor(async () => Object.values(await tileHands(m.page)).every((h) => h === null), 3000, { message: `${m.label}: no tile with data-hand` });
      assert.equal(await attr(m.page, '#raise-hand', 'aria-pressed'), 'false', `${m.label}: #raise-hand still pressed`);
    }
  });

  await step('a guest cannot see the moderator\'s controls', async () => {
    await click(b.page, '#toggle-participants');
    for (const sel of ['#mute-all', '#lower-hands', '#end-meeting', '#password-set', '.participant-more']) {
      assert.equal(await isShown(b.page, sel), false, `B (guest) is shown ${sel}`);
    }
  });

  await step('a reaction floats over its sender\'s tile for the others', async () => {
    await click(b.page, '#reactions');
    await click(b.page, '#reactions-menu [data-emoji="👏"]');
    for (const m of [a, c]) {
      await waitFor(() => m.page.evaluate((id) => !!document.querySelector(`#tiles .tile[data-participant-id="${id}"] .reaction-float[data-emoji="👏"]`), b.id), 3000, {
        interval: 50,
        message: `${m.label}: 👏 over B's tile`,
      });
    }
  });

  await closeAll(a, b, c);
});

// ---------------------------------------------------------------------------------------------
// 3 and 4: moderation

test('moderation: mute and self-unmute, camera off, promote, remove', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('moder');
  let a;
  let b;
  let c;

  await step('a moderator and two guests, with media flowing', async () => {
    a = await agentJoins(room, 'Agathe Agent', 'A (agent)');
    b = await guestJoins(room, 'Bruno Invité', 'B (guest)');
    c = await guestJoins(room, 'Chloé Invitée', 'C (guest)');
    await Promise.all([expectRoster(a, [b, c]), expectRoster(c, [a, b])]);
    await Promise.all([waitForMediaFlowing(a.page, [b.id, c.id]), waitForMediaFlowing(c.page, [b.id])]);
  });

  await step('the moderator mutes B: B\'s microphone is off in its page, and says by whom', async () => {
    await moderate(a.page, b.id, 'mute');
    await waitFor(async () => (await attr(b.page, '#toggle-mic', 'aria-pressed')) === 'true', 5000, { message: 'B: #toggle-mic pressed (off)' });
    const local = await b.page.evaluate(() => {
      const tile = document.querySelector('#tiles .tile[data-local="true"]');
      const notice = document.querySelector('[data-key="muted-audio"]');
      return { tileAudio: tile?.getAttribute('data-audio'), notice: notice?.textContent ?? null };
    });
    assert.equal(local.tileAudio, 'off', `B's own tile: ${safeJson(local)}`);
    assert.ok(local.notice && local.notice.includes(fr['moderation.mutedAudio'].replace('{name}', 'Agathe Agent').slice(0, 40)),
      `B's notice does not say who muted it: ${safeJson(local)}`);
  });

  await step('the others see B muted, and B\'s audio stops reaching them while its video flows', async () => {
    for (const m of [a, c]) {
      await waitFor(async () => (await hooks(m.page)).participants[b.id]?.audio === false, 5000, { message: `${m.label}: B's audio off in window.webconf.participants` });
      assert.equal(await attr(m.page, `#tiles .tile[data-participant-id="${b.id}"]`, 'data-audio'), 'off');
    }
    await Promise.all([expectAudioStopped(a.page, b.id), expectAudioStopped(c.page, b.id)]);
  });

  await step('B unmutes itself (with the M key): its audio flows to the others again', async () => {
    await b.page.evaluate(() => /** @type {HTMLElement} */ (document.activeElement)?.blur());
    await b.page.keyboard.press('m');
    await waitFor(async () => (await attr(b.page, '#toggle-mic', 'aria-pressed')) === 'false', 3000, { message: 'B: #toggle-mic not pressed (on)' });
    assert.equal(await b.page.evaluate(() => document.querySelector('[data-key="muted-audio"]') === null), true, 'B still shows the muted notice');
    for (const m of [a, c]) {
      await waitFor(async () => (await hooks(m.page)).participants[b.id]?.audio === true, 5000, { message: `${m.label}: B's audio on again` });
    }
    await Promise.all([waitForMediaFlowing(a.page, [b.id]), waitForMediaFlowing(c.page, [b.id])]);
  });

  await step('the moderator turns C\'s camera off: C\'s page turns it off, the others stop receiving it', async () => {
    await moderate(a.page, c.id, 'camera_off');
    await waitFor(async () => (await attr(c.page, '#toggle-camera', 'aria-pressed')) === 'true', 5000, { message: 'C: #toggle-camera pressed (off)' });
    await waitFor(async () => (await hooks(b.page)).participants[c.id]?.video === false, 5000, { message: 'B: C\'s video off' });
    await expectVideoStopped(b.page, c.id);
  });

  await step('C turns its camera back on (with the V key): the others receive it again', async () => {
    await c.page.evaluate(() => /** @type {HTMLElement} */ (document.activeElement)?.blur());
    await c.page.keyboard.press('v');
    await waitFor(async () => (await hooks(b.page)).participants[c.id]?.video === true, 5000, { message: 'B: C\'s video on again' });
    await waitForMediaFlowing(b.page, [c.id]);
  });

  await step('the moderator makes B a moderator: B\'s page gets the moderator\'s controls', async () => {
    await moderate(a.page, b.id, 'promote');
    await waitFor(async () => (await hooks(b.page)).role === 'moderator', 5000, { message: 'B: window.webconf.role "moderator"' });
    await waitFor(async () => (await hooks(c.page)).participants[b.id]?.role === 'moderator', 5000, { message: 'C: B is a moderator' });
    await b.page.evaluate(() => /** @type {HTMLElement} */ (document.activeElement)?.blur());
    await b.page.keyboard.press('p');
    await waitFor(() => isShown(b.page, '#participants-panel'), 3000, { message: 'B: the P key opens #participants-panel' });
    assert.ok(await isShown(b.page, '#mute-all'), 'the promoted B has no #mute-all');
    assert.ok(await isShown(b.page, `#participants-panel li[data-participant-id="${c.id}"] .participant-more`), 'the promoted B has no menu for C');
  });

  await step('the moderator removes C (after confirming): C sees the removed screen, the others drop its tile', async () => {
    await moderate(a.page, c.id, 'remove');
    await click(a.page, '#confirm-ok');
    await waitForState(c.page, 'ended', 5000);
    const s = await pageState(c.page);
    assert.equal(s.endReason, 'removed', safeJson(s));
    assert.equal(await c.page.$eval('#ended-title', (el) => el.textContent), fr['removed.title']);
    assert.equal(await c.page.$eval('#ended-text', (el) => el.textContent), fr['removed.text'].replace('{name}', 'Agathe Agent'));
    assert.equal(s.pcState, undefined, 'the removed page still has a peer connection');
    await Promise.all([expectRoster(a, [b]), expectRoster(b, [a])]);
    await expectMediaStopped(a.page, c.id, { timeoutMs: 10000 });
  });

  await closeAll(a, b, c);
});

// ---------------------------------------------------------------------------------------------
// 5 and 6: password, end for all

test('room password: guests are asked for it, agents are not; the moderator ends the meeting for all', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('lock');
  const password = 'cheval correct 42';
  let a;
  let d;
  let e;

  await step('the moderator protects the room: the lock shows', async () => {
    a = await agentJoins(room, 'Agathe Agent', 'A (agent)');
    assert.equal(await isShown(a.page, '#room-locked'), false, 'the lock shows before any password');
    await click(a.page, '#toggle-participants');
    await click(a.page, '#password-set');
    await typeInto(a.page, '#room-password', password);
    await click(a.page, '#room-password-save');
    await waitFor(async () => (await hooks(a.page)).locked === true, 10000, { message: 'A: window.webconf.locked' });
    assert.ok(await isShown(a.page, '#room-locked'), 'A: #room-locked hidden in a protected room');
    assert.ok(await isShown(a.page, '#password-remove'), 'A: no #password-remove');
  });

  await step('a guest is asked for the password; a wrong one is refused with a clear message', async () => {
    const url = `${server.urlFor(GUEST)}/${room}?name=${encodeURIComponent('Denis Invité')}&autojoin=1${LANG}`;
    const opened = await openPage(guestBrowser, url, ['password', 'in-room'], { label: 'D (guest)', diagnostics });
    d = { page: opened.page, label: 'D (guest)', name: 'Denis Invité' };
    assert.equal(opened.state, 'password', 'the guest entered a protected room without its password');
    assert.ok(await isShown(d.page, '#join-password'));
    await typeInto(d.page, '#join-password', 'pas le bon');
    await click(d.page, '#join-password-submit');
    const err = await waitFor(() => d.page.evaluate(() => {
      const el = document.getElementById('join-password-error');
      return el && el.dataset.code ? { code: el.dataset.code, text: el.textContent } : null;
    }), 10000, { message: 'an error under #join-password' });
    assert.deepEqual(err, { code: 'wrong_password', text: fr['joinPassword.wrong'] });
    assert.equal((await pageState(d.page)).state, 'password');
    assert.deepEqual(Object.keys((await pageState(a.page)).participants), [], 'A sees the refused guest in the room');
  });

  await step('the right password lets the guest in; everyone sees it', async () => {
    await typeInto(d.page, '#join-password', password);
    await click(d.page, '#join-password-submit');
    await waitForState(d.page, 'in-room', 10000);
    d.id = (await pageState(d.page)).participantId;
    await Promise.all([expectRoster(a, [d]), expectRoster(d, [a])]);
    await waitFor(async () => (await hooks(d.page)).locked === true, 5000, { message: 'D: window.webconf.locked' });
    assert.ok(await isShown(d.page, '#room-locked'), 'D: #room-locked hidden');
  });

  await step('another agent enters without the password', async () => {
    e = await agentJoins(room, 'Émile Agent', 'E (agent)');
    await Promise.all([expectRoster(a, [d, e]), expectRoster(d, [a, e]), expectRoster(e, [a, d])]);
  });

  await step('the moderator removes the protection: the lock goes for everyone', async () => {
    await click(a.page, '#password-remove');
    for (const m of [a, d, e]) {
      await waitFor(async () => (await hooks(m.page)).locked === false, 5000, { message: `${m.label}: window.webconf.locked false` });
      assert.equal(await isShown(m.page, '#room-locked'), false, `${m.label}: #room-locked still shown`);
    }
  });

  await step('the moderator ends the meeting for everyone (after confirming): every page ends', async () => {
    await click(a.page, '#end-meeting');
    await click(a.page, '#confirm-ok');
    for (const m of [a, d, e]) {
      await waitForState(m.page, 'ended', 5000);
      const s = await pageState(m.page);
      assert.equal(s.endReason, 'ended', `${m.label}: ${safeJson(s)}`);
    }
  });

  await closeAll(a, d, e);
});

// ---------------------------------------------------------------------------------------------
// 7: invitations

test('an agent invites by e-mail: each address gets the link, the date, a calendar file, never the password', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('invite');
  const password = 'secret-de-salle-77';
  const to = ['alice.invitee@example.com', 'bob.invite@interieur.gouv.fr'];
  let a;
  let g;
  let startIso;

  await step('the agent protects the room and opens the invite dialog', async () => {
    a = await agentJoins(room, 'Agathe Agent', 'A (agent)');
    await click(a.page, '#toggle-participants');
    await click(a.page, '#password-set');
    await typeInto(a.page, '#room-password', password);
    await click(a.page, '#room-password-save');
    await waitFor(async () => (await hooks(a.page)).locked === true, 10000, { message: 'A: locked' });
    await click(a.page, '#invite');
    await a.page.waitForSelector('#invite-emails', { visible: true, timeout: 5000 });
    assert.equal(await a.page.$eval('#invite-link', (el) => /** @type {HTMLInputElement} */ (el).value), `${server.urlFor(AGENT)}/${room}`);
  });

  await step('a malformed address is refused before sending', async () => {
    await typeInto(a.page, '#invite-emails', 'pas-une-adresse');
    await click(a.page, '#invite-send');
    const err = await a.page.$eval('#invite-error', (el) => ({ code: /** @type {HTMLElement} */ (el).dataset.code, text: el.textContent }));
    assert.deepEqual(err, { code: 'invalid', text: fr['invite.error.invalid'].replace('{emails}', 'pas-une-adresse') });
  });

  await step('two addresses and a date: "2 invitations sent", and the calendar link works', async () => {
    await typeInto(a.page, '#invite-emails', `${to[0]},\n${to[1]}`);
    // Date and time inputs take their value as a person's picker would set it.
    startIso = await a.page.evaluate(() => {
      const set = (id, v) => {
        const el = /** @type {HTMLInputElement} */ (document.getElementById(id));
        el.value = v;
        el.dispatchEvent(new Event('input', { bubbles: true }));
      };
      set('invite-date', '2031-03-04');
      set('invite-time', '10:30');
      /** @type {HTMLSelectElement} */ (document.getElementById('invite-minutes')).value = '90';
      document.getElementById('invite-minutes').dispatchEvent(new Event('change', { bubbles: true }));
      return new Date(2031, 2, 4, 10, 30).toISOString().replace(/\.\d{3}Z$/, 'Z');
    });
    const href = await a.page.$eval('#invite-ics', (el) => el.getAttribute('href'));
    assert.equal(href, `/api/ics?room=${room}&start=${encodeURIComponent(startIso)}&minutes=90`);
    const ics = await httpGet(server, href);
    assert.equal(ics.status, 200, ics.body);
    assert.match(ics.headers['content-type'], /^text\/calendar/);
    assert.ok(ics.body.includes(`DTSTART:${startIso.replace(/[-:]/g, '')}`), ics.body);
    await click(a.page, '#invite-send');
    const result = await waitFor(() => a.page.evaluate(() => {
      const el = document.getElementById('invite-result');
      const err = document.getElementById('invite-error');
      if (err && err.dataset.code) return { error: err.dataset.code, text: err.textContent };
      return el && el.dataset.sent ? { sent: el.dataset.sent, failed: el.dataset.failed, text: el.textContent } : null;
    }), 20000, { message: 'the invitation result (#invite-result)' });
    assert.deepEqual(result, { sent: '2', failed: '0', text: fr['invite.sent.other'].replace('{n}', '2') });
  });

  await step('the SMTP server got one mail per address, with the room link and no password', async () => {
    const link = `${server.urlFor(AGENT)}/${room}`;
    for (const address of to) {
      const mail = await smtp.nextMail({ to: address, timeoutMs: 15000 });
      assert.ok(mail.text.includes(link), `no link ${link} in the mail to ${address}:\n${mail.text.slice(0, 3000)}`);
      assert.ok(mail.text.includes(startIso), `the mail to ${address} does not state the start ${startIso}`);
      assert.match(mail.headers['content-type'] || '', /multipart\/mixed/, 'a planned meeting has no calendar file');
      assert.equal(mail.raw.includes(password), false, `the password is in the raw mail to ${address}`);
      assert.equal(mail.text.includes(password), false, `the password is in the mail to ${address}`);
      const others = to.filter((x) => x !== address);
      assert.equal(others.some((x) => mail.raw.includes(x)), false, `the mail to ${address} names another invitee`);
    }
  });

  await step('a guest\'s invite dialog offers the link only', async () => {
    await click(a.page, '#invite-dialog .dialog-close');
    await click(a.page, '#password-remove');
    await waitFor(async () => (await hooks(a.page)).locked === false, 5000, { message: 'A: unlocked' });
    g = await guestJoins(room, 'Gaston Invité', 'G (guest)');
    await click(g.page, '#invite');
    await waitFor(() => isShown(g.page, '#invite-agents-only'), 5000, { message: 'G: the agents-only note' });
    assert.equal(await isShown(g.page, '#invite-emails'), false, 'a guest is offered the invitation by e-mail');
  });

  await step('Ctrl+Shift+L hangs up, even from a text field; the others see the guest leave', async () => {
    await g.page.keyboard.press('Escape');
    await click(g.page, '#toggle-chat');
    await g.page.focus('#chat-input');
    await g.page.keyboard.down('Control');
    await g.page.keyboard.down('Shift');
    await g.page.keyboard.press('KeyL');
    await g.page.keyboard.up('Shift');
    await g.page.keyboard.up('Control');
    await waitForState(g.page, 'left', 5000);
    await expectRoster(a, []);
  });

  await closeAll(a, g);
});

// ---------------------------------------------------------------------------------------------
// 8: the server refuses every moderator message from a guest

test('raw WebSocket: every moderator message from a guest is refused with "forbidden" and changes nothing', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('forbid');
  let a;
  let g;
  let raw;

  await step('an agent opens the room, a guest page raises its hand, a raw guest socket joins', async () => {
    a = await agentJoins(room, 'Agathe Agent', 'A (agent)');
    g = await guestJoins(room, 'Gaston Invité', 'G (guest)');
    await expectRoster(a, [g]);
    await click(g.page, '#raise-hand');
    await waitFor(async () => safeJson((await hooks(a.page)).hands) === safeJson([g.id]), 5000, { message: 'A: G\'s hand' });
    raw = await connectSignaling(server.wsUrlFor(GUEST), { origin: server.urlFor(GUEST), label: 'raw guest' });
    raw.sendJson({ type: 'join', version: 1, room, name: 'Raw Invité' });
    const welcome = await raw.nextOfType('welcome', 5000);
    assert.equal(welcome.role, 'guest', safeJson(welcome));
    raw.id = welcome.you;
    await waitFor(async () => !!(await hooks(a.page)).participants[raw.id], 5000, { message: 'A: the raw guest in the room' });
  });

  await step('each moderator message is answered "forbidden"', async () => {
    const messages = [
      { type: 'mute', target: a.id },
      { type: 'mute_all' },
      { type: 'camera_off', target: a.id },
      { type: 'remove', target: a.id },
      { type: 'promote', target: raw.id },
      { type: 'lower_hands' },
      { type: 'end_meeting' },
      { type: 'set_password', password: 'verrou1234' },
    ];
    for (const msg of messages) {
      raw.sendJson(msg);
      const reply = await raw.nextOfType('error', 3000);
      assert.equal(reply.code, 'forbidden', `${safeJson(msg)} → ${safeJson(reply)}`);
      assert.equal(reply.fatal, false, `${safeJson(msg)} → ${safeJson(reply)}`);
    }
    raw.sendJson({ type: 'ping' });
    await raw.nextOfType('pong', 3000);
  });

  await step('nothing changed: nobody muted or removed, the hand still up, the room not locked, media flowing', async () => {
    for (const m of [a, g]) {
      const s = await pageState(m.page);
      assert.equal(s.state, 'in-room', `${m.label}: ${safeJson(s)}`);
      assert.equal(await attr(m.page, '#toggle-mic', 'aria-pressed'), 'false', `${m.label}: microphone turned off`);
      assert.equal(await attr(m.page, '#toggle-camera', 'aria-pressed'), 'false', `${m.label}: camera turned off`);
      assert.equal(await isShown(m.page, '[data-key="muted-audio"], [data-key="muted-video"]'), false, `${m.label}: told it was muted`);
      const h = await hooks(m.page);
      assert.equal(h.locked, false, `${m.label}: the room is locked`);
      assert.deepEqual(h.hands, [g.id], `${m.label}: hands ${safeJson(h.hands)}`);
      assert.equal(h.participants[raw.id]?.role, 'guest', `${m.label}: the raw guest ${safeJson(h.participants[raw.id])}`);
    }
    assert.equal((await hooks(a.page)).role, 'moderator');
    assert.equal((await hooks(a.page)).participants[g.id]?.audio, true, 'G shown muted to A');
    const bad = raw.seen.filter((m) => ['muted', 'removed', 'room_ended', 'room_state'].includes(m.type));
    assert.deepEqual(bad, [], `the raw guest was sent ${safeJson(bad)}`);
    assert.equal(raw.close, null, `the raw socket was closed: ${safeJson(raw.close)}`);
    await Promise.all([waitForMediaFlowing(g.page, [a.id]), waitForMediaFlowing(a.page, [g.id])]);
  });

  await step('the server is still running', async () => {
    assert.equal(server.exited, null, `the server exited: ${safeJson(server.exited)}`);
  });

  raw?.terminate();
  await closeAll(a, g);
});
