// Media statistics read in the pages (re-exported by ../harness.mjs).
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor, safeJson } from './poll.mjs';

// ---------------------------------------------------------------------------------------------
// Media statistics

/**
 * Page-side helper (serialised into the page by `page.evaluate`, so it must be self-contained).
 * For every transceiver that receives, finds the sender's participant id as the stream id of
 * the `a=msid` line of its m-section in the remote description, and reads its receiver's
 * inbound-rtp statistics. A microphone slot (msid stream id `slots`, docs/protocol.md `slots`)
 * is nobody's by its msid: it counts for the participant it carries now, from the page's
 * latest `slots` table (`window.webconf.slots`, mid → participant id or null), and is skipped
 * while it carries nobody (or its mid is not in the table yet). Its counters are the slot's
 * since it opened, whoever it carried before. Returns {error?, byParticipant: {id: {audio?,
 * video?}}}, where counters of several transceivers of one kind for one participant are added
 * up.
 */
export async function pageMediaStats(pcPath) {
  const root = /** @type {any} */ (window);
  const pc = pcPath === undefined ? root.webconf && root.webconf.pc : pcPath.split('.').reduce((o, k) => o && o[k], root);
  /** @type {Record<string, any>} */
  const byParticipant = {};
  if (!pc) return { error: 'no RTCPeerConnection (window.webconf.pc is not set)', byParticipant };
  const slots = (root.webconf && root.webconf.slots) || {};
  const desc = pc.currentRemoteDescription || pc.remoteDescription;
  const sdp = desc ? desc.sdp : '';
  /** @type {Map<string, {stream: string, kind: string}>} */
  const byMid = new Map();
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    const lines = section.split(/\r?\n/);
    const kind = lines[0].split(' ')[0];
    let mid;
    let stream;
    for (const line of lines) {
      if (line.startsWith('a=mid:')) mid = line.slice(6).trim();
      else if (line.startsWith('a=msid:') && stream === undefined) stream = line.slice(7).trim().split(/\s+/)[0];
    }
    if (mid !== undefined && stream && stream !== '-') byMid.set(mid, { stream, kind });
  }
  for (const tr of pc.getTransceivers()) {
    if (tr.mid === null || tr.mid === undefined) continue;
    const info = byMid.get(tr.mid);
    if (!info) continue;
    let owner = info.stream;
    if (owner === 'slots') {
      owner = Object.prototype.hasOwnProperty.call(slots, tr.mid) ? slots[tr.mid] : null;
      if (typeof owner !== 'string') continue;
    }
    let report;
    try {
      report = await tr.receiver.getStats();
    } catch {
      continue;
    }
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      const kind = s.kind || s.mediaType || info.kind;
      const p = (byParticipant[owner] = byParticipant[owner] || {});
      const acc = (p[kind] = p[kind] || { transceivers: 0, packetsReceived: 0, bytesReceived: 0 });
      acc.transceivers += 1;
      acc.packetsReceived += s.packetsReceived || 0;
      acc.bytesReceived += s.bytesReceived || 0;
      for (const key of ['framesDecoded', 'totalSamplesReceived', 'concealedSamples']) {
        if (typeof s[key] === 'number') acc[key] = (acc[key] || 0) + s[key];
      }
      acc.mids = (acc.mids ? acc.mids + ',' : '') + tr.mid;
      acc.direction = tr.currentDirection;
      acc.trackState = tr.receiver.track ? tr.receiver.track.readyState : undefined;
    });
  }
  return { byParticipant };
}

/** Per-participant inbound media counters of a page (see `pageMediaStats`). */
export async function mediaStats(page, pcPath) {
  return page.evaluate(pageMediaStats, pcPath);
}

function counters(entry) {
  return {
    audioPackets: entry && entry.audio ? entry.audio.packetsReceived : 0,
    audioSamples: entry && entry.audio ? entry.audio.totalSamplesReceived : undefined,
    videoPackets: entry && entry.video ? entry.video.packetsReceived : 0,
    videoFrames: entry && entry.video ? entry.video.framesDecoded || 0 : 0,
  };
}

/**
 * Waits until `page` has received audio packets and decoded video frames from every
 * participant in `ids`.
 */
async function waitForMediaStart(page, ids, { label, timeoutMs, pcPath, interval = 100 }) {
  await waitFor(
    async () => {
      const { byParticipant, error } = await mediaStats(page, pcPath);
      if (error) throw new Error(error);
      return ids.every((id) => {
        const c = counters(byParticipant[id]);
        return c.audioPackets > 0 && c.videoFrames > 0;
      });
    },
    timeoutMs,
    { interval, message: `${label} to receive audio packets and decode video frames from ${ids.join(', ')}` },
  );
}

/** What did not grow from sample `a` to sample `b`, per participant of `ids` (empty: all grew). */
function growthProblems(ids, first, last) {
  const out = [];
  for (const id of ids) {
    const a = counters(first.byParticipant[id]);
    const b = counters(last.byParticipant[id]);
    if (!(b.audioPackets > a.audioPackets)) out.push(`${id}: audio packetsReceived ${a.audioPackets} -> ${b.audioPackets}`);
    if (a.audioSamples !== undefined && b.audioSamples !== undefined && !(b.audioSamples > a.audioSamples)) {
      out.push(`${id}: audio totalSamplesReceived ${a.audioSamples} -> ${b.audioSamples}`);
    }
    if (!(b.videoFrames > a.videoFrames)) out.push(`${id}: video framesDecoded ${a.videoFrames} -> ${b.videoFrames}`);
  }
  return out;
}

/**
 * Asserts that `page` decodes audio and video from every participant in `ids`: waits until
 * each has decoded something, then takes two samples `windowMs` apart and requires audio
 * packets, audio samples (where the browser reports them) and decoded video frames to grow.
 */
export async function expectMediaFlowing(page, ids, { label = page.label, timeoutMs = 20000, windowMs = 2000, pcPath } = {}) {
  await waitForMediaStart(page, ids, { label, timeoutMs, pcPath });
  const first = await mediaStats(page, pcPath);
  await sleep(windowMs);
  const second = await mediaStats(page, pcPath);
  const problems = growthProblems(ids, first, second);
  if (problems.length) {
    throw new Error(
      `${label}: media did not keep flowing over ${windowMs} ms: ${problems.join('; ')}\n` +
        `first sample: ${safeJson(first)}\nsecond sample: ${safeJson(second)}`,
    );
  }
  return second;
}

/**
 * Asserts that `page` stops receiving media from participant `id` within `timeoutMs`: two
 * samples `windowMs` apart with no new audio or video packets and no new decoded frame (or no
 * receiver for it at all), confirmed by a third sample `windowMs` later.
 */
export async function expectMediaStopped(page, id, { label = page.label, timeoutMs = 3000, windowMs = 500 } = {}) {
  const start = Date.now();
  let prev = counters((await mediaStats(page)).byParticipant[id]);
  let stableSince = null;
  const history = [prev];
  for (;;) {
    await sleep(windowMs);
    const now = counters((await mediaStats(page)).byParticipant[id]);
    history.push(now);
    const same =
      now.audioPackets === prev.audioPackets &&
      now.videoPackets === prev.videoPackets &&
      now.videoFrames === prev.videoFrames;
    if (same) {
      if (stableSince !== null) return Date.now() - start;
      stableSince = Date.now();
    } else {
      stableSince = null;
    }
    prev = now;
    if (Date.now() - start > timeoutMs + windowMs) {
      throw new Error(
        `${label}: still receiving media from ${id} ${Date.now() - start} ms after it left; samples: ${safeJson(history)}`,
      );
    }
  }
}


/**
 * Like `expectMediaFlowing`, for a busy machine (simulcast at 1280×720 starts slowly when the
 * processor is loaded, and a decoder may stall for a second): waits up to `timeoutMs` for audio
 * and video from every participant in `ids`, takes a first sample, then polls until every
 * counter (audio packets, audio samples where reported, decoded video frames) has grown past
 * that sample, at least `windowMs` later and within `growTimeoutMs`. Same assertion, no single
 * read after a fixed wait. Returns the last sample.
 */
export async function waitForMediaFlowing(page, ids, {
  label = page.label, timeoutMs = 60000, windowMs = 2000, growTimeoutMs = 30000, pcPath,
} = {}) {
  await waitForMediaStart(page, ids, { label, timeoutMs, pcPath, interval: 250 });
  const first = await mediaStats(page, pcPath);
  const firstAt = Date.now();
  let last = first;
  const problems = () => growthProblems(ids, first, last);
  await waitFor(
    async () => {
      last = await mediaStats(page, pcPath);
      return Date.now() - firstAt >= windowMs && problems().length === 0;
    },
    growTimeoutMs,
    {
      interval: 500,
      message: () => `${label}: media to keep flowing after the first sample: ${problems().join('; ')}\n` +
        `first sample: ${safeJson(first)}\nlast sample: ${safeJson(last)}`,
    },
  );
  return last;
}
