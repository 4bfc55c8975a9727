// Microphone slots (docs/protocol.md, `slots`): the server forwards the others' microphones on a
// small pool of audio m-lines per session, at most `media.audio_last_n`, whose `a=msid` is
// `slots slot-audio-<n>`; each carries, in turn, whichever microphone the audio last-N picks, as
// one continuous RTP stream. So a slot's track is nobody's in particular: it is played as it is
// (ui/slotaudio.js), and who speaks in it is told by the latest `slots` table, by mid.
//
// The older path stays: a server that forwards one m-line per microphone labels it
// `a=msid:<participant id> <participant id>-audio`, and the stream id is the participant.
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
  if (isSlotStream(msid.stream)) return slotOf(mid) ?? null;
  return trackLabel(msid.track) === 'audio' ? msid.stream : null;
}
