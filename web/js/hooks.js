// Hooks for automated browser tests and kiosks: `window.webconf` and `body[data-state]`.
// Their shape is a contract with the end-to-end tests: keep it exactly.

/** @typedef {import('./protocol.js').ParticipantInfo} ParticipantInfo */

/**
 * @typedef {object} WebconfHooks
 * @property {RTCPeerConnection | null} pc          The connection to the SFU, or null.
 * @property {string | null} participantId          Own id from `welcome`, or null.
 * @property {Record<string, ParticipantInfo>} participants
 *   The OTHER participants currently shown, by id.
 */

/** @typedef {'home' | 'prejoin' | 'joining' | 'in-room' | 'left' | 'error'} AppState */

/** @type {WebconfHooks} */
const hooks = { pc: null, participantId: null, participants: {} };
/** @type {Window & { webconf?: WebconfHooks }} */ (window).webconf = hooks;

/**
 * Publish the current page state on `document.body.dataset.state`.
 * @param {AppState} state
 */
export function setState(state) {
  document.body.dataset.state = state;
}

/** @param {RTCPeerConnection | null} pc */
export function setPeerConnection(pc) {
  hooks.pc = pc;
}

/** @param {string | null} id */
export function setParticipantId(id) {
  hooks.participantId = id;
}

/**
 * Record a shown participant (a copy, so that tests never see later mutations half-done).
 * @param {ParticipantInfo} p
 */
export function putParticipant(p) {
  hooks.participants[p.id] = { id: p.id, name: p.name, audio: p.audio, video: p.video };
}

/** @param {string} id */
export function removeParticipant(id) {
  delete hooks.participants[id];
}

/** Forget the whole session (after hang-up or an error). */
export function resetHooks() {
  hooks.pc = null;
  hooks.participantId = null;
  for (const id of Object.keys(hooks.participants)) delete hooks.participants[id];
}
