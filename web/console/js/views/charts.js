// Hand-written SVG charts for the reports dashboard: a line chart over time
// and horizontal bar charts. The geometry is pure (tested in Node); the
// svg* functions build the elements. Every chart has a <title> and <desc>
// for assistive tech; labels in Persian or Arabic are laid out right to
// left and anchored at the same edge as Latin ones.

import { t } from '../i18n.js';

const SVG = 'http://www.w3.org/2000/svg';
let uid = 0;

// Duration for people in the console's language: "45 s", "40 min", "1 h 10 min", "2 d 3 h"
// ("۱ ساعت و ۱۰ دقیقه"); "—" for none.
export function formatDuration(ms) {
  if (ms == null || !Number.isFinite(ms)) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return t('dur.s', { n: s });
  const min = Math.round(s / 60);
  if (min < 60) return t('dur.min', { n: min });
  const h = Math.floor(min / 60), m = min % 60;
  const d = Math.floor(h / 24), hh = h % 24;
  const [big, small] = h < 48 ? [t('dur.h', { n: h }), m && t('dur.min', { n: m })] : [t('dur.d', { n: d }), hh && t('dur.h', { n: hh })];
  return small ? big + t('dur.and') + small : big;
}

export const formatPercent = (v) => (v == null ? '—' : `${Number(v).toFixed(Number.isInteger(v) ? 0 : 1)}%`);

// Text in Arabic script (Persian, Arabic, Urdu) or Hebrew is laid out RTL.
export const isRtl = (text) => /^[^A-Za-z\u00C0-\u024F]*[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/.test(String(text ?? ''));

// A round axis maximum at or above v (1, 2, 5 × 10^n); at least 1.
export function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// Points of each series on a width × height plot area: x by index, y from
// the series' own scale; null values are left out (a gap, not a zero).
export function lineGeometry(values, series, { width, height }) {
  const n = values.length;
  const x = (i) => (n <= 1 ? width / 2 : (i * width) / (n - 1));
  return series.map((s) => {
    const max = niceMax(Math.max(0, ...values.map((v) => s.value(v) ?? 0)));
    const points = [];
    values.forEach((v, i) => {
      const y = s.value(v);
      if (y == null) return;
      points.push({ i, x: x(i), y: height - (y / max) * height, value: y });
    });
    return { ...s, max, points };
  });
}

// Bars of [{label, value}] scaled to `width`.
export function barGeometry(items, width) {
  const max = niceMax(Math.max(0, ...items.map((d) => d.value)));
  return items.map((d) => ({ ...d, length: (d.value / max) * width, max }));
}

// Which labels of n to show on the x axis: all up to 10, else about 8,
// evenly spaced, always the first and the last (the last replaces a
// regular one too close to it, whose label would overlap).
export function tickIndexes(n) {
  if (n <= 10) return [...Array(n).keys()];
  const step = Math.ceil(n / 8);
  const out = [];
  for (let i = 0; i < n; i += step) out.push(i);
  if (out.at(-1) !== n - 1) {
    if (n - 1 - out.at(-1) < step / 2) out.pop();
    out.push(n - 1);
  }
  return out;
}

// ---- SVG elements ------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v != null) e.setAttribute(k, String(v));
  for (const c of children.flat()) if (c != null) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

// A label whose right edge is at x, whatever its script.
function label(x, y, text, extra = {}) {
  const rtl = isRtl(text);
  return el('text', { x, y, direction: rtl ? 'rtl' : 'ltr', 'text-anchor': rtl ? 'start' : 'end', ...extra }, text);
}

function frame(width, height, title, desc, cls) {
  const id = `chart-${++uid}`;
  return el('svg', { class: `chart ${cls}`, viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-labelledby': `${id}-title ${id}-desc`, preserveAspectRatio: 'xMidYMid meet' },
  el('title', { id: `${id}-title` }, title), el('desc', { id: `${id}-desc` }, desc));
}

// values: the period's points; series: [{key, name, value(v), format(y), axis: 'left'|'right'}].
export function svgLineChart(values, series, { title, desc, xLabel }) {
  const W = 720, H = 260, L = 44, R = 64, T = 14, B = 40;
  const plot = { width: W - L - R, height: H - T - B };
  const svg = frame(W, H, title, desc, 'line-chart');
  const geo = lineGeometry(values, series, plot);
  const g = el('g', { transform: `translate(${L} ${T})` });
  svg.append(g);
  for (let k = 0; k <= 4; k++) {
    const y = plot.height - (k / 4) * plot.height;
    g.append(el('line', { class: 'grid', x1: 0, x2: plot.width, y1: y, y2: y }));
  }
  geo.forEach((s, idx) => {
    const axisX = s.axis === 'right' ? plot.width + 6 : -6;
    for (const k of [0, 2, 4]) {
      const y = plot.height - (k / 4) * plot.height + 4;
      const text = s.format((s.max * k) / 4, true);
      g.append(el('text', { class: `axis axis-${s.key}`, x: axisX, y, 'text-anchor': s.axis === 'right' ? 'start' : 'end' }, text));
    }
    const line = el('polyline', { class: `line line-${s.key}`, points: s.points.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ') });
    g.append(line);
    for (const p of s.points) {
      const v = values[p.i];
      g.append(el('circle', { class: `point point-${s.key}`, cx: p.x.toFixed(1), cy: p.y.toFixed(1), r: 3.5, 'data-date': xLabel(v) },
        el('title', {}, `${xLabel(v)}: ${s.name} ${s.format(p.value)}`)));
    }
    if (idx === 0) {
      for (const i of tickIndexes(values.length)) {
        const x = values.length <= 1 ? plot.width / 2 : (i * plot.width) / (values.length - 1);
        g.append(el('text', { class: 'axis axis-x', x: x.toFixed(1), y: plot.height + 18, 'text-anchor': 'middle' }, xLabel(values[i]).slice(5)));
      }
    }
  });
  return svg;
}

// items: [{key, label, value, note?}] as horizontal bars, largest first.
export function svgBarChart(items, { title, desc, format = String }) {
  const W = 360, labelW = 120, valueW = 40, row = 26, T = 6;
  const H = T * 2 + Math.max(1, items.length) * row;
  const svg = frame(W, H, title, desc, 'bar-chart');
  const bars = barGeometry(items, W - labelW - valueW - 16);
  bars.forEach((b, i) => {
    const y = T + i * row;
    const g = el('g', { class: 'bar-row', 'data-key': b.key });
    g.append(label(labelW - 8, y + 18, b.label, { class: 'bar-label' }),
      el('rect', { class: 'bar', x: labelW, y: y + 5, width: Math.max(b.length, b.value > 0 ? 2 : 0).toFixed(1), height: row - 10, rx: 3 },
        el('title', {}, `${b.label}: ${format(b.value)}${b.note ? ` (${b.note})` : ''}`)),
      el('text', { class: 'bar-value', x: labelW + Math.max(b.length, 0) + 6, y: y + 18 }, format(b.value)));
    svg.append(g);
  });
  if (!items.length) svg.append(el('text', { class: 'axis', x: W / 2, y: H / 2 + 4, 'text-anchor': 'middle' }, 'No data'));
  return svg;
}
