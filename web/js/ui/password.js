// Room passwords (docs/protocol.md, `set_password`, `room_state`, `password_required`):
// - a moderator protects the room (#password-set opens #password-dialog: #room-password,
//   #room-password-save) or removes the protection (#password-remove);
// - everyone sees the lock in the top bar (#room-locked) while the room is protected;
// - a guest joining a protected room is asked for the password (#join-password,
//   #join-password-submit), told clearly when it is wrong, and to wait when it tried too often.
// Agents (moderators) enter without it. The password is never put in an invitation.

import { t } from '../i18n.js';
import { PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS } from '../protocol.js';
import { setState } from '../hooks.js';
import { el, focusHeading } from './dom.js';
import { icon } from './icons.js';
import { announce } from './announcer.js';
import { createDialog } from './dialog.js';

/** @typedef {import('./roomstate.js').RoomState} RoomState */
/** @typedef {import('../signaling.js').Signaling} Signaling */

/**
 * @typedef {object} PasswordControls
 * @property {HTMLElement} controls   #password-set and #password-remove (moderators' panel).
 * @property {HTMLElement} indicator  #room-locked, for the top bar.
 * @property {() => void} dispose
 */

/**
 * @param {RoomState} state
 * @param {Signaling} sig
 * @returns {PasswordControls}
 */
export function createPasswordControls(state, sig) {
  const indicator = el('span', {
    id: 'room-locked',
    className: 'room-locked',
    attrs: { title: t('password.locked.label') },
  }, [icon('lock'), el('span', { className: 'room-locked-text', text: t('password.locked') }),
    el('span', { className: 'sr-only', text: ` – ${t('password.locked.label')}` })]);

  const setButton = el('button', {
    id: 'password-set',
    className: 'btn btn-secondary btn-small',
    attrs: { type: 'button' },
  }, [icon('lock'), el('span', { className: 'password-set-text' })]);
  const removeButton = el('button', {
    id: 'password-remove',
    className: 'btn btn-secondary btn-small',
    text: t('password.remove'),
    attrs: { type: 'button' },
    on: {
      click: () => {
        sig.send({ type: 'set_password', password: null });
      },
    },
  });
  const controls = el('div', { className: 'password-controls' }, [setButton, removeButton]);

  // The dialog: one field, shown as typed on request (a password to read out to others).
  const input = el('input', {
    id: 'room-password',
    attrs: {
      type: 'password',
      autocomplete: 'off',
      minlength: String(PASSWORD_MIN_CHARS),
      maxlength: String(PASSWORD_MAX_CHARS),
      'aria-describedby': 'room-password-hint room-password-error',
      spellcheck: 'false',
      autocapitalize: 'off',
    },
  });
  const show = el('input', { id: 'room-password-show', attrs: { type: 'checkbox' } });
  const error = el('p', { id: 'room-password-error', className: 'field-error', attrs: { 'aria-live': 'polite' } });
  const save = el('button', {
    id: 'room-password-save',
    className: 'btn btn-primary',
    text: t('password.save'),
    attrs: { type: 'submit' },
  });
  const dialog = createDialog({ id: 'password-dialog', title: t('password.dialogTitle') });
  const form = el('form', { attrs: { novalidate: '' } }, [
    el('label', { className: 'label', text: t('password.label'), attrs: { for: 'room-password' } }),
    el('p', { id: 'room-password-hint', className: 'hint', text: t('password.hint') }),
    input,
    el('div', { className: 'checkbox-row' }, [
      show,
      el('label', { text: t('password.show'), attrs: { for: 'room-password-show' } }),
    ]),
    error,
    el('div', { className: 'actions' }, [
      el('button', {
        className: 'btn btn-secondary',
        text: t('dialog.cancel'),
        attrs: { type: 'button' },
        on: { click: () => dialog.close() },
      }),
      save,
    ]),
  ]);
  dialog.body.append(form);
  show.addEventListener('change', () => {
    input.type = show.checked ? 'text' : 'password';
  });
  setButton.addEventListener('click', () => {
    input.value = '';
    error.textContent = '';
    input.removeAttribute('aria-invalid');
    show.checked = false;
    input.type = 'password';
    dialog.open(setButton);
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const password = input.value;
    const n = [...password].length;
    if (n < PASSWORD_MIN_CHARS || n > PASSWORD_MAX_CHARS) {
      error.textContent = t('password.tooShort', { min: PASSWORD_MIN_CHARS, max: PASSWORD_MAX_CHARS });
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    if (sig.send({ type: 'set_password', password })) {
      input.value = '';
      dialog.close();
      // The server hashes it (a moment), then tells everyone with `room_state`.
      setButton.setAttribute('aria-busy', 'true');
    }
  });

  let wasLocked = state.locked;
  const render = () => {
    indicator.hidden = !state.locked;
    const text = setButton.querySelector('.password-set-text');
    if (text) text.textContent = t(state.locked ? 'password.change' : 'password.set');
    removeButton.hidden = !state.locked;
    controls.hidden = !state.isModerator;
  };
  render();
  const off = state.subscribe((change) => {
    if (change === 'locked') {
      setButton.removeAttribute('aria-busy');
      if (state.locked !== wasLocked) announce(t(state.locked ? 'password.nowLocked' : 'password.nowUnlocked'));
      else if (state.locked) announce(t('password.changed'));
      wasLocked = state.locked;
    }
    render();
  });

  return {
    controls,
    indicator,
    dispose: () => {
      off();
      dialog.close();
      dialog.root.remove();
    },
  };
}

/**
 * @typedef {object} PasswordPrompt
 * @property {(code: string) => void} refused  The server's answer to a try:
 *   `password_required`, `wrong_password` or `rate_limited`.
 */

/**
 * The guest's password screen (state `password`), shown on `password_required` and kept for
 * the next tries: each submission sends `join` again on the same socket.
 * @param {HTMLElement} root
 * @param {object} opts
 * @param {string} opts.room
 * @param {(password: string) => void} opts.onSubmit
 * @param {() => void} opts.onLeave
 * @returns {PasswordPrompt}
 */
export function renderPasswordPrompt(root, { room, onSubmit, onLeave }) {
  setState('password');
  document.title = t('joinPassword.pageTitle', { room });
  const input = el('input', {
    id: 'join-password',
    attrs: {
      type: 'password',
      autocomplete: 'off',
      maxlength: String(PASSWORD_MAX_CHARS),
      'aria-describedby': 'join-password-hint join-password-error',
      spellcheck: 'false',
      autocapitalize: 'off',
    },
  });
  const error = el('p', { id: 'join-password-error', className: 'field-error', attrs: { role: 'alert' } });
  const submit = el('button', {
    id: 'join-password-submit',
    className: 'btn btn-primary',
    text: t('joinPassword.submit'),
    attrs: { type: 'submit' },
  });
  let tried = false;
  const form = el('form', { className: 'join-password-form', attrs: { novalidate: '' } }, [
    el('label', { className: 'label', text: t('joinPassword.label'), attrs: { for: 'join-password' } }),
    el('p', { id: 'join-password-hint', className: 'hint', text: t('joinPassword.hint') }),
    input,
    error,
    el('div', { className: 'actions' }, [
      submit,
      el('button', {
        id: 'join-password-leave',
        className: 'btn btn-secondary',
        text: t('joinPassword.leave'),
        attrs: { type: 'button' },
        on: { click: onLeave },
      }),
    ]),
  ]);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (submit.disabled) return;
    if (input.value === '') {
      showError('empty');
      input.focus();
      return;
    }
    tried = true;
    submit.disabled = true;
    form.setAttribute('aria-busy', 'true');
    error.textContent = '';
    delete error.dataset.code;
    onSubmit(input.value);
  });
  root.replaceChildren(el('section', {
    className: 'card message join-password',
    attrs: { 'aria-labelledby': 'join-password-title' },
  }, [
    el('h1', { id: 'join-password-title', text: t('joinPassword.title') }),
    el('p', { text: t('joinPassword.text', { room }) }),
    form,
  ]));
  focusHeading(root);
  input.focus();

  /** @param {string} code */
  const showError = (code) => {
    /** @type {import('../i18n.js').MessageKey} */
    let key = 'joinPassword.wrong';
    if (code === 'empty' || code === 'password_required') key = 'joinPassword.empty';
    else if (code === 'rate_limited') key = 'joinPassword.rateLimited';
    error.textContent = t(key);
    error.dataset.code = code;
    input.setAttribute('aria-invalid', 'true');
  };

  return {
    refused: (code) => {
      submit.disabled = false;
      form.removeAttribute('aria-busy');
      // The first `password_required` only opens this screen; after a try it means "empty".
      if (code === 'password_required' && !tried) return;
      showError(code);
      if (code === 'wrong_password') input.value = '';
      input.focus();
    },
  };
}
