// Unit tests of js/conntest.js: the connection test's verdict, advice, figures and report.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CHECK_IDS, CHECK_TIMING, PROBE_LIFETIME_MS, SERVER_REPORT_INTERVAL_MS, UNKNOWN_NETWORK, answerCandidates, buildReport, judgeMedia, mediaFigures, networkInfo,
  parseNetwork, reportFilename, result, udpAdvice, udpPortsText, verdict,
} from '../js/conntest.js';
import fr from '../js/i18n/fr.js';
import en from '../js/i18n/en.js';

const API = parseNetwork({ media: { addresses: ['192.0.2.10'], udp_ports: [10000, 10010] }, https_port: 443 });

const ANSWER = [
  'v=0',
  'o=str0m-123 1 2 IN IP4 0.0.0.0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=candidate:1 1 udp 2130706175 192.0.2.10 10003 typ host',
  'a=candidate:2 1 udp 2130706175 2001:db8::10 10003 typ host',
  'a=end-of-candidates',
].join('\r\n');

/** Every check passed. */
function allOk() {
  return {
    camera: result('ok', null, { width: 640, height: 480 }),
    microphone: result('ok', null, { peakLevel: 0.3 }),
    speakers: result('ok', null, { answered: true }),
    websocket: result('ok', null, { https: true, rttMs: 3 }),
    media: result('ok', null, { transport: 'udp', serverPort: 10003, rttMs: 12, lossPercent: 0 }),
  };
}

test('parseNetwork takes the server answer and refuses anything else', () => {
  assert.deepEqual(API, { addresses: ['192.0.2.10'], udpPorts: [10000, 10010], httpsPort: 443, source: 'api' });
  assert.equal(parseNetwork(null), null);
  assert.equal(parseNetwork('x'), null);
  assert.equal(parseNetwork({ error: 'not_found' }), null);
  assert.equal(parseNetwork({ media: { addresses: [], udp_ports: [10, 5] } }), null, 'reversed range, no address');
  assert.deepEqual(parseNetwork({ media: { addresses: ['a', 7], udp_ports: [0, 70000] }, https_port: 'x' }),
    { addresses: ['a'], udpPorts: null, httpsPort: null, source: 'api' });
});

test('the SDP answer tells the server candidates when /api/network does not', () => {
  assert.deepEqual(answerCandidates(ANSWER), [
    { address: '192.0.2.10', port: 10003 },
    { address: '2001:db8::10', port: 10003 },
  ]);
  assert.deepEqual(networkInfo(null, ANSWER),
    { addresses: ['192.0.2.10', '2001:db8::10'], udpPorts: [10003, 10003], httpsPort: null, source: 'answer' });
  assert.equal(networkInfo(API, ANSWER), API, 'the API wins');
  assert.equal(networkInfo(null, null), UNKNOWN_NETWORK);
  assert.equal(networkInfo(null, 'v=0\r\n'), UNKNOWN_NETWORK);
});

test('the ports to open: the server range, else the FAQ range', () => {
  assert.equal(udpPortsText(API), '10000-10010');
  assert.equal(udpPortsText({ ...API, udpPorts: [20000, 20000] }), '20000');
  assert.equal(udpPortsText(UNKNOWN_NETWORK), '10000-10010');
  assert.deepEqual(udpAdvice(API), { key: 'conntest.advice.udp', params: { ports: '10000-10010', address: '192.0.2.10' } });
  assert.deepEqual(udpAdvice(networkInfo(null, ANSWER)), {
    key: 'conntest.advice.udpOnePort',
    params: { port: 10003, address: '192.0.2.10, 2001:db8::10', ports: '10000-10010' },
  });
  assert.deepEqual(udpAdvice(UNKNOWN_NETWORK), { key: 'conntest.advice.udpUnknown', params: { ports: '10000-10010' } });
});

test('all checks passed: ok, nothing to do', () => {
  assert.deepEqual(verdict(allOk(), API), { verdict: 'ok', advice: [] });
});

test('an unanswered speakers question only warns', () => {
  const r = { ...allOk(), speakers: result('warning', 'unanswered') };
  const v = verdict(r, API);
  assert.equal(v.verdict, 'warning');
  assert.deepEqual(v.advice.map((a) => a.key), ['conntest.advice.answerSpeakers']);
});

test('blocked UDP fails and names the ports and the address', () => {
  const r = { ...allOk(), media: result('fail', 'no_connection') };
  const v = verdict(r, API);
  assert.equal(v.verdict, 'fail');
  assert.deepEqual(v.advice[0], { key: 'conntest.advice.udp', params: { ports: '10000-10010', address: '192.0.2.10' } });
  assert.equal(v.advice.at(-1)?.key, 'conntest.advice.report', 'a failure ends with: send the report');
  const unknown = verdict(r, UNKNOWN_NETWORK);
  assert.deepEqual(unknown.advice[0], { key: 'conntest.advice.udpUnknown', params: { ports: '10000-10010' } });
});

test('media over TCP only (UDP blocked, ICE-TCP works) warns: works, but open UDP', () => {
  const v = verdict({ ...allOk(), media: result('warning', 'tcp') }, API);
  assert.equal(v.verdict, 'warning');
  assert.deepEqual(v.advice.slice(0, 2), [
    { key: 'conntest.advice.tcpOnly' },
    { key: 'conntest.advice.udp', params: { ports: '10000-10010', address: '192.0.2.10' } },
  ]);
  assert.ok(!v.advice.some((a) => a.key === 'conntest.advice.quality'), 'not a slow-network advice');
});

test('a busy server asks to retry rather than to open ports', () => {
  const v = verdict({ ...allOk(), media: result('fail', 'busy') }, API);
  assert.equal(v.verdict, 'fail');
  assert.equal(v.advice[0].key, 'conntest.advice.retryLater');
});

test('no WebSocket fails with the HTTPS port', () => {
  const v = verdict({ ...allOk(), websocket: result('fail', 'unreachable') }, { ...API, httpsPort: 8443 });
  assert.equal(v.verdict, 'fail');
  assert.deepEqual(v.advice[0], { key: 'conntest.advice.https', params: { port: 8443 } });
  const v2 = verdict({ ...allOk(), websocket: result('fail', 'unreachable') }, UNKNOWN_NETWORK);
  assert.deepEqual(v2.advice[0], { key: 'conntest.advice.https', params: { port: 443 } });
});

test('devices: no camera warns, no microphone or no sound fails, with the advice for the error', () => {
  const cam = verdict({ ...allOk(), camera: result('fail', 'NotAllowedError') }, API);
  assert.equal(cam.verdict, 'warning');
  assert.deepEqual(cam.advice, [{ key: 'conntest.advice.deviceDenied', params: { device: 'conntest.device.camera' } }]);
  const mic = verdict({ ...allOk(), microphone: result('fail', 'NotReadableError') }, API);
  assert.equal(mic.verdict, 'fail');
  assert.equal(mic.advice[0].key, 'conntest.advice.deviceBusy');
  const silent = verdict({ ...allOk(), microphone: result('warning', 'silent') }, API);
  assert.equal(silent.verdict, 'warning');
  assert.equal(silent.advice[0].key, 'conntest.advice.silent');
  const deaf = verdict({ ...allOk(), speakers: result('fail', 'no') }, API);
  assert.equal(deaf.verdict, 'fail');
  assert.equal(deaf.advice[0].key, 'conntest.advice.speakers');
});

test('an unsupported browser warns; unfinished checks count as nothing', () => {
  assert.equal(verdict(allOk(), API, { status: 'other' }).verdict, 'warning');
  assert.equal(verdict({}, API).verdict, 'ok');
});

test('every advice key is translated in French and English', () => {
  const cases = [
    verdict({ websocket: result('fail', 'x'), media: result('fail', 'x'), camera: result('fail', 'NotFoundError'),
      microphone: result('fail', 'Weird'), speakers: result('warning', 'play_failed') }, networkInfo(null, ANSWER), { status: 'other' }),
    verdict({ media: result('warning', 'loss'), microphone: result('warning', 'silent'), speakers: result('warning', 'unanswered') }, UNKNOWN_NETWORK),
    verdict({ media: result('fail', 'rate_limited'), camera: result('fail', 'NotReadableError') }, API),
  ];
  for (const v of cases) {
    for (const a of v.advice) {
      assert.ok(Object.hasOwn(fr, a.key), `fr: ${a.key}`);
      assert.ok(Object.hasOwn(en, a.key), `en: ${a.key}`);
      for (const name of Object.keys(a.params ?? {})) {
        assert.ok(fr[a.key].includes(`{${name}}`) && en[a.key].includes(`{${name}}`), `${a.key} uses {${name}}`);
      }
    }
  }
  for (const v of ['ok', 'warning', 'fail']) assert.ok(fr[`conntest.verdict.${v}.title`] && en[`conntest.verdict.${v}.title`]);
});

test('media figures: selected pair (Chromium and Firefox) and the server receiver reports', () => {
  const chromium = [
    { id: 'T1', type: 'transport', selectedCandidatePairId: 'CP1' },
    { id: 'CP1', type: 'candidate-pair', remoteCandidateId: 'RC1', currentRoundTripTime: 0.004 },
    { id: 'CP2', type: 'candidate-pair', remoteCandidateId: 'RC2' },
    { id: 'RC1', type: 'remote-candidate', protocol: 'udp', port: 20003, candidateType: 'host', address: '127.0.0.1' },
    { id: 'RC2', type: 'remote-candidate', protocol: 'udp', port: 1 },
    { id: 'RI', type: 'remote-inbound-rtp', roundTripTime: 0.006, fractionLost: 0.02 },
    { id: 'O', type: 'outbound-rtp', packetsSent: 200 },
  ];
  const f = mediaFigures(chromium);
  assert.deepEqual(f, {
    transport: 'udp', serverPort: 20003, candidateType: 'host', rttMs: 6, lossPercent: 2, packetsSent: 200, reports: true,
  });
  assert.equal(judgeMedia(f).status, 'ok');
  assert.ok(!('address' in judgeMedia(f).figures), 'no address in the figures');

  const firefox = [
    { id: 'CP1', type: 'candidate-pair', remoteCandidateId: 'RC1', selected: true, currentRoundTripTime: 0.05 },
    { id: 'RC1', type: 'remote-candidate', protocol: 'UDP', port: 10001 },
  ];
  const g = mediaFigures(firefox);
  assert.equal(g.transport, 'udp');
  assert.equal(g.serverPort, 10001);
  assert.equal(g.rttMs, 50, 'from the pair without receiver reports');
  assert.equal(g.lossPercent, null);
  assert.equal(g.reports, false);

  assert.deepEqual(mediaFigures([]), {
    transport: null, serverPort: null, candidateType: null, rttMs: null, lossPercent: null, packetsSent: null, reports: false,
  });
});

test('media judgement: loss, round trip and TCP warn', () => {
  const base = mediaFigures([]);
  assert.equal(judgeMedia({ ...base, transport: 'udp', lossPercent: 4.9, rttMs: 499 }).status, 'ok');
  assert.equal(judgeMedia({ ...base, transport: 'udp', lossPercent: 5 }).code, 'loss');
  assert.equal(judgeMedia({ ...base, transport: 'udp', rttMs: 500 }).code, 'rtt');
  assert.equal(judgeMedia({ ...base, transport: 'tcp' }).code, 'tcp');
});

test('the report: date, browser, every check, the server ports; nothing personal', () => {
  const date = new Date(Date.UTC(2024, 4, 2, 9, 30));
  const results = { ...allOk(), speakers: undefined };
  const outcome = verdict(results, API);
  const report = buildReport({
    date,
    userAgent: 'Mozilla/5.0 HeadlessChrome/120',
    language: 'fr',
    serverHost: 'webconf.example.gouv.fr',
    https: true,
    browser: { status: 'ok', family: 'chromium', version: 120 },
    results,
    network: API,
    outcome,
    devices: { audioinput: 2, videoinput: 1, audiooutput: 1 },
  });
  const json = JSON.parse(JSON.stringify(report));
  assert.equal(json.date, '2024-05-02T09:30:00.000Z');
  assert.equal(json.user_agent, 'Mozilla/5.0 HeadlessChrome/120');
  assert.deepEqual(json.server, {
    host: 'webconf.example.gouv.fr', https: true, https_port: 443, media_addresses: ['192.0.2.10'],
    udp_ports: [10000, 10010], network_source: 'api',
  });
  assert.deepEqual(Object.keys(json.checks), [...CHECK_IDS]);
  assert.equal(json.checks.speakers.status, 'pending');
  assert.equal(json.checks.media.figures.serverPort, 10003);
  assert.equal(json.verdict, 'ok');
  assert.deepEqual(json.devices, { audioinput: 2, videoinput: 1, audiooutput: 1 });
  const unknown = buildReport({ ...{ date, userAgent: '', language: 'en', serverHost: 'h', https: false,
    browser: { status: 'ok', family: null, version: null }, results: {}, outcome: verdict({}, UNKNOWN_NETWORK) }, network: UNKNOWN_NETWORK });
  assert.equal(unknown.server.udp_ports, 'unknown');
  assert.equal(unknown.server.media_addresses, 'unknown');
});

test('report file name', () => {
  assert.equal(reportFilename(new Date(2024, 0, 5, 23, 59)), 'webconf-test-2024-01-05.json');
});

test('the checks wait long enough for a busy machine', () => {
  // The first receiver report comes within one RTCP interval of connecting; waiting for more
  // than two leaves room for a late or lost one before the check goes without loss and RTT.
  assert.ok(CHECK_TIMING.mediaMeasureMs > 2 * SERVER_REPORT_INTERVAL_MS, JSON.stringify(CHECK_TIMING));
  // Starting media (ICE, DTLS) on a loaded machine takes seconds, not tens of them.
  assert.ok(CHECK_TIMING.mediaConnectMs >= 15000);
  // The server ends the probe 30 s after opening it: connecting and measuring fit, with a
  // margin for the offer and the POST.
  assert.ok(CHECK_TIMING.mediaConnectMs + CHECK_TIMING.mediaMeasureMs <= PROBE_LIFETIME_MS - 2000);
  assert.ok(CHECK_TIMING.cameraMs >= 10000 && CHECK_TIMING.websocketMs >= 10000);
  // Chromium's fake microphone beeps 20 ms every 500 ms, the meter sees ~21 ms: sample often
  // and long enough to catch several beeps.
  assert.ok(CHECK_TIMING.micSampleMs <= 50 && CHECK_TIMING.micListenMs >= 10000);
  // The whole run still ends within a minute and a half when everything times out.
  const worst = CHECK_TIMING.cameraMs + CHECK_TIMING.micListenMs + CHECK_TIMING.websocketMs
    + CHECK_TIMING.mediaConnectMs + CHECK_TIMING.mediaMeasureMs;
  assert.ok(worst <= 90000, `worst case ${worst} ms`);
  assert.ok(Object.isFrozen(CHECK_TIMING));
});
