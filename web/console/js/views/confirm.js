// "Are you sure?" before an action that deletes, cannot be undone or messages
// customers. A modal <dialog> like transfer and snooze; Cancel has the focus,
// so Enter or Escape by habit does nothing.
import { h } from './dom.js';
import { t } from '../i18n.js';

let dialog = null;

function build() {
  const d = h('dialog', { id: 'confirm-dialog', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text' },
    h('div', { class: 'dialog-form' },
      h('h2', { id: 'confirm-title' }),
      h('div', { id: 'confirm-text', class: 'confirm-text' }),
      h('p', { id: 'confirm-typed-field', class: 'field', hidden: true },
        h('label', { for: 'confirm-typed', id: 'confirm-typed-label' }),
        h('input', { id: 'confirm-typed', autocomplete: 'off', dir: 'auto' })),
      h('div', { class: 'dialog-buttons' },
        h('button', { type: 'button', id: 'confirm-cancel', onclick: () => d.close('cancel') }, t('cancel')),
        h('button', { type: 'button', id: 'confirm-ok', class: 'primary', onclick: () => d.close('ok') }, t('ok')))));
  document.body.append(d);
  return d;
}

// Resolves true only when the person presses the confirm button.
// `text`: a paragraph per item, each a string or nodes (untrusted names in <bdi>).
// `typed`: { label, accept: [strings] }: the button works only once one of
// them is typed (an action that destroys data is never a stray click).
export function confirmAction({ title, text = [], ok = t('ok'), cancel = t('cancel'), danger = false, typed = null }) {
  dialog ??= build();
  if (dialog.open) return Promise.resolve(false); // one question at a time
  dialog.querySelector('#confirm-title').textContent = title;
  dialog.querySelector('#confirm-text').replaceChildren(...text.map((p) => h('p', {}, p)));
  const okBtn = dialog.querySelector('#confirm-ok');
  okBtn.textContent = ok;
  okBtn.className = danger ? 'danger' : 'primary';
  const field = dialog.querySelector('#confirm-typed-field');
  const input = dialog.querySelector('#confirm-typed');
  const accept = (typed?.accept ?? []).filter(Boolean);
  field.hidden = !typed;
  dialog.querySelector('#confirm-typed-label').textContent = typed?.label ?? '';
  input.value = '';
  okBtn.disabled = !!typed;
  input.oninput = () => { okBtn.disabled = !!typed && !accept.includes(input.value.trim()); };
  dialog.querySelector('#confirm-cancel').textContent = cancel;
  dialog.returnValue = '';
  dialog.showModal();
  dialog.querySelector('#confirm-cancel').focus();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }));
}
