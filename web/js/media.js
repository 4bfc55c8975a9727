// Local capture (getUserMedia with fallbacks) and the one RTCPeerConnection to the SFU.
//
// Negotiation follows docs/protocol.md: the client sends one offer (its sendonly microphone
// and camera) right after `welcome`; later negotiations are server `offer`s that the client
// answers, and the client's own re-offers when a screen share starts or stops. All of them go
// through one promise chain, so two never interleave; a re-offer that crosses a server offer
// (`renegotiation_in_progress`) is rolled back and made again once that offer is answered.
// After a `resume` the server sends its outstanding offer again, unchanged: if the browser had
// already answered it (the answer lost with the old socket), the same answer goes again.
// Switching microphone or camera is a `replaceTrack` on the same sender: no negotiation.

import { relabelStream } from './sdp.js';

/**
 * The camera's capture size: 1280×720 when the camera can (an `ideal`, never a failure), so
 * that the browser has room for three simulcast layers (Chromium makes fewer from smaller
 * captures).
 */
export const CAMERA_SIZE = Object.freeze({ width: { ideal: 1280 }, height: { ideal: 720 } });

/**
 * The camera's simulcast layers, lowest first (docs/protocol.md, `offer`): the server reads
 * their order from `a=simulcast` and sends each subscriber the layer its tile needs. Screen
 * shares are sent in one layer.
 * @returns {RTCRtpEncodingParameters[]}
 */
export function cameraEncodings() {
  return [
    { rid: 'l', scaleResolutionDownBy: 4 },
    { rid: 'm', scaleResolutionDownBy: 2 },
    { rid: 'h' },
  ];
}

/**
 * `video` constraints with the camera size added (a chosen device kept).
 * @param {MediaTrackConstraints | true | undefined} video
 * @returns {MediaTrackConstraints | undefined}
 */
function sized(video) {
  if (video === undefined) return undefined;
  return { ...CAMERA_SIZE, ...(video === true ? {} : video) };
}

/**
 * What `acquireLocalMedia` got. `stream` always exists (possibly without tracks).
 * `missing` says what could not be had: null when everything was, otherwise which devices are
 * missing, and `errorName` the DOMException name of the first failure (e.g. NotAllowedError).
 * `errors` names the failure of each missing device (null for a device that works). The tracks
 * may be replaced later (another device chosen, see devicecontrol.js): read them when needed.
 * @typedef {object} LocalMedia
 * @property {MediaStream} stream
 * @property {MediaStreamTrack | null} audioTrack
 * @property {MediaStreamTrack | null} videoTrack
 * @property {null | 'video' | 'audio' | 'both'} missing
 * @property {string | null} errorName
 * @property {{audio: string | null, video: string | null}} [errors]
 */

/**
 * Ask for the microphone and camera together (one permission prompt); if that fails, ask for
 * each alone, to use whichever works and to know why the other does not. Never rejects.
 * @param {{audio: MediaTrackConstraints | true, video: MediaTrackConstraints | true}} [wanted]
 *   Which devices (the remembered choices, devices.js `captureConstraints`).
 * @returns {Promise<LocalMedia>}
 */
export async function acquireLocalMedia(wanted = { audio: true, video: true }) {
  /** @type {{audio: string | null, video: string | null}} */
  const errors = { audio: null, video: null };
  /** @param {unknown} err */
  const nameOf = (err) => (err instanceof Error || err instanceof DOMException ? err.name : 'Error');
  if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== 'function') {
    // No mediaDevices: the page is not a secure context (plain HTTP) or the browser is too old.
    return describe(new MediaStream(), { audio: 'NotSupportedError', video: 'NotSupportedError' });
  }
  try {
    return describe(await capture({ audio: wanted.audio, video: sized(wanted.video) }, { audio: true, video: sized(true) }), errors);
  } catch (err) {
    console.warn('webconf: getUserMedia (microphone and camera) failed', err);
  }
  const stream = new MediaStream();
  for (const kind of /** @type {const} */ (['audio', 'video'])) {
    try {
      const got = kind === 'video'
        ? await capture({ video: sized(wanted.video) }, { video: sized(true) })
        : await capture({ audio: wanted.audio }, { audio: true });
      for (const track of got.getTracks()) stream.addTrack(track);
    } catch (err) {
      errors[kind] = nameOf(err);
      console.warn(`webconf: getUserMedia (${kind}) failed`, err);
    }
  }
  return describe(stream, errors);
}

/**
 * getUserMedia with `constraints`; if a chosen device is gone (OverconstrainedError,
 * NotFoundError), with `plain` (any device) instead.
 * @param {MediaStreamConstraints} constraints
 * @param {MediaStreamConstraints} plain
 * @returns {Promise<MediaStream>}
 */
async function capture(constraints, plain) {
  try {
    return await navigator.mediaDevices.getUserMedia(constraints);
  } catch (err) {
    const gone = err instanceof Error && (err.name === 'OverconstrainedError' || err.name === 'NotFoundError');
    const chosen = Object.values(constraints).some((c) => typeof c === 'object' && c !== null && 'deviceId' in c);
    if (!gone || !chosen) throw err;
    console.info('webconf: a remembered device is gone, taking the default one', err);
    return navigator.mediaDevices.getUserMedia(plain);
  }
}

/**
 * @param {MediaStream} stream
 * @param {{audio: string | null, video: string | null}} errors
 * @returns {LocalMedia}
 */
function describe(stream, errors) {
  const audioTrack = stream.getAudioTracks()[0] ?? null;
  const videoTrack = stream.getVideoTracks()[0] ?? null;
  /** @type {LocalMedia['missing']} */
  let missing = null;
  if (!audioTrack && !videoTrack) missing = 'both';
  else if (!audioTrack) missing = 'audio';
  else if (!videoTrack) missing = 'video';
  const kept = {
    audio: audioTrack ? null : (errors.audio ?? 'NotFoundError'),
    video: videoTrack ? null : (errors.video ?? 'NotFoundError'),
  };
  return {
    stream, audioTrack, videoTrack, missing, errorName: missing ? (kept.audio ?? kept.video) : null, errors: kept,
  };
}

/**
 * Stop every track of a local capture (turns the camera light off).
 * @param {LocalMedia | null} media
 */
export function stopLocalMedia(media) {
  if (!media) return;
  for (const track of media.stream.getTracks()) track.stop();
}

/**
 * @typedef {object} PeerCallbacks
 * @property {(sdp: string) => void} sendOffer     Send the client's offer to the server.
 * @property {(sdp: string) => void} sendAnswer    Send an answer to a server offer.
 * @property {(participantId: string, track: MediaStreamTrack, stream: MediaStream,
 *   transceiver: RTCRtpTransceiver) => void} onTrack
 *   A remote track arrived; `participantId` is `stream.id` (the server's msid): a participant,
 *   or `slots` for a microphone slot, which carries whoever the server's audio last-N picks
 *   (slots.js). The transceiver's `mid` finds its `a=msid` track id (camera or screen, see
 *   sdp.js).
 * @property {(err: unknown) => void} onNegotiationError
 * @property {(state: RTCPeerConnectionState) => void} onConnectionState
 */

/**
 * What a server offer is to the client, by its SDP (docs/protocol.md, `resume`: after a resume
 * the server sends its outstanding offer again, unchanged, whether or not the browser got it):
 * `answered` when it is the offer last answered (the browser applied it and its answer was
 * lost with the old socket: send the same answer again, the connection untouched); `in-hand`
 * when it is the offer received and not answered yet (queued or being applied: its answer is
 * on the way); `new` otherwise (apply it and answer).
 * @param {string} sdp  The offer just received.
 * @param {string | null} inHand  The offer received and not answered yet, if any.
 * @param {{offer: string, answer: string} | null} answered  The last offer answered, and the answer.
 * @returns {'answered' | 'in-hand' | 'new'}
 */
export function serverOfferStatus(sdp, inHand, answered) {
  if (answered !== null && answered.offer === sdp) return 'answered';
  if (inHand !== null && inHand === sdp) return 'in-hand';
  return 'new';
}

/** How long the server has to answer the client's offer. */
const ANSWER_TIMEOUT_MS = 15_000;

/** The server refused the client's offer with this error code. */
class OfferRefused extends Error {
  /** @param {string} code */
  constructor(code) {
    super(`the server refused the offer: ${code}`);
    this.code = code;
  }
}

export class PeerSession {
  /**
   * @param {LocalMedia} local
   * @param {PeerCallbacks} callbacks
   */
  constructor(local, callbacks) {
    /** @private */ this.local = local;
    /** @private */ this.cb = callbacks;
    /** The connection; tests read it through `window.webconf.pc`. */
    this.pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', iceServers: [] });
    /** @private @type {Promise<void>} */ this.chain = Promise.resolve();
    /** @private @type {((sdp: string) => void) | null} */ this.answerWaiter = null;
    /** @private */ this.closed = false;
    /** @private @type {((err: Error) => void) | null} */ this.answerRefuser = null;
    /** The microphone and camera senders, once published (replaceTrack switches devices).
     * @private @type {{audio: RTCRtpSender | null, video: RTCRtpSender | null}} */
    this.senders = { audio: null, video: null };
    /** The screen share's transceivers (video, then the shared tab's sound), kept once created
     * and reused by the next share: inactive between shares.
     * @private @type {{video: RTCRtpTransceiver | null, audio: RTCRtpTransceiver | null}} */
    this.screen = { video: null, audio: null };
    /** The stream the screen transceivers are associated with. Its id is random; every offer
     * relabels it `screen` (docs/protocol.md) before `setLocalDescription`. */
    this.screenStream = new MediaStream();
    /** The next client offer restarts ICE (`restartIce`); cleared once answered.
     * @private */
    this.iceRestartWanted = false;
    /** @private @type {Promise<void> | null} */ this.iceRestartQueued = null;
    /** The server offer received and not answered yet (SDP), see `serverOfferStatus`.
     * @private @type {string | null} */
    this.offerInHand = null;
    /** The last server offer answered and the answer sent (SDPs), to answer it again if the
     * server sends it again after a `resume`.
     * @private @type {{offer: string, answer: string} | null} */
    this.lastAnswered = null;

    this.pc.addEventListener('track', (ev) => {
      const stream = ev.streams[0];
      if (!stream) {
        console.warn('webconf: remote track without a stream (no msid), ignored', ev.track.id);
        return;
      }
      this.cb.onTrack(stream.id, ev.track, stream, ev.transceiver);
    });
    this.pc.addEventListener('connectionstatechange', () => {
      this.cb.onConnectionState(this.pc.connectionState);
    });
  }

  /**
   * Add the sendonly microphone and camera transceivers and send the one client offer. The
   * chain waits for the server's answer before any server offer is handled.
   */
  publish() {
    this.enqueue(async () => {
      const { stream, audioTrack, videoTrack } = this.local;
      this.senders.audio = this.pc.addTransceiver(audioTrack ?? 'audio', { direction: 'sendonly', streams: [stream] }).sender;
      // Simulcast (three layers, lowest first); `replaceTrack` keeps the encodings.
      this.senders.video = this.pc.addTransceiver(videoTrack ?? 'video', {
        direction: 'sendonly', streams: [stream], sendEncodings: cameraEncodings(),
      }).sender;
      const offer = await this.pc.createOffer();
      await this.pc.setLocalDescription(offer);
      // No trickle and no waiting for gathering: the server is ICE-lite.
      const answered = this.waitForAnswer();
      this.cb.sendOffer(this.pc.localDescription?.sdp ?? offer.sdp ?? '');
      const sdp = await answered;
      await this.pc.setRemoteDescription({ type: 'answer', sdp });
    });
  }

  /**
   * The server answered the client's offer.
   * @param {string} sdp
   */
  handleAnswer(sdp) {
    if (!this.answerWaiter) {
      console.warn('webconf: answer from the server while none was expected, ignored');
      return;
    }
    this.answerWaiter(sdp);
  }

  /**
   * The server offers to add or stop forwarded tracks: answer it, in turn. The same offer
   * again (after a `resume`, docs/protocol.md) is not applied twice: already answered, the same
   * answer is sent again at once (the previous one may have been lost with the old socket);
   * still being answered, it is ignored (that answer goes to the current socket).
   * @param {string} sdp
   */
  handleOffer(sdp) {
    const status = serverOfferStatus(sdp, this.offerInHand, this.lastAnswered);
    if (status === 'answered' && this.lastAnswered) {
      console.info('webconf: the server sent an offer already answered again; sending the same answer');
      this.cb.sendAnswer(this.lastAnswered.answer);
      return;
    }
    if (status === 'in-hand') {
      console.info('webconf: the server sent again an offer being answered; ignored');
      return;
    }
    this.offerInHand = sdp;
    this.enqueue(async () => {
      try {
        await this.pc.setRemoteDescription({ type: 'offer', sdp });
        const created = await this.pc.createAnswer();
        await this.pc.setLocalDescription(created);
        const answer = this.pc.localDescription?.sdp ?? created.sdp ?? '';
        this.lastAnswered = { offer: sdp, answer };
        this.cb.sendAnswer(answer);
      } finally {
        if (this.offerInHand === sdp) this.offerInHand = null;
      }
    });
  }

  /** Close the connection; later negotiations are dropped. Idempotent. */
  close() {
    if (this.closed) return;
    this.closed = true;
    this.answerWaiter = null;
    this.answerRefuser = null;
    this.pc.close();
  }

  /**
   * Send `track` instead of the current microphone (`audio`) or camera (`video`) track, on the
   * same sender: no renegotiation, the others keep receiving on the same track. Before
   * `publish` has run there is no sender yet: it will publish the tracks of `local` as they are
   * then.
   * @param {'audio' | 'video'} kind
   * @param {MediaStreamTrack | null} track
   * @returns {Promise<void>}
   */
  async replaceTrack(kind, track) {
    const sender = this.senders[kind];
    if (sender && !this.closed) await sender.replaceTrack(track);
  }

  /**
   * Publish a screen share: a `sendonly` video transceiver (and one for the shared tab's sound)
   * whose `a=msid` stream id is `screen`, then a client offer (docs/protocol.md). The
   * transceivers of an earlier share are reused. Resolves once the server answered.
   * @param {MediaStreamTrack} video
   * @param {MediaStreamTrack | null} audio
   * @returns {Promise<void>}
   */
  shareScreen(video, audio) {
    return this.renegotiate(async () => {
      for (const [kind, track] of /** @type {const} */ ([['video', video], ['audio', audio]])) {
        const tr = this.screen[kind];
        if (!track) {
          if (tr && tr.direction !== 'inactive' && tr.currentDirection !== 'stopped') tr.direction = 'inactive';
          continue;
        }
        if (tr && tr.currentDirection !== 'stopped') {
          await tr.sender.replaceTrack(track);
          tr.direction = 'sendonly';
        } else {
          this.screen[kind] = this.pc.addTransceiver(track, { direction: 'sendonly', streams: [this.screenStream] });
        }
      }
    });
  }

  /**
   * Stop publishing the screen share: its transceivers become `inactive` (kept for the next
   * share: stopping them would leave dead m-lines behind) and the client offers again.
   * @returns {Promise<void>}
   */
  stopScreen() {
    return this.renegotiate(async () => {
      for (const tr of [this.screen.video, this.screen.audio]) {
        if (!tr || tr.currentDirection === 'stopped') continue;
        await tr.sender.replaceTrack(null);
        tr.direction = 'inactive';
      }
    });
  }

  /**
   * Restart ICE (a network change, or a connection that did not recover on its own): a client
   * offer with new ICE credentials through the negotiation chain; the server answers with its
   * own new ones. Resolves once the server answered. Several calls while one is queued make
   * one restart.
   * @returns {Promise<void>}
   */
  restartIce() {
    if (this.iceRestartQueued) return this.iceRestartQueued;
    this.iceRestartWanted = true;
    const done = this.renegotiate(async () => {}).finally(() => {
      this.iceRestartQueued = null;
    });
    this.iceRestartQueued = done;
    return done;
  }

  /**
   * The signaling socket was replaced (`resume`): an offer of ours still waiting for its answer
   * went to the old socket and will never be answered. It is rolled back and made again on the
   * new one, as after a crossing server offer.
   */
  abandonOffer() {
    this.answerRefuser?.(new OfferRefused('renegotiation_in_progress'));
  }

  /**
   * The server refused something: when it is the client's pending re-offer
   * (`renegotiation_in_progress`: a server offer crossed it; `bad_sdp`), the offer is withdrawn;
   * after `renegotiation_in_progress` it is made again once the server's offer is answered.
   * Returns true when the error was about that offer (the caller shows nothing).
   * @param {string} code
   * @returns {boolean}
   */
  handleServerError(code) {
    if (!this.answerRefuser) return false;
    if (code !== 'renegotiation_in_progress' && code !== 'bad_sdp') return false;
    this.answerRefuser(new OfferRefused(code));
    return code === 'renegotiation_in_progress';
  }

  /**
   * Apply `change` (transceivers added, made inactive…) and offer again, after the negotiations
   * already queued. Resolves once the server answered (or the change proved unnecessary);
   * rejects when the offer failed for good.
   * @private
   * @param {() => Promise<void>} change
   * @returns {Promise<void>}
   */
  renegotiate(change) {
    return new Promise((resolve, reject) => {
      this.enqueue(async () => {
        try {
          await change();
          await this.offerAgain(resolve, reject, 0);
        } catch (err) {
          reject(err);
          throw err;
        }
      });
    });
  }

  /**
   * One re-offer. On `renegotiation_in_progress` the offer is rolled back and tried again after
   * the server's offer, which the chain already holds behind this step.
   * @private
   * @param {() => void} resolve
   * @param {(err: unknown) => void} reject
   * @param {number} attempt
   */
  async offerAgain(resolve, reject, attempt) {
    const restarting = this.iceRestartWanted;
    const offer = await this.pc.createOffer(restarting ? { iceRestart: true } : undefined);
    const sdp = relabelStream(offer.sdp ?? '', this.screenStream.id, 'screen');
    try {
      await this.pc.setLocalDescription({ type: 'offer', sdp });
    } catch (err) {
      // A browser that refuses the relabelled description: set its own, send the relabelled
      // one (the msid only matters to the server).
      console.warn('webconf: the browser refused the relabelled offer, sending it anyway', err);
      await this.pc.setLocalDescription(offer);
    }
    const answered = this.waitForAnswer();
    this.cb.sendOffer(sdp);
    let answer;
    try {
      answer = await answered;
    } catch (err) {
      if (this.pc.signalingState === 'have-local-offer') {
        await this.pc.setLocalDescription({ type: 'rollback' });
      }
      if (err instanceof OfferRefused && err.code === 'renegotiation_in_progress' && attempt < 5) {
        this.enqueue(() => this.offerAgain(resolve, reject, attempt + 1).catch((e) => {
          reject(e);
          throw e;
        }));
        return;
      }
      throw err;
    }
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answer });
    if (restarting) this.iceRestartWanted = false;
    resolve();
  }

  /**
   * @private
   * @returns {Promise<string>}
   */
  waitForAnswer() {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.answerWaiter = null;
        this.answerRefuser = null;
        reject(new Error('the server did not answer the offer in time'));
      }, ANSWER_TIMEOUT_MS);
      this.answerWaiter = (sdp) => {
        clearTimeout(timer);
        this.answerWaiter = null;
        this.answerRefuser = null;
        resolve(sdp);
      };
      this.answerRefuser = (err) => {
        clearTimeout(timer);
        this.answerWaiter = null;
        this.answerRefuser = null;
        reject(err);
      };
    });
  }

  /**
   * Run one negotiation step after the previous ones. A failed step is reported and does not
   * block the following ones.
   * @private
   * @param {() => Promise<void>} step
   */
  enqueue(step) {
    this.chain = this.chain.then(async () => {
      if (this.closed) return;
      try {
        await step();
      } catch (err) {
        if (!this.closed) this.cb.onNegotiationError(err);
      }
    });
  }
}
