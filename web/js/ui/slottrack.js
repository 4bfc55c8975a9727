// When a slot's track goes (shared by the microphone and camera slots, slotaudio.js and
// slotvideo.js): browsers differ in which of these they report when a server offer stops an
// m-line, so both players watch the events and check again after each negotiation.

/**
 * Calls `gone` when `track` ends or leaves the browser's `slots` stream.
 * @param {MediaStreamTrack} track
 * @param {MediaStream} remoteStream
 * @param {() => void} gone
 */
export function onSlotTrackGone(track, remoteStream, gone) {
  track.addEventListener('ended', gone);
  remoteStream.addEventListener('removetrack', (ev) => {
    if (ev.track === track) gone();
  });
}

/**
 * Whether a slot's track is gone without either event having reached us: it ended, or its
 * transceiver stopped.
 * @param {{track: MediaStreamTrack, transceiver: RTCRtpTransceiver | undefined}} slot
 * @returns {boolean}
 */
export function slotTrackGone(slot) {
  return slot.track.readyState === 'ended' || slot.transceiver?.currentDirection === 'stopped';
}
