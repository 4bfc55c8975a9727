// #browser-notice: shown above every page (not in the meeting itself) when the browser cannot
// take part (WebRTC missing), is too old, or is not one of the supported browsers (recent
// Chromium-based browsers and Firefox, per the product FAQ). Checked once at start-up.

import { t } from '../i18n.js';
import { checkBrowser, detectFeatures } from '../browsercheck.js';
import { el } from './dom.js';
import { icon } from './icons.js';

/**
 * Insert the notice before #app when needed; `data-status` says why (`unsupported`,
 * `outdated`, `other`). Returns the verdict.
 * @returns {import('../browsercheck.js').BrowserVerdict}
 */
export function showBrowserNotice() {
  const verdict = checkBrowser(navigator.userAgent, detectFeatures());
  document.getElementById('browser-notice')?.remove();
  if (verdict.status === 'ok') return verdict;
  const status = verdict.status;
  const text = t(`browser.${status}.text`, { version: verdict.version ?? '?' });
  const notice = el('section', {
    id: 'browser-notice',
    className: 'notice notice-warning browser-notice',
    attrs: { role: status === 'unsupported' ? 'alert' : 'status', 'aria-labelledby': 'browser-notice-title' },
    data: { status },
  }, [
    icon('warning', 'icon notice-icon'),
    el('div', { className: 'notice-body' }, [
      el('h2', { id: 'browser-notice-title', className: 'notice-lead browser-notice-title', text: t(`browser.${status}.title`) }),
      el('p', { text }),
    ]),
  ]);
  if (status !== 'unsupported') {
    notice.append(el('button', {
      className: 'notice-close',
      text: '×',
      attrs: { type: 'button', 'aria-label': t('meeting.dismiss'), title: t('meeting.dismiss') },
      on: { click: () => notice.remove() },
    }));
  }
  document.getElementById('app')?.before(notice);
  return verdict;
}
