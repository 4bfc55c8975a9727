// Pure reconnection policy (docs/architecture.md, "Reconnection"): when to try again after the
// signaling socket is lost, when to give up, and what to do about the media connection's ICE
// state. No timers and no DOM here: `ui/reconnecting.js` and `ui/meeting.js` apply it.

/**
 * @typedef {object} ReconnectPolicy
 * @property {number} firstDelayMs    Wait before the first new attempt.
 * @property {number} maxDelayMs      The longest wait between two attempts.
 * @property {number} factor          Each wait is this times the one before (up to the maximum).
 * @property {number} jitter          Each wait is moved by up to ± this fraction at random, so
 *   that the clients of a restarted server do not all come back in the same millisecond.
 * @property {number} attemptTimeoutMs  An attempt whose socket is not open, or whose `join` is
 *   not answered, after this long is abandoned (a cut network never refuses: it stays silent).
 * @property {number} giveUpMs        After this long without success the meeting ends on the
 *   "connection lost" screen.
 * @property {number} iceGraceMs      ICE `disconnected` is left this long to recover on its own
 *   (the same addresses come back) before an ICE restart.
 * @property {number} stallMs         Nothing received on the connection for this long while ICE
 *   still says `connected` counts as down: browsers notice a lost path late (Chromium: 7 s
 *   after an address change), the received bytes tell sooner.
 * @property {number} statsIntervalMs How often the received bytes are read.
 */

/** @type {Readonly<ReconnectPolicy>} */
export const RECONNECT_POLICY = Object.freeze({
  firstDelayMs: 300,
  maxDelayMs: 2_500,
  factor: 2,
  jitter: 0.25,
  attemptTimeoutMs: 4_000,
  giveUpMs: 180_000,
  iceGraceMs: 2_000,
  stallMs: 2_000,
  statsIntervalMs: 500,
});

/**
 * The wait before attempt number `attempt` (0 for the first new attempt): exponential from
 * `firstDelayMs`, capped at `maxDelayMs`, then moved by the jitter. Never negative.
 * @param {number} attempt
 * @param {() => number} [random]  Uniform in [0, 1) (Math.random).
 * @param {Readonly<ReconnectPolicy>} [policy]
 * @returns {number}
 */
export function reconnectDelay(attempt, random = Math.random, policy = RECONNECT_POLICY) {
  const n = Math.max(0, Math.floor(attempt));
  const base = Math.min(policy.maxDelayMs, policy.firstDelayMs * policy.factor ** n);
  const moved = base * (1 + policy.jitter * (2 * random() - 1));
  return Math.max(0, Math.round(moved));
}

/**
 * One episode of reconnection: from the loss (`startedAt`) to success or giving up.
 */
export class ReconnectPlan {
  /**
   * @param {number} startedAt  When the link was lost (ms, same clock as `now` below).
   * @param {Readonly<ReconnectPolicy>} [policy]
   * @param {() => number} [random]
   */
  constructor(startedAt, policy = RECONNECT_POLICY, random = Math.random) {
    /** @readonly */ this.startedAt = startedAt;
    /** @readonly */ this.policy = policy;
    /** @private */ this.random = random;
    /** Attempts made so far. */
    this.attempts = 0;
  }

  /**
   * The wait before the next attempt, or null when it is time to give up (the next attempt
   * would start after `giveUpMs`). Counts the attempt.
   * @param {number} now
   * @returns {number | null}
   */
  next(now) {
    const delay = reconnectDelay(this.attempts, this.random, this.policy);
    if (now + delay - this.startedAt > this.policy.giveUpMs) return null;
    this.attempts += 1;
    return delay;
  }
}

/**
 * What to do about the media connection given its ICE state:
 * - `ok`: connected (or completed): nothing to do, any reconnecting state ends;
 * - `wait`: `disconnected`: show "reconnecting" and leave ICE
 *   `iceGraceMs` to recover on its own (it does when the same addresses come back);
 * - `restart`: `failed`: restart ICE at once;
 * - `none`: `new`, `checking` or `closed`: nothing changes (before connecting, during a
 *   restart, after the end).
 * @param {RTCIceConnectionState} state
 * @returns {'ok' | 'wait' | 'restart' | 'none'}
 */
export function iceAction(state) {
  switch (state) {
    case 'connected':
    case 'completed':
      return 'ok';
    case 'disconnected':
      return 'wait';
    case 'failed':
      return 'restart';
    default:
      return 'none';
  }
}

/**
 * Whether a server error answering our `join` during reconnection is worth another attempt
 * later (`rate_limited`: the per-address limit on joins; `server_busy`) rather than the end of
 * the meeting (the room is refused to us, the name no longer valid...). The password codes are
 * handled by the caller: it sends the remembered password, then asks the person.
 * @param {string} code
 * @returns {boolean}
 */
export function rejoinRetryable(code) {
  return code === 'rate_limited' || code === 'server_busy';
}

/**
 * Whether the connection's local address is gone after an ICE restart gathered the addresses
 * the machine has now (a network change: Wi-Fi to cable...). Then the signaling socket, bound
 * to that address too, is dead as well, and waiting for it is pointless. Unknown addresses
 * (null, or names hidden as `….local`) prove nothing: false.
 * @param {string | null} previous  The local address of the last working candidate pair.
 * @param {Iterable<string>} gathered  Host candidate addresses gathered by the restart.
 * @returns {boolean}
 */
export function addressGone(previous, gathered) {
  if (!previous || previous.endsWith('.local')) return false;
  const now = [...gathered].map(bareAddress);
  if (now.length === 0 || now.some((a) => a.endsWith('.local'))) return false;
  return !now.includes(bareAddress(previous));
}

/**
 * An address as `getStats()` gives it: Chromium writes an IPv6 candidate's address in brackets
 * (`[fd00::2]`) in `icecandidate` events and without them in the stats.
 * @param {string} address
 * @returns {string}
 */
function bareAddress(address) {
  return address.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/**
 * Whether the media path has stalled: ICE says connected but no byte came for `stallMs`.
 * @param {number} lastReceiveAt  When the received byte count last grew (ms).
 * @param {number} now
 * @param {Readonly<ReconnectPolicy>} [policy]
 * @returns {boolean}
 */
export function mediaStalled(lastReceiveAt, now, policy = RECONNECT_POLICY) {
  return now - lastReceiveAt >= policy.stallMs;
}
