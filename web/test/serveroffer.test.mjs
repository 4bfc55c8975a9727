// Unit tests of how the client treats a server offer sent again after a `resume`
// (docs/protocol.md): `node --test web/test/`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerSession, serverOfferStatus } from '../js/media.js';

const OFFER_1 = 'v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n';
const OFFER_2 = 'v=0\r\no=- 1 3 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n';

test('a server offer is new, in hand or already answered, by its SDP', () => {
  assert.equal(serverOfferStatus(OFFER_1, null, null), 'new');
  assert.equal(serverOfferStatus(OFFER_1, OFFER_1, null), 'in-hand');
  assert.equal(serverOfferStatus(OFFER_2, OFFER_1, null), 'new');
  const answered = { offer: OFFER_1, answer: 'answer 1' };
  assert.equal(serverOfferStatus(OFFER_1, null, answered), 'answered');
  assert.equal(serverOfferStatus(OFFER_2, null, answered), 'new', 'the next offer (another version)');
  assert.equal(serverOfferStatus(OFFER_2, OFFER_2, answered), 'in-hand');
  // Only the exact text counts: a different offer is never taken for the one answered.
  assert.equal(serverOfferStatus(`${OFFER_1}a=sendonly\r\n`, null, answered), 'new');
});

/** An RTCPeerConnection that records what is applied to it; answers are numbered. */
class FakePeerConnection {
  constructor() {
    /** @type {string[]} */ this.remoteOffers = [];
    this.answers = 0;
    /** @type {{type: string, sdp: string} | null} */ this.localDescription = null;
    /** Resolves `setRemoteDescription` when set (to hold an offer "being applied"). */
    this.hold = null;
  }

  addEventListener() {}

  async setRemoteDescription(desc) {
    if (this.hold) await this.hold;
    this.remoteOffers.push(desc.sdp);
  }

  async createAnswer() {
    this.answers += 1;
    return { type: 'answer', sdp: `answer ${this.answers}` };
  }

  async setLocalDescription(desc) {
    this.localDescription = desc;
  }

  close() {}
}

function session() {
  globalThis.RTCPeerConnection = /** @type {any} */ (FakePeerConnection);
  globalThis.MediaStream = /** @type {any} */ (class {});
  /** @type {string[]} */
  const sent = [];
  const errors = [];
  const peer = new PeerSession(/** @type {any} */ ({}), {
    sendOffer: () => {},
    sendAnswer: (sdp) => sent.push(sdp),
    onTrack: () => {},
    onNegotiationError: (err) => errors.push(err),
    onConnectionState: () => {},
  });
  return { peer, pc: /** @type {FakePeerConnection} */ (/** @type {any} */ (peer.pc)), sent, errors };
}

/** Lets the negotiation chain run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

test('an offer already answered, sent again: the same answer again, nothing applied twice', async () => {
  const { peer, pc, sent, errors } = session();
  peer.handleOffer(OFFER_1);
  await settle();
  assert.deepEqual(pc.remoteOffers, [OFFER_1]);
  assert.deepEqual(sent, ['answer 1']);
  // The answer was lost with the old socket; after the resume the server sends the same offer.
  peer.handleOffer(OFFER_1);
  await settle();
  assert.deepEqual(pc.remoteOffers, [OFFER_1], 'not applied again');
  assert.deepEqual(sent, ['answer 1', 'answer 1'], 'the same answer again');
  // The next offer is applied and answered as usual.
  peer.handleOffer(OFFER_2);
  await settle();
  assert.deepEqual(pc.remoteOffers, [OFFER_1, OFFER_2]);
  assert.deepEqual(sent, ['answer 1', 'answer 1', 'answer 2']);
  assert.deepEqual(errors, []);
  peer.close();
});

test('an offer being answered, sent again: ignored, answered once', async () => {
  const { peer, pc, sent, errors } = session();
  /** @type {() => void} */
  let release = () => {};
  pc.hold = new Promise((resolve) => { release = () => resolve(undefined); });
  peer.handleOffer(OFFER_1);
  await settle();
  peer.handleOffer(OFFER_1);
  await settle();
  assert.deepEqual(sent, [], 'still being applied');
  release();
  pc.hold = null;
  await settle();
  assert.deepEqual(pc.remoteOffers, [OFFER_1], 'applied once');
  assert.deepEqual(sent, ['answer 1'], 'answered once');
  // Sent again once answered: the same answer.
  peer.handleOffer(OFFER_1);
  await settle();
  assert.deepEqual(sent, ['answer 1', 'answer 1']);
  assert.deepEqual(errors, []);
  peer.close();
});

test('an offer that failed to apply is handled anew if sent again', async () => {
  const { peer, pc, sent, errors } = session();
  let fail = true;
  const apply = pc.setRemoteDescription.bind(pc);
  pc.setRemoteDescription = async (desc) => {
    if (fail) throw new Error('refused');
    return apply(desc);
  };
  peer.handleOffer(OFFER_1);
  await settle();
  assert.equal(errors.length, 1);
  assert.deepEqual(sent, []);
  fail = false;
  peer.handleOffer(OFFER_1);
  await settle();
  assert.deepEqual(pc.remoteOffers, [OFFER_1]);
  assert.deepEqual(sent, ['answer 1']);
  peer.close();
});
