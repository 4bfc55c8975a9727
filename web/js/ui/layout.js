// How the meeting's stage is laid out:
// - tile view (every tile the same size, tiles.js) or speaker view (#toggle-layout,
//   aria-pressed="true" in speaker view): one tile large on the stage, the others in a strip;
// - a shared screen goes to the stage on its own (several: the latest);
// - pinning (`[data-action="pin"]` on every tile, aria-pressed) puts that tile on the stage
//   whatever the view, until unpinned;
// - the active speaker's tile gets `data-speaking="true"` (speaker.js); in speaker view the
//   last person who spoke is on the stage;
// - #toggle-self-view hides or shows one's own tile; #fullscreen shows the meeting full screen.
//
// The tiles stay where tiles.js and screenshare.js put them (#tiles, #screens): the staged one
// only gets `data-stage="true"`, which the style sheet (css/media.css) lays out large.

import { t } from '../i18n.js';
import { el } from './dom.js';
import { icon } from './icons.js';

const PREFS_KEY = 'webconf.layout';

/**
 * What decides the stage. `pinned` is `p:<id>` (a participant) or `s:<id>` (their screen).
 * @typedef {object} StageInput
 * @property {'grid' | 'speaker'} mode
 * @property {string | null} pinned
 * @property {string[]} screens   Participants whose screen is shown, oldest first.
 * @property {string | null} speaker  The last remote active speaker.
 * @property {string[]} participants  Participant tiles shown (own first).
 * @property {string | null} self
 */

/**
 * The element to put on the stage (`p:<id>` or `s:<id>`), or null for the plain tile grid.
 * Pure, for the unit tests.
 * @param {StageInput} input
 * @returns {string | null}
 */
export function chooseStage({ mode, pinned, screens, speaker, participants, self }) {
  if (pinned) {
    const [kind, id] = [pinned.slice(0, 1), pinned.slice(2)];
    if ((kind === 'p' && participants.includes(id)) || (kind === 's' && screens.includes(id))) return pinned;
  }
  const latestScreen = screens[screens.length - 1];
  if (latestScreen) return `s:${latestScreen}`;
  if (mode !== 'speaker') return null;
  if (speaker && participants.includes(speaker) && speaker !== self) return `p:${speaker}`;
  const other = participants.find((id) => id !== self);
  if (other) return `p:${other}`;
  return self && participants.includes(self) ? `p:${self}` : null;
}

/**
 * @returns {{mode: 'grid' | 'speaker', selfHidden: boolean}}
 */
function loadPrefs() {
  try {
    const raw = JSON.parse(localStorage.getItem(PREFS_KEY) ?? '{}');
    return { mode: raw?.mode === 'speaker' ? 'speaker' : 'grid', selfHidden: raw?.selfHidden === true };
  } catch {
    return { mode: 'grid', selfHidden: false };
  }
}

/** @param {{mode: 'grid' | 'speaker', selfHidden: boolean}} prefs */
function savePrefs(prefs) {
  try {
    localStorage.setItem(PREFS_KEY, JSON.stringify(prefs));
  } catch {
    // Not remembered: harmless.
  }
}

/**
 * @typedef {object} Layout
 * @property {HTMLElement[]} buttons  #toggle-layout, #toggle-self-view, #fullscreen.
 * @property {(speaking: Set<string>, dominant: string | null) => void} setSpeakers
 * @property {() => void} update     Tiles or screens came or went.
 * @property {() => void} dispose
 */

/**
 * @param {object} opts
 * @param {HTMLElement} opts.stage    The `.stage` element.
 * @param {HTMLElement} opts.tiles    #tiles
 * @param {HTMLElement} opts.screens  #screens
 * @param {HTMLElement} opts.fullscreenTarget
 * @param {() => string | null} opts.selfId
 * @param {() => string[]} opts.screenIds
 * @param {(id: string) => string} opts.nameOf
 * @returns {Layout}
 */
export function createLayout(opts) {
  const { stage, tiles, screens } = opts;
  const prefs = loadPrefs();
  /** @type {string | null} */
  let pinned = null;
  /** @type {string | null} */
  let speaker = null;
  /** @type {Set<string>} */
  let speaking = new Set();

  const layoutButton = barButton('toggle-layout', 'layout', t('layout.speaker'));
  const selfButton = barButton('toggle-self-view', 'selfView', t('layout.hideSelf'));
  const fullButton = barButton('fullscreen', 'fullscreen', t('layout.fullscreen'));
  if (!document.fullscreenEnabled) fullButton.hidden = true;

  /** @returns {HTMLElement[]} Participant tiles, then screen tiles. */
  const allTiles = () => [
    ...tiles.querySelectorAll(':scope > .tile'),
    ...screens.querySelectorAll(':scope > .tile'),
  ].filter((x) => x instanceof HTMLElement);

  /** @param {HTMLElement} tile */
  const keyOf = (tile) => (tile.dataset.screen ? `s:${tile.dataset.screen}` : `p:${tile.dataset.participantId ?? ''}`);

  /** @param {HTMLElement} tile */
  const nameOfTile = (tile) => {
    if (tile.dataset.screen) return t('screen.of', { name: opts.nameOf(tile.dataset.screen) });
    const id = tile.dataset.participantId ?? '';
    return id === opts.selfId() ? t('tile.you', { name: opts.nameOf(id) }) : opts.nameOf(id);
  };

  /** Give every tile its pin button, and keep the buttons' names and states right. */
  const decorate = () => {
    for (const tile of allTiles()) {
      let pin = tile.querySelector(':scope > [data-action="pin"]');
      if (!(pin instanceof HTMLButtonElement)) {
        pin = el('button', {
          className: 'tile-pin',
          attrs: { type: 'button', 'aria-pressed': 'false' },
          data: { action: 'pin' },
        }, [icon('pin')]);
        const key = keyOf(tile);
        pin.addEventListener('click', () => {
          pinned = pinned === key ? null : key;
          update();
        });
        tile.append(pin);
      }
      const isPinned = pinned === keyOf(tile);
      const label = t(isPinned ? 'layout.unpin' : 'layout.pin', { name: nameOfTile(tile) });
      if (pin.getAttribute('aria-label') !== label) {
        pin.setAttribute('aria-label', label);
        pin.setAttribute('title', label);
      }
      if (pin.getAttribute('aria-pressed') !== String(isPinned)) pin.setAttribute('aria-pressed', String(isPinned));
    }
  };

  const update = () => {
    decorate();
    const participantTiles = [...tiles.querySelectorAll(':scope > .tile[data-participant-id]')];
    const participants = participantTiles.map((x) => x.getAttribute('data-participant-id') ?? '');
    const screenIds = opts.screenIds();
    if (pinned && !chooseStage({ mode: 'grid', pinned, screens: screenIds, speaker: null, participants, self: null })) {
      pinned = null;
      decorate();
    }
    const chosen = chooseStage({
      mode: prefs.mode, pinned, screens: screenIds, speaker, participants, self: opts.selfId(),
    });
    for (const tile of allTiles()) {
      const on = chosen !== null && keyOf(tile) === chosen;
      if (on && tile.dataset.stage !== 'true') tile.dataset.stage = 'true';
      else if (!on && tile.dataset.stage) delete tile.dataset.stage;
      if (tile.dataset.participantId) {
        const value = String(speaking.has(tile.dataset.participantId));
        if (tile.dataset.speaking !== value) tile.dataset.speaking = value;
      }
    }
    stage.dataset.layout = chosen ? 'stage' : 'grid';
    tiles.dataset.selfView = prefs.selfHidden ? 'hidden' : 'shown';

    layoutButton.setAttribute('aria-pressed', String(prefs.mode === 'speaker'));
    selfButton.setAttribute('aria-pressed', String(prefs.selfHidden));
    fullButton.setAttribute('aria-pressed', String(document.fullscreenElement !== null));
  };

  layoutButton.addEventListener('click', () => {
    prefs.mode = prefs.mode === 'speaker' ? 'grid' : 'speaker';
    savePrefs(prefs);
    update();
  });
  selfButton.addEventListener('click', () => {
    prefs.selfHidden = !prefs.selfHidden;
    savePrefs(prefs);
    update();
  });
  fullButton.addEventListener('click', () => {
    const done = document.fullscreenElement
      ? document.exitFullscreen()
      : opts.fullscreenTarget.requestFullscreen();
    done.catch((err) => console.warn('webconf: full screen refused', err)).finally(update);
  });
  const onFullscreen = () => update();
  document.addEventListener('fullscreenchange', onFullscreen);

  // Tiles come and go, and their names change: keep pin buttons and the stage right.
  const observer = new MutationObserver(() => update());
  observer.observe(tiles, { childList: true, subtree: true, characterData: true });
  observer.observe(screens, { childList: true });
  update();

  return {
    buttons: [layoutButton, selfButton, fullButton],
    setSpeakers: (now, dominant) => {
      speaking = now;
      if (dominant && dominant !== opts.selfId()) speaker = dominant;
      update();
    },
    update,
    dispose: () => {
      observer.disconnect();
      document.removeEventListener('fullscreenchange', onFullscreen);
      if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    },
  };
}

/**
 * A toggle for the top bar: the name says what it does; aria-pressed says whether it is on.
 * An icon with a tooltip (the top bar is narrow) and the same text as its accessible name.
 * @param {string} id
 * @param {'layout' | 'selfView' | 'fullscreen'} iconName
 * @param {string} label
 * @returns {HTMLButtonElement}
 */
function barButton(id, iconName, label) {
  return el('button', {
    id,
    className: 'btn btn-ghost btn-small layout-toggle',
    attrs: { type: 'button', 'aria-pressed': 'false', 'aria-label': label, title: label },
  }, [icon(iconName)]);
}
