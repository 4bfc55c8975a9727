// The "media blocked" banner (#media-blocked, role alert): some seconds after joining, when this
// participant's audio and video do not reach the server, the local network most probably
// blocks the media ports (FAQ, "Network requirements"). The banner says what to ask the IT
// support for, with the server's real ports and addresses (`GET /api/network`), and links to
// the FAQ. It goes away as soon as media flows.
//
// "Media flows" is: the ICE/DTLS connection is up, and either the server reports receiving our
// media (`stats` with `bitrate_in` > 0) or bytes arrive on the connection. Someone who is alone
// and publishes nothing therefore sees the banner only if the connection itself fails.

import { t } from '../i18n.js';
import { el } from './dom.js';
import { icon } from './icons.js';

/** How long media gets to start before the banner shows. */
export const GRACE_MS = 8000;
const CHECK_MS = 1000;
/** A server `stats` older than this no longer proves anything (they come every 2 s). */
const SERVER_STATS_FRESH_MS = 5000;

/**
 * @typedef {object} NetworkInfo  The answer of `GET /api/network` (docs/operations.md).
 * @property {{addresses: string[], udp_ports: [number, number]}} media
 * @property {number} https_port
 */

/**
 * @param {unknown} raw
 * @returns {NetworkInfo | null}
 */
export function parseNetworkInfo(raw) {
  if (!raw || typeof raw !== 'object') return null;
  const r = /** @type {Record<string, any>} */ (raw);
  const media = r.media;
  const ports = media?.udp_ports;
  const isPort = (/** @type {unknown} */ p) => Number.isInteger(p) && Number(p) > 0 && Number(p) < 65536;
  if (!media || !Array.isArray(media.addresses) || !media.addresses.every((/** @type {unknown} */ a) => typeof a === 'string')) return null;
  if (!Array.isArray(ports) || ports.length !== 2 || !ports.every(isPort) || !isPort(r.https_port)) return null;
  return { media: { addresses: media.addresses, udp_ports: [ports[0], ports[1]] }, https_port: r.https_port };
}

/** @returns {Promise<NetworkInfo | null>} */
async function fetchNetworkInfo() {
  try {
    const res = await fetch('/api/network', { cache: 'no-store', credentials: 'same-origin' });
    return res.ok ? parseNetworkInfo(await res.json()) : null;
  } catch {
    return null;
  }
}

/**
 * Loopback addresses are only worth naming to someone on the server itself.
 * @param {string[]} addresses
 * @param {string} hostname  location.hostname
 */
function shownAddresses(addresses, hostname) {
  const loopback = (/** @type {string} */ a) => a === '::1' || a === '[::1]' || a.startsWith('127.') || a === 'localhost';
  if (loopback(hostname)) return addresses;
  const others = addresses.filter((a) => !loopback(a));
  return others.length ? others : addresses;
}

/**
 * @typedef {object} MediaBlockedWatch
 * @property {(msg: import('../protocol.js').StatsMessage) => void} serverStats
 * @property {() => void} dispose
 */

/**
 * @param {{pc: RTCPeerConnection, notices: (node: HTMLElement) => void, graceMs?: number}} opts
 *   `notices` puts the banner where the meeting's notices go.
 * @returns {MediaBlockedWatch}
 */
export function watchMediaBlocked({ pc, notices, graceMs = GRACE_MS }) {
  const started = performance.now();
  let lastServerFlow = -Infinity;
  let lastBytes = -1;
  let stopped = false;
  let busy = false;
  /** @type {HTMLElement | null} */
  let banner = null;
  /** The person closed the banner: not shown again in this meeting. */
  let dismissed = false;
  /** @type {Promise<NetworkInfo | null> | null} */
  let network = null;

  const flowing = async () => {
    if (pc.connectionState !== 'connected') return false;
    if (performance.now() - lastServerFlow < SERVER_STATS_FRESH_MS) return true;
    let bytes = 0;
    const report = await pc.getStats();
    report.forEach((s) => {
      if ((s.type === 'transport' || s.type === 'candidate-pair') && typeof s.bytesReceived === 'number') {
        bytes = Math.max(bytes, s.bytesReceived);
      }
    });
    const grew = lastBytes >= 0 && bytes > lastBytes;
    lastBytes = bytes;
    return grew;
  };

  const show = async () => {
    if (banner || dismissed) return;
    network ??= fetchNetworkInfo();
    const info = await network;
    if (stopped || banner || dismissed) return;
    const text = el('p', { className: 'notice-body' });
    text.append(t('mediaBlocked.title'), ' ');
    if (info) {
      const [min, max] = info.media.udp_ports;
      text.append(t('mediaBlocked.ask', {
        udp: min === max ? String(min) : `${min}-${max}`,
        tcp: String(info.https_port),
        addresses: shownAddresses(info.media.addresses, location.hostname).join(', '),
      }));
    } else {
      text.append(t('mediaBlocked.askUnknown'));
    }
    text.append(' ', el('a', { attrs: { href: '/faq', target: '_blank', rel: 'noopener' }, text: t('mediaBlocked.faq') }));
    banner = el('div', {
      id: 'media-blocked',
      className: 'notice notice-warning',
      attrs: { role: 'alert' },
    }, [icon('warning', 'icon notice-icon'), text]);
    if (info) {
      banner.dataset.udpPorts = info.media.udp_ports.join('-');
      banner.dataset.tcpPort = String(info.https_port);
    }
    notices(banner);
    // The notice's close button removes it: remember, so that it does not come back.
    const node = banner;
    new MutationObserver((_, obs) => {
      if (!node.isConnected && banner === node) {
        dismissed = true;
        banner = null;
        obs.disconnect();
      }
    }).observe(node.parentElement ?? document.body, { childList: true });
  };

  const hide = () => {
    const node = banner;
    banner = null;
    node?.remove();
  };

  const check = async () => {
    if (stopped || busy) return;
    busy = true;
    try {
      const ok = await flowing();
      if (stopped) return;
      if (ok) hide();
      else if (performance.now() - started >= graceMs) await show();
    } catch (err) {
      console.debug('webconf: media check failed', err);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(check, CHECK_MS);

  return {
    serverStats: (msg) => {
      if (msg.bitrate_in > 0) lastServerFlow = performance.now();
    },
    dispose: () => {
      stopped = true;
      clearInterval(timer);
      hide();
    },
  };
}
