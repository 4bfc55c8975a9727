// Emoji reactions: #reactions opens the six the server accepts (`[data-emoji]`); a reaction
// received floats for a moment over its sender's tile and is announced to screen readers.

import { t } from '../i18n.js';
import { REACTIONS } from '../protocol.js';
import { el } from './dom.js';
import { icon } from './icons.js';
import { announce } from './announcer.js';

/** @typedef {import('./roomstate.js').RoomState} RoomState */
/** @typedef {import('../signaling.js').Signaling} Signaling */

/** How long a reaction stays over a tile (the CSS animation lasts as long). */
const FLOAT_MS = 3000;

/** @type {Record<string, import('../i18n.js').MessageKey>} */
const NAMES = {
  '👍': 'reactions.thumbsUp',
  '👏': 'reactions.clap',
  '😂': 'reactions.laugh',
  '😮': 'reactions.surprised',
  '❤️': 'reactions.heart',
  '🎉': 'reactions.party',
};

/**
 * The words for an emoji (screen readers, tooltips).
 * @param {string} emoji
 * @returns {string}
 */
export function reactionName(emoji) {
  const key = NAMES[emoji];
  return key ? t(key) : emoji;
}

/**
 * @typedef {object} Reactions
 * @property {HTMLElement} root   The button and its menu, for the toolbar.
 * @property {() => void} dispose
 */

/**
 * @param {RoomState} state
 * @param {Signaling} sig
 * @param {HTMLElement} tiles  The #tiles container.
 * @returns {Reactions}
 */
export function createReactions(state, sig, tiles) {
  const button = el('button', {
    id: 'reactions',
    className: 'tool',
    attrs: {
      type: 'button', 'aria-expanded': 'false', 'aria-controls': 'reactions-menu',
      'aria-label': t('reactions.open'), title: t('reactions.open'),
    },
  }, [icon('smile'), el('span', { className: 'tool-text', text: t('reactions.short') })]);
  const choices = REACTIONS.map((emoji) => el('button', {
    className: 'reaction-choice',
    text: emoji,
    data: { emoji },
    attrs: { type: 'button', 'aria-label': reactionName(emoji), title: reactionName(emoji) },
  }));
  const menu = el('div', {
    id: 'reactions-menu',
    className: 'reactions-menu',
    attrs: { role: 'group', 'aria-label': t('reactions.menu') },
  }, choices);
  const root = el('div', { className: 'tool-wrap' }, [button, menu]);

  /** @param {boolean} open */
  const setOpen = (open) => {
    menu.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    // Out of the toolbar's arrow-key order while hidden (it skips disabled buttons).
    for (const c of choices) c.disabled = !open;
  };
  setOpen(false);

  button.addEventListener('click', () => {
    const open = menu.hidden;
    setOpen(open);
    if (open) choices[0]?.focus();
  });
  menu.addEventListener('click', (ev) => {
    const choice = ev.target instanceof Element ? ev.target.closest('[data-emoji]') : null;
    if (!(choice instanceof HTMLElement) || !choice.dataset.emoji) return;
    sig.send({ type: 'reaction', emoji: choice.dataset.emoji });
    setOpen(false);
    button.focus();
  });
  menu.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      setOpen(false);
      button.focus();
    }
  });
  /** @param {Event} ev */
  const outside = (ev) => {
    if (!menu.hidden && ev.target instanceof Node && !root.contains(ev.target)) setOpen(false);
  };
  document.addEventListener('pointerdown', outside);

  /** @type {Set<ReturnType<typeof setTimeout>>} */
  const timers = new Set();
  const off = sig.on('reaction', (msg) => {
    const name = msg.from === state.me.id ? t('chat.you') : state.get(msg.from)?.name;
    if (name === undefined) return;
    announce(t('reactions.announce', { name, reaction: reactionName(msg.emoji) }));
    const tile = [...tiles.querySelectorAll('.tile[data-participant-id]')]
      .find((x) => x instanceof HTMLElement && x.dataset.participantId === msg.from);
    if (!tile) return;
    const float = el('span', {
      className: 'reaction-float',
      text: msg.emoji,
      data: { emoji: msg.emoji },
      attrs: { 'aria-hidden': 'true' },
    });
    // Several at once stand side by side rather than on top of each other.
    float.dataset.slot = String(tile.querySelectorAll('.reaction-float').length % 4);
    tile.append(float);
    const timer = setTimeout(() => {
      timers.delete(timer);
      float.remove();
    }, FLOAT_MS);
    timers.add(timer);
  });

  return {
    root,
    dispose: () => {
      off();
      document.removeEventListener('pointerdown', outside);
      for (const timer of timers) clearTimeout(timer);
    },
  };
}
