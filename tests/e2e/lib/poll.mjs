// Polling helpers shared by the end-to-end tests (re-exported by ../harness.mjs).
import { setTimeout as sleep } from 'node:timers/promises';

// ---------------------------------------------------------------------------------------------
// Polling

/**
 * Polls `fn` until it returns a truthy value (which is returned) or `timeoutMs` passes. Errors
 * thrown by `fn` count as "not yet"; the last one, or the last falsy value, is put in the
 * timeout error together with `message` (a string or a function of the last value).
 */
export async function waitFor(fn, timeoutMs, { interval = 100, message = 'condition' } = {}) {
  const start = Date.now();
  let last;
  let lastError;
  for (;;) {
    try {
      last = await fn();
      lastError = undefined;
      if (last) return last;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() - start >= timeoutMs) {
      const what = typeof message === 'function' ? message(last) : message;
      const detail = lastError
        ? `last error: ${lastError.stack || lastError}`
        : `last value: ${safeJson(last)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${detail}`);
    }
    await sleep(interval);
  }
}

export function safeJson(value) {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

