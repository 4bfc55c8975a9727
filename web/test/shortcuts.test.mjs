import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shortcutFor } from '../js/ui/shortcuts.js';

const key = (k, mods = {}) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods });
const free = { typing: false, singleKeys: true };

test('single keys, on any case, outside fields', () => {
  assert.equal(shortcutFor(key('m'), free), 'mic');
  assert.equal(shortcutFor(key('M', { shiftKey: true }), free), null);
  assert.equal(shortcutFor(key('v'), free), 'camera');
  assert.equal(shortcutFor(key('c'), free), 'chat');
  assert.equal(shortcutFor(key('p'), free), 'participants');
  assert.equal(shortcutFor(key('r'), free), 'hand');
  assert.equal(shortcutFor(key('?', { shiftKey: true }), free), 'help');
  assert.equal(shortcutFor(key('x'), free), null);
  assert.equal(shortcutFor(key('Enter'), free), null);
});

test('ignored while typing, with modifiers, on repeat, or when switched off', () => {
  assert.equal(shortcutFor(key('m'), { typing: true, singleKeys: true }), null);
  assert.equal(shortcutFor(key('m'), { typing: false, singleKeys: false }), null);
  assert.equal(shortcutFor(key('m', { ctrlKey: true }), free), null);
  assert.equal(shortcutFor(key('c', { metaKey: true }), free), null);
  assert.equal(shortcutFor(key('m', { altKey: true }), free), null);
  assert.equal(shortcutFor(key('m', { repeat: true }), free), null);
});

test('hang-up: Ctrl+Shift+L (or ⌘+Shift+L), even while typing', () => {
  assert.equal(shortcutFor(key('L', { ctrlKey: true, shiftKey: true }), free), 'hangup');
  assert.equal(shortcutFor(key('L', { metaKey: true, shiftKey: true }), { typing: true, singleKeys: false }), 'hangup');
  assert.equal(shortcutFor(key('l', { ctrlKey: true }), free), null);
  assert.equal(shortcutFor(key('L', { ctrlKey: true, shiftKey: true, altKey: true }), free), null);
});
