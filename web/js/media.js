// Local capture (getUserMedia with fallbacks) and the one RTCPeerConnection to the SFU.
//
// Negotiation follows docs/protocol.md: the client sends exactly one offer (its sendonly
// microphone and camera) right after `welcome`; every later negotiation is a server `offer` that
// the client answers. All of them go through one promise chain, so two never interleave.

/**
 * What `acquireLocalMedia` got. `stream` always exists (possibly without tracks).
 * `missing` says what could not be had: null when everything was, otherwise which devices are
 * missing, and `errorName` the DOMException name of the first failure (e.g. NotAllowedError).
 * @typedef {object} LocalMedia
 * @property {MediaStream} stream
 * @property {MediaStreamTrack | null} audioTrack
 * @property {MediaStreamTrack | null} videoTrack
 * @property {null | 'video' | 'audio' | 'both'} missing
 * @property {string | null} errorName
 */

/** Constraints tried in order: the spec asks for both, then audio only; video only and nothing
 * come last so that someone without a microphone can still be seen. */
const ATTEMPTS = /** @type {const} */ ([
  { audio: true, video: true },
  { audio: true, video: false },
  { audio: false, video: true },
]);

/**
 * Ask for the microphone and camera, falling back to the microphone alone, the camera alone,
 * then nothing. Never rejects.
 * @returns {Promise<LocalMedia>}
 */
export async function acquireLocalMedia() {
  /** @type {string | null} */
  let errorName = null;
  if (navigator.mediaDevices && typeof navigator.mediaDevices.getUserMedia === 'function') {
    for (const constraints of ATTEMPTS) {
      try {
        const stream = await navigator.mediaDevices.getUserMedia(constraints);
        return describe(stream, errorName);
      } catch (err) {
        errorName ??= err instanceof Error ? err.name : 'Error';
        console.warn('webconf: getUserMedia failed', constraints, err);
      }
    }
  } else {
    // No mediaDevices: the page is not a secure context (plain HTTP) or the browser is too old.
    errorName = 'NotSupportedError';
  }
  return describe(new MediaStream(), errorName);
}

/**
 * @param {MediaStream} stream
 * @param {string | null} errorName
 * @returns {LocalMedia}
 */
function describe(stream, errorName) {
  const audioTrack = stream.getAudioTracks()[0] ?? null;
  const videoTrack = stream.getVideoTracks()[0] ?? null;
  /** @type {LocalMedia['missing']} */
  let missing = null;
  if (!audioTrack && !videoTrack) missing = 'both';
  else if (!audioTrack) missing = 'audio';
  else if (!videoTrack) missing = 'video';
  return { stream, audioTrack, videoTrack, missing, errorName: missing ? errorName : null };
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
 * @property {(participantId: string, track: MediaStreamTrack, stream: MediaStream) => void} onTrack
 *   A remote track arrived; `participantId` is `stream.id` (the server's msid).
 * @property {(err: unknown) => void} onNegotiationError
 * @property {(state: RTCPeerConnectionState) => void} onConnectionState
 */

/** How long the server has to answer the client's offer. */
const ANSWER_TIMEOUT_MS = 15_000;

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

    this.pc.addEventListener('track', (ev) => {
      const stream = ev.streams[0];
      if (!stream) {
        console.warn('webconf: remote track without a stream (no msid), ignored', ev.track.id);
        return;
      }
      this.cb.onTrack(stream.id, ev.track, stream);
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
      this.pc.addTransceiver(audioTrack ?? 'audio', { direction: 'sendonly', streams: [stream] });
      this.pc.addTransceiver(videoTrack ?? 'video', { direction: 'sendonly', streams: [stream] });
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
   * The server offers to add or stop forwarded tracks: answer it, in turn.
   * @param {string} sdp
   */
  handleOffer(sdp) {
    this.enqueue(async () => {
      await this.pc.setRemoteDescription({ type: 'offer', sdp });
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(answer);
      this.cb.sendAnswer(this.pc.localDescription?.sdp ?? answer.sdp ?? '');
    });
  }

  /** Close the connection; later negotiations are dropped. Idempotent. */
  close() {
    if (this.closed) return;
    this.closed = true;
    this.answerWaiter = null;
    this.pc.close();
  }

  /**
   * @private
   * @returns {Promise<string>}
   */
  waitForAnswer() {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.answerWaiter = null;
        reject(new Error('the server did not answer the offer in time'));
      }, ANSWER_TIMEOUT_MS);
      this.answerWaiter = (sdp) => {
        clearTimeout(timer);
        this.answerWaiter = null;
        resolve(sdp);
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
