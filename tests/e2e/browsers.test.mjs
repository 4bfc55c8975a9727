// Self-test of the browser plumbing, independent of webconf: each browser does a WebRTC loopback
// between two RTCPeerConnections in one page, with its fake camera and microphone, and the
// stats helper must see audio and video decoded. When this fails, the other e2e failures say
// nothing about webconf: the machine's browsers, flags or puppeteer are at fault.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  appendContext,
  Diagnostics,
  expectMediaFlowing,
  launchChromium,
  launchFirefox,
  newPage,
  waitFor,
} from './harness.mjs';

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>loopback</title></head>
<body data-state="joining"><video id="v" autoplay playsinline></video>
<script type="module">
try {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  a.onicecandidate = (e) => { if (e.candidate) b.addIceCandidate(e.candidate); };
  b.onicecandidate = (e) => { if (e.candidate) a.addIceCandidate(e.candidate); };
  b.ontrack = (e) => {
    const v = document.getElementById('v');
    if (v.srcObject !== e.streams[0]) v.srcObject = e.streams[0];
  };
  for (const track of stream.getTracks()) a.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription();
  await a.setRemoteDescription(b.localDescription);
  window.webconf = { pc: b, participantId: 'loopback-receiver', participants: {} };
  window.senderId = stream.id;
  document.body.dataset.state = 'in-room';
} catch (e) {
  console.error('loopback failed: ' + (e && e.stack || e));
  document.body.dataset.state = 'error';
}
</script></body></html>`;

let server;
let origin;

before(async () => {
  server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
});

for (const [name, launch] of [
  ['chromium', launchChromium],
  ['firefox', launchFirefox],
]) {
  test(`${name}: fake camera and microphone loop back through WebRTC, stats helper sees them`, async (t) => {
    const browser = await launch(`selftest-${name}`);
    t.after(() => browser.close());
    const page = await newPage(browser, name);
    const diagnostics = new Diagnostics();
    diagnostics.addPage(name, page);
    try {
      await page.goto(origin, { waitUntil: 'domcontentloaded' });
      await waitFor(
        () => page.evaluate(() => document.body.dataset.state === 'in-room' || document.body.dataset.state === 'error'),
        15000,
        { message: 'the loopback page to set up its peer connections' },
      );
      const state = await page.evaluate(() => document.body.dataset.state);
      assert.equal(state, 'in-room', 'the loopback page failed to set up');
      const senderId = await page.evaluate(() => /** @type {any} */ (window).senderId);
      const stats = await expectMediaFlowing(page, [senderId], { label: name, timeoutMs: 15000 });
      t.diagnostic(`${name} inbound: ${JSON.stringify(stats.byParticipant[senderId])}`);
    } catch (e) {
      appendContext(e, await diagnostics.render());
      throw e;
    }
  });
}
