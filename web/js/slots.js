// Slots (docs/protocol.md, `slots`): the server forwards the others' microphones on a small pool
// of audio m-lines per session, at most `media.audio_last_n`, whose `a=msid` is
// `slots slot-audio-<n>`, and their cameras on a pool of video m-lines, at most `media.last_n`,
// `slots slot-video-<n>`; each carries, in turn, whichever microphone or camera the last-N picks,
// as one continuous RTP stream. So a slot's track is nobody's in particular: a microphone slot is
// played as it is (ui/slotaudio.js), a camera slot goes into the tile of the participant it
// carries (ui/slotvideo.js), and who that is is told by the latest `slots` table, by mid.
//
// The older path stays: a server that forwards one m-line per microphone or camera labels it
// `a=msid:<participant id> <participant id>-audio|-video`, and the stream id is the participant.
// Pure: no DOM, no RTCPeerConnection.

import { trackLabel } from './sdp.js';

/** The msid stream id of every microphone slot (never a participant id: those start with `p`). */
export const SLOT_STREAM = 'slots';

/**
 * Whether a remote track's msid stream id (`RTCTrackEvent.streams[0].id`) is a microphone slot
 * rather than a participant.
 * @param {string | null | undefined} streamId
 * @returns {boolean}
 */
export function isSlotStream(streamId) {
  return streamId === SLOT_STREAM;
}

/**
 * The kind of a slot from its msid track id (`slot-audio-<n>`, `slot-video-<n>`), or null for a
 * track id of another shape. The transceiver's kind says the same; this is for the SDP-only
 * readers (statistics, speaking indicator).
 * @param {string | null | undefined} trackId
 * @returns {'audio' | 'video' | null}
 */
export function slotKind(trackId) {
  const m = /^slot-(audio|video)-\d+$/.exec(trackId ?? '');
  return m ? /** @type {'audio' | 'video'} */ (m[1]) : null;
}

/**
 * The latest `slots` table of this session: mid → participant id (null: the slot carries
 * nothing now). Each message lists every slot, so it replaces the table; a mid listed before its
 * m-line exists is simply kept until the track comes and is looked up.
 */
export class SlotTable {
  constructor() {
    /** @private @type {Map<string, string | null>} */ this.byMid = new Map();
  }

  /**
   * The server's table (`slots` message), replacing the previous one.
   * @param {readonly import('./protocol.js').SlotEntry[]} slots
   */
  update(slots) {
    this.byMid = new Map(slots.map((s) => [s.mid, s.participant]));
  }

  /** Forget every slot (a new media session). */
  clear() {
    this.byMid = new Map();
  }

  /**
   * Who the slot `mid` carries now: a participant id, null when it carries nothing, undefined
   * when the table does not list that mid (not a slot, or not told yet).
   * @param {string} mid
   * @returns {string | null | undefined}
   */
  get(mid) {
    return this.byMid.get(mid);
  }

  /**
   * The participants some slot carries now (whose microphone or camera the server forwards).
   * @returns {Set<string>}
   */
  participants() {
    /** @type {Set<string>} */
    const out = new Set();
    for (const participant of this.byMid.values()) if (participant) out.add(participant);
    return out;
  }

  /**
   * Every slot of the table, mid → participant id (null: carries nothing), in the order opened.
   * @returns {Array<[string, string | null]>}
   */
  entries() {
    return [...this.byMid];
  }

  /** @returns {number} */
  get size() {
    return this.byMid.size;
  }

  /**
   * The table as a plain object, mid → participant id or null, in the order opened (what
   * `window.webconf.slots` shows).
   * @returns {Record<string, string | null>}
   */
  toObject() {
    /** @type {Record<string, string | null>} */
    const out = {};
    for (const [mid, participant] of this.byMid) out[mid] = participant;
    return out;
  }
}

/**
 * Whose microphone a receiving audio m-line carries now: for a slot (msid stream `slots`), the
 * participant the table says (null while it carries nothing or is not listed yet); for the older
 * per-participant path, the msid stream id when its track id is `<id>-audio`. Null for anything
 * else (a camera, a screen's sound, no msid).
 * @param {{stream: string, track: string | null} | null} msid  The m-line's `a=msid` (sdp.js `msidForMid`).
 * @param {string} mid
 * @param {(mid: string) => string | null | undefined} slotOf  The table's lookup (`SlotTable.get`).
 * @returns {string | null}
 */
export function microphoneOwner(msid, mid, slotOf) {
  if (!msid) return null;
  if (isSlotStream(msid.stream)) return slotKind(msid.track) === 'video' ? null : slotOf(mid) ?? null;
  return trackLabel(msid.track) === 'audio' ? msid.stream : null;
}

/**
 * Whose camera a receiving video m-line carries now: for a camera slot (msid `slots
 * slot-video-<n>`), the participant the table says (null while it carries nothing or is not
 * listed yet); for the older per-participant path, the msid stream id when its track id is
 * `<id>-video`. Null for anything else (a microphone, a shared screen, no msid).
 * @param {{stream: string, track: string | null} | null} msid  The m-line's `a=msid`.
 * @param {string} mid
 * @param {(mid: string) => string | null | undefined} slotOf  The table's lookup (`SlotTable.get`).
 * @returns {string | null}
 */
export function cameraOwner(msid, mid, slotOf) {
  if (!msid) return null;
  if (isSlotStream(msid.stream)) return slotKind(msid.track) === 'video' ? slotOf(mid) ?? null : null;
  return trackLabel(msid.track) === 'video' ? msid.stream : null;
}

/**
 * What the server forwards of a participant's: their microphone (`audio`), their camera
 * (`video`), their screen or its sound (`screen`), or a slot whose m-line is not here yet, so
 * whose kind is not known (`unknown`).
 * @typedef {'audio' | 'video' | 'screen' | 'unknown'} ForwardedKind
 */

/**
 * What the server forwards to us now, by participant and kind: every slot of the latest table
 * that carries someone, by the kind of its m-line (its msid track id `slot-audio-<n>` /
 * `slot-video-<n>`, else the transceiver's kind; `unknown` for a mid the table lists before
 * its m-line is here), and the owner of every receiving per-participant m-line
 * (`a=msid:<id> <id>-audio`, `-video`, `-screen`, `-screen-audio`).
 * @param {Iterable<readonly [string, string | null | undefined]>} table  The latest `slots`
 *   table, mid → participant id or null (`SlotTable.entries`).
 * @param {Iterable<{msid: {stream: string, track: string | null} | null, kind: string, mid: string}>} receiving
 *   Every m-line we receive on now, with its `a=msid` (sdp.js `msidForMid`).
 * @returns {Map<string, Set<ForwardedKind>>}
 */
export function forwardedMedia(table, receiving) {
  /** @type {Map<string, Set<ForwardedKind>>} */
  const out = new Map();
  const add = (/** @type {string} */ id, /** @type {ForwardedKind} */ kind) => {
    const kinds = out.get(id) ?? new Set();
    kinds.add(kind);
    out.set(id, kinds);
  };
  /** @type {Map<string, 'audio' | 'video'>} */
  const slotKinds = new Map();
  for (const { msid, kind, mid } of receiving) {
    if (!msid) continue;
    if (isSlotStream(msid.stream)) {
      slotKinds.set(mid, slotKind(msid.track) ?? (kind === 'video' ? 'video' : 'audio'));
      continue;
    }
    const label = trackLabel(msid.track);
    if (label) add(msid.stream, label === 'audio' || label === 'video' ? label : 'screen');
  }
  for (const [mid, id] of table) if (id) add(id, slotKinds.get(mid) ?? 'unknown');
  return out;
}

/**
 * Whose media the server forwards to us now, for the connection indicator: a participant
 * counts when the server forwards a kind of theirs they say is on (`media_state`), their
 * screen, or a slot whose kind is not known yet. A slot carrying their microphone (or camera)
 * while they say it is off does not: their browser keeps the m-line and may send silence, an
 * older server gives it a slot, and ours only until its next allocation (the server gives a
 * microphone turned off no slot). Anyone else sends us nothing on purpose when the last-N
 * explains it (`leftOutByLastN`): their tile's indicator is then `idle`, not `lost`. Someone
 * `media` does not list counts with whatever is forwarded of theirs.
 * @param {ReadonlyMap<string, ReadonlySet<ForwardedKind>>} forwarded  (`forwardedMedia`)
 * @param {ReadonlyMap<string, {audio: boolean, video: boolean}>} [media]  What the others say
 *   they send.
 * @returns {Set<string>}
 */
export function forwardedParticipants(forwarded, media = new Map()) {
  /** @type {Set<string>} */
  const out = new Set();
  for (const [id, kinds] of forwarded) {
    const said = media.get(id);
    const counts = (/** @type {ForwardedKind} */ k) =>
      !said || k === 'screen' || k === 'unknown' || (k === 'audio' ? said.audio : said.video);
    if ([...kinds].some(counts)) out.add(id);
  }
  return out;
}

/**
 * How many slots of one kind are open in this session, and how many of them carry nobody now.
 * @typedef {{open: number, free: number}} SlotPool
 */

/**
 * Whether the last-N explains that the server forwards nothing of a participant's (no slot
 * carries them, no m-line of theirs is receiving; a slot carrying a microphone or camera they
 * say is off counts for nothing, `forwardedParticipants`): for their microphone if it is on, and for
 * their camera if it is on (`media_state`), the pool of that kind is full, every open slot
 * carrying someone else (the server picked others). A free slot, or none open at all, while
 * their microphone or camera is on means their media does not reach the server (a blocked
 * network, a failed connection): that is no last-N. A participant with both off has nothing
 * to send.
 * @param {{audio: boolean, video: boolean}} media  What they say they send.
 * @param {{audio: SlotPool, video: SlotPool}} pools  This session's slots (`slotPools`).
 * @returns {boolean}
 */
export function leftOutByLastN(media, pools) {
  const full = (/** @type {SlotPool} */ p) => p.open > 0 && p.free === 0;
  return (!media.audio || full(pools.audio)) && (!media.video || full(pools.video));
}

/**
 * The pools of this session's slots: for each receiving slot m-line, its kind (its msid track
 * id, else `kind`) and whether the table says it carries nobody now (null; a slot the table
 * does not list yet counts as free).
 * @param {Iterable<{msid: {stream: string, track: string | null} | null, kind: string, mid: string}>} receiving
 * @param {(mid: string) => string | null | undefined} slotOf
 * @returns {{audio: SlotPool, video: SlotPool}}
 */
export function slotPools(receiving, slotOf) {
  const pools = { audio: { open: 0, free: 0 }, video: { open: 0, free: 0 } };
  for (const { msid, kind, mid } of receiving) {
    if (!msid || !isSlotStream(msid.stream)) continue;
    const k = slotKind(msid.track) ?? (kind === 'video' ? 'video' : 'audio');
    pools[k].open += 1;
    if (!slotOf(mid)) pools[k].free += 1;
  }
  return pools;
}

/**
 * Which participant's tile each camera slot's track goes to, from the table: `mids` are the
 * camera slots whose track is here (in the order they came); each goes to the participant the
 * table lists for it, or to none (not listed yet, carries nothing). Should two slots name the
 * same participant (never by the protocol), the first keeps it: a tile shows one camera.
 * @param {Iterable<string>} mids
 * @param {(mid: string) => string | null | undefined} slotOf
 * @returns {Map<string, string | null>}  mid → participant id or null.
 */
export function placeCameraSlots(mids, slotOf) {
  /** @type {Map<string, string | null>} */
  const out = new Map();
  /** @type {Set<string>} */
  const taken = new Set();
  for (const mid of mids) {
    const who = slotOf(mid);
    if (typeof who === 'string' && !taken.has(who)) {
      taken.add(who);
      out.set(mid, who);
    } else {
      out.set(mid, null);
    }
  }
  return out;
}

/**
 * What changed between two placements (`placeCameraSlots`): each camera slot whose participant
 * changed, with the tile it leaves (`from`) and the tile it goes to (`to`), either null. The
 * caller takes every slot out of its `from` tile first, then puts each into its `to` tile.
 * A slot that keeps its participant is not listed: its tile goes on showing it as it is.
 * @param {ReadonlyMap<string, string | null>} before
 * @param {ReadonlyMap<string, string | null>} after
 * @returns {Array<{mid: string, from: string | null, to: string | null}>}
 */
export function cameraSlotMoves(before, after) {
  /** @type {Array<{mid: string, from: string | null, to: string | null}>} */
  const out = [];
  for (const [mid, to] of after) {
    const from = before.get(mid) ?? null;
    if (from !== to) out.push({ mid, from, to });
  }
  for (const [mid, from] of before) {
    if (!after.has(mid) && from !== null) out.push({ mid, from, to: null });
  }
  return out;
}

/** How many frames a camera slot's receiver must decode after its track moved into a tile
 * before the tile shows it (see `RevealWatch`). */
export const REVEAL_FRAMES = 2;

/**
 * When a tile may show a camera slot's track that just moved into it. The slot's stream goes on
 * across participants (docs/protocol.md, `slots`): for a moment the last decoded picture is the
 * previous participant's, so the tile keeps its avatar until the slot's receiver has decoded
 * `REVEAL_FRAMES` frames more than at the first sample taken after the move (its inbound-rtp
 * `framesDecoded`): the first of them was decoded after the move, and by the time the second
 * is counted, the first has reached the `<video>`. A first sample taken late only delays the
 * reveal. Pure: the caller samples.
 */
export class RevealWatch {
  /** @param {number} [frames]  Frames to wait for (`REVEAL_FRAMES`). */
  constructor(frames = REVEAL_FRAMES) {
    /** @private */ this.frames = frames;
    /** @private @type {number | null} */ this.base = null;
    /** Whether the tile may show the video now (stays true). */
    this.revealed = false;
  }

  /**
   * One sample of the receiver's `framesDecoded` (null: not reported, or no statistics yet).
   * @param {number | null | undefined} framesDecoded
   * @returns {boolean}  Whether the tile may show the video.
   */
  sample(framesDecoded) {
    if (this.revealed) return true;
    if (typeof framesDecoded !== 'number' || !Number.isFinite(framesDecoded)) return false;
    // A counter that went back (a new receiver) starts afresh.
    if (this.base === null || framesDecoded < this.base) {
      this.base = framesDecoded;
      return false;
    }
    this.revealed = framesDecoded - this.base >= this.frames;
    return this.revealed;
  }
}
