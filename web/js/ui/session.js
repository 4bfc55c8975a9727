// "Connecté en tant que <email>" with its "Se déconnecter" button (#logout), shown on the home
// page and the pre-join panel to an agent recognised by a verified e-mail address.

import { t } from '../i18n.js';
import { logout } from '../api.js';
import { ANONYMOUS } from '../auth.js';
import { el } from './dom.js';
import { announce } from './announcer.js';

/** @typedef {import('../auth.js').Session} Session */

/**
 * The line for `session`, or null when there is nothing to say (not signed in by e-mail).
 * `onChange` gets the new session after a successful sign-out.
 * @param {Session} session
 * @param {(session: Session) => void} onChange
 * @returns {HTMLElement | null}
 */
export function signedInLine(session, onChange) {
  if (!session.agent || session.via !== 'email' || !session.email) return null;
  const error = el('span', { className: 'field-error session-error', attrs: { role: 'alert' } });
  const button = el('button', {
    id: 'logout',
    className: 'btn btn-secondary btn-small',
    text: t('session.logout'),
    attrs: { type: 'button', title: t('session.logout.label') },
  });
  button.addEventListener('click', async () => {
    button.disabled = true;
    error.textContent = '';
    const res = await logout();
    if (!res.ok) {
      button.disabled = false;
      error.textContent = t('session.logoutFailed');
      return;
    }
    announce(t('session.loggedOut'));
    onChange({ ...ANONYMOUS, zone: session.zone });
  });
  return el('div', { id: 'session-status', className: 'session', data: { via: 'email' } }, [
    el('p', { className: 'session-text', text: t('session.signedIn', { email: session.email }) }),
    button,
    error,
  ]);
}
