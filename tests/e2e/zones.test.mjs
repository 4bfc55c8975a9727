// Per-zone media addresses (issue 7) through the real binary and real headless Chromium:
// internet and internal media flows are kept apart.
//
// One dual-stack server. Its zone "internal" is 127.0.0.0/8 (agents) with its own media
// address 127.0.0.1; everyone else (here [::1]) is in the zone "internet", whose media address
// is media.addresses = ["::1"]. An agent on https://127.0.0.1 and a guest on https://[::1] share
// a call: each is offered, and uses, only its zone's address, and a STUN request carrying the
// guest's credentials sent to the internal address is dropped (counted in a debug log line).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import {
  Diagnostics,
  expectMediaFlowing,
  expectRoster,
  joinRoom,
  launchChromium,
  randomRoom,
  safeJson,
  startServer,
  stepper,
  waitFor,
} from './harness.mjs';

const INTERNAL = '127.0.0.1';
const INTERNET = '[::1]';
/** The core's debug line for a packet that reached another zone's address. */
const DROP_LINE = 'packet on a local address outside its zone dropped';

const diagnostics = new Diagnostics();
let server;
let agentBrowser;
let guestBrowser;

before(async () => {
  // The drop counter is visible as a debug line of the media core.
  process.env.RUST_LOG = 'info,str0m=warn,webconf_media::sfu=debug,webconf_server::engine=debug';
  server = await startServer({
    listen: '[::]:0',
    mediaAddresses: ['::1'],
    extraToml: [
      '[[access.zones]]',
      'name = "internal"',
      'ranges = ["127.0.0.0/8"]',
      'agents = true',
      'media_addresses = ["127.0.0.1"]',
      '',
    ].join('\n'),
  });
  diagnostics.addServer(server);
  [agentBrowser, guestBrowser] = await Promise.all([launchChromium('chromium-agent'), launchChromium('chromium-guest')]);
});

after(async () => {
  await agentBrowser?.close();
  await guestBrowser?.close();
  await server?.stop();
});

/** The page's peer connection: SDP of both sides and the selected pair's server address. */
function iceView(page) {
  return page.evaluate(async () => {
    const pc = /** @type {any} */ (window).webconf?.pc;
    if (!pc) return null;
    const stats = await pc.getStats();
    let pairId;
    stats.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    const pair = pairId && stats.get(pairId);
    const remote = pair && stats.get(pair.remoteCandidateId);
    return {
      local: pc.localDescription?.sdp ?? '',
      remote: pc.remoteDescription?.sdp ?? '',
      serverAddress: remote ? (remote.address ?? remote.ip) : null,
      serverPort: remote ? remote.port : null,
      protocol: remote ? remote.protocol : null,
    };
  });
}

/** The addresses of the a=candidate lines of an SDP. */
function candidateAddresses(sdp) {
  return [...sdp.matchAll(/^a=candidate:\S+ \d+ \S+ \d+ (\S+) (\d+)/gm)].map((m) => m[1]);
}

function ufragOf(sdp) {
  const m = /^a=ice-ufrag:(\S+)/m.exec(sdp);
  assert.ok(m, `no a=ice-ufrag in ${sdp}`);
  return m[1];
}

/**
 * A STUN binding request (RFC 5389, with ICE's PRIORITY and ICE-CONTROLLING) with this USERNAME
 * and a MESSAGE-INTEGRITY of zeros: wrong on purpose, the drop must come before any check.
 */
function stunBindingRequest(username) {
  const attr = (type, value) => {
    const out = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
    out.writeUInt16BE(type, 0);
    out.writeUInt16BE(value.length, 2);
    value.copy(out, 4);
    return out;
  };
  const priority = Buffer.alloc(4);
  priority.writeUInt32BE(0x6e001eff, 0);
  const attrs = Buffer.concat([
    attr(0x0006, Buffer.from(username, 'utf8')),
    attr(0x0024, priority),
    attr(0x802a, Buffer.alloc(8, 1)),
    attr(0x0008, Buffer.alloc(20)),
  ]);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(0x0001, 0);
  header.writeUInt16BE(attrs.length, 2);
  header.writeUInt32BE(0x2112a442, 4);
  for (let i = 8; i < 20; i++) header[i] = Math.floor(Math.random() * 256);
  return Buffer.concat([header, attrs]);
}

/** Drop lines logged so far by the server. */
function dropCount() {
  return server
    .tail(5000)
    .split('\n')
    .filter((l) => l.includes(DROP_LINE)).length;
}

test('each zone is offered and uses its own media address; another zone\'s address drops its packets', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('zones');
  let agent;
  let guest;

  await step('an internal agent (127.0.0.1) and an internet guest ([::1]) are in one call, media both ways', async () => {
    agent = await joinRoom(agentBrowser, server, room, 'Agathe Agent', { label: 'agent', diagnostics, host: INTERNAL });
    guest = await joinRoom(guestBrowser, server, room, 'Gaston Guest', { label: 'guest', diagnostics, host: INTERNET });
    await Promise.all([expectRoster(agent, [guest]), expectRoster(guest, [agent])]);
    await Promise.all([expectMediaFlowing(agent.page, [guest.id]), expectMediaFlowing(guest.page, [agent.id])]);
  });

  await step('each answer lists only its zone\'s address, and each selected pair uses it', async () => {
    for (const [who, address] of [
      [agent, '127.0.0.1'],
      [guest, '::1'],
    ]) {
      let view;
      await waitFor(
        async () => {
          view = await iceView(who.page);
          return view?.serverAddress;
        },
        10000,
        { message: () => `${who.label}: a selected candidate pair; ${safeJson(view)}` },
      );
      const offered = candidateAddresses(view.remote);
      assert.ok(offered.length > 0, `${who.label}: no candidate in the answer:\n${view.remote}`);
      assert.deepEqual([...new Set(offered)], [address], `${who.label}: candidates of the answer`);
      assert.equal(view.serverAddress, address, `${who.label}: selected pair ${safeJson(view)}`);
    }
  });

  await step('a STUN request with the guest\'s credentials sent to the internal address is dropped', async () => {
    const view = await iceView(guest.page);
    const username = `${ufragOf(view.remote)}:${ufragOf(view.local)}`;
    const udpPort = [...view.remote.matchAll(/^a=candidate:\S+ \d+ udp \d+ \S+ (\d+) typ host/gim)].map((m) => Number(m[1]))[0];
    assert.ok(udpPort, `a UDP candidate port in the guest's answer:\n${view.remote}`);
    const before = dropCount();
    const sock = dgram.createSocket('udp4');
    const replies = [];
    sock.on('message', (msg) => replies.push(msg));
    await new Promise((resolve) => sock.bind(0, '127.0.0.1', resolve));
    try {
      for (let i = 0; i < 3; i++) {
        sock.send(stunBindingRequest(username), udpPort, '127.0.0.1');
      }
      await waitFor(() => dropCount() >= before + 3, 5000, {
        message: () =>
          `3 new "${DROP_LINE}" lines in the server log (had ${before}, now ${dropCount()}); ` +
          `its last debug lines:\n${server.tail(5000).split('\n').filter((l) => l.includes('DEBUG')).slice(-15).join('\n')}`,
      });
      // Give an answer, if any, time to come back.
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(replies.length, 0, `the internal address answered the guest's STUN: ${replies.length} replies`);
    } finally {
      sock.close();
    }
  });

  await step('the call goes on for both', async () => {
    // A video may pause a moment (a layer switch waits for a keyframe on a loaded machine):
    // flowing again within 20 s is what matters.
    const keepsFlowing = async (page, id) => {
      let last;
      try {
        await waitFor(
          () =>
            expectMediaFlowing(page, [id]).then(
              () => true,
              (e) => {
                last = e;
                return false;
              },
            ),
          20000,
          { interval: 200, message: () => `${page.label}: media from ${id} flowing again` },
        );
      } catch (e) {
        throw last ?? e;
      }
    };
    await Promise.all([keepsFlowing(agent.page, guest.id), keepsFlowing(guest.page, agent.id)]);
  });
});

test('GET /api/network tells each zone its own media addresses', async () => {
  const page = await guestBrowser.newPage();
  const agentPage = await agentBrowser.newPage();
  try {
    const ask = async (p, host) => {
      await p.goto(`${server.urlFor(host)}/`, { waitUntil: 'domcontentloaded' });
      return p.evaluate(async () => (await fetch('/api/network', { cache: 'no-store' })).json());
    };
    assert.deepEqual((await ask(page, INTERNET)).media.addresses, ['::1']);
    assert.deepEqual((await ask(agentPage, INTERNAL)).media.addresses, ['127.0.0.1']);
  } finally {
    await page.close();
    await agentPage.close();
  }
});
