// The access policy (docs/access-policy.md) through the real binary, real headless Chromium and
// a real SMTP server (Debian's python3-aiosmtpd):
//   only State agents open rooms; anyone with the link joins an open room.
//
// One server listens dual-stack. Its only agent zone is 127.0.0.0/8, so a browser opening
// https://127.0.0.1:PORT is an internal agent and one opening https://[::1]:PORT is an internet
// visitor. Media is offered on both loopbacks.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fr from '../../web/js/i18n/fr.js';
import {
  connectSignaling,
  Diagnostics,
  expectMediaFlowing,
  expectRoster,
  joinRoom,
  launchChromium,
  newPage,
  openPage,
  pageState,
  randomRoom,
  safeJson,
  startServer,
  startSmtp,
  stepper,
  waitFor,
  waitForState,
} from './harness.mjs';

const INTERNAL = '127.0.0.1';
const INTERNET = '[::1]';
const AGENT_EMAIL = 'prenom.nom@interieur.gouv.fr';
const WAITING_TIMEOUT_SECS = 60;

/** The server configuration of these tests (the keys of docs/configuration.md, `[access]` …). */
function accessToml(smtp, { waitingTimeoutSecs = WAITING_TIMEOUT_SECS } = {}) {
  return [
    '[access]',
    'agent_domains = ["gouv.fr"]',
    '',
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
    '[rooms]',
    `waiting_timeout_secs = ${waitingTimeoutSecs}`,
    '',
  ].join('\n');
}

/** A dual-stack server with the access configuration. */
function startAccessServer(smtp, options) {
  return startServer({
    listen: '[::]:0',
    mediaAddresses: ['127.0.0.1', '::1'],
    extraToml: accessToml(smtp, options),
  });
}

const diagnostics = new Diagnostics();
let smtp;
let server;
/** Pages of State agents on the internal network (127.0.0.1). */
let agentBrowser;
/** Pages of internet visitors ([::1]). */
let visitorBrowser;

before(async () => {
  smtp = await startSmtp();
  diagnostics.add('smtp server', (n) => smtp.tail(n));
  server = await startAccessServer(smtp);
  diagnostics.addServer(server);
  [agentBrowser, visitorBrowser] = await Promise.all([
    launchChromium('chromium-agent'),
    launchChromium('chromium-visitor'),
  ]);
});

after(async () => {
  await agentBrowser?.close();
  await visitorBrowser?.close();
  await server?.stop();
  await smtp?.stop();
});

/** `GET /api/session` as the page's browser sees it. */
function pageSession(page) {
  return page.evaluate(async () => {
    const res = await fetch('/api/session', { cache: 'no-store' });
    return { status: res.status, body: await res.json().catch(() => null) };
  });
}

/** Asserts the role of the page itself and the roles it shows for `others` ({id, role}). */
async function expectRoles(member, ownRole, others) {
  let s;
  await waitFor(
    async () => {
      s = await pageState(member.page);
      if (s.role !== ownRole) return false;
      const own = s.tiles.find((tl) => tl.local);
      if (!own || own.role !== ownRole) return false;
      return others.every((o) => {
        const tile = s.tiles.find((tl) => tl.id === o.id);
        return tile && tile.role === o.role && s.participants[o.id]?.role === o.role;
      });
    },
    5000,
    { message: () => `${member.label} to be "${ownRole}" and show ${safeJson(others)}; page: ${safeJson(s)}` },
  );
}

/** "local address -> server address" of the ICE pair the page's media uses (for the log). */
function selectedPair(page) {
  return page.evaluate(async () => {
    const pc = /** @type {any} */ (window).webconf?.pc;
    if (!pc) return 'no peer connection';
    const stats = await pc.getStats();
    let pairId;
    stats.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    stats.forEach((s) => {
      if (!pairId && s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pairId = s.id;
    });
    const pair = pairId && stats.get(pairId);
    if (!pair) return 'no selected pair';
    const at = (id) => {
      const c = stats.get(id);
      return c ? `${c.address ?? c.ip}:${c.port}` : '?';
    };
    return `${at(pair.localCandidateId)} -> ${at(pair.remoteCandidateId)}`;
  });
}

/** The text of `selector` in the page, or null. */
function textOf(page, selector) {
  return page.evaluate((sel) => document.querySelector(sel)?.textContent ?? null, selector);
}

/** Whether `selector` exists and is shown (not inside a hidden ancestor). */
function isShown(page, selector) {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    return !!el && !el.closest('[hidden]') && el.getClientRects().length > 0;
  }, selector);
}

/** Clears an input and types `text` into it, as a person would. */
async function typeInto(page, selector, text) {
  await page.waitForSelector(selector, { visible: true, timeout: 5000 });
  await page.$eval(selector, (el) => {
    /** @type {HTMLInputElement} */ (el).value = '';
  });
  await page.type(selector, text);
}

test('an internal agent opens a room; an internet guest joins it as a guest', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('open');
  let agent;
  let guest;

  await step('the browsers are where the test thinks: 127.0.0.1 internal agent, [::1] internet visitor', async () => {
    const a = await newPage(agentBrowser, 'session-agent');
    const v = await newPage(visitorBrowser, 'session-visitor');
    diagnostics.addPage('session-agent', a);
    diagnostics.addPage('session-visitor', v);
    await a.goto(`${server.urlFor(INTERNAL)}/`, { waitUntil: 'domcontentloaded' });
    await v.goto(`${server.urlFor(INTERNET)}/`, { waitUntil: 'domcontentloaded' });
    const sa = await pageSession(a);
    const sv = await pageSession(v);
    assert.equal(sa.status, 200, `GET /api/session from 127.0.0.1: ${safeJson(sa)}`);
    assert.deepEqual(sa.body, { zone: 'internal', agent: true, via: 'network', email: null }, `from 127.0.0.1: ${safeJson(sa)}`);
    assert.equal(sv.status, 200, `GET /api/session from [::1]: ${safeJson(sv)}`);
    assert.equal(sv.body?.agent, false, `from [::1]: ${safeJson(sv)}`);
    assert.equal(sv.body?.via, null, `from [::1]: ${safeJson(sv)}`);
    // The home page says so too.
    await waitFor(() => isShown(v, '#visitor-note'), 5000, { message: 'the visitor note on the home page from [::1]' });
    assert.equal(await isShown(a, '#visitor-note'), false, 'an internal agent is shown the visitor note');
    await a.close();
    await v.close();
  });

  await step('the agent opens the room as a moderator', async () => {
    agent = await joinRoom(agentBrowser, server, room, 'Agathe Agent', { label: 'agent', diagnostics, host: INTERNAL });
    await expectRoles(agent, 'moderator', []);
  });

  await step('the internet visitor joins the open room as a guest', async () => {
    guest = await joinRoom(visitorBrowser, server, room, 'Gaston Guest', { label: 'guest', diagnostics, host: INTERNET });
    await Promise.all([expectRoster(agent, [guest]), expectRoster(guest, [agent])]);
    await expectRoles(guest, 'guest', [{ id: agent.id, role: 'moderator' }]);
    await expectRoles(agent, 'moderator', [{ id: guest.id, role: 'guest' }]);
  });

  await step('the moderator badge is on the moderator\'s tile only', async () => {
    const badges = await guest.page.evaluate(() =>
      [...document.querySelectorAll('#tiles .tile')].map((tile) => ({
        id: tile.getAttribute('data-participant-id'),
        badge: [...tile.querySelectorAll('.role-badge')].some((b) => !b.closest('[hidden]') && b.getClientRects().length > 0),
      })));
    assert.deepEqual(
      badges.sort((x, y) => String(x.id).localeCompare(String(y.id))),
      [{ id: agent.id, badge: true }, { id: guest.id, badge: false }].sort((x, y) => x.id.localeCompare(y.id)),
      `badges on the guest's page: ${safeJson(badges)}`,
    );
  });

  await step('they see and hear each other (the guest page is on IPv6 loopback)', async (st) => {
    await Promise.all([
      expectMediaFlowing(agent.page, [guest.id]),
      expectMediaFlowing(guest.page, [agent.id]),
    ]);
    for (const m of [agent, guest]) st.diagnostic(`${m.label} media path: ${await selectedPair(m.page)}`);
  });

  await step('the server is still running', async () => {
    assert.equal(server.exited, null, `the server exited: ${safeJson(server.exited)}`);
  });
  await agent?.page.close();
  await guest?.page.close();
});

test('a guest waits for the organiser, enters by itself, and is sent out when the last agent leaves', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('wait');
  let guest;
  let agent;
  let late;

  await step('a guest who arrives first sees the waiting screen', async () => {
    const url = `${server.urlFor(INTERNET)}/${room}?name=${encodeURIComponent('Gaston Guest')}&autojoin=1&lang=fr`;
    const opened = await openPage(visitorBrowser, url, ['waiting', 'in-room'], { label: 'waiting guest', diagnostics });
    guest = { page: opened.page, label: 'waiting guest', name: 'Gaston Guest' };
    assert.equal(opened.state, 'waiting', 'a guest entered a room that no agent had opened');
    assert.equal(await textOf(guest.page, '#waiting-text'), fr['waiting.text']);
    assert.ok(await isShown(guest.page, '#waiting-leave'), 'the waiting screen has no leave button');
    const s = await pageState(guest.page);
    assert.equal(s.participantId, null, `a waiting guest has a participant id: ${safeJson(s)}`);
  });

  await step('the agent opens the room: the guest enters by itself', async () => {
    agent = await joinRoom(agentBrowser, server, room, 'Agathe Agent', { label: 'agent', diagnostics, host: INTERNAL });
    await waitForState(guest.page, 'in-room', 10000);
    guest.id = (await pageState(guest.page)).participantId;
    assert.ok(guest.id, 'the admitted guest has no participant id');
    await Promise.all([expectRoster(agent, [guest]), expectRoster(guest, [agent])]);
    await expectRoles(guest, 'guest', [{ id: agent.id, role: 'moderator' }]);
    await expectMediaFlowing(guest.page, [agent.id]);
  });

  await step('the agent hangs up: the guest is sent out within 2 s, reason "ended"', async (st) => {
    const start = Date.now();
    await agent.page.click('#hangup');
    let last;
    await waitFor(async () => (last = await pageState(guest.page)).state === 'ended', 2000, {
      interval: 50,
      message: () => `the guest to reach state "ended": ${safeJson(last)}`,
    });
    st.diagnostic(`guest sent out ${Date.now() - start} ms after the hang-up`);
    const s = await pageState(guest.page);
    assert.equal(s.endReason, 'ended', `body[data-end-reason]: ${safeJson(s)}`);
    assert.equal(await textOf(guest.page, '#ended-title'), fr['ended.title.ended']);
    assert.ok(await isShown(guest.page, '#ended-home'), 'the end screen has no button home');
    assert.equal(s.pcState, undefined, `the ended page still has a peer connection: ${safeJson(s)}`);
  });

  await step('the room is gone: a new guest joining that name waits again', async () => {
    const url = `${server.urlFor(INTERNET)}/${room}?name=${encodeURIComponent('Lucie Late')}&autojoin=1`;
    const opened = await openPage(visitorBrowser, url, ['waiting', 'in-room'], { label: 'late guest', diagnostics });
    late = opened;
    assert.equal(opened.state, 'waiting', 'a guest entered the room after its last agent left');
  });

  await step('the waiting guest leaves the wait: home page', async () => {
    await late.page.click('#waiting-leave');
    await waitForState(late.page, 'home', 5000);
  });

  await agent?.page.close();
  await guest?.page.close();
  await late?.page.close();
});

test('an internet visitor verifies a professional address in the page and opens a room', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('mail');
  let page;
  let code;
  let organiser;

  await step('the pre-join panel offers the two choices to an internet visitor', async () => {
    const opened = await openPage(visitorBrowser, `${server.urlFor(INTERNET)}/${room}?lang=fr`, 'prejoin', {
      label: 'visitor',
      diagnostics,
    });
    page = opened.page;
    await waitFor(() => isShown(page, '#agent-verify'), 5000, { message: 'the "Je suis agent de l’État" choice' });
    assert.equal(await textOf(page, '#agent-verify'), fr['prejoin.agent']);
    assert.equal(await textOf(page, '#prejoin-join'), fr['prejoin.joinGuest']);
    await typeInto(page, '#display-name', 'Paule Prenom');
    await page.click('#agent-verify');
    await page.waitForSelector('#agent-email', { visible: true, timeout: 5000 });
    const attrs = await page.evaluate(() => ({
      email: document.getElementById('agent-email')?.getAttribute('autocomplete'),
      code: document.getElementById('agent-code')?.getAttribute('autocomplete'),
      inputmode: document.getElementById('agent-code')?.getAttribute('inputmode'),
    }));
    assert.deepEqual(attrs, { email: 'email', code: 'one-time-code', inputmode: 'numeric' });
  });

  await step('an address outside the allowed domains gets the domain message', async () => {
    await typeInto(page, '#agent-email', 'someone@example.com');
    await page.click('#send-code');
    const err = await waitFor(
      () => page.evaluate(() => {
        const el = document.getElementById('agent-email-error');
        return el && el.dataset.code ? { code: el.dataset.code, text: el.textContent } : null;
      }),
      10000,
      { message: 'an error under #agent-email' },
    );
    assert.deepEqual(err, { code: 'domain_not_allowed', text: fr['auth.error.domain_not_allowed'] });
    assert.equal(smtp.mails().some((m) => /example\.com/.test(`${m.headers.to} ${m.headers['x-rcptto']}`)), false,
      'a code was mailed to an address outside the allowed domains');
  });

  await step('a professional address gets a code by e-mail, read from the SMTP server', async () => {
    await typeInto(page, '#agent-email', AGENT_EMAIL);
    await page.click('#send-code');
    await waitFor(() => isShown(page, '#agent-code'), 15000, {
      message: 'the code step (#agent-code) to show (see the page console for the answer of POST /api/auth/code)',
    });
    const mail = await smtp.nextMail({ to: AGENT_EMAIL, timeoutMs: 15000 });
    code = mail.code;
    assert.match(String(code), /^\d{6}$/, `no 6-digit code in the mail:\n${mail.raw.slice(0, 2000)}`);
  });

  await step('a wrong code gets the wrong-code message with the tries left', async () => {
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    await typeInto(page, '#agent-code', wrong);
    await page.click('#verify-code');
    const err = await waitFor(
      () => page.evaluate(() => {
        const el = document.getElementById('agent-code-error');
        return el && el.dataset.code ? { code: el.dataset.code, text: el.textContent } : null;
      }),
      10000,
      { message: 'an error under #agent-code' },
    );
    assert.equal(err.code, 'wrong_code', safeJson(err));
    assert.match(err.text, /^Code incorrect\. Il vous reste \d+ essais?\.$/, safeJson(err));
    assert.equal((await pageState(page)).state, 'prejoin');
  });

  await step('the right code makes the visitor an agent, who opens the room as moderator', async () => {
    await typeInto(page, '#agent-code', code);
    await page.click('#verify-code');
    await waitForState(page, 'in-room', 15000);
    organiser = { page, label: 'visitor', name: 'Paule Prenom', id: (await pageState(page)).participantId };
    await expectRoles(organiser, 'moderator', []);
    const s = await pageSession(page);
    assert.deepEqual(s.body, { zone: s.body?.zone, agent: true, via: 'email', email: AGENT_EMAIL }, safeJson(s));
  });

  await step('another internet visitor joins that room at once, as a guest', async () => {
    const guest = await joinRoom(visitorBrowser, server, room, 'Gaston Guest', { label: 'guest of the e-mail agent', diagnostics, host: INTERNET });
    await Promise.all([expectRoster(organiser, [guest]), expectRoster(guest, [organiser])]);
    await expectRoles(guest, 'guest', [{ id: organiser.id, role: 'moderator' }]);
    await guest.page.close();
  });

  await step('the home page says who is signed in, and signing out works', async () => {
    const home = await page.browserContext().newPage();
    diagnostics.addPage('visitor home', home);
    await home.goto(`${server.urlFor(INTERNET)}/?lang=fr`, { waitUntil: 'domcontentloaded' });
    await waitFor(() => isShown(home, '#logout'), 5000, { message: 'the #logout button on the home page' });
    assert.equal(await home.$eval('#session-status .session-text', (el) => el.textContent),
      fr['session.signedIn'].replace('{email}', AGENT_EMAIL));
    await home.click('#logout');
    await waitFor(() => isShown(home, '#visitor-note'), 5000, { message: 'the visitor note after signing out' });
    const s = await pageSession(home);
    assert.equal(s.body?.agent, false, `after logout: ${safeJson(s)}`);
    await home.close();
  });

  await page?.close();
});

test('raw WebSocket from the internet: waiting, and join guessing is rate-limited', async (t) => {
  const step = stepper(t, diagnostics);
  // A server of its own: the limit it reaches here must not hold up the pages above, and its
  // wait gives up quickly.
  const own = await startAccessServer(smtp, { waitingTimeoutSecs: 3 });
  diagnostics.addServer(own);
  const sockets = [];
  t.after(async () => {
    for (const c of sockets) c.terminate();
    await own.stop();
  });
  const open = async (host, label) => {
    const c = await connectSignaling(own.wsUrlFor(host), { origin: own.urlFor(host), label });
    sockets.push(c);
    return c;
  };

  await step('a join of a room that is not open gets `waiting`; ping still works', async () => {
    const c = await open(INTERNET, 'waiting socket');
    const room = randomRoom('raw');
    c.sendJson({ type: 'join', version: 1, room, name: 'Gaston Guest' });
    const m = await c.next();
    assert.equal(m.type, 'waiting', `answer to join: ${safeJson(m)}`);
    assert.equal(m.room, room, safeJson(m));
    assert.equal(m.timeout_secs, 3, safeJson(m));
    c.sendJson({ type: 'ping' });
    assert.deepEqual(await c.next(), { type: 'pong' });
  });

  await step('the wait gives up after waiting_timeout_secs: room_ended "wait_timeout", then close', async () => {
    const c = await open(INTERNET, 'timeout socket');
    c.sendJson({ type: 'join', version: 1, room: randomRoom('raw'), name: 'Gaston Guest' });
    assert.equal((await c.next()).type, 'waiting');
    const ended = await c.nextOfType('room_ended', 8000);
    assert.equal(ended.reason, 'wait_timeout', safeJson(ended));
    const closed = await Promise.race([c.closed, new Promise((r) => setTimeout(() => r(null), 3000))]);
    assert.ok(closed, 'the socket was not closed after room_ended');
  });

  await step('many joins of unknown rooms from one address end in rate_limited', async (st) => {
    const answers = [];
    let limited = null;
    for (let i = 0; i < 200 && !limited; i++) {
      const c = await open(INTERNET, `guess ${i}`);
      c.sendJson({ type: 'join', version: 1, room: randomRoom('guess'), name: 'Mallory' });
      const m = await c.next();
      answers.push(m.type === 'error' ? m.code : m.type);
      if (m.type === 'error' && m.code === 'rate_limited') limited = { m, i };
      else assert.equal(m.type, 'waiting', `join #${i}: ${safeJson(m)}`);
      c.terminate();
    }
    assert.ok(limited, `200 joins of unknown rooms were never rate-limited: ${safeJson(answers.slice(-5))}`);
    assert.equal(limited.m.fatal, false, safeJson(limited.m));
    st.diagnostic(`rate_limited after ${limited.i} joins`);
  });

  await step('an agent from another address still opens rooms', async () => {
    const c = await open(INTERNAL, 'agent socket');
    c.sendJson({ type: 'join', version: 1, room: randomRoom('raw'), name: 'Agathe Agent' });
    const m = await c.next();
    assert.equal(m.type, 'welcome', safeJson(m));
    assert.equal(m.role, 'moderator', safeJson(m));
  });

  await step('the server is still running', async () => {
    assert.equal(own.exited, null, `the server exited: ${safeJson(own.exited)}`);
  });
});
