// The meeting's media features, wired onto the meeting view by meeting.js with a handful of
// calls: device switching (devicemenu.js), screen sharing both ways (screenshare.js), layout,
// pinning and the active speaker (layout.js, speaker.js).
//
// meeting.js keeps the signaling and the participant list; it asks `onTrack` first whether a
// remote track is a shared screen or a slot (those never go to a tile by their msid), hands over
// the `slots` table (who speaks in each microphone slot, for the speaking indicator; whose
// camera each camera slot carries, whose tile it goes to), and includes `sharing()` in every
// `media_state`.

import { t } from '../i18n.js';
import { setScreens, setSlots, setSpeakerHook } from '../hooks.js';
import { msidForMid, trackLabel } from '../sdp.js';
import { SlotTable, isSlotStream } from '../slots.js';
import { ActiveSpeaker, watchSpeakers } from '../speaker.js';
import { DeviceControl, applySpeaker } from '../devicecontrol.js';
import { announce } from './announcer.js';
import { el } from './dom.js';
import { createDeviceMenu } from './devicemenu.js';
import { createLayout } from './layout.js';
import { ScreenTiles, createScreenShare } from './screenshare.js';
import { SlotAudio } from './slotaudio.js';
import { SlotVideo } from './slotvideo.js';
import { createViewSender } from './viewsender.js';

/** @typedef {import('../protocol.js').ParticipantInfo} ParticipantInfo */

/**
 * @typedef {object} MediaFeaturesOptions
 * @property {import('./meetingview.js').MeetingView} view
 * @property {import('./slotvideo.js').SlotTiles} tileGrid  The tiles (tiles.js `TileGrid`): where
 *   camera slots go.
 * @property {import('../media.js').PeerSession} peer
 * @property {import('../media.js').LocalMedia} media
 * @property {() => ParticipantInfo | null} me
 * @property {(id: string) => ParticipantInfo | undefined} participant  Another participant.
 * @property {() => void} sendState  Send `media_state` now (it reads `sharing()`).
 * @property {(kind: 'audio' | 'video') => void} onDeviceAdded  A microphone or camera that
 *   was missing is now there (chosen in the menu): turn it on, enable its toolbar button.
 * @property {() => void} onAutoplayBlocked
 * @property {(msg: import('../protocol.js').ViewMessage) => boolean} [sendView]  Send a `view`
 *   (what is shown, for simulcast and last-N: viewsender.js).
 */

/**
 * @typedef {object} MediaFeatures
 * @property {(participantId: string, track: MediaStreamTrack, stream: MediaStream,
 *   transceiver: RTCRtpTransceiver | undefined) => boolean} onTrack
 *   A remote track arrived: true when it was a shared screen or a slot (handled here).
 * @property {(msg: import('../protocol.js').SlotsMessage) => void} slots  The server's table of
 *   the slots: who speaks in each microphone slot, whose camera each camera slot carries.
 * @property {(mid: string) => string | null | undefined} slotOf  Whose microphone or camera the
 *   slot `mid` carries now, by that table (null: nobody; undefined: not a slot, or not listed yet).
 * @property {() => Array<[string, string | null]>} slotTable  The table's slots, mid →
 *   participant id or null, in the order opened (whose microphone or camera the server forwards
 *   to us now, in which slot).
 * @property {(p: ParticipantInfo, previous: ParticipantInfo | undefined) => void} participantChanged
 * @property {(id: string) => void} participantLeft
 * @property {() => void} resendView  Measure and send the `view` again if the server did not get
 *   the latest (after taking one's place back).
 * @property {() => boolean} sharing  Whether this participant shares its screen.
 * @property {(msg: import('../protocol.js').SpeakersMessage) => void} speakers  The server's
 *   active speaker: the speaker view follows it (the local estimate only until it comes).
 * @property {() => void} resumePlayback
 * @property {() => void} dispose
 */

/**
 * @param {MediaFeaturesOptions} opts
 * @returns {MediaFeatures}
 */
export function attachMediaFeatures(opts) {
  const { view, peer, media } = opts;
  const stage = view.tiles.parentElement ?? view.root;
  const screensEl = el('div', {
    id: 'screens',
    className: 'screens',
    attrs: { role: 'region', 'aria-label': t('screen.region') },
  });
  view.tiles.before(screensEl);

  /** @param {string} id */
  const nameOf = (id) => {
    const me = opts.me();
    if (me && me.id === id) return me.name;
    return opts.participant(id)?.name ?? '';
  };

  // --- Devices
  /** @param {MediaStreamTrack} track */
  const showOwnVideo = (track) => {
    const video = view.tiles.querySelector('.tile[data-local="true"] video');
    if (!(video instanceof HTMLVideoElement)) return;
    const stream = video.srcObject instanceof MediaStream ? video.srcObject : new MediaStream();
    for (const old of stream.getVideoTracks()) if (old !== track) stream.removeTrack(old);
    if (!stream.getTracks().includes(track)) stream.addTrack(track);
    video.srcObject = stream;
    video.play().catch(() => {});
  };
  /** Which devices were missing at the start: choosing one in the menu turns it on. */
  const wasMissing = { audio: !media.audioTrack, video: !media.videoTrack };
  const control = new DeviceControl(media, {
    replaceSenderTrack: (kind, track) => peer.replaceTrack(kind, track),
    onTrackChanged: (kind, track) => {
      if (kind === 'video') showOwnVideo(track);
      const me = opts.me();
      // A device chosen while none was there: the meeting turns it on.
      if (me && ((kind === 'audio' && !me.audio && wasMissing.audio) || (kind === 'video' && !me.video && wasMissing.video))) {
        opts.onDeviceAdded(kind);
      }
      wasMissing[kind] = false;
    },
    onSpeakerChanged: (sinkId) => applySpeaker(stage, sinkId),
  });
  const menu = createDeviceMenu({
    control,
    showError: (notice) => {
      // One device notice at a time (the one shown on entering, or after an earlier switch).
      view.root.querySelector('#device-error')?.remove();
      if (notice) view.notify(notice, 'device-error');
    },
  });

  // --- Screens
  const screenTiles = new ScreenTiles(screensEl, {
    nameOf,
    onChange: (ids) => {
      setScreens(ids);
      screensEl.dataset.count = String(ids.length);
      layout.update();
      applySpeaker(stage, control.speaker);
    },
    onAutoplayBlocked: opts.onAutoplayBlocked,
  });
  const share = createScreenShare({
    peer,
    onChange: (sharing) => {
      opts.sendState();
      announce(t(sharing ? 'screen.started' : 'screen.stopped'));
    },
    onError: (text) => view.notify(text, 'screen-error'),
  });

  // --- Microphone slots: played whatever they carry; the table only says who speaks in them.
  const slotAudio = new SlotAudio(stage, { onAutoplayBlocked: opts.onAutoplayBlocked });
  const slotTable = new SlotTable();
  setSlots(slotTable.toObject());
  // --- Camera slots: each goes into the tile of the participant the table says it carries.
  const slotVideo = new SlotVideo(opts.tileGrid, (mid) => slotTable.get(mid));
  // A server offer that stopped a slot's m-line is applied once signaling is stable again.
  const pruneSlots = () => {
    if (peer.pc.signalingState !== 'stable') return;
    slotAudio.prune();
    slotVideo.prune();
  };
  peer.pc.addEventListener('signalingstatechange', pruneSlots);

  // --- Layout and active speaker
  const layout = createLayout({
    stage,
    tiles: view.tiles,
    screens: screensEl,
    fullscreenTarget: view.root,
    selfId: () => opts.me()?.id ?? null,
    screenIds: () => screenTiles.ids(),
    nameOf,
  });
  const activeSpeaker = new ActiveSpeaker();
  /** @type {Set<string>} */
  let speakingNow = new Set();
  /** @type {string | null} */
  let localDominant = null;
  const showSpeakers = () => {
    const chosen = activeSpeaker.choose(localDominant);
    setSpeakerHook(chosen);
    // One's own face never goes on the stage: the latest other speaker does.
    const selfId = opts.me()?.id ?? null;
    const staged = chosen.active !== selfId ? chosen.active
      : (chosen.recent.find((id) => id !== selfId) ?? localDominant);
    layout.setSpeakers(speakingNow, staged);
  };
  const stopSpeakers = watchSpeakers(peer.pc, {
    self: () => {
      const me = opts.me();
      return me ? { id: me.id, audio: me.audio } : null;
    },
    audible: (id) => opts.participant(id)?.audio ?? false,
    slotOf: (mid) => slotTable.get(mid),
    onUpdate: (state) => {
      speakingNow = state.speaking;
      localDominant = state.dominant;
      showSpeakers();
    },
  });
  const viewSender = opts.sendView
    ? createViewSender({ tiles: view.tiles, screens: screensEl, send: opts.sendView })
    : null;

  // --- Place the controls: screen share and settings before "hang up", layout in the top bar.
  const hangup = view.toolbar.root.querySelector('#hangup');
  for (const button of [share.button, menu.button]) {
    if (hangup) hangup.before(button);
    else view.toolbar.root.append(button);
  }
  view.toolbar.root.after(menu.panel);
  const bar = view.barActions ?? view.root.querySelector('.meeting-bar');
  bar?.prepend(...layout.buttons);

  // Remote sound goes to the chosen speakers, for tiles that come later too.
  const sinkObserver = new MutationObserver(() => applySpeaker(stage, control.speaker));
  if (control.speaker) applySpeaker(stage, control.speaker);
  sinkObserver.observe(view.tiles, { childList: true });
  sinkObserver.observe(screensEl, { childList: true });
  sinkObserver.observe(slotAudio.box, { childList: true });

  return {
    onTrack: (participantId, track, stream, transceiver) => {
      if (isSlotStream(stream.id)) {
        if (track.kind === 'video') slotVideo.attach(track, stream, transceiver);
        else slotAudio.attach(track, stream, transceiver);
        return true;
      }
      const sdp = peer.pc.remoteDescription?.sdp ?? '';
      const label = trackLabel(msidForMid(sdp, transceiver?.mid)?.track);
      if (label !== 'screen' && label !== 'screen-audio') return false;
      if (opts.me()?.id === participantId) return true;
      screenTiles.attach(participantId, track, stream);
      return true;
    },
    participantChanged: (p, previous) => {
      // They stopped sharing: their screen goes even if the server's offer stopping the track
      // is still on its way.
      if (previous?.screen && p.screen === false) screenTiles.remove(p.id);
      if (previous && previous.name !== p.name) screenTiles.rename(p.id);
      if (previous && previous.screen !== p.screen && p.screen !== undefined) {
        announce(t(p.screen ? 'screen.startedBy' : 'screen.stoppedBy', { name: p.name }));
      }
      layout.update();
    },
    participantLeft: (id) => {
      activeSpeaker.forget(id);
      screenTiles.remove(id);
      layout.update();
    },
    sharing: () => share.sharing(),
    speakers: (msg) => {
      activeSpeaker.fromServer(msg);
      showSpeakers();
    },
    slotOf: (mid) => slotTable.get(mid),
    slotTable: () => slotTable.entries(),
    slots: (msg) => {
      slotTable.update(msg.slots);
      setSlots(slotTable.toObject());
      slotVideo.apply();
    },
    resumePlayback: () => {
      screenTiles.resumePlayback();
      slotAudio.resumePlayback();
    },
    resendView: () => viewSender?.update(),
    dispose: () => {
      stopSpeakers();
      viewSender?.dispose();
      sinkObserver.disconnect();
      layout.dispose();
      menu.dispose();
      share.dispose();
      screenTiles.dispose();
      setScreens([]);
      peer.pc.removeEventListener('signalingstatechange', pruneSlots);
      slotAudio.dispose();
      slotVideo.dispose();
      setSlots({});
    },
  };
}
