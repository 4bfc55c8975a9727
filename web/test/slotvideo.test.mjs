// Camera slots (docs/protocol.md, `slots`): whose camera a video m-line carries, which tile each
// camera slot's track goes to from a table, what moves when the table changes, when a tile may
// show a slot's track that just moved in, and the e2e helper's attribution: `node --test web/test/`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  REVEAL_FRAMES, RevealWatch, SlotTable, cameraOwner, cameraSlotMoves, microphoneOwner, placeCameraSlots, slotKind,
} from '../js/slots.js';
import { SlotVideo } from '../js/ui/slotvideo.js';
import { pageMediaStats } from '../../tests/e2e/lib/stats.mjs';

test('the kind of a slot from its track id', () => {
  assert.equal(slotKind('slot-audio-0'), 'audio');
  assert.equal(slotKind('slot-video-0'), 'video');
  assert.equal(slotKind('slot-video-12'), 'video');
  for (const id of ['pa-video', 'slot-video-', 'slot-video-x', 'xslot-video-1', 'slot-screen-0', '', null, undefined]) {
    assert.equal(slotKind(id), null, String(id));
  }
});

test('whose camera a video m-line carries: the table for camera slots, the msid otherwise', () => {
  const table = new SlotTable();
  table.update([
    { mid: '3', participant: 'pa' }, { mid: '4', participant: null }, { mid: '8', participant: 'pb' },
  ]);
  const slotOf = (/** @type {string} */ mid) => table.get(mid);
  assert.equal(cameraOwner({ stream: 'slots', track: 'slot-video-0' }, '8', slotOf), 'pb');
  assert.equal(cameraOwner({ stream: 'slots', track: 'slot-video-1' }, '4', slotOf), null);
  assert.equal(cameraOwner({ stream: 'slots', track: 'slot-video-2' }, '11', slotOf), null);
  // A microphone slot is nobody's camera, a camera slot nobody's microphone.
  assert.equal(cameraOwner({ stream: 'slots', track: 'slot-audio-0' }, '3', slotOf), null);
  assert.equal(microphoneOwner({ stream: 'slots', track: 'slot-video-0' }, '8', slotOf), null);
  assert.equal(microphoneOwner({ stream: 'slots', track: 'slot-audio-0' }, '3', slotOf), 'pa');
  // The per-participant path: a camera by its msid; screens and microphones are not cameras.
  assert.equal(cameraOwner({ stream: 'pc', track: 'pc-video' }, '5', slotOf), 'pc');
  assert.equal(cameraOwner({ stream: 'pc', track: 'pc-screen' }, '6', slotOf), null);
  assert.equal(cameraOwner({ stream: 'pc', track: 'pc-audio' }, '7', slotOf), null);
  assert.equal(cameraOwner(null, '3', slotOf), null);
});

test('which tile each camera slot goes to: the table; nobody while unlisted or empty; one slot a tile', () => {
  const table = new Map(Object.entries({ 1: 'pa', 3: null, 5: 'pb', 7: 'pa' }));
  const placed = placeCameraSlots(['1', '3', '5', '7', '9'], (mid) => table.get(mid));
  assert.deepEqual([...placed], [['1', 'pa'], ['3', null], ['5', 'pb'], ['7', null], ['9', null]]);
  assert.deepEqual([...placeCameraSlots([], (mid) => table.get(mid))], []);
});

test('what moves when the table changes: out of the old tile, into the new; unchanged slots stay', () => {
  const before = new Map(Object.entries({ 1: 'pa', 3: 'pb', 5: null, 7: 'pc' }));
  // 1 keeps pa; 3 goes from pb to pd; 5 now carries pb; 7 carries nothing; 9 is new with pe;
  // 11 (in `before` only, its track gone) leaves pf.
  before.set('11', 'pf');
  const after = new Map(Object.entries({ 1: 'pa', 3: 'pd', 5: 'pb', 7: null, 9: 'pe' }));
  assert.deepEqual(cameraSlotMoves(before, after), [
    { mid: '3', from: 'pb', to: 'pd' },
    { mid: '5', from: null, to: 'pb' },
    { mid: '7', from: 'pc', to: null },
    { mid: '9', from: null, to: 'pe' },
    { mid: '11', from: 'pf', to: null },
  ]);
  assert.deepEqual(cameraSlotMoves(after, after), []);
});

test('a slot track that moved in shows only once frames were decoded after the move', () => {
  assert.equal(REVEAL_FRAMES, 2);
  const w = new RevealWatch();
  // No statistics yet (no packet since the m-line opened): hidden.
  assert.equal(w.sample(null), false);
  assert.equal(w.sample(undefined), false);
  // The first sample is the base: the picture shown may be the previous participant's.
  assert.equal(w.sample(500), false);
  assert.equal(w.sample(500), false);
  // One frame decoded since: it may not have reached the <video> yet.
  assert.equal(w.sample(501), false);
  assert.equal(w.revealed, false);
  // Two: the first one decoded after the move is on screen.
  assert.equal(w.sample(502), true);
  assert.equal(w.revealed, true);
  // Stays shown (a stall later is framewatch.js's business).
  assert.equal(w.sample(null), true);

  // A counter that goes back (a new receiver) starts afresh; a jump reveals at once.
  const v = new RevealWatch();
  assert.equal(v.sample(100), false);
  assert.equal(v.sample(3), false);
  assert.equal(v.sample(4), false);
  assert.equal(v.sample(30), true);
  // NaN is not a count.
  const n = new RevealWatch(1);
  assert.equal(n.sample(Number.NaN), false);
  assert.equal(n.sample(0), false);
  assert.equal(n.sample(1), true);
});

/** A fake track / stream with the events SlotVideo listens to. */
function fakeTrack(/** @type {string} */ id) {
  const t = /** @type {any} */ (new EventTarget());
  t.id = id;
  t.kind = 'video';
  t.readyState = 'live';
  return t;
}

test('SlotVideo: slot tracks go into the tile the table says, move with it, leave with their track', () => {
  /** @type {string[]} */
  const calls = [];
  const tiles = {
    showSlotVideo: (/** @type {string} */ id, /** @type {any} */ track, /** @type {any} */ receiver, /** @type {string} */ mid) => {
      assert.equal(receiver?.name, `r${mid}`);
      calls.push(`show ${id} ${track.id} ${receiver?.name ?? '-'}`);
    },
    hideSlotVideo: (/** @type {string} */ id, /** @type {any} */ track) => calls.push(`hide ${id} ${track.id}`),
    useCameraSlots: () => { slotsUsed += 1; },
  };
  let slotsUsed = 0;
  const table = new SlotTable();
  const video = new SlotVideo(tiles, (mid) => table.get(mid));
  const stream = /** @type {any} */ (new EventTarget());
  const t1 = fakeTrack('v1');
  const t2 = fakeTrack('v2');
  const tr1 = /** @type {any} */ ({ mid: '3', currentDirection: 'recvonly', receiver: { name: 'r3' } });
  const tr2 = /** @type {any} */ ({ mid: '4', currentDirection: 'recvonly', receiver: { name: 'r4' } });

  // The table may come before the track, or after.
  table.update([{ mid: '3', participant: 'pa' }]);
  assert.equal(slotsUsed, 0);
  video.attach(t1, stream, tr1);
  assert.deepEqual(calls.splice(0), ['show pa v1 r3']);
  assert.ok(slotsUsed > 0, 'the tiles know cameras come in slots');
  video.attach(t2, stream, tr2);
  assert.deepEqual(calls.splice(0), []);
  assert.equal(video.shownIn('4'), null);
  table.update([{ mid: '3', participant: 'pa' }, { mid: '4', participant: 'pb' }]);
  video.apply();
  assert.deepEqual(calls.splice(0), ['show pb v2 r4']);
  // The same table again (after `resume`): nothing moves, nothing hides.
  video.apply();
  video.attach(t1, stream, tr1);
  assert.deepEqual(calls.splice(0), []);

  // pa stops (reported at once): out of pa's tile. pc comes in that slot later.
  table.update([{ mid: '3', participant: null }, { mid: '4', participant: 'pb' }]);
  video.apply();
  assert.deepEqual(calls.splice(0), ['hide pa v1']);
  table.update([{ mid: '3', participant: 'pc' }, { mid: '4', participant: 'pb' }]);
  video.apply();
  assert.deepEqual(calls.splice(0), ['show pc v1 r3']);

  // The two slots swap participants in one table: both leave their tiles first.
  table.update([{ mid: '3', participant: 'pb' }, { mid: '4', participant: 'pc' }]);
  video.apply();
  assert.deepEqual(calls.splice(0), ['hide pc v1', 'hide pb v2', 'show pb v1 r3', 'show pc v2 r4']);
  assert.equal(video.shownIn('3'), 'pb');

  // A slot's track leaves the stream (the server stopped its m-line): out of its tile.
  const ev = /** @type {any} */ (new Event('removetrack'));
  ev.track = t2;
  stream.dispatchEvent(ev);
  assert.deepEqual(calls.splice(0), ['hide pc v2']);
  assert.equal(video.size, 1);
  // A transceiver found stopped: the same.
  tr1.currentDirection = 'stopped';
  video.prune();
  assert.deepEqual(calls.splice(0), ['hide pb v1']);
  assert.equal(video.size, 0);

  // dispose takes what is shown out of the tiles.
  const t3 = fakeTrack('v3');
  table.update([{ mid: '9', participant: 'pd' }]);
  video.attach(t3, stream, /** @type {any} */ ({ mid: '9', currentDirection: 'recvonly', receiver: { name: 'r9' } }));
  assert.deepEqual(calls.splice(0), ['show pd v3 r9']);
  t3.dispatchEvent(new Event('ended'));
  assert.deepEqual(calls.splice(0), ['hide pd v3']);
  const t4 = fakeTrack('v4');
  video.attach(t4, stream, /** @type {any} */ ({ mid: '9', currentDirection: 'recvonly', receiver: { name: 'r9' } }));
  assert.deepEqual(calls.splice(0), ['show pd v4 r9']);
  video.dispose();
  assert.deepEqual(calls.splice(0), ['hide pd v4']);
});

/** A server offer with a microphone slot, two camera slots, an old-style camera and a screen. */
const OFFER = [
  'v=0', 'o=- 1 2 IN IP4 0.0.0.0', 's=-', 't=0 0', 'a=group:BUNDLE 0 1 2 3 4 5',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:0', 'a=sendonly', 'a=msid:slots slot-audio-0',
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:1', 'a=sendonly', 'a=msid:slots slot-video-0',
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:2', 'a=sendonly', 'a=msid:slots slot-video-1',
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:3', 'a=sendonly', 'a=msid:pc pc-video',
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:4', 'a=sendonly', 'a=msid:pa pa-screen',
  '',
].join('\r\n');

test('e2e pageMediaStats: a camera slot counts for the participant it carries now', async () => {
  const inbound = {
    0: { kind: 'audio', packetsReceived: 100, bytesReceived: 5000 },
    1: { kind: 'video', packetsReceived: 300, bytesReceived: 90000, framesDecoded: 60 },
    2: { kind: 'video', packetsReceived: 30, bytesReceived: 9000, framesDecoded: 6 },
    3: { kind: 'video', packetsReceived: 50, bytesReceived: 15000, framesDecoded: 10 },
    4: { kind: 'video', packetsReceived: 70, bytesReceived: 21000, framesDecoded: 14 },
  };
  const pc = {
    currentRemoteDescription: { type: 'offer', sdp: OFFER },
    getTransceivers: () => Object.keys(inbound).map((mid) => ({
      mid,
      currentDirection: 'recvonly',
      receiver: {
        track: { readyState: 'live' },
        getStats: async () => new Map([[`in-${mid}`, { id: `in-${mid}`, type: 'inbound-rtp', mid, .../** @type {any} */ (inbound)[mid] }]]),
      },
    })),
  };
  const had = Object.getOwnPropertyDescriptor(globalThis, 'window');
  try {
    const win = { webconf: { pc, slots: { 0: 'pa', 1: 'pa', 2: null } } };
    Object.defineProperty(globalThis, 'window', { value: win, configurable: true, writable: true });
    let { byParticipant } = await pageMediaStats();
    // pa: its microphone slot, its camera slot, and its screen by msid (added up as video);
    // the empty camera slot nowhere; pc's camera by msid.
    assert.deepEqual(Object.keys(byParticipant).sort(), ['pa', 'pc']);
    assert.equal(byParticipant.pa.audio.packetsReceived, 100);
    assert.equal(byParticipant.pa.video.framesDecoded, 74);
    assert.equal(byParticipant.pa.video.mids, '1,4');
    assert.equal(byParticipant.pc.video.framesDecoded, 10);
    // The slots change hands.
    win.webconf.slots = { 0: 'pa', 1: 'pb', 2: 'pa' };
    ({ byParticipant } = await pageMediaStats());
    assert.equal(byParticipant.pb.video.framesDecoded, 60);
    assert.equal(byParticipant.pa.video.framesDecoded, 20);
    assert.equal(byParticipant.slots, undefined);
  } finally {
    if (had) Object.defineProperty(globalThis, 'window', had);
    else delete (/** @type {any} */ (globalThis)).window;
  }
});
