// Accessibility through the real binary and real headless Chromium:
// - axe-core (tests/e2e/lib/a11y.mjs, injected over CDP: the app's CSP is untouched) finds no
//   serious or critical violation on the home page, the pre-join page (a State agent's and a
//   guest's), the service's pages (/faq, /contact, /legal), the connection test page (/test),
//   and the meeting with two participants with each panel, menu and dialog open; in French and
//   English, at desktop size and at phone size (390×844, touch);
// - the polite live region #announcer tells who joined, raised a hand, wrote in the chat and
//   left;
// - the meeting works with the keyboard alone: Tab reaches every toolbar button in order with a
//   visible focus, Enter and Space toggle the microphone, Enter opens the chat, settings and
//   invitation, and Escape closes each, giving the focus back to its button.
//
// One server listens dual-stack; its only agent zone is 127.0.0.0/8: a page opened at
// https://127.0.0.1:PORT is a State agent's, one at https://[::1]:PORT an internet guest's.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fr from '../../web/js/i18n/fr.js';
import {
  Diagnostics,
  joinRoom,
  launchChromium,
  launchFirefox,
  newPage,
  randomRoom,
  safeJson,
  startServer,
  stepper,
  waitFor,
  waitForState,
} from './harness.mjs';
import { expectNoSeriousViolations } from './lib/a11y.mjs';

const AGENT = '127.0.0.1';
const GUEST = '[::1]';
export const DESKTOP = { width: 1280, height: 800, deviceScaleFactor: 1, isMobile: false, hasTouch: false };
export const PHONE = { width: 390, height: 844, deviceScaleFactor: 1, isMobile: true, hasTouch: true };

/**
 * The pages checked without a meeting: path, and the `body[data-state]` that says the client
 * has rendered it (null: a page rendered by the server).
 */
const PAGES = [
  { name: 'home', path: '/', state: 'home' },
  { name: 'faq', path: '/faq', state: null },
  { name: 'contact', path: '/contact', state: null },
  { name: 'legal', path: '/legal', state: null },
];
// The connection test page (issue 5) is built by another change at the same time as this test:
// it is listed on its own so that it is easy to find if it is not there yet.
const CONNECTION_TEST_PAGES = [{ name: 'connection test', path: '/test', state: 'test' }];

const diagnostics = new Diagnostics();
let server;
let browser;

before(async () => {
  server = await startServer({
    listen: '[::]:0',
    mediaAddresses: ['127.0.0.1', '::1'],
    extraToml: ['[[access.zones]]', 'name = "internal"', 'ranges = ["127.0.0.0/8"]', 'agents = true', ''].join('\n'),
  });
  diagnostics.addServer(server);
  browser = await launchChromium('chromium-a11y');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Opens `url` in a new page of the given size and waits for `state` (or the load event). */
async function openAt(url, viewport, state, label) {
  const page = await newPage(browser, label);
  diagnostics.addPage(label, page);
  await page.setViewport(viewport);
  await page.goto(url, { waitUntil: 'load' });
  if (state) await waitForState(page, state, 20000, label);
  return page;
}

/** The page's language attribute and whether it scrolls sideways. */
function layoutFacts(page) {
  return page.evaluate(() => ({
    lang: document.documentElement.lang,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth,
  }));
}

for (const lang of ['fr', 'en']) {
  for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    test(`axe: home, service pages, pre-join (agent and guest), connection test — ${lang}, ${size}`, async (t) => {
      const step = stepper(t, diagnostics);
      const room = randomRoom('a11y');
      const cases = [
        ...PAGES.map((p) => ({ ...p, url: `${server.url}${p.path}?lang=${lang}` })),
        { name: 'pre-join (agent)', url: `${server.urlFor(AGENT)}/${room}?lang=${lang}`, state: 'prejoin' },
        { name: 'pre-join (guest)', url: `${server.urlFor(GUEST)}/${room}?lang=${lang}`, state: 'prejoin' },
        ...CONNECTION_TEST_PAGES.map((p) => ({ ...p, url: `${server.url}${p.path}?lang=${lang}` })),
      ];
      for (const c of cases) {
        await step(c.name, async () => {
          const label = `${c.name} ${lang} ${size}`;
          const page = await openAt(c.url, viewport, c.state, label);
          try {
            if (c.name.startsWith('pre-join')) {
              // The camera preview and the device drop-downs are filled in.
              await waitFor(() => page.$eval('#select-mic', (s) => s.options.length > 0), 10000, {
                message: `${label}: the microphone drop-down to be filled`,
              });
              await page.waitForSelector('#prejoin-join');
            }
            await expectNoSeriousViolations(page, label);
            const facts = await layoutFacts(page);
            assert.equal(facts.lang, lang, `${label}: <html lang> is not the page's language`);
            if (size === 'phone') {
              assert.equal(facts.innerWidth, PHONE.width, `${label}: the page widened the phone's viewport`);
              assert.ok(facts.scrollWidth <= PHONE.width, `${label}: scrolls sideways (${safeJson(facts)})`);
            }
          } finally {
            await page.close();
          }
        });
      }
    });
  }
}

test('axe in Firefox (WebDriver BiDi): home and pre-join, French', async (t) => {
  const step = stepper(t, diagnostics);
  const firefox = await launchFirefox('firefox-a11y');
  try {
    for (const [name, url, state] of [
      ['home', `${server.url}/?lang=fr`, 'home'],
      ['pre-join (guest)', `${server.urlFor(GUEST)}/${randomRoom('a11yff')}?lang=fr`, 'prejoin'],
    ]) {
      await step(name, async () => {
        const label = `${name} firefox`;
        const page = await newPage(firefox, label);
        diagnostics.addPage(label, page);
        try {
          await page.goto(url, { waitUntil: 'load' });
          await waitForState(page, state, 20000, label);
          if (state === 'prejoin') await page.waitForSelector('#prejoin-join');
          await expectNoSeriousViolations(page, label);
        } finally {
          await page.close();
        }
      });
    }
  } finally {
    await firefox.close();
  }
});

/** Clicks `selector` and waits until `check` (evaluated in the page) is true. */
async function clickAndWait(page, selector, check, what) {
  await page.click(selector);
  await waitFor(() => page.evaluate(check), 5000, { message: what });
}

const isShown = (sel) => new Function(`const e = document.querySelector(${JSON.stringify(sel)}); return !!e && !e.closest('[hidden]') && e.getClientRects().length > 0;`);

for (const lang of ['fr', 'en']) {
  test(`axe: the meeting with two participants, its panels, menus and dialogs — ${lang}`, async (t) => {
    const step = stepper(t, diagnostics);
    const room = randomRoom('a11ymeet');
    const query = `&lang=${lang}`;
    let alice;
    let bob;
    try {
      await step('an agent (moderator) and a guest are in the meeting', async () => {
        alice = await joinRoom(browser, server, room, 'Alice', { query, diagnostics, label: `alice ${lang}` });
        bob = await joinRoom(browser, server, room, 'Bob', { query, diagnostics, label: `bob ${lang}`, host: GUEST });
        await alice.page.setViewport(DESKTOP);
        await bob.page.setViewport(DESKTOP);
        await waitFor(() => alice.page.evaluate((id) => !!document.querySelector(`#tiles .tile[data-participant-id="${id}"]`), bob.id), 10000, {
          message: "Bob's tile on Alice's page",
        });
      });
      const check = (label, page = alice.page) => expectNoSeriousViolations(page, `meeting ${lang}: ${label}`);

      await step('meeting', () => check('tiles and toolbar'));
      await step("guest's meeting", () => check("the guest's view", bob.page));
      await step('chat panel with messages', async () => {
        await bob.page.click('#toggle-chat');
        await bob.page.type('#chat-input', 'Bonjour à tous');
        await bob.page.keyboard.press('Enter');
        await clickAndWait(alice.page, '#toggle-chat', () => document.querySelectorAll('#chat-messages .chat-message').length > 0, 'a chat message on Alice\'s page');
        await check('chat panel');
      });
      await step("participants panel, a participant's moderation menu", async () => {
        await clickAndWait(alice.page, '#toggle-participants', isShown('#participants-panel'), 'the participants panel');
        await check('participants panel');
        await clickAndWait(alice.page, '#participants-panel .participant-more', isShown('[data-action="mute"]'), 'the moderation menu');
        await check("a participant's moderation menu");
      });
      await step('password dialog', async () => {
        await clickAndWait(alice.page, '#password-set', isShown('#password-dialog'), 'the password dialog');
        await check('password dialog');
        await alice.page.keyboard.press('Escape');
        await waitFor(() => alice.page.evaluate(() => !document.querySelector('#password-dialog')?.hasAttribute('open')), 5000, { message: 'the password dialog to close' });
      });
      await step('settings (device) menu', async () => {
        await clickAndWait(alice.page, '#device-settings', isShown('#device-menu'), 'the device menu');
        await waitFor(() => alice.page.$eval('#device-menu select', (s) => s.options.length > 0), 5000, { message: 'the device drop-downs' });
        await check('device menu');
        await alice.page.keyboard.press('Escape');
      });
      await step('reactions menu', async () => {
        await clickAndWait(alice.page, '#reactions', isShown('#reactions-menu'), 'the reactions menu');
        await check('reactions menu');
        await alice.page.keyboard.press('Escape');
      });
      await step('invite dialog', async () => {
        await clickAndWait(alice.page, '#invite', isShown('#invite-dialog'), 'the invite dialog');
        await check('invite dialog');
        await alice.page.keyboard.press('Escape');
      });
      await step('keyboard shortcuts dialog', async () => {
        await clickAndWait(alice.page, '#show-shortcuts', isShown('#shortcuts-help'), 'the shortcuts dialog');
        await check('shortcuts dialog');
        await alice.page.keyboard.press('Escape');
      });
      await step('phone size, with the overflow menu open', async () => {
        await alice.page.setViewport(PHONE);
        await waitFor(() => alice.page.evaluate(isShown('#toolbar-more')), 5000, { message: '#toolbar-more at phone size' });
        await check('phone size');
        await clickAndWait(alice.page, '#toolbar-more', isShown('#toolbar-more-menu'), 'the overflow menu');
        await check('phone size, overflow menu open');
        await alice.page.keyboard.press('Escape');
        await clickAndWait(alice.page, '#toggle-chat', isShown('#chat-panel'), 'the chat panel at phone size');
        await check('phone size, chat panel');
      });
    } finally {
      await alice?.page.close();
      await bob?.page.close();
    }
  });
}

/** Records every line added to #announcer from now on (`window.__announced`). */
function recordAnnouncements(page) {
  return page.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.__announced = [];
    const region = document.getElementById('announcer');
    if (!region) throw new Error('no #announcer');
    new MutationObserver((records) => {
      for (const r of records) for (const n of r.addedNodes) w.__announced.push((n.textContent || '').trim());
    }).observe(region, { childList: true, subtree: true, characterData: true });
  });
}

/** Waits until a recorded announcement equals `text`. */
async function expectAnnounced(page, text, what) {
  let heard = [];
  await waitFor(async () => {
    heard = await page.evaluate(() => /** @type {any} */ (window).__announced);
    return heard.includes(text);
  }, 8000, { message: () => `"${text}" (${what}) in #announcer; heard: ${safeJson(heard)}` });
}

test('live region: joining, hands raised, chat messages and leaving are announced politely', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('a11ylive');
  let alice;
  let bob;
  const fill = (key, vars) => Object.entries(vars).reduce((s, [k, v]) => s.replace(`{${k}}`, v), fr[key]);
  try {
    await step('the region is polite, read line by line', async () => {
      alice = await joinRoom(browser, server, room, 'Alice', { query: '&lang=fr', diagnostics, label: 'alice live' });
      const attrs = await alice.page.$eval('#announcer', (r) => ({ live: r.getAttribute('aria-live'), atomic: r.getAttribute('aria-atomic') }));
      assert.deepEqual(attrs, { live: 'polite', atomic: 'false' });
      await recordAnnouncements(alice.page);
    });
    await step('Bob joins', async () => {
      bob = await joinRoom(browser, server, room, 'Bob', { query: '&lang=fr', diagnostics, label: 'bob live' });
      await expectAnnounced(alice.page, fill('announce.joined', { name: 'Bob' }), 'joined');
    });
    await step('Bob raises his hand', async () => {
      await bob.page.click('#raise-hand');
      await expectAnnounced(alice.page, fill('hands.raised', { name: 'Bob', rank: '1' }), 'hand raised');
    });
    await step('Bob writes in the chat (Alice has it closed)', async () => {
      await bob.page.click('#toggle-chat');
      await bob.page.type('#chat-input', 'Un message');
      await bob.page.keyboard.press('Enter');
      await expectAnnounced(alice.page, fill('chat.announce', { name: 'Bob' }), 'chat message');
    });
    await step('Bob leaves', async () => {
      await bob.page.click('#hangup');
      await expectAnnounced(alice.page, fill('announce.left', { name: 'Bob' }), 'left');
      // The lines are in the order things happened.
      const heard = await alice.page.evaluate(() => /** @type {any} */ (window).__announced);
      const order = ['announce.joined', 'hands.raised', 'chat.announce', 'announce.left'].map((k) =>
        heard.indexOf(fill(k, { name: 'Bob', rank: '1' })));
      assert.deepEqual([...order].sort((x, y) => x - y), order, `announcements out of order: ${safeJson(heard)}`);
    });
  } finally {
    await alice?.page.close();
    await bob?.page.close();
  }
});

/** The focused element: its id (or its closest id), and whether its focus ring shows. */
function focused(page) {
  return page.evaluate(() => {
    const a = document.activeElement;
    if (!(a instanceof HTMLElement) || a === document.body) return { id: null, ring: false, visible: false };
    const s = getComputedStyle(a);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
    const shadow = s.boxShadow !== 'none';
    return {
      id: a.id || a.closest('[id]')?.id || a.tagName,
      ring: outline || shadow,
      focusVisible: a.matches(':focus-visible'),
      visible: a.getClientRects().length > 0,
    };
  });
}

test('keyboard: tab through the toolbar, toggle the microphone, open and close chat, menu and dialog', async (t) => {
  const step = stepper(t, diagnostics);
  const room = randomRoom('a11ykeys');
  let alice;
  const page = () => alice.page;
  const pressUntil = async (key, id, max = 80) => {
    const seen = [];
    for (let i = 0; i < max; i++) {
      await page().keyboard.press(key);
      const f = await focused(page());
      seen.push(f);
      if (f.id === id) return seen;
    }
    throw new Error(`${key} never reached #${id}; focus went ${safeJson(seen.map((f) => f.id))}`);
  };
  const expectFocus = async (id, what) => {
    let now;
    await waitFor(async () => (now = await focused(page())).id === id, 3000, {
      message: () => `the focus on #${id} ${what} (now ${safeJson(now)})`,
    });
  };
  try {
    await step('in the meeting (desktop size)', async () => {
      alice = await joinRoom(browser, server, room, 'Alice', { query: '&lang=fr', diagnostics, label: 'alice keys' });
      await page().setViewport(DESKTOP);
      await page().waitForSelector('#device-settings');
    });
    await step('Tab reaches every toolbar button in order, each with a visible focus ring', async () => {
      const buttons = await page().evaluate(() => [...document.querySelectorAll('.toolbar button')]
        .filter((b) => b instanceof HTMLElement && b.getClientRects().length > 0 && !b.closest('[hidden]') && !/** @type {HTMLButtonElement} */ (b).disabled)
        .map((b) => b.id));
      assert.ok(buttons.includes('toggle-mic') && buttons.includes('hangup') && buttons.includes('toggle-chat'), safeJson(buttons));
      assert.ok(!buttons.includes('toolbar-more'), `the overflow button shows at desktop size: ${safeJson(buttons)}`);
      await page().evaluate(() => /** @type {HTMLElement} */ (document.activeElement)?.blur());
      await pressUntil('Tab', 'toggle-mic');
      const order = ['toggle-mic'];
      const rings = [await focused(page())];
      while (order.length < buttons.length) {
        await page().keyboard.press('Tab');
        const f = await focused(page());
        order.push(f.id);
        rings.push(f);
      }
      assert.deepEqual(order, buttons, 'Tab order of the toolbar');
      for (const f of rings) {
        assert.ok(f.focusVisible && f.ring && f.visible, `#${f.id}: no visible focus ring (${safeJson(f)})`);
      }
    });
    await step('Enter and Space toggle the microphone; arrows move along the toolbar', async () => {
      await page().focus('#toggle-mic');
      await page().keyboard.press('Enter');
      await waitFor(() => page().$eval('#toggle-mic', (b) => b.getAttribute('aria-pressed') === 'true'), 3000, { message: 'microphone off after Enter' });
      await page().keyboard.press('Space');
      await waitFor(() => page().$eval('#toggle-mic', (b) => b.getAttribute('aria-pressed') === 'false'), 3000, { message: 'microphone on after Space' });
      await page().keyboard.press('ArrowRight');
      await expectFocus('toggle-camera', 'after ArrowRight');
    });
    await step('Enter opens the chat (focus inside), Escape closes it (focus back on its button)', async () => {
      await page().focus('#toggle-chat');
      await page().keyboard.press('Enter');
      await waitFor(() => page().evaluate(() => !document.getElementById('chat-panel')?.hidden
        && document.getElementById('chat-panel')?.contains(document.activeElement)), 3000, { message: 'the chat open with the focus in it' });
      assert.equal(await page().$eval('#toggle-chat', (b) => b.getAttribute('aria-expanded')), 'true');
      await page().keyboard.press('Escape');
      await expectFocus('toggle-chat', 'after Escape in the chat');
      assert.equal(await page().$eval('#chat-panel', (p) => p.hidden), true, 'the chat is still open');
      assert.equal(await page().$eval('#toggle-chat', (b) => b.getAttribute('aria-expanded')), 'false');
      const f = await focused(page());
      assert.ok(f.focusVisible && f.ring, `#toggle-chat: no visible focus ring after Escape (${safeJson(f)})`);
    });
    await step('the settings menu: Enter opens it, Escape closes it', async () => {
      await page().focus('#device-settings');
      await page().keyboard.press('Enter');
      await waitFor(() => page().evaluate(() => !document.getElementById('device-menu')?.hidden), 3000, { message: 'the device menu open' });
      await waitFor(() => page().evaluate(() => document.getElementById('device-menu')?.contains(document.activeElement)), 5000, { message: 'the focus in the device menu' });
      await page().keyboard.press('Escape');
      await expectFocus('device-settings', 'after Escape in the device menu');
      assert.equal(await page().$eval('#device-menu', (p) => p.hidden), true);
    });
    await step('the invite dialog: Enter opens it, Escape closes it', async () => {
      await page().focus('#invite');
      await page().keyboard.press('Enter');
      await waitFor(() => page().evaluate(() => document.getElementById('invite-dialog')?.hasAttribute('open')
        && document.getElementById('invite-dialog')?.contains(document.activeElement)), 3000, { message: 'the invite dialog open with the focus in it' });
      await page().keyboard.press('Escape');
      await expectFocus('invite', 'after Escape in the invite dialog');
      assert.equal(await page().$eval('#invite-dialog', (d) => d.hasAttribute('open')), false);
    });
  } finally {
    await alice?.page.close();
  }
});
