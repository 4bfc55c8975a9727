// Room page (`/<room>`): invalid name → message; otherwise the pre-join panel, or straight into
// the meeting with `?name=…&autojoin=1` (automated tests, kiosks). Whether this browser may open
// the room is the server's call at `join`: autojoin does not ask `/api/session` first.

import { parseRoomName } from '../roomname.js';
import { parseDisplayName } from '../displayname.js';
import { renderPrejoin } from './prejoin.js';
import { startMeeting } from './meeting.js';
import { renderInvalidRoom } from './screens.js';

/**
 * @param {HTMLElement} root
 * @param {string} rawName  The path segment, percent-decoded.
 * @returns {() => void}    Disposer of whatever is running (preview or meeting).
 */
export function renderRoom(root, rawName) {
  const room = parseRoomName(rawName);
  if (!room) {
    renderInvalidRoom(root, rawName);
    return () => {};
  }
  // One canonical address per room: lower case.
  if (rawName !== room) {
    history.replaceState(null, '', `/${room}${location.search}${location.hash}`);
  }

  const params = new URLSearchParams(location.search);
  const nameParam = params.get('name');
  const auto = params.get('autojoin') === '1' && nameParam !== null ? parseDisplayName(nameParam) : null;

  /** @type {() => void} */
  let dispose = () => {};

  /**
   * @param {string} name
   * @param {import('../media.js').LocalMedia | null} media
   */
  const join = (name, media) => {
    dispose();
    dispose = startMeeting(root, {
      room,
      name,
      media,
      onRejoin: () => join(name, null),
      // After a failure, let the person change their name, unless nobody is there to type it.
      onRetry: () => (auto?.ok ? join(name, null) : prejoin()),
      onVerify: () => prejoin({ openAgent: true }),
    });
  };

  /** @param {import('./prejoin.js').PrejoinOptions} [options] */
  const prejoin = (options) => {
    dispose();
    dispose = renderPrejoin(root, room, nameParam, join, options);
  };

  if (auto?.ok) join(auto.name, null);
  else prejoin();
  return () => dispose();
}
