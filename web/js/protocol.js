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
 * A participant as the server describes it in `welcome`, `participant_joined` and
 * `participant_updated`. `audio` / `video` tell whether its microphone / camera is on.
 * @typedef {object} ParticipantInfo
 * @property {string} id
 * @property {string} name
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
 * Sent once, in answer to `join`.
 * @typedef {object} WelcomeMessage
 * @property {'welcome'} type
 * @property {number} version
 * @property {string} you                        This participant's id.
 * @property {string} room
 * @property {ParticipantInfo[]} participants    The others already in the room.
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
 * @typedef {WelcomeMessage | ServerAnswerMessage | ServerOfferMessage | ParticipantJoinedMessage
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
 * @param {unknown} v
 * @returns {ParticipantInfo | null}
 */
function parseParticipant(v) {
  if (!isObject(v)) return null;
  const { id, name, audio, video } = v;
  if (typeof id !== 'string' || typeof name !== 'string') return null;
  if (typeof audio !== 'boolean' || typeof video !== 'boolean') return null;
  return { id, name, audio, video };
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
      return { type: 'welcome', version, you, room, participants: list };
    }
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
