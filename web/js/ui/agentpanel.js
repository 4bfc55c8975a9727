// "Je suis agent de l'État : je vérifie mon adresse professionnelle": the two steps of the
// e-mail check (docs/access-policy.md), in the pre-join panel.
//   1. address (#agent-email, #send-code)  → POST /api/auth/code
//   2. code (#agent-code, #verify-code)     → POST /api/auth/verify → the browser is an agent's
// Every refusal gets its own sentence next to the field it is about (`[data-code]` on the
// message holds the server's code), and a dead code offers "get a new code" (#resend-code).

import { t, tn } from '../i18n.js';
import { requestCode, verifyCode } from '../api.js';
import { checkCode, checkEmail, describeAuthError, normalizeCode, normalizeEmail } from '../auth.js';
import { durationUnit } from '../duration.js';
import { el } from './dom.js';

/** @typedef {import('../auth.js').Session} Session */
/** @typedef {import('../auth.js').ApiError} ApiError */

/**
 * @typedef {object} AgentPanel
 * @property {HTMLElement} root   Hidden until `open()`.
 * @property {() => void} open    Show the panel (address step) and focus the address field.
 * @property {() => void} close   Hide it.
 * @property {() => boolean} isOpen
 */

/**
 * @param {{ onVerified: (session: Session) => void }} opts
 * @returns {AgentPanel}
 */
export function createAgentPanel(opts) {
  /** The address the pending code was sent to. */
  let sentTo = '';
  let busy = false;

  // --- step 1: the address
  const email = el('input', {
    id: 'agent-email',
    attrs: {
      type: 'email',
      name: 'email',
      autocomplete: 'email',
      inputmode: 'email',
      autocapitalize: 'none',
      spellcheck: 'false',
      required: '',
      'aria-describedby': 'agent-email-hint agent-email-error',
    },
  });
  const send = el('button', {
    id: 'send-code',
    className: 'btn btn-primary',
    text: t('agent.sendCode'),
    attrs: { type: 'submit' },
  });
  const emailError = el('p', { id: 'agent-email-error', className: 'field-error', attrs: { 'aria-live': 'polite' } });
  const emailForm = el('form', { className: 'agent-form agent-email-form', attrs: { novalidate: '' } }, [
    el('label', { className: 'label', text: t('agent.email.label'), attrs: { for: 'agent-email' } }),
    el('p', { id: 'agent-email-hint', className: 'hint', text: t('agent.email.hint') }),
    el('div', { className: 'field-row' }, [email, send]),
    emailError,
  ]);

  // --- step 2: the code
  const sentText = el('p', { id: 'agent-code-sent', className: 'agent-sent', attrs: { role: 'status' } });
  const code = el('input', {
    id: 'agent-code',
    attrs: {
      type: 'text',
      name: 'code',
      autocomplete: 'one-time-code',
      inputmode: 'numeric',
      autocapitalize: 'none',
      spellcheck: 'false',
      maxlength: '16',
      required: '',
      'aria-describedby': 'agent-code-hint agent-code-error',
    },
  });
  const verify = el('button', {
    id: 'verify-code',
    className: 'btn btn-primary',
    text: t('agent.verify'),
    attrs: { type: 'submit' },
  });
  const codeError = el('p', { id: 'agent-code-error', className: 'field-error', attrs: { 'aria-live': 'polite' } });
  const resend = el('button', {
    id: 'resend-code',
    className: 'btn btn-secondary btn-small',
    text: t('agent.resend'),
    attrs: { type: 'button' },
  });
  const changeEmail = el('button', {
    id: 'change-email',
    className: 'btn btn-secondary btn-small',
    text: t('agent.changeEmail'),
    attrs: { type: 'button' },
  });
  const codeForm = el('form', { className: 'agent-form agent-code-form', attrs: { novalidate: '' } }, [
    sentText,
    el('label', { className: 'label', text: t('agent.code.label'), attrs: { for: 'agent-code' } }),
    el('p', { id: 'agent-code-hint', className: 'hint', text: t('agent.code.hint') }),
    el('div', { className: 'field-row' }, [code, verify]),
    codeError,
    el('div', { className: 'actions actions-small' }, [resend, changeEmail]),
  ]);
  codeForm.hidden = true;

  const root = el('section', {
    id: 'agent-panel',
    className: 'agent-panel',
    attrs: { 'aria-labelledby': 'agent-title' },
  }, [
    el('h2', { id: 'agent-title', className: 'agent-title', text: t('agent.title') }),
    emailForm,
    codeForm,
  ]);
  root.hidden = true;

  /**
   * @param {HTMLElement} target   The error paragraph.
   * @param {HTMLInputElement | null} input  The field to mark invalid, if the error is about it.
   * @param {string} text
   * @param {string} errorCode
   */
  const showError = (target, input, text, errorCode) => {
    target.textContent = text;
    target.dataset.code = errorCode;
    if (input) input.setAttribute('aria-invalid', 'true');
  };

  const clearErrors = () => {
    for (const p of [emailError, codeError]) {
      p.textContent = '';
      delete p.dataset.code;
    }
    email.removeAttribute('aria-invalid');
    code.removeAttribute('aria-invalid');
    resend.classList.remove('btn-attention');
  };

  /**
   * Show the message for a refused request.
   * @param {ApiError} err
   * @param {'email' | 'code'} step
   */
  const showApiError = (err, step) => {
    const d = describeAuthError(err, step);
    const text = 'plural' in d ? tn(d.plural, d.n) : t(d.key, d.params);
    if (d.field === 'email') {
      if (!codeForm.hidden && step === 'code') showStep('email');
      const aboutAddress = err.code === 'bad_email' || err.code === 'domain_not_allowed';
      showError(emailError, aboutAddress ? email : null, text, err.code);
      email.focus();
    } else {
      showError(codeError, d.restart ? null : code, text, err.code);
      if (d.restart) {
        code.value = '';
        resend.classList.add('btn-attention');
        resend.focus();
      } else {
        code.focus();
        code.select();
      }
    }
  };

  /** @param {'email' | 'code'} step */
  const showStep = (step) => {
    emailForm.hidden = step !== 'email';
    codeForm.hidden = step !== 'code';
    root.dataset.step = step;
  };

  /**
   * @param {HTMLButtonElement} button
   * @param {string | null} busyText  Null to restore.
   * @param {string} idleText
   */
  const setBusy = (button, busyText, idleText) => {
    busy = busyText !== null;
    button.disabled = busy;
    button.textContent = busyText ?? idleText;
    root.setAttribute('aria-busy', String(busy));
  };

  /** @param {string} address  Normalised and checked. */
  const sendCode = async (address, button = send, idleText = t('agent.sendCode')) => {
    if (busy) return;
    clearErrors();
    setBusy(button, t('agent.sending'), idleText);
    const res = await requestCode(address);
    setBusy(button, null, idleText);
    if (!res.ok) {
      showApiError(res.error, codeForm.hidden ? 'email' : 'code');
      return;
    }
    sentTo = address;
    const { base, n } = durationUnit(res.value.expiresIn);
    sentText.textContent = t('agent.code.sent', { email: address, duration: tn(base, n) });
    code.value = '';
    showStep('code');
    code.focus();
  };

  emailForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const address = normalizeEmail(email.value);
    const problem = checkEmail(address);
    if (problem) {
      clearErrors();
      showError(emailError, email, t(problem === 'empty' ? 'agent.email.empty' : 'auth.error.bad_email'), problem);
      email.focus();
      return;
    }
    email.value = address;
    sendCode(address);
  });

  codeForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (busy) return;
    const value = normalizeCode(code.value);
    const problem = checkCode(value);
    if (problem) {
      clearErrors();
      showError(codeError, code, t(problem === 'empty' ? 'agent.code.empty' : 'agent.code.invalid'), problem);
      code.focus();
      return;
    }
    clearErrors();
    setBusy(verify, t('agent.verifying'), t('agent.verify'));
    const res = await verifyCode(value, sentTo);
    setBusy(verify, null, t('agent.verify'));
    if (!res.ok) {
      showApiError(res.error, 'code');
      return;
    }
    root.dataset.step = 'verified';
    opts.onVerified(res.value);
  });

  code.addEventListener('input', () => {
    if (code.getAttribute('aria-invalid')) code.removeAttribute('aria-invalid');
  });
  email.addEventListener('input', () => {
    if (email.getAttribute('aria-invalid')) email.removeAttribute('aria-invalid');
  });
  resend.addEventListener('click', () => {
    if (sentTo) sendCode(sentTo, resend, t('agent.resend'));
  });
  changeEmail.addEventListener('click', () => {
    clearErrors();
    showStep('email');
    email.focus();
    email.select();
  });

  showStep('email');
  return {
    root,
    open() {
      root.hidden = false;
      (codeForm.hidden ? email : code).focus();
    },
    close() {
      root.hidden = true;
    },
    isOpen: () => !root.hidden,
  };
}
