// The connection test (`/test`), pure part: what the checks found → a verdict with what to do,
// the server's network facts (`GET /api/network`, or what the probe's SDP answer tells), figures
// from WebRTC statistics, and the report a person sends to IT support. No DOM: the page is
// `ui/testpage.js`; the unit tests are web/test/conntest.test.mjs.
//
// The report holds no personal data: no device label, no client address, no name; only kinds,
// counts, statuses and figures, the browser's user agent and the server's own address.

/** @typedef {import('./i18n.js').MessageKey} MessageKey */

/** The checks, in the order shown. */
export const CHECK_IDS = /** @type {const} */ (['camera', 'microphone', 'speakers', 'websocket', 'media']);

/** @typedef {typeof CHECK_IDS[number]} CheckId */
/** @typedef {'pending' | 'running' | 'ok' | 'warning' | 'fail'} CheckStatus */

/**
 * One check's outcome. `code` says why it is not `ok` (a getUserMedia error name, `silent`,
 * `unanswered`, `no`, `unreachable`, `no_pong`, `probe_refused`, `no_connection`, `tcp`, `loss`,
 * `rtt`, `unsupported`, `play_failed`) or null; `figures` are numbers and words only.
 * @typedef {object} CheckResult
 * @property {CheckStatus} status
 * @property {string | null} code
 * @property {Record<string, string | number | boolean | null>} figures
 */

/**
 * What is known of the server's network: from `/api/network` (`source: 'api'`), else from the
 * probe's SDP answer (`source: 'answer'`, one port), else nothing (`source: 'unknown'`).
 * @typedef {object} NetworkInfo
 * @property {string[]} addresses   Media addresses.
 * @property {[number, number] | null} udpPorts  The media port range.
 * @property {number | null} httpsPort
 * @property {'api' | 'answer' | 'unknown'} source
 */

/** @typedef {{key: MessageKey, params?: Record<string, string | number>}} Advice */

/** The FAQ's ports, said when the server did not tell its own. */
export const DEFAULT_UDP_PORTS = /** @type {[number, number]} */ ([10000, 10010]);
export const DEFAULT_HTTPS_PORT = 443;
/** Above these the media check warns: calls will stutter. */
export const MAX_GOOD_LOSS = 0.05;
export const MAX_GOOD_RTT_MS = 500;

/** The server's RTCP interval (str0m): its receiver reports on the probe's audio come this often. */
export const SERVER_REPORT_INTERVAL_MS = 5000;
/** The server ends a probe this long after opening it (docs/operations.md, `POST /api/probe`). */
export const PROBE_LIFETIME_MS = 30000;

/**
 * How long each check may take at most. A check that succeeds stops waiting at once (the first
 * camera frame, one second after the first sound, the `pong`, the connection, the first
 * receiver report): these only bound a failing or slow machine. Generous, because a busy
 * computer (a video call in another tab, a build) starts media slowly, and giving up too early
 * would blame the network for a busy processor.
 */
export const CHECK_TIMING = Object.freeze({
  /** Until the camera's first frame. */
  cameraMs: 15000,
  /** Listening to the microphone for a sound. */
  micListenMs: 12000,
  /** Sampling the microphone's level this often (Chromium's fake microphone beeps about 20 ms every 500 ms). */
  micSampleMs: 40,
  /** Until the WebSocket's `pong`. */
  websocketMs: 10000,
  /** Until the probe's ICE and DTLS connect. */
  mediaConnectMs: 15000,
  /**
   * After connecting, for the server's first receiver report (loss and round trip): more than
   * two report intervals, and connecting plus measuring stays within the probe's life.
   */
  mediaMeasureMs: 12000,
});

/** @type {NetworkInfo} */
export const UNKNOWN_NETWORK = Object.freeze({ addresses: [], udpPorts: null, httpsPort: null, source: 'unknown' });

/**
 * @param {CheckStatus} status
 * @param {string | null} [code]
 * @param {Record<string, string | number | boolean | null>} [figures]
 * @returns {CheckResult}
 */
export function result(status, code = null, figures = {}) {
  return { status, code, figures };
}

/** @param {unknown} v @returns {v is number} */
function isPort(v) {
  return Number.isInteger(v) && /** @type {number} */ (v) > 0 && /** @type {number} */ (v) < 65536;
}

/**
 * The answer of `GET /api/network` (`{"media":{"addresses":[...],"udp_ports":[min,max]},
 * "https_port":N}`), or null when it is missing or not that shape.
 * @param {unknown} json
 * @returns {NetworkInfo | null}
 */
export function parseNetwork(json) {
  if (!json || typeof json !== 'object') return null;
  const j = /** @type {any} */ (json);
  const media = j.media && typeof j.media === 'object' ? j.media : null;
  if (!media) return null;
  const addresses = Array.isArray(media.addresses)
    ? media.addresses.filter((/** @type {unknown} */ a) => typeof a === 'string' && a.length > 0 && a.length < 64)
    : [];
  const ports = Array.isArray(media.udp_ports) && media.udp_ports.length === 2
    && isPort(media.udp_ports[0]) && isPort(media.udp_ports[1]) && media.udp_ports[0] <= media.udp_ports[1]
    ? /** @type {[number, number]} */ ([media.udp_ports[0], media.udp_ports[1]])
    : null;
  const httpsPort = isPort(j.https_port) ? j.https_port : null;
  if (addresses.length === 0 && !ports) return null;
  return { addresses, udpPorts: ports, httpsPort, source: 'api' };
}

/**
 * The server's UDP host candidates in an SDP answer: `{address, port}` of each.
 * @param {string} sdp
 * @returns {{address: string, port: number}[]}
 */
export function answerCandidates(sdp) {
  /** @type {{address: string, port: number}[]} */
  const out = [];
  for (const line of sdp.split(/\r?\n/)) {
    const m = /^a=candidate:\S+ \d+ (udp|UDP) \d+ (\S+) (\d+) typ host/.exec(line);
    if (m && isPort(Number(m[3]))) out.push({ address: m[2], port: Number(m[3]) });
  }
  return out;
}

/**
 * What the page knows of the server's network: `/api/network` when it answered, else the probe's
 * answer (one port and the addresses), else unknown.
 * @param {NetworkInfo | null} api
 * @param {string | null} answerSdp
 * @returns {NetworkInfo}
 */
export function networkInfo(api, answerSdp) {
  if (api) return api;
  const cands = answerSdp ? answerCandidates(answerSdp) : [];
  if (cands.length === 0) return UNKNOWN_NETWORK;
  const addresses = [...new Set(cands.map((c) => c.address))];
  const port = cands[0].port;
  return { addresses, udpPorts: [port, port], httpsPort: null, source: 'answer' };
}

/**
 * "10000-10010" (or "10003" for one port): the ports to open, the server's when known, else the
 * FAQ's.
 * @param {NetworkInfo} net
 * @returns {string}
 */
export function udpPortsText(net) {
  if (net.source === 'api' && net.udpPorts) {
    const [min, max] = net.udpPorts;
    return min === max ? String(min) : `${min}-${max}`;
  }
  return `${DEFAULT_UDP_PORTS[0]}-${DEFAULT_UDP_PORTS[1]}`;
}

/**
 * The figures of the media check from a `RTCStatsReport` flattened to an array: the selected
 * candidate pair (transport, server port, round trip) and the server's receiver reports
 * (`remote-inbound-rtp`: loss and round trip).
 * @param {any[]} stats
 * @returns {{transport: string | null, serverPort: number | null, candidateType: string | null,
 *   rttMs: number | null, lossPercent: number | null, packetsSent: number | null, reports: boolean}}
 */
export function mediaFigures(stats) {
  const byId = new Map(stats.map((s) => [s.id, s]));
  const transport = stats.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
  let pair = transport ? byId.get(transport.selectedCandidatePairId) : undefined;
  // Firefox has no selectedCandidatePairId: its selected pair says so.
  if (!pair) pair = stats.find((s) => s.type === 'candidate-pair' && s.selected === true);
  if (!pair) pair = stats.find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
  const remote = pair ? byId.get(pair.remoteCandidateId) : undefined;
  const inbound = stats.filter((s) => s.type === 'remote-inbound-rtp');
  const out = stats.filter((s) => s.type === 'outbound-rtp');
  /** @type {number | null} */
  let rttMs = null;
  const rtts = inbound.map((s) => s.roundTripTime).filter((x) => typeof x === 'number');
  if (rtts.length) rttMs = Math.round(Math.max(...rtts) * 1000);
  else if (pair && typeof pair.currentRoundTripTime === 'number') rttMs = Math.round(pair.currentRoundTripTime * 1000);
  /** @type {number | null} */
  let lossPercent = null;
  const losses = inbound.map((s) => s.fractionLost).filter((x) => typeof x === 'number');
  if (losses.length) lossPercent = Math.round(Math.max(...losses) * 1000) / 10;
  const sent = out.map((s) => s.packetsSent).filter((x) => typeof x === 'number');
  return {
    transport: remote && typeof remote.protocol === 'string' ? remote.protocol.toLowerCase() : null,
    serverPort: remote && isPort(remote.port) ? remote.port : null,
    candidateType: remote && typeof remote.candidateType === 'string' ? remote.candidateType : null,
    rttMs,
    lossPercent,
    packetsSent: sent.length ? sent.reduce((a, b) => a + b, 0) : null,
    reports: inbound.length > 0,
  };
}

/**
 * The media check's outcome once connected: `ok` over UDP with little loss and a short round
 * trip; `warning` otherwise (`tcp`, `loss`, `rtt`).
 * @param {ReturnType<typeof mediaFigures>} f
 * @returns {CheckResult}
 */
export function judgeMedia(f) {
  const figures = { ...f };
  if (f.transport && f.transport !== 'udp') return result('warning', 'tcp', figures);
  if (f.lossPercent !== null && f.lossPercent / 100 >= MAX_GOOD_LOSS) return result('warning', 'loss', figures);
  if (f.rttMs !== null && f.rttMs >= MAX_GOOD_RTT_MS) return result('warning', 'rtt', figures);
  return result('ok', null, figures);
}

/**
 * What to ask IT support for when media cannot reach the server: the server's range and
 * addresses (`/api/network`); else the one port and the addresses of the probe's answer, with
 * the FAQ's range as the usual one; else the FAQ's range.
 * @param {NetworkInfo} net
 * @returns {Advice}
 */
export function udpAdvice(net) {
  const address = net.addresses.join(', ');
  const ports = udpPortsText(net);
  if (net.source === 'api') {
    return address ? { key: 'conntest.advice.udp', params: { ports, address } } : { key: 'conntest.advice.udpUnknown', params: { ports } };
  }
  if (net.source === 'answer' && net.udpPorts) {
    return { key: 'conntest.advice.udpOnePort', params: { port: net.udpPorts[0], address, ports } };
  }
  return { key: 'conntest.advice.udpUnknown', params: { ports } };
}

/** @type {Record<string, MessageKey>} */
const DEVICE_ADVICE = {
  NotAllowedError: 'conntest.advice.deviceDenied',
  NotFoundError: 'conntest.advice.deviceMissing',
  NotReadableError: 'conntest.advice.deviceBusy',
};

/**
 * The overall verdict and what to do. `fail`: a meeting cannot work (no signaling, no media
 * path, no microphone, no sound); `warning`: it works with less (no camera, a silent
 * microphone, an unanswered speakers question, a poor path, a browser not supported); `ok`.
 * Results not finished yet count as nothing.
 * @param {Partial<Record<CheckId, CheckResult>>} results
 * @param {NetworkInfo} net
 * @param {{status: string}} [browser]  `checkBrowser(...)`'s verdict.
 * @returns {{verdict: 'ok' | 'warning' | 'fail', advice: Advice[]}}
 */
export function verdict(results, net, browser = { status: 'ok' }) {
  /** @type {Advice[]} */
  const advice = [];
  let worst = 0;
  /** @param {number} level */
  const raise = (level) => { worst = Math.max(worst, level); };
  const level = { ok: 0, warning: 1, fail: 2 };
  const httpsPort = net.httpsPort ?? DEFAULT_HTTPS_PORT;

  const ws = results.websocket;
  if (ws && (ws.status === 'fail' || ws.status === 'warning')) {
    raise(level[ws.status]);
    advice.push({ key: 'conntest.advice.https', params: { port: httpsPort } });
  }
  const media = results.media;
  if (media && media.status === 'fail') {
    raise(2);
    if (media.code === 'busy' || media.code === 'rate_limited') {
      advice.push({ key: 'conntest.advice.retryLater' });
    } else {
      advice.push(udpAdvice(net));
    }
  } else if (media && media.status === 'warning') {
    raise(1);
    // Over TCP (ICE-TCP on the HTTPS port, the fallback when UDP is blocked) calls work, with
    // less quality: say so, then what to open for UDP.
    if (media.code === 'tcp') advice.push({ key: 'conntest.advice.tcpOnly' }, udpAdvice(net));
    else advice.push({ key: 'conntest.advice.quality' });
  }
  for (const kind of /** @type {const} */ (['camera', 'microphone'])) {
    const r = results[kind];
    if (!r || (r.status !== 'fail' && r.status !== 'warning')) continue;
    // Without a camera one still takes part; without a microphone one cannot speak.
    raise(kind === 'camera' ? 1 : level[r.status]);
    const device = kind === 'camera' ? 'conntest.device.camera' : 'conntest.device.microphone';
    const key = r.code === 'silent' ? 'conntest.advice.silent' : DEVICE_ADVICE[r.code ?? ''] ?? 'conntest.advice.deviceOther';
    advice.push({ key, params: { device } });
  }
  const sp = results.speakers;
  if (sp && sp.status === 'fail') {
    raise(2);
    advice.push({ key: 'conntest.advice.speakers' });
  } else if (sp && sp.status === 'warning') {
    raise(1);
    advice.push({ key: sp.code === 'play_failed' ? 'conntest.advice.speakers' : 'conntest.advice.answerSpeakers' });
  }
  if (browser.status !== 'ok') {
    raise(1);
    advice.push({ key: 'conntest.advice.browser' });
  }
  if (worst === 2) advice.push({ key: 'conntest.advice.report' });
  return { verdict: worst === 2 ? 'fail' : worst === 1 ? 'warning' : 'ok', advice };
}

/**
 * The report for IT support, as a plain object to `JSON.stringify`.
 * @param {object} input
 * @param {Date} input.date
 * @param {string} input.userAgent
 * @param {string} input.language
 * @param {string} input.serverHost  `location.host` of the page.
 * @param {boolean} input.https
 * @param {{status: string, family: string | null, version: number | null}} input.browser
 * @param {Partial<Record<CheckId, CheckResult>>} input.results
 * @param {NetworkInfo} input.network
 * @param {{verdict: string, advice: Advice[]}} input.outcome
 * @param {Record<string, number>} [input.devices]  Counts by kind (`audioinput`, ...), no labels.
 */
export function buildReport(input) {
  /** @type {Record<string, CheckResult>} */
  const checks = {};
  for (const id of CHECK_IDS) {
    const r = input.results[id];
    checks[id] = r ? { status: r.status, code: r.code, figures: { ...r.figures } } : result('pending');
  }
  return {
    format: 'webconf-connection-test/1',
    date: input.date.toISOString(),
    user_agent: input.userAgent,
    language: input.language,
    browser: { ...input.browser },
    server: {
      host: input.serverHost,
      https: input.https,
      https_port: input.network.httpsPort,
      media_addresses: input.network.addresses.length ? [...input.network.addresses] : 'unknown',
      udp_ports: input.network.udpPorts ? [...input.network.udpPorts] : 'unknown',
      network_source: input.network.source,
    },
    devices: { ...(input.devices ?? {}) },
    verdict: input.outcome.verdict,
    advice: input.outcome.advice.map((a) => a.key),
    checks,
  };
}

/**
 * `webconf-test-2024-05-02.json` (the local date).
 * @param {Date} date
 * @returns {string}
 */
export function reportFilename(date) {
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `webconf-test-${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}.json`;
}
