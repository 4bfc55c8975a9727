// Keyboard shortcuts of the meeting, listed in the help dialog (#shortcuts-help, opened by "?"
// or the top bar's #show-shortcuts):
//   M microphone · V camera · C chat · P participants · R raise/lower hand · ? this help ·
//   Ctrl+Shift+L leave the meeting (hang up).
// Single keys are ignored while the focus is in a text field, a list or a dialog, and with any
// modifier held. WCAG 2.1.4: people whose speech input or screen reader sends single letters
// can switch single-key shortcuts off in the help dialog (remembered in this browser).
//
// Hang-up takes Ctrl+Shift+L (⌘+Shift+L on a Mac): two modifiers, so it is not hit by
// accident, and no browser binds it (Ctrl+Shift+H opens the history in Firefox, Ctrl+Shift+Q
// quits Chrome on Linux, Ctrl+Shift+W closes the window). It works from a text field too.

import { t } from '../i18n.js';
import { el } from './dom.js';
import { icon } from './icons.js';
import { createDialog } from './dialog.js';

/** localStorage key remembering that single-key shortcuts are off. */
const STORAGE_KEY = 'webconf.singleKeyShortcuts';

/**
 * What a shortcut does.
 * @typedef {'mic' | 'camera' | 'chat' | 'participants' | 'hand' | 'help' | 'hangup'} ShortcutAction
 */

/** The single keys (lower case, as `KeyboardEvent.key` gives them on any layout). */
const SINGLE = /** @type {const} */ ({ m: 'mic', v: 'camera', c: 'chat', p: 'participants', r: 'hand', '?': 'help' });

/**
 * The action for a key press, or null: pure, for the tests.
 * @param {{ key: string, ctrlKey: boolean, metaKey: boolean, altKey: boolean, shiftKey: boolean,
 *   repeat?: boolean }} ev
 * @param {{ typing: boolean, singleKeys: boolean }} where  `typing`: the focus is in a field
 *   or a dialog is open.
 * @returns {ShortcutAction | null}
 */
export function shortcutFor(ev, where) {
  if (ev.repeat) return null;
  const key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
  if ((ev.ctrlKey || ev.metaKey) && ev.shiftKey && !ev.altKey && key === 'l') return 'hangup';
  if (ev.ctrlKey || ev.metaKey || ev.altKey || where.typing || !where.singleKeys) return null;
  // "?" is typed with Shift on most layouts; other keys must come without it.
  if (key === '?') return 'help';
  if (ev.shiftKey) return null;
  return Object.hasOwn(SINGLE, key) ? SINGLE[/** @type {keyof typeof SINGLE} */ (key)] : null;
}

/**
 * Whether the element takes typed text (or arrow keys) itself.
 * @param {EventTarget | null} target
 * @returns {boolean}
 */
function isField(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) {
    return !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file'].includes(target.type);
  }
  return false;
}

function singleKeysEnabled() {
  try {
    return localStorage.getItem(STORAGE_KEY) !== 'off';
  } catch {
    return true;
  }
}

/** @param {boolean} on */
function rememberSingleKeys(on) {
  try {
    if (on) localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, 'off');
  } catch {
    // Private mode without storage: the choice lasts for this page.
  }
}

/**
 * @typedef {object} Shortcuts
 * @property {HTMLButtonElement} button  #show-shortcuts, for the top bar.
 * @property {() => void} dispose
 */

/**
 * @param {Record<Exclude<ShortcutAction, 'help'>, () => void>} actions
 * @returns {Shortcuts}
 */
export function installShortcuts(actions) {
  let singleKeys = singleKeysEnabled();
  const dialog = createDialog({ id: 'shortcuts-help', title: t('shortcuts.title') });
  /** @type {[string[], import('../i18n.js').MessageKey][]} */
  const rows = [
    [['M'], 'shortcuts.mic'],
    [['V'], 'shortcuts.camera'],
    [['C'], 'shortcuts.chat'],
    [['P'], 'shortcuts.participants'],
    [['R'], 'shortcuts.hand'],
    [['?'], 'shortcuts.help'],
    [[t('shortcuts.ctrl'), t('shortcuts.shift'), 'L'], 'shortcuts.hangup'],
  ];
  const list = el('dl', { className: 'shortcuts-list' });
  for (const [keys, what] of rows) {
    /** @type {(Node | string)[]} */
    const combo = [];
    keys.forEach((k, i) => {
      if (i > 0) combo.push(' + ');
      combo.push(el('kbd', { text: k }));
    });
    list.append(el('div', { className: 'shortcut' }, [el('dt', {}, combo), el('dd', { text: t(what) })]));
  }
  const toggle = el('input', { id: 'shortcuts-single-keys', attrs: { type: 'checkbox' } });
  toggle.checked = singleKeys;
  toggle.addEventListener('change', () => {
    singleKeys = toggle.checked;
    rememberSingleKeys(singleKeys);
  });
  dialog.body.append(
    el('p', { className: 'hint', text: t('shortcuts.intro') }),
    list,
    el('div', { className: 'checkbox-row' }, [
      toggle,
      el('label', { text: t('shortcuts.singleKeys'), attrs: { for: 'shortcuts-single-keys' } }),
    ]),
    el('p', { className: 'hint', text: t('shortcuts.singleKeys.hint') }),
  );

  const button = el('button', {
    id: 'show-shortcuts',
    className: 'btn btn-ghost btn-small',
    attrs: { type: 'button', 'aria-haspopup': 'dialog', 'aria-label': t('shortcuts.open'), title: t('shortcuts.open') },
  }, [icon('keyboard'), el('span', { text: t('shortcuts.short') })]);
  button.addEventListener('click', () => dialog.open(button));

  /** @param {KeyboardEvent} ev */
  const onKey = (ev) => {
    if (ev.defaultPrevented || ev.isComposing) return;
    const typing = isField(ev.target) || document.querySelector('dialog[open]') !== null;
    const action = shortcutFor(ev, { typing, singleKeys });
    if (!action) return;
    ev.preventDefault();
    if (action === 'help') dialog.open(document.activeElement);
    else actions[action]();
  };
  document.addEventListener('keydown', onKey);

  return {
    button,
    dispose: () => {
      document.removeEventListener('keydown', onKey);
      dialog.close();
      dialog.root.remove();
    },
  };
}
