import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServerMessage, isKnownErrorCode, PROTOCOL_VERSION } from '../js/protocol.js';

// The examples of docs/protocol.md, verbatim.
test('every server example of docs/protocol.md parses', () => {
  const examples = [
    '{"type":"welcome","version":1,"you":"p7f3a09c2d18e4b65","room":"reunion2024abc","participants":[{"id":"p0c1d2e3f40516273","name":"Bob","audio":true,"video":true}]}',
    '{"type":"answer","sdp":"v=0\\r\\no=- 1 1 IN IP4 0.0.0.0\\r\\n...a=ice-lite\\r\\n..."}',
    '{"type":"offer","sdp":"v=0\\r\\no=- 1 2 IN IP4 0.0.0.0\\r\\n..."}',
    '{"type":"participant_joined","participant":{"id":"p0c1d2e3f40516273","name":"Bob","audio":true,"video":true}}',
    '{"type":"participant_updated","participant":{"id":"p0c1d2e3f40516273","name":"Bob","audio":false,"video":true}}',
    '{"type":"participant_left","id":"p0c1d2e3f40516273"}',
    '{"type":"pong"}',
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
