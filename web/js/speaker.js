// Who is speaking: audio levels from the connection's statistics (`inbound-rtp` of each
// participant's microphone, `media-source` of our own), turned into "speaking" flags and one
// "active speaker" that stays put while they speak and after they stop, until someone else
// speaks (so that the speaker view does not flicker between pauses).

import { mediaSections } from './sdp.js';
import { microphoneOwner } from './slots.js';

/**
 * @typedef {object} SpeakerState
 * @property {Set<string>} speaking   Participants heard within the hold time.
 * @property {string | null} dominant The active speaker (the last one heard, kept until
 *   someone else speaks), or null before anyone spoke.
 */

/**
 * Pure: levels in, speaking flags and active speaker out; the clock is an argument.
 */
export class SpeakerTracker {
  /**
   * @param {{threshold?: number, holdMs?: number}} [options]
   *   `threshold`: level (0..1, linear) from which someone counts as speaking;
   *   `holdMs`: how long they still count as speaking after the last loud sample.
   */
  constructor({ threshold = 0.01, holdMs = 1500 } = {}) {
    /** @private */ this.threshold = threshold;
    /** @private */ this.holdMs = holdMs;
    /** @private @type {Map<string, number>} */ this.lastHeard = new Map();
    /** @private @type {Map<string, number>} */ this.smoothed = new Map();
    /** @private @type {string | null} */ this.current = null;
  }

  /**
   * @param {ReadonlyMap<string, number>} levels  Participant id → level now (0..1).
   * @param {number} now  Milliseconds.
   * @param {string | null} [notDominant]  Who may speak but never becomes the active speaker
   *   (oneself: nobody wants their own face on the stage).
   * @returns {SpeakerState}
   */
  update(levels, now, notDominant = null) {
    for (const [id, level] of levels) {
      const previous = this.smoothed.get(id) ?? 0;
      this.smoothed.set(id, previous * 0.6 + level * 0.4);
      if (level >= this.threshold) this.lastHeard.set(id, now);
    }
    // Participants gone from `levels` (left, muted) stop speaking at once.
    for (const id of [...this.lastHeard.keys()]) {
      if (!levels.has(id)) {
        this.lastHeard.delete(id);
        this.smoothed.delete(id);
      }
    }
    /** @type {Set<string>} */
    const speaking = new Set();
    for (const [id, at] of this.lastHeard) {
      if (now - at <= this.holdMs) speaking.add(id);
    }
    if (!this.current || !speaking.has(this.current)) {
      let best = null;
      let bestLevel = -1;
      for (const id of speaking) {
        if (id === notDominant) continue;
        const level = this.smoothed.get(id) ?? 0;
        if (level > bestLevel) {
          best = id;
          bestLevel = level;
        }
      }
      if (best) this.current = best;
    }
    if (this.current && !levels.has(this.current)) this.current = null;
    return { speaking, dominant: this.current };
  }
}

/**
 * Level of one audio statistics entry since the previous sample: the RMS from
 * `totalAudioEnergy` / `totalSamplesDuration` (both browsers), else the instantaneous
 * `audioLevel`.
 * @param {any} stat
 * @param {{energy: number, duration: number} | undefined} previous
 * @returns {number}
 */
export function statLevel(stat, previous) {
  const energy = stat.totalAudioEnergy;
  const duration = stat.totalSamplesDuration;
  if (typeof energy === 'number' && typeof duration === 'number' && previous) {
    const dd = duration - previous.duration;
    if (dd > 0) return Math.sqrt(Math.max(0, energy - previous.energy) / dd);
  }
  return typeof stat.audioLevel === 'number' ? stat.audioLevel : 0;
}

const POLL_MS = 400;

/**
 * Poll `pc`'s statistics and report who speaks. `self()` says our own id and whether our
 * microphone is on; `audible(id)` whether a participant's microphone is on (a muted participant
 * never "speaks"). A receiving microphone is someone's by its m-line's `a=msid`
 * (`<id> <id>-audio`), or, for a microphone slot (`slots slot-audio-<n>`), by `slotOf(mid)`, the
 * latest `slots` table (slots.js): read at every poll, since a slot changes hands. Returns a
 * function that stops.
 * @param {RTCPeerConnection} pc
 * @param {{self: () => {id: string, audio: boolean} | null, audible: (id: string) => boolean,
 *   slotOf?: (mid: string) => string | null | undefined,
 *   onUpdate: (state: SpeakerState) => void}} opts
 * @returns {() => void}
 */
export function watchSpeakers(pc, { self, audible, slotOf = () => undefined, onUpdate }) {
  const tracker = new SpeakerTracker();
  /** @type {Map<string, {energy: number, duration: number}>} */
  const previous = new Map();
  let stopped = false;
  let busy = false;

  const poll = async () => {
    if (stopped || busy || pc.connectionState === 'closed') return;
    busy = true;
    try {
      // Receiving microphone tracks, by track id (the stats' `trackIdentifier`) and by mid:
      // whose they are now (a slot carrying nobody is left out).
      /** @type {Map<string, {stream: string, track: string | null}>} */
      const msids = new Map();
      for (const section of mediaSections(pc.remoteDescription?.sdp ?? '')) {
        if (section.mid !== null && section.stream !== null) {
          msids.set(section.mid, { stream: section.stream, track: section.track });
        }
      }
      /** @type {Map<string, string>} */
      const byTrack = new Map();
      /** @type {Map<string, string>} */
      const byMid = new Map();
      for (const tr of pc.getTransceivers()) {
        if (!tr.mid || tr.currentDirection === 'stopped') continue;
        const owner = microphoneOwner(msids.get(tr.mid) ?? null, tr.mid, slotOf);
        if (!owner) continue;
        byMid.set(tr.mid, owner);
        if (tr.receiver.track) byTrack.set(tr.receiver.track.id, owner);
      }
      const report = await pc.getStats();
      /** @type {Map<string, number>} */
      const levels = new Map();
      const me = self();
      report.forEach((s) => {
        /** @type {string | undefined} */
        let id;
        if (s.type === 'inbound-rtp' && s.kind === 'audio') {
          id = byTrack.get(s.trackIdentifier) ?? byMid.get(s.mid);
        } else if (s.type === 'media-source' && s.kind === 'audio' && me) {
          id = me.audio ? me.id : undefined;
        }
        const before = previous.get(s.id);
        if (typeof s.totalAudioEnergy === 'number' && typeof s.totalSamplesDuration === 'number') {
          previous.set(s.id, { energy: s.totalAudioEnergy, duration: s.totalSamplesDuration });
        }
        if (!id || (me && id !== me.id && !audible(id))) return;
        levels.set(id, Math.max(levels.get(id) ?? 0, statLevel(s, before)));
      });
      if (!stopped) onUpdate(tracker.update(levels, performance.now(), me ? me.id : null));
    } catch (err) {
      console.debug('webconf: audio levels unavailable', err);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(poll, POLL_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/**
 * The active speaker the speaker view follows: the server's (`speakers`, from the audio levels
 * of every microphone it forwards, docs/protocol.md) once it sent one, else the local estimate
 * from this browser's statistics (a server that predates `speakers`). Pure.
 */
export class ActiveSpeaker {
  constructor() {
    /** @private @type {{active: string, recent: string[]} | null} */ this.server = null;
  }

  /**
   * The server's `speakers` message.
   * @param {{active: string, recent: string[]}} msg
   */
  fromServer(msg) {
    this.server = { active: msg.active, recent: [...msg.recent] };
  }

  /** A participant left: the server sends a new `speakers` when needed, until then drop them.
   * @param {string} id */
  forget(id) {
    if (!this.server) return;
    this.server.recent = this.server.recent.filter((x) => x !== id);
  }

  /**
   * @param {string | null} localDominant  The local estimate (`SpeakerTracker`).
   * @returns {{active: string | null, recent: string[], source: 'server' | 'local' | 'none'}}
   */
  choose(localDominant) {
    if (this.server) return { active: this.server.active, recent: [...this.server.recent], source: 'server' };
    if (localDominant) return { active: localDominant, recent: [localDominant], source: 'local' };
    return { active: null, recent: [], source: 'none' };
  }
}
