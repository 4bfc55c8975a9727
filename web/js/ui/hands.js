// Raised hands: the toolbar's #raise-hand (aria-pressed while this participant's hand is up),
// and on every tile of a raised hand `data-hand="<rank>"` with a visible hand and rank. The
// order is the server's `hands` queue; the button only asks, the queue decides.

import { t } from '../i18n.js';
import { el } from './dom.js';
import { icon } from './icons.js';
import { announce } from './announcer.js';

/** @typedef {import('./roomstate.js').RoomState} RoomState */
/** @typedef {import('../signaling.js').Signaling} Signaling */

/**
 * @typedef {object} Hands
 * @property {HTMLButtonElement} button  #raise-hand
 * @property {() => void} toggle         Raise or lower this participant's hand.
 * @property {() => void} dispose
 */

/**
 * @param {RoomState} state
 * @param {Signaling} sig
 * @param {HTMLElement} tiles  The #tiles container.
 * @returns {Hands}
 */
export function createHands(state, sig, tiles) {
  const text = el('span', { className: 'tool-text', text: t('hands.short') });
  const button = el('button', {
    id: 'raise-hand',
    className: 'tool tool-hand',
    attrs: { type: 'button', 'aria-pressed': 'false', 'aria-label': t('hands.raise'), title: t('hands.raise') },
  }, [icon('hand'), text]);

  const raised = () => state.hands.includes(state.me.id);
  const toggle = () => {
    sig.send({ type: 'raise_hand', raised: !raised() });
  };
  button.addEventListener('click', toggle);

  /** Put the hand and its rank on every tile, from the queue; idempotent. */
  const decorate = () => {
    for (const tile of tiles.querySelectorAll('.tile[data-participant-id]')) {
      if (!(tile instanceof HTMLElement)) continue;
      const rank = state.rank(tile.dataset.participantId ?? '');
      let badge = tile.querySelector(':scope > .tile-hand');
      if (rank === 0) {
        if (tile.dataset.hand !== undefined) delete tile.dataset.hand;
        if (badge) badge.remove();
        continue;
      }
      if (tile.dataset.hand !== String(rank)) tile.dataset.hand = String(rank);
      const label = t('hands.rank', { rank });
      if (!badge) {
        badge = el('span', { className: 'tile-hand', attrs: { role: 'img' } }, [
          icon('hand'), el('span', { className: 'tile-hand-rank' }),
        ]);
        tile.append(badge);
      }
      if (badge.getAttribute('aria-label') !== label) badge.setAttribute('aria-label', label);
      const rankEl = badge.querySelector('.tile-hand-rank');
      if (rankEl && rankEl.textContent !== String(rank)) rankEl.textContent = String(rank);
    }
  };
  // Tiles come and go (and may be rebuilt by the layout): decorate whatever is there.
  const observer = new MutationObserver(decorate);
  observer.observe(tiles, { childList: true, subtree: true });

  let previous = [...state.hands];
  const offState = state.subscribe((change) => {
    if (change !== 'hands') return;
    const mine = raised();
    // A toggle button keeps its name; aria-pressed says whether the hand is up.
    button.setAttribute('aria-pressed', String(mine));
    decorate();
    // Say what changed: who raised a hand, and when this participant's hand went down
    // without it asking (a moderator lowered the hands).
    const now = state.hands;
    for (const id of now) {
      if (previous.includes(id)) continue;
      if (id === state.me.id) announce(t('hands.youRaised', { rank: state.rank(id) }));
      else announce(t('hands.raised', { name: state.get(id)?.name ?? t('chat.someone'), rank: state.rank(id) }));
    }
    if (previous.length > 0 && now.length === 0) announce(t('hands.allLowered'));
    previous = [...now];
  });

  return {
    button,
    toggle,
    dispose: () => {
      observer.disconnect();
      offState();
    },
  };
}
