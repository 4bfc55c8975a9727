// The signaling protocol, version 1: the JavaScript mirror of docs/protocol.md and of
// `webconf_room::protocol::{ClientMessage, ServerMessage}`.
//
// One typedef per message and one union per direction, like the Rust tagged enums. Messages
// from the server are *parsed* by `parseServerMessage`: everything else in the client handles
// values of type `ServerMessage` and never touches raw JSON from the network.

/** The protocol version this client speaks, sent in `join`. */
export const PROTOCOL_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// Shared shapes

/**
 * What a participant may do in its room (docs/access-policy.md): `moderator` for a State agent
 * (recognised by its network or a verified e-mail), `guest` for everyone else.
 * @typedef {'moderator' | 'guest'} Role
 */

/**
 * A participant as the server describes it in `welcome`, `participant_joined` and
 * `participant_updated`. `audio` / `video` tell whether its microphone / camera is on.
 * @typedef {object} ParticipantInfo
 * @property {string} id
 * @property {string} name
 * @property {Role} role
 * @property {boolean} audio
 * @property {boolean} video
 */

// ---------------------------------------------------------------------------------------------
// Client → server

/**
 * Enter a room. Must be the first message on the socket.
 * @typedef {object} JoinMessage
 * @property {'join'} type
 * @property {number} version  Always `PROTOCOL_VERSION`.
 * @property {string} room     Normalised (lower-case) room name.
 * @property {string} name     Display name, 1 to 64 characters, no control characters.
 */

/**
 * The client's one offer, sent right after `welcome`, publishing microphone and camera.
 * @typedef {object} ClientOfferMessage
 * @property {'offer'} type
 * @property {string} sdp
 */

/**
 * The client's answer to a server `offer`.
 * @typedef {object} ClientAnswerMessage
 * @property {'answer'} type
 * @property {string} sdp
 */

/**
 * The participant turned its microphone or camera on or off.
 * @typedef {object} MediaStateMessage
 * @property {'media_state'} type
 * @property {boolean} audio
 * @property {boolean} video
 */

/**
 * Hang up.
 * @typedef {object} LeaveMessage
 * @property {'leave'} type
 */

/**
 * Application-level keep-alive; the server answers `pong`.
 * @typedef {object} PingMessage
 * @property {'ping'} type
 */

/**
 * Every message the client may send.
 * @typedef {JoinMessage | ClientOfferMessage | ClientAnswerMessage | MediaStateMessage
 *   | LeaveMessage | PingMessage} ClientMessage
 */

// ---------------------------------------------------------------------------------------------
// Server → client

/**
 * Sent once, in answer to `join` (or, for a waiting guest, when an agent opens the room).
 * @typedef {object} WelcomeMessage
 * @property {'welcome'} type
 * @property {number} version
 * @property {string} you                        This participant's id.
 * @property {string} room
 * @property {Role} role                         This participant's role.
 * @property {ParticipantInfo[]} participants    The others already in the room.
 */

/**
 * Answer to a guest's `join` of a room that is not open. The socket stays open: `welcome`
 * follows when an agent opens the room, or `room_ended` (`wait_timeout`) after `timeout_secs`.
 * @typedef {object} WaitingMessage
 * @property {'waiting'} type
 * @property {string} room
 * @property {number} timeout_secs
 */

/**
 * Why a room is about to close (`room_ending`). Kept as a plain string, like error codes, so
 * that a reason added by a newer server still parses; the UI has a generic text for it.
 * @typedef {'idle' | 'max_duration'} EndingReason
 */

/**
 * Why a room closed (`room_ended`); a plain string on the wire, see `EndingReason`.
 * @typedef {'ended' | 'idle' | 'max_duration' | 'wait_timeout'} EndReason
 */

/**
 * The room will close in `in_secs` seconds. A later `participant_joined` cancels an `idle`
 * warning (docs/protocol.md).
 * @typedef {object} RoomEndingMessage
 * @property {'room_ending'} type
 * @property {string} reason     An `EndingReason`, or an unknown one from a newer server.
 * @property {number} in_secs
 */

/**
 * The room is closed; the server closes the socket right after.
 * @typedef {object} RoomEndedMessage
 * @property {'room_ended'} type
 * @property {string} reason     An `EndReason`, or an unknown one from a newer server.
 */

/**
 * The server's answer to the client's offer.
 * @typedef {object} ServerAnswerMessage
 * @property {'answer'} type
 * @property {string} sdp
 */

/**
 * The server adds or stops forwarded tracks; the client must answer.
 * @typedef {object} ServerOfferMessage
 * @property {'offer'} type
 * @property {string} sdp
 */

/**
 * @typedef {object} ParticipantJoinedMessage
 * @property {'participant_joined'} type
 * @property {ParticipantInfo} participant
 */

/**
 * @typedef {object} ParticipantUpdatedMessage
 * @property {'participant_updated'} type
 * @property {ParticipantInfo} participant
 */

/**
 * @typedef {object} ParticipantLeftMessage
 * @property {'participant_left'} type
 * @property {string} id
 */

/**
 * @typedef {object} PongMessage
 * @property {'pong'} type
 */

/**
 * Stable error codes (docs/protocol.md, "Error codes").
 * @typedef {'bad_message' | 'too_large' | 'rate_limited' | 'unsupported_version'
 *   | 'bad_room_name' | 'bad_name' | 'not_joined' | 'already_joined' | 'bad_sdp'
 *   | 'unexpected_answer' | 'server_busy'} ErrorCode
 */

/**
 * Something the client sent was refused. `code` is kept as a plain string so that a code added
 * by a newer server still parses; the UI falls back to a generic text for unknown codes.
 * `message` is English, for logs only: never shown.
 * @typedef {object} ErrorMessage
 * @property {'error'} type
 * @property {string} code
 * @property {string} message
 * @property {boolean} fatal   True when the server closes the socket right after.
 */

/**
 * Every message the server may send.
 * @typedef {WelcomeMessage | WaitingMessage | RoomEndingMessage | RoomEndedMessage
 *   | ServerAnswerMessage | ServerOfferMessage | ParticipantJoinedMessage
 *   | ParticipantUpdatedMessage | ParticipantLeftMessage | PongMessage | ErrorMessage} ServerMessage
 */

/** @type {readonly ErrorCode[]} */
export const ERROR_CODES = Object.freeze([
  'bad_message', 'too_large', 'rate_limited', 'unsupported_version', 'bad_room_name', 'bad_name',
  'not_joined', 'already_joined', 'bad_sdp', 'unexpected_answer', 'server_busy',
]);

// ---------------------------------------------------------------------------------------------
// Parsing

/**
 * @param {unknown} v
 * @returns {v is Record<string, unknown>}
 */
function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A role from the wire. Anything but `moderator` (a missing field from a server that predates
 * roles, or a role this client does not know) is shown as the least-privileged one, `guest`:
 * the client only displays roles, the server enforces them.
 * @param {unknown} v
 * @returns {Role}
 */
export function parseRole(v) {
  return v === 'moderator' ? 'moderator' : 'guest';
}

/**
 * @param {unknown} v
 * @returns {v is number}
 */
function isNonNegativeNumber(v) {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/**
 * @param {unknown} v
 * @returns {ParticipantInfo | null}
 */
function parseParticipant(v) {
  if (!isObject(v)) return null;
  const { id, name, audio, video } = v;
  if (typeof id !== 'string' || typeof name !== 'string') return null;
  if (typeof audio !== 'boolean' || typeof video !== 'boolean') return null;
  return { id, name, role: parseRole(v.role), audio, video };
}

/**
 * Parse one text frame from the server. Returns null for anything that is not a well-formed
 * message of protocol version 1 (unknown type, missing or mistyped field); unknown extra fields
 * are dropped.
 * @param {string} text
 * @returns {ServerMessage | null}
 */
export function parseServerMessage(text) {
  /** @type {unknown} */
  let raw;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(raw)) return null;
  switch (raw.type) {
    case 'welcome': {
      const { version, you, room, participants } = raw;
      if (typeof version !== 'number' || typeof you !== 'string' || typeof room !== 'string') {
        return null;
      }
      if (!Array.isArray(participants)) return null;
      /** @type {ParticipantInfo[]} */
      const list = [];
      for (const p of participants) {
        const parsed = parseParticipant(p);
        if (!parsed) return null;
        list.push(parsed);
      }
      return { type: 'welcome', version, you, room, role: parseRole(raw.role), participants: list };
    }
    case 'waiting': {
      const { room, timeout_secs: timeout } = raw;
      if (typeof room !== 'string' || !isNonNegativeNumber(timeout)) return null;
      return { type: 'waiting', room, timeout_secs: timeout };
    }
    case 'room_ending': {
      const { reason, in_secs: inSecs } = raw;
      if (typeof reason !== 'string' || !isNonNegativeNumber(inSecs)) return null;
      return { type: 'room_ending', reason, in_secs: inSecs };
    }
    case 'room_ended':
      if (typeof raw.reason !== 'string') return null;
      return { type: 'room_ended', reason: raw.reason };
    case 'answer':
    case 'offer': {
      if (typeof raw.sdp !== 'string') return null;
      return { type: raw.type, sdp: raw.sdp };
    }
    case 'participant_joined':
    case 'participant_updated': {
      const participant = parseParticipant(raw.participant);
      if (!participant) return null;
      return { type: raw.type, participant };
    }
    case 'participant_left':
      if (typeof raw.id !== 'string') return null;
      return { type: 'participant_left', id: raw.id };
    case 'pong':
      return { type: 'pong' };
    case 'error': {
      const { code, message, fatal } = raw;
      if (typeof code !== 'string' || typeof message !== 'string' || typeof fatal !== 'boolean') {
        return null;
      }
      return { type: 'error', code, message, fatal };
    }
    default:
      return null;
  }
}

/**
 * Narrow a code string to a known `ErrorCode`.
 * @param {string} code
 * @returns {code is ErrorCode}
 */
export function isKnownErrorCode(code) {
  return /** @type {readonly string[]} */ (ERROR_CODES).includes(code);
}

/** @type {readonly EndReason[]} */
export const END_REASONS = Object.freeze(['ended', 'idle', 'max_duration', 'wait_timeout']);

/** @type {readonly EndingReason[]} */
export const ENDING_REASONS = Object.freeze(['idle', 'max_duration']);

/**
 * Narrow a `room_ended` reason to a known `EndReason`.
 * @param {string} reason
 * @returns {reason is EndReason}
 */
export function isKnownEndReason(reason) {
  return /** @type {readonly string[]} */ (END_REASONS).includes(reason);
}

/**
 * Narrow a `room_ending` reason to a known `EndingReason`.
 * @param {string} reason
 * @returns {reason is EndingReason}
 */
export function isKnownEndingReason(reason) {
  return /** @type {readonly string[]} */ (ENDING_REASONS).includes(reason);
}
