// A bottleneck link for the namespace tests (tests/e2e/lib/netns.mjs): a token bucket filter
// (`tc qdisc ... tbf`) as the root qdisc of one interface, which shapes what leaves it.
//
// Shaping, not policing: packets above the rate wait in a queue (up to `latencyMs` of it) and
// only what overflows the queue is dropped, as on a real access link (a DSL or cable modem, a
// congested Wi-Fi). A policer (nftables `limit rate over`) drops at once and lets a burst pass
// at full speed, so a congestion controller's probes see capacity that is not there and its
// delay detector sees no queue; behind a shaper both see the link as it is.
//
// Needs root and `tc` (iproute2). `tc netem` is not needed (and not on every kernel).

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * @typedef {object} LinkShape
 * @property {number} kbitPerSecond  The link's rate, kbit/s (1000 bit/s).
 * @property {number} [latencyMs]  How long a packet may wait in the queue before the link drops
 *   it (the queue's depth, in time at the rate). Default 150 ms: the buffer of a typical access
 *   link (100 to 200 ms), enough for a congestion controller to see the queue grow before losses.
 * @property {number} [burstBytes]  The bucket: what may leave at once above the rate. Default
 *   two full-size packets or 10 ms at the rate, whichever is more: a link serializes at its rate;
 *   the slack only absorbs the kernel's timer granularity.
 */

/** The smallest bucket: two full-size Ethernet frames (a tbf bucket below one MTU stalls). */
const MIN_BURST = 2 * 1514;

/**
 * The `tc` arguments that make `dev`'s root qdisc the link `shape` describes. Pure (for tests);
 * throws on a rate, latency or burst out of range.
 * @param {string} dev
 * @param {LinkShape} shape
 * @returns {string[]}
 */
export function tbfArgs(dev, { kbitPerSecond, latencyMs = 150, burstBytes }) {
  const rate = Math.round(kbitPerSecond);
  if (!(rate >= 8 && rate <= 10_000_000)) throw new Error(`bad rate ${kbitPerSecond} kbit/s`);
  const latency = Math.round(latencyMs);
  if (!(latency >= 1 && latency <= 10_000)) throw new Error(`bad latency ${latencyMs} ms`);
  const burst = Math.round(burstBytes ?? Math.max(MIN_BURST, (rate * 1000) / 8 / 100));
  if (!(burst >= MIN_BURST && burst <= 100_000_000)) throw new Error(`bad burst ${burstBytes} bytes`);
  return ['qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', `${rate}kbit`, 'burst', `${burst}`, 'latency', `${latency}ms`];
}

/** Runs `tc` in the host namespace; rejects with its stderr. */
async function tc(args) {
  try {
    await run('tc', args, { timeout: 15000 });
  } catch (e) {
    throw new Error(`tc ${args.join(' ')} failed: ${(e.stderr || e.message || String(e)).trim()}`);
  }
}

/**
 * Shapes what leaves `dev` (in the host namespace) to `shape` (replacing any previous shape).
 * @param {string} dev
 * @param {LinkShape} shape
 */
export async function shapeLink(dev, shape) {
  await tc(tbfArgs(dev, shape));
}

/**
 * Removes `dev`'s shape (back to its default qdisc). Idempotent: an interface without a root
 * qdisc, or gone, is fine.
 * @param {string} dev
 */
export async function unshapeLink(dev) {
  await tc(['qdisc', 'del', 'dev', dev, 'root']).catch(() => {});
}
