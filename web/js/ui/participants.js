// The participants panel (#participants-panel, opened by #toggle-participants): everyone in
// the meeting (`li[data-participant-id]`) with name, role, microphone and camera, and raised
// hand with its rank. A moderator also gets, for each other participant, a menu of actions
// (`[data-action="mute" | "camera_off" | "promote" | "remove"]`) and, for the whole room,
// #mute-all, #lower-hands, the password controls and #end-meeting.

import { t, tn } from '../i18n.js';
import { initials } from '../displayname.js';
import { el } from './dom.js';
import { icon } from './icons.js';
import { endMeetingForAll, moderate } from './moderation.js';

/** @typedef {import('./panel.js').PanelGroup} PanelGroup */
/** @typedef {import('./roomstate.js').RoomState} RoomState */
/** @typedef {import('../signaling.js').Signaling} Signaling */
/** @typedef {import('../protocol.js').ParticipantInfo} ParticipantInfo */

/** @typedef {'mute' | 'camera_off' | 'promote' | 'remove'} Action */

/**
 * One row of the list, built once and updated in place (an open menu, and the focus in it,
 * survive updates).
 * @typedef {object} Row
 * @property {HTMLLIElement} li
 * @property {HTMLElement} name
 * @property {HTMLElement} badge
 * @property {HTMLElement} hand
 * @property {HTMLElement} mic
 * @property {HTMLElement} camera
 * @property {HTMLElement} initials
 * @property {HTMLButtonElement | null} more
 * @property {HTMLElement | null} menu
 * @property {Map<Action, HTMLButtonElement>} actions
 * @property {boolean} moderated  Built with the moderator's menu.
 */

/**
 * @typedef {object} Participants
 * @property {import('./panel.js').SidePanel} panel
 * @property {() => void} dispose
 */

let menuCounter = 0;

/**
 * @param {PanelGroup} panels
 * @param {RoomState} state
 * @param {Signaling} sig
 * @param {HTMLElement} passwordControls  The moderator's password buttons (password.js).
 * @returns {Participants}
 */
export function createParticipants(panels, state, sig, passwordControls) {
  const panel = panels.create({
    id: 'participants-panel',
    buttonId: 'toggle-participants',
    title: t('participants.title'),
    icon: 'people',
    short: t('participants.short'),
    label: t('participants.open'),
  });
  const count = el('p', { className: 'participants-count hint' });
  const list = el('ul', { id: 'participants-list', className: 'participants-list', attrs: { 'aria-label': t('participants.title') } });

  const muteAll = el('button', {
    id: 'mute-all',
    className: 'btn btn-secondary btn-small',
    attrs: { type: 'button' },
    on: {
      click: () => {
        sig.send({ type: 'mute_all' });
      },
    },
  }, [icon('micOff'), el('span', { text: t('participants.muteAll') })]);
  const lowerHands = el('button', {
    id: 'lower-hands',
    className: 'btn btn-secondary btn-small',
    attrs: { type: 'button' },
    on: {
      click: () => {
        sig.send({ type: 'lower_hands' });
      },
    },
  }, [icon('hand'), el('span', { text: t('participants.lowerHands') })]);
  const endMeeting = el('button', {
    id: 'end-meeting',
    className: 'btn btn-danger btn-small',
    text: t('participants.endMeeting'),
    attrs: { type: 'button' },
    on: { click: () => endMeetingForAll(sig, endMeeting) },
  });
  const moderation = el('section', {
    className: 'participants-moderation',
    attrs: { 'aria-labelledby': 'participants-moderation-title' },
  }, [
    el('h3', { id: 'participants-moderation-title', className: 'side-panel-subtitle', text: t('participants.forAll') }),
    el('div', { className: 'moderation-buttons' }, [muteAll, lowerHands, passwordControls, endMeeting]),
  ]);
  panel.body.append(count, list, moderation);

  /** @type {Map<string, Row>} */
  const rows = new Map();

  /**
   * @param {ParticipantInfo} p
   * @param {boolean} withMenu
   * @returns {Row}
   */
  const buildRow = (p, withMenu) => {
    const name = el('span', { className: 'participant-name' });
    const badge = el('span', { className: 'role-badge', text: t('role.moderator') });
    const hand = el('span', { className: 'participant-hand', attrs: { role: 'img' } }, [
      icon('hand'), el('span', { className: 'participant-hand-rank' }),
    ]);
    const mic = el('span', { className: 'participant-device', attrs: { role: 'img' } });
    const camera = el('span', { className: 'participant-device', attrs: { role: 'img' } });
    const initialsEl = el('span', { className: 'participant-avatar', attrs: { 'aria-hidden': 'true' } });
    const li = el('li', { className: 'participant', data: { participantId: p.id } }, [
      initialsEl,
      el('span', { className: 'participant-who' }, [name, badge]),
      el('span', { className: 'participant-states' }, [hand, mic, camera]),
    ]);
    /** @type {Map<Action, HTMLButtonElement>} */
    const actions = new Map();
    /** @type {HTMLButtonElement | null} */
    let more = null;
    /** @type {HTMLElement | null} */
    let menu = null;
    if (withMenu) {
      const menuId = `participant-menu-${++menuCounter}`;
      menu = el('div', { id: menuId, className: 'participant-menu', attrs: { role: 'group' } });
      /** @type {[Action, import('../i18n.js').MessageKey, import('./icons.js').IconName][]} */
      const defs = [
        ['mute', 'participants.action.mute', 'micOff'],
        ['camera_off', 'participants.action.camera_off', 'cameraOff'],
        ['promote', 'participants.action.promote', 'people'],
        ['remove', 'participants.action.remove', 'hangup'],
      ];
      for (const [action, key, iconName] of defs) {
        const b = el('button', {
          className: `participant-action${action === 'remove' ? ' participant-action-danger' : ''}`,
          data: { action },
          attrs: { type: 'button' },
        }, [icon(iconName), el('span', { text: t(key) })]);
        b.addEventListener('click', () => {
          const target = state.get(p.id);
          if (!target) return;
          setMenu(row, false);
          void moderate(sig, action, target, more);
        });
        actions.set(action, b);
        menu.append(b);
      }
      menu.hidden = true;
      const moreButton = el('button', {
        className: 'participant-more',
        attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': menuId },
      }, [icon('more')]);
      more = moreButton;
      moreButton.addEventListener('click', () => setMenu(row, !!row.menu?.hidden));
      menu.addEventListener('keydown', (ev) => {
        if (ev.key === 'Escape') {
          ev.preventDefault();
          ev.stopPropagation();
          setMenu(row, false);
          moreButton.focus();
        }
      });
      li.append(moreButton, menu);
    }
    /** @type {Row} */
    const row = {
      li, name, badge, hand, mic, camera, initials: initialsEl, more, menu, actions, moderated: withMenu,
    };
    return row;
  };

  /**
   * @param {Row} row
   * @param {boolean} open
   */
  const setMenu = (row, open) => {
    if (!row.menu || !row.more) return;
    if (open) for (const other of rows.values()) if (other !== row) setMenu(other, false);
    row.menu.hidden = !open;
    row.more.setAttribute('aria-expanded', String(open));
    const first = open ? row.menu.querySelector('button:not([disabled]):not([hidden])') : null;
    if (first instanceof HTMLElement) first.focus();
  };

  /**
   * @param {Row} row
   * @param {ParticipantInfo} p
   */
  const fillRow = (row, p) => {
    const me = p.id === state.me.id;
    row.name.textContent = me ? t('tile.you', { name: p.name }) : p.name;
    row.initials.textContent = initials(p.name);
    row.li.dataset.role = p.role;
    row.li.dataset.audio = p.audio ? 'on' : 'off';
    row.li.dataset.video = p.video ? 'on' : 'off';
    row.badge.hidden = p.role !== 'moderator';
    const rank = state.rank(p.id);
    row.hand.hidden = rank === 0;
    if (rank > 0) {
      row.li.dataset.hand = String(rank);
      row.hand.setAttribute('aria-label', t('hands.rank', { rank }));
      const r = row.hand.querySelector('.participant-hand-rank');
      if (r) r.textContent = String(rank);
    } else {
      delete row.li.dataset.hand;
    }
    row.mic.replaceChildren(icon(p.audio ? 'mic' : 'micOff'));
    row.mic.setAttribute('aria-label', t(p.audio ? 'participants.micOn' : 'participants.micOff'));
    row.mic.dataset.on = String(p.audio);
    row.camera.replaceChildren(icon(p.video ? 'camera' : 'cameraOff'));
    row.camera.setAttribute('aria-label', t(p.video ? 'participants.cameraOn' : 'participants.cameraOff'));
    row.camera.dataset.on = String(p.video);
    if (row.more) {
      const label = t('participants.actionsFor', { name: p.name });
      row.more.setAttribute('aria-label', label);
      row.more.title = label;
      row.menu?.setAttribute('aria-label', label);
    }
    const mute = row.actions.get('mute');
    if (mute) mute.disabled = !p.audio;
    const camera = row.actions.get('camera_off');
    if (camera) camera.disabled = !p.video;
    const promote = row.actions.get('promote');
    if (promote) promote.hidden = p.role === 'moderator';
  };

  const render = () => {
    const moderator = state.isModerator;
    const everyone = state.everyone();
    const ids = new Set(everyone.map((p) => p.id));
    for (const [id, row] of rows) {
      if (!ids.has(id)) {
        row.li.remove();
        rows.delete(id);
      }
    }
    everyone.forEach((p, index) => {
      const withMenu = moderator && p.id !== state.me.id;
      let row = rows.get(p.id);
      if (row && row.moderated !== withMenu) {
        row.li.remove();
        row = undefined;
      }
      if (!row) {
        row = buildRow(p, withMenu);
        rows.set(p.id, row);
      }
      fillRow(row, p);
      // This participant first, then by arrival. Only move what is out of place: moving a
      // node would take the focus away from a button in it.
      const at = list.children[index];
      if (at !== row.li) list.insertBefore(row.li, at ?? null);
    });
    count.textContent = tn('participants.count', everyone.length);
    moderation.hidden = !moderator;
    lowerHands.disabled = state.hands.length === 0;
    muteAll.disabled = state.others.size === 0;
  };
  render();
  const off = state.subscribe(render);

  return { panel, dispose: off };
}
