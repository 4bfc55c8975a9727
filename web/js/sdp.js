// The few SDP facts the client needs, read and written as plain text (pure: no DOM, no
// RTCPeerConnection), after docs/protocol.md:
// - in the server's offers, each forwarded track's m-section carries
//   `a=msid:<participant id> <participant id>-audio|video|screen|screen-audio`: the track id says
//   whether a track is someone's camera or their shared screen;
// - in the client's offers, the screen-share m-sections must carry the stream id `screen`.
//   No browser lets a page choose a MediaStream's id, so the offer is relabelled before
//   `setLocalDescription` (Chromium 156 and Firefox 153 both accept this change).

/**
 * One m-section: its `a=mid`, media kind and first `a=msid` (stream id, track id).
 * @typedef {object} MediaSection
 * @property {string | null} mid
 * @property {string} kind          `audio`, `video` or `application`.
 * @property {string | null} stream  The msid stream id, null without `a=msid` (or `-`).
 * @property {string | null} track   The msid track id, null without one.
 */

/**
 * The m-sections of a session description, in order.
 * @param {string} sdp
 * @returns {MediaSection[]}
 */
export function mediaSections(sdp) {
  /** @type {MediaSection[]} */
  const out = [];
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    const lines = section.split(/\r?\n/);
    const kind = (lines[0] ?? '').split(' ')[0] ?? '';
    /** @type {MediaSection} */
    const entry = { mid: null, kind, stream: null, track: null };
    for (const line of lines) {
      if (line.startsWith('a=mid:') && entry.mid === null) {
        entry.mid = line.slice(6).trim();
      } else if (line.startsWith('a=msid:') && entry.stream === null) {
        const [stream, track] = line.slice(7).trim().split(/\s+/);
        if (stream && stream !== '-') {
          entry.stream = stream;
          entry.track = track ?? null;
        }
      }
    }
    out.push(entry);
  }
  return out;
}

/**
 * The msid of the m-section whose `a=mid` is `mid`, or null.
 * @param {string} sdp
 * @param {string | null | undefined} mid
 * @returns {{stream: string, track: string | null} | null}
 */
export function msidForMid(sdp, mid) {
  if (mid === null || mid === undefined) return null;
  const section = mediaSections(sdp).find((s) => s.mid === mid);
  return section && section.stream ? { stream: section.stream, track: section.track } : null;
}

/**
 * What a forwarded track carries, from its msid track id (`<participant id>-<label>`).
 * @param {string | null | undefined} trackId
 * @returns {'audio' | 'video' | 'screen' | 'screen-audio' | null}
 */
export function trackLabel(trackId) {
  if (!trackId) return null;
  // Longest suffix first: `-screen-audio` also ends with `-audio`.
  for (const label of /** @type {const} */ (['screen-audio', 'screen', 'audio', 'video'])) {
    if (trackId.endsWith(`-${label}`)) return label;
  }
  return null;
}

/**
 * Rewrite the msid stream id `from` as `to` (in `a=msid:` lines and in the session's
 * `a=msid-semantic` list). Firefox writes stream ids in braces (`{…}`); both forms are matched.
 * @param {string} sdp
 * @param {string} from
 * @param {string} to
 * @returns {string}
 */
export function relabelStream(sdp, from, to) {
  if (!from || from === to) return sdp;
  const bare = from.replace(/^\{|\}$/g, '');
  const ids = [...new Set([from, bare, `{${bare}}`])].map(escapeRegExp).join('|');
  return sdp
    .replace(new RegExp(`^a=msid:(?:${ids})(?=\\s)`, 'gm'), `a=msid:${to}`)
    .replace(/^a=msid-semantic:.*$/gm, (line) =>
      line.replace(new RegExp(`(\\s)(?:${ids})(?=\\s|$)`, 'g'), `$1${to}`));
}

/**
 * @param {string} s
 * @returns {string}
 */
function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
