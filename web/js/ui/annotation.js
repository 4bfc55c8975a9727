// Annotations over a shared screen: every screen tile (`#screens .tile[data-screen="<id>"]`,
// screenshare.js) gets a transparent canvas over its picture showing the objects of the layer
// `{"on":"screen","owner":<id>}`, for everyone, live; and a button `#annotate-<id>`
// (aria-pressed) that lets this participant draw on it with a pen. While annotating, a
// participant can clear their own marks (`#annotate-clear-mine-<id>`, `board_clear` with
// `mine`) and a moderator all of them (`#annotate-clear-all-<id>`).
//
// The layer's square is mapped onto the picture as the browser shows it (`object-fit: contain`:
// the video's frame, letterboxed in its tile), so a mark stays on what it points at whatever
// the size of the tile or of the sharer's screen.

import { t } from '../i18n.js';
import { newObjectId, toBoard, thinPoints } from '../whiteboard.js';
import { drawObject, drawObjects, nextFrame, prepareCanvas } from './boardcanvas.js';
import { el } from './dom.js';

/** @typedef {import('../protocol.js').BoardLayer} BoardLayer */
/** @typedef {import('../protocol.js').BoardPoint} BoardPoint */
/** @typedef {import('./boardclient.js').BoardClient} BoardClient */

/** The annotation pen: red, medium. */
const PEN_COLOR = '#e1000f';
const PEN_WIDTH = 8;

/**
 * @typedef {object} Overlay
 * @property {string} owner
 * @property {HTMLElement} tile
 * @property {HTMLVideoElement | null} video
 * @property {HTMLCanvasElement} canvas
 * @property {HTMLButtonElement} toggle
 * @property {HTMLElement} tools
 * @property {HTMLButtonElement} clearAll
 * @property {boolean} active
 * @property {{points: BoardPoint[], pointer: number} | null} stroke
 * @property {() => void} render
 */

/**
 * @param {object} opts
 * @param {BoardClient} opts.client
 * @param {HTMLElement} opts.screens   #screens
 * @param {() => import('../protocol.js').Role} opts.role
 * @param {(id: string) => string} opts.nameOf
 * @returns {{setRole: (role: import('../protocol.js').Role) => void, dispose: () => void}}
 */
export function createAnnotations({ client, screens, role, nameOf }) {
  /** @type {Map<string, Overlay>} */
  const overlays = new Map();
  const resizer = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const owner = entry.target instanceof HTMLElement ? entry.target.dataset.screen : undefined;
      if (owner) overlays.get(owner)?.render();
    }
  });

  /** @param {string} owner @returns {BoardLayer} */
  const layerOf = (owner) => ({ on: 'screen', owner });

  /**
   * Where the picture is inside the canvas (which covers the whole tile), in CSS pixels.
   * @param {Overlay} o
   */
  const pictureRect = (o) => {
    const w = o.canvas.clientWidth;
    const h = o.canvas.clientHeight;
    const vw = o.video?.videoWidth ?? 0;
    const vh = o.video?.videoHeight ?? 0;
    if (!vw || !vh || !w || !h) return { x: 0, y: 0, width: w, height: h };
    const scale = Math.min(w / vw, h / vh);
    const width = vw * scale;
    const height = vh * scale;
    return { x: (w - width) / 2, y: (h - height) / 2, width, height };
  };

  /** @param {HTMLElement} tile */
  const decorate = (tile) => {
    const owner = tile.dataset.screen;
    if (!owner || overlays.has(owner)) return;
    const video = tile.querySelector('video');
    const canvas = el('canvas', {
      className: 'annotation-canvas',
      attrs: { role: 'img', 'aria-label': t('annotate.canvas', { name: nameOf(owner) }) },
    });
    const toggle = el('button', {
      id: `annotate-${owner}`,
      className: 'annotate-toggle',
      attrs: { type: 'button', 'aria-pressed': 'false' },
    }, [el('span', { text: t('annotate.short') })]);
    const clearMine = el('button', {
      id: `annotate-clear-mine-${owner}`,
      className: 'annotate-action',
      text: t('annotate.clearMine'),
      attrs: { type: 'button' },
      on: { click: () => client.clear(layerOf(owner), true) },
    });
    const clearAll = el('button', {
      id: `annotate-clear-all-${owner}`,
      className: 'annotate-action',
      text: t('annotate.clearAll'),
      attrs: { type: 'button' },
      on: { click: () => client.clear(layerOf(owner), false) },
    });
    const tools = el('div', { className: 'annotation-tools' }, [clearMine, clearAll]);
    tools.hidden = true;
    /** @type {Overlay} */
    const o = {
      owner, tile, video: video instanceof HTMLVideoElement ? video : null, canvas, toggle, tools, clearAll,
      active: false, stroke: null, render: () => {},
    };
    let frame = false;
    const paint = () => {
      const { ctx } = prepareCanvas(canvas);
      if (!ctx) return;
      const rect = pictureRect(o);
      ctx.clearRect(0, 0, canvas.clientWidth, canvas.clientHeight);
      ctx.save();
      ctx.beginPath();
      ctx.rect(rect.x, rect.y, rect.width, rect.height);
      ctx.clip();
      ctx.translate(rect.x, rect.y);
      const v = { width: rect.width, height: rect.height };
      drawObjects(ctx, client.visible(layerOf(owner)), v);
      if (o.stroke) {
        drawObject(ctx, { id: 'preview', layer: layerOf(owner), color: PEN_COLOR, width: PEN_WIDTH, shape: { kind: 'path', points: o.stroke.points } }, v);
      }
      ctx.restore();
    };
    o.render = () => {
      if (frame) return;
      frame = true;
      nextFrame(() => {
        frame = false;
        if (o.tile.isConnected) paint();
      });
    };
    const setActive = (/** @type {boolean} */ on) => {
      o.active = on;
      canvas.dataset.active = String(on);
      tools.hidden = !on;
      clearAll.hidden = role() !== 'moderator';
      const label = t(on ? 'annotate.stop' : 'annotate.start', { name: nameOf(owner) });
      toggle.setAttribute('aria-pressed', String(on));
      toggle.setAttribute('aria-label', label);
      toggle.title = label;
    };
    toggle.addEventListener('click', () => setActive(!o.active));

    /** @param {PointerEvent} ev @returns {BoardPoint} */
    const point = (ev) => {
      const r = canvas.getBoundingClientRect();
      const rect = pictureRect(o);
      return toBoard(ev.clientX - r.left - rect.x, ev.clientY - r.top - rect.y, rect);
    };
    canvas.addEventListener('pointerdown', (ev) => {
      if (!o.active || ev.button !== 0 || o.stroke) return;
      canvas.setPointerCapture?.(ev.pointerId);
      o.stroke = { points: [point(ev)], pointer: ev.pointerId };
      ev.preventDefault();
      o.render();
    });
    canvas.addEventListener('pointermove', (ev) => {
      if (!o.stroke || ev.pointerId !== o.stroke.pointer) return;
      const events = typeof ev.getCoalescedEvents === 'function' ? ev.getCoalescedEvents() : [];
      for (const e of events.length ? events : [ev]) o.stroke.points.push(point(e));
      o.render();
    });
    /** @param {PointerEvent} ev */
    const finish = (ev) => {
      if (!o.stroke || ev.pointerId !== o.stroke.pointer) return;
      const stroke = o.stroke;
      o.stroke = null;
      if (ev.type === 'pointerup') {
        stroke.points.push(point(ev));
        const object = {
          id: newObjectId(), layer: layerOf(owner), color: PEN_COLOR, width: PEN_WIDTH,
          shape: /** @type {const} */ ({ kind: 'path', points: thinPoints(stroke.points) }),
        };
        client.send({ op: 'add', object }, 'none');
      }
      o.render();
    };
    canvas.addEventListener('pointerup', finish);
    canvas.addEventListener('pointercancel', finish);
    o.video?.addEventListener('resize', o.render);

    setActive(false);
    tile.append(canvas, toggle, tools);
    overlays.set(owner, o);
    resizer.observe(tile);
    o.render();
  };

  const sync = () => {
    const tiles = [...screens.querySelectorAll(':scope > .tile[data-screen]')].filter((x) => x instanceof HTMLElement);
    const present = new Set(tiles.map((tile) => tile.dataset.screen));
    for (const [owner, o] of overlays) {
      if (!present.has(owner) || !o.tile.isConnected) {
        resizer.unobserve(o.tile);
        overlays.delete(owner);
      }
    }
    for (const tile of tiles) decorate(tile);
  };
  const observer = new MutationObserver(sync);
  observer.observe(screens, { childList: true });
  sync();

  const off = client.subscribe((layers) => {
    for (const [owner, o] of overlays) if (layers.has(`screen:${owner}`)) o.render();
  });

  return {
    setRole: (r) => {
      for (const o of overlays.values()) o.clearAll.hidden = r !== 'moderator';
    },
    dispose: () => {
      observer.disconnect();
      resizer.disconnect();
      off();
      for (const o of overlays.values()) {
        o.canvas.remove();
        o.toggle.remove();
        o.tools.remove();
      }
      overlays.clear();
    },
  };
}
