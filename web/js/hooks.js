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
 * @property {ChatEntry[]} chat   Chat messages received in this meeting, oldest first (own
 *   public messages come back from the server and are listed too).
 * @property {string[]} hands     The raised hands (participant ids), in the server's order.
 * @property {boolean} locked     The room is protected by a password (`room_state`).
 * @property {string[]} screens   Participants whose shared screen is shown, in the order shown.
 * @property {SpeakerHook} speaker  The active speaker the speaker view follows (server or local).
 * @property {import('./protocol.js').ViewMessage | null} view  The last `view` sent, or null.
 * @property {SelectedDevices} devices  The microphone, camera and speakers in use (deviceIds;
 *   null: none, or the browser's default speakers).
 * @property {BoardEntry[]} board  The whiteboard's and screen annotations' objects as last known
 *   from the server, in drawing order.
 * @property {Record<string, string | null>} slots  The latest `slots` table of the connection:
 *   the mid of each microphone or camera slot → the participant whose microphone or camera it
 *   carries now, or null (docs/protocol.md, `slots`); empty with a server that forwards one
 *   m-line per microphone and camera.
 */

/**
 * One whiteboard object, as the server relayed it.
 * @typedef {object} BoardEntry
 * @property {string} id
 * @property {string} author
 * @property {import('./protocol.js').BoardLayer} layer
 * @property {string} color
 * @property {number} width
 * @property {import('./protocol.js').BoardShape} shape
 */

/**
 * @typedef {object} SelectedDevices
 * @property {string | null} mic
 * @property {string | null} camera
 * @property {string | null} speaker
 */

/**
 * One received chat message, as the server sent it.
 * @typedef {object} ChatEntry
 * @property {string} from
 * @property {string} name
 * @property {string} text
 * @property {boolean} private
 * @property {string | null} to   The recipient of a private message, else null.
 */

/**
 * `waiting`: a guest waits for an agent to open the room; `password`: a guest is asked for the
 * room's password; `ended`: the server closed the room, or a moderator removed this participant
 * (`body[data-end-reason]` says why: a `room_ended` reason, or `removed`).
 * @typedef {'home' | 'prejoin' | 'joining' | 'waiting' | 'password' | 'in-room' | 'left' | 'ended'
 *   | 'error' | 'test'} AppState
 */

/**
 * `source` is `server` once a `speakers` message came, `local` while the audio levels of the
 * browser's statistics decide, `none` before anyone spoke.
 * @typedef {object} SpeakerHook
 * @property {string | null} active
 * @property {string[]} recent
 * @property {'server' | 'local' | 'none'} source
 */

/** @type {WebconfHooks} */
const hooks = {
  pc: null, participantId: null, role: null, participants: {}, chat: [], hands: [], locked: false,
  screens: [], devices: { mic: null, camera: null, speaker: null }, board: [],
  speaker: { active: null, recent: [], source: 'none' }, view: null, slots: {},
};
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

/**
 * Record a received chat message (a copy).
 * @param {ChatEntry} entry
 */
export function pushChat(entry) {
  hooks.chat.push({ ...entry });
}

/** @param {readonly string[]} queue */
export function setHands(queue) {
  hooks.hands = [...queue];
}

/** @param {boolean} locked */
export function setLocked(locked) {
  hooks.locked = locked;
}

/** @param {readonly string[]} ids */
export function setScreens(ids) {
  hooks.screens = [...ids];
}

/** @param {SelectedDevices} devices */
export function setDevices(devices) {
  hooks.devices = { ...devices };
}

/** @param {BoardEntry[]} objects  Fresh copies (whiteboard.js `hookView`). */
export function setBoard(objects) {
  hooks.board = objects;
}

/** @param {SpeakerHook} speaker */
export function setSpeakerHook(speaker) {
  hooks.speaker = { active: speaker.active, recent: [...speaker.recent], source: speaker.source };
}

/** @param {import('./protocol.js').ViewMessage | null} view */
export function setViewHook(view) {
  hooks.view = view;
}

/** @param {Record<string, string | null>} slots  A fresh copy (slots.js `SlotTable.toObject`). */
export function setSlots(slots) {
  hooks.slots = slots;
}

/** Forget the whole session (after hang-up or an error). */
export function resetHooks() {
  hooks.pc = null;
  hooks.participantId = null;
  hooks.role = null;
  for (const id of Object.keys(hooks.participants)) delete hooks.participants[id];
  hooks.chat = [];
  hooks.hands = [];
  hooks.locked = false;
  hooks.screens = [];
  hooks.board = [];
  hooks.speaker = { active: null, recent: [], source: 'none' };
  hooks.view = null;
  hooks.slots = {};
}
