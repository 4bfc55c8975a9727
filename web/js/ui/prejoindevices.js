// The pre-join panel's devices: "join with the microphone / camera off" toggles
// (#prejoin-mic, #prejoin-camera: aria-pressed="true" means OFF, as in the meeting's toolbar),
// a live microphone level (#mic-level, a WebAudio AnalyserNode), and the drop-downs to choose
// microphone, camera and speakers with a test sound (deviceselect.js). Choices are remembered.
//
// The toggles only disable the tracks (`enabled = false`): the meeting starts with them off and
// the person can turn them on from the toolbar without a new permission prompt.

import { t } from '../i18n.js';
import { createLevelMeter, loadDevicePrefs, saveDevicePrefs } from '../devices.js';
import { DeviceControl } from '../devicecontrol.js';
import { el } from './dom.js';
import { icon } from './icons.js';
import { createDeviceSelects } from './deviceselect.js';
import { switchNotice } from './medianotice.js';

/** @typedef {import('../media.js').LocalMedia} LocalMedia */

/**
 * @typedef {object} PrejoinDevicesOptions
 * @property {Promise<LocalMedia>} mediaPromise
 * @property {HTMLVideoElement} video          The preview's <video>.
 * @property {HTMLElement} preview             Its container (`data-video` on/off).
 * @property {HTMLElement} previewStatus       The text over the preview.
 * @property {HTMLElement} notices             Where device errors go.
 */

/**
 * @param {PrejoinDevicesOptions} opts
 * @returns {{root: HTMLElement, toggles: HTMLElement, showPreview: () => void, dispose: () => void}}
 *   `showPreview` brings the preview in line with the camera (on, off, missing).
 */
export function createPrejoinDevices(opts) {
  const { video, preview, previewStatus, notices } = opts;
  const prefs = loadDevicePrefs();
  let disposed = false;
  /** @type {LocalMedia | null} */
  let media = null;
  /** @type {DeviceControl | null} */
  let control = null;
  /** @type {import('../devices.js').LevelMeter | null} */
  let meter = null;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let meterTimer;

  const mic = toggle('prejoin-mic', 'mic', 'micOff', t('toolbar.mic.label'), t('toolbar.mic.short'));
  const camera = toggle('prejoin-camera', 'camera', 'cameraOff', t('toolbar.camera.label'), t('toolbar.camera.short'));
  mic.set(!prefs.micOff, false);
  camera.set(!prefs.cameraOff, false);

  const level = el('meter', {
    id: 'mic-level',
    className: 'mic-level',
    attrs: { min: '0', max: '1', low: '0.05', high: '0.8', optimum: '0.5', value: '0', 'aria-labelledby': 'mic-level-label' },
  });
  const levelRow = el('div', { className: 'mic-level-row' }, [
    el('span', { id: 'mic-level-label', className: 'mic-level-label', text: t('device.micLevel') }),
    level,
  ]);

  const selects = createDeviceSelects((slot, deviceId) => {
    if (!control) return;
    if (slot === 'speaker') {
      control.setSpeaker(deviceId);
      return;
    }
    const kind = slot === 'mic' ? 'audio' : 'video';
    selects.setBusy(slot, true);
    control.switchTo(kind, deviceId).then((error) => {
      selects.setBusy(slot, false);
      notices.querySelector('#device-error')?.remove();
      const notice = media ? switchNotice(media, kind, error, 'prejoin') : null;
      if (notice) notices.prepend(notice);
      if (control) selects.refresh(control.selected());
    });
  });

  const toggles = el('div', { className: 'prejoin-toggles', attrs: { role: 'group', 'aria-label': t('device.startWith') } }, [
    mic.button, camera.button,
  ]);
  const root = el('div', { className: 'prejoin-devices' }, [
    levelRow,
    selects.root,
  ]);

  const showPreview = () => {
    const track = media?.videoTrack ?? null;
    const on = !!track && track.enabled;
    const current = video.srcObject instanceof MediaStream ? video.srcObject.getTracks() : [];
    if (track && !current.includes(track)) {
      video.srcObject = new MediaStream([track]);
      video.play().catch(() => {});
    }
    preview.dataset.video = on ? 'on' : 'off';
    previewStatus.textContent = on ? '' : t(track ? 'device.cameraOffPreview' : 'prejoin.preview.none');
  };

  const startMeter = () => {
    meter?.stop();
    meter = null;
    clearInterval(meterTimer);
    const track = media?.audioTrack;
    if (!track) return;
    meter = createLevelMeter(track);
    meterTimer = setInterval(() => {
      const value = meter ? meter.level() : 0;
      level.value = value;
      level.dataset.level = value.toFixed(3);
    }, 100);
  };

  mic.button.addEventListener('click', () => {
    if (!media?.audioTrack) return;
    media.audioTrack.enabled = !media.audioTrack.enabled;
    mic.set(media.audioTrack.enabled, true);
    saveDevicePrefs({ micOff: !media.audioTrack.enabled });
  });
  camera.button.addEventListener('click', () => {
    if (!media?.videoTrack) return;
    media.videoTrack.enabled = !media.videoTrack.enabled;
    camera.set(media.videoTrack.enabled, true);
    saveDevicePrefs({ cameraOff: !media.videoTrack.enabled });
    showPreview();
  });

  opts.mediaPromise.then((m) => {
    if (disposed) return;
    media = m;
    if (m.audioTrack) m.audioTrack.enabled = !prefs.micOff;
    if (m.videoTrack) m.videoTrack.enabled = !prefs.cameraOff;
    mic.set(!!m.audioTrack && m.audioTrack.enabled, !!m.audioTrack);
    camera.set(!!m.videoTrack && m.videoTrack.enabled, !!m.videoTrack);
    control = new DeviceControl(m, {
      onTrackChanged: (kind) => {
        if (kind === 'video') showPreview();
        else startMeter();
        if (media) {
          mic.set(!!media.audioTrack && media.audioTrack.enabled, !!media.audioTrack);
          camera.set(!!media.videoTrack && media.videoTrack.enabled, !!media.videoTrack);
        }
      },
    });
    showPreview();
    startMeter();
    selects.refresh(control.selected());
  });

  return {
    root,
    toggles,
    showPreview,
    dispose: () => {
      disposed = true;
      clearInterval(meterTimer);
      meter?.stop();
      selects.dispose();
    },
  };
}

/**
 * A "mute" toggle like the toolbar's: the name says the action, aria-pressed="true" = off.
 * @param {string} id
 * @param {'mic' | 'camera'} onIcon
 * @param {'micOff' | 'cameraOff'} offIcon
 * @param {string} label
 * @param {string} short
 */
function toggle(id, onIcon, offIcon, label, short) {
  const button = el('button', {
    id,
    className: 'tool tool-toggle prejoin-toggle',
    attrs: { type: 'button', 'aria-label': label, 'aria-pressed': 'false', title: label },
  }, [icon(onIcon, 'icon icon-on'), icon(offIcon, 'icon icon-off'), el('span', { className: 'tool-text', text: short })]);
  /**
   * @param {boolean} on
   * @param {boolean} available
   */
  const set = (on, available) => {
    button.setAttribute('aria-pressed', String(!on));
    button.disabled = !available;
    button.title = available ? label : `${label} – ${t('toolbar.unavailable')}`;
  };
  return { button, set };
}
