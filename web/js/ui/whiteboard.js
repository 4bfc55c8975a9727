// The shared whiteboard (#toggle-whiteboard opens it on the stage) and the client of the
// server's board, which the screen annotations (annotation.js) share.
//
// The board shown is the server's: every object this browser draws is sent (`board_add`, …)
// and drawn as "pending" until the server relays it back; a refusal (`bad_drawing`,
// `board_full`, `not_found`, `forbidden`) drops the pending object and shows why, so the board
// stays the server's. The server answers each message of one socket in order, either by
// relaying it to everyone (this browser included) or with an `error`: a queue of the requests
// sent matches each answer to its request.
//
// Undo / redo (this browser's own actions on the whiteboard): undoing a drawing erases it,
// undoing a move moves it back, undoing an erasure draws it again (same id). An action enters
// the history once the server confirmed it.

import { t } from '../i18n.js';
import { boardAdd, boardUpdate, boardRemove, boardClear, BOARD_SIZE } from '../protocol.js';
import {
  Board, History, inverseOp, forwardOp, newObjectId, layerKey, toBoard, toView, strokePixels,
  textPixels, hitTest, translate, gestureToShape, textShape, isVisible, hookView, bounds, copyObject,
} from '../whiteboard.js';
import { setBoard } from '../hooks.js';
import { announce } from './announcer.js';
import { confirmAction } from './dialog.js';
import { el } from './dom.js';

/** @typedef {import('../protocol.js').BoardObject} BoardObject */
/** @typedef {import('../protocol.js').DrawObject} DrawObject */
/** @typedef {import('../protocol.js').BoardLayer} BoardLayer */
/** @typedef {import('../protocol.js').BoardShape} BoardShape */
/** @typedef {import('../protocol.js').BoardPoint} BoardPoint */
/** @typedef {import('../whiteboard.js').HistoryEntry} HistoryEntry */
/** @typedef {import('../whiteboard.js').BoardOp} BoardOp */
/** @typedef {import('../whiteboard.js').View} View */

/** Error codes that may answer a board message. */
const BOARD_CODES = new Set(['bad_drawing', 'board_full', 'not_found', 'forbidden']);
/** A `not_found` / `forbidden` this long after a board message is taken as its answer. */
const LATE_ANSWER_MS = 5000;

// ---------------------------------------------------------------------------------------------
// The board client

/**
 * A request sent and not answered yet.
 * @typedef {object} Request
 * @property {'add' | 'update' | 'remove' | 'clear'} op
 * @property {string} [id]
 * @property {BoardLayer} [layer]   For `clear`.
 * @property {boolean} [mine]       For `clear`.
 * @property {'do' | 'undo' | 'redo' | 'none'} purpose
 * @property {HistoryEntry} [entry]
 */

export class BoardClient {
  /**
   * @param {import('../signaling.js').Signaling} sig
   * @param {() => string} myId
   * @param {(text: string) => void} notify  Show why the server refused a drawing.
   */
  constructor(sig, myId, notify) {
    /** @private */ this.sig = sig;
    /** @private */ this.myId = myId;
    /** @private */ this.notify = notify;
    this.board = new Board();
    this.history = new History();
    /** Objects sent and not confirmed yet (added or moved), by id. @type {Map<string, DrawObject>} */
    this.pending = new Map();
    /** Ids whose erasure was sent and not confirmed yet. @type {Set<string>} */
    this.erasing = new Set();
    /** @private @type {Request[]} */ this.queue = [];
    /** @private */ this.lastSent = 0;
    /** @private @type {Set<(layers: Set<string>) => void>} */ this.listeners = new Set();
    /** @private */ this.offs = ['board_state', 'board_add', 'board_update', 'board_remove', 'board_clear'].map(
      (type) => sig.on(/** @type {'board_add'} */ (type), (msg) => this.onServer(msg)),
    );
    setBoard([]);
  }

  /**
   * Be told when layers change (keys of `layerKey`). Returns the unsubscriber.
   * @param {(layers: Set<string>) => void} fn
   */
  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * What to draw on a layer: the server's objects, with this browser's pending moves and
   * drawings, without its pending erasures.
   * @param {BoardLayer} layer
   * @returns {DrawObject[]}
   */
  visible(layer) {
    const key = layerKey(layer);
    /** @type {DrawObject[]} */
    const out = [];
    for (const o of this.board.list(layer)) {
      if (this.erasing.has(o.id)) continue;
      out.push(this.pending.get(o.id) ?? o);
    }
    for (const [id, o] of this.pending) {
      if (!this.board.get(id) && layerKey(o.layer) === key) out.push(o);
    }
    return out;
  }

  /**
   * Send an operation.
   * @param {BoardOp} op
   * @param {Request['purpose']} purpose
   * @param {HistoryEntry} [entry]
   */
  send(op, purpose, entry) {
    /** @type {import('../protocol.js').ClientMessage} */
    let msg;
    /** @type {Request} */
    let req;
    if (op.op === 'remove') {
      msg = boardRemove(op.id);
      req = { op: 'remove', id: op.id, purpose, entry };
    } else {
      const object = copyObject(op.object);
      // Only the fields the server takes (an object from the board carries `author`).
      const clean = { id: object.id, layer: object.layer, color: object.color, width: object.width, shape: object.shape };
      msg = op.op === 'add' ? boardAdd(clean) : boardUpdate(clean);
      req = { op: op.op, id: clean.id, purpose, entry };
    }
    if (!this.sig.send(msg)) return;
    this.queue.push(req);
    this.lastSent = Date.now();
    if (op.op === 'remove') this.erasing.add(op.id);
    else this.pending.set(op.object.id, copyObject(op.object));
    this.changed(new Set([this.layerOf(req.id)]));
  }

  /**
   * Clear a layer: all of it (moderators) or only this browser's participant's drawings.
   * @param {BoardLayer} layer
   * @param {boolean} mine
   */
  clear(layer, mine) {
    if (!this.sig.send(boardClear(layer, mine))) return;
    this.queue.push({ op: 'clear', layer, mine, purpose: 'none' });
    this.lastSent = Date.now();
  }

  /** Undo this browser's last confirmed action on the whiteboard. */
  undo() {
    const entry = this.history.takeUndo();
    if (entry) this.send(inverseOp(entry), 'undo', entry);
    this.changed(new Set(['board']));
  }

  redo() {
    const entry = this.history.takeRedo();
    if (entry) this.send(forwardOp(entry), 'redo', entry);
    this.changed(new Set(['board']));
  }

  /**
   * An `error` from the server: true when it answered a board message (then handled here).
   * @param {string} code
   */
  handleServerError(code) {
    if (!BOARD_CODES.has(code)) return false;
    const req = this.queue.shift();
    if (!req) {
      // Already matched (someone else's relay of the same erasure), or not ours.
      const late = Date.now() - this.lastSent < LATE_ANSWER_MS;
      if (late || code === 'bad_drawing' || code === 'board_full') {
        this.notify(t(/** @type {'board.refused.not_found'} */ (`board.refused.${code}`)));
        return true;
      }
      return false;
    }
    console.warn(`webconf: the server refused a whiteboard ${req.op} (${code})`);
    const layers = new Set([req.layer ? layerKey(req.layer) : this.layerOf(req.id)]);
    if (req.id !== undefined) {
      this.pending.delete(req.id);
      this.erasing.delete(req.id);
    }
    this.notify(t(/** @type {'board.refused.not_found'} */ (`board.refused.${code}`)));
    this.changed(layers);
    return true;
  }

  dispose() {
    for (const off of this.offs) off();
    this.listeners.clear();
    this.board.reset();
    this.pending.clear();
    this.erasing.clear();
    this.queue = [];
    this.history.clear();
  }

  /**
   * @private
   * @param {string | undefined} id
   */
  layerOf(id) {
    const o = (id !== undefined && (this.pending.get(id) ?? this.board.get(id))) || null;
    return o ? layerKey(o.layer) : 'board';
  }

  /**
   * @private
   * @param {import('../protocol.js').ServerMessage} msg
   */
  onServer(msg) {
    const layers = this.board.apply(msg);
    const head = this.queue[0];
    if (head && this.answers(head, msg)) {
      this.queue.shift();
      if (head.id !== undefined) {
        this.pending.delete(head.id);
        this.erasing.delete(head.id);
      }
      if (head.entry && head.purpose === 'do') this.history.record(head.entry);
      else if (head.entry && head.purpose === 'undo') this.history.undone(head.entry);
      else if (head.entry && head.purpose === 'redo') this.history.redone(head.entry);
      layers.add('board');
    }
    if (msg.type === 'board_clear' && msg.layer.on === 'board' && msg.author === undefined) {
      announce(t('board.cleared'));
    }
    setBoard(this.board.list().map(hookView));
    this.changed(layers);
  }

  /**
   * Whether a relayed message is the server's confirmation of a request of ours.
   * @private
   * @param {Request} req
   * @param {import('../protocol.js').ServerMessage} msg
   */
  answers(req, msg) {
    const me = this.myId();
    switch (msg.type) {
      case 'board_add':
        return req.op === 'add' && req.id === msg.object.id && msg.object.author === me;
      case 'board_update':
        return req.op === 'update' && req.id === msg.object.id && msg.object.author === me;
      case 'board_remove':
        return req.op === 'remove' && req.id === msg.id;
      case 'board_clear':
        return req.op === 'clear' && req.layer !== undefined && layerKey(req.layer) === layerKey(msg.layer)
          && (req.mine ? msg.author === me : msg.author === undefined);
      default:
        return false;
    }
  }

  /**
   * @private
   * @param {Set<string>} layers
   */
  changed(layers) {
    if (layers.size === 0) return;
    for (const fn of [...this.listeners]) fn(layers);
  }
}

// ---------------------------------------------------------------------------------------------
// Drawing on a canvas

/**
 * Draw objects on a 2D context whose user space is the view's pixels.
 * @param {CanvasRenderingContext2D} ctx
 * @param {readonly DrawObject[]} objects
 * @param {View} view
 */
export function drawObjects(ctx, objects, view) {
  for (const o of objects) drawObject(ctx, o, view);
}

/**
 * @param {CanvasRenderingContext2D} ctx
 * @param {DrawObject} o
 * @param {View} view
 */
export function drawObject(ctx, o, view) {
  const s = o.shape;
  ctx.save();
  ctx.strokeStyle = o.color;
  ctx.fillStyle = o.color;
  ctx.lineWidth = strokePixels(o.width, view);
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  switch (s.kind) {
    case 'path': {
      const pts = s.points.map((p) => toView(p, view));
      if (pts.length === 1) {
        ctx.beginPath();
        ctx.arc(pts[0][0], pts[0][1], ctx.lineWidth / 2, 0, Math.PI * 2);
        ctx.fill();
        break;
      }
      ctx.beginPath();
      pts.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
      ctx.stroke();
      break;
    }
    case 'line': {
      const [x0, y0] = toView(s.from, view);
      const [x1, y1] = toView(s.to, view);
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1);
      ctx.stroke();
      if (s.arrow) {
        const angle = Math.atan2(y1 - y0, x1 - x0);
        const head = Math.max(10, ctx.lineWidth * 4);
        ctx.beginPath();
        ctx.moveTo(x1, y1);
        ctx.lineTo(x1 - head * Math.cos(angle - Math.PI / 7), y1 - head * Math.sin(angle - Math.PI / 7));
        ctx.lineTo(x1 - head * Math.cos(angle + Math.PI / 7), y1 - head * Math.sin(angle + Math.PI / 7));
        ctx.closePath();
        ctx.fill();
      }
      break;
    }
    case 'rect': {
      const [x, y] = toView(s.at, view);
      const [w, h] = [(s.size[0] / BOARD_SIZE) * view.width, (s.size[1] / BOARD_SIZE) * view.height];
      ctx.strokeRect(x, y, w, h);
      break;
    }
    case 'ellipse': {
      const [x, y] = toView(s.at, view);
      const [w, h] = [(s.size[0] / BOARD_SIZE) * view.width, (s.size[1] / BOARD_SIZE) * view.height];
      ctx.beginPath();
      ctx.ellipse(x + w / 2, y + h / 2, w / 2, h / 2, 0, 0, Math.PI * 2);
      ctx.stroke();
      break;
    }
    case 'text': {
      const size = textPixels(o.width, view);
      const [x, y] = toView(s.at, view);
      // Text is drawn as text (fillText), never interpreted as markup.
      ctx.font = `${size}px system-ui, sans-serif`;
      ctx.textBaseline = 'alphabetic';
      s.text.split('\n').forEach((line, i) => ctx.fillText(line, x, y + i * size * 1.2));
      break;
    }
    default:
      break;
  }
  ctx.restore();
}

/**
 * Run `fn` before the next paint; in a hidden page (no animation frames), soon.
 * @param {() => void} fn
 */
export function nextFrame(fn) {
  if (document.hidden) setTimeout(fn, 0);
  else requestAnimationFrame(fn);
}

/**
 * Keep a canvas's backing store at the element's size × devicePixelRatio; returns the view
 * (CSS pixels) and a context whose user space is CSS pixels.
 * @param {HTMLCanvasElement} canvas
 * @returns {{view: View, ctx: CanvasRenderingContext2D | null}}
 */
export function prepareCanvas(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const view = { width: canvas.clientWidth, height: canvas.clientHeight };
  const w = Math.max(1, Math.round(view.width * dpr));
  const h = Math.max(1, Math.round(view.height * dpr));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const ctx = canvas.getContext('2d');
  ctx?.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { view, ctx };
}

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
    undo.disabled = !client.history.canUndo;
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
 * A dashed box around the selected object.
 * @param {CanvasRenderingContext2D} ctx
 * @param {DrawObject} o
 * @param {View} v
 */
function drawSelection(ctx, o, v) {
  const b = bounds(o.shape);
  const [x0, y0] = toView([b.minX, b.minY], v);
  let [x1, y1] = toView([b.maxX, b.maxY], v);
  if (o.shape.kind === 'text') {
    const size = textPixels(o.width, v);
    x1 = x0 + [...o.shape.text].length * size * 0.6;
    y1 = y0 + size * 0.3;
    ctx.save();
    ctx.setLineDash([6, 4]);
    ctx.strokeStyle = '#6a6af4';
    ctx.lineWidth = 1.5;
    ctx.strokeRect(x0 - 4, y0 - size - 4, x1 - x0 + 8, size * 1.3 + 8);
    ctx.restore();
    return;
  }
  const pad = strokePixels(o.width, v) / 2 + 4;
  ctx.save();
  ctx.setLineDash([6, 4]);
  ctx.strokeStyle = '#6a6af4';
  ctx.lineWidth = 1.5;
  ctx.strokeRect(x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad);
  ctx.restore();
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
