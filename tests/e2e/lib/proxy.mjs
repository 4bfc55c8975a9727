// A TCP relay on loopback in front of the server, for tests that break a browser's signaling
// socket the way a network does (a reset without a WebSocket closing handshake) while its
// media, which does not go through the relay, keeps flowing.
import net from 'node:net';

/**
 * Starts a relay on 127.0.0.1 (a free port) to `target` (`{host, port}`). `url` is the https
 * origin to open pages through it. `cut()` destroys every relayed connection at once (both
 * sides see the TCP connection end without a closing handshake); `refuse(true)` makes new
 * connections fail (closed as soon as accepted) until `refuse(false)`; `connections` counts the
 * connections accepted so far; `stop()` closes it.
 * @param {{host: string, port: number}} target
 */
export async function startTcpRelay(target) {
  /** @type {Set<net.Socket>} */
  const open = new Set();
  let refusing = false;
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted += 1;
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => {});
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    get connections() {
      return accepted;
    },
    /** Ends every relayed connection now; returns how many sockets were ended. */
    cut() {
      const n = open.size;
      for (const s of [...open]) s.destroy();
      return n;
    },
    /** @param {boolean} on */
    refuse(on) {
      refusing = on;
    },
    stop() {
      for (const s of [...open]) s.destroy();
      return new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}
