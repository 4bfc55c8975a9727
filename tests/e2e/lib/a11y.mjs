// Automated accessibility checks for the end-to-end tests: axe-core (npm devDependency) run in
// the page under test.
//
// axe is injected through the browser's debugging protocol (puppeteer's `page.evaluate` of a
// string: CDP `Runtime.evaluate` in Chromium, BiDi `script.evaluate` in Firefox), which is not
// subject to the page's Content-Security-Policy: the app keeps its strict `script-src 'self'`
// and nothing is served from a third party. The axe source is read once from node_modules.

import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let axeSource;

/** The text of axe-core's browser build (axe.min.js), read once. */
function source() {
  if (!axeSource) axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  return axeSource;
}

/** Impacts that fail a test. `moderate` and `minor` are reported by `axeViolations` only. */
export const FAILING_IMPACTS = ['serious', 'critical'];

/**
 * Runs axe on the page's current document (injecting it first if this document lacks it) and
 * returns its violations as plain data: `{id, impact, help, helpUrl, nodes: [{target, summary}]}`.
 * `exclude` lists CSS selectors left out of the check (use sparingly and say why).
 * @param {import('puppeteer-core').Page} page
 * @param {{exclude?: string[]}} [opts]
 */
export async function axeViolations(page, { exclude = [] } = {}) {
  const present = await page.evaluate(() => typeof (/** @type {any} */ (window)).axe === 'object');
  // The UMD build assigns `window.axe` when there is no `module`/`define`, as in a page.
  if (!present) await page.evaluate(`${source()}\n;void 0;`);
  return page.evaluate(async (excluded) => {
    const axe = /** @type {any} */ (window).axe;
    const context = excluded.length ? { include: [document], exclude: excluded.map((s) => [s]) } : document;
    const result = await axe.run(context, { resultTypes: ['violations'] });
    // A run that checked nothing (an empty or unrendered page) proves nothing.
    if (result.passes.length === 0) throw new Error('axe-core passed no rule at all: was the page rendered?');
    return result.violations.map((/** @type {any} */ v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((/** @type {any} */ n) => ({
        target: n.target,
        summary: (n.failureSummary || '').replace(/\s+/g, ' ').slice(0, 300),
      })),
    }));
  }, exclude);
}

/** One line per violation and affected element, for an assertion message. */
export function formatViolations(violations) {
  return violations
    .map((v) => {
      const nodes = v.nodes.map((n) => `    - ${JSON.stringify(n.target)}: ${n.summary}`).join('\n');
      return `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes}`;
    })
    .join('\n');
}

/**
 * Fails (throws) when axe finds any `serious` or `critical` violation on the page, listing for
 * each the rule id, impact, help text and the selectors of the elements at fault. Returns every
 * violation found (the moderate and minor ones too) so a caller may log them.
 * @param {import('puppeteer-core').Page} page
 * @param {string} label  Which page and state, for the message ("home fr desktop").
 * @param {{exclude?: string[]}} [opts]
 */
export async function expectNoSeriousViolations(page, label, opts = {}) {
  const violations = await axeViolations(page, opts);
  const failing = violations.filter((v) => FAILING_IMPACTS.includes(v.impact));
  if (failing.length > 0) {
    throw new Error(
      `axe-core found ${failing.length} serious or critical accessibility violation(s) on ${label} ` +
        `(${page.url()}):\n${formatViolations(failing)}`,
    );
  }
  return violations;
}
