// One meeting, from "join" to hang-up: the signaling socket, the peer connection, the tiles and
// the toolbar, in the order docs/protocol.md prescribes:
//   join → [waiting →] welcome → (client) offer → (server) answer → server offers answered in turn.
// A guest whose room is not open yet gets `waiting` and a waiting screen; `welcome` comes on the
// same socket when an agent opens the room. The server may warn (`room_ending`) and close the
// room (`room_ended`): the meeting then ends on a screen that says why.

import { PROTOCOL_VERSION, isKnownErrorCode } from '../protocol.js';
import { Signaling } from '../signaling.js';
import { PeerSession, acquireLocalMedia, stopLocalMedia } from '../media.js';
import { isSlotStream } from '../slots.js';
import { t } from '../i18n.js';
import {
  setState, setPeerConnection, setParticipantId, putParticipant, removeParticipant, resetHooks,
} from '../hooks.js';
import { announce } from './announcer.js';
import { focusHeading } from './dom.js';
import { createMeetingView } from './meetingview.js';
import { mediaNotice } from './medianotice.js';
import { renderEnded, renderError, renderJoining, renderLeft, renderWaiting } from './screens.js';
import { navigate } from '../nav.js';
import { TileGrid } from './tiles.js';
import { createControls } from './controls.js';
import { renderRemoved } from './moderation.js';
import { renderPasswordPrompt } from './password.js';
import { attachMediaFeatures } from './mediafeatures.js';
import { createWhiteboard } from './whiteboard.js';
import { createAnnotations } from './annotation.js';
import { attachConnectionIndicators } from './connindicator.js';
import { watchMediaBlocked } from './nomedia.js';
import { captureConstraints, loadDevicePrefs } from '../devices.js';
import { RECONNECT_POLICY, ReconnectPlan, rejoinRetryable } from '../reconnect.js';
import { createReconnectingBanner, watchIce } from './reconnecting.js';

/** @typedef {import('../protocol.js').ParticipantInfo} ParticipantInfo */
/** @typedef {import('../protocol.js').WelcomeMessage} WelcomeMessage */
/** @typedef {import('../media.js').LocalMedia} LocalMedia */

/**
 * The translation of an error code. tsc fails here if a code of protocol.js has no text.
 * @param {import('../protocol.js').ErrorCode} code
 * @returns {import('../i18n.js').MessageKey}
 */
function errorKey(code) {
  return /** @type {`error.code.${import('../protocol.js').ErrorCode}`} */ (`error.code.${code}`);
}

/** How long the server has to answer `join` with `welcome`. */
const WELCOME_TIMEOUT_MS = 15_000;

/**
 * @typedef {object} MeetingOptions
 * @property {string} room             Normalised room name.
 * @property {string} name             Valid display name.
 * @property {LocalMedia | null} media Capture from the pre-join panel, or null to acquire here.
 * @property {() => void} onRejoin     "Join again" after hang-up or the end of the room.
 * @property {() => void} onRetry      "Try again" after a failure.
 * @property {(() => void) | null} [onVerify]  From the waiting screen: leave and verify a
 *   professional address (the pre-join panel's e-mail check), to open the room as an agent.
 */

/**
 * Join a meeting and run it until hang-up or failure. Returns the disposer (leaves the meeting
 * quietly, e.g. when the person navigates away in-app).
 * @param {HTMLElement} root
 * @param {MeetingOptions} opts
 * @returns {() => void}
 */
export function startMeeting(root, opts) {
  const { room, name } = opts;
  renderJoining(root);

  /** @type {LocalMedia | null} */
  let media = opts.media;
  /** @type {Signaling | null} */
  let sig = null;
  /** @type {PeerSession | null} */
  let peer = null;
  /** @type {TileGrid | null} */
  let tiles = null;
  /** @type {import('./meetingview.js').MeetingView | null} */
  let view = null;
  /** @type {ParticipantInfo | null} */
  let me = null;
  /** @type {Map<string, ParticipantInfo>} */
  const others = new Map();
  let ended = false;
  let leaveSent = false;
  /** True between `waiting` and `welcome`. */
  let waiting = false;
  /** @type {() => void} */
  let disposeWaiting = () => {};
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let welcomeTimer;
  /** Chat, participants, hands, moderation… (controls.js), from `welcome` on. */
  /** @type {import('./controls.js').Controls | null} */
  let controls = null;
  /** The guest's password screen, while the room asks for one. */
  /** @type {import('./password.js').PasswordPrompt | null} */
  let passwordPrompt = null;
  /** Device switching, screen sharing, layout (mediafeatures.js), from `welcome` on. */
  /** @type {import('./mediafeatures.js').MediaFeatures | null} */
  let features = null;
  /** The whiteboard and the annotations over shared screens, from `welcome` on. */
  /** @type {import('./whiteboard.js').Whiteboard | null} */
  let board = null;
  /** @type {ReturnType<typeof createAnnotations> | null} */
  let annotations = null;
  /** Connection indicators on the tiles and the "media blocked" banner, from `welcome` on. */
  /** @type {import('./connindicator.js').ConnectionIndicators | null} */
  let connection = null;
  /** @type {import('./nomedia.js').MediaBlockedWatch | null} */
  let mediaBlocked = null;
  /** Reconnection (docs/architecture.md): the banner and `body[data-connection]`, the ICE
   * watch of the current connection, the password given (memory only) for joining again, and
   * the rejoin under way after a lost socket (null otherwise). */
  /** @type {import('./reconnecting.js').ReconnectingBanner | null} */
  let banner = null;
  /** @type {(() => void) | null} */
  let stopIce = null;
  /** @type {string | null} */
  let joinPassword = null;
  /** The socket was dropped because the local address changed: the server is fine, the first
   * attempt need not wait. */
  let networkChanged = false;
  /** The rejoin under way; `resume`: take our place back on a new socket (same id, same media
   * session) rather than join anew, until the server says it cannot (`resume_failed`). */
  /** @type {{plan: ReconnectPlan, now?: boolean, resume?: boolean, timer?: ReturnType<typeof setTimeout>, retry?: () => void} | null} */
  let rejoin = null;
  /** The secret of the last `session` message (memory only): what `resume` proves. */
  /** @type {string | null} */
  let resumeToken = null;

  const sendLeave = () => {
    if (leaveSent || !sig) return;
    leaveSent = sig.send({ type: 'leave' });
  };
  window.addEventListener('pagehide', sendLeave);
  window.addEventListener('beforeunload', sendLeave);

  /** Release everything; the caller then renders the next screen. Idempotent. */
  const teardown = () => {
    ended = true;
    waiting = false;
    clearTimeout(welcomeTimer);
    disposeWaiting();
    endRejoin();
    stopIce?.();
    banner?.dispose();
    controls?.dispose();
    annotations?.dispose();
    board?.dispose();
    features?.dispose();
    connection?.dispose();
    mediaBlocked?.dispose();
    view?.dispose();
    window.removeEventListener('pagehide', sendLeave);
    window.removeEventListener('beforeunload', sendLeave);
    sig?.close();
    peer?.close();
    stopLocalMedia(media);
    tiles?.dispose();
    resetHooks();
  };

  /** @param {string} text  Translated explanation. */
  const fail = (text) => {
    if (ended) return;
    teardown();
    renderError(root, text, opts.onRetry);
  };

  const hangup = () => {
    if (ended) return;
    sendLeave();
    teardown();
    renderLeft(root, room, opts.onRejoin);
  };

  /** @param {boolean} audio @param {boolean} video */
  const setLocalState = (audio, video) => {
    if (!me || !media || !view || !tiles) return;
    if (media.audioTrack) media.audioTrack.enabled = audio;
    if (media.videoTrack) media.videoTrack.enabled = video;
    me = { ...me, audio, video };
    sig?.send({ type: 'media_state', audio, video, screen: features?.sharing() ?? false });
    view.toolbar.setMic(audio, media.audioTrack !== null);
    view.toolbar.setCamera(video, media.videoTrack !== null);
    tiles.upsert(me);
    controls?.localChanged(me);
  };

  /**
   * A moderator turned the microphone (`audio`) or camera (`video`) off (`muted`).
   * @param {'audio' | 'video'} kind
   */
  const turnOff = (kind) => {
    if (!me) return;
    if (kind === 'audio' && me.audio) setLocalState(false, me.video);
    if (kind === 'video' && me.video) setLocalState(me.audio, false);
  };

  /**
   * A moderator promoted this participant: hooks, own tile and controls follow.
   * @param {import('../protocol.js').Role} role
   */
  const setRole = (role) => {
    if (!me || me.role === role) return;
    me = { ...me, role };
    setParticipantId(me.id, role);
    tiles?.upsert(me);
    controls?.localChanged(me);
    board?.setRole(role);
    annotations?.setRole(role);
  };

  const toggleMic = () => {
    if (!me || !media?.audioTrack) return;
    setLocalState(!me.audio, me.video);
    announce(t(me.audio ? 'announce.micOn' : 'announce.micOff'));
  };

  const toggleCamera = () => {
    if (!me || !media?.videoTrack) return;
    setLocalState(me.audio, !me.video);
    announce(t(me.video ? 'announce.cameraOn' : 'announce.cameraOff'));
  };

  /** @param {ParticipantInfo} p @param {boolean} arrived */
  const showParticipant = (p, arrived) => {
    if (!tiles || !view || (me && p.id === me.id)) return;
    const isNew = !others.has(p.id);
    const previous = others.get(p.id);
    others.set(p.id, p);
    tiles.upsert(p);
    putParticipant(p);
    features?.participantChanged(p, previous);
    view.setAlone(others.size === 0);
    if (arrived && isNew) announce(t('announce.joined', { name: p.name }));
  };

  /** The guest stops waiting: tell the server, go back to the home page. */
  const leaveWaiting = () => {
    if (ended) return;
    sendLeave();
    teardown();
    navigate('/');
  };

  /** The guest is in fact the organiser: stop waiting, go verify the address. */
  const verifyInstead = () => {
    if (ended || !opts.onVerify) return;
    sendLeave();
    teardown();
    opts.onVerify();
  };

  /** @param {import('../protocol.js').WaitingMessage} msg */
  const onWaiting = (msg) => {
    // Joining again found the room closed (a guest after a server restart): wait as at first.
    if (rejoin) {
      resetMeeting();
      banner?.hide();
    }
    if (ended || me) return;
    clearTimeout(welcomeTimer);
    waiting = true;
    disposeWaiting();
    disposeWaiting = renderWaiting(root, {
      room,
      timeoutSecs: msg.timeout_secs,
      videoTrack: media?.videoTrack ?? null,
      onLeave: leaveWaiting,
      onVerify: opts.onVerify ? verifyInstead : null,
    });
  };

  /** @param {import('../protocol.js').RoomEndedMessage} msg */
  const onRoomEnded = (msg) => {
    if (ended) return;
    console.info(`webconf: the server closed the room (${msg.reason})`);
    // The server closes the socket itself: no `leave`.
    leaveSent = true;
    teardown();
    renderEnded(root, msg.reason, opts.onRejoin);
  };

  /** @param {WelcomeMessage} welcome */
  const enterRoom = (welcome) => {
    if (rejoin?.resume && me && peer && welcome.you === me.id) {
      resumeRoom(welcome);
      return;
    }
    const rejoined = rejoin !== null;
    if (rejoined) resetMeeting();
    if (!media || !sig || me) return;
    clearTimeout(welcomeTimer);
    const admitted = waiting;
    waiting = false;
    disposeWaiting();
    disposeWaiting = () => {};
    const local = media;
    // A track the pre-join panel turned off ("join with the microphone off") starts off.
    me = {
      id: welcome.you,
      name,
      role: welcome.role,
      audio: local.audioTrack !== null && local.audioTrack.enabled,
      video: local.videoTrack !== null && local.videoTrack.enabled,
    };
    setParticipantId(me.id, welcome.role);

    view = createMeetingView(room, {
      onToggleMic: toggleMic,
      onToggleCamera: toggleCamera,
      onHangup: hangup,
      onEnableSound: () => {
        tiles?.resumePlayback();
        features?.resumePlayback();
        view?.showSoundButton(false);
      },
    });
    root.replaceChildren(view.root);
    const noticesBox = view.root.querySelector('.meeting-notices');
    if (noticesBox instanceof HTMLElement) {
      banner ??= createReconnectingBanner(noticesBox);
      banner.moveTo(noticesBox);
    }
    tiles = new TileGrid(view.tiles, () => view?.showSoundButton(true));
    tiles.addLocal(me, local.videoTrack);
    view.toolbar.setMic(me.audio, local.audioTrack !== null);
    view.toolbar.setCamera(me.video, local.videoTrack !== null);
    const notice = mediaNotice(local);
    if (notice) view.notify(notice, 'media');
    view.setAlone(true);
    for (const p of welcome.participants) showParticipant(p, false);
    passwordPrompt = null;
    controls = createControls({
      room,
      sig,
      view,
      me,
      participants: welcome.participants,
      turnOff,
      setRole,
      toggleMic,
      toggleCamera,
      hangup,
    });

    const signaling = sig;
    peer = new PeerSession(local, {
      sendOffer: (sdp) => {
        signaling.send({ type: 'offer', sdp });
        // Tell the room at once when the microphone or camera is missing (or shared screen).
        if (me) {
          signaling.send({
            type: 'media_state', audio: me.audio, video: me.video, screen: features?.sharing() ?? false,
          });
        }
      },
      sendAnswer: (sdp) => signaling.send({ type: 'answer', sdp }),
      onTrack: (id, track, stream, transceiver) => {
        // A shared screen gets a tile of its own, never the participant's camera tile; a
        // microphone slot plays on its own, a camera slot goes to the tile of whoever the
        // `slots` table says it carries (mediafeatures.js): never a tile by its msid.
        if (features?.onTrack(id, track, stream, transceiver)) return;
        if (isSlotStream(id) || (me && id === me.id)) return;
        tiles?.attachTrack(id, track, stream);
      },
      onNegotiationError: (err) => {
        console.error('webconf: negotiation failed', err);
        view?.notify(t('media.negotiationFailed'), 'negotiation');
      },
      onConnectionState: (state) => {
        if (state === 'failed') view?.notify(t('media.connectionFailed'), 'connection');
        if (state === 'connected') view?.root.querySelector('[data-key="connection"]')?.remove();
      },
    });
    setPeerConnection(peer.pc);
    // Joined again: the socket is back, "reconnecting" lasts until the media connects again.
    banner?.hide('signaling');
    if (rejoined) banner?.show('media');
    watchConnection(peer, rejoined);
    const tileGrid = tiles;
    features = attachMediaFeatures({
      view,
      tileGrid: {
        showSlotVideo: (id, track, receiver, mid) => tileGrid.showSlotVideo(id, track, receiver, mid),
        hideSlotVideo: (id, track) => tileGrid.hideSlotVideo(id, track),
        useCameraSlots: () => tileGrid.useCameraSlots(),
      },
      peer,
      media: local,
      me: () => me,
      participant: (id) => others.get(id),
      sendState: () => me && setLocalState(me.audio, me.video),
      onDeviceAdded: (kind) => me && setLocalState(kind === 'audio' || me.audio, kind === 'video' || me.video),
      onAutoplayBlocked: () => view?.showSoundButton(true),
      sendView: (msg) => signaling.send(msg),
    });
    connection = attachConnectionIndicators({
      tiles: view.tiles,
      pc: peer.pc,
      slotOf: (mid) => features?.slotOf(mid),
      slotTable: () => features?.slotTable() ?? [],
      roster: () => others,
    });
    mediaBlocked = watchMediaBlocked({ pc: peer.pc, notices: (node) => view?.notify(node, 'media-blocked') });
    board = createWhiteboard({ sig: signaling, view, room, myId: me.id, role: me.role });
    const screensEl = view.root.querySelector('#screens');
    if (screensEl instanceof HTMLElement) {
      annotations = createAnnotations({
        client: board.client,
        screens: screensEl,
        role: () => me?.role ?? 'guest',
        nameOf: (id) => others.get(id)?.name ?? '',
      });
    }
    peer.publish();

    setState('in-room');
    document.title = t('meeting.pageTitle', { room });
    focusHeading(view.root);
    if (admitted) announce(t('announce.admitted'));
  };

  /**
   * Watch the media connection: "reconnecting" while it is down, ICE restarts.
   * @param {PeerSession} session
   * @param {boolean} down  Not connected yet (after joining again).
   */
  const watchConnection = (session, down) => {
    stopIce?.();
    stopIce = watchIce({
      pc: session.pc,
      restartIce: () => session.restartIce(),
      onChange: (isDown) => (isDown ? banner?.show('media') : banner?.hide('media')),
      // A network change: the socket is bound to the old address, take our place back at once.
      onAddressGone: () => {
        networkChanged = true;
        sig?.drop();
      },
      down,
    });
  };

  /**
   * `welcome` in answer to `resume`: the same participant, media session and screen. The room
   * may have changed meanwhile (people came and went, hands, the board): the server sent it as
   * it is now and the meeting follows; then ICE restarts on the same connection (the local
   * address may be new) and our own state goes to the room again.
   * @param {WelcomeMessage} welcome
   */
  const resumeRoom = (welcome) => {
    if (!me || !peer) return;
    endRejoin();
    clearTimeout(welcomeTimer);
    console.info('webconf: took our place back in the room');
    banner?.hide('signaling');
    setRole(welcome.role);
    const present = new Set(welcome.participants.map((p) => p.id));
    for (const id of [...others.keys()]) if (!present.has(id)) dropParticipant(id);
    for (const p of welcome.participants) showParticipant(p, true);
    controls?.resync(welcome.participants);
    const session = peer;
    // Down until media is seen flowing again: the earlier watch may have shown "reconnecting".
    watchConnection(session, true);
    session.abandonOffer();
    session.restartIce().catch((err) => console.warn('webconf: ICE restart after resuming failed', err));
    setLocalState(me.audio, me.video);
    features?.resendView();
  };

  /** @param {import('../protocol.js').ErrorMessage} msg */
  const onServerError = (msg) => {
    console.warn(`webconf: server error ${msg.code}: ${msg.message}`);
    // Our place could not be taken back: join anew on this socket, like after a long cut.
    if (msg.code === 'resume_failed' && rejoin?.resume) {
      resumeFailed();
      return;
    }
    // The answer to joining again: a busy server or the join rate limit are tried again; a
    // password we no longer have right is asked for; any other refusal ends the meeting.
    if (rejoin && !msg.code.startsWith('renegotiation')) {
      if (rejoinRetryable(msg.code) && !msg.fatal) {
        rejoin.retry?.();
        return;
      }
      resetMeeting();
      if (ended) return;
    }
    // A refusal of the client's re-offer (screen share): PeerSession offers again by itself.
    if (peer?.handleServerError(msg.code)) return;
    // A refused whiteboard message: the whiteboard says why and goes back to the server's board.
    if (board?.handleServerError(msg.code)) return;
    let text = isKnownErrorCode(msg.code)
      ? t(errorKey(msg.code))
      : t('error.code.unknown', { code: msg.code });
    // Before `welcome` or `waiting`, `rate_limited` is the limit on joins of rooms that are not
    // open (docs/protocol.md), not the per-socket message rate.
    if (msg.code === 'rate_limited' && !me && !waiting) text = t('error.joinRateLimited');
    // A protected room: ask the guest for the password, and keep asking on the same socket.
    const passwordCode = msg.code === 'password_required' || msg.code === 'wrong_password'
      || (msg.code === 'rate_limited' && passwordPrompt !== null);
    if (passwordCode && !me && !waiting && !msg.fatal) {
      askPassword(msg.code);
      return;
    }
    // Before `welcome` (and outside the wait), any refusal means the join failed; afterwards
    // only fatal ones end it.
    if (msg.fatal || (!me && !waiting)) fail(text);
    else if (view) view.notify(text, `error-${msg.code}`);
    else console.warn('webconf: error while waiting', msg.code);
  };

  /** @param {string} code  Why the server wants (another) password. */
  const askPassword = (code) => {
    if (ended || !sig) return;
    clearTimeout(welcomeTimer);
    const signaling = sig;
    passwordPrompt ??= renderPasswordPrompt(root, {
      room,
      onSubmit: (password) => {
        joinPassword = password;
        signaling.send({ type: 'join', version: PROTOCOL_VERSION, room, name, password });
        clearTimeout(welcomeTimer);
        welcomeTimer = setTimeout(() => fail(t('error.welcomeTimeout')), WELCOME_TIMEOUT_MS);
      },
      onLeave: leaveWaiting,
    });
    passwordPrompt.refused(code);
  };

  const connect = async () => {
    media ??= await acquireLocalMedia(captureConstraints(loadDevicePrefs()));
    if (ended) {
      stopLocalMedia(media);
      return;
    }
    const signaling = wire(new Signaling());
    try {
      await signaling.connect();
    } catch (err) {
      console.warn('webconf: cannot open the signaling socket', err);
      fail(t('error.connectFailed'));
      return;
    }
    if (ended) return;
    signaling.send({ type: 'join', version: PROTOCOL_VERSION, room, name });
    welcomeTimer = setTimeout(() => fail(t('error.welcomeTimeout')), WELCOME_TIMEOUT_MS);
  };

  /**
   * Make `signaling` the meeting's socket and subscribe its handlers.
   * @param {Signaling} signaling
   * @returns {Signaling}
   */
  const wire = (signaling) => {
    sig = signaling;
    signaling.on('welcome', enterRoom);
    signaling.on('waiting', onWaiting);
    signaling.on('room_ending', (msg) => view?.ending.show(msg.reason, msg.in_secs));
    signaling.on('room_ended', onRoomEnded);
    signaling.on('removed', (msg) => {
      if (ended) return;
      // The server closes the socket itself: no `leave`.
      leaveSent = true;
      teardown();
      renderRemoved(root, msg.by);
    });
    signaling.on('error', onServerError);
    signaling.on('stats', (msg) => {
      connection?.serverStats(msg);
      mediaBlocked?.serverStats(msg);
    });
    signaling.on('speakers', (msg) => features?.speakers(msg));
    signaling.on('slots', (msg) => features?.slots(msg));
    signaling.on('answer', (msg) => peer?.handleAnswer(msg.sdp));
    signaling.on('offer', (msg) => peer?.handleOffer(msg.sdp));
    signaling.on('participant_joined', (msg) => {
      showParticipant(msg.participant, true);
      // docs/protocol.md: someone joining ends the idle state, and with it an `idle` warning.
      view?.ending.cancel('idle');
    });
    signaling.on('participant_updated', (msg) => showParticipant(msg.participant, false));
    signaling.on('participant_left', (msg) => dropParticipant(msg.id));
    signaling.on('session', (msg) => {
      resumeToken = msg.resume_token;
    });
    signaling.onClose((info) => {
      if (ended || info.expected || leaveSent || signaling !== sig) return;
      // In the room (or joining again): join again by ourselves.
      if (rejoin) {
        rejoin.retry?.();
        return;
      }
      if (me && !waiting) {
        beginRejoin();
        return;
      }
      fail(t(me || waiting ? 'error.connectionLost' : 'error.connectFailed'));
    });
    return signaling;
  };

  /** @param {string} id  Someone who left (or, after `resume`, is no longer there). */
  const dropParticipant = (id) => {
    const p = others.get(id);
    others.delete(id);
    tiles?.remove(id);
    removeParticipant(id);
    view?.setAlone(others.size === 0);
    if (p) announce(t('announce.left', { name: p.name }));
  };

  /** Stop the rejoin's timers (the meeting is back, or over). */
  const endRejoin = () => {
    if (!rejoin) return;
    clearTimeout(rejoin.timer);
    rejoin.retry = undefined;
    rejoin = null;
  };

  /**
   * The meeting as it was before joining again: everything built at `welcome` goes (the old
   * connection, tiles, controls...), the local capture stays (same tracks, microphone and
   * camera as they were), `welcome` then builds it again.
   */
  const resetMeeting = () => {
    endRejoin();
    stopIce?.();
    stopIce = null;
    controls?.dispose();
    annotations?.dispose();
    board?.dispose();
    features?.dispose();
    connection?.dispose();
    mediaBlocked?.dispose();
    view?.dispose();
    peer?.close();
    tiles?.dispose();
    controls = null;
    annotations = null;
    board = null;
    features = null;
    connection = null;
    mediaBlocked = null;
    view = null;
    peer = null;
    tiles = null;
    me = null;
    others.clear();
    resetHooks();
  };

  /**
   * The socket was lost while in the room (the network, or the server went away): show
   * "reconnecting", keep the meeting's screen, and join again with a new socket, the same
   * room, name and password, waiting longer and longer between attempts
   * (../reconnect.js). The server has removed us or soon will: the old media session is over.
   */
  const beginRejoin = () => {
    if (rejoin || ended) return;
    // With a secret from the server, try first to take our place back (`resume`): same id,
    // same media session, which may still be flowing; otherwise join anew.
    const resume = resumeToken !== null && me !== null && peer !== null;
    console.info(`webconf: the signaling socket was lost, ${resume ? 'taking our place back' : 'joining again'}`);
    rejoin = { plan: new ReconnectPlan(Date.now()), now: networkChanged, resume };
    networkChanged = false;
    banner?.show('signaling');
    stopIce?.();
    stopIce = null;
    if (!resume) dropMediaSession();
    scheduleAttempt();
  };

  const dropMediaSession = () => {
    peer?.close();
    setPeerConnection(null);
  };

  /** `resume_failed`: the server no longer knows us (or not with these rights). The old media
   * session is over; join anew on the socket just opened. */
  const resumeFailed = () => {
    if (!rejoin || ended) return;
    console.info('webconf: our place could not be taken back, joining again');
    rejoin.resume = false;
    rejoin.now = true;
    resumeToken = null;
    dropMediaSession();
    rejoin.retry?.();
  };

  /** @param {Signaling} signaling */
  const sendJoin = (signaling) => {
    signaling.send(joinPassword === null
      ? { type: 'join', version: PROTOCOL_VERSION, room, name }
      : { type: 'join', version: PROTOCOL_VERSION, room, name, password: joinPassword });
  };

  const scheduleAttempt = () => {
    if (!rejoin || ended) return;
    let wait = rejoin.plan.next(Date.now());
    if (rejoin.now && wait !== null) {
      rejoin.now = false;
      wait = 0;
    }
    if (wait === null) {
      console.warn('webconf: giving up joining again');
      fail(t('error.connectionLost'));
      return;
    }
    rejoin.retry = undefined;
    rejoin.timer = setTimeout(() => {
      rejoinAttempt().catch((err) => console.warn('webconf: joining again failed', err));
    }, wait);
  };

  /** One attempt: a new socket, `resume` or `join`, and `welcome` (enterRoom) within the
   * attempt's time. `resume` reopens the same channel, whose subscribers (chat, whiteboard,
   * controls) stay; joining anew makes a new one. */
  const rejoinAttempt = async () => {
    if (!rejoin || ended) return;
    const current = rejoin;
    const resuming = current.resume === true && sig !== null;
    const signaling = resuming && sig ? sig : wire(new Signaling());
    let settled = false;
    // The next attempt, once: the socket closed or failed, the time ran out, or a busy server.
    const next = () => {
      if (settled || rejoin !== current) return;
      settled = true;
      clearTimeout(current.timer);
      if (resuming) signaling.abandon();
      else signaling.close();
      scheduleAttempt();
    };
    current.retry = next;
    current.timer = setTimeout(next, RECONNECT_POLICY.attemptTimeoutMs);
    try {
      await signaling.connect();
    } catch {
      next();
      return;
    }
    if (settled || rejoin !== current) return;
    if (resuming && me && resumeToken) {
      signaling.send({ type: 'resume', version: PROTOCOL_VERSION, participant: me.id, token: resumeToken });
    } else {
      sendJoin(signaling);
    }
  };

  connect().catch((err) => {
    console.error('webconf: joining failed', err);
    fail(t('error.connectFailed'));
  });

  return () => {
    if (ended) return;
    sendLeave();
    teardown();
  };
}
