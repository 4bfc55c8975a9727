// What this browser shows of the others, for the server's simulcast and last-N
// (docs/protocol.md, `view`): the tiles on screen and their heights in device pixels become one
// `view` message, sent after the layout has settled (debounced) and only when it changed.
// Pure: the DOM side is ui/viewsender.js; the clock is injected for the unit tests.

import { viewMessage } from './protocol.js';

/**
 * One tile as laid out now.
 * @typedef {object} ShownTile
 * @property {string} participant
 * @property {boolean} screen     A shared screen's tile (else the camera's).
 * @property {number} height      CSS pixels (0 when not displayed).
 * @property {boolean} pinned
 */

/** Heights are rounded to this many device pixels: a few pixels more or less choose the same
 * layer, and must not make a new message. */
export const HEIGHT_STEP = 10;

/**
 * The `view` for these tiles: heights in device pixels (× `dpr`, rounded to `HEIGHT_STEP`);
 * every height 0 while the page is hidden (nothing to decode in a background tab).
 * @param {readonly ShownTile[]} tiles
 * @param {{dpr?: number, hidden?: boolean}} [options]
 * @returns {import('./protocol.js').ViewMessage}
 */
export function buildView(tiles, { dpr = 1, hidden = false } = {}) {
  const scale = Number.isFinite(dpr) && dpr > 0 ? dpr : 1;
  return viewMessage(tiles.map((x) => ({
    participant: x.participant,
    screen: x.screen,
    height: hidden || !(x.height > 0) ? 0 : Math.round((x.height * scale) / HEIGHT_STEP) * HEIGHT_STEP,
    pinned: x.pinned,
  })));
}

/**
 * Whether two views say the same (the order of tiles does not matter).
 * @param {import('./protocol.js').ViewMessage | null} a
 * @param {import('./protocol.js').ViewMessage | null} b
 * @returns {boolean}
 */
export function sameView(a, b) {
  if (!a || !b) return a === b;
  if (a.tiles.length !== b.tiles.length) return false;
  const key = (/** @type {import('./protocol.js').ViewTile} */ x) => `${x.participant}|${x.screen}|${x.height}|${x.pinned}`;
  const left = a.tiles.map(key).sort();
  const right = b.tiles.map(key).sort();
  return left.every((k, i) => k === right[i]);
}

/**
 * Debounces views: `update` with the latest one, it is sent `delayMs` after the last update
 * if it differs from the last one sent. `send` returns false when the message could not go
 * (socket closed): it is tried again at the next update.
 */
export class ViewReporter {
  /**
   * @param {object} opts
   * @param {(msg: import('./protocol.js').ViewMessage) => boolean} opts.send
   * @param {number} [opts.delayMs]
   * @param {(fn: () => void, ms: number) => unknown} [opts.setTimer]
   * @param {(handle: unknown) => void} [opts.clearTimer]
   */
  constructor({ send, delayMs = 300, setTimer, clearTimer }) {
    /** @private */ this.send = send;
    /** @private */ this.delayMs = delayMs;
    /** @private */ this.setTimer = setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    /** @private */ this.clearTimer = clearTimer
      ?? ((handle) => clearTimeout(/** @type {ReturnType<typeof setTimeout>} */ (handle)));
    /** @private @type {unknown} */ this.timer = null;
    /** @private @type {import('./protocol.js').ViewMessage | null} */ this.latest = null;
    /** The last view the server got, or null. @type {import('./protocol.js').ViewMessage | null} */
    this.sent = null;
    /** @private */ this.disposed = false;
  }

  /** @param {import('./protocol.js').ViewMessage} view */
  update(view) {
    if (this.disposed) return;
    this.latest = view;
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = this.setTimer(() => {
      this.timer = null;
      this.flush();
    }, this.delayMs);
  }

  /** Send the latest view now if it changed. */
  flush() {
    if (this.disposed || !this.latest || sameView(this.latest, this.sent)) return;
    if (this.send(this.latest)) this.sent = this.latest;
  }

  dispose() {
    this.disposed = true;
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
  }
}
