// Unit tests of the console's pure helpers (Node only, no browser): the `/`
// canned-response picker, label lists, snooze presets, an edited agent's
// changes, a new campaign's confirmation, channel names and date-times, who
// is typing, and a message's direction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { insertCanned, matchCanned, moveActive, slashQuery } from '../../web/console/js/canned.js';
import { labelList } from '../../web/console/js/store/state.js';
import { snoozeUntil } from '../../web/console/js/views/actions.js';
import { agentChanges, newAgent, teamInUseError } from '../../web/console/js/views/admin.js';
import { splitList } from '../../web/console/js/i18n.js';
import { ApiError } from '../../web/console/js/api.js';
import { campaignBody, campaignSummary, previewSummary } from '../../web/console/js/views/campaigns.js';
import { channelNameBesideIcon, formatDateTime, numberRuns, textDir } from '../../web/console/js/views/dom.js';
import { attachmentUrl } from '../../web/console/js/views/conversation.js';
import {
  LAPSE_MS, REFRESH_MS, TypingBoard, TypingSender, VIEW_CHECK_MS, VIEW_LAPSE_MS, VIEW_REFRESH_MS, ViewingBoard, ViewingSender,
  typingLine, viewersLine,
} from '../../web/console/js/typing.js';

const canned = [
  { id: 'cr_1', shortcut: 'warranty', title: 'Warranty period', text: 'Your warranty lasts 2 years.' },
  { id: 'cr_2', shortcut: 'return', title: 'Returns', text: 'You can return it within 14 days.' },
  { id: 'cr_3', shortcut: 'salam', title: 'سلام', text: 'سلام، چطور می‌توانم کمک کنم؟' },
  { id: 'cr_4', shortcut: 'hours', title: 'Opening hours', text: 'We answer from 9 to 17, warranty desk too.' },
];

test('slashQuery: a / at the start of a word before the caret', () => {
  assert.deepEqual(slashQuery('/'), { start: 0, end: 1, query: '' });
  assert.deepEqual(slashQuery('/war'), { start: 0, end: 4, query: 'war' });
  assert.deepEqual(slashQuery('Hi /Ret'), { start: 3, end: 7, query: 'ret' });
  assert.deepEqual(slashQuery('line\n/sa'), { start: 5, end: 8, query: 'sa' });
  assert.equal(slashQuery('and/or'), null, 'inside a word');
  assert.equal(slashQuery('http://x'), null);
  assert.equal(slashQuery('/war done'), null, 'the word is finished');
  // The caret decides, not the end of the text.
  assert.deepEqual(slashQuery('/wa and more', 3), { start: 0, end: 3, query: 'wa' });
});

test('matchCanned: shortcut prefix first, then shortcut, title and text matches', () => {
  assert.deepEqual(matchCanned(canned, '').map((c) => c.shortcut), ['hours', 'return', 'salam', 'warranty']);
  assert.deepEqual(matchCanned(canned, 'war').map((c) => c.shortcut), ['warranty', 'hours']);
  assert.deepEqual(matchCanned(canned, 'RET').map((c) => c.shortcut), ['return']);
  assert.deepEqual(matchCanned(canned, 'سلام').map((c) => c.shortcut), ['salam']);
  assert.deepEqual(matchCanned(canned, 'zzz'), []);
  assert.equal(matchCanned(canned, '', 2).length, 2);
});

test('insertCanned replaces the /query and puts the caret after the text', () => {
  const text = 'Hello /war thanks';
  const q = slashQuery(text, 10);
  const r = insertCanned(text, q, canned[0]);
  assert.equal(r.text, 'Hello Your warranty lasts 2 years. thanks');
  assert.equal(r.caret, 'Hello Your warranty lasts 2 years.'.length);
});

test('moveActive wraps around', () => {
  assert.equal(moveActive(0, 3, 'ArrowDown'), 1);
  assert.equal(moveActive(2, 3, 'ArrowDown'), 0);
  assert.equal(moveActive(0, 3, 'ArrowUp'), 2);
  assert.equal(moveActive(1, 0, 'ArrowUp'), -1);
});

test('labelList reads comma-joined labels, arrays, and nothing', () => {
  assert.deepEqual(labelList('a,b'), ['a', 'b']);
  assert.deepEqual(labelList(['x']), ['x']);
  assert.deepEqual(labelList(undefined), []);
  assert.deepEqual(labelList(''), []);
  assert.deepEqual(labelList({}), [], 'an empty Lua table');
});

test('snooze presets', () => {
  const now = new Date(2026, 2, 20, 15, 30).getTime();
  assert.equal(snoozeUntil('3600000', '', now), now + 3600000);
  assert.equal(snoozeUntil('tomorrow', '', now), new Date(2026, 2, 21, 9, 0).getTime());
  assert.equal(snoozeUntil('custom', '2026-03-22T10:00', now), new Date(2026, 2, 22, 10, 0).getTime());
  assert.ok(Number.isNaN(snoozeUntil('custom', '', now)));
});

test('teamInUseError: a refused team deletion says what still uses the team; other errors stay as they are', () => {
  const refused = new ApiError(409, 'team_in_use', 'team sales is still in use: ...', 0,
    { code: 'team_in_use', channels: ['shop', 'wa'], rules: [2], open_conversations: 3, queued: 1 });
  const shown = teamInUseError(refused, 'sales').message;
  assert.match(shown, /^Team sales is still in use and was not deleted: /);
  assert.match(shown, /channels shop, wa send their customers to it/);
  assert.match(shown, /routing rules 2 name it/);
  assert.match(shown, /it has 3 open conversations \(1 waiting\)/);
  const other = new ApiError(404, 'not_found', 'no team x');
  assert.equal(teamInUseError(other, 'x'), other);
});

test('agentChanges: only what differs from the agent, the password only when typed', () => {
  const leila = { id: 'ag_leila', login: 'leila', name: 'Leila', role: 'admin', teams: ['support', 'vip'], capacity: 8 };
  const same = { login: 'leila', name: 'Leila', role: 'admin', teams: 'support, vip', capacity: '8', password: '' };
  assert.deepEqual(agentChanges(leila, same), {});
  assert.deepEqual(agentChanges(leila, { ...same, password: 'new-secret-1' }), { password: 'new-secret-1' });
  assert.deepEqual(agentChanges(leila, { ...same, role: 'agent', teams: 'vip', capacity: '3', name: ' Leila A. ' }),
    { role: 'agent', teams: ['vip'], capacity: 3, name: 'Leila A.' });
  // Emptied fields keep the current value (the server refuses an empty name or team list).
  assert.deepEqual(agentChanges(leila, { ...same, name: '', teams: '', capacity: '' }), {});
  assert.deepEqual(agentChanges({ ...leila, teams: undefined, team: 'support' }, { ...same, teams: 'support' }), {});
});

test('newAgent: an empty capacity or team list is left to the server\'s default, not sent as 0 or []', () => {
  const f = { login: 'neda', name: '', role: 'agent', teams: '', capacity: '', password: 'neda-secret-6' };
  assert.deepEqual(newAgent(f), { login: 'neda', name: 'neda', role: 'agent', password: 'neda-secret-6' });
  assert.deepEqual(newAgent({ ...f, teams: 'support، vip', capacity: ' 4 ', password: '' }),
    { login: 'neda', name: 'neda', role: 'agent', teams: ['support', 'vip'], capacity: 4 });
  assert.equal(newAgent({ ...f, capacity: '0' }).capacity, 0, 'a 0 typed is meant');
});

test('list fields split at a Latin or a Persian/Arabic comma (the one Persian and Arabic keyboards write)', () => {
  assert.deepEqual(splitList('warranty، repair'), ['warranty', 'repair']);
  assert.deepEqual(splitList('fa،en, ar'), ['fa', 'en', 'ar']);
  assert.deepEqual(splitList(' 09:00-13:00 ، 14:00-17:00 ,'), ['09:00-13:00', '14:00-17:00']);
  assert.deepEqual(splitList(''), []);
  assert.deepEqual(splitList(undefined), []);
  const sara = { id: 'ag_sara', login: 'sara', name: 'Sara', role: 'agent', teams: ['support'], capacity: 3 };
  assert.deepEqual(agentChanges(sara, { name: 'Sara', role: 'agent', teams: 'support، garanti', capacity: '3' }),
    { teams: ['support', 'garanti'] });
  assert.deepEqual(campaignBody({ name: 'x', kind: 'birthday', languages: 'fa، ar', fallback: 'fa،en' }).audience, { languages: ['fa', 'ar'] });
});

test('campaignSummary: what a new campaign targets; an empty audience is everyone', () => {
  const strip = (xs) => xs.map((x) => x.replace(/[\u2068\u2069]/g, ''));
  const all = strip(campaignSummary(campaignBody({ name: 'Yalda', kind: 'occasion', occasion: 'yalda', text_fa: 'یلدا مبارک', code: 'Y5' })));
  assert.equal(all[0], '"Yalda" (Occasion greeting), with texts in fa, offer code Y5.');
  assert.equal(all[1], 'The audience is empty: it goes to EVERY customer who has not opted out.');
  const some = strip(campaignSummary(campaignBody({ name: 'Fix', kind: 'warranty_ending', days: '30', text_en: 'x', text_fa: 'y',
    languages: 'fa, en', channels: 'whatsapp', tags: 'loyal, vip' })));
  assert.equal(some[0], '"Fix" (Warranty ending), with texts in fa, en.');
  assert.equal(some[1], 'It targets 2 languages (fa, en), 1 channel (whatsapp), 2 tags (loyal, vip); opted-out customers are skipped.');
});

test('previewSummary: messages by channel, the skipped by reason, the days ahead, a partial count, an example; a failed count says so', () => {
  const strip = (xs) => xs.map((x) => x.replace(/[\u2068\u2069]/g, ''));
  const lines = strip(previewSummary({ messages: 130, customers: 120, by_channel: { wa: 30, tg: 100 },
    skipped: { opted_out: 7, no_template: 2 }, complete: false, files_looked_at: 50000, files_total: 80000,
    samples: [{ customer_id: 'cu_9', name: 'سارا', channel: 'tg', text: 'سارا عزیز، یلدا مبارک!' }] }));
  assert.deepEqual(lines, [
    'Run now, it would send 130 messages to 120 customers (100 on tg, 30 on wa).',
    'Skipped: 7 opted out, 2 outside a messenger\'s 24-hour window (no template).',
    'Counted from the first 50,000 of 80,000 customer files.',
    'For example, to سارا on tg: “سارا عزیز، یلدا مبارک!”',
  ]);
  assert.deepEqual(previewSummary({ messages: 0, customers: 0, by_channel: {}, skipped: {}, complete: true, samples: [] }),
    ['Run now, it would send no message: nobody in its audience can be reached.']);
  // A recurring campaign: the days ahead too, with the busiest (the earlier of a tie).
  const ahead = (upcoming) => previewSummary({ messages: 0, customers: 0, by_channel: {}, skipped: {}, complete: true, samples: [], upcoming })[1];
  assert.equal(ahead({ days: 30, messages: 9, by_day: { '2026-12-03': 4, '2026-12-01': 4, '2026-11-30': 1 } }),
    'In the next 30 days: 9 more messages (most on 1 Dec: 4), as the customer files stand now.');
  assert.equal(ahead({ days: 30, messages: 0, by_day: {} }), 'In the next 30 days: no more messages, as the customer files stand now.');
  assert.match(previewSummary(null)[0], /could not be counted/);
});

test('channelNameBesideIcon: nothing when the badge says it; formatDateTime has no seconds', () => {
  assert.equal(channelNameBesideIcon('api', 'api'), '');
  assert.equal(channelNameBesideIcon('api', 'shop'), 'API (shop)');
  assert.equal(channelNameBesideIcon('telegram', 'telegram'), 'Telegram');
  assert.equal(formatDateTime(new Date(2026, 10, 23, 8, 52, 21).getTime()), '23 Nov 2026, 08:52');
});

test('attachmentUrl: a Telegram or WhatsApp file names the message it came in; mail copies and public URLs as they are', () => {
  assert.equal(attachmentUrl({ kind: 'image', provider_ref: 'AgACAgQ-x_1' }, 'tg main', 'cv_7', 12),
    '/api/v1/media/tg%20main/AgACAgQ-x_1?conversation=cv_7&seq=12');
  assert.equal(attachmentUrl({ kind: 'image', provider_ref: 'AgACAgQ' }, 'tg'), '/api/v1/media/tg/AgACAgQ');
  assert.equal(attachmentUrl({ kind: 'document', provider_ref: 'att_x1' }, 'mail', 'cv_7', 3), '/api/v1/attachments/att_x1');
  assert.equal(attachmentUrl({ kind: 'image', provider_ref: 'https://cdn.example.com/p.jpg' }, 'fb', 'cv_7', 3), 'https://cdn.example.com/p.jpg');
  assert.equal(attachmentUrl({ kind: 'image', provider_ref: 'att_m1' }, 'fb', 'cv_7', 3), '/api/v1/attachments/att_m1', 'a Messenger file once copied');
  assert.equal(attachmentUrl({ kind: 'location', provider_ref: 'x' }, 'tg', 'cv_7', 3), null);
  assert.equal(attachmentUrl({ kind: 'image', provider_ref: 'AgACAgQ' }, undefined, 'cv_7', 3), null);
});

test('typing: the customer and other agents, until they send or their refreshes stop', () => {
  let now = 1_000_000;
  const board = new TypingBoard(() => now);
  const line = (conv) => typingLine(board.typing(conv), (id) => ({ ag_2: 'Reza' })[id]);
  assert.equal(line('cv_1'), null);
  board.onFrame({ type: 'typing', conv: 'cv_1', who: 'customer', state: true });
  assert.deepEqual(line('cv_1'), { text: 'The customer is typing…', warn: false });
  assert.equal(line('cv_2'), null, 'another conversation');
  // Two agents on one conversation: a warning, named (from the frame or the directory).
  board.onFrame({ type: 'typing', conv: 'cv_1', who: 'agent', agent_id: 'ag_1', name: 'Sara', state: true });
  board.onFrame({ type: 'typing', conv: 'cv_1', who: 'agent', agent_id: 'ag_2', state: true });
  assert.deepEqual(line('cv_1'), { text: 'The customer is typing… Sara and Reza are also replying here.', warn: true });
  // The customer's message arrives; Reza stops.
  board.onMessage('cv_1', { author: 'customer', text: 'hi' });
  board.onFrame({ type: 'typing', conv: 'cv_1', who: 'agent', agent_id: 'ag_2', state: false });
  assert.deepEqual(line('cv_1'), { text: 'Sara is also replying here.', warn: true });
  // Sara's refreshes stop: the line goes after LAPSE_MS, and nothing is left to watch.
  now += LAPSE_MS - 100;
  assert.equal(board.nextLapse(), 100);
  assert.ok(line('cv_1'));
  now += 100;
  assert.equal(line('cv_1'), null);
  assert.equal(board.nextLapse(), null);
  // Sara's own reply ends her typing at once.
  board.onFrame({ type: 'typing', conv: 'cv_1', who: 'agent', agent_id: 'ag_1', name: 'Sara', state: true });
  board.onMessage('cv_1', { author: 'agent', author_id: 'ag_1' });
  assert.equal(line('cv_1'), null);
});

test('typing: the agent\'s own, throttled, stopped on send, on an empty box and on another conversation', () => {
  let now = 5_000_000;
  const sent = [];
  let online = true;
  const sender = new TypingSender((f) => { if (online) sent.push(f); return online; }, () => now);
  sender.input('cv_1', 'H');
  sender.input('cv_1', 'He');
  assert.deepEqual(sent, [{ type: 'typing', conv: 'cv_1', state: true }], 'one frame per refresh period');
  now += REFRESH_MS;
  sender.input('cv_1', 'Hello');
  assert.equal(sent.length, 2, 'refreshed while typing goes on');
  sender.input('cv_1', '   ');
  assert.deepEqual(sent.at(-1), { type: 'typing', conv: 'cv_1', state: false }, 'an emptied box stops');
  sender.input('cv_1', '');
  assert.equal(sent.length, 3, 'stopped once');
  sender.input('cv_1', 'Hi');
  sender.input('cv_2', 'Hi');
  assert.deepEqual(sent.slice(-3), [
    { type: 'typing', conv: 'cv_1', state: true },
    { type: 'typing', conv: 'cv_1', state: false },
    { type: 'typing', conv: 'cv_2', state: true },
  ], 'moving on stops the first conversation');
  // Offline: nothing counts as sent, so the next keystroke online tries again.
  sender.stop();
  online = false;
  sender.input('cv_3', 'x');
  online = true;
  sender.input('cv_3', 'xy');
  assert.deepEqual(sent.at(-1), { type: 'typing', conv: 'cv_3', state: true });
});

test('viewing: who else has the conversation open, until they leave or their refreshes stop', () => {
  let now = 2_000_000;
  const viewing = new ViewingBoard(() => now);
  const line = (conv) => viewersLine(viewing.viewers(conv), (id) => ({ ag_2: 'Reza' })[id]);
  assert.equal(line('cv_1'), null);
  viewing.onFrame({ type: 'viewing', conv: 'cv_1', agent_id: 'ag_1', name: 'Sara', state: true });
  viewing.onFrame({ type: 'viewing', conv: 'cv_1', agent_id: 'ag_2', state: true });
  assert.equal(line('cv_1'), 'Sara and Reza are also viewing this conversation.');
  assert.equal(line('cv_2'), null);
  // Reza moves on; Sara's refreshes stop and she lapses after VIEW_LAPSE_MS.
  viewing.onFrame({ type: 'viewing', conv: 'cv_1', agent_id: 'ag_2', state: false });
  assert.equal(line('cv_1'), 'Sara is also viewing this conversation.');
  now += VIEW_LAPSE_MS - 1;
  assert.ok(line('cv_1'));
  now += 1;
  assert.equal(line('cv_1'), null);
});

test('viewing: the agent\'s own, refreshed while it stays, ended on another conversation or none', () => {
  let now = 7_000_000;
  const sent = [];
  const sender = new ViewingSender((f) => { sent.push(f); return true; }, () => now);
  sender.update('cv_1');
  sender.update('cv_1');
  assert.deepEqual(sent, [{ type: 'viewing', conv: 'cv_1', state: true }]);
  now += VIEW_REFRESH_MS;
  sender.update('cv_1');
  assert.equal(sent.length, 2, 'refreshed');
  // The console looks every VIEW_CHECK_MS, so refreshes go at most VIEW_REFRESH_MS + VIEW_CHECK_MS apart.
  assert.ok(VIEW_LAPSE_MS > 2 * (VIEW_REFRESH_MS + VIEW_CHECK_MS), 'one lost refresh does not end it for the others');
  sender.update('cv_2');
  sender.update(null);
  assert.deepEqual(sent.slice(2), [
    { type: 'viewing', conv: 'cv_1', state: false },
    { type: 'viewing', conv: 'cv_2', state: true },
    { type: 'viewing', conv: 'cv_2', state: false },
  ]);
  // A new connection: the next update goes at once, without an "off" for the old one.
  sender.update('cv_3');
  sender.forget();
  sender.update('cv_3');
  assert.deepEqual(sent.slice(-2), [{ type: 'viewing', conv: 'cv_3', state: true }, { type: 'viewing', conv: 'cv_3', state: true }]);
});

test('textDir: a message is right to left when most of its letters are Persian or Arabic, whatever its first word', () => {
  assert.equal(textDir('Galaxy S23 شما تا ۱۸ ماه گارانتی دارد.'), 'rtl');
  assert.equal(textDir('iPhone 13 من صفحه‌اش شکسته، گارانتی داره؟'), 'rtl');
  assert.equal(textDir('مرحبا، أريد إرجاع المنتج'), 'rtl');
  assert.equal(textDir('Please deliver it to خیابان ولیعصر tomorrow morning'), 'ltr');
  assert.equal(textDir('۱۲۳۴ 5678 👍'), null, 'no letters: the page\'s direction');
});

test('a file the server is too busy to fetch (503, Retry-After) is asked for again then, and given up after a few tries', async () => {
  const { fetchFile } = await import('../../web/console/js/api.js');
  const answers = [];
  const slept = [];
  const real = globalThis.fetch;
  globalThis.fetch = async () => answers.shift();
  const busy = () => new Response('{"error":{"code":"busy"}}', { status: 503, headers: { 'retry-after': '2' } });
  try {
    answers.push(busy(), busy(), new Response('file bytes', { status: 200, headers: { 'content-type': 'video/mp4' } }));
    const blob = await fetchFile('/api/v1/media/wa/1', { sleep: async (ms) => { slept.push(ms); } });
    assert.equal(await blob.text(), 'file bytes');
    assert.deepEqual(slept, [2000, 2000]);
    answers.push(busy(), busy(), busy(), busy());
    await assert.rejects(fetchFile('/api/v1/media/wa/1', { sleep: async () => {} }), (e) => e.status === 503);
    assert.equal(answers.length, 0, 'four tries, then the agent is told');
  } finally {
    globalThis.fetch = real;
  }
});

test('a file the server cannot fetch keeps its reason\'s code (file_too_big: over what Telegram hands a bot)', async () => {
  const { fetchFile } = await import('../../web/console/js/api.js');
  const real = globalThis.fetch;
  globalThis.fetch = async () => new Response('{"error":{"code":"file_too_big","message":"the file is over 20 MB"}}', { status: 502 });
  try {
    await assert.rejects(fetchFile('/api/v1/media/tg/1'), (e) => e.status === 502 && e.code === 'file_too_big');
    globalThis.fetch = async () => new Response('<html>Bad Gateway</html>', { status: 502 });
    await assert.rejects(fetchFile('/api/v1/media/tg/1'), (e) => e.code === 'http_error' && e.message === 'HTTP 502');
  } finally {
    globalThis.fetch = real;
  }
});

test('numberRuns: digit groups with the spaces, dashes, slashes, dots and colons inside them are one left-to-right run', () => {
  assert.deepEqual(numberRuns('موبایلم 0912 345 6789 هست'), ['موبایلم ', { ltr: '0912 345 6789' }, ' هست']);
  assert.deepEqual(numberRuns('سفارش ۴۵۸۷-۲۲۳۱'), ['سفارش ', { ltr: '۴۵۸۷-۲۲۳۱' }]);
  assert.deepEqual(numberRuns('وهاتفي +966 50 123 4567'), ['وهاتفي ', { ltr: '+966 50 123 4567' }]);
  assert.deepEqual(numberRuns('رقم الطلب ٤٥٦٧ ٨٩٠١.'), ['رقم الطلب ', { ltr: '٤٥٦٧ ٨٩٠١' }, '.']);
  assert.deepEqual(numberRuns('(کد رهگیری 1234 5678 9012).'), ['(کد رهگیری ', { ltr: '1234 5678 9012' }, ').']);
  assert.deepEqual(numberRuns('ساعت 14:30 تا 1402/05/12'), ['ساعت ', { ltr: '14:30' }, ' تا ', { ltr: '1402/05/12' }]);
  // A lone number, a list and a sentence's full stop are left alone; the parts join to the text.
  assert.deepEqual(numberRuns('۲۴ ماه، ۱، ۲ و 3.'), ['۲۴ ماه، ۱، ۲ و 3.']);
  assert.deepEqual(numberRuns(''), []);
});
