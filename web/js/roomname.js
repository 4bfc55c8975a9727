// Room names: the rule of docs/protocol.md ("at least 10 letters or digits, at least 3 of them
// digits; case-insensitive"), live explanation of it, and generation of random names.
//
// "Letters" are taken as the ASCII letters a-z: a room name is a URL path segment, and the
// product's examples (nomsalon123, reunion2024abc) are ASCII.

/** Minimum number of characters. */
export const MIN_LENGTH = 10;
/** Minimum number of digits. */
export const MIN_DIGITS = 3;
/** Length of generated names: 14 characters of 36 possible carry 72 bits. */
export const GENERATED_LENGTH = 14;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Where a candidate stands against each part of the rule, for the live explanation.
 * @typedef {object} RoomNameCheck
 * @property {string} normalized  Trimmed and lower-cased.
 * @property {number} length      Number of characters (code points).
 * @property {number} digits      Number of digits 0-9.
 * @property {boolean} onlyAlnum  True when every character is a-z or 0-9.
 * @property {boolean} valid
 */

/**
 * Check a candidate room name against the rule.
 * @param {string} input
 * @returns {RoomNameCheck}
 */
export function checkRoomName(input) {
  const normalized = input.trim().toLowerCase();
  const chars = Array.from(normalized);
  const digits = chars.filter((c) => c >= '0' && c <= '9').length;
  const onlyAlnum = /^[a-z0-9]*$/.test(normalized);
  const valid = onlyAlnum && chars.length >= MIN_LENGTH && digits >= MIN_DIGITS;
  return { normalized, length: chars.length, digits, onlyAlnum, valid };
}

/**
 * Parse a room name: the normalised name when the rule holds, null otherwise.
 * @param {string} input
 * @returns {string | null}
 */
export function parseRoomName(input) {
  const check = checkRoomName(input);
  return check.valid ? check.normalized : null;
}

/**
 * A random valid room name: 14 characters from [a-z0-9] drawn with crypto.getRandomValues
 * (rejection sampling, so each character is uniform), drawn again until it has 3 digits.
 * @returns {string}
 */
export function generateRoomName() {
  for (;;) {
    const name = randomString(GENERATED_LENGTH);
    if (checkRoomName(name).valid) return name;
  }
}

/**
 * @param {number} length
 * @returns {string}
 */
function randomString(length) {
  // 252 is the largest multiple of 36 below 256: bytes at or above it are dropped so that every
  // character of the alphabet is equally likely.
  const limit = 256 - (256 % ALPHABET.length);
  let out = '';
  const bytes = new Uint8Array(length * 2);
  while (out.length < length) {
    crypto.getRandomValues(bytes);
    for (const b of bytes) {
      if (b < limit && out.length < length) out += ALPHABET[b % ALPHABET.length];
    }
  }
  return out;
}
