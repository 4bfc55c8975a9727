// Modal dialogs on the native <dialog> element: showModal() makes the rest of the page inert and
// keeps the focus inside, Escape closes it, and the browser gives it the dialog role. This adds a
// title that names it, a close button, focus on the first field and back on the opener.

import { t } from '../i18n.js';
import { el } from './dom.js';

/**
 * @typedef {object} Dialog
 * @property {HTMLDialogElement} root
 * @property {HTMLElement} body         Where the caller puts its content.
 * @property {(opener?: Element | null) => void} open   Show it; focus returns to `opener` after.
 * @property {() => void} close
 * @property {() => boolean} isOpen
 */

/**
 * A modal dialog, appended to the document body (outside #app, so a re-render of the page
 * does not lose it) and removed by `dispose` of the caller (`root.remove()`).
 * @param {object} opts
 * @param {string} opts.id          The <dialog>'s id.
 * @param {string} opts.title
 * @param {string} [opts.className]
 * @param {() => void} [opts.onClose]
 * @returns {Dialog}
 */
export function createDialog({ id, title, className = '', onClose }) {
  const titleId = `${id}-title`;
  const body = el('div', { className: 'dialog-body' });
  const root = el('dialog', {
    id,
    className: `dialog ${className}`.trim(),
    attrs: { 'aria-labelledby': titleId },
  }, [
    el('div', { className: 'dialog-head' }, [
      el('h2', { id: titleId, className: 'dialog-title', text: title }),
      el('button', {
        className: 'dialog-close',
        text: '×',
        attrs: { type: 'button', 'aria-label': t('dialog.close'), title: t('dialog.close') },
        on: { click: () => close() },
      }),
    ]),
    body,
  ]);
  /** @type {HTMLElement | null} */
  let returnTo = null;
  root.addEventListener('close', () => {
    onClose?.();
    const target = returnTo;
    returnTo = null;
    if (target && target.isConnected) target.focus();
  });
  // A click on the backdrop (the dialog element itself, outside its content) closes it.
  root.addEventListener('click', (ev) => {
    if (ev.target === root) close();
  });
  document.body.append(root);

  const close = () => {
    if (root.open) root.close();
  };
  return {
    root,
    body,
    open: (opener) => {
      if (root.open) return;
      returnTo = opener instanceof HTMLElement ? opener : null;
      root.showModal();
      const first = root.querySelector('[autofocus], .dialog-body input:not([type="hidden"]):not([disabled]), .dialog-body textarea, .dialog-body select, .dialog-body button');
      if (first instanceof HTMLElement) first.focus();
    },
    close,
    isOpen: () => root.open,
  };
}

/**
 * Ask "are you sure?" for an action that cannot be undone. Resolves true when confirmed.
 * Ids: #confirm-dialog, #confirm-ok, #confirm-cancel. The safe choice has the focus.
 * @param {object} opts
 * @param {string} opts.title
 * @param {string} opts.text
 * @param {string} opts.confirm   Label of the confirming button.
 * @param {Element | null} [opts.opener]
 * @returns {Promise<boolean>}
 */
export function confirmAction({ title, text, confirm, opener = null }) {
  document.getElementById('confirm-dialog')?.remove();
  return new Promise((resolve) => {
    let answer = false;
    const dialog = createDialog({
      id: 'confirm-dialog',
      title,
      className: 'dialog-confirm',
      onClose: () => {
        dialog.root.remove();
        resolve(answer);
      },
    });
    const cancel = el('button', {
      id: 'confirm-cancel',
      className: 'btn btn-secondary',
      text: t('dialog.cancel'),
      attrs: { type: 'button', autofocus: '' },
      on: { click: () => dialog.close() },
    });
    const ok = el('button', {
      id: 'confirm-ok',
      className: 'btn btn-danger',
      text: confirm,
      attrs: { type: 'button' },
      on: {
        click: () => {
          answer = true;
          dialog.close();
        },
      },
    });
    dialog.body.append(el('p', { text }), el('div', { className: 'actions' }, [cancel, ok]));
    dialog.open(opener);
  });
}
