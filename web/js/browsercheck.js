// Is this browser one the service supports? The product FAQ names recent Chromium-based browsers
// (Chrome, Edge, Chromium) and recent Firefox. Pure: the caller passes the user agent and what
// the page found, so that the unit tests can try any browser.

/** Oldest versions still called "recent": about two years, and Firefox's 115 ESR. */
export const MIN_VERSIONS = Object.freeze({ chromium: 116, firefox: 115 });

/**
 * @typedef {object} BrowserFeatures
 * @property {boolean} peerConnection  `RTCPeerConnection` exists.
 * @property {boolean} getUserMedia    `navigator.mediaDevices.getUserMedia` exists.
 * @property {boolean} transceivers    `RTCRtpTransceiver` exists (Unified Plan).
 */

/**
 * `ok`: supported; `unsupported`: a feature the meeting needs is missing (it cannot work);
 * `outdated`: a supported browser, too old; `other`: not among the supported browsers (it may
 * work, nobody checks that it does).
 * @typedef {object} BrowserVerdict
 * @property {'ok' | 'unsupported' | 'outdated' | 'other'} status
 * @property {'chromium' | 'firefox' | null} family
 * @property {number | null} version  Major version, when known.
 */

/**
 * @param {string} userAgent
 * @returns {{family: 'chromium' | 'firefox' | null, version: number | null}}
 */
export function identifyBrowser(userAgent) {
  const firefox = /\bFirefox\/(\d+)/.exec(userAgent);
  if (firefox && !/\bSeamonkey\//i.test(userAgent)) return { family: 'firefox', version: Number(firefox[1]) };
  // Chrome, Chromium, Edge ("Edg/"), Opera ("OPR/"): all say "Chrome/<major>" for their engine.
  const chrome = /\b(?:HeadlessChrome|Chrome|Chromium)\/(\d+)/.exec(userAgent);
  if (chrome && !/\bEdge\/\d/.test(userAgent)) return { family: 'chromium', version: Number(chrome[1]) };
  return { family: null, version: null };
}

/**
 * @param {string} userAgent
 * @param {BrowserFeatures} features
 * @returns {BrowserVerdict}
 */
export function checkBrowser(userAgent, features) {
  const { family, version } = identifyBrowser(userAgent);
  if (!features.peerConnection || !features.getUserMedia || !features.transceivers) {
    return { status: 'unsupported', family, version };
  }
  if (family === null) return { status: 'other', family, version };
  if (version !== null && version < MIN_VERSIONS[family]) return { status: 'outdated', family, version };
  return { status: 'ok', family, version };
}

/**
 * What this page's browser has.
 * @returns {BrowserFeatures}
 */
export function detectFeatures() {
  const w = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (window));
  return {
    peerConnection: typeof w.RTCPeerConnection === 'function',
    // Outside a secure context (plain http://) `mediaDevices` is missing in every browser: that
    // is the address's fault, which the device notice explains, not the browser's.
    getUserMedia: !window.isSecureContext || typeof navigator.mediaDevices?.getUserMedia === 'function',
    transceivers: typeof w.RTCRtpTransceiver === 'function',
  };
}
