// Pre-join panel: display name (remembered), camera preview, "Rejoindre la réunion".
// The capture started here for the preview is handed over to the meeting, not asked for twice.

import { t } from '../i18n.js';
import { acquireLocalMedia, stopLocalMedia } from '../media.js';
import { parseDisplayName } from '../displayname.js';
import { loadDisplayName, saveDisplayName } from '../storage.js';
import { setState } from '../hooks.js';
import { el } from './dom.js';
import { mediaNotice } from './medianotice.js';
import { homeLink } from './screens.js';

/** @typedef {import('../media.js').LocalMedia} LocalMedia */

/**
 * @param {HTMLElement} root
 * @param {string} room                Normalised room name.
 * @param {string | null} nameParam    `?name=` from the URL, preferred to the remembered name.
 * @param {(name: string, media: LocalMedia) => void} onJoin  Takes ownership of `media`.
 * @returns {() => void}  Disposer: stops the preview unless it was handed over.
 */
export function renderPrejoin(root, room, nameParam, onJoin) {
  setState('prejoin');
  document.title = t('prejoin.pageTitle', { room });

  let handedOver = false;
  let disposed = false;
  const mediaPromise = acquireLocalMedia();

  const video = el('video', {
    className: 'preview-video',
    attrs: { autoplay: '', playsinline: '', muted: '', 'aria-label': t('prejoin.preview.label') },
  });
  video.muted = true;
  video.playsInline = true;
  const previewStatus = el('p', { className: 'preview-status', text: t('prejoin.preview.loading') });
  const preview = el('div', { className: 'preview', data: { video: 'off' } }, [video, previewStatus]);
  const notices = el('div', { className: 'prejoin-notices' });

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
  const join = el('button', {
    id: 'prejoin-join',
    className: 'btn btn-primary',
    text: t('prejoin.join'),
    attrs: { type: 'submit' },
  });

  const form = el('form', { className: 'prejoin-form', attrs: { novalidate: '' } }, [
    el('label', { className: 'label', text: t('prejoin.name.label'), attrs: { for: 'display-name' } }),
    el('p', { id: 'display-name-hint', className: 'hint', text: t('prejoin.name.hint') }),
    input,
    error,
    el('div', { className: 'actions' }, [join]),
  ]);

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
    el('div', { className: 'prejoin-grid' }, [preview, form]),
    notices,
    el('p', { className: 'prejoin-home' }, [homeLink('link')]),
  ]));
  input.focus();

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
    const notice = mediaNotice(media);
    if (notice) notices.replaceChildren(notice);
  });

  return () => {
    disposed = true;
    video.srcObject = null;
    if (!handedOver) mediaPromise.then(stopLocalMedia);
  };
}
