// Microphone, camera and speakers: the remembered choices (localStorage), the device lists,
// opening one device, the microphone level and the speakers' test sound.
//
// The pure parts (parsing the remembered choices, grouping devices, naming errors, measuring a
// level) are exported for the unit tests in web/test/devices.test.mjs.

import { CAMERA_SIZE } from './media.js';

const PREFS_KEY = 'webconf.devices';

/**
 * What the person chose, remembered between visits. A device id is null for "the browser's
 * default"; `micOff` / `cameraOff` are the pre-join "join with … off" toggles.
 * @typedef {object} DevicePrefs
 * @property {string | null} mic
 * @property {string | null} camera
 * @property {string | null} speaker
 * @property {boolean} micOff
 * @property {boolean} cameraOff
 */

/** @type {Readonly<DevicePrefs>} */
export const DEFAULT_PREFS = Object.freeze({
  mic: null, camera: null, speaker: null, micOff: false, cameraOff: false,
});

/**
 * Parse the stored JSON; anything malformed falls back to the defaults, field by field.
 * @param {string | null} text
 * @returns {DevicePrefs}
 */
export function parseDevicePrefs(text) {
  /** @type {unknown} */
  let raw = null;
  try {
    raw = text ? JSON.parse(text) : null;
  } catch {
    raw = null;
  }
  const obj = typeof raw === 'object' && raw !== null ? /** @type {Record<string, unknown>} */ (raw) : {};
  /** @param {unknown} v */
  const id = (v) => (typeof v === 'string' && v.length > 0 && v.length <= 512 ? v : null);
  return {
    mic: id(obj.mic),
    camera: id(obj.camera),
    speaker: id(obj.speaker),
    micOff: obj.micOff === true,
    cameraOff: obj.cameraOff === true,
  };
}

/** @returns {DevicePrefs} */
export function loadDevicePrefs() {
  try {
    return parseDevicePrefs(localStorage.getItem(PREFS_KEY));
  } catch {
    return { ...DEFAULT_PREFS };
  }
}

/**
 * Remember some choices (the others are kept).
 * @param {Partial<DevicePrefs>} change
 */
export function saveDevicePrefs(change) {
  try {
    localStorage.setItem(PREFS_KEY, JSON.stringify({ ...loadDevicePrefs(), ...change }));
  } catch {
    // Not remembered (private mode, storage disabled by policy): harmless.
  }
}

/**
 * getUserMedia constraints for the remembered devices. `exact`: Chromium ignores an `ideal`
 * deviceId; `acquireLocalMedia` falls back to any device when a remembered one is gone.
 * @param {Pick<DevicePrefs, 'mic' | 'camera'>} prefs
 * @returns {{audio: MediaTrackConstraints | true, video: MediaTrackConstraints | true}}
 */
export function captureConstraints(prefs) {
  return {
    audio: prefs.mic ? { deviceId: { exact: prefs.mic } } : true,
    video: prefs.camera ? { deviceId: { exact: prefs.camera } } : true,
  };
}

/**
 * The DOMException names of getUserMedia failures, reduced to the four cases the person can act
 * on differently. Older browsers used other names for the same causes.
 * @param {string | null | undefined} name
 * @returns {'NotAllowedError' | 'NotFoundError' | 'NotReadableError' | 'NotSupportedError' | 'UnknownError'}
 */
export function deviceErrorName(name) {
  switch (name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return 'NotAllowedError';
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
    case 'ConstraintNotSatisfiedError':
      return 'NotFoundError';
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return 'NotReadableError';
    case 'NotSupportedError':
    case 'TypeError':
      return 'NotSupportedError';
    default:
      return 'UnknownError';
  }
}

/**
 * One entry of a device drop-down.
 * @typedef {object} DeviceOption
 * @property {string} id
 * @property {string} label
 */

/**
 * @typedef {object} DeviceLists
 * @property {DeviceOption[]} mic
 * @property {DeviceOption[]} camera
 * @property {DeviceOption[]} speaker
 */

/**
 * Group `enumerateDevices()` by drop-down. Entries without an id (no permission yet: the
 * browser hides them) are left out; entries without a label get `<fallback> <n>`.
 * @param {readonly {kind: string, deviceId: string, label: string}[]} devices
 * @param {{mic: string, camera: string, speaker: string}} fallbacks  Translated nouns.
 * @returns {DeviceLists}
 */
export function groupDevices(devices, fallbacks) {
  /** @type {DeviceLists} */
  const out = { mic: [], camera: [], speaker: [] };
  /** @type {Record<string, keyof DeviceLists>} */
  const byKind = { audioinput: 'mic', videoinput: 'camera', audiooutput: 'speaker' };
  for (const d of devices) {
    const list = byKind[d.kind];
    if (!list || !d.deviceId || out[list].some((o) => o.id === d.deviceId)) continue;
    const label = d.label.trim() || `${fallbacks[list]} ${out[list].length + 1}`;
    out[list].push({ id: d.deviceId, label });
  }
  return out;
}

/**
 * The browser's devices, grouped. Never rejects (an empty list when it cannot tell).
 * @param {{mic: string, camera: string, speaker: string}} fallbacks
 * @returns {Promise<DeviceLists>}
 */
export async function listDevices(fallbacks) {
  try {
    return groupDevices(await navigator.mediaDevices.enumerateDevices(), fallbacks);
  } catch {
    return { mic: [], camera: [], speaker: [] };
  }
}

/** Whether the person can choose where sound plays (`HTMLMediaElement.setSinkId`). */
export function supportsSpeakerSelection() {
  return typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
}

/**
 * The device a track captures from, or null.
 * @param {MediaStreamTrack | null | undefined} track
 * @returns {string | null}
 */
export function trackDeviceId(track) {
  if (!track || track.readyState === 'ended') return null;
  return track.getSettings().deviceId || null;
}

/**
 * Open one microphone or camera by id. Rejects with getUserMedia's error.
 * @param {'audio' | 'video'} kind
 * @param {string} deviceId
 * @returns {Promise<MediaStreamTrack>}
 */
export async function openDevice(kind, deviceId) {
  const constraints = { deviceId: { exact: deviceId } };
  // A camera at the size that gives three simulcast layers (media.js).
  const stream = await navigator.mediaDevices.getUserMedia(kind === 'audio' ? { audio: constraints } : { video: { ...CAMERA_SIZE, ...constraints } });
  const track = stream.getTracks()[0];
  if (!track) throw new DOMException('no track', 'NotFoundError');
  return track;
}

/**
 * A level between 0 and 1 from time-domain samples in [-1, 1]: the RMS, scaled so that normal
 * speech fills most of the meter.
 * @param {ArrayLike<number>} samples
 * @returns {number}
 */
export function levelFromSamples(samples) {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
  const rms = Math.sqrt(sum / samples.length);
  return Math.min(1, rms * 4);
}

/**
 * @typedef {object} LevelMeter
 * @property {() => number} level  The current level, 0 to 1.
 * @property {() => void} stop
 */

/** @returns {AudioContext | null} */
function newAudioContext() {
  const Ctor = window.AudioContext ?? /** @type {any} */ (window).webkitAudioContext;
  if (!Ctor) return null;
  try {
    return new Ctor();
  } catch {
    return null;
  }
}

/**
 * Measure a microphone track with a WebAudio AnalyserNode. A context started before any click
 * may be suspended by the autoplay policy: it is resumed on the next click or key press.
 * @param {MediaStreamTrack} track
 * @returns {LevelMeter}
 */
export function createLevelMeter(track) {
  const ctx = newAudioContext();
  if (!ctx) return { level: () => 0, stop: () => {} };
  const source = ctx.createMediaStreamSource(new MediaStream([track]));
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const resume = () => {
    if (ctx.state === 'suspended') ctx.resume().catch(() => {});
  };
  resume();
  document.addEventListener('pointerdown', resume, true);
  document.addEventListener('keydown', resume, true);
  return {
    level: () => {
      if (track.readyState === 'ended' || !track.enabled) return 0;
      analyser.getFloatTimeDomainData(samples);
      return levelFromSamples(samples);
    },
    stop: () => {
      document.removeEventListener('pointerdown', resume, true);
      document.removeEventListener('keydown', resume, true);
      source.disconnect();
      ctx.close().catch(() => {});
    },
  };
}

/**
 * Play a short two-note chime on the chosen speakers, generated with WebAudio (no sound file).
 * Resolves when it has finished playing; rejects if the browser refuses to play.
 * @param {string | null} sinkId  The speakers, or null for the default.
 * @returns {Promise<void>}
 */
export async function playTestSound(sinkId) {
  const ctx = newAudioContext();
  if (!ctx) throw new Error('no WebAudio');
  try {
    await ctx.resume();
    const dest = ctx.createMediaStreamDestination();
    const gain = ctx.createGain();
    gain.connect(dest);
    const start = ctx.currentTime + 0.05;
    gain.gain.setValueAtTime(0, start);
    for (const [i, freq] of [[0, 660], [1, 880]]) {
      const osc = ctx.createOscillator();
      osc.type = 'sine';
      osc.frequency.value = freq;
      osc.connect(gain);
      const t0 = start + i * 0.3;
      gain.gain.linearRampToValueAtTime(0.3, t0 + 0.02);
      gain.gain.setValueAtTime(0.3, t0 + 0.22);
      gain.gain.linearRampToValueAtTime(0, t0 + 0.28);
      osc.start(t0);
      osc.stop(t0 + 0.3);
    }
    // Through an <audio> element, which can be sent to chosen speakers in every browser.
    const audio = new Audio();
    audio.srcObject = dest.stream;
    if (sinkId && supportsSpeakerSelection()) await audio.setSinkId(sinkId);
    await audio.play();
    await new Promise((resolve) => setTimeout(resolve, 800));
    audio.pause();
    audio.srcObject = null;
  } finally {
    ctx.close().catch(() => {});
  }
}
