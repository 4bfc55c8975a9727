import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseServerMessage, isKnownErrorCode, isKnownEndReason, isKnownEndingReason, parseRole, PROTOCOL_VERSION,
} from '../js/protocol.js';

// The examples of docs/protocol.md, verbatim.
test('every server example of docs/protocol.md parses', () => {
  const examples = [
    '{"type":"welcome","version":1,"you":"p7f3a09c2d18e4b65","room":"reunion2024abc","role":"moderator","participants":[{"id":"p0c1d2e3f40516273","name":"Bob","role":"guest","audio":true,"video":true}]}',
    '{"type":"answer","sdp":"v=0\\r\\no=- 1 1 IN IP4 0.0.0.0\\r\\n...a=ice-lite\\r\\n..."}',
    '{"type":"offer","sdp":"v=0\\r\\no=- 1 2 IN IP4 0.0.0.0\\r\\n..."}',
    '{"type":"waiting","room":"reunion2024abc","timeout_secs":1800}',
    '{"type":"room_ending","reason":"idle","in_secs":60}',
    '{"type":"room_ended","reason":"ended"}',
    '{"type":"participant_joined","participant":{"id":"p0c1d2e3f40516273","name":"Bob","role":"guest","audio":true,"video":true}}',
    '{"type":"participant_updated","participant":{"id":"p0c1d2e3f40516273","name":"Bob","role":"guest","audio":false,"video":true}}',
    '{"type":"participant_left","id":"p0c1d2e3f40516273"}',
    '{"type":"pong"}',
    '{"type":"session","resume_token":"9f86d081884c7d659a2feaa0c55ad015"}',
    '{"type":"slots","slots":[{"mid":"3","participant":"p0c1d2e3f40516273"},{"mid":"7","participant":null}]}',
    '{"type":"error","code":"bad_message","message":"unknown message type `dance`","fatal":false}',
  ];
  for (const text of examples) {
    const msg = parseServerMessage(text);
    assert.ok(msg, text);
    assert.equal(msg.type, JSON.parse(text).type);
  }
  assert.equal(PROTOCOL_VERSION, 1);
});

test('malformed messages are refused, extra fields dropped', () => {
  for (const text of ['', 'null', '[]', '{}', '{"type":"dance"}', '{"type":"offer"}', '{"type":"offer","sdp":1}',
    '{"type":"participant_left"}', '{"type":"welcome","version":1,"you":"p","room":"r","participants":[{"id":"x"}]}',
    '{"type":"error","code":"x","message":"y"}', '{"type":"participant_joined","participant":{"id":"a","name":"b","audio":"yes","video":true}}']) {
    assert.equal(parseServerMessage(text), null, text);
  }
  assert.deepEqual(parseServerMessage('{"type":"pong","extra":1}'), { type: 'pong' });
});

test('error codes', () => {
  assert.ok(isKnownErrorCode('server_busy'));
  assert.ok(!isKnownErrorCode('teapot'));
});

test('roles: moderator, guest, and guest for anything else', () => {
  const welcome = parseServerMessage(
    '{"type":"welcome","version":1,"you":"p1","room":"reunion2024abc","role":"moderator","participants":[' +
      '{"id":"p2","name":"Bob","role":"guest","audio":true,"video":true},' +
      '{"id":"p3","name":"Carol","role":"moderator","audio":true,"video":false},' +
      '{"id":"p4","name":"Dan","audio":false,"video":false}]}',
  );
  assert.ok(welcome && welcome.type === 'welcome');
  assert.equal(welcome.role, 'moderator');
  assert.deepEqual(welcome.participants.map((p) => p.role), ['guest', 'moderator', 'guest']);
  // A server from before roles: everyone is shown as a guest, nothing breaks.
  const old = parseServerMessage('{"type":"welcome","version":1,"you":"p1","room":"r","participants":[]}');
  assert.ok(old && old.type === 'welcome');
  assert.equal(old.role, 'guest');
  assert.equal(parseRole('admin'), 'guest');
  assert.equal(parseRole(1), 'guest');
  assert.equal(parseRole('moderator'), 'moderator');
});

test('waiting, room_ending and room_ended', () => {
  assert.deepEqual(parseServerMessage('{"type":"waiting","room":"reunion2024abc","timeout_secs":60}'),
    { type: 'waiting', room: 'reunion2024abc', timeout_secs: 60 });
  assert.deepEqual(parseServerMessage('{"type":"room_ending","reason":"max_duration","in_secs":300,"x":1}'),
    { type: 'room_ending', reason: 'max_duration', in_secs: 300 });
  // An unknown reason from a newer server still parses; the UI has a generic text for it.
  assert.deepEqual(parseServerMessage('{"type":"room_ended","reason":"meteor"}'), { type: 'room_ended', reason: 'meteor' });
  for (const text of ['{"type":"waiting","room":"r"}', '{"type":"waiting","room":"r","timeout_secs":-1}',
    '{"type":"waiting","timeout_secs":5}', '{"type":"room_ending","reason":"idle"}',
    '{"type":"room_ending","reason":"idle","in_secs":"60"}', '{"type":"room_ended"}', '{"type":"room_ended","reason":3}']) {
    assert.equal(parseServerMessage(text), null, text);
  }
  for (const r of ['ended', 'idle', 'max_duration', 'wait_timeout']) assert.ok(isKnownEndReason(r), r);
  assert.ok(!isKnownEndReason('meteor'));
  assert.ok(isKnownEndingReason('idle') && isKnownEndingReason('max_duration'));
  assert.ok(!isKnownEndingReason('ended'));
});

test('session carries the resume secret; malformed ones are dropped; resume_failed is known', () => {
  assert.deepEqual(parseServerMessage('{"type":"session","resume_token":"0123456789abcdef0123456789abcdef"}'),
    { type: 'session', resume_token: '0123456789abcdef0123456789abcdef' });
  assert.equal(parseServerMessage('{"type":"session"}'), null);
  assert.equal(parseServerMessage('{"type":"session","resume_token":""}'), null);
  assert.equal(parseServerMessage('{"type":"session","resume_token":42}'), null);
  assert.equal(parseServerMessage(JSON.stringify({ type: 'session', resume_token: 'x'.repeat(257) })), null);
  assert.ok(isKnownErrorCode('resume_failed'));
});

const SLOTS_EXAMPLE = '{"type":"slots","slots":[{"mid":"3","participant":"p0c1d2e3f40516273"},{"mid":"7","participant":null}]}';

test('the slots example of docs/protocol.md parses to the table', () => {
  assert.deepEqual(parseServerMessage(SLOTS_EXAMPLE), {
    type: 'slots',
    slots: [{ mid: '3', participant: 'p0c1d2e3f40516273' }, { mid: '7', participant: null }],
  });
  // No slot yet (a session that receives no microphone), extra fields dropped, and a missing
  // participant read as null, as the server's `Option` would.
  assert.deepEqual(parseServerMessage('{"type":"slots","slots":[]}'), { type: 'slots', slots: [] });
  assert.deepEqual(parseServerMessage('{"type":"slots","slots":[{"mid":"0","participant":"p1","n":2}],"x":1}'),
    { type: 'slots', slots: [{ mid: '0', participant: 'p1' }] });
  assert.deepEqual(parseServerMessage('{"type":"slots","slots":[{"mid":"0"}]}'),
    { type: 'slots', slots: [{ mid: '0', participant: null }] });
});

test('malformed slots messages are refused', () => {
  for (const text of [
    '{"type":"slots"}',
    '{"type":"slots","slots":null}',
    '{"type":"slots","slots":{"3":"p1"}}',
    '{"type":"slots","slots":["3"]}',
    '{"type":"slots","slots":[null]}',
    '{"type":"slots","slots":[[]]}',
    '{"type":"slots","slots":[{"participant":"p1"}]}',
    '{"type":"slots","slots":[{"mid":3,"participant":"p1"}]}',
    '{"type":"slots","slots":[{"mid":"","participant":"p1"}]}',
    '{"type":"slots","slots":[{"mid":"3","participant":5}]}',
    '{"type":"slots","slots":[{"mid":"3","participant":false}]}',
    '{"type":"slots","slots":[{"mid":"3","participant":{"id":"p1"}}]}',
    // One m-line, two answers to "whose is it?".
    '{"type":"slots","slots":[{"mid":"3","participant":"p1"},{"mid":"3","participant":"p2"}]}',
  ]) {
    assert.equal(parseServerMessage(text), null, text);
  }
});
