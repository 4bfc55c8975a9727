// The signaling channel: one WebSocket to `/ws`, JSON text frames, typed dispatch of server
// messages, and an application-level `ping` every 10 s that also detects a dead link.

import { parseServerMessage } from './protocol.js';

/** @typedef {import('./protocol.js').ClientMessage} ClientMessage */
/** @typedef {import('./protocol.js').ServerMessage} ServerMessage */
/** @typedef {ServerMessage['type']} ServerMessageType */

/**
 * @template {ServerMessageType} T
 * @typedef {(msg: Extract<ServerMessage, {type: T}>) => void} Handler
 */

/**
 * How the socket ended. `expected` is true when this client asked for it (`close()`).
 * @typedef {object} CloseInfo
 * @property {boolean} expected
 * @property {number} code
 * @property {string} reason
 */

/** Milliseconds between two `ping`s (docs/protocol.md: the server drops a silent peer at 15 s). */
export const PING_INTERVAL_MS = 10_000;
/** A `ping` left without any frame from the server for longer than this means a dead link.
 * Measured from the first unanswered ping, not from the last frame, so that timers throttled in
 * a background tab do not make a live link look dead. */
export const DEAD_LINK_MS = 15_000;

/** The WebSocket URL of the server that served this page. */
export function signalingUrl() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/ws`;
}

export class Signaling {
  /** @param {string} [url] */
  constructor(url = signalingUrl()) {
    /** @private */ this.url = url;
    /** @private @type {WebSocket | null} */ this.ws = null;
    /** @private @type {Map<string, Set<(msg: any) => void>>} */ this.handlers = new Map();
    /** @private @type {Set<(info: CloseInfo) => void>} */ this.closeHandlers = new Set();
    /** @private */ this.closing = false;
    /** @private */ this.closed = false;
    /** @private @type {ReturnType<typeof setInterval> | undefined} */ this.pingTimer = undefined;
    /** @private @type {number | null} */ this.unansweredSince = null;
  }

  /**
   * Open the socket. Resolves once it is open; rejects if it cannot be opened. May be called
   * again after the socket was lost (not after `close()`): a new socket, the same subscribers
   * (`resume`, docs/protocol.md).
   * @returns {Promise<void>}
   */
  connect() {
    return new Promise((resolve, reject) => {
      if (this.closing) {
        reject(new Error('this signaling channel was closed'));
        return;
      }
      this.closed = false;
      this.unansweredSince = null;
      let opened = false;
      let ws;
      try {
        ws = new WebSocket(this.url);
      } catch (err) {
        reject(err);
        return;
      }
      this.ws = ws;
      // Events of a socket given up for a newer one are ignored.
      ws.addEventListener('open', () => {
        if (this.ws !== ws) return;
        opened = true;
        this.pingTimer = setInterval(() => this.tick(), PING_INTERVAL_MS);
        resolve();
      });
      ws.addEventListener('message', (ev) => {
        if (this.ws === ws) this.onFrame(ev);
      });
      ws.addEventListener('close', (ev) => {
        if (!opened) reject(new Error(`WebSocket closed before opening (code ${ev.code})`));
        if (this.ws !== ws) return;
        this.finish({ expected: this.closing, code: ev.code, reason: ev.reason });
      });
      // 'error' is always followed by 'close', which does the work.
    });
  }

  /**
   * Subscribe to one type of server message. Returns a function that unsubscribes.
   * @template {ServerMessageType} T
   * @param {T} type
   * @param {Handler<T>} handler
   * @returns {() => void}
   */
  on(type, handler) {
    let set = this.handlers.get(type);
    if (!set) {
      set = new Set();
      this.handlers.set(type, set);
    }
    set.add(handler);
    return () => set.delete(handler);
  }

  /**
   * Be told once when the socket is gone, whoever closed it.
   * @param {(info: CloseInfo) => void} handler
   */
  onClose(handler) {
    this.closeHandlers.add(handler);
  }

  /**
   * Send one message. Returns false when the socket is not open (nothing is queued).
   * @param {ClientMessage} msg
   * @returns {boolean}
   */
  send(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    try {
      this.ws.send(JSON.stringify(msg));
      return true;
    } catch {
      return false;
    }
  }

  /** Close the socket on purpose; close handlers see `expected: true`. Idempotent. */
  close() {
    this.closing = true;
    if (this.ws && this.ws.readyState !== WebSocket.CLOSED) this.ws.close(1000);
    // Do not wait for the closing handshake to stop the timers.
    this.finish({ expected: true, code: 1000, reason: '' });
  }

  /** Give up the current socket quietly (an attempt to take the session back that went
   * nowhere): no close handler runs, the subscribers stay for the next `connect()`. */
  abandon() {
    const ws = this.ws;
    this.ws = null;
    this.closed = true;
    clearInterval(this.pingTimer);
    if (ws && ws.readyState !== WebSocket.CLOSED) ws.close(1000);
  }

  /** Give up a socket known to be dead (the network under it changed): close handlers see
   * `expected: false`. */
  drop() {
    if (this.closed) return;
    console.warn('webconf: the network changed under the socket, closing it');
    this.ws?.close(4000, 'dead link');
    this.finish({ expected: false, code: 4000, reason: 'dead link' });
  }

  /** @private */
  tick() {
    const now = Date.now();
    if (this.unansweredSince !== null && now - this.unansweredSince > DEAD_LINK_MS) {
      console.warn('webconf: no news from the server, closing the socket');
      this.ws?.close(4000, 'dead link');
      this.finish({ expected: false, code: 4000, reason: 'dead link' });
      return;
    }
    this.unansweredSince ??= now;
    this.send({ type: 'ping' });
  }

  /**
   * @private
   * @param {MessageEvent} ev
   */
  onFrame(ev) {
    this.unansweredSince = null;
    if (typeof ev.data !== 'string') {
      console.warn('webconf: ignoring a binary frame from the server');
      return;
    }
    const msg = parseServerMessage(ev.data);
    if (!msg) {
      console.warn('webconf: ignoring a malformed message from the server', ev.data.slice(0, 200));
      return;
    }
    const set = this.handlers.get(msg.type);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        handler(msg);
      } catch (err) {
        console.error(`webconf: handler for "${msg.type}" failed`, err);
      }
    }
  }

  /**
   * @private
   * @param {CloseInfo} info
   */
  finish(info) {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    for (const handler of [...this.closeHandlers]) {
      try {
        handler(info);
      } catch (err) {
        console.error('webconf: close handler failed', err);
      }
    }
    // A lost socket keeps its subscribers for `connect()` again; a closed channel is done.
    if (info.expected) {
      this.closeHandlers.clear();
      this.handlers.clear();
    }
  }
}
