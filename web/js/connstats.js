// The figures of the connection indicator (pure: no DOM, no RTCPeerConnection): from two
// samples of `RTCPeerConnection.getStats()` and the server's last `stats` message, what each
// tile shows — bitrates, loss, round-trip time, resolution, frame rate, codecs, transport,
// server port — and a quality level.
//
// A remote participant whose media the server does not forward to us because the last-N left
// them out (no slot carries them while the slots are all taken by others, docs/protocol.md
// "Cameras outside last-N") sends us nothing on purpose: their tile is `idle`, not `lost`.

import { leftOutByLastN } from './slots.js';
//
// A remote tile shows what we receive from that participant, plus the link's figures; our own
// tile shows what we send, plus the server's view of our media. Every figure is null while no
// media flows for that tile (the formatter shows "N/A"): a figure from a link that carries
// nothing would be misleading.

/**
 * One entry of an `RTCStatsReport` (only the fields read here).
 * @typedef {{type: string, id: string, [key: string]: any}} StatLike
 */

/**
 * @typedef {object} StatsSample
 * @property {number} at            When it was taken (ms, any monotonic clock).
 * @property {StatLike[]} stats     The report's values.
 */

/**
 * Which RTP streams are whose.
 * @typedef {object} Owners
 * @property {ReadonlyMap<string, string>} byMid    Receiving mid → participant id (camera and
 *   microphone only: a shared screen is not that participant's tile).
 * @property {ReadonlyMap<string, string>} byTrack  Receiver track id → participant id (the
 *   inbound-rtp `trackIdentifier`, for browsers that give no `mid`).
 * @property {ReadonlySet<string>} ownMids          Mids of our camera and microphone senders.
 * @property {ReadonlySet<string>} [ownTracks]      Their track ids (the `media-source` of an
 *   outbound-rtp, for browsers that give no `mid`).
 * @property {ReadonlySet<string>} [forwarded]      The participants whose media the server
 *   forwards to us now (slots.js `forwardedParticipants`: named by the `slots` table, or owning
 *   a receiving per-participant m-line, a screen included; a slot carrying a microphone or
 *   camera its owner says is off does not count). Without it, every participant counts as
 *   forwarded (nothing received is then `lost`).
 * @property {{audio: import('./slots.js').SlotPool, video: import('./slots.js').SlotPool}} [pools]
 *   This session's microphone and camera slots (slots.js `slotPools`).
 */

/**
 * `idle`: nothing is received from that participant because the server forwards nothing of
 * theirs (remote tiles only).
 * @typedef {'good' | 'fair' | 'poor' | 'lost' | 'idle'} Quality
 */

/**
 * @typedef {object} Figures
 * @property {number | null} bitrateUp    Bits per second we send (own tile only).
 * @property {number | null} bitrateDown  Bits per second received (from that participant; on
 *   the own tile, everything we receive).
 * @property {number | null} lossUp       Fraction 0..1 of what we send that is lost (own tile).
 * @property {number | null} lossDown     Fraction 0..1 of what we receive that is lost.
 * @property {number | null} rttMs        Round-trip time to the server.
 * @property {{width: number, height: number} | null} resolution
 * @property {number | null} frameRate
 * @property {{audio: string | null, video: string | null} | null} codecs
 * @property {'UDP' | 'TCP' | 'relay' | null} transport
 * @property {number | null} serverPort
 * @property {Quality} quality
 */

/** @type {Readonly<Figures>} */
export const NO_FIGURES = Object.freeze({
  bitrateUp: null,
  bitrateDown: null,
  lossUp: null,
  lossDown: null,
  rttMs: null,
  resolution: null,
  frameRate: null,
  codecs: null,
  transport: null,
  serverPort: null,
  quality: /** @type {Quality} */ ('lost'),
});

/**
 * The figures of a remote tile whose participant's media the server does not forward to us.
 * @type {Readonly<Figures>}
 */
export const NOT_FORWARDED = Object.freeze({ ...NO_FIGURES, quality: /** @type {Quality} */ ('idle') });

// Quality levels. Loss after Jitsi's connection quality (lib-jitsi-meet ConnectionQuality.js
// scores ≤ 2 % loss 100 (5 bars), ≤ 4 % 70 (4 bars), ≤ 6 % 50, ≤ 8 % 30, ≤ 12 % 10, beyond 0):
// "good" is its 4 to 5 bars, "fair" 2 to 3 bars, "poor" below. Jitsi ignores the round-trip
// time; we add it after ITU-T G.114 (one-way delay up to 150 ms is transparent, beyond 400 ms
// unacceptable for conversation): a round trip above 300 ms is "fair", above 800 ms "poor".
// "lost": no bytes arrived (or left) between the two samples, or no connected ICE pair.
// "idle" (remote tiles): the server forwards nothing of that participant's and the last-N
// explains it (slots.js `leftOutByLastN`), and the ICE pair is connected (with no connected
// pair, everything is "lost": that is the problem to report).
export const LOSS_FAIR = 0.04;
export const LOSS_POOR = 0.08;
export const RTT_FAIR_MS = 300;
export const RTT_POOR_MS = 800;

/**
 * @param {{flowing: boolean, loss: number | null, rttMs: number | null}} m
 * @returns {Quality}
 */
export function qualityOf({ flowing, loss, rttMs }) {
  if (!flowing) return 'lost';
  if ((loss ?? 0) > LOSS_POOR || (rttMs ?? 0) > RTT_POOR_MS) return 'poor';
  if ((loss ?? 0) > LOSS_FAIR || (rttMs ?? 0) > RTT_FAIR_MS) return 'fair';
  return 'good';
}

/**
 * @param {StatsSample} sample
 * @returns {Map<string, StatLike>}
 */
function index(sample) {
  /** @type {Map<string, StatLike>} */
  const byId = new Map();
  for (const s of sample.stats) if (s && typeof s.id === 'string') byId.set(s.id, s);
  return byId;
}

/** @param {unknown} v @returns {number} */
const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * The selected ICE candidate pair and its two candidates, or null while none is connected.
 * @param {Map<string, StatLike>} byId
 */
function selectedPair(byId) {
  /** @type {StatLike | undefined} */
  let pair;
  for (const s of byId.values()) {
    if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') {
      pair = byId.get(s.selectedCandidatePairId);
      if (pair) break;
    }
  }
  if (!pair) {
    for (const s of byId.values()) {
      // Firefox marks the pair `selected`; Chromium lists it on the transport (above).
      if (s.type === 'candidate-pair' && (s.selected === true || (s.nominated === true && s.state === 'succeeded'))) {
        pair = s;
        break;
      }
    }
  }
  if (!pair || pair.state !== 'succeeded') return null;
  return { pair, local: byId.get(pair.localCandidateId), remote: byId.get(pair.remoteCandidateId) };
}

/**
 * @param {StatLike | undefined} local
 * @returns {Figures['transport']}
 */
function transportOf(local) {
  if (!local) return null;
  if (local.candidateType === 'relay') return 'relay';
  const protocol = String(local.protocol ?? '').toLowerCase();
  if (protocol === 'udp') return 'UDP';
  if (protocol === 'tcp') return 'TCP';
  return null;
}

/**
 * @param {Map<string, StatLike>} byId
 * @param {StatLike} rtp
 * @returns {string | null}
 */
function codecName(byId, rtp) {
  const codec = typeof rtp.codecId === 'string' ? byId.get(rtp.codecId) : undefined;
  const mime = codec && typeof codec.mimeType === 'string' ? codec.mimeType : '';
  return mime ? mime.split('/').pop() ?? null : null;
}

/**
 * Counters of a set of RTP streams between two samples.
 * @param {StatLike[]} streams  In the current sample.
 * @param {Map<string, StatLike>} before
 * @param {'bytesReceived' | 'bytesSent'} bytesKey
 */
function deltas(streams, before, bytesKey) {
  let bytes = 0;
  let received = 0;
  let lost = 0;
  let compared = 0;
  for (const s of streams) {
    const b = before.get(s.id);
    if (!b) continue;
    compared += 1;
    bytes += Math.max(0, num(s[bytesKey]) - num(b[bytesKey]));
    received += Math.max(0, num(s.packetsReceived) - num(b.packetsReceived));
    lost += Math.max(0, num(s.packetsLost) - num(b.packetsLost));
  }
  return { bytes, compared, loss: received + lost > 0 ? lost / (received + lost) : null };
}

/**
 * The video stream with the most pixels, for resolution and frame rate.
 * @param {Map<string, StatLike>} byId
 * @param {StatLike[]} streams
 */
function videoFacts(byId, streams) {
  /** @type {StatLike | null} */
  let best = null;
  for (const s of streams) {
    if (s.kind !== 'video' || !(num(s.frameWidth) > 0 && num(s.frameHeight) > 0)) continue;
    if (!best || num(s.frameWidth) * num(s.frameHeight) > num(best.frameWidth) * num(best.frameHeight)) best = s;
  }
  const audio = streams.find((s) => s.kind === 'audio');
  const video = streams.find((s) => s.kind === 'video');
  const codecs = {
    audio: audio ? codecName(byId, audio) : null,
    video: video ? codecName(byId, best ?? video) : null,
  };
  return {
    resolution: best ? { width: num(best.frameWidth), height: num(best.frameHeight) } : null,
    frameRate: best && typeof best.framesPerSecond === 'number' ? best.framesPerSecond : null,
    codecs: codecs.audio || codecs.video ? codecs : null,
  };
}

/**
 * The figures of every tile from two samples (`previous` may be null: rates are then unknown
 * and every tile the server forwards is `lost` until the next sample).
 *
 * `remote` lists every participant the server forwards to us (`owners.byMid`, `byTrack`,
 * `forwarded`) and everyone of `roster`; a participant of `roster` the server forwards nothing
 * of is `idle` (`NOT_FORWARDED`) when `owners.forwarded` and `owners.pools` are given, the ICE
 * pair is connected and the last-N explains it (slots.js `leftOutByLastN`), `lost` otherwise.
 * Any other remote tile is `lost`. What a slot carries of a microphone or camera `roster` says
 * is off counts for nothing (neither figures nor "forwarded"): only the kinds they say are on.
 * @param {StatsSample | null} previous
 * @param {StatsSample} current
 * @param {Owners} owners
 * @param {import('./protocol.js').StatsMessage | null} server  The last `stats` message.
 * @param {ReadonlyMap<string, {audio: boolean, video: boolean}>} [roster]  The other
 *   participants and what they say they send (`media_state`).
 * @returns {{self: Figures, remote: Map<string, Figures>}}
 */
export function computeFigures(previous, current, owners, server, roster = new Map()) {
  const now = index(current);
  const before = previous ? index(previous) : new Map();
  const seconds = previous ? (current.at - previous.at) / 1000 : 0;
  /** @param {number} bytes */
  const rate = (bytes) => (seconds > 0 ? Math.round((bytes * 8) / seconds) : null);

  const link = selectedPair(now);
  const linkBefore = link ? before.get(link.pair.id) : undefined;
  const linkUp = link !== null;
  const transport = link ? transportOf(link.local) : null;
  const serverPort = link && link.remote && typeof link.remote.port === 'number' ? link.remote.port : null;
  const pairRtt = link && typeof link.pair.currentRoundTripTime === 'number'
    ? Math.round(link.pair.currentRoundTripTime * 1000)
    : null;

  // --- Remote tiles: inbound streams by participant.
  /** @type {Map<string, StatLike[]>} */
  const inboundBy = new Map();
  /** @type {StatLike[]} */
  const allInbound = [];
  /** @type {StatLike[]} */
  const outbound = [];
  /** @type {StatLike[]} */
  const remoteInbound = [];
  for (const s of now.values()) {
    if (s.type === 'inbound-rtp') {
      allInbound.push(s);
      const who = (typeof s.mid === 'string' ? owners.byMid.get(s.mid) : undefined)
        ?? (typeof s.trackIdentifier === 'string' ? owners.byTrack.get(s.trackIdentifier) : undefined);
      if (!who) continue;
      // A slot carrying their microphone (or camera) while they say it is off is not theirs
      // to show: silence, or nothing, from a device that is off says nothing of their link.
      const said = roster.get(who);
      if (said && ((s.kind === 'audio' && !said.audio) || (s.kind === 'video' && !said.video))) continue;
      const list = inboundBy.get(who) ?? [];
      list.push(s);
      inboundBy.set(who, list);
    } else if (s.type === 'outbound-rtp') {
      const source = typeof s.mediaSourceId === 'string' ? now.get(s.mediaSourceId) : undefined;
      const mine = typeof s.mid === 'string'
        ? owners.ownMids.has(s.mid)
        : Boolean(source && owners.ownTracks?.has(source.trackIdentifier));
      if (mine) outbound.push(s);
    } else if (s.type === 'remote-inbound-rtp') {
      remoteInbound.push(s);
    }
  }

  /** @type {Map<string, Figures>} */
  const remote = new Map();
  for (const [id, streams] of inboundBy) {
    const d = deltas(streams, before, 'bytesReceived');
    const flowing = linkUp && d.compared > 0 && d.bytes > 0;
    if (!flowing) {
      remote.set(id, { ...NO_FIGURES });
      continue;
    }
    const facts = videoFacts(now, streams);
    remote.set(id, {
      bitrateUp: null,
      bitrateDown: rate(d.bytes),
      lossUp: null,
      lossDown: d.loss,
      rttMs: pairRtt ?? server?.rtt_ms ?? null,
      ...facts,
      transport,
      serverPort,
      quality: qualityOf({ flowing, loss: d.loss, rttMs: pairRtt ?? server?.rtt_ms ?? null }),
    });
  }
  // Forwarded with no stream of theirs here yet (a slot listed before its m-line, a screen
  // only): nothing received from someone we should receive is `lost`.
  for (const id of owners.forwarded ?? []) {
    if (!remote.has(id)) remote.set(id, { ...NO_FIGURES });
  }
  // Forwarded nothing of: on purpose when the last-N left them out.
  const { forwarded, pools } = owners;
  for (const [id, media] of roster) {
    if (remote.has(id)) continue;
    const idle = linkUp && forwarded !== undefined && pools !== undefined && leftOutByLastN(media, pools);
    remote.set(id, idle ? { ...NOT_FORWARDED } : { ...NO_FIGURES });
  }

  // --- Own tile: what we send, the server's view of it.
  const sent = deltas(outbound, before, 'bytesSent');
  const selfFlowing = linkUp && sent.compared > 0 && sent.bytes > 0;
  /** @type {Figures} */
  let self = { ...NO_FIGURES };
  if (selfFlowing) {
    const ownOutIds = new Set(outbound.map((s) => s.id));
    const fractions = remoteInbound
      .filter((s) => ownOutIds.has(s.localId) && typeof s.fractionLost === 'number')
      .map((s) => s.fractionLost);
    const lossUp = server?.loss_in ?? (fractions.length ? Math.max(...fractions) : null);
    const lossDown = deltas(allInbound, before, 'bytesReceived').loss ?? server?.loss_out ?? null;
    const down = link && linkBefore
      ? rate(Math.max(0, num(link.pair.bytesReceived) - num(linkBefore.bytesReceived)))
      : server?.bitrate_out ?? null;
    const rttMs = pairRtt ?? server?.rtt_ms ?? null;
    self = {
      bitrateUp: rate(sent.bytes),
      bitrateDown: down,
      lossUp,
      lossDown,
      rttMs,
      ...videoFacts(now, outbound),
      transport: transport ?? serverTransport(server),
      serverPort: serverPort ?? server?.server_port ?? null,
      quality: qualityOf({
        flowing: true,
        loss: Math.max(lossUp ?? 0, lossDown ?? 0),
        rttMs,
      }),
    };
  }
  return { self, remote };
}

/**
 * @param {import('./protocol.js').StatsMessage | null} server
 * @returns {Figures['transport']}
 */
function serverTransport(server) {
  const tr = server?.transport?.toLowerCase();
  return tr === 'udp' ? 'UDP' : tr === 'tcp' ? 'TCP' : null;
}

/** @typedef {'bitrateUp' | 'bitrateDown' | 'lossUp' | 'lossDown' | 'rtt' | 'resolution'
 *   | 'frameRate' | 'codecs' | 'transport' | 'serverPort'} FigureName */

/**
 * The rows a tile shows, in order: the own tile has both directions, a remote tile what we
 * receive from that participant.
 * @param {boolean} local
 * @returns {FigureName[]}
 */
export function figureNames(local) {
  return local
    ? ['bitrateUp', 'bitrateDown', 'lossUp', 'lossDown', 'rtt', 'resolution', 'frameRate', 'codecs', 'transport', 'serverPort']
    : ['bitrateDown', 'lossDown', 'rtt', 'resolution', 'frameRate', 'codecs', 'transport', 'serverPort'];
}

/**
 * @typedef {object} FormatOptions
 * @property {string} locale   BCP 47, for number formatting (`fr` writes `1,6`).
 * @property {string} na       The text of a missing figure ("N/A").
 * @property {string} relay    The name of a relayed transport.
 */

/**
 * One figure as text, `opts.na` when it is null.
 * @param {Figures} f
 * @param {FigureName} name
 * @param {FormatOptions} opts
 * @returns {string}
 */
export function formatFigure(f, name, opts) {
  const { locale, na } = opts;
  const decimal = (/** @type {number} */ n, /** @type {number} */ digits) =>
    new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(n);
  /** @param {number | null} bps */
  const bitrate = (bps) => {
    if (bps === null) return na;
    if (bps >= 1_000_000) return `${decimal(bps / 1_000_000, 1)}\u00a0Mbit/s`;
    return `${decimal(Math.round(bps / 1000), 0)}\u00a0kbit/s`;
  };
  /** @param {number | null} fraction */
  const percent = (fraction) => (fraction === null
    ? na
    : new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(fraction));
  switch (name) {
    case 'bitrateUp': return bitrate(f.bitrateUp);
    case 'bitrateDown': return bitrate(f.bitrateDown);
    case 'lossUp': return percent(f.lossUp);
    case 'lossDown': return percent(f.lossDown);
    case 'rtt': return f.rttMs === null ? na : `${decimal(f.rttMs, 0)}\u00a0ms`;
    case 'resolution': return f.resolution ? `${f.resolution.width}×${f.resolution.height}` : na;
    case 'frameRate': return f.frameRate === null ? na : decimal(f.frameRate, 0);
    case 'codecs': {
      const list = f.codecs ? [f.codecs.video, f.codecs.audio].filter(Boolean) : [];
      return list.length ? list.join(', ') : na;
    }
    case 'transport': return f.transport === null ? na : f.transport === 'relay' ? opts.relay : f.transport;
    case 'serverPort': return f.serverPort === null ? na : String(f.serverPort);
    default: return na;
  }
}
