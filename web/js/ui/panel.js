// Side panels of the meeting (chat, participants): a toolbar button that opens and closes one
// (aria-expanded, aria-controls), a complementary landmark beside the tiles (over them on a
// phone), Escape to close, focus into the panel on opening and back to its button on closing.
// One panel is open at a time.

import { t } from '../i18n.js';
import { el } from './dom.js';
import { icon } from './icons.js';

/** @typedef {import('./icons.js').IconName} IconName */

/**
 * @typedef {object} SidePanel
 * @property {HTMLElement} root        The <aside>.
 * @property {HTMLElement} body        Where the panel's content goes.
 * @property {HTMLButtonElement} button  Its toolbar button.
 * @property {HTMLElement} badge       A counter on the button (hidden while empty).
 * @property {() => boolean} isOpen
 * @property {(focus?: boolean) => void} open
 * @property {(focus?: boolean) => void} close
 * @property {() => void} toggle
 */

export class PanelGroup {
  /** @param {HTMLElement} host  The view's `side` container. */
  constructor(host) {
    /** @private */ this.host = host;
    /** @private @type {SidePanel[]} */ this.panels = [];
  }

  /**
   * @param {object} opts
   * @param {string} opts.id          The panel's id (#chat-panel).
   * @param {string} opts.buttonId    The toolbar button's id (#toggle-chat).
   * @param {string} opts.title
   * @param {IconName} opts.icon
   * @param {string} opts.short       The button's visible label.
   * @param {string} opts.label       The button's accessible name ("Ouvrir la discussion").
   * @param {(panel: SidePanel) => HTMLElement | null} [opts.focusOnOpen]  What gets the focus.
   * @param {(open: boolean) => void} [opts.onToggle]
   * @returns {SidePanel}
   */
  create(opts) {
    const titleId = `${opts.id}-title`;
    const body = el('div', { className: 'side-panel-body' });
    const closeButton = el('button', {
      className: 'side-panel-close',
      text: '×',
      attrs: { type: 'button', 'aria-label': t('panel.close', { title: opts.title }), title: t('panel.close', { title: opts.title }) },
    });
    const root = el('aside', {
      id: opts.id,
      className: 'side-panel',
      attrs: { 'aria-labelledby': titleId },
    }, [
      el('div', { className: 'side-panel-head' }, [
        el('h2', { id: titleId, className: 'side-panel-title', text: opts.title, attrs: { tabindex: '-1' } }),
        closeButton,
      ]),
      body,
    ]);
    root.hidden = true;
    const badge = el('span', { className: 'tool-badge', attrs: { 'aria-hidden': 'true' } });
    badge.hidden = true;
    const button = el('button', {
      id: opts.buttonId,
      className: 'tool tool-panel',
      attrs: {
        type: 'button', 'aria-expanded': 'false', 'aria-controls': opts.id, 'aria-label': opts.label, title: opts.label,
      },
    }, [icon(opts.icon), el('span', { className: 'tool-text', text: opts.short }), badge]);

    /** @type {SidePanel} */
    const panel = {
      root,
      body,
      button,
      badge,
      isOpen: () => !root.hidden,
      open: (focus = true) => {
        if (!root.hidden) return;
        for (const other of this.panels) if (other !== panel) other.close(false);
        root.hidden = false;
        button.setAttribute('aria-expanded', 'true');
        this.host.dataset.open = opts.id;
        opts.onToggle?.(true);
        if (focus) {
          const target = opts.focusOnOpen?.(panel) ?? root.querySelector('h2');
          if (target instanceof HTMLElement) target.focus();
        }
      },
      close: (focus = true) => {
        if (root.hidden) return;
        const hadFocus = root.contains(document.activeElement);
        root.hidden = true;
        button.setAttribute('aria-expanded', 'false');
        if (this.host.dataset.open === opts.id) delete this.host.dataset.open;
        opts.onToggle?.(false);
        if (focus && hadFocus) button.focus();
      },
      toggle: () => (panel.isOpen() ? panel.close() : panel.open()),
    };
    button.addEventListener('click', () => panel.toggle());
    closeButton.addEventListener('click', () => panel.close());
    root.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && !ev.defaultPrevented) {
        ev.preventDefault();
        panel.close();
        button.focus();
      }
    });
    this.panels.push(panel);
    this.host.append(root);
    return panel;
  }
}
