// Drawing the board's objects on a canvas (the whiteboard and the screen annotations).

import { BOARD_SIZE } from '../protocol.js';
import { toView, strokePixels, textPixels, bounds } from '../whiteboard.js';
/** @typedef {import('../protocol.js').BoardObject} BoardObject */
/** @typedef {import('../protocol.js').DrawObject} DrawObject */
/** @typedef {import('../protocol.js').BoardLayer} BoardLayer */
/** @typedef {import('../whiteboard.js').HistoryEntry} HistoryEntry */
/** @typedef {import('../whiteboard.js').BoardOp} BoardOp */
/** @typedef {import('../whiteboard.js').View} View */

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

/**
 * A dashed box around the selected object.
 * @param {CanvasRenderingContext2D} ctx
 * @param {DrawObject} o
 * @param {View} v
 */
export function drawSelection(ctx, o, v) {
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
