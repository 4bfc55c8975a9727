// The plain-words message shown when the camera and/or microphone cannot be used
// (#device-error, `data-error` = the getUserMedia error name): what happened, what to do about
// it (from the product FAQ: allow them in the browser's settings then reload; check with local
// IT support that the workstation allows them; plug a device; close the program holding it),
// and that the person can still join with what works, or with nothing.

import { t } from '../i18n.js';
import { deviceErrorName } from '../devices.js';
import { el } from './dom.js';
import { icon } from './icons.js';

/** @typedef {ReturnType<typeof deviceErrorName>} DeviceError */
/** @typedef {'audio' | 'video' | 'both'} Missing */

/**
 * The steps to suggest for one cause, most useful first.
 * @param {DeviceError} error
 * @returns {import('../i18n.js').MessageKey[]}
 */
function steps(error) {
  switch (error) {
    case 'NotAllowedError':
      return ['media.tip.browser', 'media.tip.support'];
    case 'NotFoundError':
      return ['device.step.plug', 'device.step.recognised'];
    case 'NotReadableError':
      return ['media.tip.busy', 'device.step.replug'];
    case 'NotSupportedError':
      return window.isSecureContext ? ['device.step.update'] : ['media.tip.insecure'];
    default:
      return ['media.tip.browser', 'media.tip.busy', 'media.tip.support'];
  }
}

/**
 * The notice for a set of failed devices, or null when nothing failed.
 * @param {{audio?: string | null, video?: string | null}} errors  getUserMedia error names of
 *   the devices that could not be used (absent or null: that one works).
 * @param {'prejoin' | 'meeting' | 'kept'} context  Before joining ("you can still join …"), in
 *   the meeting ("you take part with …"), or another device was chosen and could not be opened
 *   ("the previous one is still used").
 * @returns {HTMLElement | null}
 */
export function deviceErrorNotice(errors, context) {
  const audio = errors.audio ? deviceErrorName(errors.audio) : null;
  const video = errors.video ? deviceErrorName(errors.video) : null;
  if (!audio && !video) return null;
  /** @type {Missing} */
  const missing = audio && video ? 'both' : audio ? 'audio' : 'video';
  const main = /** @type {DeviceError} */ (video ?? audio);

  /** @type {string[]} */
  const leads = [];
  if (audio && video && audio !== video) {
    leads.push(t(`device.error.${audio}.audio`), t(`device.error.${video}.video`));
  } else {
    leads.push(t(`device.error.${main}.${missing}`));
  }
  /** @type {import('../i18n.js').MessageKey[]} */
  const tips = [];
  for (const cause of [video, audio]) {
    if (!cause) continue;
    for (const key of steps(cause)) if (!tips.includes(key)) tips.push(key);
  }
  if (!window.isSecureContext && !tips.includes('media.tip.insecure')) tips.unshift('media.tip.insecure');

  const reload = el('button', {
    className: 'btn btn-secondary btn-small',
    text: t('common.reload'),
    attrs: { type: 'button' },
    on: { click: () => location.reload() },
  });
  return el('div', {
    id: 'device-error',
    className: 'notice notice-warning media-notice',
    attrs: { role: 'alert' },
    data: { error: main, missing, ...(audio ? { audioError: audio } : {}), ...(video ? { videoError: video } : {}) },
  }, [
    icon('warning', 'icon notice-icon'),
    el('div', { className: 'notice-body' }, [
      ...leads.map((text) => el('p', { className: 'notice-lead', text })),
      el('p', { className: 'notice-subtitle', text: t('media.tips.title') }),
      el('ul', {}, tips.map((key) => el('li', { text: t(key) }))),
      el('p', { className: 'device-anyway', text: t(`device.${context}.${missing}`) }),
      reload,
    ]),
  ]);
}

/**
 * The notice after trying another microphone (`audio`) or camera (`video`): the chosen one
 * failed while the previous one still works, or what is still missing, or nothing.
 * @param {import('../media.js').LocalMedia} media  As it is after the attempt.
 * @param {'audio' | 'video'} kind
 * @param {string | null} error  The attempt's getUserMedia error name, null when it worked.
 * @param {'prejoin' | 'meeting'} context
 * @returns {HTMLElement | null}
 */
export function switchNotice(media, kind, error, context) {
  const current = kind === 'audio' ? media.audioTrack : media.videoTrack;
  if (error && current) return deviceErrorNotice({ [kind]: error }, 'kept');
  const errors = {
    audio: media.audioTrack ? null : (media.errors?.audio ?? 'UnknownError'),
    video: media.videoTrack ? null : (media.errors?.video ?? 'UnknownError'),
  };
  if (error) errors[kind] = error;
  return deviceErrorNotice(errors, context);
}

/**
 * The notice for what `acquireLocalMedia` could not get, or null when everything was had.
 * @param {import('../media.js').LocalMedia} media
 * @param {'prejoin' | 'meeting'} [context]
 * @returns {HTMLElement | null}
 */
export function mediaNotice(media, context = 'meeting') {
  if (!media.missing) return null;
  const fallback = media.errorName ?? 'UnknownError';
  const wantAudio = media.missing === 'audio' || media.missing === 'both';
  const wantVideo = media.missing === 'video' || media.missing === 'both';
  return deviceErrorNotice({
    audio: wantAudio ? (media.errors?.audio ?? fallback) : null,
    video: wantVideo ? (media.errors?.video ?? fallback) : null,
  }, context);
}
