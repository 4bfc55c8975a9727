// Screen sharing, both ways.
//
// Sending (#share-screen, aria-pressed="true" while sharing): getDisplayMedia (video, and the
// tab's or system's sound where the browser offers it), published by PeerSession.shareScreen on
// transceivers whose `a=msid` stream id is `screen`; the meeting then tells the room
// (`media_state` with `screen: true`). The browser's own "stop sharing" ends it as the button does.
//
// Receiving: a track whose msid track id ends with `-screen` (or `-screen-audio`, its sound) is
// someone's screen, shown in a tile of its own in #screens: `.tile[data-screen="<id>"]`.
// Several people may share at once. The tile goes when the track ends or leaves the stream (the
// server's offer stopped it), when its owner says `screen: false`, or when they leave.

import { t } from '../i18n.js';
import { el } from './dom.js';
import { icon } from './icons.js';

/**
 * @typedef {object} ScreenShareButton
 * @property {HTMLButtonElement} button
 * @property {() => boolean} sharing
 * @property {() => Promise<void>} stop
 * @property {() => void} dispose
 */

/**
 * @param {object} opts
 * @param {import('../media.js').PeerSession} opts.peer
 * @param {(sharing: boolean) => void} opts.onChange  The share started (published and answered)
 *   or stopped: tell the room, update the view.
 * @param {(text: string) => void} opts.onError
 * @returns {ScreenShareButton}
 */
export function createScreenShare({ peer, onChange, onError }) {
  const label = t('screen.share.label');
  const button = el('button', {
    id: 'share-screen',
    className: 'tool tool-toggle tool-share',
    attrs: { type: 'button', 'aria-label': label, 'aria-pressed': 'false', title: label },
  }, [icon('screen', 'icon'), el('span', { className: 'tool-text', text: t('screen.share.short') })]);
  // Phones and some embedded browsers cannot capture the screen.
  if (typeof navigator.mediaDevices?.getDisplayMedia !== 'function') button.hidden = true;

  let sharing = false;
  let busy = false;
  /** @type {MediaStream | null} */
  let display = null;

  const setPressed = () => {
    button.setAttribute('aria-pressed', String(sharing));
    const now = sharing ? t('screen.stop.label') : label;
    button.setAttribute('aria-label', now);
    button.title = now;
  };

  const stop = async () => {
    if (!sharing || !display) return;
    const stream = display;
    display = null;
    sharing = false;
    setPressed();
    for (const track of stream.getTracks()) track.stop();
    try {
      await peer.stopScreen();
    } catch (err) {
      console.warn('webconf: stopping the screen share failed', err);
    }
    onChange(false);
  };

  const start = async () => {
    /** @type {MediaStream} */
    let stream;
    try {
      try {
        stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: true });
      } catch (err) {
        // A browser that cannot capture sound at all may refuse the request instead of leaving
        // the sound out: ask again for the picture alone.
        if (!(err instanceof TypeError || (err instanceof DOMException && err.name === 'NotSupportedError'))) throw err;
        stream = await navigator.mediaDevices.getDisplayMedia({ video: true });
      }
    } catch (err) {
      // NotAllowedError: the person cancelled the browser's picker; nothing to say.
      if (!(err instanceof DOMException && err.name === 'NotAllowedError')) {
        console.warn('webconf: getDisplayMedia failed', err);
        onError(t('screen.error'));
      }
      return;
    }
    const video = stream.getVideoTracks()[0];
    if (!video) {
      for (const track of stream.getTracks()) track.stop();
      return;
    }
    // Text and lines stay sharp rather than smooth.
    if ('contentHint' in video) video.contentHint = 'detail';
    const audio = stream.getAudioTracks()[0] ?? null;
    display = stream;
    sharing = true;
    setPressed();
    video.addEventListener('ended', () => { stop(); });
    try {
      await peer.shareScreen(video, audio);
    } catch (err) {
      console.warn('webconf: publishing the screen share failed', err);
      onError(t('screen.error'));
      await stop();
      return;
    }
    if (sharing && display === stream) onChange(true);
  };

  button.addEventListener('click', async () => {
    if (busy) return;
    busy = true;
    try {
      if (sharing) await stop();
      else await start();
    } finally {
      busy = false;
    }
  });

  return {
    button,
    sharing: () => sharing,
    stop,
    dispose: () => {
      if (display) for (const track of display.getTracks()) track.stop();
      display = null;
      sharing = false;
    },
  };
}

/**
 * @typedef {object} ScreenEntry
 * @property {MediaStream} stream  What the tile plays: the screen and its sound.
 * @property {HTMLElement | null} tile  Null until the video track arrived.
 * @property {HTMLVideoElement | null} video
 * @property {HTMLElement | null} caption
 */

/** The shared screens of the others, in #screens. */
export class ScreenTiles {
  /**
   * @param {HTMLElement} container  #screens
   * @param {object} opts
   * @param {(id: string) => string} opts.nameOf  A participant's display name.
   * @param {(ids: string[]) => void} opts.onChange  The set of shown screens changed.
   * @param {() => void} opts.onAutoplayBlocked
   */
  constructor(container, opts) {
    /** @private */ this.container = container;
    /** @private */ this.opts = opts;
    /** @private @type {Map<string, ScreenEntry>} */ this.entries = new Map();
  }

  /** @returns {string[]} The participants whose screen is shown, in order. */
  ids() {
    return [...this.entries].filter(([, e]) => e.tile).map(([id]) => id);
  }

  /**
   * A screen track (or its sound) of `id` arrived.
   * @param {string} id
   * @param {MediaStreamTrack} track
   * @param {MediaStream} remoteStream  The browser's stream for that participant (msid).
   */
  attach(id, track, remoteStream) {
    let entry = this.entries.get(id);
    if (!entry) {
      entry = { stream: new MediaStream(), tile: null, video: null, caption: null };
      this.entries.set(id, entry);
    }
    for (const old of entry.stream.getTracks()) {
      if (old.kind === track.kind && old !== track) entry.stream.removeTrack(old);
    }
    entry.stream.addTrack(track);
    const detach = () => this.detach(id, track);
    track.addEventListener('ended', detach);
    remoteStream.addEventListener('removetrack', (ev) => {
      if (ev.track === track) detach();
    });
    if (track.kind === 'video' && !entry.tile) this.createTile(id, entry);
    else if (entry.video) {
      entry.video.srcObject = entry.stream;
      this.play(entry.video);
    }
    this.opts.onChange(this.ids());
  }

  /**
   * Stop showing `id`'s screen (they stopped sharing, or left).
   * @param {string} id
   */
  remove(id) {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    if (entry.video) entry.video.srcObject = null;
    entry.tile?.remove();
    this.opts.onChange(this.ids());
  }

  /**
   * A participant's name changed.
   * @param {string} id
   */
  rename(id) {
    const entry = this.entries.get(id);
    if (entry?.caption) entry.caption.textContent = t('screen.of', { name: this.opts.nameOf(id) });
    if (entry?.video) entry.video.setAttribute('aria-label', t('screen.of', { name: this.opts.nameOf(id) }));
  }

  /** Try again to start playback (after a click: autoplay with sound is allowed). */
  resumePlayback() {
    for (const entry of this.entries.values()) if (entry.video) this.play(entry.video);
  }

  dispose() {
    for (const entry of this.entries.values()) if (entry.video) entry.video.srcObject = null;
    this.entries.clear();
    this.container.replaceChildren();
  }

  /**
   * @private
   * @param {string} id
   * @param {MediaStreamTrack} track
   */
  detach(id, track) {
    const entry = this.entries.get(id);
    if (!entry || !entry.stream.getTracks().includes(track)) return;
    entry.stream.removeTrack(track);
    if (entry.stream.getVideoTracks().length === 0) this.remove(id);
  }

  /**
   * @private
   * @param {string} id
   * @param {ScreenEntry} entry
   */
  createTile(id, entry) {
    const name = t('screen.of', { name: this.opts.nameOf(id) });
    const video = el('video', { attrs: { autoplay: '', playsinline: '', 'aria-label': name } });
    video.autoplay = true;
    video.playsInline = true;
    video.srcObject = entry.stream;
    const caption = el('span', { className: 'tile-name', text: name });
    const tile = el('figure', {
      className: 'tile tile-screen',
      data: { screen: id, video: 'on' },
    }, [video, el('figcaption', { className: 'tile-label' }, [icon('screen', 'icon tile-screen-icon'), caption])]);
    entry.tile = tile;
    entry.video = video;
    entry.caption = caption;
    this.container.append(tile);
    this.play(video);
  }

  /**
   * @private
   * @param {HTMLVideoElement} video
   */
  play(video) {
    video.play().catch((err) => {
      if (err instanceof DOMException && err.name === 'NotAllowedError') this.opts.onAutoplayBlocked();
    });
  }
}
