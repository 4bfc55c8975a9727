// The meeting's controls beyond microphone and camera: chat, participants, raised hands,
// reactions, moderation (sent and received), room password, invitations and keyboard
// shortcuts. meeting.js creates them once the participant is in the room (`welcome`) and
// disposes of them when the meeting ends; they subscribe to the signaling messages they need
// (the Signaling dispatches each message to every subscriber) and keep one RoomState.
//
// Where they appear: toolbar buttons before #hangup, top-bar buttons beside #copy-link, the
// side panels beside the tiles, dialogs on <dialog>.

import { t } from '../i18n.js';
import { RoomState } from './roomstate.js';
import { PanelGroup } from './panel.js';
import { createChat } from './chat.js';
import { createParticipants } from './participants.js';
import { createHands } from './hands.js';
import { createReactions } from './reactions.js';
import { createPasswordControls } from './password.js';
import { createInvite } from './invite.js';
import { installShortcuts } from './shortcuts.js';
import { onMuted } from './moderation.js';
import { announce } from './announcer.js';

/** @typedef {import('../protocol.js').ParticipantInfo} ParticipantInfo */
/** @typedef {import('../protocol.js').Role} Role */

/**
 * What the meeting lends the controls.
 * @typedef {object} ControlsContext
 * @property {string} room
 * @property {import('../signaling.js').Signaling} sig
 * @property {import('./meetingview.js').MeetingView} view
 * @property {ParticipantInfo} me                   This participant, at `welcome`.
 * @property {ParticipantInfo[]} participants       The others, at `welcome`.
 * @property {(kind: 'audio' | 'video') => void} turnOff  Turn the microphone or camera off
 *   (track disabled, toolbar, `media_state`), for a moderator's `muted`.
 * @property {(role: Role) => void} setRole         This participant's role changed.
 * @property {() => void} toggleMic
 * @property {() => void} toggleCamera
 * @property {() => void} hangup
 */

/**
 * @typedef {object} Controls
 * @property {(me: ParticipantInfo) => void} localChanged  This participant's microphone,
 *   camera or role changed (meeting.js calls it).
 * @property {(participants: ParticipantInfo[]) => void} resync  The room as the server
 *   describes it after this participant took its place back (`resume`): the others now.
 * @property {() => void} dispose
 */

/**
 * @param {ControlsContext} ctx
 * @returns {Controls}
 */
export function createControls(ctx) {
  const { sig, view } = ctx;
  const state = new RoomState(ctx.me, ctx.participants);
  const panels = new PanelGroup(view.side);

  const password = createPasswordControls(state, sig);
  const chat = createChat(panels, state, sig);
  const participants = createParticipants(panels, state, sig, password.controls);
  const hands = createHands(state, sig, view.tiles);
  const reactions = createReactions(state, sig, view.tiles);
  const invite = createInvite(ctx.room, state);
  const shortcuts = installShortcuts({
    mic: ctx.toggleMic,
    camera: ctx.toggleCamera,
    chat: () => chat.panel.toggle(),
    participants: () => participants.panel.toggle(),
    hand: hands.toggle,
    hangup: ctx.hangup,
  });

  // Toolbar: after the devices, before hanging up.
  const toolbar = view.toolbar.root;
  const tools = [hands.button, reactions.root, chat.panel.button, participants.panel.button];
  const hangup = toolbar.querySelector('#hangup');
  if (hangup) hangup.before(...tools);
  else toolbar.append(...tools);
  // Top bar: the lock first, then the invitation and the shortcuts' help after #copy-link.
  view.barActions.prepend(password.indicator);
  view.barActions.append(invite.button, shortcuts.button);

  const offs = [
    sig.on('participant_joined', (msg) => {
      if (msg.participant.id !== state.me.id) state.put(msg.participant);
    }),
    sig.on('participant_updated', (msg) => {
      const p = msg.participant;
      if (p.id !== state.me.id) {
        const before = state.others.get(p.id);
        state.put(p);
        if (before && before.role !== p.role && p.role === 'moderator') {
          announce(t('moderation.promoted', { name: p.name }));
        }
        return;
      }
      // About this participant: the server tells its role (a promotion); the local tracks
      // stay the truth for its microphone and camera.
      if (p.role !== state.me.role) {
        ctx.setRole(p.role);
        if (p.role === 'moderator') announce(t('moderation.youArePromoted'));
      }
    }),
    sig.on('participant_left', (msg) => state.drop(msg.id)),
    sig.on('hands', (msg) => state.setHands(msg.queue)),
    sig.on('room_state', (msg) => state.setLocked(msg.locked)),
    sig.on('muted', (msg) => onMuted(msg, ctx.turnOff, (text, key) => view.notify(text, key))),
  ];

  return {
    localChanged: (me) => {
      const before = state.me;
      state.setMe(me);
      // Turned back on: the moderator's notice has been dealt with.
      if (me.audio && !before.audio) view.root.querySelector('[data-key="muted-audio"]')?.remove();
      if (me.video && !before.video) view.root.querySelector('[data-key="muted-video"]')?.remove();
    },
    resync: (participants) => {
      const present = new Set(participants.map((p) => p.id));
      for (const id of [...state.others.keys()]) if (!present.has(id)) state.drop(id);
      for (const p of participants) if (p.id !== state.me.id) state.put(p);
    },
    dispose: () => {
      for (const off of offs) off();
      // A confirmation left open when the meeting ends answers "no" and goes.
      const confirm = document.getElementById('confirm-dialog');
      if (confirm instanceof HTMLDialogElement) confirm.close();
      for (const part of [chat, participants, hands, reactions, password, invite, shortcuts]) part.dispose();
    },
  };
}
