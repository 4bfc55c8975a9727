// The client of the server's board, shared by the whiteboard (whiteboard.js) and the screen
// annotations (annotation.js).
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
// the history once the server confirmed it; an undo asked for while this browser's last action
// is not confirmed yet waits for it (else it would take back the action before).

import { t } from '../i18n.js';
import { boardAdd, boardUpdate, boardRemove, boardClear } from '../protocol.js';
import { setBoard } from '../hooks.js';
import { announce } from './announcer.js';
import { Board, History, inverseOp, forwardOp, layerKey, hookView, copyObject } from '../whiteboard.js';
/** @typedef {import('../protocol.js').BoardObject} BoardObject */
/** @typedef {import('../protocol.js').DrawObject} DrawObject */
/** @typedef {import('../protocol.js').BoardLayer} BoardLayer */
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
    /** Undos asked for while an action of ours was unconfirmed: done once it is. @private */
    this.undosWaiting = 0;
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

  /** Whether there is an action of this browser to undo (confirmed, or on its way). */
  get canUndo() {
    return this.history.canUndo || this.unconfirmed();
  }

  /**
   * Undo this browser's last action on the whiteboard. If the server has not confirmed an
   * action of ours yet (a drawing, a redo), the undo waits for it: it is the one to take back.
   */
  undo() {
    if (this.unconfirmed()) {
      this.undosWaiting += 1;
      return;
    }
    const entry = this.history.takeUndo();
    if (entry) this.send(inverseOp(entry), 'undo', entry);
    this.changed(new Set(['board']));
  }

  /**
   * Whether an action that will enter the history is still waiting for the server.
   * @private
   */
  unconfirmed() {
    return this.queue.some((r) => r.purpose === 'do' || r.purpose === 'redo');
  }

  /**
   * Runs the undos that waited, once nothing of ours is unconfirmed.
   * @private
   */
  runWaitingUndos() {
    while (this.undosWaiting > 0 && !this.unconfirmed()) {
      this.undosWaiting -= 1;
      this.undo();
    }
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
    // An undo that waited for a refused action has nothing to take back.
    if ((req.purpose === 'do' || req.purpose === 'redo') && this.undosWaiting > 0) this.undosWaiting -= 1;
    this.notify(t(/** @type {'board.refused.not_found'} */ (`board.refused.${code}`)));
    this.changed(layers);
    this.runWaitingUndos();
    return true;
  }

  dispose() {
    for (const off of this.offs) off();
    this.listeners.clear();
    this.board.reset();
    this.pending.clear();
    this.erasing.clear();
    this.queue = [];
    this.undosWaiting = 0;
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
    this.runWaitingUndos();
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
