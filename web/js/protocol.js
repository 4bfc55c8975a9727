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
 * @property {boolean} [screen]  Sharing a screen (missing from our own record: false).
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
 * @property {string} [password]  A guest's room password, after `password_required` or
 *   `wrong_password` (sent again on the same socket).
 */

/**
 * Take one's place back on a new socket after losing the old one (a network change, a short
 * cut), instead of `join`: same participant id, role and media session. `token` is the secret of
 * the last `session` message. The server answers `welcome` (then `hands`, `room_state`,
 * `board_state` and a new `session`), or the error `resume_failed`: then `join` again.
 * @typedef {object} ResumeMessage
 * @property {'resume'} type
 * @property {number} version  Always `PROTOCOL_VERSION`.
 * @property {string} participant
 * @property {string} token
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
 * @property {boolean} [screen]  Sharing a screen (default false).
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

// --- Room actions: chat, hands, reactions, moderator controls (docs/protocol.md) ---

/**
 * A chat message to everyone, or privately to `to` (a participant id). 1 to 2000 characters.
 * @typedef {object} ClientChatMessage
 * @property {'chat'} type
 * @property {string} text
 * @property {string} [to]
 */

/**
 * @typedef {object} RaiseHandMessage
 * @property {'raise_hand'} type
 * @property {boolean} raised
 */

/**
 * One of `REACTIONS`.
 * @typedef {object} ClientReactionMessage
 * @property {'reaction'} type
 * @property {string} emoji
 */

/**
 * A moderator's control aimed at one participant (refused with `forbidden` for a guest).
 * @typedef {object} TargetedModeratorMessage
 * @property {'mute' | 'camera_off' | 'remove' | 'promote'} type
 * @property {string} target   Participant id.
 */

/**
 * A moderator's control on the whole room.
 * @typedef {object} RoomModeratorMessage
 * @property {'mute_all' | 'lower_hands' | 'end_meeting'} type
 */

/**
 * Protect the room (4 to 128 characters), or with `null` remove the protection.
 * @typedef {object} SetPasswordMessage
 * @property {'set_password'} type
 * @property {string | null} password
 */

/**
 * One tile of a `view`: whose camera (or `screen`), its height in device pixels (0 = hidden:
 * no video is sent), and whether the user pinned it (it keeps its video whatever last-N says).
 * @typedef {object} ViewTile
 * @property {string} participant
 * @property {boolean} screen
 * @property {number} height   Integer, 0 to `MAX_VIEW_HEIGHT`.
 * @property {boolean} pinned
 */

/**
 * What this browser shows of the others and how big (simulcast layers, last-N); replaces the
 * previous view. Built by `viewMessage` (viewreport.js decides when).
 * @typedef {object} ViewMessage
 * @property {'view'} type
 * @property {ViewTile[]} tiles   At most `MAX_VIEW_TILES`.
 */

/**
 * Every message the client may send.
 * @typedef {JoinMessage | ResumeMessage | ClientOfferMessage | ClientAnswerMessage | MediaStateMessage
 *   | LeaveMessage | PingMessage | ClientChatMessage | RaiseHandMessage | ClientReactionMessage
 *   | TargetedModeratorMessage | RoomModeratorMessage | SetPasswordMessage
 *   | BoardAddMessage | BoardUpdateMessage | BoardRemoveMessage | BoardClearMessage
 *   | ViewMessage} ClientMessage
 */

/** Most tiles in one `view`, and the largest height (the server refuses more: `bad_view`). */
export const MAX_VIEW_TILES = 200;
export const MAX_VIEW_HEIGHT = 4320;

/**
 * A `view` message, within the server's bounds: heights rounded and clamped to
 * 0..MAX_VIEW_HEIGHT, at most MAX_VIEW_TILES tiles (pinned ones first, then in order).
 * @param {readonly ViewTile[]} tiles
 * @returns {ViewMessage}
 */
export function viewMessage(tiles) {
  const clamp = (/** @type {number} */ h) => (Number.isFinite(h) ? Math.min(MAX_VIEW_HEIGHT, Math.max(0, Math.round(h))) : 0);
  const ordered = [...tiles.filter((x) => x.pinned), ...tiles.filter((x) => !x.pinned)];
  return {
    type: 'view',
    tiles: ordered.slice(0, MAX_VIEW_TILES).map((x) => ({
      participant: x.participant, screen: x.screen, height: clamp(x.height), pinned: x.pinned,
    })),
  };
}

/** The emoji reactions the server accepts, in the order they are offered. */
export const REACTIONS = Object.freeze(['👍', '👏', '😂', '😮', '❤️', '🎉']);

/** Longest chat message, in characters (the server counts Unicode scalar values). */
export const MAX_CHAT_CHARS = 2000;

/** Room password length limits, in characters. */
export const PASSWORD_MIN_CHARS = 4;
export const PASSWORD_MAX_CHARS = 128;

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
 * Sent right after `welcome`: the secret with which this participant may `resume` on a new
 * socket (memory only; a new one comes with every `welcome`).
 * @typedef {object} SessionMessage
 * @property {'session'} type
 * @property {string} resume_token
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
 * The server adds or stops forwarded tracks; the client must answer. After a `resume` the
 * server sends its outstanding offer again, unchanged: one already answered gets the same
 * answer again (media.js `serverOfferStatus`).
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
 * The server's own measurement of this participant's media, every 2 s once connected.
 * @typedef {object} StatsMessage
 * @property {'stats'} type
 * @property {number} bitrate_in   Bits per second received by the server from us.
 * @property {number} bitrate_out  Bits per second sent by the server to us.
 * @property {number | null} loss_in
 * @property {number | null} loss_out
 * @property {number | null} rtt_ms
 * @property {string | null} transport  `udp` or `tcp`.
 * @property {number | null} server_port
 */

/**
 * @typedef {object} PongMessage
 * @property {'pong'} type
 */

/**
 * A chat message. `private` messages go to their recipient `to` and back to their sender only.
 * @typedef {object} ChatMessage
 * @property {'chat'} type
 * @property {string} from      Sender's participant id.
 * @property {string} name      Sender's display name (text, never markup).
 * @property {string} text
 * @property {boolean} private
 * @property {string} [to]      Recipient of a private message.
 */

/**
 * The raised hands, in the order they were raised.
 * @typedef {object} HandsMessage
 * @property {'hands'} type
 * @property {string[]} queue
 */

/**
 * @typedef {object} ReactionMessage
 * @property {'reaction'} type
 * @property {string} from
 * @property {string} emoji
 */

/**
 * A moderator turned this participant's microphone (`audio`) or camera (`video`) off.
 * @typedef {object} MutedMessage
 * @property {'muted'} type
 * @property {'audio' | 'video'} kind
 * @property {string} by        The moderator's display name.
 */

/**
 * A moderator removed this participant; the socket closes right after.
 * @typedef {object} RemovedMessage
 * @property {'removed'} type
 * @property {string} by
 */

/**
 * The room's speakers, from the server's audio levels: sent to the room when the active speaker
 * changes (and to a newcomer after `welcome`). `recent` is most recent first.
 * @typedef {object} SpeakersMessage
 * @property {'speakers'} type
 * @property {string} active
 * @property {string[]} recent
 */

/**
 * Whether the room is protected by a password.
 * @typedef {object} RoomStateMessage
 * @property {'room_state'} type
 * @property {boolean} locked
 */

/**
 * Stable error codes (docs/protocol.md, "Error codes").
 * @typedef {'bad_message' | 'too_large' | 'rate_limited' | 'unsupported_version'
 *   | 'bad_room_name' | 'bad_name' | 'not_joined' | 'already_joined' | 'bad_sdp'
 *   | 'unexpected_answer' | 'server_busy' | 'password_required' | 'wrong_password' | 'forbidden'
 *   | 'not_found' | 'renegotiation_in_progress' | 'bad_drawing' | 'board_full' | 'bad_view'
 *   | 'resume_failed'} ErrorCode
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
 * One microphone slot of this participant's media session: the m-line `mid` (its `a=msid` is
 * `slots slot-audio-<n>`) and whose microphone it carries now (null: nobody, silent).
 * @typedef {object} SlotEntry
 * @property {string} mid
 * @property {string | null} participant
 */

/**
 * Which participant each microphone slot carries (docs/protocol.md, `slots`): every slot of
 * the session, in the order opened; sent whenever it changes and again after `resume`. A `mid`
 * may be listed before the offer that creates its m-line has been applied.
 * @typedef {object} SlotsMessage
 * @property {'slots'} type
 * @property {SlotEntry[]} slots
 */

/**
 * Every message the server may send.
 * @typedef {WelcomeMessage | WaitingMessage | RoomEndingMessage | RoomEndedMessage
 *   | ServerAnswerMessage | ServerOfferMessage | ParticipantJoinedMessage
 *   | ParticipantUpdatedMessage | ParticipantLeftMessage | PongMessage | ErrorMessage
 *   | ChatMessage | HandsMessage | ReactionMessage | MutedMessage | RemovedMessage
 *   | RoomStateMessage | StatsMessage | BoardStateMessage | ServerBoardAddMessage
 *   | ServerBoardUpdateMessage | ServerBoardRemoveMessage | ServerBoardClearMessage
 *   | SpeakersMessage | SessionMessage | SlotsMessage} ServerMessage
 */

/** @type {readonly ErrorCode[]} */
export const ERROR_CODES = Object.freeze([
  'bad_message', 'too_large', 'rate_limited', 'unsupported_version', 'bad_room_name', 'bad_name',
  'not_joined', 'already_joined', 'bad_sdp', 'unexpected_answer', 'server_busy',
  'password_required', 'wrong_password', 'forbidden', 'not_found',
  'renegotiation_in_progress', 'bad_drawing', 'board_full', 'bad_view', 'resume_failed',
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
  return { id, name, role: parseRole(v.role), audio, video, screen: v.screen === true };
}

/**
 * The table of a `slots` message, or null when malformed: every entry an object with a
 * non-empty string `mid` (each mid once: two entries for one m-line would be two answers to
 * "who is this?") and a `participant` that is a string or null (missing reads as null, as the
 * server's `Option` would).
 * @param {unknown} v
 * @returns {SlotEntry[] | null}
 */
function parseSlots(v) {
  if (!Array.isArray(v)) return null;
  /** @type {SlotEntry[]} */
  const out = [];
  /** @type {Set<string>} */
  const seen = new Set();
  for (const entry of v) {
    if (!isObject(entry)) return null;
    const { mid, participant } = entry;
    if (typeof mid !== 'string' || mid === '' || seen.has(mid)) return null;
    if (participant !== undefined && participant !== null && typeof participant !== 'string') return null;
    seen.add(mid);
    out.push({ mid, participant: typeof participant === 'string' ? participant : null });
  }
  return out;
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
    case 'stats': {
      /** @param {unknown} v */
      const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
      const bitrateIn = num(raw.bitrate_in);
      const bitrateOut = num(raw.bitrate_out);
      if (bitrateIn === null || bitrateOut === null) return null;
      return {
        type: 'stats',
        bitrate_in: bitrateIn,
        bitrate_out: bitrateOut,
        loss_in: num(raw.loss_in),
        loss_out: num(raw.loss_out),
        rtt_ms: num(raw.rtt_ms),
        transport: typeof raw.transport === 'string' ? raw.transport : null,
        server_port: num(raw.server_port),
      };
    }
    case 'chat': {
      const { from, name, text, to } = raw;
      if (typeof from !== 'string' || typeof name !== 'string' || typeof text !== 'string') return null;
      if (typeof raw.private !== 'boolean') return null;
      if (to !== undefined && to !== null && typeof to !== 'string') return null;
      /** @type {ChatMessage} */
      const chat = { type: 'chat', from, name, text, private: raw.private };
      if (typeof to === 'string') chat.to = to;
      return chat;
    }
    case 'hands': {
      const { queue } = raw;
      if (!Array.isArray(queue) || !queue.every((id) => typeof id === 'string')) return null;
      return { type: 'hands', queue: [...queue] };
    }
    case 'reaction':
      if (typeof raw.from !== 'string' || typeof raw.emoji !== 'string') return null;
      return { type: 'reaction', from: raw.from, emoji: raw.emoji };
    case 'muted':
      if ((raw.kind !== 'audio' && raw.kind !== 'video') || typeof raw.by !== 'string') return null;
      return { type: 'muted', kind: raw.kind, by: raw.by };
    case 'removed':
      if (typeof raw.by !== 'string') return null;
      return { type: 'removed', by: raw.by };
    case 'speakers': {
      const { active, recent } = raw;
      if (typeof active !== 'string' || !Array.isArray(recent)) return null;
      if (!recent.every((id) => typeof id === 'string')) return null;
      return { type: 'speakers', active, recent: [...recent] };
    }
    case 'slots': {
      const slots = parseSlots(raw.slots);
      if (!slots) return null;
      return { type: 'slots', slots };
    }
    case 'session':
      if (typeof raw.resume_token !== 'string' || raw.resume_token.length === 0 || raw.resume_token.length > 256) return null;
      return { type: 'session', resume_token: raw.resume_token };
    case 'room_state':
      if (typeof raw.locked !== 'boolean') return null;
      return { type: 'room_state', locked: raw.locked };
    case 'board_state':
    case 'board_add':
    case 'board_update':
    case 'board_remove':
    case 'board_clear':
      return parseBoardMessage(raw);
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

// ---------------------------------------------------------------------------------------------
// Whiteboard and screen annotations (docs/protocol.md, "Whiteboard";
// `webconf_room::whiteboard`). The server checks every bound; the client parses what it relays
// with the same bounds, so that the rest of the client only sees well-formed objects.

/** The virtual square every object lives in: 0..BOARD_SIZE on both axes. */
export const BOARD_SIZE = 10_000;
/** Most points in one free-hand stroke. */
export const BOARD_MAX_POINTS = 2_000;
/** Most objects on one board (all layers together). */
export const BOARD_MAX_OBJECTS = 5_000;
/** Most points on one board (all strokes together). */
export const BOARD_MAX_BOARD_POINTS = 200_000;
/** Longest text object, in characters (Unicode scalar values). */
export const BOARD_MAX_TEXT_CHARS = 500;
/** Stroke width (or text size) limits, in units. */
export const BOARD_MIN_WIDTH = 1;
export const BOARD_MAX_WIDTH = 100;

/**
 * Where an object is drawn: the whiteboard, or over the screen `owner` shares.
 * @typedef {{on: 'board'} | {on: 'screen', owner: string}} BoardLayer
 */

/** @typedef {[number, number]} BoardPoint  Integer coordinates, 0..BOARD_SIZE. */

/**
 * What an object is.
 * @typedef {{kind: 'path', points: BoardPoint[]}
 *   | {kind: 'line', from: BoardPoint, to: BoardPoint, arrow: boolean}
 *   | {kind: 'rect', at: BoardPoint, size: BoardPoint}
 *   | {kind: 'ellipse', at: BoardPoint, size: BoardPoint}
 *   | {kind: 'text', at: BoardPoint, text: string}} BoardShape
 */

/**
 * An object as a browser sends it.
 * @typedef {object} DrawObject
 * @property {string} id        1 to 32 of `[A-Za-z0-9_-]`, chosen by the drawing browser.
 * @property {BoardLayer} layer
 * @property {string} color     `#rrggbb`.
 * @property {number} width     Stroke width (or text size), 1 to 100.
 * @property {BoardShape} shape
 */

/**
 * An object as the server relays it: with who drew (or last moved) it.
 * @typedef {DrawObject & {author: string}} BoardObject
 */

/**
 * @typedef {object} BoardAddMessage
 * @property {'board_add'} type
 * @property {DrawObject} object
 */

/**
 * Move or edit an object (same id).
 * @typedef {object} BoardUpdateMessage
 * @property {'board_update'} type
 * @property {DrawObject} object
 */

/**
 * @typedef {object} BoardRemoveMessage
 * @property {'board_remove'} type
 * @property {string} id
 */

/**
 * Clear a layer: all of it (moderators only, else `forbidden`), or only one's own (`mine`).
 * @typedef {object} BoardClearMessage
 * @property {'board_clear'} type
 * @property {BoardLayer} layer
 * @property {boolean} mine
 */

/**
 * The whole board, for a newcomer, after `welcome` (only when not empty).
 * @typedef {object} BoardStateMessage
 * @property {'board_state'} type
 * @property {BoardObject[]} objects   In drawing order.
 */

/**
 * @typedef {object} ServerBoardAddMessage
 * @property {'board_add'} type
 * @property {BoardObject} object
 */

/**
 * @typedef {object} ServerBoardUpdateMessage
 * @property {'board_update'} type
 * @property {BoardObject} object
 */

/**
 * @typedef {object} ServerBoardRemoveMessage
 * @property {'board_remove'} type
 * @property {string} id
 */

/**
 * A layer was cleared; only `author`'s drawings when set.
 * @typedef {object} ServerBoardClearMessage
 * @property {'board_clear'} type
 * @property {BoardLayer} layer
 * @property {string} [author]
 */

/** @param {DrawObject} object @returns {BoardAddMessage} */
export function boardAdd(object) {
  return { type: 'board_add', object };
}

/** @param {DrawObject} object @returns {BoardUpdateMessage} */
export function boardUpdate(object) {
  return { type: 'board_update', object };
}

/** @param {string} id @returns {BoardRemoveMessage} */
export function boardRemove(id) {
  return { type: 'board_remove', id };
}

/** @param {BoardLayer} layer @param {boolean} [mine] @returns {BoardClearMessage} */
export function boardClear(layer, mine = false) {
  return { type: 'board_clear', layer, mine };
}

/** Ids of objects: what the server accepts. */
export const BOARD_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const COLOR_PATTERN = /^#[0-9a-fA-F]{6}$/;

/**
 * @param {unknown} v
 * @returns {BoardPoint | null}
 */
function parsePoint(v) {
  if (!Array.isArray(v) || v.length !== 2) return null;
  const [x, y] = v;
  const ok = (/** @type {unknown} */ n) => Number.isInteger(n) && /** @type {number} */ (n) >= 0
    && /** @type {number} */ (n) <= BOARD_SIZE;
  return ok(x) && ok(y) ? [x, y] : null;
}

/**
 * @param {unknown} v
 * @returns {BoardLayer | null}
 */
export function parseBoardLayer(v) {
  if (!isObject(v)) return null;
  if (v.on === 'board') return { on: 'board' };
  if (v.on === 'screen' && typeof v.owner === 'string' && v.owner !== '') return { on: 'screen', owner: v.owner };
  return null;
}

/**
 * @param {unknown} v
 * @returns {BoardShape | null}
 */
function parseShape(v) {
  if (!isObject(v)) return null;
  switch (v.kind) {
    case 'path': {
      if (!Array.isArray(v.points) || v.points.length === 0 || v.points.length > BOARD_MAX_POINTS) return null;
      /** @type {BoardPoint[]} */
      const points = [];
      for (const p of v.points) {
        const point = parsePoint(p);
        if (!point) return null;
        points.push(point);
      }
      return { kind: 'path', points };
    }
    case 'line': {
      const from = parsePoint(v.from);
      const to = parsePoint(v.to);
      if (!from || !to || (v.arrow !== undefined && typeof v.arrow !== 'boolean')) return null;
      return { kind: 'line', from, to, arrow: v.arrow === true };
    }
    case 'rect':
    case 'ellipse': {
      const at = parsePoint(v.at);
      const size = parsePoint(v.size);
      if (!at || !size || at[0] + size[0] > BOARD_SIZE || at[1] + size[1] > BOARD_SIZE) return null;
      return { kind: v.kind, at, size };
    }
    case 'text': {
      const at = parsePoint(v.at);
      const { text } = v;
      if (!at || typeof text !== 'string') return null;
      const chars = [...text];
      // Control characters other than a line feed are refused (as the server does).
      // eslint-disable-next-line no-control-regex
      if (chars.length === 0 || chars.length > BOARD_MAX_TEXT_CHARS || /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(text)) return null;
      return { kind: 'text', at, text };
    }
    default:
      return null;
  }
}

/**
 * One board object as the server relays it (with `author`), or null when malformed or out of
 * the protocol's bounds.
 * @param {unknown} v
 * @returns {BoardObject | null}
 */
export function parseBoardObject(v) {
  if (!isObject(v)) return null;
  const { id, author, color, width } = v;
  if (typeof id !== 'string' || !BOARD_ID_PATTERN.test(id) || typeof author !== 'string') return null;
  if (typeof color !== 'string' || !COLOR_PATTERN.test(color)) return null;
  if (!Number.isInteger(width) || /** @type {number} */ (width) < BOARD_MIN_WIDTH
    || /** @type {number} */ (width) > BOARD_MAX_WIDTH) return null;
  const layer = parseBoardLayer(v.layer);
  const shape = parseShape(v.shape);
  if (!layer || !shape) return null;
  return { id, author, layer, color, width: /** @type {number} */ (width), shape };
}

/**
 * The `board_*` messages from the server (called by `parseServerMessage`).
 * @param {Record<string, unknown>} raw
 * @returns {ServerMessage | null}
 */
function parseBoardMessage(raw) {
  switch (raw.type) {
    case 'board_state': {
      if (!Array.isArray(raw.objects)) return null;
      /** @type {BoardObject[]} */
      const objects = [];
      for (const o of raw.objects) {
        const parsed = parseBoardObject(o);
        if (!parsed) return null;
        objects.push(parsed);
      }
      return { type: 'board_state', objects };
    }
    case 'board_add':
    case 'board_update': {
      const object = parseBoardObject(raw.object);
      if (!object) return null;
      return { type: raw.type, object };
    }
    case 'board_remove':
      if (typeof raw.id !== 'string') return null;
      return { type: 'board_remove', id: raw.id };
    case 'board_clear': {
      const layer = parseBoardLayer(raw.layer);
      if (!layer) return null;
      if (raw.author !== undefined && raw.author !== null && typeof raw.author !== 'string') return null;
      /** @type {ServerBoardClearMessage} */
      const msg = { type: 'board_clear', layer };
      if (typeof raw.author === 'string') msg.author = raw.author;
      return msg;
    }
    default:
      return null;
  }
}
