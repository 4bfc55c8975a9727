// The plain-words message shown when the camera and/or microphone cannot be used, with what to
// do about it (from the product FAQ: browser settings then reload, local IT support, another
// program holding the device).

import { t } from '../i18n.js';
import { el } from './dom.js';
import { icon } from './icons.js';

/**
 * A notice for `media`, or null when every device could be used.
 * @param {import('../media.js').LocalMedia} media
 * @returns {HTMLElement | null}
 */
export function mediaNotice(media) {
  if (!media.missing) return null;
  const lead = {
    both: t('media.error.both'),
    video: t('media.error.video'),
    audio: t('media.error.audio'),
  }[media.missing];

  /** @type {string[]} */
  const tips = [];
  if (!window.isSecureContext) tips.push(t('media.tip.insecure'));
  // Most likely cause first.
  if (media.errorName === 'NotReadableError' || media.errorName === 'AbortError') {
    tips.push(t('media.tip.busy'), t('media.tip.browser'), t('media.tip.support'));
  } else {
    tips.push(t('media.tip.browser'), t('media.tip.support'), t('media.tip.busy'));
  }

  const reload = el('button', {
    className: 'btn btn-secondary btn-small',
    text: t('common.reload'),
    attrs: { type: 'button' },
    on: { click: () => location.reload() },
  });
  return el('div', { className: 'notice notice-warning media-notice', attrs: { role: 'alert' } }, [
    icon('warning', 'icon notice-icon'),
    el('div', { className: 'notice-body' }, [
      el('p', { className: 'notice-lead', text: lead }),
      el('p', { className: 'notice-subtitle', text: t('media.tips.title') }),
      el('ul', {}, tips.map((tip) => el('li', { text: tip }))),
      reload,
    ]),
  ]);
}
