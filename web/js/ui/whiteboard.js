// The shared whiteboard (#toggle-whiteboard opens it on the stage): its tools, its canvas and
// the pointer and keyboard gestures that draw, select, move and erase. What is drawn is the
// server's board, held by the board client (boardclient.js, shared with the screen
// annotations) and painted by boardcanvas.js.

import { t } from '../i18n.js';
import { setBoard } from '../hooks.js';
import { confirmAction } from './dialog.js';
import { el } from './dom.js';
import {
  newObjectId, toBoard, hitTest, translate, gestureToShape, textShape, isVisible, copyObject,
} from '../whiteboard.js';
import { BoardClient } from './boardclient.js';
import { drawObjects, drawObject, nextFrame, prepareCanvas, drawSelection } from './boardcanvas.js';

/** @typedef {import('../protocol.js').BoardObject} BoardObject */
/** @typedef {import('../protocol.js').DrawObject} DrawObject */
/** @typedef {import('../protocol.js').BoardLayer} BoardLayer */
/** @typedef {import('../protocol.js').BoardShape} BoardShape */
/** @typedef {import('../protocol.js').BoardPoint} BoardPoint */
/** @typedef {import('../whiteboard.js').HistoryEntry} HistoryEntry */
/** @typedef {import('../whiteboard.js').BoardOp} BoardOp */
/** @typedef {import('../whiteboard.js').View} View */

// ---------------------------------------------------------------------------------------------
// The whiteboard panel

/** @typedef {'pen' | 'line' | 'arrow' | 'rect' | 'ellipse' | 'text' | 'select' | 'eraser'} Tool */
const TOOLS = /** @type {const} */ (['pen', 'line', 'arrow', 'rect', 'ellipse', 'text', 'select', 'eraser']);
/** Colours offered (DSFR palette): name → `#rrggbb`. */
const COLORS = /** @type {const} */ ([['black', '#161616'], ['blue', '#000091'], ['red', '#e1000f'], ['green', '#18753c'], ['orange', '#b34000']]);
/** Thicknesses offered, in width units. */
const WIDTHS = /** @type {const} */ ([['thin', 4], ['medium', 8], ['thick', 16]]);
const BOARD_LAYER = /** @type {BoardLayer} */ ({ on: 'board' });
/** Arrow keys move a selected object this far (Shift: five times as far), in board units. */
const KEY_STEP = 100;

/**
 * @typedef {object} WhiteboardOptions
 * @property {import('../signaling.js').Signaling} sig
 * @property {import('./meetingview.js').MeetingView} view
 * @property {string} room
 * @property {string} myId
 * @property {import('../protocol.js').Role} role
 */

/**
 * @typedef {object} Whiteboard
 * @property {BoardClient} client
 * @property {(role: import('../protocol.js').Role) => void} setRole
 * @property {(code: string) => boolean} handleServerError  True when the error answered a
 *   board message (shown here).
 * @property {() => void} dispose
 */

/**
 * @param {WhiteboardOptions} opts
 * @returns {Whiteboard}
 */
export function createWhiteboard(opts) {
  const { sig, view } = opts;
  const client = new BoardClient(sig, () => opts.myId, (text) => view.notify(text, 'board-refused'));
  const stage = view.tiles.parentElement ?? view.root;

  /** @type {Tool} */
  let tool = 'pen';
  let color = /** @type {string} */ (COLORS[1][1]);
  let width = /** @type {number} */ (WIDTHS[1][1]);
  let open = false;

  // --- Toggle in the meeting toolbar, before the screen share (or hang-up).
  const toggleLabel = t('board.toggle.open');
  const toggle = el('button', {
    id: 'toggle-whiteboard',
    className: 'tool tool-board',
    attrs: { type: 'button', 'aria-pressed': 'false', 'aria-label': toggleLabel, title: toggleLabel },
  }, [boardIcon(), el('span', { className: 'tool-text', text: t('board.toggle.short') })]);
  const anchor = view.toolbar.root.querySelector('#share-screen') ?? view.toolbar.root.querySelector('#hangup');
  if (anchor) anchor.before(toggle);
  else view.toolbar.root.append(toggle);

  // --- Tools
  /** @type {Map<Tool, HTMLButtonElement>} */
  const toolButtons = new Map();
  for (const name of TOOLS) {
    const label = t(`board.tool.${name}`);
    const b = el('button', {
      id: `board-tool-${name}`,
      className: `board-btn board-tool board-tool-${name}`,
      attrs: { type: 'button', 'aria-pressed': String(name === tool), 'aria-label': label, title: label },
      data: { tool: name },
    }, [el('span', { className: 'board-btn-text', text: label })]);
    b.addEventListener('click', () => setTool(name));
    toolButtons.set(name, b);
  }
  /** @type {HTMLButtonElement[]} */
  const colorButtons = COLORS.map(([name, hex]) => {
    const label = t('board.color', { name: t(`board.color.${name}`) });
    const swatch = el('span', { className: 'board-swatch' });
    swatch.style.backgroundColor = hex;
    const b = el('button', {
      id: `board-color-${name}`,
      className: 'board-btn board-color',
      attrs: { type: 'button', 'aria-pressed': String(hex === color), 'aria-label': label, title: label },
      data: { color: hex },
    }, [swatch]);
    b.addEventListener('click', () => {
      color = hex;
      for (const c of colorButtons) c.setAttribute('aria-pressed', String(c.dataset.color === hex));
    });
    return b;
  });
  const widthSelect = el('select', { id: 'board-width', className: 'board-select' },
    WIDTHS.map(([name, w]) => el('option', { text: t(`board.width.${name}`), attrs: { value: String(w) } })));
  widthSelect.value = String(width);
  widthSelect.addEventListener('change', () => { width = Number(widthSelect.value) || width; });
  const widthField = el('label', { className: 'board-width' }, [el('span', { text: t('board.width') }), widthSelect]);

  /**
   * @param {string} id
   * @param {string} label
   * @param {() => void} onClick
   */
  const action = (id, label, onClick) => el('button', {
    id,
    className: 'board-btn board-action',
    attrs: { type: 'button', 'aria-label': label, title: label },
    on: { click: onClick },
  }, [el('span', { className: 'board-btn-text', text: label })]);
  const undo = action('board-undo', t('board.undo'), () => client.undo());
  const redo = action('board-redo', t('board.redo'), () => client.redo());
  const clear = action('board-clear', t('board.clear'), async () => {
    const ok = await confirmAction({ title: t('board.clear'), text: t('board.clear.confirm'), confirm: t('board.clear'), opener: clear });
    if (ok) client.clear(BOARD_LAYER, false);
  });
  const exportButton = action('board-export', t('board.export'), () => exportPng());

  const tools = el('div', {
    className: 'board-toolbar',
    attrs: { role: 'toolbar', 'aria-label': t('board.tools') },
  }, [
    el('div', { className: 'board-group' }, [...toolButtons.values()]),
    el('div', { className: 'board-group' }, colorButtons),
    widthField,
    el('div', { className: 'board-group' }, [undo, redo, clear, exportButton]),
  ]);
  tools.addEventListener('keydown', (ev) => arrowKeys(tools, ev));

  const warning = el('p', { id: 'board-warning', className: 'board-warning', attrs: { role: 'note' }, text: t('board.warning') });

  const canvas = el('canvas', {
    id: 'whiteboard-canvas',
    className: 'board-canvas',
    attrs: { tabindex: '0', role: 'img', 'aria-label': t('board.canvas', { count: '0' }) },
  });
  const textInput = el('input', {
    id: 'board-text-input',
    className: 'board-text-input',
    attrs: { type: 'text', maxlength: '500', 'aria-label': t('board.text.label') },
  });
  textInput.hidden = true;
  const surface = el('div', { className: 'board-surface' }, [canvas, textInput]);
  const area = el('div', { className: 'board-area' }, [surface]);
  const panel = el('section', {
    id: 'whiteboard',
    className: 'whiteboard',
    attrs: { 'aria-label': t('board.region') },
  }, [tools, warning, area]);
  panel.hidden = true;
  stage.prepend(panel);

  // --- State of a gesture
  /** @type {{kind: 'draw', tool: import('../whiteboard.js').DrawTool, points: BoardPoint[], pointer: number}
   *   | {kind: 'move', original: DrawObject, start: BoardPoint, moved: DrawObject | null, pointer: number}
   *   | {kind: 'erase', pointer: number, erased: Set<string>} | null} */
  let gesture = null;
  /** @type {string | null} */
  let selected = null;
  /** @type {BoardPoint | null} */
  let textAt = null;

  /** @param {Tool} name */
  const setTool = (name) => {
    tool = name;
    for (const [n, b] of toolButtons) b.setAttribute('aria-pressed', String(n === name));
    canvas.dataset.tool = name;
    if (name !== 'select') selected = null;
    render();
  };
  canvas.dataset.tool = tool;

  const setRole = (/** @type {import('../protocol.js').Role} */ role) => {
    clear.hidden = role !== 'moderator';
  };
  setRole(opts.role);

  // --- Rendering
  let frame = false;
  let disposed = false;
  const render = () => {
    if (frame) return;
    frame = true;
    nextFrame(() => {
      frame = false;
      if (!disposed) paint();
    });
  };
  const paint = () => {
    undo.disabled = !client.canUndo;
    redo.disabled = !client.history.canRedo;
    if (!open) return;
    const { view: v, ctx } = prepareCanvas(canvas);
    if (!ctx) return;
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, v.width, v.height);
    let objects = client.visible(BOARD_LAYER);
    if (gesture?.kind === 'move' && gesture.moved) {
      const moved = gesture.moved;
      objects = objects.map((o) => (o.id === moved.id ? moved : o));
    }
    drawObjects(ctx, objects, v);
    if (gesture?.kind === 'draw') {
      const shape = gestureToShape(gesture.tool, gesture.points);
      if (shape) drawObject(ctx, { id: 'preview', layer: BOARD_LAYER, color, width, shape }, v);
    }
    const sel = selected ? objects.find((o) => o.id === selected) : null;
    if (sel) drawSelection(ctx, sel, v);
    canvas.setAttribute('aria-label', t('board.canvas', { count: String(client.board.list(BOARD_LAYER).length) }));
  };
  const offClient = client.subscribe((layers) => {
    if (selected && !client.visible(BOARD_LAYER).some((o) => o.id === selected)) selected = null;
    if (layers.has('board')) render();
  });

  /** Fit the largest 16:9 surface in the area. */
  const fit = () => {
    const w = area.clientWidth;
    const h = area.clientHeight;
    if (!w || !h) return;
    const width16 = Math.min(w, (h * 16) / 9);
    surface.style.width = `${Math.floor(width16)}px`;
    surface.style.height = `${Math.floor((width16 * 9) / 16)}px`;
    render();
  };
  const resizer = new ResizeObserver(fit);
  resizer.observe(area);

  // --- Pointer input
  /** @param {PointerEvent | MouseEvent} ev @returns {BoardPoint} */
  const boardPoint = (ev) => {
    const r = canvas.getBoundingClientRect();
    return toBoard(ev.clientX - r.left, ev.clientY - r.top, { width: r.width, height: r.height });
  };
  /** @param {PointerEvent} ev */
  const pixel = (ev) => {
    const r = canvas.getBoundingClientRect();
    return { x: ev.clientX - r.left, y: ev.clientY - r.top, view: { width: r.width, height: r.height } };
  };

  /** @param {PointerEvent} ev */
  const eraseAt = (ev) => {
    if (gesture?.kind !== 'erase') return;
    const { x, y, view: v } = pixel(ev);
    const hit = hitTest(client.visible(BOARD_LAYER), x, y, v);
    if (!hit || gesture.erased.has(hit.id)) return;
    gesture.erased.add(hit.id);
    const before = client.board.get(hit.id);
    if (before) client.send({ op: 'remove', id: hit.id }, 'do', { kind: 'remove', before: copyObject(before) });
  };

  canvas.addEventListener('pointerdown', (ev) => {
    if (ev.button !== 0 || gesture) return;
    if (!textInput.hidden) commitText();
    canvas.focus({ preventScroll: true });
    const p = boardPoint(ev);
    if (tool === 'text') {
      openText(ev, p);
      ev.preventDefault();
      return;
    }
    canvas.setPointerCapture?.(ev.pointerId);
    if (tool === 'select') {
      const { x, y, view: v } = pixel(ev);
      const hit = hitTest(client.visible(BOARD_LAYER), x, y, v);
      selected = hit?.id ?? null;
      if (hit) gesture = { kind: 'move', original: copyObject(hit), start: p, moved: null, pointer: ev.pointerId };
    } else if (tool === 'eraser') {
      gesture = { kind: 'erase', pointer: ev.pointerId, erased: new Set() };
      eraseAt(ev);
    } else {
      gesture = { kind: 'draw', tool, points: [p], pointer: ev.pointerId };
    }
    ev.preventDefault();
    render();
  });
  canvas.addEventListener('pointermove', (ev) => {
    if (!gesture || ev.pointerId !== gesture.pointer) return;
    if (gesture.kind === 'draw') {
      const events = gesture.tool === 'pen' && typeof ev.getCoalescedEvents === 'function' ? ev.getCoalescedEvents() : [ev];
      for (const e of events.length ? events : [ev]) gesture.points.push(boardPoint(e));
    } else if (gesture.kind === 'move') {
      const p = boardPoint(ev);
      const shape = translate(gesture.original.shape, p[0] - gesture.start[0], p[1] - gesture.start[1]);
      gesture.moved = { ...copyObject(gesture.original), shape };
    } else {
      eraseAt(ev);
    }
    render();
  });
  /** @param {PointerEvent} ev */
  const finish = (ev) => {
    if (!gesture || ev.pointerId !== gesture.pointer) return;
    const g = gesture;
    gesture = null;
    if (ev.type === 'pointerup' && g.kind === 'draw') {
      g.points.push(boardPoint(ev));
      const shape = gestureToShape(g.tool, g.points);
      if (shape && isVisible(shape)) {
        const object = { id: newObjectId(), layer: BOARD_LAYER, color, width, shape };
        client.send({ op: 'add', object }, 'do', { kind: 'add', after: copyObject(object) });
      }
    } else if (ev.type === 'pointerup' && g.kind === 'move' && g.moved) {
      moveTo(g.original, g.moved);
    }
    render();
  };
  canvas.addEventListener('pointerup', finish);
  canvas.addEventListener('pointercancel', finish);

  /**
   * @param {DrawObject} original
   * @param {DrawObject} moved
   */
  const moveTo = (original, moved) => {
    if (JSON.stringify(original.shape) === JSON.stringify(moved.shape)) return;
    const before = { id: original.id, layer: original.layer, color: original.color, width: original.width, shape: original.shape };
    const after = { ...before, shape: moved.shape };
    client.send({ op: 'update', object: after }, 'do', { kind: 'update', before, after: copyObject(after) });
  };

  // Keyboard: with the select tool, arrows move the selected object, Delete erases it; Tab on
  // the canvas picks the next object (in drawing order) when nothing is selected.
  canvas.addEventListener('keydown', (ev) => {
    const objects = client.visible(BOARD_LAYER);
    const sel = selected ? objects.find((o) => o.id === selected) : undefined;
    const step = ev.shiftKey ? KEY_STEP * 5 : KEY_STEP;
    /** @type {Record<string, [number, number]>} */
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (tool !== 'select') return;
    if (ev.key === 'Enter' || ev.key === ' ') {
      const index = sel ? objects.indexOf(sel) : -1;
      selected = objects[(index + 1) % Math.max(objects.length, 1)]?.id ?? null;
      render();
      ev.preventDefault();
    } else if (sel && moves[ev.key]) {
      const [dx, dy] = moves[ev.key];
      moveTo(sel, { ...sel, shape: translate(sel.shape, dx, dy) });
      ev.preventDefault();
    } else if (sel && (ev.key === 'Delete' || ev.key === 'Backspace')) {
      const before = client.board.get(sel.id);
      if (before) client.send({ op: 'remove', id: sel.id }, 'do', { kind: 'remove', before: copyObject(before) });
      selected = null;
      ev.preventDefault();
    } else if (ev.key === 'Escape' && sel) {
      selected = null;
      render();
      ev.stopPropagation();
    }
  });
  // Ctrl+Z / Ctrl+Y (⌘ on a Mac) anywhere in the whiteboard but the text field.
  panel.addEventListener('keydown', (ev) => {
    if (ev.target === textInput || !(ev.ctrlKey || ev.metaKey)) return;
    const key = ev.key.toLowerCase();
    if (key === 'z' && !ev.shiftKey) client.undo();
    else if (key === 'y' || (key === 'z' && ev.shiftKey)) client.redo();
    else return;
    ev.preventDefault();
  });

  // --- Text
  /** @param {PointerEvent} ev @param {BoardPoint} p */
  const openText = (ev, p) => {
    const { x, y } = pixel(ev);
    textAt = p;
    textInput.value = '';
    textInput.hidden = false;
    textInput.style.left = `${Math.round(x)}px`;
    textInput.style.top = `${Math.round(y)}px`;
    // Focus once the pointer's own default action (focusing the canvas) is over.
    setTimeout(() => textInput.focus(), 0);
  };
  const commitText = () => {
    const at = textAt;
    const text = textInput.value;
    textAt = null;
    textInput.hidden = true;
    textInput.value = '';
    if (!at) return;
    const shape = textShape(at, text);
    if (!shape) return;
    const object = { id: newObjectId(), layer: BOARD_LAYER, color, width, shape };
    client.send({ op: 'add', object }, 'do', { kind: 'add', after: copyObject(object) });
  };
  textInput.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      commitText();
      canvas.focus();
      ev.preventDefault();
    } else if (ev.key === 'Escape') {
      textAt = null;
      textInput.hidden = true;
      canvas.focus();
      ev.preventDefault();
      ev.stopPropagation();
    }
  });
  textInput.addEventListener('blur', () => {
    if (!textInput.hidden) commitText();
  });

  // --- Export
  const exportPng = () => {
    paint();
    canvas.toBlob((blob) => {
      if (!blob) return;
      const url = URL.createObjectURL(blob);
      const link = el('a', { attrs: { href: url, download: `${t('board.exportName')}-${opts.room}.png` } });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    }, 'image/png');
  };

  // --- Open / close
  /** @param {boolean} show */
  const setOpen = (show) => {
    open = show;
    panel.hidden = !show;
    if (show) stage.dataset.whiteboard = 'open';
    else delete stage.dataset.whiteboard;
    const label = t(show ? 'board.toggle.close' : 'board.toggle.open');
    toggle.setAttribute('aria-pressed', String(show));
    toggle.setAttribute('aria-label', label);
    toggle.title = label;
    if (show) {
      fit();
      paint();
      toolButtons.get(tool)?.focus();
    }
  };
  toggle.addEventListener('click', () => setOpen(!open));
  render();

  return {
    client,
    setRole,
    handleServerError: (code) => client.handleServerError(code),
    dispose: () => {
      disposed = true;
      offClient();
      resizer.disconnect();
      client.dispose();
      panel.remove();
      toggle.remove();
      delete stage.dataset.whiteboard;
      setBoard([]);
    },
  };
}

/**
 * Left / right arrows move between the whiteboard's buttons (ARIA toolbar pattern); Tab still
 * reaches each of them.
 * @param {HTMLElement} root
 * @param {KeyboardEvent} ev
 */
function arrowKeys(root, ev) {
  if (ev.key !== 'ArrowLeft' && ev.key !== 'ArrowRight') return;
  const buttons = [...root.querySelectorAll('button:not([disabled]):not([hidden])')];
  const index = buttons.indexOf(/** @type {Element} */ (document.activeElement));
  if (index < 0) return;
  const next = buttons[(index + (ev.key === 'ArrowRight' ? 1 : buttons.length - 1)) % buttons.length];
  if (next instanceof HTMLElement) {
    next.focus();
    ev.preventDefault();
    ev.stopPropagation();
  }
}

/** The whiteboard's toolbar icon (an easel), decorative. */
function boardIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const d of ['M3 4h18v12H3z', 'M12 16v4M8 21l4-5 4 5', 'M7 12l3-3 2 2 4-4']) {
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    path.setAttribute('fill', 'none');
    path.setAttribute('stroke', 'currentColor');
    path.setAttribute('stroke-width', '1.8');
    path.setAttribute('stroke-linecap', 'round');
    path.setAttribute('stroke-linejoin', 'round');
    svg.append(path);
  }
  return svg;
}
