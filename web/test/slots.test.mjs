// Microphone slots (docs/protocol.md, `slots`; the message's parsing is in protocol.test.mjs):
// the table, whose microphone a receiving audio m-line carries (speaking indicator), and the
// e2e helper's attribution of a slot's counters: `node --test web/test/`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SLOT_STREAM, SlotTable, forwardedMedia, forwardedParticipants, isSlotStream, leftOutByLastN, microphoneOwner,
  slotPools,
} from '../js/slots.js';
import { watchSpeakers } from '../js/speaker.js';
import { pageMediaStats } from '../../tests/e2e/lib/stats.mjs';

test('the slot stream id is `slots`, never a participant id', () => {
  assert.equal(SLOT_STREAM, 'slots');
  assert.ok(isSlotStream('slots'));
  for (const id of ['p0c1d2e3f40516273', 'screen', 'Slots', '', null, undefined]) assert.ok(!isSlotStream(id), String(id));
});

test('the slot table: each message replaces it; unknown mids are undefined, empty slots null', () => {
  const table = new SlotTable();
  assert.equal(table.size, 0);
  assert.deepEqual(table.toObject(), {});
  assert.equal(table.get('3'), undefined);
  // A mid listed before its m-line exists is kept until it is looked up.
  table.update([{ mid: '3', participant: 'pa' }, { mid: '7', participant: null }, { mid: '9', participant: 'pb' }]);
  assert.equal(table.get('3'), 'pa');
  assert.equal(table.get('7'), null);
  assert.equal(table.get('9'), 'pb');
  assert.equal(table.size, 3);
  assert.deepEqual(Object.entries(table.toObject()), [['3', 'pa'], ['7', null], ['9', 'pb']]);
  // The next table lists every slot: what it leaves out is forgotten.
  table.update([{ mid: '3', participant: 'pc' }, { mid: '7', participant: 'pa' }]);
  assert.deepEqual(table.toObject(), { 3: 'pc', 7: 'pa' });
  assert.equal(table.get('9'), undefined);
  // The copy handed out does not follow later changes.
  const shown = table.toObject();
  table.clear();
  assert.deepEqual(shown, { 3: 'pc', 7: 'pa' });
  assert.deepEqual(table.toObject(), {});
});

test('whose media the server forwards: the table\'s participants and the per-participant m-lines', () => {
  const table = new SlotTable();
  assert.deepEqual(table.participants(), new Set());
  assert.deepEqual(table.entries(), []);
  table.update([{ mid: '3', participant: 'pa' }, { mid: '4', participant: null }, { mid: '7', participant: 'pb' },
    { mid: '8', participant: 'pa' }, { mid: '12', participant: 'pf' }]);
  assert.deepEqual(table.participants(), new Set(['pa', 'pb', 'pf']), 'empty slots name nobody; a microphone and a camera once');
  assert.deepEqual(table.entries(), [['3', 'pa'], ['4', null], ['7', 'pb'], ['8', 'pa'], ['12', 'pf']]);
  const slot = (track, kind, mid) => ({ msid: { stream: SLOT_STREAM, track }, kind, mid });
  const receiving = [
    slot('slot-audio-0', 'audio', '3'),
    slot('slot-audio-1', 'audio', '4'),
    slot('slot-video-0', 'video', '7'),
    // No track id of the slot shape: the transceiver's kind.
    slot(null, 'video', '8'),
    { msid: { stream: 'pc', track: 'pc-screen' }, kind: 'video', mid: '9' },
    { msid: { stream: 'pd', track: 'pd-video' }, kind: 'video', mid: '10' },
    { msid: { stream: 'pe', track: 'no-label' }, kind: 'audio', mid: '11' },
    { msid: null, kind: 'audio', mid: '13' },
  ];
  // pa, pb by the table (a slot's msid names nobody), pf's slot has no m-line here yet; pc's
  // screen and pd's camera m-lines are theirs.
  const media = forwardedMedia(table.entries(), receiving);
  assert.deepEqual(media, new Map([
    ['pc', new Set(['screen'])],
    ['pd', new Set(['video'])],
    ['pa', new Set(['audio', 'video'])],
    ['pb', new Set(['video'])],
    ['pf', new Set(['unknown'])],
  ]));
  assert.deepEqual(forwardedParticipants(media), new Set(['pa', 'pb', 'pc', 'pd', 'pf']), 'without media states: all');
  table.update([{ mid: '3', participant: null }]);
  assert.deepEqual(forwardedParticipants(forwardedMedia(table.entries(), [])), new Set(), 'outside every last-N: nobody');
});

test('a slot carrying a microphone its owner says is off does not count as forwarded; per kind', () => {
  const slot = (track, kind, mid) => ({ msid: { stream: SLOT_STREAM, track }, kind, mid });
  const receiving = [
    slot('slot-audio-0', 'audio', '3'),
    slot('slot-audio-1', 'audio', '4'),
    slot('slot-video-0', 'video', '7'),
    { msid: { stream: 'pd', track: 'pd-audio' }, kind: 'audio', mid: '10' },
    { msid: { stream: 'pe', track: 'pe-screen-audio' }, kind: 'audio', mid: '11' },
  ];
  // pa: its microphone in a slot, its camera in none; pb: microphone and camera in slots; pc:
  // a slot not here yet; pd: an older server's microphone m-line; pe: a screen's sound.
  /** @type {Array<[string, string]>} */
  const table = [['3', 'pa'], ['4', 'pb'], ['7', 'pb'], ['9', 'pc']];
  const forwarded = forwardedMedia(table, receiving);
  const off = { audio: false, video: true };
  const on = { audio: true, video: true };
  const media = new Map([['pa', off], ['pb', off], ['pc', off], ['pd', off], ['pe', { audio: false, video: false }]]);
  assert.deepEqual(forwardedParticipants(forwarded, media), new Set(['pb', 'pc', 'pe']),
    'pa and pd: only a microphone they say is off; pb: its camera; pc: kind not known yet; pe: a screen');
  assert.deepEqual(forwardedParticipants(forwarded, new Map([['pa', on], ['pd', on]])),
    new Set(['pa', 'pb', 'pc', 'pd', 'pe']));
  // Both off, their camera in a slot too (a disabled camera sends black frames): not forwarded.
  assert.equal(forwardedParticipants(forwarded, new Map([['pb', { audio: false, video: false }]])).has('pb'), false);
  assert.equal(forwardedParticipants(forwarded, new Map([['pb', { audio: true, video: false }]])).has('pb'), true);
});

test('the slot pools, and whether the last-N explains that nothing of a participant comes', () => {
  const table = new SlotTable();
  table.update([{ mid: '3', participant: 'pa' }, { mid: '4', participant: null }, { mid: '7', participant: 'pb' },
    { mid: '8', participant: 'pc' }]);
  const slot = (track, kind, mid) => ({ msid: { stream: SLOT_STREAM, track }, kind, mid });
  const pools = slotPools([
    slot('slot-audio-0', 'audio', '3'),
    slot('slot-audio-1', 'audio', '4'),
    slot('slot-video-0', 'video', '7'),
    // No track id of the slot shape: the transceiver's kind.
    slot(null, 'video', '8'),
    // Not listed yet: free.
    slot('slot-video-2', 'video', '9'),
    { msid: { stream: 'pd', track: 'pd-screen' }, kind: 'video', mid: '10' },
    { msid: null, kind: 'audio', mid: '11' },
  ], (mid) => table.get(mid));
  assert.deepEqual(pools, { audio: { open: 2, free: 1 }, video: { open: 3, free: 1 } });

  const full = { audio: { open: 5, free: 0 }, video: { open: 2, free: 0 } };
  assert.equal(leftOutByLastN({ audio: true, video: true }, full), true, 'every slot taken by others: last-N');
  assert.equal(leftOutByLastN({ audio: true, video: true }, { ...full, video: { open: 2, free: 1 } }), false,
    'a free camera slot while their camera is on: not the last-N');
  assert.equal(leftOutByLastN({ audio: false, video: true }, { ...full, audio: { open: 3, free: 1 } }), true,
    'a microphone off (a moderator muted it) needs no microphone slot');
  assert.equal(leftOutByLastN({ audio: true, video: false }, { audio: { open: 0, free: 0 }, video: full.video }), false,
    'no slot open at all: their media does not reach the server');
  assert.equal(leftOutByLastN({ audio: false, video: false }, { audio: { open: 0, free: 0 }, video: { open: 0, free: 0 } }), true,
    'nothing on: nothing to send');
});

test('whose microphone an audio m-line carries: the slot table for slots, the msid otherwise', () => {
  const table = new SlotTable();
  table.update([{ mid: '3', participant: 'pa' }, { mid: '7', participant: null }]);
  const slotOf = (/** @type {string} */ mid) => table.get(mid);
  assert.equal(microphoneOwner({ stream: 'slots', track: 'slot-audio-0' }, '3', slotOf), 'pa');
  assert.equal(microphoneOwner({ stream: 'slots', track: 'slot-audio-1' }, '7', slotOf), null);
  // Its m-line came before the table said who: nobody yet.
  assert.equal(microphoneOwner({ stream: 'slots', track: 'slot-audio-2' }, '11', slotOf), null);
  // The per-participant path is unchanged.
  assert.equal(microphoneOwner({ stream: 'pb', track: 'pb-audio' }, '4', slotOf), 'pb');
  // Not microphones: cameras, screens and their sound; no msid.
  assert.equal(microphoneOwner({ stream: 'pb', track: 'pb-video' }, '5', slotOf), null);
  assert.equal(microphoneOwner({ stream: 'pb', track: 'pb-screen-audio' }, '6', slotOf), null);
  assert.equal(microphoneOwner({ stream: 'pb', track: 'pb-screen' }, '6', slotOf), null);
  assert.equal(microphoneOwner(null, '3', slotOf), null);
  // A table that lists a per-participant mid changes nothing for it.
  assert.equal(microphoneOwner({ stream: 'pb', track: 'pb-audio' }, '3', slotOf), 'pb');
});

/** A server offer with two slots, a slot opened later, one old-style microphone, cameras and a
 * screen's sound. */
const SLOT_OFFER = [
  'v=0', 'o=- 1 2 IN IP4 0.0.0.0', 's=-', 't=0 0', 'a=group:BUNDLE 0 1 2 3 4 5 6',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:0', 'a=recvonly',
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:1', 'a=recvonly',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:2', 'a=sendonly', 'a=msid:slots slot-audio-0',
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:3', 'a=sendonly', 'a=msid:pa pa-video',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:4', 'a=sendonly', 'a=msid:slots slot-audio-1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:5', 'a=sendonly', 'a=msid:pb pb-screen-audio',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:6', 'a=sendonly', 'a=msid:pc pc-audio',
  '',
].join('\r\n');

/**
 * A stand-in for an RTCPeerConnection with receiving transceivers and their inbound-rtp
 * statistics (only what pageMediaStats and watchSpeakers read).
 * @param {Record<string, Record<string, unknown>>} inbound  mid → its inbound-rtp entry.
 */
function fakePc(inbound) {
  const transceivers = ['0', '1', '2', '3', '4', '5', '6'].map((mid) => ({
    mid,
    currentDirection: Number(mid) < 2 ? 'sendonly' : 'recvonly',
    receiver: {
      track: { id: `track-${mid}`, readyState: 'live' },
      getStats: async () => new Map(inbound[mid] ? [[`in-${mid}`, { id: `in-${mid}`, type: 'inbound-rtp', mid, ...inbound[mid] }]] : []),
    },
  }));
  return {
    connectionState: 'connected',
    remoteDescription: { type: 'offer', sdp: SLOT_OFFER },
    currentRemoteDescription: { type: 'offer', sdp: SLOT_OFFER },
    getTransceivers: () => transceivers,
    getStats: async () => {
      const all = new Map();
      for (const [mid, s] of Object.entries(inbound)) {
        all.set(`in-${mid}`, { id: `in-${mid}`, type: 'inbound-rtp', mid, trackIdentifier: `track-${mid}`, ...s });
      }
      return all;
    },
  };
}

const INBOUND = {
  2: { kind: 'audio', packetsReceived: 100, bytesReceived: 5000, totalSamplesReceived: 48000, audioLevel: 0.2 },
  3: { kind: 'video', packetsReceived: 300, bytesReceived: 90000, framesDecoded: 60 },
  4: { kind: 'audio', packetsReceived: 40, bytesReceived: 2000, totalSamplesReceived: 9600, audioLevel: 0.3 },
  5: { kind: 'audio', packetsReceived: 7, bytesReceived: 700, audioLevel: 0.5 },
  6: { kind: 'audio', packetsReceived: 50, bytesReceived: 2500, audioLevel: 0.4 },
};

test('e2e pageMediaStats: a slot counts for the participant it carries now, and not while empty', async () => {
  const had = Object.getOwnPropertyDescriptor(globalThis, 'window');
  try {
    const win = { webconf: { pc: fakePc(INBOUND), slots: { 2: 'pa', 4: null } } };
    Object.defineProperty(globalThis, 'window', { value: win, configurable: true, writable: true });
    let { byParticipant, error } = await pageMediaStats();
    assert.equal(error, undefined);
    // pa: its camera and the slot that carries it; the empty slot (mid 4) nowhere; pb's screen
    // sound and pc's own microphone m-line by their msid, as before.
    assert.deepEqual(Object.keys(byParticipant).sort(), ['pa', 'pb', 'pc']);
    assert.equal(byParticipant.pa.audio.packetsReceived, 100);
    assert.equal(byParticipant.pa.audio.totalSamplesReceived, 48000);
    assert.equal(byParticipant.pa.audio.mids, '2');
    assert.equal(byParticipant.pa.video.framesDecoded, 60);
    assert.equal(byParticipant.pb.audio.packetsReceived, 7);
    assert.equal(byParticipant.pc.audio.packetsReceived, 50);
    assert.equal(byParticipant.slots, undefined);

    // The slots change hands: pa moves to the second slot, the first carries pb.
    win.webconf.slots = { 2: 'pb', 4: 'pa' };
    ({ byParticipant } = await pageMediaStats());
    assert.equal(byParticipant.pa.audio.packetsReceived, 40);
    assert.equal(byParticipant.pb.audio.packetsReceived, 107);
    assert.equal(byParticipant.pb.audio.transceivers, 2);

    // No table (a page before any `slots`, or an older client): slots are skipped.
    win.webconf = { pc: fakePc(INBOUND) };
    ({ byParticipant } = await pageMediaStats());
    assert.deepEqual(Object.keys(byParticipant).sort(), ['pa', 'pb', 'pc']);
    assert.equal(byParticipant.pa.audio, undefined);
  } finally {
    if (had) Object.defineProperty(globalThis, 'window', had);
    else delete (/** @type {any} */ (globalThis)).window;
  }
});

test('the speaking indicator reads a slot through the latest table, other microphones by msid', async () => {
  const table = new SlotTable();
  table.update([{ mid: '2', participant: 'pa' }, { mid: '4', participant: null }]);
  /** @type {import('../js/speaker.js').SpeakerState[]} */
  const states = [];
  const stop = watchSpeakers(/** @type {any} */ (fakePc(INBOUND)), {
    self: () => ({ id: 'pme', audio: false }),
    audible: () => true,
    slotOf: (mid) => table.get(mid),
    onUpdate: (state) => states.push(state),
  });
  try {
    const until = async (/** @type {number} */ n) => {
      for (let i = 0; i < 50 && states.length < n; i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(states.length >= n, 'watchSpeakers reported');
    };
    await until(1);
    // pa speaks in slot 2; the empty slot 4 is nobody; pc by its own m-line; a screen's sound
    // (pb) never makes anyone speak.
    assert.deepEqual([...states[states.length - 1].speaking].sort(), ['pa', 'pc']);
    table.update([{ mid: '2', participant: null }, { mid: '4', participant: 'pd' }]);
    const seen = states.length;
    await until(seen + 1);
    assert.deepEqual([...states[states.length - 1].speaking].sort(), ['pc', 'pd']);
  } finally {
    stop();
  }
});
