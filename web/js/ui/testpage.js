// The connection test page (`/test`): before a meeting, checks the camera, the microphone, the
// speakers, HTTPS and the signaling WebSocket, and UDP media to the server's real ports (a probe
// session, `POST /api/probe`), then gives a verdict in plain words and a report to download for
// IT support. The rules and the report are in `../conntest.js` (pure, unit-tested).
//
// DOM contract (web/README.md): `#test-start`; `#check-<id>[data-status]` for camera,
// microphone, speakers, websocket, media with a `.check-line`; `#test-sound-play`,
// `#speakers-yes`, `#speakers-no`; `#test-verdict[data-verdict]`; `#test-report`.

import { t, getLanguage } from '../i18n.js';
import { createLevelMeter, deviceErrorName, playTestSound } from '../devices.js';
import { signalingUrl } from '../signaling.js';
import { checkBrowser, detectFeatures, identifyBrowser } from '../browsercheck.js';
import {
  CHECK_IDS, CHECK_TIMING, buildReport, judgeMedia, mediaFigures, networkInfo, parseNetwork, reportFilename, result,
  verdict,
} from '../conntest.js';
import { el } from './dom.js';
import { announce } from './announcer.js';
import { setState } from '../hooks.js';

/** @typedef {import('../conntest.js').CheckId} CheckId */
/** @typedef {import('../conntest.js').CheckResult} CheckResult */
/** @typedef {import('../conntest.js').NetworkInfo} NetworkInfo */
/** @typedef {import('../i18n.js').MessageKey} MessageKey */

/** How long each check may take (../conntest.js `CHECK_TIMING`). */
const CAMERA_TIMEOUT_MS = CHECK_TIMING.cameraMs;
const MIC_LISTEN_MS = CHECK_TIMING.micListenMs;
const WS_TIMEOUT_MS = CHECK_TIMING.websocketMs;
const MEDIA_CONNECT_TIMEOUT_MS = CHECK_TIMING.mediaConnectMs;
/** After connecting, how long to wait at most for the server's first receiver report. */
const MEDIA_MEASURE_MS = CHECK_TIMING.mediaMeasureMs;
/** A level above this counts as sound heard (the meter's scale, 0..1). */
const HEARD_LEVEL = 0.02;

/** @type {Record<CheckId, MessageKey>} */
const TITLES = {
  camera: 'conntest.camera.title',
  microphone: 'conntest.microphone.title',
  speakers: 'conntest.speakers.title',
  websocket: 'conntest.websocket.title',
  media: 'conntest.media.title',
};

/**
 * Render the test page into `root`. Returns the view's disposer.
 * @param {HTMLElement} root
 * @returns {() => void}
 */
export function renderTestPage(root) {
  setState('test');
  document.title = t('conntest.pageTitle');

  let disposed = false;
  /** @type {Array<() => void>} */
  const cleanups = [];
  /** @type {Partial<Record<CheckId, CheckResult>>} */
  const results = {};
  /** @type {NetworkInfo | null} */
  let apiNetwork = null;
  /** @type {string | null} */
  let answerSdp = null;
  let finished = false;
  /** @type {Record<string, number>} */
  let deviceCounts = {};
  const browser = (() => {
    const id = identifyBrowser(navigator.userAgent);
    return { ...id, status: checkBrowser(navigator.userAgent, detectFeatures()).status };
  })();

  /** @type {Record<CheckId, {item: HTMLLIElement, line: HTMLParagraphElement, extra: HTMLDivElement}>} */
  const rows = /** @type {any} */ ({});
  for (const id of CHECK_IDS) {
    const line = el('p', { className: 'check-line', text: t('conntest.status.pending') });
    const extra = el('div', { className: 'check-extra' });
    const item = el('li', { id: `check-${id}`, className: 'check', data: { status: 'pending' } }, [
      el('h2', { className: 'check-title', text: t(TITLES[id]) }),
      line,
      extra,
    ]);
    rows[id] = { item, line, extra };
  }

  const preview = el('video', {
    className: 'check-preview',
    attrs: { autoplay: '', playsinline: '', 'aria-label': t('conntest.camera.preview') },
  });
  preview.muted = true;
  preview.hidden = true;
  rows.camera.extra.append(preview);

  const meter = el('meter', {
    id: 'test-mic-level',
    className: 'check-meter',
    attrs: { min: '0', max: '1', low: '0.02', value: '0', 'aria-label': t('conntest.microphone.level') },
  });
  meter.hidden = true;
  rows.microphone.extra.append(meter);

  const playButton = el('button', {
    id: 'test-sound-play',
    className: 'btn btn-secondary',
    text: t('conntest.speakers.play'),
    attrs: { type: 'button' },
  });
  const yes = el('button', { id: 'speakers-yes', className: 'btn btn-secondary', text: t('conntest.speakers.yes'), attrs: { type: 'button' } });
  const no = el('button', { id: 'speakers-no', className: 'btn btn-secondary', text: t('conntest.speakers.no'), attrs: { type: 'button' } });
  const question = el('fieldset', { className: 'speakers-question' }, [
    el('legend', { text: t('conntest.speakers.question') }),
    el('div', { className: 'check-buttons' }, [yes, no]),
  ]);
  rows.speakers.extra.append(el('div', { className: 'check-buttons' }, [playButton]), question);
  rows.speakers.line.textContent = t('conntest.speakers.intro');

  const start = el('button', {
    id: 'test-start',
    className: 'btn btn-primary',
    text: t('conntest.start'),
    attrs: { type: 'button' },
  });

  const verdictTitle = el('h2', { id: 'test-verdict-title', text: '' });
  const verdictText = el('p', { className: 'verdict-text' });
  const adviceList = el('ul', { className: 'verdict-advice' });
  const reportButton = el('button', {
    id: 'test-report',
    className: 'btn btn-secondary',
    text: t('conntest.report'),
    attrs: { type: 'button' },
  });
  const verdictBox = el('section', {
    id: 'test-verdict',
    className: 'verdict',
    attrs: { 'aria-labelledby': 'test-verdict-title' },
  }, [verdictTitle, verdictText, adviceList, el('p', { className: 'hint', text: t('conntest.report.hint') }), reportButton]);
  verdictBox.hidden = true;

  root.replaceChildren(el('section', { className: 'card conntest', attrs: { 'aria-labelledby': 'test-title' } }, [
    el('h1', { id: 'test-title', text: t('conntest.title') }),
    el('p', { className: 'intro', text: t('conntest.intro') }),
    el('div', { className: 'actions' }, [start]),
    el('ol', { className: 'checks', attrs: { 'aria-label': t('conntest.checks.label') } }, CHECK_IDS.map((id) => rows[id].item)),
    verdictBox,
  ]));

  /**
   * @param {CheckId} id
   * @param {CheckResult | 'running'} r
   * @param {string} [text]
   */
  const set = (id, r, text) => {
    const status = r === 'running' ? 'running' : r.status;
    if (r !== 'running') results[id] = r;
    rows[id].item.dataset.status = status;
    if (r !== 'running' && r.code) rows[id].item.dataset.code = r.code;
    else delete rows[id].item.dataset.code;
    const label = t(`conntest.status.${status}`);
    rows[id].line.textContent = text ? t('conntest.line', { status: label, text }) : label;
  };

  const network = () => networkInfo(apiNetwork, answerSdp);

  const showVerdict = () => {
    if (!finished || disposed) return;
    const outcome = verdict(results, network(), browser);
    verdictBox.hidden = false;
    verdictBox.dataset.verdict = outcome.verdict;
    verdictTitle.textContent = t(`conntest.verdict.${outcome.verdict}.title`);
    verdictText.textContent = t(`conntest.verdict.${outcome.verdict}.text`);
    adviceList.replaceChildren(...outcome.advice.map((a) => {
      /** @type {Record<string, string | number>} */
      const params = { ...(a.params ?? {}) };
      if (typeof params.device === 'string') params.device = t(/** @type {MessageKey} */ (params.device));
      return el('li', { text: t(a.key, params) });
    }));
    return outcome;
  };

  /** @param {boolean} heard */
  const answer = (heard) => {
    set('speakers', heard ? result('ok', null, { answered: true }) : result('fail', 'no', { answered: true }),
      t(heard ? 'conntest.speakers.heard' : 'conntest.speakers.notHeard'));
    yes.setAttribute('aria-pressed', String(heard));
    no.setAttribute('aria-pressed', String(!heard));
    showVerdict();
  };
  yes.addEventListener('click', () => answer(true));
  no.addEventListener('click', () => answer(false));
  playButton.addEventListener('click', () => {
    playButton.disabled = true;
    playButton.dataset.playing = 'true';
    playTestSound(null).then(() => {
      if (!results.speakers || results.speakers.code === 'unanswered') rows.speakers.line.textContent = t('conntest.speakers.played');
    }, (err) => {
      console.warn('webconf: test sound', err);
      set('speakers', result('warning', 'play_failed'), t('conntest.speakers.playFailed'));
      showVerdict();
    }).finally(() => {
      playButton.disabled = false;
      delete playButton.dataset.playing;
    });
  });

  reportButton.addEventListener('click', () => {
    const outcome = verdict(results, network(), browser);
    const date = new Date();
    const report = buildReport({
      date,
      userAgent: navigator.userAgent,
      language: getLanguage(),
      serverHost: location.host,
      https: location.protocol === 'https:',
      browser,
      results,
      network: network(),
      outcome,
      devices: deviceCounts,
    });
    const blob = new Blob([`${JSON.stringify(report, null, 2)}\n`], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const a = el('a', { attrs: { href: url, download: reportFilename(date) } });
    a.hidden = true;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  });

  start.addEventListener('click', async () => {
    start.disabled = true;
    finished = false;
    verdictBox.hidden = true;
    for (const id of CHECK_IDS) {
      if (id === 'speakers' && results.speakers && results.speakers.code !== 'unanswered') continue;
      delete results[id];
      rows[id].item.dataset.status = 'pending';
    }
    announce(t('conntest.running'));
    fetchNetwork().then((n) => { apiNetwork = n; });
    const video = await checkCamera();
    const audio = await checkMicrophone();
    deviceCounts = await countDevices();
    if (disposed) return stopTracks([video, audio]);
    await checkWebSocket();
    if (disposed) return stopTracks([video, audio]);
    await checkMedia(audio);
    stopTracks([video, audio]);
    if (disposed) return;
    if (!results.speakers) set('speakers', result('warning', 'unanswered'), t('conntest.speakers.unanswered'));
    finished = true;
    const outcome = showVerdict();
    if (outcome) announce(t(`conntest.verdict.${outcome.verdict}.title`));
    start.disabled = false;
    start.textContent = t('conntest.restart');
  });

  /** @param {(MediaStreamTrack | null)[]} tracks */
  function stopTracks(tracks) {
    for (const tr of tracks) tr?.stop();
    preview.srcObject = null;
    preview.hidden = true;
  }

  /** @returns {Promise<MediaStreamTrack | null>} */
  async function checkCamera() {
    set('camera', 'running', t('conntest.camera.running'));
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: true });
      const track = stream.getVideoTracks()[0];
      if (!track) throw new DOMException('no track', 'NotFoundError');
      preview.srcObject = stream;
      preview.hidden = false;
      const deadline = Date.now() + CAMERA_TIMEOUT_MS;
      while (preview.videoWidth === 0 && Date.now() < deadline && !disposed) await sleep(100);
      const width = preview.videoWidth || track.getSettings().width || 0;
      const height = preview.videoHeight || track.getSettings().height || 0;
      const frameRate = Math.round(track.getSettings().frameRate ?? 0) || null;
      if (width === 0) {
        set('camera', result('fail', 'no_frames'), t('conntest.camera.noFrames'));
      } else {
        set('camera', result('ok', null, { width, height, frameRate }), t('conntest.camera.ok', { width, height }));
      }
      return track;
    } catch (err) {
      const name = deviceErrorName(err instanceof Error ? err.name : '');
      set('camera', result('fail', name), t(`conntest.device.error.${deviceErrorKey(name)}`));
      return null;
    }
  }

  /** @returns {Promise<MediaStreamTrack | null>} */
  async function checkMicrophone() {
    set('microphone', 'running', t('conntest.microphone.running'));
    /** @type {MediaStreamTrack | undefined} */
    let track;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      track = stream.getAudioTracks()[0];
      if (!track) throw new DOMException('no track', 'NotFoundError');
    } catch (err) {
      const name = deviceErrorName(err instanceof Error ? err.name : '');
      set('microphone', result('fail', name), t(`conntest.device.error.${deviceErrorKey(name)}`));
      return null;
    }
    const level = createLevelMeter(track);
    cleanups.push(level.stop);
    meter.hidden = false;
    let peak = 0;
    const deadline = Date.now() + MIC_LISTEN_MS;
    // Keep listening a second after the first sound, so that the meter is seen moving.
    let heardAt = 0;
    while (Date.now() < deadline && !disposed) {
      const v = level.level();
      peak = Math.max(peak, v);
      meter.value = v;
      meter.dataset.level = v.toFixed(2);
      if (peak > HEARD_LEVEL && !heardAt) heardAt = Date.now();
      if (heardAt && Date.now() - heardAt > 1000) break;
      await sleep(CHECK_TIMING.micSampleMs);
    }
    level.stop();
    meter.value = 0;
    const figures = { peakLevel: Math.round(peak * 100) / 100 };
    if (peak > HEARD_LEVEL) set('microphone', result('ok', null, figures), t('conntest.microphone.ok'));
    else set('microphone', result('warning', 'silent', figures), t('conntest.microphone.silent'));
    return track;
  }

  /** @returns {Promise<Record<string, number>>} */
  async function countDevices() {
    /** @type {Record<string, number>} */
    const counts = { audioinput: 0, videoinput: 0, audiooutput: 0 };
    try {
      for (const d of await navigator.mediaDevices.enumerateDevices()) {
        if (Object.hasOwn(counts, d.kind)) counts[d.kind] += 1;
      }
    } catch {
      // Counts stay 0: they are only a hint in the report.
    }
    return counts;
  }

  async function checkWebSocket() {
    set('websocket', 'running', t('conntest.websocket.running'));
    const https = location.protocol === 'https:';
    const outcome = await new Promise((resolve) => {
      /** @type {WebSocket} */
      let ws;
      let sentAt = 0;
      let opened = false;
      const done = (/** @type {CheckResult} */ r) => {
        clearTimeout(timer);
        try { ws.close(1000); } catch { /* already closed */ }
        resolve(r);
      };
      const timer = setTimeout(() => done(result('fail', opened ? 'no_pong' : 'unreachable', { https })), WS_TIMEOUT_MS);
      try {
        ws = new WebSocket(signalingUrl());
      } catch {
        done(result('fail', 'unreachable', { https }));
        return;
      }
      // The server answers `ping` before any `join` (docs/protocol.md).
      ws.addEventListener('open', () => {
        opened = true;
        sentAt = performance.now();
        ws.send(JSON.stringify({ type: 'ping' }));
      });
      ws.addEventListener('message', (ev) => {
        let msg;
        try { msg = JSON.parse(String(ev.data)); } catch { return; }
        if (msg && msg.type === 'pong') done(result('ok', null, { https, rttMs: Math.round(performance.now() - sentAt) }));
      });
      ws.addEventListener('close', () => done(result('fail', opened ? 'no_pong' : 'unreachable', { https })));
    });
    const r = /** @type {CheckResult} */ (outcome);
    set('websocket', r, r.status === 'ok'
      ? t('conntest.websocket.ok', { ms: Number(r.figures.rttMs) })
      : t(`conntest.websocket.${r.code === 'no_pong' ? 'noPong' : 'unreachable'}`));
  }

  /** @param {MediaStreamTrack | null} mic */
  async function checkMedia(mic) {
    set('media', 'running', t('conntest.media.running'));
    if (typeof RTCPeerConnection !== 'function') {
      set('media', result('fail', 'unsupported'), t('conntest.media.unsupported'));
      return;
    }
    // Without a microphone, a generated tone carries the test.
    /** @type {(() => void) | null} */
    let stopTone = null;
    let track = mic;
    if (!track || track.readyState === 'ended') {
      const tone = toneTrack();
      track = tone?.track ?? null;
      stopTone = tone?.stop ?? null;
    }
    const pc = new RTCPeerConnection({ iceServers: [] });
    /** @type {string | null} */
    let probeId = null;
    try {
      if (track) pc.addTransceiver(track, { direction: 'sendonly' });
      else pc.addTransceiver('audio', { direction: 'sendonly' });
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      const res = await postProbe(pc.localDescription?.sdp ?? '');
      if (!res.ok) {
        set('media', result('fail', res.code, { http_status: res.status }), t(res.code === 'busy' || res.code === 'rate_limited'
          ? 'conntest.media.busy' : 'conntest.media.refused'));
        return;
      }
      probeId = res.id;
      answerSdp = res.sdp;
      await pc.setRemoteDescription({ type: 'answer', sdp: res.sdp });
      const connected = await waitConnected(pc, MEDIA_CONNECT_TIMEOUT_MS);
      if (!connected) {
        const net = network();
        set('media', result('fail', 'no_connection', { ice_state: pc.iceConnectionState }),
          t('conntest.media.noConnection', { ports: net.udpPorts ? net.udpPorts.join('-') : '?' }));
        return;
      }
      rows.media.line.textContent = t('conntest.media.measuring');
      // The server reports on received audio every 5 s (str0m's RTCP interval): wait for its
      // first receiver report, for loss and round trip, but no longer than MEDIA_MEASURE_MS.
      const measureEnd = Date.now() + MEDIA_MEASURE_MS;
      let figures = mediaFigures([]);
      do {
        await sleep(500);
        /** @type {any[]} */
        const stats = [];
        (await pc.getStats()).forEach((s) => stats.push(s));
        figures = mediaFigures(stats);
      } while (!figures.reports && Date.now() < measureEnd && !disposed);
      const r = judgeMedia(figures);
      const f = r.figures;
      const unknown = t('conntest.unknown');
      const key = /** @type {MessageKey} */ (r.status === 'ok' ? 'conntest.media.ok' : `conntest.media.${r.code}`);
      set('media', r, t(key, {
        transport: String(f.transport ?? unknown).toUpperCase(),
        port: String(f.serverPort ?? unknown),
        rtt: f.rttMs === null ? unknown : t('conntest.ms', { n: Number(f.rttMs) }),
        loss: f.lossPercent === null ? unknown : t('conntest.percent', { n: Number(f.lossPercent) }),
      }));
    } catch (err) {
      console.warn('webconf: media probe', err);
      set('media', result('fail', 'no_connection'), t('conntest.media.noConnection', { ports: '?' }));
    } finally {
      pc.close();
      stopTone?.();
      if (probeId) {
        fetch(`/api/probe/${probeId}`, { method: 'DELETE', credentials: 'same-origin' }).catch(() => {});
      }
    }
  }

  return () => {
    disposed = true;
    for (const c of cleanups) c();
    preview.srcObject = null;
  };
}

/** @param {string} name  A `deviceErrorName`. */
function deviceErrorKey(name) {
  return /** @type {'NotAllowedError' | 'NotFoundError' | 'NotReadableError' | 'other'} */ (
    ['NotAllowedError', 'NotFoundError', 'NotReadableError'].includes(name) ? name : 'other');
}

/** @param {number} ms */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** @returns {Promise<NetworkInfo | null>} */
async function fetchNetwork() {
  try {
    const res = await fetch('/api/network', { credentials: 'same-origin', cache: 'no-store' });
    if (!res.ok) return null;
    return parseNetwork(await res.json());
  } catch {
    return null;
  }
}

/**
 * @param {string} sdp
 * @returns {Promise<{ok: true, id: string, sdp: string} | {ok: false, code: string, status: number}>}
 */
async function postProbe(sdp) {
  try {
    const res = await fetch('/api/probe', {
      method: 'POST',
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: JSON.stringify({ sdp }),
      signal: AbortSignal.timeout(15_000),
    });
    /** @type {any} */
    let json = null;
    try { json = await res.json(); } catch { /* not JSON */ }
    if (res.ok && json && typeof json.id === 'string' && typeof json.sdp === 'string') {
      return { ok: true, id: json.id, sdp: json.sdp };
    }
    const code = json && typeof json.error === 'string' ? json.error : 'bad_response';
    return { ok: false, code, status: res.status };
  } catch {
    return { ok: false, code: 'network', status: 0 };
  }
}

/**
 * @param {RTCPeerConnection} pc
 * @param {number} timeoutMs
 * @returns {Promise<boolean>}
 */
function waitConnected(pc, timeoutMs) {
  return new Promise((resolve) => {
    const check = () => {
      if (pc.connectionState === 'connected') finish(true);
      else if (pc.connectionState === 'failed' || pc.connectionState === 'closed') finish(false);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    /** @param {boolean} ok */
    const finish = (ok) => {
      clearTimeout(timer);
      pc.removeEventListener('connectionstatechange', check);
      resolve(ok);
    };
    pc.addEventListener('connectionstatechange', check);
    check();
  });
}

/** @returns {{track: MediaStreamTrack, stop: () => void} | null} */
function toneTrack() {
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    gain.gain.value = 0.01;
    const dest = ctx.createMediaStreamDestination();
    osc.connect(gain).connect(dest);
    osc.start();
    const track = dest.stream.getAudioTracks()[0];
    if (!track) return null;
    return { track, stop: () => { osc.stop(); ctx.close().catch(() => {}); } };
  } catch {
    return null;
  }
}
