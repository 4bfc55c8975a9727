// The three device drop-downs (#select-mic, #select-camera, #select-speaker) and the speakers'
// test sound (#test-sound), shared by the pre-join panel and the in-meeting settings menu (never
// on screen at the same time). The speakers' drop-down exists only where the browser can send
// sound to chosen speakers (`setSinkId`).

import { t } from '../i18n.js';
import { listDevices, playTestSound, supportsSpeakerSelection } from '../devices.js';
import { el } from './dom.js';
import { icon } from './icons.js';

/** @typedef {'mic' | 'camera' | 'speaker'} DeviceSlot */

/**
 * @typedef {object} DeviceSelects
 * @property {HTMLElement} root
 * @property {(selected: Record<DeviceSlot, string | null>) => Promise<void>} refresh
 *   Re-list the devices and show `selected` (null: the browser's default / first).
 * @property {(slot: DeviceSlot, busy: boolean) => void} setBusy  Disable one drop-down while
 *   its device is being opened.
 * @property {() => string | null} speaker  The chosen speakers, or null for the default.
 * @property {() => void} dispose
 */

/**
 * @param {(slot: DeviceSlot, deviceId: string) => void} onChange
 * @param {{idPrefix?: string}} [options]
 * @returns {DeviceSelects}
 */
export function createDeviceSelects(onChange, options = {}) {
  const prefix = options.idPrefix ?? '';
  const withSpeakers = supportsSpeakerSelection();

  /**
   * @param {DeviceSlot} slot
   * @param {string} id
   * @param {import('../i18n.js').MessageKey} label
   * @param {'mic' | 'camera' | 'sound'} iconName
   */
  const field = (slot, id, label, iconName) => {
    const select = el('select', { id: `${prefix}${id}`, className: 'device-select' });
    select.addEventListener('change', () => {
      if (select.value) onChange(slot, select.value);
    });
    const root = el('div', { className: 'device-field', data: { slot } }, [
      el('label', { className: 'device-label', attrs: { for: select.id } }, [icon(iconName, 'icon device-icon'), t(label)]),
      select,
    ]);
    return { root, select };
  };

  const mic = field('mic', 'select-mic', 'device.mic', 'mic');
  const camera = field('camera', 'select-camera', 'device.camera', 'camera');
  const speaker = field('speaker', 'select-speaker', 'device.speaker', 'sound');
  const status = el('span', { className: 'test-sound-status', attrs: { role: 'status' } });
  const testSound = el('button', {
    id: `${prefix}test-sound`,
    className: 'btn btn-secondary btn-small test-sound',
    attrs: { type: 'button' },
  }, [icon('sound'), el('span', { text: t('device.testSound') })]);
  testSound.addEventListener('click', () => {
    testSound.dataset.playing = 'true';
    status.textContent = t('device.testSound.playing');
    playTestSound(withSpeakers ? speaker.select.value || null : null)
      .then(() => { status.textContent = t('device.testSound.done'); })
      .catch((err) => {
        console.warn('webconf: test sound failed', err);
        status.textContent = t('device.testSound.failed');
      })
      .finally(() => { delete testSound.dataset.playing; });
  });
  if (!withSpeakers) speaker.root.hidden = true;

  const root = el('div', { className: 'device-selects' }, [
    mic.root,
    camera.root,
    speaker.root,
    el('div', { className: 'device-test' }, [testSound, status]),
  ]);

  /** @type {Record<DeviceSlot, string | null>} */
  let last = { mic: null, camera: null, speaker: null };

  /** @type {DeviceSelects['refresh']} */
  const refresh = async (selected) => {
    last = { ...selected };
    const lists = await listDevices({
      mic: t('device.mic'), camera: t('device.camera'), speaker: t('device.speaker'),
    });
    for (const [slot, f] of /** @type {const} */ ([['mic', mic], ['camera', camera], ['speaker', speaker]])) {
      const options = lists[slot];
      const want = last[slot];
      f.select.replaceChildren(...options.map((o) => el('option', { text: o.label, attrs: { value: o.id } })));
      if (options.length === 0) {
        f.select.append(el('option', { text: t(`device.none.${slot}`), attrs: { value: '' } }));
        f.select.disabled = true;
      } else {
        f.select.disabled = false;
        f.select.value = want && options.some((o) => o.id === want) ? want : (options[0]?.id ?? '');
      }
    }
  };

  const onDeviceChange = () => { refresh(last).catch(() => {}); };
  navigator.mediaDevices?.addEventListener?.('devicechange', onDeviceChange);

  return {
    root,
    refresh,
    setBusy: (slot, busy) => {
      const f = { mic, camera, speaker }[slot];
      f.select.disabled = busy;
      f.root.setAttribute('aria-busy', String(busy));
    },
    speaker: () => (withSpeakers && speaker.select.value ? speaker.select.value : null),
    dispose: () => navigator.mediaDevices?.removeEventListener?.('devicechange', onDeviceChange),
  };
}
