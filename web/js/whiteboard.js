// The whiteboard's model, pure (no DOM): the board as the server last described it, object ids,
// the local undo / redo stacks, hit-testing, moving an object, and turning a pointer gesture
// into a shape. ui/whiteboard.js and ui/annotation.js draw it and talk to the server.
//
// Coordinates. Every object lives in the server's virtual square, 0..BOARD_SIZE on both axes
// (protocol.js). A view maps it onto a rectangle of pixels: the whiteboard's canvas (always
// 16:9, so everyone sees the same drawing) or the picture of a shared screen (so annotations
// stay on what they point at, whatever the size of the video). The mapping is per axis.
// Widths: one width unit is 1/2000 of the view's width (a stroke of 4 is 2 px on a canvas
// 1000 px wide); text is drawn WIDTH × TEXT_SCALE units high.

import {
  BOARD_SIZE, BOARD_MAX_POINTS, BOARD_MAX_TEXT_CHARS, BOARD_MIN_WIDTH, BOARD_MAX_WIDTH,
} from './protocol.js';

/** @typedef {import('./protocol.js').BoardObject} BoardObject */
/** @typedef {import('./protocol.js').DrawObject} DrawObject */
/** @typedef {import('./protocol.js').BoardLayer} BoardLayer */
/** @typedef {import('./protocol.js').BoardShape} BoardShape */
/** @typedef {import('./protocol.js').BoardPoint} BoardPoint */
/** @typedef {import('./protocol.js').ServerMessage} ServerMessage */

/** Width units per view width. */
export const WIDTH_UNITS = 2000;
/** Text height, in width units, per unit of an object's `width`. */
export const TEXT_SCALE = 4;

/**
 * A view: the pixel rectangle the board's square is drawn in.
 * @typedef {object} View
 * @property {number} width   Pixels.
 * @property {number} height  Pixels.
 */

// ---------------------------------------------------------------------------------------------
// Layers and ids

/**
 * A layer as a string, for maps and comparisons: `board` or `screen:<owner>`.
 * @param {BoardLayer} layer
 * @returns {string}
 */
export function layerKey(layer) {
  return layer.on === 'board' ? 'board' : `screen:${layer.owner}`;
}

/**
 * @param {BoardLayer} a
 * @param {BoardLayer} b
 */
export function sameLayer(a, b) {
  return layerKey(a) === layerKey(b);
}

let counter = 0;

/**
 * A new object id: unique on the board in practice (time, a counter and randomness), within the
 * server's rule (1 to 32 of `[A-Za-z0-9_-]`).
 * @param {() => number} [random]  Math.random, replaceable in tests.
 * @param {number} [now]           Date.now()
 * @returns {string}
 */
export function newObjectId(random = Math.random, now = Date.now()) {
  counter = (counter + 1) % 1_679_616; // 36^4
  const rand = Math.floor(random() * 2_176_782_336).toString(36).padStart(6, '0'); // 36^6
  return `w${now.toString(36)}${counter.toString(36).padStart(4, '0')}${rand}`.slice(0, 32);
}

// ---------------------------------------------------------------------------------------------
// The board

/** A copy of an object (never share the arrays of one the server sent). */
/**
 * @template {DrawObject} T
 * @param {T} o
 * @returns {T}
 */
export function copyObject(o) {
  return structuredClone(o);
}

/**
 * The board as the server last described it: objects in drawing order, by id. Only the server's
 * messages change it (`apply`); what this browser is still waiting for lives elsewhere.
 */
export class Board {
  constructor() {
    /** @private @type {Map<string, BoardObject>} */ this.objects = new Map();
  }

  /** Number of objects, all layers. */
  get size() {
    return this.objects.size;
  }

  /**
   * @param {string} id
   * @returns {BoardObject | undefined}
   */
  get(id) {
    return this.objects.get(id);
  }

  /**
   * Every object in drawing order, or only those of `layer`.
   * @param {BoardLayer} [layer]
   * @returns {BoardObject[]}
   */
  list(layer) {
    const all = [...this.objects.values()];
    return layer ? all.filter((o) => sameLayer(o.layer, layer)) : all;
  }

  /** Forget everything (the meeting ended). */
  reset() {
    this.objects.clear();
  }

  /**
   * Apply one of the server's `board_*` messages. Returns the layers that changed (keys of
   * `layerKey`), empty when the message was not about the board or changed nothing.
   * @param {ServerMessage} msg
   * @returns {Set<string>}
   */
  apply(msg) {
    /** @type {Set<string>} */
    const changed = new Set();
    switch (msg.type) {
      case 'board_state': {
        for (const o of this.objects.values()) changed.add(layerKey(o.layer));
        this.objects.clear();
        for (const o of msg.objects) {
          this.objects.set(o.id, copyObject(o));
          changed.add(layerKey(o.layer));
        }
        break;
      }
      case 'board_add': {
        // A re-sent id (after an undone erase) goes to the end: it was drawn again.
        const old = this.objects.get(msg.object.id);
        if (old) changed.add(layerKey(old.layer));
        this.objects.delete(msg.object.id);
        this.objects.set(msg.object.id, copyObject(msg.object));
        changed.add(layerKey(msg.object.layer));
        break;
      }
      case 'board_update': {
        const old = this.objects.get(msg.object.id);
        if (!old) break;
        // Map.set on an existing key keeps its place in the drawing order, as the server does.
        this.objects.set(msg.object.id, copyObject(msg.object));
        changed.add(layerKey(old.layer));
        changed.add(layerKey(msg.object.layer));
        break;
      }
      case 'board_remove': {
        const old = this.objects.get(msg.id);
        if (!old) break;
        this.objects.delete(msg.id);
        changed.add(layerKey(old.layer));
        break;
      }
      case 'board_clear': {
        for (const [id, o] of this.objects) {
          if (!sameLayer(o.layer, msg.layer)) continue;
          if (msg.author !== undefined && o.author !== msg.author) continue;
          this.objects.delete(id);
          changed.add(layerKey(o.layer));
        }
        break;
      }
      default:
        break;
    }
    return changed;
  }
}

// ---------------------------------------------------------------------------------------------
// Undo / redo

/**
 * One local action, with what undoes it:
 * - `add`: this browser drew `after` (undo: erase it; redo: draw it again, same id);
 * - `update`: it moved `before` to `after` (undo: put `before` back; redo: `after` again);
 * - `remove`: it erased `before` (undo: draw it again; redo: erase it).
 * @typedef {{kind: 'add', after: DrawObject}
 *   | {kind: 'update', before: DrawObject, after: DrawObject}
 *   | {kind: 'remove', before: DrawObject}} HistoryEntry
 */

/**
 * A message to send to the server, as a board operation.
 * @typedef {{op: 'add', object: DrawObject} | {op: 'update', object: DrawObject}
 *   | {op: 'remove', id: string}} BoardOp
 */

/**
 * The operation that undoes an entry.
 * @param {HistoryEntry} entry
 * @returns {BoardOp}
 */
export function inverseOp(entry) {
  switch (entry.kind) {
    case 'add': return { op: 'remove', id: entry.after.id };
    case 'update': return { op: 'update', object: copyObject(entry.before) };
    case 'remove': return { op: 'add', object: copyObject(entry.before) };
    default: throw new Error('unknown history entry');
  }
}

/**
 * The operation that does an entry (again).
 * @param {HistoryEntry} entry
 * @returns {BoardOp}
 */
export function forwardOp(entry) {
  switch (entry.kind) {
    case 'add': return { op: 'add', object: copyObject(entry.after) };
    case 'update': return { op: 'update', object: copyObject(entry.after) };
    case 'remove': return { op: 'remove', id: entry.before.id };
    default: throw new Error('unknown history entry');
  }
}

/** This browser's undo and redo stacks (its own actions only; they are lost with the page). */
export class History {
  /** @param {number} [limit]  Most entries kept. */
  constructor(limit = 100) {
    /** @private */ this.limit = limit;
    /** @type {HistoryEntry[]} */ this.undoStack = [];
    /** @type {HistoryEntry[]} */ this.redoStack = [];
  }

  get canUndo() { return this.undoStack.length > 0; }

  get canRedo() { return this.redoStack.length > 0; }

  /**
   * A new action the server confirmed: it can be undone, and nothing can be redone any more.
   * @param {HistoryEntry} entry
   */
  record(entry) {
    this.undoStack.push(entry);
    if (this.undoStack.length > this.limit) this.undoStack.shift();
    this.redoStack = [];
  }

  /**
   * Take the last action to undo; the caller sends `inverseOp(entry)` and, once the server
   * confirms it, calls `undone(entry)`.
   * @returns {HistoryEntry | undefined}
   */
  takeUndo() {
    return this.undoStack.pop();
  }

  /** @returns {HistoryEntry | undefined} */
  takeRedo() {
    return this.redoStack.pop();
  }

  /** @param {HistoryEntry} entry  Its undo was confirmed: it can be redone. */
  undone(entry) {
    this.redoStack.push(entry);
  }

  /** @param {HistoryEntry} entry  Its redo was confirmed: it can be undone again. */
  redone(entry) {
    this.undoStack.push(entry);
  }

  clear() {
    this.undoStack = [];
    this.redoStack = [];
  }
}

// ---------------------------------------------------------------------------------------------
// Geometry: views, hit-testing, moving

/**
 * A view's pixels → board units (clamped to the square, integers).
 * @param {number} px
 * @param {number} py
 * @param {View} view
 * @returns {BoardPoint}
 */
export function toBoard(px, py, view) {
  return [
    clampCoord(Math.round((px / Math.max(view.width, 1)) * BOARD_SIZE)),
    clampCoord(Math.round((py / Math.max(view.height, 1)) * BOARD_SIZE)),
  ];
}

/**
 * Board units → a view's pixels.
 * @param {BoardPoint} p
 * @param {View} view
 * @returns {[number, number]}
 */
export function toView(p, view) {
  return [(p[0] / BOARD_SIZE) * view.width, (p[1] / BOARD_SIZE) * view.height];
}

/**
 * A stroke's width in pixels in a view (at least one pixel, so that every stroke shows).
 * @param {number} width
 * @param {View} view
 */
export function strokePixels(width, view) {
  return Math.max(1, (width * view.width) / WIDTH_UNITS);
}

/**
 * A text's height in pixels in a view.
 * @param {number} width
 * @param {View} view
 */
export function textPixels(width, view) {
  return Math.max(8, (width * TEXT_SCALE * view.width) / WIDTH_UNITS);
}

/** @param {number} n */
function clampCoord(n) {
  return Math.min(BOARD_SIZE, Math.max(0, Math.round(n)));
}

/**
 * Distance from p to the segment a–b.
 * @param {[number, number]} p @param {[number, number]} a @param {[number, number]} b
 */
export function segmentDistance(p, a, b) {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2));
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

/**
 * The box a text covers, in a view's pixels (an estimate: 0.6 em per character).
 * @param {Extract<BoardShape, {kind: 'text'}>} shape
 * @param {number} width
 * @param {View} view
 * @returns {{x: number, y: number, w: number, h: number}}
 */
export function textBox(shape, width, view) {
  const size = textPixels(width, view);
  const lines = shape.text.split('\n');
  const longest = Math.max(...lines.map((l) => [...l].length));
  const [x, y] = toView(shape.at, view);
  return { x, y: y - size, w: longest * size * 0.6, h: size * 1.2 * lines.length };
}

/**
 * Whether the pixel (px, py) of a view touches the object, within `tolerance` pixels.
 * Closed shapes are hit on their outline and inside (easier to pick with a finger).
 * @param {DrawObject} o
 * @param {number} px
 * @param {number} py
 * @param {View} view
 * @param {number} [tolerance]
 */
export function hits(o, px, py, view, tolerance = 6) {
  const p = /** @type {[number, number]} */ ([px, py]);
  const reach = tolerance + strokePixels(o.width, view) / 2;
  const s = o.shape;
  switch (s.kind) {
    case 'path': {
      const pts = s.points.map((q) => toView(q, view));
      if (pts.length === 1) return Math.hypot(px - pts[0][0], py - pts[0][1]) <= reach;
      for (let i = 1; i < pts.length; i += 1) {
        if (segmentDistance(p, pts[i - 1], pts[i]) <= reach) return true;
      }
      return false;
    }
    case 'line':
      return segmentDistance(p, toView(s.from, view), toView(s.to, view)) <= reach;
    case 'rect': {
      const [x, y] = toView(s.at, view);
      const [w, h] = [(s.size[0] / BOARD_SIZE) * view.width, (s.size[1] / BOARD_SIZE) * view.height];
      return px >= x - reach && px <= x + w + reach && py >= y - reach && py <= y + h + reach;
    }
    case 'ellipse': {
      const [x, y] = toView(s.at, view);
      const rx = (s.size[0] / BOARD_SIZE) * view.width / 2 + reach;
      const ry = (s.size[1] / BOARD_SIZE) * view.height / 2 + reach;
      const nx = (px - (x + rx - reach)) / rx;
      const ny = (py - (y + ry - reach)) / ry;
      return nx * nx + ny * ny <= 1;
    }
    case 'text': {
      const b = textBox(s, o.width, view);
      return px >= b.x - tolerance && px <= b.x + b.w + tolerance && py >= b.y - tolerance && py <= b.y + b.h + tolerance;
    }
    default:
      return false;
  }
}

/**
 * The topmost object under the pixel (px, py), or null.
 * @template {DrawObject} T
 * @param {readonly T[]} objects  In drawing order (the last one is on top).
 * @param {number} px
 * @param {number} py
 * @param {View} view
 * @param {number} [tolerance]
 * @returns {T | null}
 */
export function hitTest(objects, px, py, view, tolerance = 6) {
  for (let i = objects.length - 1; i >= 0; i -= 1) {
    const o = objects[i];
    if (o && hits(o, px, py, view, tolerance)) return o;
  }
  return null;
}

/**
 * The points that define a shape's position (its bounding box is theirs, but for a rectangle's
 * or an ellipse's far corner).
 * @param {BoardShape} s
 * @returns {{minX: number, minY: number, maxX: number, maxY: number}}
 */
export function bounds(s) {
  /** @type {BoardPoint[]} */
  let pts;
  switch (s.kind) {
    case 'path': pts = s.points; break;
    case 'line': pts = [s.from, s.to]; break;
    case 'rect':
    case 'ellipse': pts = [s.at, [s.at[0] + s.size[0], s.at[1] + s.size[1]]]; break;
    default: pts = [s.at];
  }
  return {
    minX: Math.min(...pts.map((p) => p[0])),
    minY: Math.min(...pts.map((p) => p[1])),
    maxX: Math.max(...pts.map((p) => p[0])),
    maxY: Math.max(...pts.map((p) => p[1])),
  };
}

/**
 * The shape moved by (dx, dy) board units, kept whole inside the square (the move stops at the
 * edge rather than distorting the shape).
 * @param {BoardShape} s
 * @param {number} dx
 * @param {number} dy
 * @returns {BoardShape}
 */
export function translate(s, dx, dy) {
  const b = bounds(s);
  const mx = Math.round(Math.min(BOARD_SIZE - b.maxX, Math.max(-b.minX, dx)));
  const my = Math.round(Math.min(BOARD_SIZE - b.maxY, Math.max(-b.minY, dy)));
  /** @param {BoardPoint} p @returns {BoardPoint} */
  const mv = (p) => [p[0] + mx, p[1] + my];
  switch (s.kind) {
    case 'path': return { kind: 'path', points: s.points.map(mv) };
    case 'line': return { kind: 'line', from: mv(s.from), to: mv(s.to), arrow: s.arrow };
    case 'rect': return { kind: 'rect', at: mv(s.at), size: [s.size[0], s.size[1]] };
    case 'ellipse': return { kind: 'ellipse', at: mv(s.at), size: [s.size[0], s.size[1]] };
    case 'text': return { kind: 'text', at: mv(s.at), text: s.text };
    default: return s;
  }
}

// ---------------------------------------------------------------------------------------------
// Gestures → shapes

/** @typedef {'pen' | 'line' | 'arrow' | 'rect' | 'ellipse'} DrawTool */

/**
 * Drop consecutive points closer than `minDistance` board units to the last one kept (the first
 * and the last point always stay), then simplify (Ramer–Douglas–Peucker) with a growing
 * tolerance until the stroke has at most `max` points.
 * @param {readonly BoardPoint[]} points
 * @param {number} [minDistance]
 * @param {number} [max]
 * @returns {BoardPoint[]}
 */
export function thinPoints(points, minDistance = 8, max = BOARD_MAX_POINTS) {
  if (points.length === 0) return [];
  /** @type {BoardPoint[]} */
  const kept = [points[0]];
  for (let i = 1; i < points.length; i += 1) {
    const p = points[i];
    const last = kept[kept.length - 1];
    if (Math.hypot(p[0] - last[0], p[1] - last[1]) >= minDistance) kept.push(p);
  }
  const end = points[points.length - 1];
  const last = kept[kept.length - 1];
  if (kept.length > 1 && (last[0] !== end[0] || last[1] !== end[1])) kept[kept.length - 1] = end;
  else if (kept.length === 1 && (end[0] !== last[0] || end[1] !== last[1])) kept.push(end);
  let result = kept;
  for (let epsilon = 2; result.length > max; epsilon *= 2) result = simplify(kept, epsilon);
  return result.map((p) => [p[0], p[1]]);
}

/**
 * Ramer–Douglas–Peucker, iterative (a long stroke must not overflow the stack).
 * @param {readonly BoardPoint[]} pts
 * @param {number} epsilon
 * @returns {BoardPoint[]}
 */
function simplify(pts, epsilon) {
  if (pts.length < 3) return [...pts];
  const keep = new Uint8Array(pts.length);
  keep[0] = 1;
  keep[pts.length - 1] = 1;
  /** @type {[number, number][]} */
  const stack = [[0, pts.length - 1]];
  while (stack.length) {
    const [a, b] = /** @type {[number, number]} */ (stack.pop());
    let far = -1;
    let farDist = epsilon;
    for (let i = a + 1; i < b; i += 1) {
      const d = segmentDistance(pts[i], pts[a], pts[b]);
      if (d > farDist) {
        far = i;
        farDist = d;
      }
    }
    if (far >= 0) {
      keep[far] = 1;
      stack.push([a, far], [far, b]);
    }
  }
  return pts.filter((_, i) => keep[i] === 1);
}

/**
 * The shape a pointer gesture draws with a tool, from its points in board units (first =
 * where the pointer went down, last = where it is now). Null when there is nothing to draw yet.
 * @param {DrawTool} tool
 * @param {readonly BoardPoint[]} points
 * @returns {BoardShape | null}
 */
export function gestureToShape(tool, points) {
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last) return null;
  switch (tool) {
    case 'pen':
      return { kind: 'path', points: thinPoints(points.map((p) => [clampCoord(p[0]), clampCoord(p[1])])) };
    case 'line':
    case 'arrow':
      return { kind: 'line', from: [clampCoord(first[0]), clampCoord(first[1])], to: [clampCoord(last[0]), clampCoord(last[1])], arrow: tool === 'arrow' };
    case 'rect':
    case 'ellipse': {
      const x0 = clampCoord(Math.min(first[0], last[0]));
      const y0 = clampCoord(Math.min(first[1], last[1]));
      const x1 = clampCoord(Math.max(first[0], last[0]));
      const y1 = clampCoord(Math.max(first[1], last[1]));
      return { kind: tool, at: [x0, y0], size: [x1 - x0, y1 - y0] };
    }
    default:
      return null;
  }
}

/**
 * A text shape at a point, or null when the text is empty; cut to the server's limit.
 * @param {BoardPoint} at
 * @param {string} text
 * @returns {BoardShape | null}
 */
export function textShape(at, text) {
  // Control characters but line feeds are refused by the server: tabs become spaces.
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/\r\n?/g, '\n').replace(/\t/g, ' ').replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, '');
  const chars = [...clean.trimEnd()].slice(0, BOARD_MAX_TEXT_CHARS);
  if (chars.length === 0 || chars.join('').trim() === '') return null;
  return { kind: 'text', at: [clampCoord(at[0]), clampCoord(at[1])], text: chars.join('') };
}

/**
 * Whether a shape is worth sending: a tap with the line or rectangle tools draws nothing.
 * @param {BoardShape} s
 */
export function isVisible(s) {
  switch (s.kind) {
    case 'line': return s.from[0] !== s.to[0] || s.from[1] !== s.to[1];
    case 'rect':
    case 'ellipse': return s.size[0] > 0 || s.size[1] > 0;
    default: return true;
  }
}

/**
 * A width within the server's bounds.
 * @param {number} w
 */
export function clampWidth(w) {
  return Math.min(BOARD_MAX_WIDTH, Math.max(BOARD_MIN_WIDTH, Math.round(w)));
}

/**
 * The object as the hooks show it (`window.webconf.board`): a copy of the server's fields.
 * @param {BoardObject} o
 */
export function hookView(o) {
  return { id: o.id, author: o.author, layer: { ...o.layer }, color: o.color, width: o.width, shape: structuredClone(o.shape) };
}
