// A network namespace per test, for the resilience tests (tests/e2e/resilience.test.mjs): a
// browser runs inside it and reaches the server, in the host namespace, through a veth pair
// whose traffic nftables can cut or randomly drop, and whose downlink `tc` can shape into a
// bottleneck (./shaper.mjs, for tests/e2e/bandwidth.test.mjs). Needs root, `ip` and `tc`
// (iproute2) and `nft` (nftables); runs only when WEBCONF_NETNS_TESTS=1 (.ci/run sets it; CI
// runs as root).
//
// Addresses: 198.18.x.0/29 (RFC 2544 benchmarking range, never routed), one x per namespace:
// host side 198.18.x.1, namespace side 198.18.x.2, and 198.18.x.3 for an address change (a /29
// rather than a /30, whose .3 would be the broadcast address). Nothing is routed: the server
// listens on 198.18.x.1, which the namespace reaches on-link.
//
// IPv6 (`createNetns(t, { ipv6: true })`; the default is IPv4 only, IPv6 disabled on the pair):
// unique-local fd00:198:18:x::/64 besides the IPv4 addresses, host side fd00:198:18:x::1,
// namespace side ::2, and ::3 for an address change (`moveAddress(6)`). The addresses are added
// with `nodad` and the pair generates no link-local address (`addrgenmode none`), so nothing
// appears a moment later (an address appearing makes browsers abort loads); neighbour discovery
// runs from the unique-local addresses. The nftables table is `inet`: `cut` and `drop` apply to
// both families (ICMPv6, hence neighbour discovery, included). Used by the IPv6 variants of
// tests/e2e/resilience.test.mjs (Bob reaches the server at https://[fd00:198:18:x::1]).
// One difference with IPv4 matters to them: after `moveAddress(6)` Linux still sends an
// established TCP socket's packets from the deleted address (IPv4 does not route them), so what
// the browser sends on its old signaling socket (a close frame) still reaches the server.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { shapeLink, unshapeLink } from './shaper.mjs';

const run = promisify(execFile);

/** The switch that turns the namespace tests on. */
export const NETNS_SWITCH = 'WEBCONF_NETNS_TESTS';

/**
 * Why the namespace tests cannot run here, or null when they can. The message says how to turn
 * them on (node:test prints it as the skip reason).
 * @returns {string | null}
 */
export function netnsSkipReason() {
  const how = `needs root, network namespaces and nftables: run as root with ${NETNS_SWITCH}=1 ` +
    '(.ci/run does; apt-get install nftables iproute2)';
  if (process.env[NETNS_SWITCH] !== '1') return `${NETNS_SWITCH} is not 1: ${how}`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return `not root: ${how}`;
  for (const tool of ['/usr/sbin/ip', '/usr/sbin/nft', '/usr/sbin/tc']) {
    const found = fs.existsSync(tool) || (process.env.PATH || '').split(':').some((d) => fs.existsSync(path.join(d, path.basename(tool))));
    if (!found) return `${path.basename(tool)} is missing: ${how}`;
  }
  return null;
}

/** Runs a command; rejects with its stderr. */
async function sh(cmd, args) {
  try {
    const { stdout } = await run(cmd, args, { timeout: 15000 });
    return stdout;
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(e.stderr || e.message || String(e)).trim()}`);
  }
}

/** The x of 198.18.x.0/29 in use on the host (our own or another test file's). */
async function usedIndexes() {
  const out = await sh('ip', ['-o', '-4', 'addr', 'show']);
  const used = new Set();
  for (const m of out.matchAll(/198\.18\.(\d+)\.\d+/g)) used.add(Number(m[1]));
  // An IPv6 namespace has its IPv4 addresses too; its /64 is checked all the same.
  const out6 = await sh('ip', ['-o', '-6', 'addr', 'show']).catch(() => '');
  for (const m of out6.matchAll(/fd00:198:18:(\d+)::/g)) used.add(Number(m[1]));
  return used;
}

const TABLE = 'webconf_e2e';

/**
 * @typedef {object} Netns
 * @property {string} name       The namespace (`ip netns exec <name>`).
 * @property {string} hostAddr   198.18.x.1: the server's address for this namespace.
 * @property {string} nsAddr     The namespace's current address (198.18.x.2, then .3).
 * @property {string} altAddr    198.18.x.3, for `changeAddress`.
 * @property {string | null} hostAddr6  fd00:198:18:x::1 with `ipv6`, else null (no brackets).
 * @property {string | null} nsAddr6    The namespace's current IPv6 address (::2, then ::3), or
 *   null.
 * @property {string | null} altAddr6   fd00:198:18:x::3 with `ipv6`, else null.
 * @property {string} chromium   A wrapper that starts Chromium inside the namespace.
 * @property {(...args: string[]) => Promise<string>} exec  A command inside the namespace.
 * @property {() => Promise<void>} cut      Drop every packet of the veth, both ways.
 * @property {(percent: number) => Promise<void>} drop  Drop `percent` % of the packets at
 *   random, each way (`numgen random mod 100 < N drop`).
 * @property {(shape: import('./shaper.mjs').LinkShape) => Promise<void>} shape  Make the
 *   namespace's downlink (what the host sends it through the veth) a bottleneck: a token bucket
 *   with a queue on the host end's egress (./shaper.mjs); the uplink is untouched.
 * @property {() => Promise<void>} restore  Remove the cut, the drop or the shape.
 * @property {(family?: 4 | 6) => Promise<string>} moveAddress  Replace the namespace's address
 *   by the other one (.2 ↔ .3, or with `6` ::2 ↔ ::3), as a laptop moving from Wi-Fi to cable
 *   does; returns the new one.
 * @property {() => Promise<void>} destroy  Remove everything (idempotent).
 */

/**
 * Creates a namespace with a veth pair to the host and an nftables table (accepting everything
 * until told otherwise). Registers its removal with `t.after` (node:test), so it goes even when
 * the test fails. `ipv6` adds IPv6 on the pair (see the header), besides IPv4.
 * @param {{after: (fn: () => Promise<void> | void) => void}} t
 * @param {{ipv6?: boolean}} [options]
 * @returns {Promise<Netns>}
 */
export async function createNetns(t, { ipv6 = false } = {}) {
  const used = await usedIndexes();
  let x = 0;
  for (let i = 0; i < 250; i++) {
    const candidate = 1 + ((process.pid + i * 7) % 250);
    if (!used.has(candidate) && !fs.existsSync(`/run/netns/wcf${candidate}`)) {
      x = candidate;
      break;
    }
  }
  if (!x) throw new Error('no free 198.18.x.0/29 for a test namespace');
  const name = `wcf${x}`;
  const hostIf = `wcf${x}h`;
  const nsIf = `wcf${x}n`;
  const hostAddr = `198.18.${x}.1`;
  const addrs = [`198.18.${x}.2`, `198.18.${x}.3`];
  let current = 0;
  const hostAddr6 = ipv6 ? `fd00:198:18:${x}::1` : null;
  const addrs6 = ipv6 ? [`fd00:198:18:${x}::2`, `fd00:198:18:${x}::3`] : [];
  let current6 = 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `webconf-netns-${x}-`));
  const chromium = path.join(dir, 'chromium-in-netns');

  let destroyed = false;
  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    // The shape is on the host end; it goes with the pair, but remove it first anyway.
    await unshapeLink(hostIf);
    await sh('ip', ['netns', 'del', name]).catch(() => {});
    // Deleting the namespace deletes its end of the pair, and with it ours; just in case:
    await sh('ip', ['link', 'del', hostIf]).catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  };
  t.after(destroy);

  const exec = (...args) => sh('ip', ['netns', 'exec', name, ...args]);
  try {
    await sh('ip', ['netns', 'add', name]);
    await sh('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    await sh('ip', ['link', 'set', nsIf, 'netns', name]);
    if (ipv6) {
      // IPv6 without link-local addresses (they would come up after DAD, a moment later, and
      // every address change makes the host's browsers abort loads: ERR_NETWORK_CHANGED), and
      // unique-local ones usable at once (nodad).
      fs.writeFileSync(`/proc/sys/net/ipv6/conf/${hostIf}/disable_ipv6`, '0');
      await exec('sh', '-c', `echo 0 > /proc/sys/net/ipv6/conf/${nsIf}/disable_ipv6`);
      await sh('ip', ['link', 'set', 'dev', hostIf, 'addrgenmode', 'none']);
      await exec('ip', 'link', 'set', 'dev', nsIf, 'addrgenmode', 'none');
      await sh('ip', ['-6', 'addr', 'add', `${hostAddr6}/64`, 'dev', hostIf, 'nodad']);
      await exec('ip', '-6', 'addr', 'add', `${addrs6[0]}/64`, 'dev', nsIf, 'nodad');
    } else {
      // No IPv6 on the pair: its link-local addresses would come up (DAD) a moment later, and
      // every address change makes the host's browsers abort loads (ERR_NETWORK_CHANGED).
      fs.writeFileSync(`/proc/sys/net/ipv6/conf/${hostIf}/disable_ipv6`, '1');
      await exec('sh', '-c', `echo 1 > /proc/sys/net/ipv6/conf/${nsIf}/disable_ipv6`);
    }
    await sh('ip', ['addr', 'add', `${hostAddr}/29`, 'dev', hostIf]);
    await sh('ip', ['link', 'set', hostIf, 'up']);
    await exec('ip', 'link', 'set', 'lo', 'up');
    // Deleting the primary address must keep the secondary one (moveAddress).
    await exec('sh', '-c', `echo 1 > /proc/sys/net/ipv4/conf/${nsIf}/promote_secondaries`);
    await exec('ip', 'addr', 'add', `${addrs[0]}/29`, 'dev', nsIf);
    await exec('ip', 'link', 'set', nsIf, 'up');
    // One table, two chains on the veth; `restore` empties them.
    await exec('nft', `add table inet ${TABLE}`);
    await exec('nft', `add chain inet ${TABLE} in { type filter hook input priority 0; policy accept; }`);
    await exec('nft', `add chain inet ${TABLE} out { type filter hook output priority 0; policy accept; }`);
    fs.writeFileSync(chromium, `#!/bin/sh\nexec ip netns exec ${name} "\${CHROMIUM_BIN:-/usr/bin/chromium}" "$@"\n`, { mode: 0o755 });
  } catch (e) {
    await destroy();
    throw e;
  }

  const rules = async (rule) => {
    await exec('nft', `flush chain inet ${TABLE} in`);
    await exec('nft', `flush chain inet ${TABLE} out`);
    if (rule) {
      await exec('nft', `add rule inet ${TABLE} in iifname "${nsIf}" ${rule}`);
      await exec('nft', `add rule inet ${TABLE} out oifname "${nsIf}" ${rule}`);
    }
  };

  return {
    name,
    hostAddr,
    get nsAddr() {
      return addrs[current];
    },
    altAddr: addrs[1],
    hostAddr6,
    get nsAddr6() {
      return ipv6 ? addrs6[current6] : null;
    },
    altAddr6: ipv6 ? addrs6[1] : null,
    chromium,
    exec,
    cut: () => rules('drop'),
    drop: (percent) => {
      const n = Math.round(percent);
      if (!(n >= 0 && n <= 100)) throw new Error(`bad percentage ${percent}`);
      // nft refuses `< 100` (out of 0-99) and `< 0` would drop nothing: those two as such.
      if (n === 100) return rules('drop');
      if (n === 0) return rules(null);
      return rules(`numgen random mod 100 < ${n} drop`);
    },
    shape: (shape) => shapeLink(hostIf, shape),
    restore: async () => {
      await unshapeLink(hostIf);
      await rules(null);
    },
    async moveAddress(family = 4) {
      if (family === 6) {
        if (!ipv6) throw new Error('moveAddress(6) needs createNetns(t, { ipv6: true })');
        const next6 = 1 - current6;
        await exec('ip', '-6', 'addr', 'add', `${addrs6[next6]}/64`, 'dev', nsIf, 'nodad');
        await exec('ip', '-6', 'addr', 'del', `${addrs6[current6]}/64`, 'dev', nsIf);
        current6 = next6;
        return addrs6[current6];
      }
      const next = 1 - current;
      await exec('ip', 'addr', 'add', `${addrs[next]}/29`, 'dev', nsIf);
      await exec('ip', 'addr', 'del', `${addrs[current]}/29`, 'dev', nsIf);
      current = next;
      return addrs[current];
    },
    destroy,
  };
}
