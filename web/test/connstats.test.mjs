import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeFigures, figureNames, formatFigure, qualityOf, NO_FIGURES, NOT_FORWARDED } from '../js/connstats.js';

const owners = {
  byMid: new Map([['2', 'bob'], ['3', 'bob'], ['4', 'carol']]),
  byTrack: new Map([['track-carol-video', 'carol']]),
  ownMids: new Set(['0', '1']),
};

/** Chromium-like stats: a UDP pair to server port 10004, our two senders, Bob's two streams. */
function report({ bytes = 0, lost = 0, rtt = 0.023, connected = true, protocol = 'udp', type = 'host' } = {}) {
  return [
    { type: 'transport', id: 'T', selectedCandidatePairId: connected ? 'CP' : undefined },
    {
      type: 'candidate-pair', id: 'CP', state: connected ? 'succeeded' : 'in-progress', nominated: connected,
      localCandidateId: 'L', remoteCandidateId: 'R', currentRoundTripTime: rtt,
      bytesReceived: bytes * 3, bytesSent: bytes * 2,
    },
    { type: 'local-candidate', id: 'L', protocol, candidateType: type, port: 50000 },
    { type: 'remote-candidate', id: 'R', protocol: 'udp', address: '127.0.0.1', port: 10004 },
    { type: 'codec', id: 'C-opus', mimeType: 'audio/opus' },
    { type: 'codec', id: 'C-vp8', mimeType: 'video/VP8' },
    { type: 'outbound-rtp', id: 'O-a', kind: 'audio', mid: '0', bytesSent: bytes / 4, codecId: 'C-opus' },
    {
      type: 'outbound-rtp', id: 'O-v', kind: 'video', mid: '1', bytesSent: bytes, codecId: 'C-vp8',
      frameWidth: 640, frameHeight: 480, framesPerSecond: 30,
    },
    { type: 'remote-inbound-rtp', id: 'RI-v', localId: 'O-v', fractionLost: 0.01, roundTripTime: 0.02 },
    {
      type: 'inbound-rtp', id: 'I-bob-a', kind: 'audio', mid: '2', bytesReceived: bytes / 4,
      packetsReceived: bytes / 100, packetsLost: lost, codecId: 'C-opus',
    },
    {
      type: 'inbound-rtp', id: 'I-bob-v', kind: 'video', mid: '3', bytesReceived: bytes,
      packetsReceived: bytes / 100, packetsLost: 0, codecId: 'C-vp8',
      frameWidth: 320, frameHeight: 240, framesPerSecond: 15,
    },
  ];
}

test('two samples of a flowing call give every figure, per tile', () => {
  const a = { at: 1000, stats: report({ bytes: 100_000 }) };
  const b = { at: 3000, stats: report({ bytes: 350_000 }) };
  const server = {
    type: /** @type {'stats'} */ ('stats'), bitrate_in: 1_000_000, bitrate_out: 2_000_000,
    loss_in: 0.005, loss_out: 0.01, rtt_ms: 40, transport: 'udp', server_port: 10004,
  };
  const { self, remote } = computeFigures(a, b, owners, server);
  // 250 000 video bytes + 62 500 audio bytes in 2 s.
  assert.equal(self.bitrateUp, 1_250_000);
  assert.equal(self.bitrateDown, ((350_000 - 100_000) * 3 * 8) / 2);
  assert.equal(self.lossUp, 0.005, 'the server measures what it receives from us');
  assert.equal(self.lossDown, 0);
  assert.equal(self.rttMs, 23);
  assert.deepEqual(self.resolution, { width: 640, height: 480 });
  assert.equal(self.frameRate, 30);
  assert.deepEqual(self.codecs, { audio: 'opus', video: 'VP8' });
  assert.equal(self.transport, 'UDP');
  assert.equal(self.serverPort, 10004);
  assert.equal(self.quality, 'good');

  const bob = remote.get('bob');
  assert.ok(bob);
  assert.equal(bob.bitrateDown, 1_250_000);
  assert.equal(bob.bitrateUp, null);
  assert.deepEqual(bob.resolution, { width: 320, height: 240 });
  assert.equal(bob.frameRate, 15);
  assert.equal(bob.transport, 'UDP');
  assert.equal(bob.serverPort, 10004);
  assert.equal(bob.quality, 'good');
  assert.equal(remote.get('carol'), undefined, 'nothing received from Carol: no figures');
});

test('no bytes between samples, or no connected pair: lost, every figure null', () => {
  const still = computeFigures({ at: 0, stats: report({ bytes: 5000 }) }, { at: 2000, stats: report({ bytes: 5000 }) }, owners, null);
  assert.deepEqual(still.self, { ...NO_FIGURES });
  assert.deepEqual(still.remote.get('bob'), { ...NO_FIGURES });

  const blocked = computeFigures(
    { at: 0, stats: report({ connected: false }) },
    { at: 2000, stats: report({ connected: false }) },
    owners,
    null,
  );
  assert.equal(blocked.self.quality, 'lost');
  assert.equal(blocked.self.transport, null);
  assert.equal(blocked.self.serverPort, null);

  const first = computeFigures(null, { at: 0, stats: report({ bytes: 5000 }) }, owners, null);
  assert.equal(first.self.quality, 'lost', 'one sample says nothing about flow');
});

test('a participant the last-N leaves out is idle, not lost; one the server forwards is lost without bytes', () => {
  // Bob is carried (his slots: mids 2 and 3), Carol has a slot in the table but no m-line here
  // yet, Dan's screen comes on its own m-line; Erin and Fay are in no slot.
  const full = { audio: { open: 5, free: 0 }, video: { open: 9, free: 0 } };
  const forwarding = { ...owners, byMid: new Map([['2', 'bob'], ['3', 'bob']]), byTrack: new Map(),
    forwarded: new Set(['bob', 'carol', 'dan']), pools: full };
  const on = { audio: true, video: true };
  const roster = new Map([['bob', on], ['carol', on], ['dan', on], ['erin', on], ['fay', { audio: false, video: false }]]);
  const a = { at: 0, stats: report({ bytes: 1000 }) };
  const b = { at: 2000, stats: report({ bytes: 5000 }) };
  const flowing = computeFigures(a, b, forwarding, null, roster);
  assert.equal(flowing.remote.get('bob')?.quality, 'good');
  assert.deepEqual(flowing.remote.get('carol'), { ...NO_FIGURES }, 'carried, nothing received: lost');
  assert.deepEqual(flowing.remote.get('dan'), { ...NO_FIGURES }, 'a screen forwarded, no camera or microphone: lost');
  assert.deepEqual(flowing.remote.get('erin'), { ...NOT_FORWARDED }, 'left out, every slot taken: idle, every figure null');
  assert.equal(flowing.remote.get('erin')?.quality, 'idle');
  assert.equal(flowing.remote.get('fay')?.quality, 'idle', 'nothing on, nothing to send: idle');
  assert.equal(flowing.remote.get('gus'), undefined, 'not in the roster: not listed (the tile says lost)');
  assert.equal(flowing.self.quality, 'good', 'the own tile is unchanged');

  // A free camera slot (or none open) while Erin's camera is on: her media does not reach the
  // server (a blocked network), no last-N: lost. Her camera off, the microphones' pool full: idle.
  const freeCamera = { ...forwarding, pools: { audio: { open: 5, free: 0 }, video: { open: 2, free: 1 } } };
  assert.equal(computeFigures(a, b, freeCamera, null, roster).remote.get('erin')?.quality, 'lost');
  const noSlots = { ...forwarding, pools: { audio: { open: 0, free: 0 }, video: { open: 0, free: 0 } } };
  assert.equal(computeFigures(a, b, noSlots, null, roster).remote.get('erin')?.quality, 'lost', 'a room of two, nothing from Erin');
  assert.equal(computeFigures(a, b, noSlots, null, roster).remote.get('fay')?.quality, 'idle');
  const cameraOff = new Map([['erin', { audio: true, video: false }]]);
  assert.equal(computeFigures(a, b, freeCamera, null, cameraOff).remote.get('erin')?.quality, 'idle');

  const still = computeFigures({ at: 0, stats: report({ bytes: 5000 }) }, { at: 2000, stats: report({ bytes: 5000 }) },
    forwarding, null, roster);
  assert.equal(still.remote.get('bob')?.quality, 'lost', 'a slot carries Bob and no byte came: lost, as before');
  assert.equal(still.remote.get('erin')?.quality, 'idle');
  const first = computeFigures(null, b, forwarding, null, roster);
  assert.equal(first.remote.get('erin')?.quality, 'idle', 'left out needs no rate');
  assert.equal(first.remote.get('bob')?.quality, 'lost');

  const blocked = computeFigures({ at: 0, stats: report({ connected: false }) }, { at: 2000, stats: report({ connected: false }) },
    forwarding, null, roster);
  assert.equal(blocked.remote.get('erin')?.quality, 'lost', 'no connected ICE pair: everything is lost');
  // Without `forwarded` and `pools` (no table known), nothing received is lost as before.
  assert.equal(computeFigures(a, b, owners, null, roster).remote.get('erin')?.quality, 'lost');
});

test('a microphone its owner turned off, still in a slot: idle when the last-N explains the rest, never lost', () => {
  // Bob's microphone comes in a slot (mid 2: its silence, or nothing), his camera in none; he
  // says his microphone is off. The camera slots are all taken by others.
  const full = { audio: { open: 5, free: 0 }, video: { open: 9, free: 0 } };
  const micOnly = { ...owners, byMid: new Map([['2', 'bob']]), byTrack: new Map(), forwarded: new Set(), pools: full };
  const micOff = new Map([['bob', { audio: false, video: true }]]);
  const silent = [{ at: 0, stats: report({ bytes: 5000 }) }, { at: 2000, stats: report({ bytes: 5000 }) }];
  const flowing = [{ at: 0, stats: report({ bytes: 1000 }) }, { at: 2000, stats: report({ bytes: 5000 }) }];
  for (const [a, b] of [silent, flowing]) {
    const bob = computeFigures(a, b, micOnly, null, micOff).remote.get('bob');
    assert.deepEqual(bob, { ...NOT_FORWARDED }, 'its slot counts for nothing: idle, no figure of its silence');
  }
  assert.equal(computeFigures(null, silent[1], micOnly, null, micOff).remote.get('bob')?.quality, 'idle');
  // A free camera slot while his camera is on: his camera does not reach the server: lost.
  const freeCamera = { ...micOnly, pools: { ...full, video: { open: 9, free: 1 } } };
  assert.equal(computeFigures(silent[0], silent[1], freeCamera, null, micOff).remote.get('bob')?.quality, 'lost');
  // His microphone on: its slot is his media, as before (lost without bytes, good with).
  const micOn = new Map([['bob', { audio: true, video: true }]]);
  const carried = { ...micOnly, forwarded: new Set(['bob']) };
  assert.equal(computeFigures(silent[0], silent[1], carried, null, micOn).remote.get('bob')?.quality, 'lost');
  assert.equal(computeFigures(flowing[0], flowing[1], carried, null, micOn).remote.get('bob')?.quality, 'good');
  // His camera in a slot and on, his microphone off in another: the camera's figures only.
  const both = { ...owners, byMid: new Map([['2', 'bob'], ['3', 'bob']]), byTrack: new Map(),
    forwarded: new Set(['bob']), pools: full };
  const bob = computeFigures(flowing[0], flowing[1], both, null, micOff).remote.get('bob');
  assert.equal(bob?.quality, 'good');
  assert.equal(bob?.bitrateDown, 16_000, 'the camera\'s 4000 bytes in 2 s, not the microphone slot\'s');
  assert.deepEqual(bob?.codecs, { audio: null, video: 'VP8' });
});

test('loss and round-trip time lower the quality', () => {
  const lossy = computeFigures(
    { at: 0, stats: report({ bytes: 100_000, lost: 0 }) },
    // Bob's audio: 1000 more packets received, 100 more lost (9 %).
    { at: 2000, stats: report({ bytes: 200_000, lost: 100 }) },
    owners,
    null,
  );
  const bob = lossy.remote.get('bob');
  assert.ok(bob && bob.lossDown !== null);
  assert.ok(Math.abs(bob.lossDown - 100 / 2100) < 1e-9);
  assert.equal(bob.quality, 'fair');
  assert.equal(qualityOf({ flowing: true, loss: 0.02, rttMs: 50 }), 'good');
  assert.equal(qualityOf({ flowing: true, loss: 0.05, rttMs: 50 }), 'fair');
  assert.equal(qualityOf({ flowing: true, loss: 0.10, rttMs: 50 }), 'poor');
  assert.equal(qualityOf({ flowing: true, loss: 0, rttMs: 400 }), 'fair');
  assert.equal(qualityOf({ flowing: true, loss: 0, rttMs: 900 }), 'poor');
  assert.equal(qualityOf({ flowing: false, loss: 0, rttMs: 10 }), 'lost');
});

test('transport: TCP and relayed candidates; inbound found by track id without mid', () => {
  const tcp = computeFigures(
    { at: 0, stats: report({ bytes: 1000, protocol: 'tcp' }) },
    { at: 1000, stats: report({ bytes: 2000, protocol: 'tcp' }) },
    owners,
    null,
  );
  assert.equal(tcp.self.transport, 'TCP');
  const relay = computeFigures(
    { at: 0, stats: report({ bytes: 1000, type: 'relay' }) },
    { at: 1000, stats: report({ bytes: 2000, type: 'relay' }) },
    owners,
    null,
  );
  assert.equal(relay.self.transport, 'relay');
  const carol = (n) => ({ type: 'inbound-rtp', id: 'I-c', kind: 'video', trackIdentifier: 'track-carol-video', bytesReceived: n });
  const r = computeFigures(
    { at: 0, stats: [...report({ bytes: 1000 }), carol(10)] },
    { at: 1000, stats: [...report({ bytes: 2000 }), carol(1010)] },
    owners,
    null,
  );
  assert.equal(r.remote.get('carol')?.bitrateDown, 8000);
});

test('formatting: N/A for missing figures, units, French decimals', () => {
  const opts = { locale: 'en', na: 'N/A', relay: 'relay (TURN)' };
  for (const name of figureNames(true)) assert.equal(formatFigure(NO_FIGURES, name, opts), 'N/A', name);
  const f = {
    ...NO_FIGURES, bitrateUp: 1_640_000, bitrateDown: 812_400, lossUp: 0.0123, lossDown: 0, rttMs: 23.4,
    resolution: { width: 640, height: 480 }, frameRate: 29.97, codecs: { audio: 'opus', video: 'VP8' },
    transport: /** @type {'UDP'} */ ('UDP'), serverPort: 10004, quality: /** @type {'good'} */ ('good'),
  };
  assert.equal(formatFigure(f, 'bitrateUp', opts), '1.6\u00a0Mbit/s');
  assert.equal(formatFigure(f, 'bitrateDown', opts), '812\u00a0kbit/s');
  assert.equal(formatFigure(f, 'lossUp', opts), '1.2%');
  assert.equal(formatFigure(f, 'rtt', opts), '23\u00a0ms');
  assert.equal(formatFigure(f, 'resolution', opts), '640×480');
  assert.equal(formatFigure(f, 'frameRate', opts), '30');
  assert.equal(formatFigure(f, 'codecs', opts), 'VP8, opus');
  assert.equal(formatFigure(f, 'transport', opts), 'UDP');
  assert.equal(formatFigure({ ...f, transport: 'relay' }, 'transport', opts), 'relay (TURN)');
  assert.equal(formatFigure(f, 'serverPort', opts), '10004');
  assert.equal(formatFigure(f, 'bitrateUp', { ...opts, locale: 'fr' }), '1,6\u00a0Mbit/s');
  assert.deepEqual(figureNames(false).includes('bitrateUp'), false, 'a remote tile shows what we receive');
});
