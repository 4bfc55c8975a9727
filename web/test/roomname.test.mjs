// Unit tests of the pure modules: `node --experimental-detect-module --test web/test/`
// (Node ≥ 20.10; the flag is the default from Node 22). No npm package needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRoomName, parseRoomName, generateRoomName, GENERATED_LENGTH } from '../js/roomname.js';

test('the naming rule: 10 letters or digits, 3 digits, case-insensitive', () => {
  assert.equal(parseRoomName('reunion2024abc'), 'reunion2024abc');
  assert.equal(parseRoomName('NomSalon123'), 'nomsalon123');
  assert.equal(parseRoomName('  nomsalon123  '), 'nomsalon123');
  assert.equal(parseRoomName('abcdefg123'), 'abcdefg123', 'exactly 10 with 3 digits');
  assert.equal(parseRoomName('abcdefgh12'), null, 'only 2 digits');
  assert.equal(parseRoomName('abcdef123'), null, 'only 9 characters');
  assert.equal(parseRoomName('réunion2024'), null, 'accented letter');
  assert.equal(parseRoomName('reunion-2024'), null, 'dash');
  assert.equal(parseRoomName('reunion 2024'), null, 'inner space');
  assert.equal(parseRoomName(''), null);
  assert.equal(parseRoomName('1234567890'), '1234567890', 'digits only is allowed');
});

test('checkRoomName counts what the live explanation needs', () => {
  assert.deepEqual(checkRoomName('Ab1'), { normalized: 'ab1', length: 3, digits: 1, onlyAlnum: true, valid: false });
  assert.equal(checkRoomName('a_b').onlyAlnum, false);
});

test('generated names are valid, 14 chars of [a-z0-9], and differ', () => {
  const seen = new Set();
  for (let i = 0; i < 2000; i++) {
    const name = generateRoomName();
    assert.equal(name.length, GENERATED_LENGTH);
    assert.match(name, /^[a-z0-9]+$/);
    assert.ok(checkRoomName(name).valid, name);
    seen.add(name);
  }
  assert.equal(seen.size, 2000);
});

test('generation uses every character of the alphabet', () => {
  const counts = new Map();
  for (let i = 0; i < 2000; i++) for (const c of generateRoomName()) counts.set(c, (counts.get(c) ?? 0) + 1);
  assert.equal(counts.size, 36);
});
