// The meeting toolbar: microphone and camera toggles, red hang-up button, and the overflow
// menu ("Plus", #toolbar-more) that takes the less-used buttons when the row is too narrow.
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
 * @property {() => void} fit  Lay the toolbar out again (the overflow menu); it does so by
 *   itself when its width changes or a button is added.
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
  const overflow = installOverflow(root, hangup);

  return { root, setMic: mic.set, setCamera: camera.set, fit: overflow.fit };
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
  // Only the buttons shown (not those of a closed overflow or reactions menu).
  const buttons = [...root.querySelectorAll('button:not([disabled])')]
    .filter((b) => b instanceof HTMLElement && b.offsetParent !== null);
  const index = buttons.indexOf(/** @type {Element} */ (document.activeElement));
  if (index < 0) return;
  const next = buttons[(index + (ev.key === 'ArrowRight' ? 1 : buttons.length - 1)) % buttons.length];
  if (next instanceof HTMLElement) {
    next.focus();
    ev.preventDefault();
  }
}

// ---------------------------------------------------------------------------------------------
// Overflow menu
//
// The toolbar stays one row: when its buttons do not fit its width, the less-used ones move
// (the elements themselves: ids, listeners and states stay) into #toolbar-more-menu, opened by
// #toolbar-more (a disclosure: aria-expanded, Escape or a click elsewhere closes it, focus goes
// back to the button). Microphone, camera and hang-up never move. It is laid out again when the
// toolbar's width changes (ResizeObserver) and when a button is added (MutationObserver), as
// controls.js and mediafeatures.js add theirs after the toolbar is made.

/** Never moved into the menu. */
const PINNED = ['toggle-mic', 'toggle-camera', 'hangup'];
/**
 * Kept in the row longest, most-used last: `device-settings` is the first to move into the
 * menu, `toggle-chat` the last. A button not listed moves before any of these.
 */
const KEEP_ORDER = ['device-settings', 'toggle-whiteboard', 'share-screen', 'reactions', 'toggle-participants', 'raise-hand', 'toggle-chat'];

/**
 * @param {HTMLElement} root  The toolbar.
 * @param {HTMLElement} hangup  The more button goes just before it.
 * @returns {{fit: () => void}}
 */
function installOverflow(root, hangup) {
  const label = t('toolbar.more.label');
  const more = el('button', {
    id: 'toolbar-more',
    className: 'tool tool-more',
    attrs: {
      type: 'button', 'aria-expanded': 'false', 'aria-controls': 'toolbar-more-menu', 'aria-label': label, title: label,
    },
  }, [icon('more'), el('span', { className: 'tool-text', text: t('toolbar.more.short') })]);
  const menu = el('div', {
    id: 'toolbar-more-menu',
    className: 'toolbar-more-menu',
    attrs: { role: 'group', 'aria-label': label },
  });
  menu.hidden = true;
  const wrap = el('div', { className: 'tool-wrap toolbar-more' }, [more, menu]);
  wrap.hidden = true;
  root.append(wrap);

  /** Where each moved element stood in the row. @type {Map<Element, Comment>} */
  const slots = new Map();

  /** @param {boolean} open @param {boolean} [focusButton] */
  const setOpen = (open, focusButton = false) => {
    if (menu.hidden === !open) return;
    menu.hidden = !open;
    more.setAttribute('aria-expanded', String(open));
    if (open) {
      document.addEventListener('pointerdown', onOutside, true);
      const first = menu.querySelector('button:not([disabled])');
      if (first instanceof HTMLElement) first.focus();
    } else {
      document.removeEventListener('pointerdown', onOutside, true);
      const active = document.activeElement;
      if (focusButton || !active || active === document.body || menu.contains(active)) more.focus();
    }
  };
  /** @param {Event} ev */
  const onOutside = (ev) => {
    if (ev.target instanceof Node && !wrap.contains(ev.target)) setOpen(false);
  };
  more.addEventListener('click', () => setOpen(menu.hidden));
  wrap.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape' || menu.hidden || ev.defaultPrevented) return;
    ev.preventDefault();
    ev.stopPropagation();
    setOpen(false, true);
  });
  // An action chosen in the menu closes it, unless that button opens a popup inside the menu
  // (the reactions).
  menu.addEventListener('click', (ev) => {
    const button = ev.target instanceof Element ? ev.target.closest('button') : null;
    if (!button) return;
    const controls = button.getAttribute('aria-controls');
    const inner = controls ? document.getElementById(controls) : null;
    if (inner && menu.contains(inner)) return;
    setOpen(false);
  });
  // A panel or popup opened from the menu gives the focus back to its button on closing; that
  // button is hidden in the closed menu, so the focus goes to #toolbar-more instead.
  const expandedWatch = new MutationObserver((records) => {
    const closed = records.some((r) => r.target instanceof Element && r.target.getAttribute('aria-expanded') === 'false');
    // The focus is lost, or about to be: still on an element just hidden (the browser moves it
    // to the body at its next rendering).
    const active = document.activeElement;
    const lost = !active || active === document.body || (active instanceof HTMLElement && active.getClientRects().length === 0);
    if (closed && menu.hidden && !wrap.hidden && lost) more.focus();
  });
  expandedWatch.observe(menu, { subtree: true, attributes: true, attributeFilter: ['aria-expanded'] });

  /** @param {Element} item */
  const itemId = (item) => item.id || item.querySelector('[id]')?.id || '';
  /** Higher: moves into the menu earlier. @param {Element} item */
  const rank = (item) => {
    const i = KEEP_ORDER.indexOf(itemId(item));
    return i < 0 ? KEEP_ORDER.length : KEEP_ORDER.length - 1 - i;
  };
  const overflows = () => {
    const style = getComputedStyle(root);
    const gap = parseFloat(style.columnGap) || 0;
    const shown = [...root.children].filter((c) => c instanceof HTMLElement && !c.hidden && c.offsetWidth > 0);
    const needed = shown.reduce((sum, c) => sum + c.getBoundingClientRect().width, 0)
      + gap * Math.max(0, shown.length - 1)
      + (parseFloat(style.paddingLeft) || 0) + (parseFloat(style.paddingRight) || 0);
    return needed > root.clientWidth + 0.5;
  };

  let lastWidth = -1;
  const fit = () => {
    mutations.disconnect();
    const active = document.activeElement;
    for (const [item, slot] of slots) slot.replaceWith(item);
    slots.clear();
    if (hangup.parentElement === root && wrap.nextElementSibling !== hangup) hangup.before(wrap);
    wrap.hidden = true;
    if (root.clientWidth > 0 && overflows()) {
      wrap.hidden = false;
      const movable = [...root.children]
        .filter((c) => c !== wrap && !PINNED.includes(itemId(c)))
        .map((c, index) => ({ c, index }))
        .sort((a, b) => rank(b.c) - rank(a.c) || b.index - a.index);
      const moved = [];
      for (const { c, index } of movable) {
        const slot = document.createComment('toolbar-more');
        c.replaceWith(slot);
        slots.set(c, slot);
        moved.push({ c, index });
        if (!overflows()) break;
      }
      // In the menu, in the row's order.
      moved.sort((a, b) => a.index - b.index);
      menu.replaceChildren(...moved.map((m) => m.c));
    }
    if (wrap.hidden) setOpen(false);
    if (active instanceof HTMLElement && document.activeElement !== active) {
      if (active.offsetParent !== null) active.focus();
      else if (!wrap.hidden) more.focus();
    }
    lastWidth = root.clientWidth;
    mutations.takeRecords();
    mutations.observe(root, { childList: true });
  };
  const mutations = new MutationObserver(() => fit());
  mutations.observe(root, { childList: true });
  new ResizeObserver(() => {
    if (root.clientWidth !== lastWidth) fit();
  }).observe(root);
  return { fit };
}
