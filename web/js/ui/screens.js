// Whole-page messages: invalid room name, joining, meeting left, meeting interrupted.

import { t } from '../i18n.js';
import { langQuery, onLinkClick } from '../nav.js';
import { setState } from '../hooks.js';
import { el, focusHeading } from './dom.js';

/** @returns {HTMLAnchorElement} A link to the home page, navigated in-app. */
export function homeLink(className = 'btn btn-secondary') {
  return el('a', {
    className,
    text: t('common.home'),
    attrs: { href: `/${langQuery()}` },
    on: { click: onLinkClick },
  });
}

/**
 * The path is not a valid room name.
 * @param {HTMLElement} root
 * @param {string} name  As typed in the address bar (shown as text, never as markup).
 */
export function renderInvalidRoom(root, name) {
  setState('error');
  document.title = t('room.invalid.pageTitle');
  root.replaceChildren(el('section', { className: 'card message', attrs: { role: 'alert' } }, [
    el('h1', { text: t('room.invalid.title') }),
    el('p', { text: t('room.invalid.text', { name }) }),
    el('div', { className: 'actions' }, [homeLink('btn btn-primary')]),
  ]));
}

/**
 * Waiting for the server's `welcome`.
 * @param {HTMLElement} root
 */
export function renderJoining(root) {
  setState('joining');
  document.title = t('joining.pageTitle');
  root.replaceChildren(el('section', { className: 'card message joining', attrs: { 'aria-busy': 'true' } }, [
    el('div', { className: 'spinner', attrs: { 'aria-hidden': 'true' } }),
    el('p', { className: 'joining-text', text: t('joining.text'), attrs: { role: 'status' } }),
  ]));
}

/**
 * After hang-up: rejoin or go home.
 * @param {HTMLElement} root
 * @param {string} room
 * @param {() => void} onRejoin
 */
export function renderLeft(root, room, onRejoin) {
  setState('left');
  document.title = t('left.pageTitle');
  root.replaceChildren(el('section', { className: 'card message' }, [
    el('h1', { text: t('left.title') }),
    el('p', { text: t('left.text', { room }) }),
    el('div', { className: 'actions' }, [
      el('button', {
        id: 'rejoin',
        className: 'btn btn-primary',
        text: t('left.rejoin'),
        attrs: { type: 'button' },
        on: { click: onRejoin },
      }),
      homeLink(),
    ]),
  ]));
  focusHeading(root);
}

/**
 * The meeting could not start or was interrupted.
 * @param {HTMLElement} root
 * @param {string} text       Already translated.
 * @param {() => void} onRetry
 */
export function renderError(root, text, onRetry) {
  setState('error');
  document.title = t('error.pageTitle');
  root.replaceChildren(el('section', { className: 'card message', attrs: { role: 'alert' } }, [
    el('h1', { text: t('error.title') }),
    el('p', { id: 'error-text', text }),
    el('div', { className: 'actions' }, [
      el('button', {
        id: 'retry',
        className: 'btn btn-primary',
        text: t('error.retry'),
        attrs: { type: 'button' },
        on: { click: onRetry },
      }),
      homeLink(),
    ]),
  ]));
  focusHeading(root);
}
