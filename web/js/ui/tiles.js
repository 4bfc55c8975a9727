// The grid of participant tiles (#tiles). One tile per participant: a <video> fed by one
// MediaStream that holds that participant's video track, and its audio track when the server
// forwards one m-line per microphone; the name, a muted icon, and an avatar with initials shown
// while the camera is off. With microphone slots (../slots.js) the others' sound plays apart
// (slotaudio.js) and a tile's stream has no audio track: nothing here depends on one (the muted
// icon comes from `media_state`, through `info.audio`; the avatar from the video track).
//
// Tracks may arrive before the participant is known (`ontrack` racing `participant_joined`):
// they wait in `pending` until the tile exists.
//
// A camera slot (../slots.js, slotvideo.js) is nobody's track: it is put into the tile of the
// participant it carries now (`showSlotVideo`) and taken out again when it carries someone else
// (`hideSlotVideo`). Its stream goes on across participants, so right after a move its last
// picture is still the previous participant's: the tile keeps its avatar (as for a paused
// camera) until the slot's receiver has decoded frames since the move (`RevealWatch`).

import { t } from '../i18n.js';
import { initials } from '../displayname.js';
import { el } from './dom.js';
import { icon } from './icons.js';
import { watchFrames } from '../framewatch.js';
import { RevealWatch } from '../slots.js';

/** @typedef {import('../protocol.js').ParticipantInfo} ParticipantInfo */

/**
 * @typedef {object} Tile
 * @property {ParticipantInfo} info
 * @property {boolean} local
 * @property {HTMLElement} root
 * @property {HTMLVideoElement} video
 * @property {MediaStream} stream
 * @property {HTMLElement} name
 * @property {HTMLElement} avatar
 * @property {HTMLElement} micOff
 * @property {HTMLElement} roleBadge  "Modérateur", shown for moderators only.
 * @property {HTMLElement} cameraOff  Screen-reader text, present while the avatar shows.
 * @property {import('../framewatch.js').FrameWatch | null} frames  Remote video: are frames coming?
 * @property {SlotReveal | null} reveal  A camera slot's track moved into this tile: the avatar
 *   shows until its receiver decoded new frames (null: no camera slot, or not waiting).
 */

/**
 * A camera slot's track waiting to be shown in a tile.
 * @typedef {object} SlotReveal
 * @property {MediaStreamTrack} track
 * @property {RTCRtpReceiver | undefined} receiver  Whose statistics say when frames came.
 * @property {RevealWatch} watch
 */

/** How often a tile waiting for a camera slot's new frames samples its receiver. */
const REVEAL_POLL_MS = 100;

const ASPECT = 16 / 9;
const GAP_PX = 8;
const AVATAR_COLOURS = 6;

export class TileGrid {
  /**
   * @param {HTMLElement} container           The #tiles element.
   * @param {() => void} onAutoplayBlocked     The browser refused to start playback with sound.
   */
  constructor(container, onAutoplayBlocked) {
    /** @private */ this.container = container;
    /** @private */ this.onAutoplayBlocked = onAutoplayBlocked;
    /** @private @type {Map<string, Tile>} */ this.tiles = new Map();
    /** @private @type {Map<string, MediaStreamTrack[]>} */ this.pending = new Map();
    /** Camera slots for participants whose tile does not exist yet.
     * @private @type {Map<string, {track: MediaStreamTrack, receiver: RTCRtpReceiver | undefined, mid: string}>} */
    this.pendingSlots = new Map();
    /** Camera slot tracks whose mute events are watched. @private @type {WeakSet<MediaStreamTrack>} */
    this.slotTracks = new WeakSet();
    /** @private @type {ReturnType<typeof setInterval> | null} */ this.revealTimer = null;
    /** @private */ this.revealBusy = false;
    /** The server sends cameras in slots (one came): a tile no slot is in is a camera outside
     * last-N. @private */
    this.cameraSlots = false;
    /** @private */ this.resizer = new ResizeObserver(() => this.layout());
    this.resizer.observe(container);
    // A camera outside last-N stops sending frames without Chromium muting its track: watch
    // the frame counters (../framewatch.js) and show the avatar while they stand still.
    /** @private */ this.frameTimer = setInterval(() => this.checkFrames(), 1000);
  }

  /** Number of tiles, the local one included. */
  get size() {
    return this.tiles.size;
  }

  /**
   * Show this participant's own tile (muted camera preview, mirrored).
   * @param {ParticipantInfo} info
   * @param {MediaStreamTrack | null} videoTrack
   */
  addLocal(info, videoTrack) {
    const tile = this.create(info, true);
    if (videoTrack) tile.stream.addTrack(videoTrack);
    this.refresh(tile);
    this.play(tile);
  }

  /**
   * Show or update a participant's tile from what the server says of it.
   * @param {ParticipantInfo} info
   */
  upsert(info) {
    let tile = this.tiles.get(info.id);
    if (tile) {
      // Camera turned on again: judge its frames afresh.
      if (info.video && !tile.info.video) tile.frames = null;
      tile.info = { ...info };
    } else {
      tile = this.create(info, false);
      for (const track of this.pending.get(info.id) ?? []) this.addTrack(tile, track);
      this.pending.delete(info.id);
      const slot = this.pendingSlots.get(info.id);
      this.pendingSlots.delete(info.id);
      if (slot) this.putSlot(tile, slot.track, slot.receiver, slot.mid);
    }
    this.refresh(tile);
  }

  /**
   * Remove a tile (participant left). Its tracks are stopped later by the server's offer.
   * @param {string} id
   */
  remove(id) {
    this.pending.delete(id);
    this.pendingSlots.delete(id);
    const tile = this.tiles.get(id);
    if (!tile) return;
    tile.video.srcObject = null;
    tile.root.remove();
    this.tiles.delete(id);
    this.layout();
  }

  /**
   * A remote track arrived for `participantId`.
   * @param {string} participantId
   * @param {MediaStreamTrack} track
   * @param {MediaStream} remoteStream  The browser's stream for that msid; tells when tracks go.
   */
  attachTrack(participantId, track, remoteStream) {
    remoteStream.addEventListener('removetrack', (ev) => this.detachTrack(participantId, ev.track));
    track.addEventListener('ended', () => this.detachTrack(participantId, track));
    // A camera outside last-N gets no frames: the avatar shows instead of a frozen picture
    // while the track is muted (Chromium: only until its first packet) or its frames stand
    // still (`checkFrames`; docs/protocol.md, "Cameras outside last-N").
    if (track.kind === 'video') {
      const paused = () => {
        const t = this.tiles.get(participantId);
        if (t && t.stream.getTracks().includes(track)) this.refresh(t);
      };
      track.addEventListener('mute', paused);
      track.addEventListener('unmute', paused);
    }
    const tile = this.tiles.get(participantId);
    if (tile && !tile.local) {
      this.addTrack(tile, track);
      this.refresh(tile);
    } else if (!tile) {
      const list = this.pending.get(participantId) ?? [];
      list.push(track);
      this.pending.set(participantId, list);
    }
  }

  /**
   * A camera slot now carries `participantId`'s camera: its track becomes the tile's video (in
   * place of any other), behind the avatar until the receiver decoded frames since this call.
   * Before the tile exists, it waits for it. The tile says which slot it shows
   * (`data-slot-mid`).
   * @param {string} participantId
   * @param {MediaStreamTrack} track
   * @param {RTCRtpReceiver | undefined} receiver
   * @param {string} mid  The slot's mid.
   */
  showSlotVideo(participantId, track, receiver, mid) {
    this.useCameraSlots();
    if (!this.slotTracks.has(track)) {
      this.slotTracks.add(track);
      const changed = () => {
        for (const t of this.tiles.values()) if (t.stream.getTracks().includes(track)) this.refresh(t);
      };
      track.addEventListener('mute', changed);
      track.addEventListener('unmute', changed);
    }
    const tile = this.tiles.get(participantId);
    if (!tile) {
      this.pendingSlots.set(participantId, { track, receiver, mid });
      return;
    }
    if (tile.local) return;
    this.putSlot(tile, track, receiver, mid);
  }

  /**
   * Cameras come in slots (a camera slot's track arrived): from now on, a remote tile whose
   * camera is on but that no slot is in shows the avatar as paused (outside last-N).
   */
  useCameraSlots() {
    if (this.cameraSlots) return;
    this.cameraSlots = true;
    for (const tile of this.tiles.values()) this.refresh(tile);
  }

  /**
   * A camera slot no longer carries `participantId`'s camera: out of the tile (the avatar shows)
   * if it is still there.
   * @param {string} participantId
   * @param {MediaStreamTrack} track
   */
  hideSlotVideo(participantId, track) {
    if (this.pendingSlots.get(participantId)?.track === track) this.pendingSlots.delete(participantId);
    const tile = this.tiles.get(participantId);
    if (!tile || tile.local) return;
    if (tile.reveal?.track === track) tile.reveal = null;
    if (!tile.stream.getTracks().includes(track)) return;
    tile.stream.removeTrack(track);
    delete tile.root.dataset.slotMid;
    tile.frames = null;
    this.refresh(tile);
  }

  /** Try again to start every remote tile's playback (after a click: autoplay is allowed). */
  resumePlayback() {
    for (const tile of this.tiles.values()) this.play(tile);
  }

  /** Remove every tile and stop observing. */
  dispose() {
    clearInterval(this.frameTimer);
    if (this.revealTimer !== null) clearInterval(this.revealTimer);
    this.revealTimer = null;
    this.pendingSlots.clear();
    this.resizer.disconnect();
    for (const tile of this.tiles.values()) tile.video.srcObject = null;
    this.tiles.clear();
    this.pending.clear();
    this.container.replaceChildren();
  }

  /**
   * @private
   * @param {ParticipantInfo} info
   * @param {boolean} local
   * @returns {Tile}
   */
  create(info, local) {
    const video = el('video', { attrs: { autoplay: '', playsinline: '' } });
    video.autoplay = true;
    video.playsInline = true;
    if (local) {
      video.muted = true;
      video.defaultMuted = true;
      video.setAttribute('muted', '');
    }
    const stream = new MediaStream();
    video.srcObject = stream;
    const avatar = el('div', { className: 'avatar', attrs: { 'aria-hidden': 'true' } }, [
      el('span', { className: 'avatar-initials' }),
    ]);
    const micOff = el('span', { className: 'mic-off', attrs: { role: 'img', 'aria-label': t('tile.micOff') } }, [
      icon('micOff'),
    ]);
    const name = el('span', { className: 'tile-name' });
    const roleBadge = el('span', { className: 'role-badge' }, [
      el('span', { className: 'sr-only', text: ', ' }),
      t('role.moderator'),
    ]);
    const cameraOff = el('span', { className: 'sr-only', text: `, ${t('tile.cameraOff')}` });
    // The figure is named by its caption: "<muted icon> Name, Moderator, camera off".
    const root = el('figure', {
      className: 'tile',
      data: { participantId: info.id, color: String(colourIndex(info.id)) },
    }, [video, avatar, el('figcaption', { className: 'tile-label' }, [micOff, name, cameraOff])]);
    if (local) root.dataset.local = 'true';

    /** @type {Tile} */
    const tile = {
      info: { ...info }, local, root, video, stream, name, avatar, micOff, roleBadge, cameraOff, frames: null, reveal: null,
    };
    this.tiles.set(info.id, tile);
    // The local tile stays first; others join in order of arrival.
    this.container.append(root);
    this.layout();
    return tile;
  }

  /**
   * Put a track in the tile's stream, replacing any previous track of the same kind.
   * @private
   * @param {Tile} tile
   * @param {MediaStreamTrack} track
   */
  addTrack(tile, track) {
    for (const old of tile.stream.getTracks()) {
      if (old.kind === track.kind && old !== track) tile.stream.removeTrack(old);
    }
    if (!tile.stream.getTracks().includes(track)) tile.stream.addTrack(track);
    if (track.kind === 'video') tile.frames = null;
    // Re-assigning makes every browser pick up tracks added after the first assignment.
    tile.video.srcObject = tile.stream;
    this.play(tile);
  }

  /**
   * Put a camera slot's track into a tile, hidden until frames decoded after now (`RevealWatch`).
   * @private
   * @param {Tile} tile
   * @param {MediaStreamTrack} track
   * @param {RTCRtpReceiver | undefined} receiver
   * @param {string} mid
   */
  putSlot(tile, track, receiver, mid) {
    tile.root.dataset.slotMid = mid;
    // The same slot again (a repeated table) shows on as it is.
    if (tile.stream.getTracks().includes(track) && (tile.reveal === null || tile.reveal.track === track)) {
      this.refresh(tile);
      return;
    }
    tile.reveal = { track, receiver, watch: new RevealWatch() };
    this.addTrack(tile, track);
    this.refresh(tile);
    this.revealTimer ??= setInterval(() => void this.checkReveals(), REVEAL_POLL_MS);
    void this.checkReveals();
  }

  /**
   * Sample the receiver of every tile waiting for a camera slot's new frames; show those that
   * decoded enough (`RevealWatch`). Stops polling when none waits.
   * @private
   */
  async checkReveals() {
    if (this.revealBusy) return;
    this.revealBusy = true;
    try {
      const waiting = [...this.tiles.values()].filter((t) => t.reveal !== null && !t.reveal.watch.revealed);
      if (waiting.length === 0 && this.revealTimer !== null) {
        clearInterval(this.revealTimer);
        this.revealTimer = null;
      }
      for (const tile of waiting) {
        const reveal = tile.reveal;
        if (!reveal) continue;
        const frames = await decodedFrames(reveal.receiver);
        // Moved again meanwhile: that move has a watch of its own.
        if (tile.reveal !== reveal || this.tiles.get(tile.info.id) !== tile) continue;
        if (reveal.watch.sample(frames)) this.refresh(tile);
      }
    } finally {
      this.revealBusy = false;
    }
  }

  /**
   * @private
   * @param {string} participantId
   * @param {MediaStreamTrack} track
   */
  detachTrack(participantId, track) {
    const waiting = this.pending.get(participantId);
    if (waiting) this.pending.set(participantId, waiting.filter((x) => x !== track));
    const tile = this.tiles.get(participantId);
    if (!tile || !tile.stream.getTracks().includes(track)) return;
    tile.stream.removeTrack(track);
    this.refresh(tile);
  }

  /**
   * Bring name, muted icon and avatar in line with `tile.info` and the tracks present.
   * @private
   * @param {Tile} tile
   */
  refresh(tile) {
    const { info } = tile;
    const label = tile.local ? t('tile.you', { name: info.name }) : info.name;
    tile.name.textContent = label;
    tile.video.setAttribute('aria-label', t('tile.video', { name: label }));
    const initialsEl = tile.avatar.firstElementChild;
    if (initialsEl) initialsEl.textContent = initials(info.name);
    tile.root.dataset.role = info.role;
    // In the caption only for moderators (not merely hidden: the caption names the figure).
    if (info.role === 'moderator') tile.name.after(tile.roleBadge);
    else tile.roleBadge.remove();
    tile.root.dataset.audio = info.audio ? 'on' : 'off';
    tile.micOff.hidden = info.audio;
    const videoTrack = tile.stream.getVideoTracks()[0];
    // A camera slot that just moved in still shows the previous participant: avatar meanwhile.
    const revealing = tile.reveal !== null && tile.reveal.track === videoTrack && !tile.reveal.watch.revealed;
    // With camera slots, a camera that is on but in no slot is outside last-N: paused too.
    const paused = !tile.local && info.video && (videoTrack === undefined ? this.cameraSlots
      : videoTrack.muted || tile.frames?.stalled === true || revealing);
    if (paused) tile.root.dataset.videoPaused = 'true';
    else delete tile.root.dataset.videoPaused;
    const showVideo = info.video && videoTrack !== undefined && !paused;
    tile.root.dataset.video = showVideo ? 'on' : 'off';
    tile.cameraOff.hidden = showVideo;
  }

  /**
   * Sample every remote video's frame counter; refresh the tiles whose frames stopped or came
   * back. Not judged (no avatar from here): no camera, a muted track (already an avatar), a
   * video not playing (autoplay refused), or a browser without the counter.
   * @private
   */
  checkFrames() {
    const now = performance.now();
    for (const tile of this.tiles.values()) {
      if (tile.local) continue;
      const track = tile.stream.getVideoTracks()[0];
      const judged = tile.info.video && track !== undefined && track.readyState === 'live' && !track.muted
        && !tile.video.paused && typeof tile.video.getVideoPlaybackQuality === 'function';
      const was = tile.frames?.stalled === true;
      tile.frames = judged
        ? watchFrames(tile.frames, tile.video.getVideoPlaybackQuality().totalVideoFrames, now)
        : null;
      if ((tile.frames?.stalled === true) !== was) this.refresh(tile);
    }
  }

  /**
   * @private
   * @param {Tile} tile
   */
  play(tile) {
    if (tile.stream.getTracks().length === 0) return;
    tile.video.play().catch((err) => {
      if (err instanceof DOMException && err.name === 'NotAllowedError' && !tile.local) {
        this.onAutoplayBlocked();
      }
      // AbortError: a newer srcObject interrupted this play(); the newer one plays.
    });
  }

  /**
   * Size the tiles so that all fit the grid at 16:9, as large as possible.
   * @private
   */
  layout() {
    const n = Math.max(1, this.tiles.size);
    const width = this.container.clientWidth - GAP_PX * 2;
    const height = this.container.clientHeight - GAP_PX * 2;
    if (width <= 0 || height <= 0) return;
    let best = { w: 0, h: 0 };
    for (let cols = 1; cols <= n; cols++) {
      const rows = Math.ceil(n / cols);
      const cellW = (width - GAP_PX * (cols - 1)) / cols;
      const cellH = (height - GAP_PX * (rows - 1)) / rows;
      const w = Math.min(cellW, cellH * ASPECT);
      if (w > best.w) best = { w, h: w / ASPECT };
    }
    this.container.style.setProperty('--tile-w', `${Math.floor(best.w)}px`);
    this.container.style.setProperty('--tile-h', `${Math.floor(best.h)}px`);
    this.container.dataset.count = String(this.tiles.size);
  }
}

/**
 * The frames a receiver decoded so far (its inbound-rtp `framesDecoded`), or null when not
 * reported (no packet yet, no receiver, statistics unavailable).
 * @param {RTCRtpReceiver | undefined} receiver
 * @returns {Promise<number | null>}
 */
async function decodedFrames(receiver) {
  if (!receiver) return null;
  try {
    const report = await receiver.getStats();
    /** @type {number | null} */
    let frames = null;
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && typeof s.framesDecoded === 'number') frames = Math.max(frames ?? 0, s.framesDecoded);
    });
    return frames;
  } catch {
    return null;
  }
}

/**
 * A stable colour for a participant's avatar.
 * @param {string} id
 * @returns {number}
 */
function colourIndex(id) {
  let hash = 0;
  for (const c of id) hash = (hash * 31 + (c.codePointAt(0) ?? 0)) >>> 0;
  return hash % AVATAR_COLOURS;
}
