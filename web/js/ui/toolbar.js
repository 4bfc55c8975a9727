// The meeting toolbar: microphone and camera toggles, red hang-up button.
//
// The toggles are "mute" buttons: their accessible name says the action ("Couper le micro") and
// aria-pressed="true" means the microphone / camera is OFF. The visible short label is part of
// the accessible name (WCAG 2.5.3).

import { t } from '../i18n.js';
import { el } from './dom.js';
import { icon } from './icons.js';

/**
 * @typedef {object} ToolbarActions
 * @property {() => void} onToggleMic
 * @property {() => void} onToggleCamera
 * @property {() => void} onHangup
 */

/**
 * @typedef {object} Toolbar
 * @property {HTMLElement} root
 * @property {(on: boolean, available: boolean) => void} setMic
 * @property {(on: boolean, available: boolean) => void} setCamera
 */

/**
 * @param {ToolbarActions} actions
 * @returns {Toolbar}
 */
export function createToolbar(actions) {
  const mic = toggle('toggle-mic', 'mic', 'micOff', t('toolbar.mic.label'), t('toolbar.mic.short'));
  const camera = toggle('toggle-camera', 'camera', 'cameraOff', t('toolbar.camera.label'),
    t('toolbar.camera.short'));
  mic.button.addEventListener('click', actions.onToggleMic);
  camera.button.addEventListener('click', actions.onToggleCamera);

  const hangup = el('button', {
    id: 'hangup',
    className: 'tool tool-hangup',
    attrs: { type: 'button', 'aria-label': t('toolbar.hangup.label'), title: t('toolbar.hangup.label') },
    on: { click: actions.onHangup },
  }, [icon('hangup'), el('span', { className: 'tool-text', text: t('toolbar.hangup.short') })]);

  const root = el('div', {
    className: 'toolbar',
    attrs: { role: 'toolbar', 'aria-label': t('meeting.toolbar') },
  }, [mic.button, camera.button, hangup]);
  root.addEventListener('keydown', (ev) => arrowKeys(root, ev));

  return { root, setMic: mic.set, setCamera: camera.set };
}

/**
 * @param {string} id
 * @param {'mic' | 'camera'} onIcon
 * @param {'micOff' | 'cameraOff'} offIcon
 * @param {string} label
 * @param {string} short
 */
function toggle(id, onIcon, offIcon, label, short) {
  const iconOn = icon(onIcon, 'icon icon-on');
  const iconOff = icon(offIcon, 'icon icon-off');
  const text = el('span', { className: 'tool-text', text: short });
  const button = el('button', {
    id,
    className: 'tool tool-toggle',
    attrs: { type: 'button', 'aria-label': label, 'aria-pressed': 'false', title: label },
  }, [iconOn, iconOff, text]);
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

/**
 * Left / right arrows move between the toolbar's buttons (ARIA toolbar pattern); Tab still
 * reaches each of them, which is simpler for people who do not know the pattern.
 * @param {HTMLElement} root
 * @param {KeyboardEvent} ev
 */
function arrowKeys(root, ev) {
  if (ev.key !== 'ArrowLeft' && ev.key !== 'ArrowRight') return;
  const buttons = [...root.querySelectorAll('button:not([disabled])')];
  const index = buttons.indexOf(/** @type {Element} */ (document.activeElement));
  if (index < 0) return;
  const next = buttons[(index + (ev.key === 'ArrowRight' ? 1 : buttons.length - 1)) % buttons.length];
  if (next instanceof HTMLElement) {
    next.focus();
    ev.preventDefault();
  }
}
