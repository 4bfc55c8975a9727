// Tells the server what this browser shows (docs/protocol.md, `view`): every remote tile of
// #tiles (cameras) and #screens (shared screens) with its height on screen and whether it is
// pinned, so that each video comes in the simulcast layer that fits and last-N keeps the pinned
// ones. Watched: tile sizes (ResizeObserver: tile view, speaker view, full screen, phone),
// tiles coming and going, pinning and the stage (attributes), and the page being hidden (every
// height 0: no video for a background tab). Debounced ~300 ms, sent only on change
// (../viewreport.js).

import { ViewReporter, buildView } from '../viewreport.js';
import { setViewHook } from '../hooks.js';

/**
 * @typedef {object} ViewSender
 * @property {() => void} update   Measure again (the layout changed in a way not observed).
 * @property {() => void} dispose
 */

/**
 * @param {object} opts
 * @param {HTMLElement} opts.tiles    #tiles
 * @param {HTMLElement} opts.screens  #screens
 * @param {(msg: import('../protocol.js').ViewMessage) => boolean} opts.send
 * @param {number} [opts.delayMs]
 * @returns {ViewSender}
 */
export function createViewSender({ tiles, screens, send, delayMs = 300 }) {
  const reporter = new ViewReporter({
    delayMs,
    send: (msg) => {
      const ok = send(msg);
      if (ok) setViewHook(msg);
      return ok;
    },
  });

  /** @returns {HTMLElement[]} */
  const remoteTiles = () => [
    ...tiles.querySelectorAll(':scope > .tile[data-participant-id]:not([data-local="true"])'),
    ...screens.querySelectorAll(':scope > .tile[data-screen]'),
  ].filter((x) => x instanceof HTMLElement);

  const measure = () => {
    const shown = remoteTiles().map((tile) => {
      const screen = Boolean(tile.dataset.screen);
      const video = tile.querySelector('video');
      const box = (video ?? tile).getBoundingClientRect();
      const pin = tile.querySelector(':scope > [data-action="pin"]');
      return {
        participant: screen ? (tile.dataset.screen ?? '') : (tile.dataset.participantId ?? ''),
        screen,
        height: box.height,
        pinned: pin?.getAttribute('aria-pressed') === 'true',
      };
    });
    reporter.update(buildView(shown, {
      dpr: window.devicePixelRatio,
      hidden: document.visibilityState === 'hidden',
    }));
  };

  /** @type {Set<Element>} */
  const observed = new Set();
  const resizer = new ResizeObserver(() => measure());
  const observeTiles = () => {
    /** @type {Set<Element>} */
    const now = new Set(remoteTiles());
    for (const tile of observed) {
      if (!now.has(tile)) {
        resizer.unobserve(tile);
        observed.delete(tile);
      }
    }
    for (const tile of now) {
      if (!observed.has(tile)) {
        resizer.observe(tile);
        observed.add(tile);
      }
    }
  };
  const mutations = new MutationObserver(() => {
    observeTiles();
    measure();
  });
  for (const box of [tiles, screens]) {
    mutations.observe(box, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ['aria-pressed', 'data-stage', 'hidden', 'data-video'],
    });
  }
  const onVisibility = () => {
    measure();
    // Hidden: stop the videos now rather than after the debounce.
    if (document.visibilityState === 'hidden') reporter.flush();
  };
  document.addEventListener('visibilitychange', onVisibility);
  observeTiles();
  measure();

  return {
    update: measure,
    dispose: () => {
      reporter.dispose();
      resizer.disconnect();
      mutations.disconnect();
      document.removeEventListener('visibilitychange', onVisibility);
    },
  };
}
