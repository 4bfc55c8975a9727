// Taking one's place back after losing the signaling socket (`resume`, docs/protocol.md):
// the participant keeps its id, role and media session, nobody sees it leave, and what it missed
// meanwhile (someone joining, a raised hand, the offer for the newcomer's tracks) reaches it,
// and an offer it had answered, the answer lost with the old socket, is completed (the server
// sends the same offer again, the browser the same answer).
// Raw sockets check the protocol's refusals; real Chromium pages check the client, with Bob's
// signaling going through a TCP relay on loopback that the test cuts (his media does not go
// through it). No root needed; the netns test of an address change is in resilience.test.mjs.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Diagnostics,
  connectSignaling,
  expectMediaFlowing,
  joinRoom,
  launchChromium,
  mediaStats,
  pageState,
  randomRoom,
  safeJson,
  sleep,
  startServer,
  stepRunner,
  waitFor,
} from './harness.mjs';
import { startTcpRelay } from './lib/proxy.mjs';
import { watchPresence } from './lib/presence.mjs';

const diagnostics = new Diagnostics();
let server;
let browser;
const sockets = new Set();
const relays = new Set();

before(async () => {
  server = await startServer();
  diagnostics.addServer(server);
  browser = await launchChromium('chromium');
});

after(async () => {
  for (const s of sockets) s.ws.terminate();
  for (const r of relays) await r.stop();
  await browser?.close();
  await server?.stop();
});

async function connect(label) {
  const client = await connectSignaling(server.wsUrl, { origin: server.origin, label });
  sockets.add(client);
  return client;
}

/** Joins `room` on a raw socket; returns the socket, its `welcome` and its `session`. */
async function rawJoin(room, name) {
  const ws = await connect(name);
  ws.sendJson({ type: 'join', version: 1, room, name });
  const welcome = await ws.nextOfType('welcome', 5000);
  const session = await ws.nextOfType('session', 5000);
  return { ws, welcome, session };
}

/** The next `error`, skipping the events a joined socket may get at any time. */
async function nextError(client) {
  for (;;) {
    const m = await client.next(5000);
    if (m.type === 'error') return m;
    assert.ok(['participant_joined', 'participant_updated', 'participant_left', 'offer', 'speakers', 'slots', 'hands'].includes(m.type),
      `${client.label}: expected an error, got ${safeJson(m)}`);
  }
}

test('resume: the right secret takes the place back; anything else is refused and changes nothing', async (t) => {
  const step = stepRunner(diagnostics);
  const room = randomRoom('resume');
  const alice = await step('Alice joins', () => rawJoin(room, 'Alice'));
  const bob = await step('Bob joins', () => rawJoin(room, 'Bob'));
  const bobId = bob.welcome.you;
  assert.match(bob.session.resume_token, /^[0-9a-f]{32}$/, 'the secret is 128 bits in hex');
  assert.notEqual(bob.session.resume_token, alice.session.resume_token);

  const again = await connect('Bob again');
  await step('refusals', async () => {
    const tries = [
      [{ participant: bobId, token: '0'.repeat(32) }, 'a wrong secret'],
      [{ participant: bobId, token: alice.session.resume_token }, 'someone else\'s secret'],
      [{ participant: 'p0000000000000000', token: bob.session.resume_token }, 'an unknown participant'],
      [{ participant: bobId, token: '' }, 'an empty secret'],
    ];
    for (const [fields, what] of tries) {
      again.sendJson({ type: 'resume', version: 1, ...fields });
      const err = await nextError(again);
      assert.equal(err.code, 'resume_failed', `${what}: ${safeJson(err)}`);
      assert.equal(err.fatal, false, what);
    }
    again.sendJson({ type: 'resume', version: 1, participant: bobId });
    assert.equal((await nextError(again)).code, 'bad_message', 'a resume without a secret is malformed');
    // Nothing changed: Bob's first socket is still his, nobody left.
    assert.equal(bob.ws.close, null, 'Bob\'s first socket is still open');
    await sleep(300);
    assert.ok(!alice.ws.seen.some((m) => m.type === 'participant_left'), 'Alice saw nobody leave');
  });

  const resumed = await step('the right secret', async () => {
    again.sendJson({ type: 'resume', version: 1, participant: bobId, token: bob.session.resume_token });
    const welcome = await again.nextOfType('welcome', 5000);
    const rest = [];
    for (const type of ['hands', 'room_state', 'board_state', 'session']) rest.push(await again.nextOfType(type, 5000));
    return { welcome, hands: rest[0], roomState: rest[1], board: rest[2], session: rest[3] };
  });
  assert.equal(resumed.welcome.you, bobId, 'Bob keeps his id');
  assert.equal(resumed.welcome.role, bob.welcome.role, 'and his role');
  assert.deepEqual(resumed.welcome.participants.map((p) => p.id), [alice.welcome.you], 'the others now');
  assert.deepEqual(resumed.hands.queue, []);
  assert.equal(resumed.roomState.locked, false);
  assert.deepEqual(resumed.board.objects, []);
  assert.match(resumed.session.resume_token, /^[0-9a-f]{32}$/);
  assert.notEqual(resumed.session.resume_token, bob.session.resume_token, 'a new secret');

  await step('the old socket is closed, and nobody saw Bob leave', async () => {
    const closed = await Promise.race([bob.ws.closed, sleep(5000).then(() => null)]);
    assert.ok(closed, 'the old socket is closed');
    assert.equal(closed.code, 1000);
    assert.equal(closed.reason, 'resumed');
    await sleep(300);
    assert.ok(!alice.ws.seen.some((m) => m.type === 'participant_left'), `Alice saw nobody leave: ${safeJson(alice.ws.seen)}`);
  });

  await step('the new socket speaks for Bob', async () => {
    again.sendJson({ type: 'raise_hand', raised: true });
    const hands = await alice.ws.nextOfType('hands', 5000);
    assert.deepEqual(hands.queue, [bobId]);
  });

  await step('a secret is good once; a joined socket cannot resume', async () => {
    const third = await connect('Bob, third socket');
    third.sendJson({ type: 'resume', version: 1, participant: bobId, token: bob.session.resume_token });
    assert.equal((await nextError(third)).code, 'resume_failed', 'the spent secret');
    again.sendJson({ type: 'resume', version: 1, participant: bobId, token: resumed.session.resume_token });
    assert.equal((await nextError(again)).code, 'already_joined');
  });

  await step('a broken socket keeps the place for the grace period', async () => {
    // No closing handshake: the server keeps Bob's place; the current secret takes it back.
    again.ws.terminate();
    await sleep(500);
    assert.ok(!alice.ws.seen.some((m) => m.type === 'participant_left'), 'Bob still in the room');
    // Alice writes to the room and to Bob meanwhile: kept for him.
    alice.ws.sendJson({ type: 'chat', text: 'are you there?' });
    alice.ws.sendJson({ type: 'chat', text: 'just for you', to: bobId });
    await sleep(300);
    const fourth = await connect('Bob, fourth socket');
    fourth.sendJson({ type: 'resume', version: 1, participant: bobId, token: resumed.session.resume_token });
    const w = await fourth.nextOfType('welcome', 5000);
    assert.equal(w.you, bobId);
    const hands = await fourth.nextOfType('hands', 5000);
    assert.deepEqual(hands.queue, [bobId], 'his raised hand is still there');
    await fourth.nextOfType('session', 5000);
    const chats = fourth.seen.filter((m) => m.type === 'chat');
    assert.deepEqual(chats.map((m) => [m.text, m.private, m.from]),
      [['are you there?', false, alice.welcome.you], ['just for you', true, alice.welcome.you]],
      `the chat he missed, in order, before the new secret: ${safeJson(fourth.seen)}`);
    // A clean leave is a leave at once.
    fourth.sendJson({ type: 'leave' });
    const left = await alice.ws.nextOfType('participant_left', 5000);
    assert.equal(left.id, bobId);
  });
});

test('Chromium: Bob\'s socket is cut twice; he keeps his place and media, and catches up on what he missed', async (t) => {
  const step = stepRunner(diagnostics);
  const target = new URL(server.url);
  const relay = await startTcpRelay({ host: target.hostname, port: Number(target.port) });
  relays.add(relay);
  const room = randomRoom('resume');
  const alice = await step('Alice joins', () => joinRoom(browser, server, room, 'Alice', { diagnostics }));
  const bob = await step('Bob joins through the relay', () =>
    joinRoom(browser, { url: relay.url }, room, 'Bob', { diagnostics }));
  await step('media flows both ways', () =>
    Promise.all([expectMediaFlowing(alice.page, [bob.id]), expectMediaFlowing(bob.page, [alice.id])]));
  // Alice notes any moment Bob is missing from her participants; Bob notes his connection states.
  const presence = await watchPresence(alice.page, bob.id);
  await bob.page.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.__connLog = [document.body.dataset.connection ?? null];
    new MutationObserver(() => {
      const c = document.body.dataset.connection ?? null;
      if (w.__connLog.at(-1) !== c) w.__connLog.push(c);
    }).observe(document.body, { attributes: true, attributeFilter: ['data-connection'] });
  });
  const ufrag = () => bob.page.evaluate(() =>
    /a=ice-ufrag:(\S+)/.exec(/** @type {any} */ (window).webconf.pc.localDescription?.sdp ?? '')?.[1] ?? null);
  const ufragBefore = await ufrag();
  assert.ok(ufragBefore, 'Bob has a local ICE ufrag');

  await step('first cut: Bob takes his place back on a new socket', async () => {
    const before = relay.connections;
    const ended = relay.cut();
    assert.ok(ended >= 2, `the relay ended Bob's signaling connection (${ended} sockets)`);
    await waitFor(() => relay.connections > before, 15_000, { message: 'Bob to open a new socket' });
    await waitFor(async () => {
      const s = await bob.page.evaluate(() => ({
        state: document.body.dataset.state,
        connection: document.body.dataset.connection ?? null,
        id: /** @type {any} */ (window).webconf?.participantId ?? null,
      }));
      return s.state === 'in-room' && s.connection === 'ok' && s.id === bob.id;
    }, 20_000, { message: 'Bob back to "ok" under the same id' });
  });
  await step('ICE restarted on the same connection, and media still flows both ways', async () => {
    await waitFor(async () => {
      const now = await ufrag();
      return now && now !== ufragBefore;
    }, 10_000, { message: 'a new local ufrag (ICE restart)' });
    await Promise.all([expectMediaFlowing(alice.page, [bob.id]), expectMediaFlowing(bob.page, [alice.id])]);
  });
  const log = await bob.page.evaluate(() => /** @type {any} */ (window).__connLog);
  assert.ok(log.includes('reconnecting'), `Bob showed "reconnecting" meanwhile: ${safeJson(log)}`);

  // Second cut, longer: the relay refuses Bob's new sockets while Carol joins and raises her
  // hand. The server's offer of Carol's tracks to Bob is lost with his socket.
  const carol = await step('second cut; Carol joins and raises her hand meanwhile', async () => {
    relay.refuse(true);
    relay.cut();
    await waitFor(async () => (await bob.page.evaluate(() => document.body.dataset.connection)) === 'reconnecting',
      10_000, { message: 'Bob to show "reconnecting"' });
    const c = await joinRoom(browser, server, room, 'Carol', { diagnostics });
    await c.page.click('#raise-hand');
    await waitFor(async () => {
      const hands = await alice.page.evaluate(() => /** @type {any} */ (window).webconf?.hands ?? []);
      return hands.includes(c.id);
    }, 5_000, { message: 'Alice to see Carol\'s hand' });
    return c;
  });
  const bobView = await pageState(bob.page);
  assert.ok(!(carol.id in (bobView.participants ?? {})), 'Bob has not heard of Carol while cut off');
  await step('the relay lets Bob through again: same id, Carol and her hand, her media', async () => {
    relay.refuse(false);
    await waitFor(async () => {
      const s = await pageState(bob.page);
      return s.state === 'in-room' && s.participantId === bob.id && s.participants?.[carol.id]?.name === 'Carol';
    }, 20_000, { message: 'Bob to list Carol under his old id' });
    await waitFor(async () => {
      const hands = await bob.page.evaluate(() => /** @type {any} */ (window).webconf?.hands ?? []);
      return hands.includes(carol.id);
    }, 5_000, { message: 'Bob to see Carol\'s raised hand' });
    await expectMediaFlowing(bob.page, [alice.id, carol.id], { timeoutMs: 20_000 });
    await expectMediaFlowing(carol.page, [bob.id], { timeoutMs: 20_000 });
  });
  const missing = await presence.stop();
  assert.equal(missing, 0, 'Alice never stopped listing Bob');
  const tiles = (await pageState(alice.page)).tiles.filter((tl) => tl.id === bob.id);
  assert.equal(tiles.length, 1, 'Alice shows Bob once');
  for (const p of [alice, bob, carol]) await p.page.close();
});

/**
 * Runs in Bob's page before its scripts: when `window.__dropNextAnswer` is set, the next
 * outgoing `answer` is not sent and its socket is closed with 4000 "dead link" (his place is
 * kept for a resume), as if the socket had died right after the browser answered.
 */
function answerDropper() {
  const w = /** @type {any} */ (window);
  w.__answersDropped = 0;
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (w.__dropNextAnswer && typeof data === 'string') {
      let type = null;
      try {
        type = JSON.parse(data)?.type ?? null;
      } catch {
        type = null;
      }
      if (type === 'answer') {
        w.__dropNextAnswer = false;
        w.__answersDropped += 1;
        this.close(4000, 'dead link');
        return;
      }
    }
    return send.call(this, data);
  };
}

test('Chromium: Bob\'s answer is lost with his socket; after the resume the same offer comes again and he gets Carol\'s media', async () => {
  const step = stepRunner(diagnostics);
  const room = randomRoom('resume');
  const alice = await step('Alice joins', () => joinRoom(browser, server, room, 'Alice', { diagnostics }));
  const bob = await step('Bob joins (with the answer dropper)', () =>
    joinRoom(browser, server, room, 'Bob', { diagnostics, beforeLoad: answerDropper }));
  await step('media flows both ways', () =>
    Promise.all([expectMediaFlowing(alice.page, [bob.id]), expectMediaFlowing(bob.page, [alice.id])]));
  const presence = await watchPresence(alice.page, bob.id);
  const negotiationErrors = [];
  let answeredAgain = 0;
  bob.page.on('console', (msg) => {
    if (/negotiation failed/.test(msg.text())) negotiationErrors.push(msg.text());
    // media.js: the offer sent again is recognised as answered, not applied a second time.
    if (/offer already answered again; sending the same answer/.test(msg.text())) answeredAgain += 1;
  });
  await bob.page.evaluate(() => {
    /** @type {any} */ (window).__dropNextAnswer = true;
  });

  const carol = await step('Carol joins; Bob answers the offer of her tracks, the answer is lost with his socket', async () => {
    const c = await joinRoom(browser, server, room, 'Carol', { diagnostics });
    await waitFor(async () => (await bob.page.evaluate(() => /** @type {any} */ (window).__answersDropped)) === 1,
      15_000, { message: 'Bob\'s answer to be dropped' });
    return c;
  });
  await step('Bob takes his place back under the same id', async () => {
    await waitFor(async () => {
      const s = await pageState(bob.page);
      return s.state === 'in-room' && s.participantId === bob.id && s.participants?.[carol.id]?.name === 'Carol';
    }, 20_000, { message: 'Bob back in the room under his id, listing Carol' });
  });
  await step('Bob receives Carol\'s audio and video (and still Alice\'s); Carol receives Bob\'s', async () => {
    await expectMediaFlowing(bob.page, [alice.id, carol.id], { timeoutMs: 20_000 });
    await expectMediaFlowing(carol.page, [bob.id], { timeoutMs: 20_000 });
    // inbound-rtp bytes of Carol's audio and video keep growing at Bob's.
    const first = (await mediaStats(bob.page)).byParticipant[carol.id];
    await sleep(1000);
    const second = (await mediaStats(bob.page)).byParticipant[carol.id];
    for (const kind of ['audio', 'video']) {
      assert.ok((second?.[kind]?.bytesReceived ?? 0) > (first?.[kind]?.bytesReceived ?? 0),
        `Carol's ${kind} bytes grow at Bob's: ${safeJson(first)} -> ${safeJson(second)}`);
    }
  });
  assert.equal(await bob.page.evaluate(() => /** @type {any} */ (window).__answersDropped), 1, 'one answer dropped');
  assert.equal((await pageState(bob.page)).participantId, bob.id, 'Bob kept his participant id');
  assert.deepEqual(negotiationErrors, [], 'no negotiation failed in Bob\'s page');
  assert.equal(answeredAgain, 1, 'Bob sent the same answer again, without applying the offer twice');
  const missing = await presence.stop();
  assert.equal(missing, 0, 'Alice never stopped listing Bob');
  const tiles = (await pageState(alice.page)).tiles.filter((tl) => tl.id === bob.id);
  assert.equal(tiles.length, 1, 'Alice shows Bob once');
  for (const p of [alice, bob, carol]) await p.page.close();
});
