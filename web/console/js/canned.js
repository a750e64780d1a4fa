// Canned responses in the reply box: typing `/` at the start of a word opens
// a list filtered by what follows. Pure functions (tested in Node).

// The `/query` being typed before the caret, or null: { start, query }.
export function slashQuery(text, caret = text.length) {
  const before = text.slice(0, caret);
  const m = before.match(/(^|\s)\/([^\s/]*)$/u);
  if (!m) return null;
  return { start: caret - m[2].length - 1, end: caret, query: m[2].toLowerCase() };
}

// Best matches first: shortcut prefix, then shortcut, title or text containing the query.
export function matchCanned(list, query, limit = 8) {
  const q = (query ?? '').toLowerCase();
  const rank = (c) => {
    const s = (c.shortcut ?? '').toLowerCase();
    if (s.startsWith(q)) return 0;
    if (s.includes(q)) return 1;
    if ((c.title ?? '').toLowerCase().includes(q)) return 2;
    if ((c.text ?? '').toLowerCase().includes(q)) return 3;
    return -1;
  };
  return list.map((c) => [rank(c), c]).filter(([r]) => r >= 0)
    .sort((a, b) => a[0] - b[0] || String(a[1].shortcut).localeCompare(String(b[1].shortcut)))
    .slice(0, limit).map(([, c]) => c);
}

// Replaces the `/query` with the response's text: { text, caret }.
export function insertCanned(text, q, item) {
  const value = text.slice(0, q.start) + item.text + text.slice(q.end);
  return { text: value, caret: q.start + item.text.length };
}

// The next highlighted index for ArrowUp/ArrowDown (wrapping), Home/End.
export function moveActive(index, count, key) {
  if (count === 0) return -1;
  if (key === 'ArrowDown') return (index + 1) % count;
  if (key === 'ArrowUp') return (index - 1 + count) % count;
  if (key === 'Home') return 0;
  if (key === 'End') return count - 1;
  return index;
}
