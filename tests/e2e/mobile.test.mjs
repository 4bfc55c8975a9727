// The phone layout through the real binary and real headless Chromium emulating a phone
// (390×844, touch, `isMobile`): home, pre-join and meeting never scroll sideways; the meeting's
// toolbar is one row whose less-used buttons are in the overflow menu (#toolbar-more,
// keyboard-accessible, aria-expanded); the tiles stack; the chat and participants panels take
// the whole width and close. Also at 800 px wide (the other suites' window), the toolbar is one
// row with every button in it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Diagnostics,
  joinRoom,
  launchChromium,
  newPage,
  randomRoom,
  safeJson,
  startServer,
  stepper,
  waitFor,
  waitForState,
} from './harness.mjs';

const PHONE = { width: 390, height: 844, deviceScaleFactor: 1, isMobile: true, hasTouch: true };
const NARROW_DESKTOP = { width: 800, height: 600, deviceScaleFactor: 1, isMobile: false, hasTouch: false };
/** Never in the overflow menu. */
const ALWAYS_IN_ROW = ['toggle-mic', 'toggle-camera', 'hangup'];

const diagnostics = new Diagnostics();
let server;
let browser;

before(async () => {
  server = await startServer();
  diagnostics.addServer(server);
  browser = await launchChromium('chromium-mobile');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Whether the page scrolls sideways, and the viewport's width. */
function widths(page) {
  return page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth }));
}

async function expectNoSidewaysScroll(page, label) {
  const w = await widths(page);
  assert.equal(w.innerWidth, PHONE.width, `${label}: the content widened the phone's viewport (${safeJson(w)})`);
  assert.ok(w.scrollWidth <= w.innerWidth, `${label}: scrolls sideways (${safeJson(w)})`);
}

/**
 * The toolbar as laid out: its direct items shown (id of the item or of its button, box), the
 * overflow button and the ids in the overflow menu.
 */
function toolbarLayout(page) {
  return page.evaluate(() => {
    const root = document.querySelector('.toolbar');
    if (!root) return null;
    const idOf = (/** @type {Element} */ e) => e.id || e.querySelector('[id]')?.id || '';
    const shown = [...root.children]
      .filter((c) => c instanceof HTMLElement && !c.hidden && c.getClientRects().length > 0)
      .map((c) => {
        const r = c.getBoundingClientRect();
        return { id: idOf(c), top: Math.round(r.top), bottom: Math.round(r.bottom), left: r.left, right: r.right };
      });
    const more = document.getElementById('toolbar-more');
    const menu = document.getElementById('toolbar-more-menu');
    const rootBox = root.getBoundingClientRect();
    return {
      shown,
      rootLeft: rootBox.left,
      rootRight: rootBox.right,
      moreShown: !!more && more.getClientRects().length > 0 && !more.closest('[hidden]'),
      moreExpanded: more?.getAttribute('aria-expanded') ?? null,
      menuOpen: !!menu && !menu.hidden,
      inMenu: menu ? [...menu.children].map(idOf) : [],
    };
  });
}

/** One row: every item shown has the same top, and none is outside the toolbar. */
function assertOneRow(layout, label) {
  assert.ok(layout, `${label}: no toolbar`);
  const tops = new Set(layout.shown.map((s) => s.top));
  assert.equal(tops.size, 1, `${label}: the toolbar is not one row: ${safeJson(layout.shown)}`);
  for (const s of layout.shown) {
    assert.ok(s.left >= layout.rootLeft - 0.5 && s.right <= layout.rootRight + 0.5, `${label}: #${s.id} sticks out of the toolbar: ${safeJson(layout)}`);
  }
}

test('phone: home and pre-join fit the width', async (t) => {
  const step = stepper(t, diagnostics);
  for (const [name, path, state] of [['home', '/', 'home'], ['pre-join', `/${randomRoom('mobile')}`, 'prejoin']]) {
    await step(name, async () => {
      const page = await newPage(browser, `${name} phone`);
      diagnostics.addPage(`${name} phone`, page);
      try {
        await page.setViewport(PHONE);
        await page.goto(`${server.url}${path}?lang=fr`, { waitUntil: 'load' });
        await waitForState(page, state, 20000);
        if (state === 'prejoin') await page.waitForSelector('#prejoin-join');
        await expectNoSidewaysScroll(page, name);
      } finally {
        await page.close();
      }
    });
  }
});

test('phone: the meeting — one-row toolbar with an overflow menu, stacked tiles, full-width panels', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('mobile');
  let alice;
  let bob;
  const page = () => alice.page;
  try {
    await step('two participants, Alice on a phone', async () => {
      alice = await joinRoom(browser, server, room, 'Alice', { query: '&lang=fr', diagnostics, label: 'alice phone' });
      bob = await joinRoom(browser, server, room, 'Bob', { query: '&lang=fr', diagnostics, label: 'bob' });
      await page().setViewport(PHONE);
      await waitFor(() => page().evaluate(() => document.querySelectorAll('#tiles .tile').length === 2), 10000, { message: 'two tiles' });
      await page().waitForSelector('#device-settings');
    });
    await step('no sideways scrolling', () => expectNoSidewaysScroll(page(), 'meeting'));
    await step('the toolbar is one row; the less-used actions are in the overflow menu', async () => {
      let layout;
      await waitFor(async () => (layout = await toolbarLayout(page()))?.moreShown, 5000, {
        message: () => `#toolbar-more shown at phone size: ${safeJson(layout)}`,
      });
      assertOneRow(layout, 'phone');
      const inRow = layout.shown.map((s) => s.id);
      for (const id of [...ALWAYS_IN_ROW, 'toolbar-more']) assert.ok(inRow.includes(id), `#${id} is not in the row: ${safeJson(inRow)}`);
      assert.ok(layout.inMenu.includes('device-settings'), `the settings are not in the menu: ${safeJson(layout.inMenu)}`);
      assert.equal(layout.moreExpanded, 'false');
      assert.equal(layout.menuOpen, false);
      // Every control is still there, once (tests and shortcuts find them by id).
      const counts = await page().evaluate(() => ['toggle-mic', 'toggle-camera', 'hangup', 'raise-hand', 'reactions', 'toggle-chat',
        'toggle-participants', 'share-screen', 'device-settings'].map((id) => document.querySelectorAll(`#${id}`).length));
      assert.deepEqual(counts, counts.map(() => 1));
      // The hang-up button stays the last one, the overflow button just before it.
      assert.deepEqual(inRow.slice(-2), ['toolbar-more', 'hangup']);
    });
    await step('the overflow menu works with the keyboard: Enter opens it, Escape closes it', async () => {
      await page().focus('#toolbar-more');
      await page().keyboard.press('Enter');
      await waitFor(async () => {
        const l = await toolbarLayout(page());
        return l.menuOpen && l.moreExpanded === 'true';
      }, 3000, { message: 'the overflow menu open' });
      const inside = await page().evaluate(() => document.getElementById('toolbar-more-menu')?.contains(document.activeElement));
      assert.ok(inside, 'the focus is not in the opened menu');
      // Its items are shown and reachable.
      const shown = await page().$eval('#device-settings', (b) => b.getClientRects().length > 0);
      assert.ok(shown, '#device-settings is not shown in the open menu');
      await page().keyboard.press('Escape');
      await waitFor(async () => {
        const l = await toolbarLayout(page());
        return !l.menuOpen && l.moreExpanded === 'false';
      }, 3000, { message: 'the overflow menu closed' });
      assert.equal(await page().evaluate(() => document.activeElement?.id), 'toolbar-more', 'the focus did not go back to #toolbar-more');
    });
    await step('an action of the menu works: the settings open from it, and close back to #toolbar-more', async () => {
      await page().click('#toolbar-more');
      await page().click('#device-settings');
      await waitFor(() => page().evaluate(() => !document.getElementById('device-menu')?.hidden), 3000, { message: 'the device menu open' });
      assert.equal((await toolbarLayout(page())).menuOpen, false, 'the overflow menu stayed open');
      const box = await page().$eval('#device-menu', (m) => { const r = m.getBoundingClientRect(); return { left: r.left, right: r.right }; });
      assert.ok(box.left >= 0 && box.right <= PHONE.width, `the device menu is off screen: ${safeJson(box)}`);
      await waitFor(() => page().evaluate(() => document.getElementById('device-menu')?.contains(document.activeElement)), 5000, { message: 'the focus in the device menu' });
      await page().keyboard.press('Escape');
      await waitFor(() => page().evaluate(() => document.getElementById('device-menu')?.hidden && document.activeElement?.id === 'toolbar-more'), 3000, {
        message: 'the device menu closed with the focus on #toolbar-more',
      });
    });
    await step('the tiles stack', async () => {
      const boxes = await page().$$eval('#tiles .tile', (tiles) => tiles.map((tl) => {
        const r = tl.getBoundingClientRect();
        return { top: r.top, bottom: r.bottom, left: r.left, right: r.right };
      }));
      assert.equal(boxes.length, 2);
      const [first, second] = boxes.sort((x, y) => x.top - y.top);
      assert.ok(second.top >= first.bottom - 1, `the tiles are side by side: ${safeJson(boxes)}`);
      for (const b of boxes) assert.ok(b.left >= 0 && b.right <= PHONE.width, `a tile is off screen: ${safeJson(b)}`);
    });
    for (const [button, panel] of [['#toggle-chat', '#chat-panel'], ['#toggle-participants', '#participants-panel']]) {
      await step(`${panel} takes the whole width and closes with its ×`, async () => {
        await page().click(button);
        await waitFor(() => page().$eval(panel, (p) => !p.hidden), 3000, { message: `${panel} open` });
        const box = await page().$eval(panel, (p) => { const r = p.getBoundingClientRect(); return { left: r.left, width: r.width }; });
        assert.ok(Math.abs(box.left) <= 1 && Math.abs(box.width - PHONE.width) <= 1, `${panel} is not full width: ${safeJson(box)}`);
        await expectNoSidewaysScroll(page(), `meeting with ${panel}`);
        await page().click(`${panel} .side-panel-close`);
        await waitFor(() => page().$eval(panel, (p) => p.hidden), 3000, { message: `${panel} closed` });
        assert.equal(await page().$eval(button, (b) => b.getAttribute('aria-expanded')), 'false');
      });
    }
    await step('back at 800 px wide: one row, every button in it, no overflow menu', async () => {
      await page().setViewport(NARROW_DESKTOP);
      let layout;
      await waitFor(async () => (layout = await toolbarLayout(page())) && !layout.moreShown && layout.inMenu.length === 0, 5000, {
        message: () => `the overflow menu gone at 800 px: ${safeJson(layout)}`,
      });
      assertOneRow(layout, '800 px');
      const inRow = layout.shown.map((s) => s.id);
      for (const id of ['toggle-mic', 'toggle-camera', 'raise-hand', 'reactions', 'toggle-chat', 'toggle-participants', 'share-screen', 'device-settings', 'hangup']) {
        assert.ok(inRow.includes(id), `#${id} is not in the row at 800 px: ${safeJson(inRow)}`);
      }
    });
  } finally {
    await alice?.page.close();
    await bob?.page.close();
  }
});
