// The sign-in form.
import { ApiError, login, session } from '../api.js';
import { $ } from './dom.js';
import { t } from '../i18n.js';

function describe(err) {
  if (!(err instanceof ApiError)) return t('login.failed');
  if (err.status === 401) return t('login.wrong');
  if (err.status === 429) {
    const wait = err.retryAfter ? t('login.retryIn', { n: err.retryAfter }) : t('login.retryMinute');
    return `${t('login.tooMany')} ${wait}`;
  }
  if (err.status === 400) return t('login.missing');
  if (err.status === 0) return err.message;
  if (err.status >= 500) return t('login.server');
  return t('login.failedWhy', { error: err.message });
}

export function mountLogin({ onLoggedIn }) {
  const view = $('#login-view');
  const form = $('#login-form');
  const error = $('#login-error');
  const button = form.querySelector('button[type="submit"]');

  const showError = (text) => {
    error.textContent = text;
    error.hidden = !text;
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = form.elements.login.value.trim();
    const password = form.elements.password.value;
    if (!name || !password) {
      showError(t('login.missing'));
      (name ? form.elements.password : form.elements.login).focus();
      return;
    }
    button.disabled = true;
    form.setAttribute('aria-busy', 'true');
    showError('');
    try {
      const s = session.save(await login(name, password));
      form.elements.password.value = '';
      onLoggedIn(s);
    } catch (err) {
      showError(describe(err));
      form.elements.password.select();
      form.elements.password.focus();
    } finally {
      button.disabled = false;
      form.removeAttribute('aria-busy');
    }
  });

  return {
    show(message = '') {
      view.hidden = false;
      showError(message);
      (form.elements.login.value ? form.elements.password : form.elements.login).focus();
    },
    hide() {
      view.hidden = true;
      showError('');
    },
  };
}
