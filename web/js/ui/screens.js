// Whole-page messages: invalid room name, joining, waiting for the organiser, meeting left,
// meeting ended by the server, meeting interrupted.

import { t, tn } from '../i18n.js';
import { langQuery, onLinkClick } from '../nav.js';
import { setState } from '../hooks.js';
import { isKnownEndReason } from '../protocol.js';
import { durationUnit } from '../duration.js';
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

/**
 * @typedef {object} WaitingOptions
 * @property {string} room
 * @property {number} timeoutSecs        How long the server lets the guest wait (0: not said).
 * @property {MediaStreamTrack | null} videoTrack  Own camera, previewed while waiting.
 * @property {() => void} onLeave        "Stop waiting" (#waiting-leave).
 * @property {(() => void) | null} onVerify  "I am the organiser: verify my address"
 *   (#waiting-verify), or null to leave it out.
 */

/**
 * A guest waits for an agent to open the room (`waiting`). The socket stays open: `welcome`
 * replaces this screen with the meeting. Returns a disposer that stops the preview.
 * @param {HTMLElement} root
 * @param {WaitingOptions} opts
 * @returns {() => void}
 */
export function renderWaiting(root, opts) {
  setState('waiting');
  document.title = t('waiting.pageTitle');
  const video = el('video', {
    className: 'preview-video',
    attrs: { autoplay: '', playsinline: '', muted: '', 'aria-label': t('prejoin.preview.label') },
  });
  video.muted = true;
  video.playsInline = true;
  if (opts.videoTrack) {
    video.srcObject = new MediaStream([opts.videoTrack]);
    video.play().catch(() => { /* muted autoplay is always allowed */ });
  }
  /** @type {string | null} */
  let timeoutText = null;
  if (opts.timeoutSecs > 0) {
    const { base, n } = durationUnit(opts.timeoutSecs);
    timeoutText = t('waiting.timeout', { duration: tn(base, n) });
  }
  root.replaceChildren(el('section', {
    className: 'card message waiting',
    attrs: { 'aria-labelledby': 'waiting-title' },
  }, [
    el('h1', { id: 'waiting-title', text: t('waiting.title') }),
    el('div', { className: 'waiting-row' }, [
      el('div', { className: 'spinner', attrs: { 'aria-hidden': 'true' } }),
      el('p', { id: 'waiting-text', className: 'waiting-text', text: t('waiting.text'), attrs: { role: 'status' } }),
    ]),
    opts.videoTrack
      ? el('div', { className: 'preview waiting-preview', data: { video: 'on' } }, [video])
      : null,
    el('p', { className: 'hint', text: t('waiting.room', { room: opts.room }) }),
    timeoutText ? el('p', { className: 'hint', text: timeoutText }) : null,
    el('div', { className: 'actions' }, [
      el('button', {
        id: 'waiting-leave',
        className: 'btn btn-secondary',
        text: t('waiting.leave'),
        attrs: { type: 'button' },
        on: { click: opts.onLeave },
      }),
    ]),
    opts.onVerify
      ? el('div', { className: 'waiting-organiser' }, [
        el('p', { className: 'hint', text: t('waiting.organiser') }),
        el('button', {
          id: 'waiting-verify',
          className: 'btn btn-secondary btn-small',
          text: t('waiting.verify'),
          attrs: { type: 'button' },
          on: { click: opts.onVerify },
        }),
      ])
      : null,
  ]));
  focusHeading(root);
  return () => {
    video.srcObject = null;
  };
}

/**
 * The server closed the room (`room_ended`): say why, offer the home page and to join again.
 * `body[data-state="ended"]`, `body[data-end-reason]` = `reason` as the server sent it.
 * @param {HTMLElement} root
 * @param {string} reason
 * @param {() => void} onRejoin
 */
export function renderEnded(root, reason, onRejoin) {
  setState('ended', reason);
  document.title = t('ended.pageTitle');
  const known = isKnownEndReason(reason) ? reason : 'ended';
  const home = homeLink('btn btn-primary');
  home.id = 'ended-home';
  root.replaceChildren(el('section', {
    className: 'card message ended',
    attrs: { role: 'alert', 'aria-labelledby': 'ended-title' },
    data: { reason },
  }, [
    el('h1', { id: 'ended-title', text: t(`ended.title.${known}`) }),
    el('p', { id: 'ended-text', text: t(`ended.text.${known}`) }),
    el('div', { className: 'actions' }, [
      home,
      el('button', {
        id: 'rejoin',
        className: 'btn btn-secondary',
        text: t('ended.rejoin'),
        attrs: { type: 'button' },
        on: { click: onRejoin },
      }),
    ]),
  ]));
  focusHeading(root);
}
