// A whole call through the real binary and headless Chromium: two people, then three, then one
// hangs up, then one browser dies.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Diagnostics,
  expectMediaFlowing,
  expectMediaStopped,
  expectRoster,
  joinRoom,
  launchChromium,
  pageState,
  randomRoom,
  startServer,
  stepper,
  waitFor,
} from './harness.mjs';

const diagnostics = new Diagnostics();
let server;
let browser;
let doomedBrowser;
let frozenBrowser;

before(async () => {
  server = await startServer();
  diagnostics.addServer(server);
  browser = await launchChromium('chromium');
  // Carol gets a browser of her own, so that killing it later is a real abrupt loss.
  doomedBrowser = await launchChromium('chromium-carol');
  // Dave's browser gets frozen (SIGSTOP): its sockets stay open and silent.
  frozenBrowser = await launchChromium('chromium-dave');
});

after(async () => {
  await browser?.close();
  await doomedBrowser?.close();
  await frozenBrowser?.close();
  await server?.stop();
});

/** Waits until every page in `observers` shows `who`'s microphone and camera as `audio`/`video`. */
async function expectMediaState(observers, who, audio, video) {
  await Promise.all(
    observers.map((o) =>
      waitFor(
        async () => {
          const p = (await pageState(o.page)).participants?.[who.id];
          return p && p.audio === audio && p.video === video;
        },
        3000,
        {
          message: `${o.label} to show ${who.label} with audio=${audio} video=${video} in window.webconf.participants`,
        },
      ),
    ),
  );
}

/** Resolves with the ms it took for `member`'s page to drop every trace of `gone`. */
async function tileGone(member, gone, timeoutMs) {
  const start = Date.now();
  await waitFor(
    async () => {
      const s = await pageState(member.page);
      return !s.tiles.some((tl) => tl.id === gone.id) && !(s.participants && s.participants[gone.id]);
    },
    timeoutMs,
    {
      interval: 50,
      message: `${member.label} to drop the tile and participants entry of ${gone.label} (${gone.id})`,
    },
  );
  return Date.now() - start;
}

test('a call between Chromium pages', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('call');
  let alice;
  let bob;
  let carol;

  await step('two pages join the same room', async () => {
    alice = await joinRoom(browser, server, room, 'Alice', { diagnostics });
    bob = await joinRoom(browser, server, room, 'Bob', { diagnostics });
    assert.notEqual(alice.id, bob.id, 'two participants got the same id');
  });

  await step('each lists the other and shows a tile with its name', async () => {
    await Promise.all([expectRoster(alice, [bob]), expectRoster(bob, [alice])]);
  });

  await step("each decodes the other's audio and video", async () => {
    await Promise.all([
      expectMediaFlowing(alice.page, [bob.id]),
      expectMediaFlowing(bob.page, [alice.id]),
    ]);
  });

  await step('a third page joins: everyone sees and hears the two others', async () => {
    carol = await joinRoom(doomedBrowser, server, room, 'Carol', { diagnostics });
    await Promise.all([
      expectRoster(alice, [bob, carol]),
      expectRoster(bob, [alice, carol]),
      expectRoster(carol, [alice, bob]),
    ]);
    await Promise.all([
      expectMediaFlowing(alice.page, [bob.id, carol.id]),
      expectMediaFlowing(bob.page, [alice.id, carol.id]),
      expectMediaFlowing(carol.page, [alice.id, bob.id]),
    ]);
  });

  await step('Alice turns her microphone and camera off and on: the others are told', async () => {
    await alice.page.click('#toggle-mic');
    await expectMediaState([bob, carol], alice, false, true);
    await alice.page.click('#toggle-camera');
    await expectMediaState([bob, carol], alice, false, false);
    await alice.page.click('#toggle-mic');
    await alice.page.click('#toggle-camera');
    await expectMediaState([bob, carol], alice, true, true);
  });

  await step("Bob hangs up: his tile leaves the others' pages within 1 s, his page says left", async (st) => {
    await bob.page.click('#hangup');
    const [a, c] = await Promise.all([tileGone(alice, bob, 1000), tileGone(carol, bob, 1000)]);
    st.diagnostic(`tile gone after ${a} ms (Alice), ${c} ms (Carol)`);
    await waitFor(async () => (await pageState(bob.page)).state === 'left', 2000, {
      message: 'Bob\'s page to reach state "left"',
    });
  });

  await step("Alice and Carol stop receiving Bob's media within ~2 s", async (st) => {
    const [a, c] = await Promise.all([
      expectMediaStopped(alice.page, bob.id, { timeoutMs: 2500 }),
      expectMediaStopped(carol.page, bob.id, { timeoutMs: 2500 }),
    ]);
    st.diagnostic(`media from Bob seen stopped after ${a} ms (Alice), ${c} ms (Carol)`);
  });

  await step('Alice and Carol still see and hear each other', async () => {
    await Promise.all([expectRoster(alice, [carol]), expectRoster(carol, [alice])]);
    await Promise.all([
      expectMediaFlowing(alice.page, [carol.id]),
      expectMediaFlowing(carol.page, [alice.id]),
    ]);
  });

  await step("Carol's browser dies: Alice drops her tile within 15 s", async (st) => {
    doomedBrowser.kill();
    const ms = await tileGone(alice, carol, 15000);
    st.diagnostic(`Carol's tile gone after ${ms} ms`);
    await expectRoster(alice, []);
    assert.equal((await pageState(alice.page)).state, 'in-room', 'Alice is no longer in the room');
  });

  await step("Dave's browser freezes: Alice drops his tile once the server's liveness check gives up", async (st) => {
    const dave = await joinRoom(frozenBrowser, server, room, 'Dave', { diagnostics });
    await Promise.all([expectRoster(alice, [dave]), expectRoster(dave, [alice])]);
    await expectMediaFlowing(alice.page, [dave.id]);
    frozenBrowser.freeze();
    // docs/protocol.md: pings every 5 s, removed after 15 s without a sign of life.
    const ms = await tileGone(alice, dave, 25000);
    st.diagnostic(`Dave's tile gone ${ms} ms after his browser froze`);
    await expectRoster(alice, []);
    frozenBrowser.kill();
  });

  await step('the server is still running', async () => {
    assert.equal(server.exited, null, `the server exited: ${JSON.stringify(server.exited)}`);
  });
});
