// Raw signaling sockets (re-exported by ../harness.mjs).
import { safeJson } from './poll.mjs';

// ---------------------------------------------------------------------------------------------
// Raw signaling sockets

/**
 * Opens a signaling WebSocket to `url` with `Origin: origin` (null: no Origin header) and
 * resolves with a small client once it is open: `sendJson(obj)`, `next(timeoutMs)` (the next
 * message, parsed), `nextOfType(type, timeoutMs)`, `seen` (every message), `close` (the close
 * code and reason once closed) and `closed` (a promise of it). Rejects with `{status}` when the
 * upgrade is refused. The `ws` package is imported lazily so that pages-only tests need not
 * load it.
 */
export async function connectSignaling(url, { origin, label = 'raw socket' } = {}) {
  const { default: WebSocket } = await import('ws');
  return new Promise((resolve, reject) => {
    const headers = origin === null || origin === undefined ? {} : { Origin: origin };
    const ws = new WebSocket(url, { rejectUnauthorized: false, headers, maxPayload: 1 << 20 });
    const client = {
      ws,
      label,
      inbox: [],
      seen: [],
      waiters: [],
      close: null,
      closed: new Promise((r) => ws.once('close', (code, reason) => r({ code, reason: String(reason) }))),
      /** Sends raw data (text or, with `{binary: true}`, a binary frame). */
      send(data, opts) {
        ws.send(data, opts);
      },
      sendJson(obj) {
        ws.send(JSON.stringify(obj));
      },
      next(timeoutMs = 3000) {
        if (client.inbox.length) return Promise.resolve(client.inbox.shift());
        return new Promise((res, rej) => {
          const timer = setTimeout(() => {
            client.waiters = client.waiters.filter((w) => w !== waiter);
            rej(new Error(`${label}: no message within ${timeoutMs} ms (seen so far: ${safeJson(client.seen)}, close: ${safeJson(client.close)})`));
          }, timeoutMs);
          const waiter = (m) => {
            clearTimeout(timer);
            res(m);
          };
          client.waiters.push(waiter);
        });
      },
      async nextOfType(type, timeoutMs = 3000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const m = await client.next(Math.max(1, deadline - Date.now()));
          if (m && m.type === type) return m;
        }
      },
      terminate() {
        ws.terminate();
      },
    };
    ws.on('message', (data, isBinary) => {
      let m;
      try {
        m = isBinary ? { binaryFrame: data.length } : JSON.parse(String(data));
      } catch {
        m = { unparsable: String(data).slice(0, 200) };
      }
      client.seen.push(m);
      const w = client.waiters.shift();
      if (w) w(m);
      else client.inbox.push(m);
    });
    ws.once('close', (code, reason) => {
      client.close = { code, reason: String(reason) };
    });
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (req, res) => {
      reject(Object.assign(new Error(`${label}: upgrade refused with HTTP ${res.statusCode}`), { status: res.statusCode }));
      req.destroy();
    });
    ws.once('error', (e) => reject(e));
  });
}
