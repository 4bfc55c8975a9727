// The chat panel (#chat-panel, opened by #toggle-chat): messages to everyone or privately to
// one participant (#chat-to), shown as text only, private ones marked; an unread counter
// (#chat-unread) on the button while the panel is closed. Nothing is kept: the messages live in
// this page until the meeting ends.
//
// The server sends every message back to its sender too (a private one to its sender and its
// recipient only): the panel shows what the server sent, so what is shown was delivered.

import { t, tn } from '../i18n.js';
import { MAX_CHAT_CHARS } from '../protocol.js';
import { pushChat } from '../hooks.js';
import { el } from './dom.js';
import { announce } from './announcer.js';

/** @typedef {import('./panel.js').PanelGroup} PanelGroup */
/** @typedef {import('./roomstate.js').RoomState} RoomState */
/** @typedef {import('../signaling.js').Signaling} Signaling */
/** @typedef {import('../protocol.js').ChatMessage} ChatMessage */

/** From this many characters on, the counter under the field shows. */
const COUNTER_FROM = MAX_CHAT_CHARS - 200;

/**
 * @typedef {object} Chat
 * @property {import('./panel.js').SidePanel} panel
 * @property {() => void} dispose
 */

/**
 * @param {PanelGroup} panels
 * @param {RoomState} state
 * @param {Signaling} sig
 * @returns {Chat}
 */
export function createChat(panels, state, sig) {
  let unread = 0;
  const list = el('ol', {
    id: 'chat-messages',
    className: 'chat-messages',
  });
  const empty = el('p', { className: 'chat-empty hint', text: t('chat.empty') });

  const to = el('select', { id: 'chat-to', className: 'chat-to' });
  const input = el('textarea', {
    id: 'chat-input',
    className: 'chat-input',
    attrs: {
      rows: '2',
      maxlength: String(MAX_CHAT_CHARS),
      autocomplete: 'off',
      'aria-describedby': 'chat-hint chat-count',
      enterkeyhint: 'send',
    },
  });
  const count = el('p', { id: 'chat-count', className: 'chat-count hint', attrs: { 'aria-live': 'polite' } });
  const send = el('button', {
    id: 'chat-send',
    className: 'btn btn-primary btn-small',
    text: t('chat.send'),
    attrs: { type: 'submit' },
  });
  const form = el('form', { className: 'chat-form', attrs: { novalidate: '' } }, [
    el('div', { className: 'chat-to-row' }, [
      el('label', { className: 'chat-to-label', text: t('chat.to'), attrs: { for: 'chat-to' } }),
      to,
    ]),
    el('label', { className: 'sr-only', text: t('chat.input'), attrs: { for: 'chat-input' } }),
    input,
    el('p', { id: 'chat-hint', className: 'hint chat-hint', text: t('chat.hint') }),
    el('div', { className: 'chat-send-row' }, [count, send]),
  ]);

  const panel = panels.create({
    id: 'chat-panel',
    buttonId: 'toggle-chat',
    title: t('chat.title'),
    icon: 'chat',
    short: t('chat.short'),
    label: t('chat.open'),
    focusOnOpen: () => input,
    onToggle: (open) => {
      if (!open) return;
      setUnread(0);
      // What came while the panel was closed: show the latest.
      const scroller = list.parentElement;
      if (scroller) scroller.scrollTop = scroller.scrollHeight;
    },
  });
  panel.badge.id = 'chat-unread';
  // The scrolling box is the log (a polite live region, focusable to scroll with the keyboard);
  // the messages inside stay a list (role="log" on the <ol> itself would hide the list).
  panel.body.append(el('div', {
    className: 'chat-scroll',
    attrs: { role: 'log', 'aria-label': t('chat.messages'), tabindex: '0' },
  }, [empty, list]), form);

  /** @param {number} n */
  const setUnread = (n) => {
    unread = n;
    panel.badge.textContent = n > 99 ? '99+' : String(n);
    panel.badge.hidden = n === 0;
    const label = n === 0 ? t('chat.open') : tn('chat.openUnread', n);
    panel.button.setAttribute('aria-label', label);
    panel.button.title = label;
  };

  const updateCount = () => {
    // As `maxlength` counts (UTF-16 code units): never more than the server's limit.
    const n = input.value.length;
    count.hidden = n < COUNTER_FROM;
    count.textContent = t('chat.count', { n, max: MAX_CHAT_CHARS });
  };
  updateCount();

  /** The recipient list: everyone, then each other participant by name. */
  const fillRecipients = () => {
    const chosen = to.value;
    const options = [el('option', { text: t('chat.everyone'), attrs: { value: '' } })];
    for (const p of state.others.values()) {
      options.push(el('option', { text: p.name, attrs: { value: p.id } }));
    }
    to.replaceChildren(...options);
    if (chosen && !state.others.has(chosen)) {
      to.value = '';
      announce(t('chat.recipientLeft'));
    } else {
      to.value = chosen;
    }
    form.dataset.private = to.value ? 'true' : 'false';
  };
  fillRecipients();
  to.addEventListener('change', () => {
    form.dataset.private = to.value ? 'true' : 'false';
  });

  const submit = () => {
    const text = input.value.trim();
    if (text === '') {
      input.focus();
      return;
    }
    const recipient = to.value;
    /** @type {import('../protocol.js').ClientChatMessage} */
    const msg = recipient ? { type: 'chat', text, to: recipient } : { type: 'chat', text };
    if (sig.send(msg)) {
      input.value = '';
      updateCount();
    }
    input.focus();
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit();
  });
  input.addEventListener('input', updateCount);
  input.addEventListener('keydown', (ev) => {
    // Enter sends, Shift+Enter goes to a new line; not while an input method composes.
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      submit();
    }
  });

  /** @param {ChatMessage} msg */
  const show = (msg) => {
    pushChat({ from: msg.from, name: msg.name, text: msg.text, private: msg.private, to: msg.to ?? null });
    const mine = msg.from === state.me.id;
    const time = new Date().toLocaleTimeString(document.documentElement.lang || undefined, {
      hour: '2-digit', minute: '2-digit',
    });
    /** @type {(Node | string)[]} */
    const head = [
      el('span', { className: 'chat-from', text: mine ? t('chat.you') : msg.name }),
      el('span', { className: 'chat-time', text: time }),
    ];
    if (msg.private) {
      const other = mine ? state.get(msg.to ?? '')?.name ?? t('chat.someone') : null;
      head.push(el('span', {
        className: 'chat-private',
        text: other !== null ? t('chat.privateTo', { name: other }) : t('chat.privateFrom'),
      }));
    }
    const item = el('li', {
      className: 'chat-message',
      data: { from: msg.from, private: String(msg.private), mine: String(mine) },
    }, [
      el('p', { className: 'chat-meta' }, head),
      el('p', { className: 'chat-text', text: msg.text }),
    ]);
    if (msg.private && !mine && state.others.has(msg.from)) {
      item.append(el('button', {
        className: 'chat-reply',
        text: t('chat.reply'),
        attrs: { type: 'button', 'aria-label': t('chat.replyTo', { name: msg.name }) },
        on: {
          click: () => {
            to.value = msg.from;
            form.dataset.private = 'true';
            input.focus();
          },
        },
      }));
    }
    const scroller = list.parentElement;
    const atBottom = !scroller || scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
    list.append(item);
    empty.hidden = true;
    if (scroller && (atBottom || mine)) scroller.scrollTop = scroller.scrollHeight;
    if (!mine && !panel.isOpen()) {
      setUnread(unread + 1);
      announce(t(msg.private ? 'chat.announcePrivate' : 'chat.announce', { name: msg.name }));
    }
  };

  const offChat = sig.on('chat', show);
  const offState = state.subscribe((change) => {
    if (change === 'roster') fillRecipients();
  });

  return {
    panel,
    dispose: () => {
      offChat();
      offState();
    },
  };
}
