// Playing the microphone slots (../slots.js, docs/protocol.md `slots`). A slot's track carries
// whichever microphone the server's audio last-N picks, in turn, as one continuous stream: it is
// nobody's tile, so each slot plays in an `<audio>` of its own, in a hidden box of the stage
// (where the chosen speakers are applied, devicecontrol.js `applySpeaker`). Playback never
// looks at the `slots` table: whoever the slot carries is heard, even before the table says who.
//
// An element lives as long as its track: it goes when the track ends or leaves the `slots`
// stream (the server's offer stopped the m-line), or when its transceiver is found stopped.

import { onSlotTrackGone, slotTrackGone } from './slottrack.js';
import { el } from './dom.js';

/**
 * @typedef {object} SlotPlayer
 * @property {MediaStreamTrack} track
 * @property {RTCRtpTransceiver | undefined} transceiver
 * @property {HTMLAudioElement} audio
 */

export class SlotAudio {
  /**
   * @param {HTMLElement} parent  Where the hidden box goes (the stage).
   * @param {{onAutoplayBlocked: () => void}} opts
   */
  constructor(parent, opts) {
    /** @private */ this.opts = opts;
    /** The hidden box of the `<audio>` elements (`#slot-audio`). */
    this.box = el('div', { id: 'slot-audio', attrs: { 'aria-hidden': 'true' } });
    this.box.hidden = true;
    parent.append(this.box);
    /** @private @type {Map<MediaStreamTrack, SlotPlayer>} */ this.players = new Map();
  }

  /** Number of slots playing. */
  get size() {
    return this.players.size;
  }

  /**
   * A slot's track arrived (ontrack with the stream id `slots`): play it. The same track again
   * (its m-line became active again) keeps its element.
   * @param {MediaStreamTrack} track
   * @param {MediaStream} remoteStream  The browser's `slots` stream: tells when the track goes.
   * @param {RTCRtpTransceiver | undefined} transceiver
   */
  attach(track, remoteStream, transceiver) {
    this.prune();
    const known = this.players.get(track);
    if (known) {
      if (transceiver?.mid) known.audio.dataset.slotMid = transceiver.mid;
      this.play(known.audio);
      return;
    }
    const audio = el('audio', { attrs: { autoplay: '' } });
    audio.autoplay = true;
    if (transceiver?.mid) audio.dataset.slotMid = transceiver.mid;
    // A stream of its own: the browser's `slots` stream holds every slot's track, and one
    // element playing it would mix them under one volume and one sink.
    audio.srcObject = new MediaStream([track]);
    this.players.set(track, { track, transceiver, audio });
    this.box.append(audio);
    const detach = () => this.detach(track);
    onSlotTrackGone(track, remoteStream, detach);
    this.play(audio);
  }

  /** Try again to start every slot's playback (after a click: autoplay is allowed). */
  resumePlayback() {
    this.prune();
    for (const player of this.players.values()) this.play(player.audio);
  }

  /** Stop every slot's playback and remove the box. */
  dispose() {
    for (const player of this.players.values()) player.audio.srcObject = null;
    this.players.clear();
    this.box.remove();
  }

  /**
   * @private
   * @param {MediaStreamTrack} track
   */
  detach(track) {
    const player = this.players.get(track);
    if (!player) return;
    this.players.delete(track);
    player.audio.srcObject = null;
    player.audio.remove();
  }

  /**
   * Drop the players whose track ended or whose transceiver stopped without either event
   * reaching us (browsers differ in which they fire when a remote offer stops an m-line).
   * Called on each new track, and by the owner once each negotiation is over.
   */
  prune() {
    for (const player of [...this.players.values()]) {
      if (slotTrackGone(player)) {
        this.detach(player.track);
      }
    }
  }

  /**
   * @private
   * @param {HTMLAudioElement} audio
   */
  play(audio) {
    audio.play().catch((err) => {
      if (err instanceof DOMException && err.name === 'NotAllowedError') this.opts.onAutoplayBlocked();
      // AbortError: a newer play() or srcObject took over.
    });
  }
}
