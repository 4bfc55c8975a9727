// The invite dialog (#invite opens #invite-dialog): the room's link to copy (through the top
// bar's #copy-link), and for State agents the invitation by e-mail (#invite-emails,
// #invite-send → POST /api/invite) with an optional date, time and length (#invite-date,
// #invite-time, #invite-minutes) and the "add to my calendar" link (#invite-ics → GET /api/ics).
//
// Whether this browser is an agent's is asked of `/api/session` when the dialog opens: a guest
// promoted to moderator is not an agent and may not send invitations (the server says
// `forbidden` anyway). No password is ever sent: the mail says it comes by another way.

import { t, tn } from '../i18n.js';
import { fetchSession } from '../api.js';
import {
  DEFAULT_MINUTES, describeInviteError, icsPath, inviteBody, parseEmailList, parseInviteError,
  parseInviteResult, plannedMinutes, scheduleStart,
} from '../invitation.js';
import { el } from './dom.js';
import { icon } from './icons.js';
import { createDialog } from './dialog.js';

/** @typedef {import('./roomstate.js').RoomState} RoomState */

/** The planned lengths offered, in minutes. */
const LENGTHS = [15, 30, 45, 60, 90, 120, 180, 240];
/** A request left without an answer this long counts as a network failure. */
const TIMEOUT_MS = 60_000;

/**
 * @typedef {object} Invite
 * @property {HTMLButtonElement} button   #invite, for the top bar.
 * @property {() => void} dispose
 */

/**
 * @param {string} room
 * @param {RoomState} state
 * @returns {Invite}
 */
export function createInvite(room, state) {
  const url = `${location.origin}/${room}`;
  const button = el('button', {
    id: 'invite',
    className: 'btn btn-ghost btn-small',
    attrs: { type: 'button', 'aria-haspopup': 'dialog', 'aria-label': t('invite.open'), title: t('invite.open') },
  }, [icon('invite'), el('span', { text: t('invite.short') })]);
  const dialog = createDialog({ id: 'invite-dialog', title: t('invite.title'), className: 'dialog-wide' });

  // The link.
  const link = el('input', {
    id: 'invite-link',
    attrs: { type: 'text', readonly: '', value: url, 'aria-describedby': 'invite-link-hint' },
  });
  link.addEventListener('focus', () => link.select());
  const copy = el('button', {
    id: 'invite-copy',
    className: 'btn btn-secondary btn-small',
    attrs: { type: 'button' },
    // The top bar's button does the copying and says whether it worked.
    on: { click: () => document.getElementById('copy-link')?.click() },
  }, [icon('link'), el('span', { text: t('meeting.copyLink') })]);
  const lockNote = el('p', { className: 'hint invite-lock-note', text: t('invite.passwordNote') });

  // The invitation by e-mail (agents).
  const emails = el('textarea', {
    id: 'invite-emails',
    attrs: { rows: '3', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'invite-emails-hint invite-error' },
  });
  const date = el('input', { id: 'invite-date', attrs: { type: 'date', min: '2000-01-01', max: '2999-12-31' } });
  const time = el('input', { id: 'invite-time', attrs: { type: 'time' } });
  const minutes = el('select', { id: 'invite-minutes' }, LENGTHS.map((n) => el('option', {
    text: tn('count.minutes', n),
    attrs: { value: String(n) },
  })));
  minutes.value = String(DEFAULT_MINUTES);
  const ics = el('a', {
    id: 'invite-ics',
    className: 'btn btn-secondary btn-small',
    attrs: { download: `webconf-${room}.ics` },
  }, [el('span', { text: t('invite.ics') })]);
  const scheduleError = el('p', { id: 'invite-schedule-error', className: 'field-error', attrs: { 'aria-live': 'polite' } });
  const error = el('p', { id: 'invite-error', className: 'field-error', attrs: { role: 'alert' } });
  const result = el('div', { id: 'invite-result', className: 'invite-result', attrs: { role: 'status' } });
  const send = el('button', {
    id: 'invite-send',
    className: 'btn btn-primary',
    text: t('invite.send'),
    attrs: { type: 'submit' },
  });
  const form = el('form', { id: 'invite-form', className: 'invite-form', attrs: { novalidate: '' } }, [
    el('h3', { className: 'dialog-subtitle', text: t('invite.byEmail') }),
    el('label', { className: 'label', text: t('invite.emails.label'), attrs: { for: 'invite-emails' } }),
    el('p', { id: 'invite-emails-hint', className: 'hint', text: t('invite.emails.hint') }),
    emails,
    el('fieldset', { className: 'invite-schedule' }, [
      el('legend', { text: t('invite.schedule') }),
      el('p', { className: 'hint', text: t('invite.schedule.hint') }),
      el('div', { className: 'invite-schedule-row' }, [
        el('div', {}, [el('label', { className: 'label', text: t('invite.date'), attrs: { for: 'invite-date' } }), date]),
        el('div', {}, [el('label', { className: 'label', text: t('invite.time'), attrs: { for: 'invite-time' } }), time]),
        el('div', {}, [el('label', { className: 'label', text: t('invite.minutes'), attrs: { for: 'invite-minutes' } }), minutes]),
      ]),
      scheduleError,
      ics,
    ]),
    error,
    result,
    el('div', { className: 'actions' }, [send]),
  ]);
  const guestNote = el('p', { id: 'invite-agents-only', className: 'hint', text: t('invite.agentsOnly') });
  form.hidden = true;
  guestNote.hidden = true;

  dialog.body.append(
    el('label', { className: 'label', text: t('invite.link'), attrs: { for: 'invite-link' } }),
    el('p', { id: 'invite-link-hint', className: 'hint', text: t('invite.link.hint') }),
    el('div', { className: 'field-row' }, [link, copy]),
    lockNote,
    form,
    guestNote,
  );

  /** The schedule as typed: a UTC start, none, or a problem to show. */
  const schedule = () => scheduleStart(date.value, time.value);
  const updateSchedule = () => {
    const s = schedule();
    ics.hidden = !(s.ok && s.start);
    if (s.ok && s.start) ics.setAttribute('href', icsPath(room, s.start, plannedMinutes(minutes.value)));
    else ics.removeAttribute('href');
    // Say what is missing only once both fields were touched or the form was sent.
    scheduleError.textContent = '';
  };
  for (const f of [date, time, minutes]) {
    f.addEventListener('input', updateSchedule);
    f.addEventListener('change', updateSchedule);
  }
  updateSchedule();

  let sending = false;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (sending) return;
    error.textContent = '';
    delete error.dataset.code;
    result.replaceChildren();
    emails.removeAttribute('aria-invalid');
    const { emails: list, invalid } = parseEmailList(emails.value);
    if (list.length === 0 && invalid.length === 0) {
      showError('empty', t('invite.error.empty'));
      return;
    }
    if (invalid.length > 0) {
      showError('invalid', t('invite.error.invalid', { emails: invalid.join(', ') }));
      return;
    }
    const s = schedule();
    if (!s.ok) {
      scheduleError.textContent = t(s.problem === 'incomplete' ? 'invite.error.incomplete' : 'invite.error.badDate');
      (date.value === '' ? date : time).focus();
      return;
    }
    sending = true;
    send.disabled = true;
    send.textContent = t('invite.sending');
    form.setAttribute('aria-busy', 'true');
    try {
      const answer = await post(inviteBody(room, list, s.start, plannedMinutes(minutes.value)));
      if (answer.ok) {
        showResult(answer.sent, answer.failed.map((i) => list[i]).filter((x) => x !== undefined));
        if (answer.failed.length === 0) emails.value = '';
      } else {
        const d = describeInviteError(answer.error, list);
        const text = d.minutes !== undefined
          ? t(d.key, { time: tn('count.minutes', d.minutes) })
          : t(d.key, d.params);
        showError(answer.error.code, text);
      }
    } finally {
      sending = false;
      send.disabled = false;
      send.textContent = t('invite.send');
      form.removeAttribute('aria-busy');
    }
  });

  /**
   * @param {string} code
   * @param {string} text
   */
  const showError = (code, text) => {
    error.textContent = text;
    error.dataset.code = code;
    emails.setAttribute('aria-invalid', 'true');
    emails.focus();
  };

  /**
   * @param {number} sent
   * @param {string[]} failed  The addresses whose mail could not be sent.
   */
  const showResult = (sent, failed) => {
    result.dataset.sent = String(sent);
    result.dataset.failed = String(failed.length);
    result.replaceChildren(el('p', { className: 'invite-sent', text: tn('invite.sent', sent) }));
    if (failed.length > 0) {
      result.append(el('p', { className: 'invite-failed', text: t('invite.failed', { emails: failed.join(', ') }) }));
    }
  };

  button.addEventListener('click', async () => {
    lockNote.hidden = !state.locked;
    dialog.open(button);
    const session = await fetchSession();
    form.hidden = !session.agent;
    guestNote.hidden = session.agent;
  });
  const off = state.subscribe((change) => {
    if (change === 'locked') lockNote.hidden = !state.locked;
  });

  return {
    button,
    dispose: () => {
      off();
      dialog.close();
      dialog.root.remove();
    },
  };
}

/**
 * `POST /api/invite`. Never rejects.
 * @param {object} body
 * @returns {Promise<{ ok: true, sent: number, failed: number[] }
 *   | { ok: false, error: import('../invitation.js').InviteError }>}
 */
async function post(body) {
  /** @type {Response} */
  let res;
  try {
    res = await fetch('/api/invite', {
      method: 'POST',
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    console.warn('webconf: POST /api/invite failed', err);
    return { ok: false, error: parseInviteError(0, { error: 'network' }) };
  }
  /** @type {unknown} */
  let json;
  try {
    json = await res.json();
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const error = parseInviteError(res.status, json);
    console.warn(`webconf: POST /api/invite answered ${res.status} ${error.code}`);
    return { ok: false, error };
  }
  const parsed = parseInviteResult(json);
  if (!parsed) return { ok: false, error: parseInviteError(res.status, undefined) };
  return { ok: true, ...parsed };
}
