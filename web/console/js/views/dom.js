// Tiny DOM helpers. Text is always inserted as text nodes (textContent),
// never parsed as HTML: customer messages are untrusted.
import { locale } from '../i18n.js';

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') { for (const [dk, dv] of Object.entries(v)) if (dv != null) el.dataset[dk] = String(dv); }
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export const $ = (sel, root = document) => root.querySelector(sel);

// Writes that leave the DOM alone when it already says so: a write, even of
// the same text, makes the browser lay the page out again.
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
export function setAttr(el, name, value) {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

// A message's direction by the script most of its letters are in: "Galaxy S23
// شما تا ۱۸ ماه گارانتی دارد." is right to left, though dir="auto" goes by its
// first letter. null (no letters, a tie): the page's. The web chat widget has
// the same rule (textDir in web/widget/widget.js; it is one script on other
// sites, so the two share no file).
export function textDir(text) {
  const rtl = (text.match(/[\u0620-\u064A\u066E-\u06D3\u06FA-\u06FF]/g) ?? []).length;
  const ltr = (text.match(/[A-Za-z\u00C0-\u024F]/g) ?? []).length;
  return rtl > ltr ? 'rtl' : ltr > rtl ? 'ltr' : null;
}

// Digits with spaces, dashes, slashes, dots or colons inside ("0912 345 6789",
// "۴۵۸۷-۲۲۳۱", "+966 50 123 4567") read left to right: after Persian or Arabic
// letters the bidi algorithm would reverse the groups, and an agent would call
// a wrong number. The text, split for display only: strings, and { ltr } for
// each such run. The widget has the same rule (ltrNumbers in web/widget/widget.js).
const DIGITS = '[0-9\u0660-\u0669\u06F0-\u06F9]+';
const NUMBER_RUN = new RegExp(`\\+?${DIGITS}(?:[ \\-/.:\u066B\u066C]${DIGITS})+`, 'g');
export function numberRuns(text) {
  const parts = [];
  let at = 0;
  for (const m of text.matchAll(NUMBER_RUN)) {
    if (m.index > at) parts.push(text.slice(at, m.index));
    parts.push({ ltr: m[0] });
    at = m.index + m[0].length;
  }
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}
// A message's text as children for h(): each number run in a <bdi dir="ltr">,
// each digit group in it an isolate too (Arabic-Indic digits, ٤٥٦٧ ٨٩٠١, keep
// the space between them right to left even in an LTR isolate).
export function ltrNumbers(text) {
  return numberRuns(text).map((p) => (typeof p === 'string' ? p
    : h('bdi', { dir: 'ltr' }, p.ltr.split(new RegExp(`(${DIGITS})`)).map((part, i) => (i % 2 ? h('bdi', {}, part) : part || null)))));
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
}

// In the console's language (a new language reloads the page): 08:52 in
// English, ۰۸:۵۲ in Persian.
const fmt = (options) => new Intl.DateTimeFormat(locale(), options);
const timeFmt = fmt({ hour: '2-digit', minute: '2-digit' });
const dateFmt = fmt({ day: 'numeric', month: 'short' });
const dayTimeFmt = fmt({ day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const fullFmt = fmt({ dateStyle: 'medium', timeStyle: 'medium' });
const dateTimeFmt = fmt({ dateStyle: 'medium', timeStyle: 'short' });

// A date and time in running text ("23 Nov 2026, 08:52"): no seconds.
export const formatDateTime = (ms) => dateTimeFmt.format(new Date(ms));
export const formatTime = (ms) => timeFmt.format(new Date(ms));

// <time> with a short label (the time today; the date otherwise, and the time
// too `withTime`: a message's own moment) and the full date as title.
export function timeEl(ms, { withTime = false } = {}) {
  if (!ms) return null;
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return h('time', { datetime: d.toISOString(), title: fullFmt.format(d) },
    (today ? timeFmt : withTime ? dayTimeFmt : dateFmt).format(d));
}

const CHANNELS = {
  api: ['API', 'API'],
  webchat: ['Web', 'Web chat'],
  email: ['@', 'Email'],
  telegram: ['TG', 'Telegram'],
  whatsapp: ['WA', 'WhatsApp'],
  messenger: ['FB', 'Messenger'],
  instagram: ['IG', 'Instagram'],
};

// A small channel badge; its name is given to assistive tech.
export function channelIcon(kind, channelId) {
  const [short, name] = CHANNELS[kind] ?? ['?', kind || 'unknown channel'];
  const label = channelId && channelId !== kind ? `${name} (${channelId})` : name;
  return h('span', { class: `channel channel-${CHANNELS[kind] ? kind : 'other'}`, title: label, role: 'img', 'aria-label': label }, short);
}

// The channel's name to write beside its badge, or '' when the badge already
// says it (the API badge reads "API": "API API" says nothing more).
export function channelNameBesideIcon(kind, channelId) {
  const name = channelName(kind, channelId);
  return name === CHANNELS[kind]?.[0] ? '' : name;
}

export function channelName(kind, channelId) {
  const name = CHANNELS[kind]?.[1] ?? kind ?? '';
  // Two channels of one kind (two shops on the API) are told apart by id.
  return channelId && channelId !== kind ? `${name} (${channelId})` : name;
}
