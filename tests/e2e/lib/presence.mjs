// Watches, in a page, whether a participant ever drops out of `window.webconf.participants`
// (sampled every 50 ms in the page itself, so that a short absence is not missed between two
// round trips of the test).

/**
 * Starts watching `id` in `page`; `stop()` ends the watch and resolves with the number of
 * samples in which `id` was missing (0: always listed).
 * @param {import('puppeteer-core').Page} page
 * @param {string} id
 */
export async function watchPresence(page, id) {
  const key = `__presence_${id}`;
  await page.evaluate((k, who) => {
    const w = /** @type {any} */ (window);
    w[k] = { missing: 0, timer: setInterval(() => {
      if (!w.webconf?.participants?.[who]) w[k].missing += 1;
    }, 50) };
  }, key, id);
  return {
    stop: () => page.evaluate((k) => {
      const w = /** @type {any} */ (window);
      clearInterval(w[k].timer);
      return w[k].missing;
    }, key),
  };
}
