// Durations shown to people: a countdown clock ("4:05") and the same time in words for screen
// readers and sentences ("4 minutes", "45 seconds"). Pure, for web/test/.

/**
 * A countdown clock `m:ss` (whole seconds, never negative).
 * @param {number} seconds
 * @returns {string}
 */
export function formatClock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * A duration as one counted unit for `tn()`: whole minutes (rounded up) from two minutes on,
 * seconds below that, because "1 minute" is too coarse a warning for 90 seconds.
 * @param {number} seconds
 * @returns {{ base: 'count.minutes' | 'count.seconds', n: number }}
 */
export function durationUnit(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  if (s >= 120) return { base: 'count.minutes', n: Math.ceil(s / 60) };
  return { base: 'count.seconds', n: s };
}
