// The in-meeting settings menu (#device-settings opens #device-menu): the same microphone,
// camera and speakers drop-downs as before joining, to switch without leaving. A microphone or
// camera switch is a replaceTrack on the same sender (devicecontrol.js): no renegotiation, the
// others keep receiving. Speakers: setSinkId on every remote media element.
//
// A disclosure (button + panel, aria-expanded), not a modal dialog: Escape or a click elsewhere
// closes it and gives the focus back to the button.

import { t } from '../i18n.js';
import { el } from './dom.js';
import { icon } from './icons.js';
import { createDeviceSelects } from './deviceselect.js';
import { switchNotice } from './medianotice.js';

/**
 * @typedef {object} DeviceMenu
 * @property {HTMLButtonElement} button  #device-settings, for the toolbar.
 * @property {HTMLElement} panel         #device-menu, to put beside the toolbar.
 * @property {() => void} dispose
 */

/**
 * @param {object} opts
 * @param {import('../devicecontrol.js').DeviceControl} opts.control
 * @param {(notice: HTMLElement | null) => void} opts.showError  What the device notice says
 *   after a switch (null: nothing is wrong any more).
 * @returns {DeviceMenu}
 */
export function createDeviceMenu({ control, showError }) {
  const label = t('device.settings');
  const button = el('button', {
    id: 'device-settings',
    className: 'tool tool-settings',
    attrs: {
      type: 'button', 'aria-label': label, title: label, 'aria-expanded': 'false', 'aria-controls': 'device-menu',
    },
  }, [icon('settings'), el('span', { className: 'tool-text', text: t('device.settings.short') })]);

  const selects = createDeviceSelects((slot, deviceId) => {
    if (slot === 'speaker') {
      control.setSpeaker(deviceId);
      return;
    }
    const kind = slot === 'mic' ? 'audio' : 'video';
    selects.setBusy(slot, true);
    control.switchTo(kind, deviceId).then((error) => {
      selects.setBusy(slot, false);
      showError(switchNotice(control.media, kind, error, 'meeting'));
      selects.refresh(control.selected());
    });
  });

  const close = el('button', {
    className: 'btn btn-secondary btn-small',
    text: t('device.close'),
    attrs: { type: 'button' },
  });
  const panel = el('div', {
    id: 'device-menu',
    className: 'device-menu',
    attrs: { role: 'group', 'aria-labelledby': 'device-menu-title' },
  }, [
    el('h2', { id: 'device-menu-title', className: 'device-menu-title', text: label }),
    selects.root,
    el('div', { className: 'device-menu-actions' }, [close]),
  ]);
  panel.hidden = true;

  /** @param {boolean} open @param {boolean} [restoreFocus] */
  const setOpen = (open, restoreFocus = false) => {
    panel.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    if (open) {
      selects.refresh(control.selected()).then(() => {
        const first = panel.querySelector('select:not([disabled])');
        if (first instanceof HTMLElement && !panel.hidden) first.focus();
      });
    } else if (restoreFocus) {
      button.focus();
    }
  };
  button.addEventListener('click', () => setOpen(panel.hidden));
  close.addEventListener('click', () => setOpen(false, true));
  // Escape closes it wherever the focus is (a drop-down disabled while its device opens drops
  // the focus to the page).
  /** @param {KeyboardEvent} ev */
  const onKey = (ev) => {
    if (ev.key !== 'Escape' || panel.hidden) return;
    const active = document.activeElement;
    const inside = !active || active === document.body || panel.contains(active) || active === button;
    if (!inside) return;
    ev.stopPropagation();
    setOpen(false, true);
  };
  document.addEventListener('keydown', onKey);
  /** @param {Event} ev */
  const onOutside = (ev) => {
    if (panel.hidden || !(ev.target instanceof Node)) return;
    if (!panel.contains(ev.target) && !button.contains(ev.target)) setOpen(false);
  };
  document.addEventListener('pointerdown', onOutside, true);

  return {
    button,
    panel,
    dispose: () => {
      document.removeEventListener('pointerdown', onOutside, true);
      document.removeEventListener('keydown', onKey);
      selects.dispose();
    },
  };
}
