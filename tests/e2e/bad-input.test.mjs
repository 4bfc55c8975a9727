// Hostile and broken input, sent with raw WebSockets and HTTP requests while a real call runs:
// each gets the error that docs/protocol.md promises, and the call does not notice.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Diagnostics,
  expectMediaFlowing,
  expectRoster,
  httpGet,
  joinRoom,
  launchChromium,
  pageState,
  randomRoom,
  safeJson,
  startServer,
  stepper,
  waitFor,
  connectSignaling,
} from './harness.mjs';

const diagnostics = new Diagnostics();
let server;
let browser;
const sockets = new Set();

before(async () => {
  server = await startServer();
  diagnostics.addServer(server);
  browser = await launchChromium('chromium');
});

after(async () => {
  for (const s of sockets) s.ws.terminate();
  await browser?.close();
  await server?.stop();
});

/**
 * Opens a signaling socket (the harness's raw client, see `connectSignaling`), remembered so
 * that `after()` closes it. `origin: null` sends no Origin header; rejects with `{status}` when
 * the upgrade is refused.
 */
async function connect({ origin = server.origin, label = 'raw socket' } = {}) {
  const client = await connectSignaling(server.wsUrl, { origin, label });
  sockets.add(client);
  return client;
}

/** Messages a joined socket may get at any time; `expectError` passes over them. */
const EVENTS = new Set(['participant_joined', 'participant_updated', 'participant_left', 'offer', 'session', 'speakers', 'slots']);

/** Expects the next message (events aside) to be an error with `code`, and returns it. */
async function expectError(client, code, { fatal = false } = {}) {
  let m = await client.next();
  while (m && EVENTS.has(m.type)) m = await client.next();
  assert.equal(m.type, 'error', `${client.label}: expected an error "${code}", got ${safeJson(m)}`);
  assert.equal(m.code, code, `${client.label}: expected error code "${code}", got ${safeJson(m)}`);
  assert.equal(m.fatal, fatal, `${client.label}: expected fatal=${fatal} in ${safeJson(m)}`);
  assert.equal(typeof m.message, 'string', `${client.label}: error without a message: ${safeJson(m)}`);
  return m;
}

/** The socket is still served: a ping gets a pong. */
async function expectAlive(client) {
  assert.equal(client.close, null, `${client.label} was closed: ${safeJson(client.close)}`);
  client.sendJson({ type: 'ping' });
  let m = await client.next();
  while (m && EVENTS.has(m.type)) m = await client.next();
  assert.deepEqual(m, { type: 'pong' }, `${client.label}: ping did not get a pong`);
}

test('static pages', async (t) => {
  const step = stepper(t, diagnostics);

  await step('GET / is HTML with a Content-Security-Policy', async () => {
    const res = await httpGet(server, '/');
    assert.equal(res.status, 200, `GET / answered ${res.status}: ${res.body.slice(0, 300)}`);
    assert.match(String(res.headers['content-type']), /^text\/html/, 'GET / is not text/html');
    assert.match(res.body, /<html/i, 'GET / has no <html');
    const csp = res.headers['content-security-policy'];
    assert.ok(csp && String(csp).length > 0, `GET / has no Content-Security-Policy header: ${safeJson(res.headers)}`);
  });

  await step('path traversal is refused', async () => {
    const res = await httpGet(server, '/not%20a%20valid%20path/..%2f..%2fetc/passwd');
    assert.equal(res.status, 404, `/not a valid path/..%2f..%2fetc/passwd answered ${res.status}: ${res.body.slice(0, 300)}`);
    for (const p of [
      '/..%2f..%2f..%2f..%2fetc%2fpasswd',
      '/js/..%2f..%2f..%2f..%2fetc%2fpasswd',
      '/js/../../../../etc/passwd',
      '/css/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    ]) {
      const r = await httpGet(server, p);
      assert.ok(r.status < 500, `${p} answered ${r.status}`);
      assert.doesNotMatch(r.body, /root:[^:]*:0:0:/, `${p} served /etc/passwd`);
      assert.notEqual(r.status, 200, `${p} answered 200: ${r.body.slice(0, 200)}`);
    }
  });
});

test('bad signaling input while a call runs', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('bad');
  let alice;
  let bob;

  await step('two pages are in a call', async () => {
    alice = await joinRoom(browser, server, room, 'Alice', { diagnostics });
    bob = await joinRoom(browser, server, room, 'Bob', { diagnostics });
    await Promise.all([expectRoster(alice, [bob]), expectRoster(bob, [alice])]);
    await Promise.all([
      expectMediaFlowing(alice.page, [bob.id]),
      expectMediaFlowing(bob.page, [alice.id]),
    ]);
  });

  await step('a foreign Origin is refused with HTTP 403', async () => {
    const err = await connect({ origin: 'https://evil.example', label: 'evil origin' }).then(
      () => null,
      (e) => e,
    );
    assert.ok(err, 'a WebSocket with Origin https://evil.example was accepted');
    assert.equal(err.status, 403, `expected HTTP 403, got ${err.status ?? err}`);
  });

  await step('a missing Origin is refused', async () => {
    const err = await connect({ origin: null, label: 'no origin' }).then(
      () => null,
      (e) => e,
    );
    assert.ok(err, 'a WebSocket without Origin was accepted');
    assert.equal(err.status, 403, `expected HTTP 403, got ${err.status ?? err}`);
  });

  await step('malformed JSON gets bad_message and the socket stays open', async () => {
    const c = await connect({ label: 'malformed JSON' });
    c.send('{"type":"join",');
    await expectError(c, 'bad_message');
    c.send('not json at all');
    await expectError(c, 'bad_message');
    await expectAlive(c);
  });

  await step('an unknown type gets bad_message', async () => {
    const c = await connect({ label: 'dance' });
    c.sendJson({ type: 'dance' });
    await expectError(c, 'bad_message');
    c.sendJson({ no: 'type' });
    await expectError(c, 'bad_message');
    await expectAlive(c);
  });

  await step('a missing or mistyped field gets bad_message', async () => {
    const c = await connect({ label: 'bad fields' });
    c.sendJson({ type: 'join', version: 1, room });
    await expectError(c, 'bad_message');
    c.sendJson({ type: 'join', version: '1', room, name: 'Mallory' });
    await expectError(c, 'bad_message');
    await expectAlive(c);
  });

  await step('a binary frame gets bad_message', async () => {
    const c = await connect({ label: 'binary' });
    c.send(Buffer.from(JSON.stringify({ type: 'ping' })), { binary: true });
    await expectError(c, 'bad_message');
    await expectAlive(c);
  });

  await step('a join with a bad room name gets bad_room_name', async () => {
    const c = await connect({ label: 'bad room' });
    for (const bad of ['../../etc/passwd', 'short123', 'abcdefghijklmnop', `${room}/x`, '']) {
      c.sendJson({ type: 'join', version: 1, room: bad, name: 'Mallory' });
      const m = await expectError(c, 'bad_room_name').catch((e) => {
        e.message = `room ${safeJson(bad)}: ${e.message}`;
        throw e;
      });
      assert.ok(m);
    }
    await expectAlive(c);
  });

  await step('a message before join gets not_joined', async () => {
    const c = await connect({ label: 'not joined' });
    c.sendJson({ type: 'offer', sdp: 'v=0\r\n' });
    await expectError(c, 'not_joined');
    c.sendJson({ type: 'leave' });
    await expectError(c, 'not_joined');
    await expectAlive(c);
  });

  await step('a frame above 1 MiB (signaling.max_message_bytes) gets too_large and close code 1009', async () => {
    const c = await connect({ label: 'too large' });
    c.sendJson({ type: 'ping', padding: 'x'.repeat(1_100_000) });
    await expectError(c, 'too_large', { fatal: true });
    const closed = await Promise.race([c.closed, new Promise((r) => setTimeout(() => r(null), 3000))]);
    assert.ok(closed, 'the socket was not closed within 3 s after too_large');
    assert.equal(closed.code, 1009, `close code ${closed.code} (${closed.reason}), expected 1009`);
  });

  await step('more than 50 messages a second get rate_limited', async () => {
    const c = await connect({ label: 'flood' });
    for (let i = 0; i < 120; i++) c.sendJson({ type: 'ping' });
    const limited = await waitFor(() => c.seen.find((m) => m.type === 'error' && m.code === 'rate_limited'), 3000, {
      message: () => `a rate_limited error after 120 pings (got ${c.seen.length} messages: ${safeJson(c.seen.slice(-3))})`,
    });
    assert.equal(limited.fatal, false, `rate_limited should not be fatal: ${safeJson(limited)}`);
    assert.ok(
      c.seen.filter((m) => m.type === 'pong').length < 120,
      'every one of 120 pings sent at once was answered',
    );
  });

  await step('a joined socket that sends garbage stays in the room until it leaves', async (st) => {
    const c = await connect({ label: 'Mallory' });
    c.sendJson({ type: 'join', version: 1, room: room.toUpperCase(), name: '  Mallory  ' });
    const welcome = await c.nextOfType('welcome');
    assert.equal(welcome.version, 1, `welcome: ${safeJson(welcome)}`);
    assert.equal(typeof welcome.you, 'string', `welcome: ${safeJson(welcome)}`);
    const listed = (welcome.participants || []).map((p) => `${p.id}=${p.name}`).sort();
    assert.deepEqual(listed, [`${alice.id}=Alice`, `${bob.id}=Bob`].sort(), `welcome lists ${safeJson(welcome.participants)}`);
    const mallory = { id: welcome.you, name: 'Mallory' };
    await Promise.all([expectRoster(alice, [bob, mallory]), expectRoster(bob, [alice, mallory])]);

    c.send('{]');
    await expectError(c, 'bad_message');
    c.sendJson({ type: 'dance' });
    await expectError(c, 'bad_message');
    c.send(Buffer.from([0, 1, 2, 3]), { binary: true });
    await expectError(c, 'bad_message');
    c.sendJson({ type: 'join', version: 1, room, name: 'Mallory' });
    await expectError(c, 'already_joined');
    if (c.seen.some((m) => m.type === 'offer')) {
      st.diagnostic('the server sent Mallory an offer before hers: unexpected_answer not tested');
    } else {
      // A well-formed SDP, so that the only thing wrong is that no offer is outstanding.
      c.sendJson({ type: 'answer', sdp: 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n' });
      await expectError(c, 'unexpected_answer');
    }
    await expectAlive(c);
    await Promise.all([expectRoster(alice, [bob, mallory]), expectRoster(bob, [alice, mallory])]);

    c.sendJson({ type: 'leave' });
    const closed = await Promise.race([c.closed, new Promise((r) => setTimeout(() => r(null), 3000))]);
    assert.ok(closed, 'the server did not close the socket within 3 s after leave');
    await Promise.all([expectRoster(alice, [bob], { timeoutMs: 2000 }), expectRoster(bob, [alice], { timeoutMs: 2000 })]);
  });

  await step('the call is undisturbed', async () => {
    for (const m of [alice, bob]) {
      const s = await pageState(m.page);
      assert.equal(s.state, 'in-room', `${m.label} left the room: ${safeJson(s)}`);
      assert.equal(s.participantId, m.id, `${m.label} changed participant id: ${safeJson(s)}`);
    }
    await Promise.all([expectRoster(alice, [bob]), expectRoster(bob, [alice])]);
    await Promise.all([
      expectMediaFlowing(alice.page, [bob.id]),
      expectMediaFlowing(bob.page, [alice.id]),
    ]);
    assert.equal(server.exited, null, `the server exited: ${safeJson(server.exited)}`);
  });
});
