// The meeting screen's DOM: top bar (room, copy link), notices, #tiles, "enable sound" button,
// toolbar. It holds no call logic: meeting.js drives it.

import { t } from '../i18n.js';
import { el } from './dom.js';
import { icon } from './icons.js';
import { createToolbar } from './toolbar.js';
import { announce } from './announcer.js';
import { createEndingBanner } from './roomending.js';

/**
 * @typedef {object} MeetingView
 * @property {HTMLElement} root
 * @property {HTMLElement} tiles               The #tiles container, for TileGrid.
 * @property {import('./toolbar.js').Toolbar} toolbar
 * @property {(alone: boolean) => void} setAlone
 * @property {(show: boolean) => void} showSoundButton
 * @property {(text: string | HTMLElement, key?: string) => void} notify
 *   Show a notice; a `key` keeps one notice of that kind at a time.
 * @property {import('./roomending.js').EndingBanner} ending  The "room closes soon" banner.
 * @property {HTMLElement} barActions  The top bar's buttons (#copy-link first); others add theirs.
 * @property {HTMLElement} side  Beside the stage: the side panels (chat, participants).
 * @property {() => void} dispose  Stop the view's timers.
 */

/**
 * @param {string} room
 * @param {import('./toolbar.js').ToolbarActions & { onEnableSound: () => void }} actions
 * @returns {MeetingView}
 */
export function createMeetingView(room, actions) {
  const url = `${location.origin}/${room}`;
  const notices = el('div', { className: 'meeting-notices' });

  /** @type {MeetingView['notify']} */
  const notify = (content, key) => {
    if (key) notices.querySelector(`[data-key="${key}"]`)?.remove();
    const node = typeof content === 'string'
      ? el('div', { className: 'notice notice-warning', attrs: { role: 'alert' } }, [
        icon('warning', 'icon notice-icon'),
        el('p', { className: 'notice-body', text: content }),
      ])
      : content;
    if (key) node.dataset.key = key;
    const close = el('button', {
      className: 'notice-close',
      text: '×',
      attrs: { type: 'button', 'aria-label': t('meeting.dismiss'), title: t('meeting.dismiss') },
      on: { click: () => node.remove() },
    });
    node.append(close);
    notices.append(node);
  };

  const copy = el('button', {
    id: 'copy-link',
    className: 'btn btn-ghost btn-small',
    attrs: { type: 'button', 'aria-label': t('meeting.copyLink.label'), title: t('meeting.copyLink.label') },
    on: {
      click: () => {
        const copied = navigator.clipboard?.writeText(url);
        if (!copied) {
          notify(t('meeting.copyFailed', { url }), 'copy');
          return;
        }
        copied.then(
          () => announce(t('meeting.linkCopied')),
          () => notify(t('meeting.copyFailed', { url }), 'copy'),
        );
      },
    },
  }, [icon('link'), el('span', { text: t('meeting.copyLink') })]);

  const tiles = el('div', {
    id: 'tiles',
    className: 'tiles',
    attrs: { role: 'region', 'aria-label': t('meeting.participants') },
  });
  const alone = el('p', { className: 'alone-hint', text: t('meeting.alone') });
  const sound = el('button', {
    id: 'enable-sound',
    className: 'btn btn-primary enable-sound',
    attrs: { type: 'button' },
    on: { click: actions.onEnableSound },
  }, [icon('sound'), el('span', { text: t('meeting.enableSound') })]);
  sound.hidden = true;

  const toolbar = createToolbar(actions);
  const ending = createEndingBanner();
  const barActions = el('div', { className: 'meeting-bar-actions' }, [copy]);
  const side = el('div', { className: 'side-panels' });
  const root = el('div', { className: 'meeting' }, [
    el('header', { className: 'meeting-bar' }, [
      el('h1', { className: 'meeting-title', text: t('meeting.heading', { room }) }),
      barActions,
    ]),
    ending.slot,
    notices,
    el('div', { className: 'meeting-body' }, [el('div', { className: 'stage' }, [tiles, alone, sound]), side]),
    toolbar.root,
  ]);

  return {
    root,
    tiles,
    toolbar,
    setAlone: (isAlone) => { alone.hidden = !isAlone; },
    showSoundButton: (show) => { sound.hidden = !show; },
    notify,
    ending,
    barActions,
    side,
    dispose: () => ending.dispose(),
  };
}
