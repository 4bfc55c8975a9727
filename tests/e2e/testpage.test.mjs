// The connection test page (/test) in real headless Chromium (fake camera and microphone) against
// the real binary: on a working setup every check passes, the verdict is `ok` and the downloaded
// report holds the figures; with UDP blocked in the browser the media check passes over TCP on the
// HTTPS port (ICE-TCP) with a warning that names the server's UDP ports, and on a server without
// that fallback (`media.tcp = false`) it fails and the verdict names them. The probe session is
// gone from the server afterwards.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  Diagnostics,
  appendContext,
  httpRequest,
  launchChromium,
  newPage,
  pageLogTail,
  startServer,
  waitFor,
} from './harness.mjs';

const diagnostics = new Diagnostics();
let server;
/** A server without the ICE-TCP fallback. */
let udpOnlyServer;

before(async () => {
  server = await startServer();
  diagnostics.addServer(server);
  // `tcp = false` is appended to the [media] table.
  udpOnlyServer = await startServer({ extraToml: 'tcp = false' });
  diagnostics.addServer(udpOnlyServer);
});

after(async () => {
  await server?.stop();
  await udpOnlyServer?.stop();
});

/** The status, code and line of every check, and the verdict, in one round trip. */
function pageChecks(page) {
  return page.evaluate(() => {
    const checks = {};
    for (const li of document.querySelectorAll('li[id^="check-"]')) {
      checks[li.id.slice('check-'.length)] = {
        status: li.getAttribute('data-status'),
        code: li.getAttribute('data-code'),
        line: li.querySelector('.check-line')?.textContent ?? '',
      };
    }
    const v = document.getElementById('test-verdict');
    return {
      checks,
      verdict: v && !v.hidden ? v.getAttribute('data-verdict') : null,
      advice: v ? [...v.querySelectorAll('li')].map((li) => li.textContent) : [],
    };
  });
}

/**
 * Opens /test in a fresh page, starts the test and records the page's probe requests
 * (`POST /api/probe` answers and `DELETE /api/probe/<id>` statuses).
 */
async function startTest(browser, label, srv = server) {
  const page = await newPage(browser, label);
  diagnostics.addPage(label, page);
  const probes = { opened: [], deleted: [] };
  page.on('response', async (res) => {
    const url = new URL(res.url());
    const method = res.request().method();
    if (url.pathname === '/api/probe' && method === 'POST') {
      probes.opened.push({ status: res.status(), json: await res.json().catch(() => null) });
    } else if (url.pathname.startsWith('/api/probe/') && method === 'DELETE') {
      probes.deleted.push({ id: url.pathname.split('/').pop(), status: res.status() });
    }
  });
  // Reached from the home page's link (in-app navigation to the stable address /test).
  // Generous waits: on a busy machine loading the page alone can take tens of seconds.
  await page.goto(`${srv.url}/`, { timeout: 60000 });
  await page.waitForSelector('#home-test-link', { timeout: 60000 }).catch((e) => {
    // Say why in the message itself (the TAP reporter prints no appended context): a page
    // that never rendered usually logged a module error.
    throw new Error(`${e.message} at ${page.url()}; console:\n${pageLogTail(page, 20)}`);
  });
  await page.click('#home-test-link');
  await waitFor(() => page.evaluate(() => document.body.dataset.state === 'test'), 30000, { message: 'the test page' });
  assert.equal(new URL(page.url()).pathname, '/test');
  // /test itself serves the client (a page load, as from a bookmark or the help texts).
  const direct = await httpRequest(srv, 'GET', '/test');
  assert.equal(direct.status, 200);
  assert.match(direct.body, /<main id="app"/);
  await page.click('#test-start');
  return { page, probes };
}

/** The probe the page opened is gone server-side: deleting it again finds nothing. */
async function expectProbeGone(probes, srv = server) {
  assert.equal(probes.opened.length, 1, 'one probe opened');
  assert.equal(probes.opened[0].status, 200);
  const id = probes.opened[0].json.id;
  assert.match(id, /^[0-9a-f]{32}$/);
  await waitFor(() => probes.deleted.length > 0, 5000, { message: 'the page deletes its probe' });
  assert.deepEqual(probes.deleted, [{ id, status: 204 }]);
  const again = await httpRequest(srv, 'DELETE', `/api/probe/${id}`, { headers: { Origin: srv.origin } });
  assert.equal(again.status, 404);
  assert.equal(again.json.error, 'not_found');
}

test('a working setup passes every check, and the report downloads with the figures', async (t) => {
  const browser = await launchChromium('chromium');
  const downloads = fs.mkdtempSync(path.join(os.tmpdir(), 'webconf-e2e-report-'));
  t.after(async () => {
    await browser.close();
    fs.rmSync(downloads, { recursive: true, force: true });
  });
  try {
    const { page, probes } = await startTest(browser, 'tester');
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', {
      behavior: 'allow',
      downloadPath: downloads,
      browserContextId: page.browserContext().id,
    });
    await page.click('#test-sound-play');
    await page.click('#speakers-yes');

    const done = await waitFor(async () => {
      const s = await pageChecks(page);
      return s.verdict ? s : null;
    }, 120000, { message: 'the verdict' });
    for (const id of ['camera', 'microphone', 'speakers', 'websocket', 'media']) {
      assert.equal(done.checks[id].status, 'ok', `${id}: ${JSON.stringify(done.checks[id])}`);
    }
    assert.equal(done.verdict, 'ok', JSON.stringify(done));
    assert.deepEqual(done.advice, []);
    assert.match(done.checks.media.line, /UDP/);

    await page.click('#test-report');
    const file = await waitFor(() => {
      const names = fs.readdirSync(downloads).filter((n) => n.endsWith('.json'));
      return names.length ? names[0] : null;
    }, 10000, { message: 'the downloaded report' });
    assert.match(file, /^webconf-test-\d{4}-\d{2}-\d{2}\.json$/);
    const report = JSON.parse(fs.readFileSync(path.join(downloads, file), 'utf8'));
    assert.equal(report.verdict, 'ok');
    assert.ok(!Number.isNaN(Date.parse(report.date)));
    assert.match(report.user_agent, /Chrome/);
    const media = report.checks.media;
    assert.equal(media.status, 'ok');
    assert.equal(media.figures.transport, 'udp');
    const { min, max } = server.mediaPorts;
    assert.ok(media.figures.serverPort >= min && media.figures.serverPort <= max,
      `server port ${media.figures.serverPort} in ${min}-${max}`);
    assert.equal(typeof media.figures.rttMs, 'number');
    assert.equal(media.figures.reports, true, 'the server sent RTCP receiver reports');
    assert.ok(media.figures.packetsSent > 0);
    assert.equal(report.checks.camera.status, 'ok');
    assert.ok(report.checks.camera.figures.width > 0);
    assert.equal(report.checks.websocket.status, 'ok');
    assert.equal(report.checks.speakers.status, 'ok');
    // The server's own network facts, when it tells them (GET /api/network).
    const net = await httpRequest(server, 'GET', '/api/network');
    if (net.status === 200) {
      assert.deepEqual(report.server.udp_ports, [min, max]);
      assert.equal(report.server.network_source, 'api');
    }
    // Nothing personal: no device label (the fake devices' labels name them).
    assert.doesNotMatch(JSON.stringify(report), /fake|Fake/);

    await expectProbeGone(probes);
  } catch (e) {
    appendContext(e, await diagnostics.render());
    throw e;
  }
});

test('with UDP blocked and no TCP fallback the media check fails and the verdict names the ports', async (t) => {
  // Chromium then sends WebRTC only over UDP through a proxy, and there is none: no UDP at all,
  // as behind a firewall that lets HTTPS through and drops UDP. (Checked with Chromium 156: this
  // switch leaves no candidate at all; `--force-webrtc-ip-handling-policy` changes nothing.)
  const browser = await launchChromium('chromium-no-udp', {
    extraArgs: ['--webrtc-ip-handling-policy=disable_non_proxied_udp'],
  });
  t.after(() => browser.close());
  try {
    const { page, probes } = await startTest(browser, 'blocked', udpOnlyServer);
    await page.click('#speakers-yes');
    const done = await waitFor(async () => {
      const s = await pageChecks(page);
      return s.verdict ? s : null;
    }, 120000, { message: 'the verdict' });
    assert.equal(done.checks.websocket.status, 'ok', 'HTTPS and the WebSocket still work');
    assert.equal(done.checks.media.status, 'fail', JSON.stringify(done.checks.media));
    assert.equal(done.checks.media.code, 'no_connection');
    assert.equal(done.verdict, 'fail');
    const net = await httpRequest(udpOnlyServer, 'GET', '/api/network');
    const { min, max } = udpOnlyServer.mediaPorts;
    const ports = net.status === 200 ? `${min}-${max}` : '10000-10010';
    assert.ok(done.advice.some((a) => a.includes(ports) && a.includes('UDP')), `advice names UDP ${ports}: ${done.advice}`);
    await expectProbeGone(probes, udpOnlyServer);
  } catch (e) {
    appendContext(e, await diagnostics.render());
    throw e;
  }
});

test('with UDP blocked but TCP to the HTTPS port open the media check warns: TCP only', async (t) => {
  // The same browser flag, against a server with the ICE-TCP fallback (the default): media
  // reaches it over TCP on its HTTPS port, which works but may stutter.
  const browser = await launchChromium('chromium-tcp-only', { blockUdp: true });
  t.after(() => browser.close());
  try {
    const { page, probes } = await startTest(browser, 'tcp-only');
    await page.click('#speakers-yes');
    const done = await waitFor(async () => {
      const s = await pageChecks(page);
      return s.verdict ? s : null;
    }, 120000, { message: 'the verdict' });
    assert.equal(done.checks.websocket.status, 'ok');
    assert.equal(done.checks.media.status, 'warning', JSON.stringify(done.checks.media));
    assert.equal(done.checks.media.code, 'tcp');
    assert.ok(done.checks.media.line.includes('TCP'), done.checks.media.line);
    assert.ok(done.checks.media.line.includes(String(server.port)), `names the HTTPS port: ${done.checks.media.line}`);
    assert.equal(done.verdict, 'warning');
    const { min, max } = server.mediaPorts;
    assert.ok(done.advice.some((a) => a.includes('TCP')), `advice says it works over TCP only: ${done.advice}`);
    assert.ok(
      done.advice.some((a) => a.includes(`${min}-${max}`) && a.includes('UDP')),
      `advice asks to open UDP ${min}-${max}: ${done.advice}`,
    );
    await expectProbeGone(probes);
  } catch (e) {
    appendContext(e, await diagnostics.render());
    throw e;
  }
});
