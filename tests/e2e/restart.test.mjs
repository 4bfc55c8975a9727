// The server is killed (SIGKILL, as a crash or an OOM kill would) and started again on the same
// HTTP port and the same media ports: the media ports bind again at once, both browsers show
// "reconnecting" meanwhile, join again by themselves (same names, same roles) and media flows
// again within 20 s of the kill (issue 7). No root needed.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Diagnostics,
  expectMediaFlowing,
  joinRoom,
  launchChromium,
  pageState,
  randomRoom,
  startServer,
  waitFor,
  stepRunner,
} from './harness.mjs';

/** Issue 7: clients rejoin and media flows again within 20 s of the server's restart. */
const RESTART_BOUND_MS = 20_000;

const diagnostics = new Diagnostics();
/** @type {Awaited<ReturnType<typeof startServer>>[]} */
const servers = [];
let browser;

before(async () => {
  servers.push(await startServer());
  diagnostics.addServer(servers[0]);
  browser = await launchChromium('chromium');
});

after(async () => {
  await browser?.close();
  for (const s of servers) await s.stop();
});

/** Runs one step; a failure names it and carries the diagnostics (logs of pages and servers). */
const step = stepRunner(diagnostics);

/** The reconnection hooks of a page: state, own id, body[data-connection], the banner. */
function connectionState(page) {
  return page.evaluate(() => ({
    state: document.body.dataset.state,
    connection: document.body.dataset.connection ?? null,
    banner: document.getElementById('reconnecting')?.getAttribute('role') ?? null,
    bannerText: document.getElementById('reconnecting')?.textContent ?? null,
    id: /** @type {any} */ (window).webconf?.participantId ?? null,
    role: /** @type {any} */ (window).webconf?.role ?? null,
    tiles: document.querySelectorAll('#tiles .tile').length,
  }));
}

test('after kill -9 and a restart on the same ports, both browsers rejoin and media flows within 20 s', async () => {
  const first = servers[0];
  const room = randomRoom('restart');
  const alice = await step('alice joins', () => joinRoom(browser, first, room, 'Alice', { diagnostics }));
  const bob = await step('bob joins', () => joinRoom(browser, first, room, 'Bob', { diagnostics }));
  await step('media flows both ways', () =>
    Promise.all([expectMediaFlowing(alice.page, [bob.id]), expectMediaFlowing(bob.page, [alice.id])]));
  for (const p of [alice, bob]) {
    const c = await connectionState(p.page);
    assert.equal(c.connection, 'ok', `${p.label}: body[data-connection] is "ok" in a healthy call`);
    assert.equal(c.banner, null, `${p.label}: no #reconnecting banner in a healthy call`);
  }
  const roles = { alice: (await connectionState(alice.page)).role, bob: (await connectionState(bob.page)).role };

  const killedAt = Date.now();
  first.process.kill('SIGKILL');
  await waitFor(() => first.exited, 5000, { message: 'the server to exit after SIGKILL' });

  await step('both show "reconnecting" and stay in the room', () =>
    Promise.all([alice, bob].map((p) => waitFor(async () => {
      const c = await connectionState(p.page);
      return c.state === 'in-room' && c.connection === 'reconnecting' && c.banner === 'status' && c.tiles >= 1 ? c : null;
    }, 5000, { message: `${p.label} to show #reconnecting (role status) with body[data-connection="reconnecting"]` }))));

  // Same HTTP port, same media ports, started at once: the ports must be free again.
  const restartAt = Date.now();
  const second = await step('the server starts again on the same ports', () =>
    startServer({ listen: `127.0.0.1:${first.port}`, mediaPorts: first.mediaPorts }));
  servers.push(second);
  diagnostics.addServer(second);
  const bindMs = Date.now() - restartAt;
  console.log(`restart: the new server listened ${bindMs} ms after being started (${restartAt - killedAt} ms after the kill)`);
  assert.equal(second.port, first.port);
  assert.deepEqual(second.mediaPorts, first.mediaPorts);

  // Both join again by themselves: new participant ids, same names and roles.
  const back = await step('both are back in the room', () =>
    Promise.all([alice, bob].map((p) => waitFor(async () => {
      const c = await connectionState(p.page);
      return c.state === 'in-room' && c.id && c.id !== p.id && c.tiles === 2 ? c : null;
    }, RESTART_BOUND_MS, { message: `${p.label} to join again (a new participant id and two tiles)` }))));
  const [alice2, bob2] = back;
  assert.equal(alice2.role, roles.alice, 'Alice keeps her role');
  assert.equal(bob2.role, roles.bob, 'Bob keeps his role');
  const names = await Promise.all([alice, bob].map((p) => pageState(p.page)));
  assert.equal(names[0].participants[bob2.id]?.name, 'Bob', 'Alice sees Bob again under his name');
  assert.equal(names[1].participants[alice2.id]?.name, 'Alice', 'Bob sees Alice again under her name');

  await step('media flows again both ways', () =>
    Promise.all([
      expectMediaFlowing(alice.page, [bob2.id], { timeoutMs: RESTART_BOUND_MS, windowMs: 500 }),
      expectMediaFlowing(bob.page, [alice2.id], { timeoutMs: RESTART_BOUND_MS, windowMs: 500 }),
    ]));
  const flowingMs = Date.now() - killedAt;
  console.log(`restart: media flowing again both ways ${flowingMs} ms after the kill (bound ${RESTART_BOUND_MS} ms)`);
  assert.ok(flowingMs < RESTART_BOUND_MS, `media back within ${RESTART_BOUND_MS} ms of the kill (took ${flowingMs} ms)`);

  for (const p of [alice, bob]) {
    const c = await waitFor(async () => {
      const s = await connectionState(p.page);
      return s.connection === 'ok' && s.banner === null ? s : null;
    }, 5000, { message: `${p.label}: the banner to go and body[data-connection] to be "ok"` });
    assert.equal(c.state, 'in-room');
  }
});
