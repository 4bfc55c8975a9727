// The "room closes soon" banner (#room-ending): the server's `room_ending` with a live
// countdown. It is announced once when it appears (the page's live region); the clock itself is
// not a live region, so that a screen reader is not interrupted every second.

import { t, tn } from '../i18n.js';
import { isKnownEndingReason } from '../protocol.js';
import { durationUnit, formatClock } from '../duration.js';
import { el } from './dom.js';
import { icon } from './icons.js';
import { announce } from './announcer.js';

/**
 * @typedef {object} EndingBanner
 * @property {HTMLElement} slot   Where the banner appears; empty while there is none.
 * @property {(reason: string, inSecs: number) => void} show  Show or restart the countdown.
 * @property {(reason?: string) => void} cancel  Remove it (only if it is for `reason`, if given).
 * @property {() => void} dispose Stop the clock.
 */

/**
 * @param {string} reason
 * @returns {import('../i18n.js').MessageKey}
 */
function textKey(reason) {
  return isKnownEndingReason(reason) ? `meeting.ending.${reason}` : 'meeting.ending.unknown';
}

/** @returns {EndingBanner} */
export function createEndingBanner() {
  const slot = el('div', { className: 'ending-slot' });
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let timer;
  /** @type {string | null} */
  let current = null;

  const cancel = (/** @type {string | undefined} */ reason) => {
    if (current === null || (reason !== undefined && reason !== current)) return;
    clearInterval(timer);
    current = null;
    slot.replaceChildren();
  };

  return {
    slot,
    show(reason, inSecs) {
      clearInterval(timer);
      current = reason;
      const deadline = Date.now() + inSecs * 1000;
      const text = el('p', { className: 'notice-body' });
      const banner = el('div', {
        id: 'room-ending',
        className: 'notice notice-ending',
        data: { reason },
      }, [icon('warning', 'icon notice-icon'), text]);
      const tick = () => {
        const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
        banner.dataset.secondsLeft = String(left);
        text.textContent = left > 0 ? t(textKey(reason), { time: formatClock(left) }) : t('meeting.ending.now');
        if (left === 0) clearInterval(timer);
      };
      tick();
      timer = setInterval(tick, 1000);
      slot.replaceChildren(banner);
      const { base, n } = durationUnit(inSecs);
      announce(t(textKey(reason), { time: tn(base, n) }));
    },
    cancel,
    dispose() {
      clearInterval(timer);
    },
  };
}
