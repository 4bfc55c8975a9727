// Switching microphone, camera and speakers, before joining (pre-join panel) and during the
// meeting (settings menu), on one `LocalMedia` that the pre-join panel hands to the meeting.
//
// A new device is opened first and the old track stopped only once the new one works, so a
// failed switch changes nothing. In the meeting the new track goes out on the same sender
// (`replaceTrack`): no renegotiation, the others keep receiving on the same track. The choice is
// remembered (devices.js) and published in `window.webconf.devices`.

import { openDevice, saveDevicePrefs, trackDeviceId, loadDevicePrefs, supportsSpeakerSelection } from './devices.js';
import { setDevices } from './hooks.js';

/** @typedef {import('./media.js').LocalMedia} LocalMedia */

/**
 * @typedef {object} DeviceControlOptions
 * @property {(kind: 'audio' | 'video', track: MediaStreamTrack | null) => Promise<void>} [replaceSenderTrack]
 *   In the meeting: send the new track (PeerSession.replaceTrack).
 * @property {(kind: 'audio' | 'video', track: MediaStreamTrack) => void} [onTrackChanged]
 *   A new track is in `media` (preview, own tile, level meter follow).
 * @property {(sinkId: string | null) => void} [onSpeakerChanged]  Sound goes to other speakers.
 */

export class DeviceControl {
  /**
   * @param {LocalMedia} media
   * @param {DeviceControlOptions} [options]
   */
  constructor(media, options = {}) {
    /** The capture being used; its tracks change on a switch. */
    this.media = media;
    /** @private */ this.options = options;
    /** @type {string | null} */
    this.speaker = supportsSpeakerSelection() ? loadDevicePrefs().speaker : null;
    this.publish();
  }

  /**
   * Other hands for the same capture (the meeting takes over from the pre-join panel).
   * @param {DeviceControlOptions} options
   */
  setOptions(options) {
    this.options = options;
  }

  /** @returns {{mic: string | null, camera: string | null, speaker: string | null}} */
  selected() {
    return {
      mic: trackDeviceId(this.media.audioTrack),
      camera: trackDeviceId(this.media.videoTrack),
      speaker: this.speaker,
    };
  }

  /**
   * Capture from another microphone (`audio`) or camera (`video`). Resolves with null on
   * success, with getUserMedia's error name otherwise (the current device is kept). The new
   * track is on or off as the old one was.
   * @param {'audio' | 'video'} kind
   * @param {string} deviceId
   * @returns {Promise<string | null>}
   */
  async switchTo(kind, deviceId) {
    const key = kind === 'audio' ? 'audioTrack' : 'videoTrack';
    const old = this.media[key];
    /** @type {MediaStreamTrack} */
    let track;
    try {
      track = await openDevice(kind, deviceId);
    } catch (err) {
      const name = err instanceof Error || err instanceof DOMException ? err.name : 'Error';
      // A camera that cannot be opened twice (some drivers, phones): free it and try again.
      if (old && name === 'NotReadableError' && kind === 'video') {
        old.stop();
        try {
          track = await openDevice(kind, deviceId);
        } catch (again) {
          console.warn('webconf: cannot open the camera', again);
          return again instanceof Error || again instanceof DOMException ? again.name : 'Error';
        }
      } else {
        console.warn(`webconf: cannot open the ${kind === 'audio' ? 'microphone' : 'camera'}`, err);
        return name;
      }
    }
    if (old) track.enabled = old.enabled;
    try {
      await this.options.replaceSenderTrack?.(kind, track);
    } catch (err) {
      console.warn('webconf: replaceTrack failed', err);
      track.stop();
      return 'UnknownError';
    }
    if (old) {
      this.media.stream.removeTrack(old);
      old.stop();
    }
    this.media.stream.addTrack(track);
    this.media[key] = track;
    this.updateMissing();
    saveDevicePrefs(kind === 'audio' ? { mic: deviceId } : { camera: deviceId });
    this.options.onTrackChanged?.(kind, track);
    this.publish();
    return null;
  }

  /**
   * Play remote sound on other speakers.
   * @param {string | null} sinkId
   */
  setSpeaker(sinkId) {
    this.speaker = sinkId;
    saveDevicePrefs({ speaker: sinkId });
    this.options.onSpeakerChanged?.(sinkId);
    this.publish();
  }

  /** @private */
  updateMissing() {
    const { audioTrack, videoTrack } = this.media;
    this.media.missing = !audioTrack && !videoTrack ? 'both' : !audioTrack ? 'audio' : !videoTrack ? 'video' : null;
    if (this.media.errors) {
      if (audioTrack) this.media.errors.audio = null;
      if (videoTrack) this.media.errors.video = null;
    }
    if (!this.media.missing) this.media.errorName = null;
  }

  /** Publish the selection in `window.webconf.devices`. */
  publish() {
    setDevices(this.selected());
  }
}

/**
 * Send every remote sound (the media elements of the meeting's stage) to `sinkId`.
 * Elements that already play there are left alone; failures are logged (the default stays).
 * @param {ParentNode} root
 * @param {string | null} sinkId
 */
export function applySpeaker(root, sinkId) {
  if (!supportsSpeakerSelection()) return;
  const want = sinkId ?? '';
  for (const media of root.querySelectorAll('video, audio')) {
    if (!(media instanceof HTMLMediaElement) || media.muted || media.sinkId === want) continue;
    media.setSinkId(want).catch((err) => console.warn('webconf: setSinkId failed', err));
  }
}
