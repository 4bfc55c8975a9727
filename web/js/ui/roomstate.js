// What the meeting's controls (chat, participants, hands, moderation, password) know of the
// room: everyone in it (this participant included), the raised hands in the server's order and
// whether the room is protected. One store, fed by the signaling messages; the panels subscribe
// to it and redraw. The server is the authority: nothing here is guessed ahead of its answer.

import { setHands, setLocked } from '../hooks.js';

/** @typedef {import('../protocol.js').ParticipantInfo} ParticipantInfo */
/** @typedef {import('../protocol.js').Role} Role */

/**
 * What changed: `roster` (someone arrived, left or changed), `me` (this participant's state
 * or role), `hands`, `locked`.
 * @typedef {'roster' | 'me' | 'hands' | 'locked'} Change
 */

export class RoomState {
  /**
   * @param {ParticipantInfo} me
   * @param {ParticipantInfo[]} others  From `welcome`.
   */
  constructor(me, others) {
    /** This participant, as the meeting keeps it (the local tracks are the truth for it). */
    this.me = { ...me };
    /** @type {Map<string, ParticipantInfo>} The others, in order of arrival. */
    this.others = new Map(others.map((p) => [p.id, { ...p }]));
    /** @type {string[]} Raised hands, first raised first. */
    this.hands = [];
    this.locked = false;
    /** @private @type {Set<(change: Change) => void>} */
    this.listeners = new Set();
    setHands([]);
    setLocked(false);
  }

  /** @returns {boolean} */
  get isModerator() {
    return this.me.role === 'moderator';
  }

  /**
   * @param {(change: Change) => void} fn
   * @returns {() => void}  Unsubscribes.
   */
  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Everyone, this participant first.
   * @returns {ParticipantInfo[]}
   */
  everyone() {
    return [this.me, ...this.others.values()];
  }

  /**
   * @param {string} id
   * @returns {ParticipantInfo | undefined}
   */
  get(id) {
    return id === this.me.id ? this.me : this.others.get(id);
  }

  /**
   * The position of a raised hand, from 1; 0 when the hand is down.
   * @param {string} id
   * @returns {number}
   */
  rank(id) {
    return this.hands.indexOf(id) + 1;
  }

  /** @param {ParticipantInfo} p  A participant other than this one arrived or changed. */
  put(p) {
    this.others.set(p.id, { ...p });
    this.emit('roster');
  }

  /** @param {string} id */
  drop(id) {
    if (!this.others.delete(id)) return;
    this.emit('roster');
  }

  /** @param {ParticipantInfo} me  This participant's new state (microphone, camera, role). */
  setMe(me) {
    this.me = { ...me };
    this.emit('me');
  }

  /** @param {string[]} queue */
  setHands(queue) {
    this.hands = [...queue];
    setHands(queue);
    this.emit('hands');
  }

  /** @param {boolean} locked */
  setLocked(locked) {
    this.locked = locked;
    setLocked(locked);
    this.emit('locked');
  }

  /**
   * @private
   * @param {Change} change
   */
  emit(change) {
    for (const fn of [...this.listeners]) {
      try {
        fn(change);
      } catch (err) {
        console.error(`webconf: a view failed to follow a "${change}" change`, err);
      }
    }
  }
}
