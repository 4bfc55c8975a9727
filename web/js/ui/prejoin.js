// Pre-join panel: display name (remembered), camera preview, then how to enter.
// The capture started here for the preview is handed over to the meeting, not asked for twice.
//
// An agent (its network, or an e-mail verified earlier: `/api/session`) simply joins. Anyone
// else gets the two choices of the product FAQ: "Je suis agent de l'État : je vérifie mon
// adresse professionnelle" (the e-mail check, agentpanel.js, then they join as an agent) or
// "Rejoindre en invité" (#prejoin-join: the server lets them in once an agent opened the room).

import { t } from '../i18n.js';
import { acquireLocalMedia, stopLocalMedia } from '../media.js';
import { captureConstraints, loadDevicePrefs } from '../devices.js';
import { createPrejoinDevices } from './prejoindevices.js';
import { parseDisplayName } from '../displayname.js';
import { loadDisplayName, saveDisplayName } from '../storage.js';
import { setState } from '../hooks.js';
import { fetchSession } from '../api.js';
import { el } from './dom.js';
import { mediaNotice } from './medianotice.js';
import { homeLink } from './screens.js';
import { createAgentPanel } from './agentpanel.js';
import { signedInLine } from './session.js';

/** @typedef {import('../media.js').LocalMedia} LocalMedia */
/** @typedef {import('../auth.js').Session} Session */

/**
 * @typedef {object} PrejoinOptions
 * @property {boolean} [openAgent]  Open the e-mail check at once (from the waiting screen's
 *   "I am the organiser").
 */

/**
 * @param {HTMLElement} root
 * @param {string} room                Normalised room name.
 * @param {string | null} nameParam    `?name=` from the URL, preferred to the remembered name.
 * @param {(name: string, media: LocalMedia) => void} onJoin  Takes ownership of `media`.
 * @param {PrejoinOptions} [options]
 * @returns {() => void}  Disposer: stops the preview unless it was handed over.
 */
export function renderPrejoin(root, room, nameParam, onJoin, options = {}) {
  setState('prejoin');
  document.title = t('prejoin.pageTitle', { room });

  let handedOver = false;
  let disposed = false;
  const mediaPromise = acquireLocalMedia(captureConstraints(loadDevicePrefs()));

  const video = el('video', {
    className: 'preview-video',
    attrs: { autoplay: '', playsinline: '', muted: '', 'aria-label': t('prejoin.preview.label') },
  });
  video.muted = true;
  video.playsInline = true;
  const previewStatus = el('p', { className: 'preview-status', text: t('prejoin.preview.loading') });
  const preview = el('div', { className: 'preview', data: { video: 'off' } }, [video, previewStatus]);
  const notices = el('div', { className: 'prejoin-notices' });
  // Toggles, microphone level, device drop-downs (prejoindevices.js).
  const devices = createPrejoinDevices({ mediaPromise, video, preview, previewStatus, notices });

  const input = el('input', {
    id: 'display-name',
    attrs: {
      type: 'text',
      name: 'name',
      autocomplete: 'name',
      required: '',
      'aria-describedby': 'display-name-hint display-name-error',
    },
  });
  input.value = nameParam ?? loadDisplayName();
  const error = el('p', { id: 'display-name-error', className: 'field-error', attrs: { 'aria-live': 'polite' } });
  // Outside the form (the e-mail check has forms of its own, which cannot nest), tied to it by
  // its `form` attribute.
  const join = el('button', {
    id: 'prejoin-join',
    className: 'btn btn-primary',
    text: t('prejoin.join'),
    attrs: { type: 'submit', form: 'prejoin-form' },
  });

  const panel = createAgentPanel({
    onVerified: (session) => {
      showSession(session);
      // "then they are an agent and join": the same path as a click on "Rejoindre".
      form.requestSubmit();
    },
  });
  const agentChoice = el('button', {
    id: 'agent-verify',
    className: 'btn btn-secondary btn-choice',
    text: t('prejoin.agent'),
    attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': 'agent-panel' },
  });
  agentChoice.addEventListener('click', () => {
    if (panel.isOpen()) {
      panel.close();
      agentChoice.setAttribute('aria-expanded', 'false');
    } else {
      panel.open();
      agentChoice.setAttribute('aria-expanded', 'true');
    }
  });
  const joinSlot = el('div', { className: 'actions' });
  // The two choices, in the FAQ's order; the e-mail check unfolds under the first.
  const choices = el('div', {
    className: 'prejoin-choices',
    attrs: { role: 'group', 'aria-labelledby': 'prejoin-choice-title' },
  }, [
    el('h2', { id: 'prejoin-choice-title', className: 'choice-title', text: t('prejoin.choice.title') }),
    el('p', { className: 'hint', text: t('prejoin.choice.intro') }),
    el('div', { className: 'choice' }, [agentChoice, panel.root]),
    el('p', { className: 'choice-or', text: t('common.or'), attrs: { 'aria-hidden': 'true' } }),
    joinSlot,
  ]);
  const agentSlot = el('div', { className: 'actions' });
  const sessionSlot = el('div', { className: 'session-slot' });

  const form = el('form', { id: 'prejoin-form', className: 'prejoin-form', attrs: { novalidate: '' } }, [
    el('label', { className: 'label', text: t('prejoin.name.label'), attrs: { for: 'display-name' } }),
    el('p', { id: 'display-name-hint', className: 'hint', text: t('prejoin.name.hint') }),
    input,
    error,
  ]);

  /**
   * Agents get one "Rejoindre la réunion" button; everyone else the two choices.
   * @param {Session | null} session  Null while `/api/session` has not answered.
   */
  const showSession = (session) => {
    const agent = session === null ? !options.openAgent : session.agent;
    form.dataset.agent = session === null ? 'unknown' : String(session.agent);
    choices.hidden = agent;
    if (agent) {
      join.textContent = t('prejoin.join');
      agentSlot.replaceChildren(join);
      panel.close();
      agentChoice.setAttribute('aria-expanded', 'false');
    } else {
      join.textContent = t('prejoin.joinGuest');
      joinSlot.replaceChildren(join);
    }
    const line = session ? signedInLine(session, showSession) : null;
    sessionSlot.replaceChildren(line ?? '');
  };
  showSession(null);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const parsed = parseDisplayName(input.value);
    if (!parsed.ok) {
      const key = /** @type {const} */ ({
        empty: 'prejoin.name.empty', tooLong: 'prejoin.name.tooLong', control: 'prejoin.name.control',
      })[parsed.reason];
      error.textContent = t(key);
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    error.textContent = '';
    input.removeAttribute('aria-invalid');
    saveDisplayName(parsed.name);
    join.disabled = true;
    const media = await mediaPromise;
    if (disposed) return;
    handedOver = true;
    video.srcObject = null;
    onJoin(parsed.name, media);
  });
  input.addEventListener('input', () => {
    if (input.getAttribute('aria-invalid') && parseDisplayName(input.value).ok) {
      input.removeAttribute('aria-invalid');
      error.textContent = '';
    }
  });

  root.replaceChildren(el('section', { className: 'card prejoin', attrs: { 'aria-labelledby': 'prejoin-title' } }, [
    el('h1', { id: 'prejoin-title', text: t('prejoin.title', { room }) }),
    sessionSlot,
    el('div', { className: 'prejoin-grid' }, [el('div', { className: 'prejoin-media' }, [preview, devices.toggles, devices.root]), el('div', { className: 'prejoin-side' }, [form, agentSlot, choices])]),
    notices,
    el('p', { className: 'prejoin-home' }, [homeLink('link')]),
  ]));
  if (options.openAgent) {
    panel.open();
    agentChoice.setAttribute('aria-expanded', 'true');
  } else {
    input.focus();
  }

  fetchSession().then((session) => {
    if (disposed || panel.root.dataset.step === 'verified') return;
    showSession(session);
  });

  mediaPromise.then((media) => {
    if (disposed) return;
    if (media.videoTrack) {
      video.srcObject = new MediaStream([media.videoTrack]);
      video.play().catch(() => { /* muted autoplay is always allowed; nothing to do */ });
      preview.dataset.video = 'on';
      previewStatus.textContent = '';
    } else {
      previewStatus.textContent = t('prejoin.preview.none');
    }
    devices.showPreview();
    const notice = mediaNotice(media, 'prejoin');
    if (notice) notices.replaceChildren(notice);
  });

  return () => {
    disposed = true;
    devices.dispose();
    video.srcObject = null;
    if (!handedOver) mediaPromise.then(stopLocalMedia);
  };
}
