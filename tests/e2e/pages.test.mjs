// The service's own pages (/faq, /contact, /legal), rendered by the real binary and read by real
// headless Chromium: both languages, the language switch and Accept-Language, the contact
// addresses of `[pages]`, and the footer links of the client's home page.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Diagnostics,
  appendContext,
  launchChromium,
  newPage,
  startServer,
  waitFor,
} from './harness.mjs';

const SUPPORT = 'support@webconf.example.gouv.fr';
const SECURITY = 'securite@webconf.example.gouv.fr';
const PRIVACY = 'dpd@example.gouv.fr';

const diagnostics = new Diagnostics();
let server;
let browser;

before(async () => {
  server = await startServer({
    extraToml: [
      '[pages]',
      'operator_name = "Direction de test"',
      `support_email = ${JSON.stringify(SUPPORT)}`,
      `security_email = ${JSON.stringify(SECURITY)}`,
      `privacy_email = ${JSON.stringify(PRIVACY)}`,
      '',
    ].join('\n'),
  });
  diagnostics.addServer(server);
  browser = await launchChromium('chromium');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Runs `fn` with a fresh page, adding the server's and the page's output to any failure. */
async function withPage(label, fn, { acceptLanguage } = {}) {
  const page = await newPage(browser, label);
  diagnostics.add(`${label} console`, (n) => page.logs.slice(-n).join('\n'));
  if (acceptLanguage) await page.setExtraHTTPHeaders({ 'Accept-Language': acceptLanguage });
  try {
    await fn(page);
    const failed = page.logs.filter((line) => /http [45]\d\d|pageerror|Content Security Policy/.test(line));
    assert.deepEqual(failed, [], 'no failed request, script error or CSP violation');
  } catch (e) {
    appendContext(e, await diagnostics.render());
    throw e;
  } finally {
    await page.close();
  }
}

/** Opens `path` and reads what the tests check. */
async function open(page, path) {
  const response = await page.goto(`${server.url}${path}`, { waitUntil: 'load' });
  return { status: response?.status(), ...(await read(page)) };
}

/** What the tests check on the page as it is. */
function read(page) {
  return page.evaluate(() => ({
    lang: document.documentElement.lang,
    h1: document.querySelector('h1')?.textContent?.trim() ?? '',
    title: document.title,
    scripts: document.scripts.length,
    footer: [...document.querySelectorAll('footer a')].map((a) => ({
      text: a.textContent?.trim(),
      href: a.getAttribute('href'),
    })),
    switchHref: document.querySelector('.lang-switch')?.getAttribute('href') ?? '',
    // pages.css is applied: the footer's list is a flex row.
    footerDisplay: getComputedStyle(document.querySelector('footer ul') ?? document.body).display,
    mailto: [...document.querySelectorAll('a[href^="mailto:"]')].map((a) => a.getAttribute('href')),
    text: document.body.innerText,
  }));
}

const EXPECTED = {
  fr: {
    '/faq': 'Foire aux questions',
    '/contact': 'Nous contacter',
    '/legal': 'Mentions légales',
    footer: ['FAQ', 'Contact', 'Mentions légales'],
  },
  en: {
    '/faq': 'Frequently asked questions',
    '/contact': 'Contact us',
    '/legal': 'Legal notice',
    footer: ['FAQ', 'Contact', 'Legal notice'],
  },
};

for (const lang of ['fr', 'en']) {
  for (const path of ['/faq', '/contact', '/legal']) {
    test(`${path}?lang=${lang} is a complete page in that language`, async () => {
      await withPage(`${path} ${lang}`, async (page) => {
        const other = lang === 'fr' ? 'en' : 'fr';
        const got = await open(page, `${path}?lang=${lang}`);
        assert.equal(got.status, 200);
        assert.equal(got.lang, lang);
        assert.equal(got.h1, EXPECTED[lang][path]);
        assert.equal(got.scripts, 0, 'server pages need no script');
        assert.deepEqual(
          got.footer,
          EXPECTED[lang].footer.map((text, i) => ({
            text,
            href: `${['/faq', '/contact', '/legal'][i]}?lang=${lang}`,
          })),
        );
        assert.equal(got.switchHref, `${path}?lang=${other}`);
        assert.equal(got.footerDisplay, 'flex', 'pages.css is loaded');
      });
    });
  }
}

test('the FAQ fills in the configured media ports', async () => {
  await withPage('faq ports', async (page) => {
    const got = await open(page, '/faq?lang=en');
    const ports = `${server.mediaPorts.min}-${server.mediaPorts.max}`;
    assert.match(got.text, new RegExp(`UDP ports ${ports}`));
    assert.doesNotMatch(got.text, /\{media_ports\}|\{https_port\}|\{operator_name\}/);
    assert.match(got.text, /Direction de test/);
    const links = await page.$$eval('main a[href^="/contact"]', (as) => as.map((a) => a.getAttribute('href')));
    assert.ok(links.length > 0);
    assert.deepEqual(new Set(links), new Set(['/contact?lang=en']), 'links in the text keep the language');
  });
});

test('the contact page shows the configured addresses as mailto links', async () => {
  await withPage('contact', async (page) => {
    for (const lang of ['fr', 'en']) {
      const got = await open(page, `/contact?lang=${lang}`);
      assert.deepEqual(got.mailto, [`mailto:${SUPPORT}`, `mailto:${SECURITY}`, `mailto:${PRIVACY}`]);
      for (const address of [SUPPORT, SECURITY, PRIVACY]) assert.ok(got.text.includes(address), address);
      assert.doesNotMatch(got.text, /non configurée|not configured/);
    }
  });
});

test('without ?lang the page follows Accept-Language, French when unsure', async () => {
  await withPage('accept en', async (page) => {
    const got = await open(page, '/legal');
    assert.equal(got.lang, 'en');
    assert.equal(got.h1, 'Legal notice');
    assert.equal(got.footer[0].href, '/faq', 'links leave the choice to the next page');
  }, { acceptLanguage: 'en-GB,en;q=0.9' });
  await withPage('accept de', async (page) => {
    const got = await open(page, '/faq');
    assert.equal(got.lang, 'fr');
    assert.equal(got.h1, 'Foire aux questions');
  }, { acceptLanguage: 'de-DE,de;q=0.9' });
});

test('the language switch leads to the same page in the other language', async () => {
  await withPage('switch', async (page) => {
    await open(page, '/contact?lang=fr');
    await Promise.all([page.waitForNavigation(), page.click('.lang-switch')]);
    const got = await read(page);
    assert.equal(new URL(page.url()).pathname, '/contact');
    assert.equal(got.lang, 'en');
    assert.equal(got.h1, 'Contact us');
  });
});

test('the home page footer links to the pages in the client language', async () => {
  for (const lang of ['fr', 'en']) {
    await withPage(`home ${lang}`, async (page) => {
      await page.goto(`${server.url}/?lang=${lang}`, { waitUntil: 'load' });
      const footer = await waitFor(
        () =>
          page.evaluate(() => {
            const links = [...document.querySelectorAll('footer a')];
            return links.length === 3 && links[0].getAttribute('href')?.includes('?lang=')
              ? links.map((a) => ({ text: a.textContent?.trim(), href: a.getAttribute('href') }))
              : null;
          }),
        10000,
        { message: 'the client fills the footer' },
      );
      assert.deepEqual(
        footer,
        EXPECTED[lang].footer.map((text, i) => ({
          text,
          href: `${['/faq', '/contact', '/legal'][i]}?lang=${lang}`,
        })),
      );
      await Promise.all([page.waitForNavigation(), page.click('footer a[href^="/legal"]')]);
      const lang2 = await page.evaluate(() => document.documentElement.lang);
      const h1 = await page.evaluate(() => document.querySelector('h1')?.textContent?.trim());
      assert.equal(new URL(page.url()).pathname, '/legal');
      assert.equal(lang2, lang);
      assert.equal(h1, EXPECTED[lang]['/legal']);
    });
  }
});
