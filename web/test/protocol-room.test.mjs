// The room actions of docs/protocol.md (chat, hands, reactions, moderation, passwords).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServerMessage, isKnownErrorCode, REACTIONS, MAX_CHAT_CHARS } from '../js/protocol.js';

test('the room examples of docs/protocol.md parse', () => {
  assert.deepEqual(
    parseServerMessage('{"type":"chat","from":"p0c1d2e3f40516273","name":"Bob","text":"Bonjour à tous","private":false}'),
    { type: 'chat', from: 'p0c1d2e3f40516273', name: 'Bob', text: 'Bonjour à tous', private: false },
  );
  assert.deepEqual(
    parseServerMessage('{"type":"chat","from":"p0c1d2e3f40516273","name":"Bob","text":"Tu m\'entends ?","private":true,"to":"p7f3a09c2d18e4b65"}'),
    { type: 'chat', from: 'p0c1d2e3f40516273', name: 'Bob', text: 'Tu m\'entends ?', private: true, to: 'p7f3a09c2d18e4b65' },
  );
  assert.deepEqual(parseServerMessage('{"type":"hands","queue":["p0c1d2e3f40516273","p7f3a09c2d18e4b65"]}'),
    { type: 'hands', queue: ['p0c1d2e3f40516273', 'p7f3a09c2d18e4b65'] });
  assert.deepEqual(parseServerMessage('{"type":"reaction","from":"p0c1d2e3f40516273","emoji":"👏"}'),
    { type: 'reaction', from: 'p0c1d2e3f40516273', emoji: '👏' });
  assert.deepEqual(parseServerMessage('{"type":"muted","kind":"audio","by":"Alice Martin"}'),
    { type: 'muted', kind: 'audio', by: 'Alice Martin' });
  assert.deepEqual(parseServerMessage('{"type":"removed","by":"Alice Martin"}'), { type: 'removed', by: 'Alice Martin' });
  assert.deepEqual(parseServerMessage('{"type":"room_state","locked":true}'), { type: 'room_state', locked: true });
});

test('malformed room messages are refused', () => {
  for (const text of [
    '{"type":"chat","from":"p","name":"B","text":"x"}',
    '{"type":"chat","from":"p","name":"B","text":1,"private":false}',
    '{"type":"chat","from":"p","name":"B","text":"x","private":true,"to":5}',
    '{"type":"hands","queue":[1]}',
    '{"type":"hands"}',
    '{"type":"reaction","from":"p"}',
    '{"type":"muted","kind":"screen","by":"A"}',
    '{"type":"removed"}',
    '{"type":"room_state","locked":"yes"}',
  ]) {
    assert.equal(parseServerMessage(text), null, text);
  }
});

test('the room error codes are known, the reactions and the chat limit match the server', () => {
  for (const code of ['password_required', 'wrong_password', 'forbidden', 'not_found']) assert.ok(isKnownErrorCode(code), code);
  assert.deepEqual([...REACTIONS], ['👍', '👏', '😂', '😮', '❤️', '🎉']);
  assert.equal(MAX_CHAT_CHARS, 2000);
});
