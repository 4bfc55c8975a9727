// Interoperability: a Firefox page and a Chromium page in one room, through the real binary.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Diagnostics,
  expectMediaFlowing,
  expectRoster,
  joinRoom,
  launchChromium,
  launchFirefox,
  randomRoom,
  startServer,
  stepper,
} from './harness.mjs';

const diagnostics = new Diagnostics();
let server;
let firefox;
let chromium;

before(async () => {
  server = await startServer();
  diagnostics.addServer(server);
  [firefox, chromium] = await Promise.all([launchFirefox('firefox'), launchChromium('chromium')]);
});

after(async () => {
  await firefox?.close();
  await chromium?.close();
  await server?.stop();
});

test('Firefox and Chromium in one call', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('interop');
  let fox;
  let chrome;

  await step('a Firefox page and a Chromium page join the same room', async () => {
    fox = await joinRoom(firefox, server, room, 'Firmin Fox', { label: 'Firefox', diagnostics });
    chrome = await joinRoom(chromium, server, room, 'Chloé Chrome', { label: 'Chromium', diagnostics });
    await Promise.all([expectRoster(fox, [chrome]), expectRoster(chrome, [fox])]);
  });

  await step("each decodes the other's audio and video", async () => {
    await Promise.all([
      expectMediaFlowing(fox.page, [chrome.id], { timeoutMs: 25000 }),
      expectMediaFlowing(chrome.page, [fox.id], { timeoutMs: 25000 }),
    ]);
  });

  await step('the server is still running', async () => {
    assert.equal(server.exited, null, `the server exited: ${JSON.stringify(server.exited)}`);
  });
});
