// The connection indicator of every tile (one's own included): a small button
// `.conn-indicator[data-quality]` (good / fair / poor / lost; idle on a remote tile whose
// participant's media the server does not forward to us, outside the last-N) whose hover or
// keyboard focus shows `.conn-details`, the figures of connstats.js ("N/A" where no media
// flows). Refreshed every 2 s from the connection's statistics and the server's `stats`
// messages, until the meeting ends.

import { getLanguage, t } from '../i18n.js';
import { computeFigures, figureNames, formatFigure, NO_FIGURES } from '../connstats.js';
import { msidForMid } from '../sdp.js';
import { cameraOwner, forwardedMedia, forwardedParticipants, microphoneOwner, slotPools } from '../slots.js';
import { el } from './dom.js';

/** @typedef {import('../connstats.js').Figures} Figures */
/** @typedef {import('../connstats.js').FigureName} FigureName */

const REFRESH_MS = 2000;

/** @type {Record<FigureName, import('../i18n.js').MessageKey>} */
const LABELS = {
  bitrateUp: 'conn.bitrateUp',
  bitrateDown: 'conn.bitrateDown',
  lossUp: 'conn.lossUp',
  lossDown: 'conn.lossDown',
  rtt: 'conn.rtt',
  resolution: 'conn.resolution',
  frameRate: 'conn.frameRate',
  codecs: 'conn.codecs',
  transport: 'conn.transport',
  serverPort: 'conn.serverPort',
};

/** @type {Record<import('../connstats.js').Quality, import('../i18n.js').MessageKey>} */
const QUALITY = {
  good: 'conn.quality.good',
  fair: 'conn.quality.fair',
  poor: 'conn.quality.poor',
  lost: 'conn.quality.lost',
  idle: 'conn.quality.idle',
};

/**
 * @typedef {object} ConnectionIndicators
 * @property {(msg: import('../protocol.js').StatsMessage) => void} serverStats
 * @property {() => void} dispose
 */

/**
 * Who each RTP stream belongs to, from the transceivers and the descriptions' `a=msid`; a
 * microphone or camera slot is whoever the latest `slots` table says it carries now (`slotOf`),
 * so its bytes since the previous sample count for that tile. `forwarded`: the participants
 * the table's slots carry (`slotTable`) and the owners of the per-participant m-lines we
 * receive, each only for a kind `media` does not say is off; `pools`: how many slots of each
 * kind are open and free.
 * @param {RTCPeerConnection} pc
 * @param {(mid: string) => string | null | undefined} slotOf
 * @param {() => Iterable<readonly [string, string | null]>} slotTable
 * @param {ReadonlyMap<string, {audio: boolean, video: boolean}>} media
 * @returns {import('../connstats.js').Owners}
 */
function ownersOf(pc, slotOf, slotTable, media) {
  const remoteSdp = pc.remoteDescription?.sdp ?? '';
  const localSdp = pc.localDescription?.sdp ?? '';
  /** @type {Map<string, string>} */ const byMid = new Map();
  /** @type {Map<string, string>} */ const byTrack = new Map();
  /** @type {Set<string>} */ const ownMids = new Set();
  /** @type {Set<string>} */ const ownTracks = new Set();
  /** @type {Array<{msid: {stream: string, track: string | null} | null, kind: string, mid: string}>} */
  const receiving = [];
  for (const tr of pc.getTransceivers()) {
    if (!tr.mid || tr.currentDirection === 'stopped') continue;
    const dir = tr.currentDirection ?? tr.direction;
    if (dir === 'sendonly' || dir === 'sendrecv') {
      // Our camera and microphone; a shared screen has the stream id `screen`.
      if (msidForMid(localSdp, tr.mid)?.stream === 'screen') continue;
      ownMids.add(tr.mid);
      if (tr.sender.track) ownTracks.add(tr.sender.track.id);
    } else {
      const msid = msidForMid(remoteSdp, tr.mid);
      if (dir === 'recvonly') receiving.push({ msid, kind: tr.receiver.track.kind, mid: tr.mid });
      // A camera or a microphone by its msid, or in a slot by the table. Screens are not the
      // participant's tile.
      const owner = cameraOwner(msid, tr.mid, slotOf) ?? microphoneOwner(msid, tr.mid, slotOf);
      if (!owner) continue;
      byMid.set(tr.mid, owner);
      if (tr.receiver.track) byTrack.set(tr.receiver.track.id, owner);
    }
  }
  return {
    byMid,
    byTrack,
    ownMids,
    ownTracks,
    forwarded: forwardedParticipants(forwardedMedia(slotTable(), receiving), media),
    pools: slotPools(receiving, slotOf),
  };
}

/**
 * Give every tile of `tiles` an indicator and keep them up to date. `slotOf` reads the latest
 * `slots` table (mediafeatures.js), `slotTable` lists its slots (mid → participant id or
 * null); without them, slots count for nobody. `roster`: the other participants and what they
 * say they send (the `idle` state is for those of them the last-N leaves out; without it, none
 * is `idle`; a slot carrying a microphone or camera they say is off counts for nothing).
 * @param {{tiles: HTMLElement, pc: RTCPeerConnection,
 *   slotOf?: (mid: string) => string | null | undefined,
 *   slotTable?: () => Iterable<readonly [string, string | null]>,
 *   roster?: () => ReadonlyMap<string, {audio: boolean, video: boolean}>}} opts
 * @returns {ConnectionIndicators}
 */
export function attachConnectionIndicators({
  tiles, pc, slotOf = () => undefined, slotTable = () => [], roster = () => new Map(),
}) {
  /** @type {import('../protocol.js').StatsMessage | null} */
  let server = null;
  /** @type {import('../connstats.js').StatsSample | null} */
  let previous = null;
  /** @type {{self: Figures, remote: Map<string, Figures>}} */
  let latest = { self: { ...NO_FIGURES }, remote: new Map() };
  let stopped = false;
  let busy = false;
  let serial = 0;

  /** @param {HTMLElement} tile */
  const figuresOf = (tile) => (tile.dataset.local === 'true'
    ? latest.self
    : latest.remote.get(tile.dataset.participantId ?? '') ?? NO_FIGURES);

  /**
   * Create the indicator of a tile if it has none, then show its figures.
   * @param {HTMLElement} tile
   */
  const render = (tile) => {
    let box = tile.querySelector(':scope > .conn');
    if (!(box instanceof HTMLElement)) {
      serial += 1;
      const detailsId = `conn-details-${serial}`;
      const details = el('div', { id: detailsId, className: 'conn-details', attrs: { role: 'group' } });
      details.hidden = true;
      const button = el('button', {
        className: 'conn-indicator',
        attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': detailsId },
      }, [el('span', { className: 'conn-bars', attrs: { 'aria-hidden': 'true' } }, [
        el('span'), el('span'), el('span'),
      ])]);
      const show = (/** @type {boolean} */ on) => {
        details.hidden = !on;
        button.setAttribute('aria-expanded', String(on));
      };
      // Hover or keyboard focus shows the figures; Escape hides them (WCAG 1.4.13).
      const boxEl = el('div', { className: 'conn' }, [button, details]);
      boxEl.addEventListener('mouseenter', () => show(true));
      boxEl.addEventListener('mouseleave', () => show(boxEl.contains(document.activeElement)));
      button.addEventListener('focus', () => show(true));
      button.addEventListener('blur', () => show(false));
      button.addEventListener('click', () => show(details.hidden));
      boxEl.addEventListener('keydown', (ev) => {
        if (ev.key === 'Escape' && !details.hidden) {
          ev.stopPropagation();
          show(false);
        }
      });
      tile.append(boxEl);
      box = boxEl;
    }
    const button = box.querySelector('.conn-indicator');
    const details = box.querySelector('.conn-details');
    if (!(button instanceof HTMLElement) || !(details instanceof HTMLElement)) return;
    const f = figuresOf(tile);
    const label = t('conn.label', { quality: t(QUALITY[f.quality]) });
    if (button.dataset.quality !== f.quality) button.dataset.quality = f.quality;
    if (button.getAttribute('aria-label') !== label) button.setAttribute('aria-label', label);
    const opts = { locale: getLanguage(), na: t('conn.na'), relay: t('conn.relay') };
    const rows = figureNames(tile.dataset.local === 'true').map((name) =>
      el('div', { className: 'conn-row', data: { figure: name } }, [
        el('dt', { text: t(LABELS[name]) }),
        el('dd', { text: formatFigure(f, name, opts) }),
      ]));
    details.replaceChildren(
      el('p', { className: 'conn-title', text: t('conn.title', { quality: t(QUALITY[f.quality]) }) }),
      el('dl', {}, rows),
    );
    details.dataset.quality = f.quality;
  };

  const renderAll = () => {
    for (const tile of tiles.querySelectorAll(':scope > .tile[data-participant-id]')) {
      if (tile instanceof HTMLElement) render(tile);
    }
  };

  const refresh = async () => {
    if (stopped || busy || pc.connectionState === 'closed') return;
    busy = true;
    try {
      const report = await pc.getStats();
      if (stopped) return;
      /** @type {import('../connstats.js').StatLike[]} */
      const stats = [];
      report.forEach((s) => stats.push(s));
      const current = { at: performance.now(), stats };
      const others = roster();
      latest = computeFigures(previous, current, ownersOf(pc, slotOf, slotTable, others), server, others);
      previous = current;
      renderAll();
    } catch (err) {
      console.debug('webconf: connection statistics unavailable', err);
    } finally {
      busy = false;
    }
  };

  // New tiles get their indicator at once (figures from the last refresh).
  const observer = new MutationObserver((records) => {
    if (records.some((r) => [...r.addedNodes].some((n) => n instanceof HTMLElement && n.matches('.tile')))) {
      renderAll();
    }
  });
  observer.observe(tiles, { childList: true });
  renderAll();
  const timer = setInterval(refresh, REFRESH_MS);
  void refresh();

  return {
    serverStats: (msg) => {
      server = msg;
    },
    dispose: () => {
      stopped = true;
      clearInterval(timer);
      observer.disconnect();
    },
  };
}
