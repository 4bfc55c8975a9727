// Home page (`/`): type or generate a room name, see the naming rule checked live, join.
// What the server knows of the browser (`/api/session`) only changes a line of text: an agent
// signed in by e-mail sees its address and "Se déconnecter"; someone outside the State's
// network is told that opening a meeting needs an agent. Joining works the same for all: the
// room page handles the rest.

import { t, tn, formatList } from '../i18n.js';
import { checkRoomName, generateRoomName, MIN_DIGITS, MIN_LENGTH } from '../roomname.js';
import { navigate, langQuery, onLinkClick } from '../nav.js';
import { setState } from '../hooks.js';
import { fetchSession } from '../api.js';
import { el } from './dom.js';
import { signedInLine } from './session.js';

/** @typedef {import('../auth.js').Session} Session */

/** Delay before the live region speaks, so that a fast typist is not interrupted each key. */
const STATUS_DELAY_MS = 300;

/**
 * Render the home page into `root`. Returns the view's disposer.
 * @param {HTMLElement} root
 * @returns {() => void}
 */
export function renderHome(root) {
  setState('home');
  document.title = t('home.pageTitle');

  const input = el('input', {
    id: 'room-name',
    attrs: {
      type: 'text',
      name: 'room',
      autocomplete: 'off',
      autocapitalize: 'none',
      spellcheck: 'false',
      'aria-describedby': 'room-name-hint room-name-rules room-name-status',
    },
  });
  const generate = el('button', {
    id: 'generate',
    className: 'btn btn-secondary',
    text: t('home.generate'),
    attrs: { type: 'button', 'aria-label': t('home.generate.label'), title: t('home.generate.label') },
  });
  const join = el('button', {
    id: 'join',
    className: 'btn btn-primary',
    text: t('home.join'),
    attrs: { type: 'submit' },
  });

  const ruleLength = rule();
  const ruleAlnum = rule();
  const ruleDigits = rule();
  const status = el('p', {
    id: 'room-name-status',
    className: 'status',
    attrs: { 'aria-live': 'polite' },
  });

  const form = el('form', { className: 'home-form', attrs: { novalidate: '' } }, [
    el('label', { className: 'label', text: t('home.roomName.label'), attrs: { for: 'room-name' } }),
    el('p', { id: 'room-name-hint', className: 'hint', text: t('home.roomName.hint') }),
    el('div', { className: 'field-row' }, [input, generate]),
    el('ul', { id: 'room-name-rules', className: 'rules' }, [
      ruleLength.item, ruleAlnum.item, ruleDigits.item,
    ]),
    status,
    el('div', { className: 'actions' }, [join]),
  ]);

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let statusTimer;

  /** @param {boolean} immediate  Speak now (after Generate or a refused submit). */
  const update = (immediate) => {
    const check = checkRoomName(input.value);
    ruleLength.set(check.length >= MIN_LENGTH, t('home.rule.length', { count: check.length }));
    ruleAlnum.set(check.onlyAlnum, t('home.rule.alnum'));
    ruleDigits.set(check.digits >= MIN_DIGITS, t('home.rule.digits', { count: check.digits }));
    const empty = check.normalized === '';
    if (check.valid || empty) input.removeAttribute('aria-invalid');
    form.dataset.valid = String(check.valid);

    const text = statusText(check);
    clearTimeout(statusTimer);
    if (immediate) status.textContent = text;
    else statusTimer = setTimeout(() => { status.textContent = text; }, STATUS_DELAY_MS);
  };

  input.addEventListener('input', () => update(false));
  generate.addEventListener('click', () => {
    input.value = generateRoomName();
    update(true);
    input.focus();
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const check = checkRoomName(input.value);
    if (!check.valid) {
      input.setAttribute('aria-invalid', 'true');
      update(true);
      input.focus();
      return;
    }
    navigate(`/${check.normalized}`);
  });

  const sessionSlot = el('div', { className: 'session-slot' });
  let disposed = false;
  /** @param {Session} session */
  const showSession = (session) => {
    const line = signedInLine(session, (next) => {
      showSession(next);
      input.focus();
    });
    sessionSlot.replaceChildren(
      line ?? (session.agent ? '' : el('p', { id: 'visitor-note', className: 'hint visitor-note', text: t('home.visitor') })),
    );
  };
  fetchSession().then((session) => {
    if (!disposed) showSession(session);
  });

  // Filled before it is in the document, so that the live region does not speak on load.
  update(true);
  root.replaceChildren(el('section', { className: 'card home', attrs: { 'aria-labelledby': 'home-title' } }, [
    el('h1', { id: 'home-title', text: t('home.title') }),
    el('p', { className: 'intro', text: t('home.intro') }),
    sessionSlot,
    form,
    // Connection test (js/ui/testpage.js): a stable target, `/test`.
    el('p', { className: 'hint home-test' }, [
      el('a', { id: 'home-test-link', text: t('home.testLink'), attrs: { href: `/test${langQuery()}` }, on: { click: onLinkClick } }),
      ` ${t('home.testLink.hint')}`,
    ]),
  ]));

  return () => {
    disposed = true;
    clearTimeout(statusTimer);
  };
}

/**
 * One line of the rule checklist, with a hidden "met / not met" for screen readers.
 * @returns {{ item: HTMLLIElement, set: (met: boolean, text: string) => void }}
 */
function rule() {
  const mark = el('span', { className: 'rule-mark', attrs: { 'aria-hidden': 'true' } });
  const text = el('span');
  const state = el('span', { className: 'sr-only' });
  const item = el('li', { className: 'rule' }, [mark, text, state]);
  return {
    item,
    set(met, label) {
      item.dataset.met = String(met);
      mark.textContent = met ? '✓' : '•';
      text.textContent = label;
      state.textContent = ` (${t(met ? 'home.rule.met' : 'home.rule.unmet')})`;
    },
  };
}

/**
 * The sentence of the live region for the current input.
 * @param {import('../roomname.js').RoomNameCheck} check
 * @returns {string}
 */
function statusText(check) {
  if (check.normalized === '') return t('home.status.empty');
  if (!check.onlyAlnum) return t('home.status.invalidChars');
  if (check.valid) return t('home.status.valid', { url: `${location.origin}/${check.normalized}` });
  /** @type {string[]} */
  const parts = [];
  const chars = MIN_LENGTH - check.length;
  const digits = MIN_DIGITS - check.digits;
  if (chars > 0) parts.push(tn('count.chars', chars));
  if (digits > 0) parts.push(tn('count.digits', digits));
  return t('home.status.missing', { parts: formatList(parts) });
}
