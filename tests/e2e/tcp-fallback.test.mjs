// Media through the HTTPS port when UDP is blocked (ICE-TCP, issue 7), through the real binary
// and headless Chromium: a participant whose browser may not use UDP joins a call with one whose
// browser may. With nothing configured, the blocked one connects over TCP to the server's HTTPS
// port: media flows both ways, its selected candidate pair is TCP on that port, its own tile's
// connection indicator says TCP and the server's `stats` message says `transport: "tcp"`. HTTPS
// pages and WebSockets keep working on the same port during the call.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Diagnostics,
  connectSignaling,
  expectMediaFlowing,
  httpGet,
  joinRoom,
  launchChromium,
  newPage,
  pageState,
  randomRoom,
  startServer,
  stepper,
  waitFor,
} from './harness.mjs';

const diagnostics = new Diagnostics();
let server;
let browser;
let blockedBrowser;

before(async () => {
  server = await startServer();
  diagnostics.addServer(server);
  browser = await launchChromium('chromium');
  blockedBrowser = await launchChromium('chromium-no-udp', { blockUdp: true });
});

after(async () => {
  await browser?.close();
  await blockedBrowser?.close();
  await server?.stop();
});

/**
 * Joins like `joinRoom`, recording the server's `stats` messages from the page's signaling
 * WebSocket (through the DevTools protocol, so from the first frame on).
 */
async function joinRecordingStats(b, room, name) {
  const page = await newPage(b, name);
  diagnostics.addPage(name, page);
  /** @type {any[]} */
  const stats = [];
  const cdp = await page.createCDPSession();
  await cdp.send('Network.enable');
  cdp.on('Network.webSocketFrameReceived', ({ response }) => {
    try {
      const m = JSON.parse(response.payloadData);
      if (m && m.type === 'stats') stats.push(m);
    } catch {
      // Not JSON: not ours to check here.
    }
  });
  await page.goto(`${server.url}/${room}?name=${encodeURIComponent(name)}&autojoin=1`, { waitUntil: 'domcontentloaded' });
  const st = await waitFor(async () => {
    const s = await pageState(page);
    return s.state === 'in-room' && s.participantId ? s : null;
  }, 20000, { message: `${name} to reach the room` });
  return { page, id: st.participantId, name, label: name, stats };
}

/** Page-side: the selected candidate pair of the page's peer connection. */
async function selectedPair() {
  const pc = window.webconf?.pc;
  if (!pc) return null;
  const report = await pc.getStats();
  /** @type {Map<string, any>} */
  const byId = new Map();
  report.forEach((s) => byId.set(s.id, s));
  let pair = null;
  for (const s of byId.values()) {
    if (s.type === 'transport' && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId);
  }
  if (!pair) return null;
  const local = byId.get(pair.localCandidateId);
  const remote = byId.get(pair.remoteCandidateId);
  return {
    state: pair.state,
    localProtocol: local?.protocol,
    remoteProtocol: remote?.protocol,
    remotePort: remote?.port,
    remoteType: remote?.candidateType,
    tcpType: remote?.tcpType ?? null,
  };
}

/** Page-side: the transport figure of `id`'s tile's connection indicator. */
function indicatorTransport(id) {
  const tile = document.querySelector(`#tiles .tile[data-participant-id="${id}"]`);
  const row = tile?.querySelector('.conn-details [data-figure="transport"] dd');
  return row?.textContent ?? null;
}

test('UDP blocked: the call works over TCP on the HTTPS port, and says so', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('tcp');
  let udp;
  let tcp;
  await step('Ursula joins from a working network, Theo from one that blocks UDP', async () => {
    udp = await joinRoom(browser, server, room, 'Ursula', { diagnostics });
    tcp = await joinRecordingStats(blockedBrowser, room, 'Theo');
  });
  await step('media flows both ways', async () => {
    await expectMediaFlowing(tcp.page, [udp.id], { label: 'Theo (TCP)', timeoutMs: 30000 });
    await expectMediaFlowing(udp.page, [tcp.id], { label: 'Ursula (UDP)', timeoutMs: 30000 });
  });
  await step("Theo's selected candidate pair is TCP to the server's HTTPS port", async () => {
    const pair = await waitFor(async () => {
      const p = await tcp.page.evaluate(selectedPair);
      return p && p.state === 'succeeded' ? p : null;
    }, 15000, { message: 'a selected candidate pair' });
    assert.equal(pair.localProtocol, 'tcp', JSON.stringify(pair));
    assert.equal(pair.remoteProtocol, 'tcp', JSON.stringify(pair));
    assert.equal(pair.remotePort, server.port, JSON.stringify(pair));
    const other = await udp.page.evaluate(selectedPair);
    assert.equal(other?.localProtocol, 'udp', `Ursula stays on UDP: ${JSON.stringify(other)}`);
  });
  await step("Theo's own tile's indicator says TCP; Ursula's says UDP", async () => {
    await waitFor(async () => (await tcp.page.evaluate(indicatorTransport, tcp.id)) === 'TCP', 15000, {
      message: "Theo's indicator to say TCP",
    });
    await waitFor(async () => (await udp.page.evaluate(indicatorTransport, udp.id)) === 'UDP', 15000, {
      message: "Ursula's indicator to say UDP",
    });
  });
  await step('the server measures Theo on TCP, on its HTTPS port', async () => {
    const s = await waitFor(() => tcp.stats.find((m) => m.transport), 15000, {
      message: () => `a server stats message with a transport (got ${JSON.stringify(tcp.stats.slice(-3))})`,
    });
    assert.equal(s.transport, 'tcp', JSON.stringify(s));
    assert.equal(s.server_port, server.port, JSON.stringify(s));
  });
  await step('HTTPS pages and WebSockets still work on that port during the call', async () => {
    const page = await httpGet(server, '/');
    assert.equal(page.status, 200);
    assert.match(page.body, /<main id="app"/);
    const ws = await connectSignaling(server.wsUrl, { origin: server.origin, label: 'during the call' });
    ws.sendJson({ type: 'ping' });
    const pong = await ws.nextOfType('pong', 5000);
    assert.equal(pong.type, 'pong');
    ws.terminate();
    await expectMediaFlowing(tcp.page, [udp.id], { label: 'Theo (TCP), after', timeoutMs: 10000 });
  });
  await udp?.page.close();
  await tcp?.page.close();
});
