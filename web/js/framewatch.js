// Pure: is a remote camera still delivering frames? A camera outside last-N gets no frames from
// the server (docs/protocol.md, "Cameras outside last-N"). Chromium mutes a remote track only
// until its first packet: when frames merely stop later, the track stays unmuted and the
// `<video>` would freeze on its last picture. The tile grid samples each remote video's
// decoded-frame counter (`getVideoPlaybackQuality().totalVideoFrames`, which counts even while
// the video is hidden) about once a second and shows the avatar while it stands still.

/** No new frame for this long: the camera is paused (avatar). Generous: a busy machine stutters. */
export const FRAME_STALL_MS = 3000;

/**
 * @typedef {object} FrameWatch
 * @property {number} frames     The counter at the last change.
 * @property {number} changedAt  When it last changed (ms).
 * @property {boolean} stalled   No change for `stallMs` or more.
 */

/**
 * The next state of a watch from one sample. A first sample, or any change of the counter (a
 * new frame, or a reset when the element's source changed), starts a fresh period. A counter
 * the browser does not report (`null`) never stalls.
 * @param {FrameWatch | null} prev
 * @param {number | null} frames
 * @param {number} now
 * @param {number} [stallMs]
 * @returns {FrameWatch}
 */
export function watchFrames(prev, frames, now, stallMs = FRAME_STALL_MS) {
  if (frames === null || !Number.isFinite(frames)) return { frames: -1, changedAt: now, stalled: false };
  if (!prev || frames !== prev.frames) return { frames, changedAt: now, stalled: false };
  return { frames, changedAt: prev.changedAt, stalled: now - prev.changedAt >= stallMs };
}
