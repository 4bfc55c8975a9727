// Unit tests of the pure parts of devices, screen sharing and layout:
// `node --experimental-detect-module --test web/test/`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mediaSections, msidForMid, relabelStream, trackLabel } from '../js/sdp.js';
import {
  captureConstraints, deviceErrorName, groupDevices, levelFromSamples, parseDevicePrefs,
} from '../js/devices.js';
import { checkBrowser, identifyBrowser } from '../js/browsercheck.js';
import { SpeakerTracker, statLevel } from '../js/speaker.js';
import { chooseStage } from '../js/ui/layout.js';

const SERVER_OFFER = [
  'v=0', 'o=- 1 2 IN IP4 0.0.0.0', 's=-', 't=0 0', 'a=group:BUNDLE 0 1 a7',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:0', 'a=sendonly', 'a=msid:p1 p1-audio',
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:1', 'a=msid:p1 p1-video',
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:a7', 'a=msid:p1 p1-screen',
  'm=audio 0 UDP/TLS/RTP/SAVPF 111', 'a=mid:x', 'a=inactive', '',
].join('\r\n');

test('the msid of each m-section, by mid', () => {
  assert.deepEqual(mediaSections(SERVER_OFFER).map((s) => [s.mid, s.kind, s.stream, s.track]), [
    ['0', 'audio', 'p1', 'p1-audio'],
    ['1', 'video', 'p1', 'p1-video'],
    ['a7', 'video', 'p1', 'p1-screen'],
    ['x', 'audio', null, null],
  ]);
  assert.deepEqual(msidForMid(SERVER_OFFER, 'a7'), { stream: 'p1', track: 'p1-screen' });
  assert.equal(msidForMid(SERVER_OFFER, 'x'), null);
  assert.equal(msidForMid(SERVER_OFFER, null), null);
  assert.equal(msidForMid('', '0'), null);
});

test('track labels from msid track ids', () => {
  assert.equal(trackLabel('p1-audio'), 'audio');
  assert.equal(trackLabel('p1-video'), 'video');
  assert.equal(trackLabel('p1-screen'), 'screen');
  assert.equal(trackLabel('p1-screen-audio'), 'screen-audio');
  assert.equal(trackLabel('9f1c2b6e-0d7a-4c55-b3f1-5c2d0b2f7e61'), null);
  assert.equal(trackLabel(null), null);
});

test('the screen stream is relabelled `screen`, in Chromium and Firefox offers', () => {
  const chromium = [
    'a=msid-semantic: WMS cam-1 9e3a',
    'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:1', 'a=msid:cam-1 t1',
    'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:2', 'a=msid:9e3a t2',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:3', 'a=msid:9e3a t3', '',
  ].join('\r\n');
  const out = relabelStream(chromium, '9e3a', 'screen');
  assert.match(out, /^a=msid-semantic: WMS cam-1 screen\r$/m);
  assert.deepEqual(mediaSections(out).map((s) => s.stream), ['cam-1', 'screen', 'screen']);
  assert.deepEqual(mediaSections(out).map((s) => s.track), ['t1', 't2', 't3']);
  // A stream id that merely starts like another one is left alone.
  assert.equal(relabelStream('a=msid:9e3ab t\r\n', '9e3a', 'screen'), 'a=msid:9e3ab t\r\n');

  const firefox = 'a=msid-semantic:WMS *\r\nm=video 9 UDP/TLS/RTP/SAVPF 120\r\na=msid:{a293-d9f5} {f5bd}\r\n';
  assert.match(relabelStream(firefox, '{a293-d9f5}', 'screen'), /^a=msid:screen \{f5bd\}\r$/m);
  assert.match(relabelStream(firefox, 'a293-d9f5', 'screen'), /^a=msid:screen \{f5bd\}\r$/m);
});

test('remembered device choices: malformed storage falls back field by field', () => {
  assert.deepEqual(parseDevicePrefs(null), { mic: null, camera: null, speaker: null, micOff: false, cameraOff: false });
  assert.deepEqual(parseDevicePrefs('{'), parseDevicePrefs(null));
  assert.deepEqual(parseDevicePrefs('[1]'), parseDevicePrefs(null));
  assert.deepEqual(
    parseDevicePrefs('{"mic":"m1","camera":42,"speaker":"","micOff":true,"cameraOff":"yes"}'),
    { mic: 'm1', camera: null, speaker: null, micOff: true, cameraOff: false },
  );
  assert.deepEqual(captureConstraints({ mic: null, camera: null }), { audio: true, video: true });
  assert.deepEqual(captureConstraints({ mic: 'm1', camera: 'c2' }), {
    audio: { deviceId: { exact: 'm1' } }, video: { deviceId: { exact: 'c2' } },
  });
});

test('getUserMedia error names come down to what the person can do', () => {
  assert.equal(deviceErrorName('NotAllowedError'), 'NotAllowedError');
  assert.equal(deviceErrorName('PermissionDeniedError'), 'NotAllowedError');
  assert.equal(deviceErrorName('SecurityError'), 'NotAllowedError');
  assert.equal(deviceErrorName('NotFoundError'), 'NotFoundError');
  assert.equal(deviceErrorName('OverconstrainedError'), 'NotFoundError');
  assert.equal(deviceErrorName('NotReadableError'), 'NotReadableError');
  assert.equal(deviceErrorName('TrackStartError'), 'NotReadableError');
  assert.equal(deviceErrorName('AbortError'), 'NotReadableError');
  assert.equal(deviceErrorName('NotSupportedError'), 'NotSupportedError');
  assert.equal(deviceErrorName('Whatever'), 'UnknownError');
  assert.equal(deviceErrorName(null), 'UnknownError');
});

test('device lists: grouped, deduplicated, hidden entries left out, labels filled in', () => {
  const lists = groupDevices([
    { kind: 'audioinput', deviceId: 'default', label: 'Default - Headset' },
    { kind: 'audioinput', deviceId: 'm1', label: 'Headset' },
    { kind: 'audioinput', deviceId: 'm1', label: 'Headset' },
    { kind: 'videoinput', deviceId: 'c1', label: '' },
    { kind: 'videoinput', deviceId: '', label: '' },
    { kind: 'audiooutput', deviceId: 's1', label: 'Speakers ' },
    { kind: 'other', deviceId: 'x', label: 'x' },
  ], { mic: 'Micro', camera: 'Caméra', speaker: 'Haut-parleurs' });
  assert.deepEqual(lists, {
    mic: [{ id: 'default', label: 'Default - Headset' }, { id: 'm1', label: 'Headset' }],
    camera: [{ id: 'c1', label: 'Caméra 1' }],
    speaker: [{ id: 's1', label: 'Speakers' }],
  });
});

test('microphone level from samples', () => {
  assert.equal(levelFromSamples([]), 0);
  assert.equal(levelFromSamples(new Float32Array(128)), 0);
  const tone = Float32Array.from({ length: 480 }, (_, i) => 0.1 * Math.sin((2 * Math.PI * i) / 48));
  assert.ok(Math.abs(levelFromSamples(tone) - 0.1 * Math.SQRT1_2 * 4) < 1e-3);
  assert.equal(levelFromSamples(new Float32Array(64).fill(1)), 1, 'clipped at 1');
});

test('supported, outdated, other and unsupported browsers', () => {
  const all = { peerConnection: true, getUserMedia: true, transceivers: true };
  const chrome = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
  const edge = `${chrome} Edg/131.0.2903.86`;
  const headless = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36';
  const firefox = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
  const oldFirefox = 'Mozilla/5.0 (Windows NT 10.0; rv:102.0) Gecko/20100101 Firefox/102.0';
  const safari = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';
  const oldEdge = 'Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0 Safari/537.36 Edge/18.17763';
  assert.deepEqual(identifyBrowser(edge), { family: 'chromium', version: 131 });
  assert.deepEqual(identifyBrowser(headless), { family: 'chromium', version: 156 });
  assert.deepEqual(identifyBrowser(firefox), { family: 'firefox', version: 128 });
  assert.deepEqual(identifyBrowser(safari), { family: null, version: null });
  assert.equal(checkBrowser(chrome, all).status, 'ok');
  assert.equal(checkBrowser(edge, all).status, 'ok');
  assert.equal(checkBrowser(firefox, all).status, 'ok');
  assert.equal(checkBrowser(oldFirefox, all).status, 'outdated');
  assert.equal(checkBrowser(chrome.replace('131', '99'), all).status, 'outdated');
  assert.equal(checkBrowser(safari, all).status, 'other');
  assert.equal(checkBrowser(oldEdge, all).status, 'other', 'EdgeHTML is not Chromium');
  assert.equal(checkBrowser(chrome, { ...all, transceivers: false }).status, 'unsupported');
  assert.equal(checkBrowser(safari, { ...all, peerConnection: false }).status, 'unsupported');
});

test('speaking flags hold for a moment; the active speaker stays until someone else speaks', () => {
  const tracker = new SpeakerTracker({ threshold: 0.01, holdMs: 1000 });
  const levels = (o) => new Map(Object.entries(o));
  let s = tracker.update(levels({ a: 0.2, b: 0 }), 0);
  assert.deepEqual([...s.speaking], ['a']);
  assert.equal(s.dominant, 'a');
  s = tracker.update(levels({ a: 0, b: 0 }), 800);
  assert.deepEqual([...s.speaking], ['a'], 'still speaking within the hold time');
  s = tracker.update(levels({ a: 0, b: 0 }), 1500);
  assert.deepEqual([...s.speaking], []);
  assert.equal(s.dominant, 'a', 'the last speaker stays on the stage');
  s = tracker.update(levels({ a: 0.3, b: 0.05 }), 1600);
  assert.equal(s.dominant, 'a', 'no switch while the active speaker speaks');
  s = tracker.update(levels({ a: 0, b: 0.05 }), 2700);
  assert.equal(s.dominant, 'b');
  s = tracker.update(levels({ a: 0.5 }), 2800);
  assert.equal(s.dominant, 'a', 'b left: the active speaker changes');
  assert.ok(!s.speaking.has('b'));
  const own = new SpeakerTracker();
  s = own.update(levels({ me: 0.5, a: 0.02 }), 0, 'me');
  assert.ok(s.speaking.has('me'));
  assert.equal(s.dominant, 'a', 'oneself is never the active speaker');
});

test('audio level from cumulative energy, else audioLevel', () => {
  assert.equal(statLevel({ audioLevel: 0.3 }, undefined), 0.3);
  const level = statLevel({ totalAudioEnergy: 1.01, totalSamplesDuration: 2.5, audioLevel: 0 }, { energy: 1, duration: 2 });
  assert.ok(Math.abs(level - Math.sqrt(0.01 / 0.5)) < 1e-9);
  assert.equal(statLevel({}, undefined), 0);
});

test('what goes on the stage', () => {
  const base = { mode: 'grid', pinned: null, screens: [], speaker: null, participants: ['me', 'a', 'b'], self: 'me' };
  assert.equal(chooseStage(base), null, 'tile view');
  assert.equal(chooseStage({ ...base, mode: 'speaker' }), 'p:a', 'speaker view before anyone spoke');
  assert.equal(chooseStage({ ...base, mode: 'speaker', speaker: 'b' }), 'p:b');
  assert.equal(chooseStage({ ...base, mode: 'speaker', speaker: 'me' }), 'p:a', 'never oneself');
  assert.equal(chooseStage({ ...base, mode: 'speaker', participants: ['me'] }), 'p:me', 'alone');
  assert.equal(chooseStage({ ...base, screens: ['a', 'b'] }), 's:b', 'the latest screen');
  assert.equal(chooseStage({ ...base, screens: ['a'], pinned: 'p:b' }), 'p:b', 'a pin wins');
  assert.equal(chooseStage({ ...base, pinned: 's:a', screens: ['a'] }), 's:a');
  assert.equal(chooseStage({ ...base, pinned: 'p:gone' }), null, 'a pin of someone gone is ignored');
});
