// Moderation, both ways: what a moderator sends (with a confirmation for what cannot be
// undone), and what a participant receives: `muted` (its microphone or camera goes off, it is
// told by whom and may turn it back on) and `removed` (an end screen).
//
// The server enforces every right (a guest's moderator message is refused with `forbidden`):
// the client only hides controls that would be refused.

import { t } from '../i18n.js';
import { setState } from '../hooks.js';
import { el, focusHeading } from './dom.js';
import { homeLink } from './screens.js';
import { announce } from './announcer.js';
import { confirmAction } from './dialog.js';

/** @typedef {import('../signaling.js').Signaling} Signaling */
/** @typedef {import('../protocol.js').ParticipantInfo} ParticipantInfo */
/** @typedef {import('../protocol.js').MutedMessage} MutedMessage */

/**
 * A moderator's action on one participant. `remove` asks for confirmation first.
 * @param {Signaling} sig
 * @param {'mute' | 'camera_off' | 'remove' | 'promote'} action
 * @param {ParticipantInfo} target
 * @param {Element | null} opener   Gets the focus back after the confirmation.
 */
export async function moderate(sig, action, target, opener) {
  if (action === 'remove') {
    const ok = await confirmAction({
      title: t('moderation.remove.title', { name: target.name }),
      text: t('moderation.remove.text', { name: target.name }),
      confirm: t('moderation.remove.confirm'),
      opener,
    });
    if (!ok) return;
  }
  if (sig.send({ type: action, target: target.id })) {
    const key = /** @type {const} */ ({
      mute: 'moderation.done.mute',
      camera_off: 'moderation.done.camera_off',
      remove: 'moderation.done.remove',
      promote: 'moderation.done.promote',
    })[action];
    announce(t(key, { name: target.name }));
  }
}

/**
 * End the meeting for everyone, after confirmation.
 * @param {Signaling} sig
 * @param {Element | null} opener
 */
export async function endMeetingForAll(sig, opener) {
  const ok = await confirmAction({
    title: t('moderation.end.title'),
    text: t('moderation.end.text'),
    confirm: t('moderation.end.confirm'),
    opener,
  });
  if (ok) sig.send({ type: 'end_meeting' });
}

/**
 * A moderator turned this participant's microphone or camera off. The server already stopped
 * forwarding it; `turnOff` turns the device off here (track disabled, toolbar, `media_state`).
 * @param {MutedMessage} msg
 * @param {(kind: 'audio' | 'video') => void} turnOff
 * @param {(text: string, key: string) => void} notify
 */
export function onMuted(msg, turnOff, notify) {
  turnOff(msg.kind);
  const text = msg.kind === 'audio'
    ? t('moderation.mutedAudio', { name: msg.by })
    : t('moderation.mutedVideo', { name: msg.by });
  notify(text, msg.kind === 'audio' ? 'muted-audio' : 'muted-video');
}

/**
 * A moderator removed this participant (`removed`): the end screen says by whom.
 * `body[data-state="ended"]`, `body[data-end-reason="removed"]`.
 * @param {HTMLElement} root
 * @param {string} by   The moderator's display name (text).
 */
export function renderRemoved(root, by) {
  setState('ended', 'removed');
  document.title = t('ended.pageTitle');
  const home = homeLink('btn btn-primary');
  home.id = 'ended-home';
  root.replaceChildren(el('section', {
    className: 'card message ended',
    attrs: { role: 'alert', 'aria-labelledby': 'ended-title' },
    data: { reason: 'removed' },
  }, [
    el('h1', { id: 'ended-title', text: t('removed.title') }),
    el('p', { id: 'ended-text', text: t('removed.text', { name: by }) }),
    el('div', { className: 'actions' }, [home]),
  ]));
  focusHeading(root);
}
