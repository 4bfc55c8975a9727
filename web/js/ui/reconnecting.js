// The meeting's "reconnecting" state (docs/architecture.md, "Reconnection"): the banner
// `#reconnecting` (role status) in the meeting's notices and `body[data-connection]`
// (`reconnecting` / `ok`), and the watch on the media connection's ICE state that restarts ICE
// when it does not recover on its own. The policy (waits, grace) is `../reconnect.js`;
// meeting.js drives the signaling side (a new socket and `join`).

import { t } from '../i18n.js';
import { RECONNECT_POLICY, addressGone, iceAction, mediaStalled } from '../reconnect.js';
import { announce } from './announcer.js';
import { el } from './dom.js';

/**
 * Why the meeting is reconnecting: the media path alone (`media`), or the signaling socket was
 * lost and the meeting is joined again (`signaling`, which wins over `media`).
 * @typedef {'media' | 'signaling'} ReconnectCause
 */

/**
 * @typedef {object} ReconnectingBanner
 * @property {(cause: ReconnectCause) => void} show  Show the banner (idempotent); `signaling`
 *   replaces the text of `media`.
 * @property {(cause?: ReconnectCause) => void} hide  End that cause (both when omitted); the
 *   banner goes when none remains, and `body[data-connection]` becomes `ok`.
 * @property {() => boolean} shown
 * @property {(notices: HTMLElement) => void} moveTo  Put the banner in another notices box
 *   (the meeting view is rebuilt after a rejoin).
 * @property {() => void} dispose  Remove the banner and `body[data-connection]`.
 */

/**
 * @param {HTMLElement | null} notices  Where the banner goes (the meeting view's notices).
 * @returns {ReconnectingBanner}
 */
export function createReconnectingBanner(notices) {
  /** @type {Set<ReconnectCause>} */
  const causes = new Set();
  let box = notices;
  const text = el('p', { className: 'notice-body' });
  const banner = el('div', {
    id: 'reconnecting',
    className: 'notice reconnecting',
    attrs: { role: 'status' },
  }, [el('span', { className: 'reconnecting-spinner', attrs: { 'aria-hidden': 'true' } }), text]);
  document.body.dataset.connection = 'ok';

  const render = () => {
    if (causes.size === 0) {
      banner.remove();
      document.body.dataset.connection = 'ok';
      return;
    }
    const cause = causes.has('signaling') ? 'signaling' : 'media';
    banner.dataset.cause = cause;
    text.textContent = t(cause === 'signaling' ? 'reconnect.signaling' : 'reconnect.media');
    document.body.dataset.connection = 'reconnecting';
    if (!banner.isConnected && box) box.prepend(banner);
  };

  return {
    show(cause) {
      const was = causes.size > 0;
      causes.add(cause);
      render();
      if (!was) announce(t('reconnect.announce'));
    },
    hide(cause) {
      const was = causes.size > 0;
      if (cause) causes.delete(cause);
      else causes.clear();
      render();
      if (was && causes.size === 0) announce(t('reconnect.back'));
    },
    shown: () => causes.size > 0,
    moveTo(next) {
      box = next;
      if (banner.isConnected) next.prepend(banner);
      else render();
    },
    dispose() {
      causes.clear();
      banner.remove();
      delete document.body.dataset.connection;
    },
  };
}

/**
 * @typedef {object} IceWatchOptions
 * @property {RTCPeerConnection} pc
 * @property {() => Promise<void>} restartIce  An ICE restart through the negotiation chain.
 * @property {(reconnecting: boolean) => void} onChange  The media path is down (true) or back.
 * @property {() => void} [onAddressGone]  An ICE restart found the connection's local address
 *   gone (a network change): the signaling socket is dead too.
 * @property {number} [graceMs]  How long `disconnected` may recover on its own.
 * @property {boolean} [down]  The media path is already down (a new connection after joining
 *   again): `onChange(false)` comes at its first connection.
 */

/**
 * The machine's current host addresses, as WebRTC gathers them (a throwaway connection with a
 * data channel, no signaling): how a page learns that its address changed. Empty when nothing
 * came within `timeoutMs`.
 * @param {number} [timeoutMs]
 * @returns {Promise<Set<string>>}
 */
export async function hostAddresses(timeoutMs = 1_000) {
  /** @type {Set<string>} */
  const found = new Set();
  const probe = new RTCPeerConnection({ iceServers: [] });
  try {
    probe.createDataChannel('probe');
    const done = new Promise((resolve) => {
      probe.addEventListener('icecandidate', (ev) => {
        if (!ev.candidate) resolve(undefined);
        else if (ev.candidate.type === 'host' && ev.candidate.address) found.add(ev.candidate.address);
      });
      setTimeout(resolve, timeoutMs);
    });
    await probe.setLocalDescription(await probe.createOffer());
    await done;
  } catch (err) {
    console.warn('webconf: cannot list the local addresses', err);
  } finally {
    probe.close();
  }
  return found;
}

/**
 * Watch the media connection once it has connected. It is down when ICE says `disconnected`
 * or `failed`, or when nothing was received for `stallMs` (browsers notice a lost path late);
 * then "reconnecting" shows. ICE restarts at once for `failed`, after the grace for
 * `disconnected` (a cut network that comes back recovers on its own, on the same addresses);
 * a restart that fails (the server did not answer) is tried again after the grace while the
 * path stays down. When the path goes down, the local addresses are listed: if the
 * connection's own is gone (a network change), `onAddressGone` says so: the signaling socket
 * went with it, and the meeting joins again. Returns the function that stops watching.
 * @param {IceWatchOptions} opts
 * @returns {() => void}
 */
export function watchIce({
  pc, restartIce, onChange, onAddressGone = () => {}, graceMs = RECONNECT_POLICY.iceGraceMs,
  down: startDown = false,
}) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let down = startDown;
  let stopped = false;
  let restarting = false;
  // Watching a connection that is already up (after `resume`: the same connection).
  let connectedOnce = iceAction(pc.iceConnectionState) === 'ok';
  /** Received bytes, when they last grew, the local address of the pair that carried them. */
  let received = -1;
  let receivedAt = Date.now();
  let stalled = false;
  /** @type {string | null} */
  let localAddress = null;
  let checking = false;

  /** @param {boolean} value */
  const setDown = (value) => {
    if (down === value) return;
    down = value;
    onChange(value);
  };

  const restart = () => {
    clearTimeout(timer);
    timer = undefined;
    if (stopped || restarting) return;
    restarting = true;
    console.info('webconf: restarting ICE');
    restartIce()
      .catch((err) => console.warn('webconf: ICE restart failed', err))
      .finally(() => {
        restarting = false;
        // Still down: try again later (the answer may have been lost with the network).
        if (!stopped && down && timer === undefined) timer = setTimeout(restart, graceMs);
      });
  };

  const onState = () => {
    if (stopped) return;
    const action = iceAction(pc.iceConnectionState);
    // Before the first connection, a failure is "media blocked" (nomedia.js), not a loss.
    if (action === 'ok') connectedOnce = true;
    if (!connectedOnce) return;
    if (action === 'ok') {
      if (!stalled) {
        clearTimeout(timer);
        timer = undefined;
        setDown(false);
      }
      return;
    }
    if (action === 'none') return;
    setDown(true);
    checkAddress();
    if (action === 'restart') restart();
    else if (timer === undefined && !restarting) timer = setTimeout(restart, graceMs);
  };

  /** The path went down: is the connection's local address still there? */
  const checkAddress = () => {
    if (checking || stopped) return;
    checking = true;
    const previous = localAddress;
    hostAddresses().then((now) => {
      checking = false;
      if (stopped || !down || !addressGone(previous, now)) return;
      console.info('webconf: the local address changed; the signaling socket went with it');
      onAddressGone();
    }, () => {
      checking = false;
    });
  };

  /** Reads the bytes received on the selected pair (and its local address). */
  const poll = async () => {
    if (stopped || !connectedOnce || pc.connectionState === 'closed') return;
    let bytes = 0;
    /** @type {string | null} */
    let address = null;
    try {
      const report = await pc.getStats();
      report.forEach((s) => {
        if (s.type !== 'transport' || !s.selectedCandidatePairId) return;
        bytes += s.bytesReceived ?? 0;
        const pair = report.get(s.selectedCandidatePairId);
        const local = pair ? report.get(pair.localCandidateId) : null;
        address = local?.address ?? local?.ip ?? null;
      });
    } catch {
      return;
    }
    const now = Date.now();
    if (bytes !== received) {
      const grew = received >= 0;
      received = bytes;
      receivedAt = now;
      if (address) localAddress = address;
      if (stalled) {
        stalled = false;
        onState();
      } else if (grew && down && !restarting && iceAction(pc.iceConnectionState) === 'ok') {
        // Started down (taken over from an earlier watch) and media flows again.
        clearTimeout(timer);
        timer = undefined;
        setDown(false);
      }
      return;
    }
    if (!stalled && !down && mediaStalled(receivedAt, now)) {
      console.info('webconf: nothing received for a while, the media path is down');
      stalled = true;
      setDown(true);
      checkAddress();
    }
  };
  const pollTimer = setInterval(() => {
    poll().catch(() => {});
  }, RECONNECT_POLICY.statsIntervalMs);

  const onNetworkChange = () => {
    // Only once the connection was up: before that, ICE is still doing its first checks.
    if (stopped || !connectedOnce || pc.iceConnectionState === 'closed') return;
    restart();
  };

  pc.addEventListener('iceconnectionstatechange', onState);
  window.addEventListener('online', onNetworkChange);
  /** @type {any} */
  const connection = /** @type {any} */ (navigator).connection;
  connection?.addEventListener?.('change', onNetworkChange);
  return () => {
    stopped = true;
    clearTimeout(timer);
    clearInterval(pollTimer);
    pc.removeEventListener('iceconnectionstatechange', onState);
    window.removeEventListener('online', onNetworkChange);
    connection?.removeEventListener?.('change', onNetworkChange);
  };
}
