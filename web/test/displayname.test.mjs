import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDisplayName, initials } from '../js/displayname.js';

test('display names: 1 to 64 code points, trimmed, no control characters', () => {
  assert.deepEqual(parseDisplayName('  Alice Martin '), { ok: true, name: 'Alice Martin' });
  assert.deepEqual(parseDisplayName('   '), { ok: false, reason: 'empty' });
  assert.deepEqual(parseDisplayName('a\u0007b'), { ok: false, reason: 'control' });
  assert.deepEqual(parseDisplayName('a\nb'), { ok: false, reason: 'control' });
  assert.equal(parseDisplayName('é'.repeat(64)).ok, true);
  assert.equal(parseDisplayName('😀'.repeat(64)).ok, true, 'counted in code points, not UTF-16 units');
  assert.deepEqual(parseDisplayName('x'.repeat(65)), { ok: false, reason: 'tooLong' });
});

test('initials', () => {
  assert.equal(initials('Alice Martin'), 'AM');
  assert.equal(initials('bob'), 'B');
  assert.equal(initials('Jean-Pierre de la Fontaine'), 'JF');
  assert.equal(initials('Émilie (DINUM)'), 'ÉD');
  assert.equal(initials('  '), '?');
  assert.equal(initials('— Zoé'), 'Z');
});
