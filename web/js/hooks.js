// Hooks for automated browser tests and kiosks: `window.webconf` and `body[data-state]`.
// Their shape is a contract with the end-to-end tests: keep it exactly.

/** @typedef {import('./protocol.js').ParticipantInfo} ParticipantInfo */
/** @typedef {import('./protocol.js').Role} Role */

/**
 * @typedef {object} WebconfHooks
 * @property {RTCPeerConnection | null} pc          The connection to the SFU, or null.
 * @property {string | null} participantId          Own id from `welcome`, or null.
 * @property {Role | null} role                     Own role from `welcome`, or null.
 * @property {Record<string, ParticipantInfo>} participants
 *   The OTHER participants currently shown, by id.
 */

/**
 * `waiting`: a guest waits for an agent to open the room; `ended`: the server closed the room
 * (`body[data-end-reason]` says why).
 * @typedef {'home' | 'prejoin' | 'joining' | 'waiting' | 'in-room' | 'left' | 'ended' | 'error'} AppState
 */

/** @type {WebconfHooks} */
const hooks = { pc: null, participantId: null, role: null, participants: {} };
/** @type {Window & { webconf?: WebconfHooks }} */ (window).webconf = hooks;

/**
 * Publish the current page state on `document.body.dataset.state`. `endReason` goes with
 * `ended` only (`body[data-end-reason]`, the `reason` of `room_ended`).
 * @param {AppState} state
 * @param {string} [endReason]
 */
export function setState(state, endReason) {
  document.body.dataset.state = state;
  if (state === 'ended' && endReason !== undefined) document.body.dataset.endReason = endReason;
  else delete document.body.dataset.endReason;
}

/** @param {RTCPeerConnection | null} pc */
export function setPeerConnection(pc) {
  hooks.pc = pc;
}

/**
 * @param {string | null} id
 * @param {Role | null} [role]
 */
export function setParticipantId(id, role = null) {
  hooks.participantId = id;
  hooks.role = role;
}

/**
 * Record a shown participant (a copy, so that tests never see later mutations half-done).
 * @param {ParticipantInfo} p
 */
export function putParticipant(p) {
  hooks.participants[p.id] = { id: p.id, name: p.name, role: p.role, audio: p.audio, video: p.video };
}

/** @param {string} id */
export function removeParticipant(id) {
  delete hooks.participants[id];
}

/** Forget the whole session (after hang-up or an error). */
export function resetHooks() {
  hooks.pc = null;
  hooks.participantId = null;
  hooks.role = null;
  for (const id of Object.keys(hooks.participants)) delete hooks.participants[id];
}
