// The camera slots (../slots.js, docs/protocol.md `slots`): video m-lines `a=msid:slots
// slot-video-<n>`, each carrying, in turn, the camera of whichever participant the server's
// last-N picks. A slot's track is nobody's by its msid: it is kept here by mid, and whenever the
// `slots` table changes (or a slot's track comes or goes) it is put into the tile of the
// participant it carries now and taken out of the tile it was in (tiles.js `showSlotVideo`,
// `hideSlotVideo`; the tile keeps its avatar until frames decoded after the move). A participant
// no slot carries shows the avatar, like a camera outside last-N on the older path.
//
// A slot lives as long as its track: it goes when the track ends or leaves the `slots` stream
// (the server's offer stopped the m-line), or when its transceiver is found stopped.

import { onSlotTrackGone, slotTrackGone } from './slottrack.js';
import { cameraSlotMoves, placeCameraSlots } from '../slots.js';

/**
 * @typedef {object} CameraSlot
 * @property {string} mid
 * @property {MediaStreamTrack} track
 * @property {RTCRtpTransceiver | undefined} transceiver
 */

/**
 * What the slots need of the tile grid (tiles.js `TileGrid`).
 * @typedef {object} SlotTiles
 * @property {(participantId: string, track: MediaStreamTrack, receiver: RTCRtpReceiver | undefined,
 *   mid: string) => void} showSlotVideo
 * @property {(participantId: string, track: MediaStreamTrack) => void} hideSlotVideo
 * @property {() => void} useCameraSlots  Cameras come in slots (a slot's track arrived): a tile
 *   in which no slot is shows its camera as paused (outside last-N).
 */

export class SlotVideo {
  /**
   * @param {SlotTiles} tiles
   * @param {(mid: string) => string | null | undefined} slotOf  The latest table (`SlotTable.get`).
   */
  constructor(tiles, slotOf) {
    /** @private */ this.tiles = tiles;
    /** @private */ this.slotOf = slotOf;
    /** The camera slots whose track is here, by mid, in the order they came.
     * @private @type {Map<string, CameraSlot>} */
    this.slots = new Map();
    /** Where each slot's track is now: mid → participant id, or null (in no tile).
     * @private @type {Map<string, string | null>} */
    this.placed = new Map();
  }

  /** Number of camera slots here. */
  get size() {
    return this.slots.size;
  }

  /**
   * Whose camera the slot `mid` shows now (the table, as applied to the tiles): a participant
   * id, or null.
   * @param {string} mid
   * @returns {string | null}
   */
  shownIn(mid) {
    return this.placed.get(mid) ?? null;
  }

  /**
   * A camera slot's track arrived (ontrack with the stream id `slots`, kind video): keep it and
   * put it where the table says. The same track again (its m-line became active again) is kept.
   * @param {MediaStreamTrack} track
   * @param {MediaStream} remoteStream  The browser's `slots` stream: tells when the track goes.
   * @param {RTCRtpTransceiver | undefined} transceiver
   */
  attach(track, remoteStream, transceiver) {
    const mid = transceiver?.mid;
    if (!mid) {
      console.warn('webconf: a camera slot without a mid, ignored', track.id);
      return;
    }
    const known = this.slots.get(mid);
    if (known?.track === track) {
      this.apply();
      return;
    }
    this.tiles.useCameraSlots();
    // A new track for a mid (never by the protocol): the old one goes first.
    if (known) this.forget(mid);
    this.slots.set(mid, { mid, track, transceiver });
    const detach = () => {
      if (this.slots.get(mid)?.track !== track) return;
      this.forget(mid);
      this.apply();
    };
    onSlotTrackGone(track, remoteStream, detach);
    this.prune();
    this.apply();
  }

  /**
   * Bring the tiles in line with the table: each slot whose participant changed leaves its
   * previous tile, then goes into the new one. Called on every `slots` message.
   */
  apply() {
    const after = placeCameraSlots(this.slots.keys(), this.slotOf);
    const moves = cameraSlotMoves(this.placed, after);
    for (const move of moves) {
      const slot = this.slots.get(move.mid);
      if (move.from !== null && slot) this.tiles.hideSlotVideo(move.from, slot.track);
    }
    for (const move of moves) {
      const slot = this.slots.get(move.mid);
      if (move.to !== null && slot) this.tiles.showSlotVideo(move.to, slot.track, slot.transceiver?.receiver, move.mid);
    }
    this.placed = after;
  }

  /**
   * Drop the slots whose track ended or whose transceiver stopped without either event reaching
   * us (browsers differ in which they fire when a remote offer stops an m-line). Called on each
   * new track, and by the owner once each negotiation is over.
   */
  prune() {
    let changed = false;
    for (const slot of [...this.slots.values()]) {
      if (slotTrackGone(slot)) {
        this.forget(slot.mid);
        changed = true;
      }
    }
    if (changed) this.apply();
  }

  /** Take every slot out of its tile and forget them. */
  dispose() {
    for (const [mid, who] of this.placed) {
      const slot = this.slots.get(mid);
      if (who !== null && slot) this.tiles.hideSlotVideo(who, slot.track);
    }
    this.slots.clear();
    this.placed.clear();
  }

  /**
   * Forget a slot's track, taking it out of its tile now.
   * @private
   * @param {string} mid
   */
  forget(mid) {
    const slot = this.slots.get(mid);
    if (!slot) return;
    const who = this.placed.get(mid);
    if (who) this.tiles.hideSlotVideo(who, slot.track);
    this.placed.delete(mid);
    this.slots.delete(mid);
  }
}
