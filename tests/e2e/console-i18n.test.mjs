// Unit tests of the console's languages (web/console/js/i18n.js; Node only,
// no browser): English by default, a key a dictionary lacks in English,
// variables, plurals, and numbers in Persian and Arabic digits; the admin and
// campaigns pages' texts (the part of the dictionary only admins load).
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { lang, named, num, t, tParts, useLanguage } from '../../web/console/js/i18n.js';
import fa from '../../web/console/js/i18n/fa.js';
import ar from '../../web/console/js/i18n/ar.js';
import faAdmin from '../../web/console/js/i18n/fa-admin.js';
import arAdmin from '../../web/console/js/i18n/ar-admin.js';
import { typingLine } from '../../web/console/js/typing.js';
import { explainTeamError, formatDuration, hoursSummary, slaProblem, slaSummary } from '../../web/console/js/views/admin.js';
import { campaignBody, campaignSummary, previewSummary } from '../../web/console/js/views/campaigns.js';
import { eventText, reasonText } from '../../web/console/js/views/conversation.js';
import { formatDuration as reportDuration } from '../../web/console/js/views/charts.js';
import { formatDay, periodText } from '../../web/console/js/views/reports.js';

afterEach(() => useLanguage('en'));

test('English by default, with variables and plurals', () => {
  assert.equal(lang, 'en');
  assert.equal(t('mark.failed'), 'Failed');
  assert.equal(t('inbox.more', { loaded: 50, total: 120 }), 'Showing 50 of 120 open conversations.');
  assert.equal(t('typing.viewing', { who: 'Reza', n: 1 }), 'Reza is also viewing this conversation.');
  assert.equal(t('typing.viewing', { who: 'Reza and Sara', n: 2 }), 'Reza and Sara are also viewing this conversation.');
  assert.equal(t('act.failed', { op: 'x' }), 'Could not x: {error}', 'a variable not given stays visible');
});

test('Persian: texts, numbers in Persian digits, English for a key the dictionary lacks', () => {
  useLanguage('fa', fa);
  assert.equal(t('st.resolved'), 'حل شد');
  assert.equal(t('mark.failed'), 'ارسال نشد');
  assert.equal(t('msg.sendAgain'), 'ارسال دوباره');
  assert.equal(t('inbox.more', { loaded: 50, total: 120 }), 'نمایش ۵۰ از ۱۲۰ گفتگوی باز.');
  assert.equal(num(1234), '۱٬۲۳۴');
  assert.equal(t('login.retryIn', { n: 30 }), '۳۰ ثانیه دیگر دوباره تلاش کنید.');
  // Ids and texts given as strings are left as written.
  assert.equal(t('cust.id', { id: 'cu_12' }), 'مشتری cu_12');

  useLanguage('fa', { 'st.resolved': 'حل شد' });
  assert.equal(t('mark.failed'), 'Failed', 'missing in the dictionary: English');
  assert.equal(t('no.such.key'), 'no.such.key');
  assert.equal(named('st.', 'resolved'), 'حل شد');
  assert.equal(named('st.', 'archived'), 'archived', 'a status the console does not know shows as sent');
});

test('Persian and Arabic sentences put a name where the language wants it', () => {
  useLanguage('fa', fa);
  const parts = tParts('cust.mergeText', { from: 'A', to: 'B' });
  assert.deepEqual(parts, ['', 'A', ' در ', 'B', ' ادغام شود؟']);
  const line = typingLine([{ who: 'agent', name: 'Ali' }, { who: 'agent', name: 'Reza' }], () => '');
  assert.equal(line.text, 'Ali و Reza هم در حال پاسخ دادن به این گفتگو هستند.');
});

test('Arabic: texts and Arabic-Indic digits; an unknown language is English', () => {
  useLanguage('ar', ar);
  assert.equal(t('st.resolved'), 'تم الحل');
  assert.equal(t('msg.sendAgain'), 'إعادة الإرسال');
  assert.equal(t('search.customers', { n: 12 }), 'العملاء (١٢)');
  assert.equal(t('typing.viewing', { who: 'Ali', n: 1 }), 'Ali يشاهد هذه المحادثة أيضًا.');
  useLanguage('de', { 'st.resolved': 'gelöst' });
  assert.equal(lang, 'en');
  assert.equal(t('st.resolved'), 'resolved');
});

// The English of the admin and campaigns pages, by key (i18n.js keeps it; t() of a key it lacks is the key).
const english = (key) => { useLanguage('en'); return t(key); };
const placeholders = (text) => JSON.stringify(text).match(/\{\w+\}/g)?.sort() ?? [];
const noBidi = (xs) => xs.map((x) => x.replace(/[\u2068\u2069]/g, ''));

test('the admin and campaigns pages have every text in Persian and Arabic, with the same placeholders', () => {
  // Every English text of the pages (i18n.js), so one added there and in neither dictionary fails.
  const source = readFileSync(new URL('../../web/console/js/i18n.js', import.meta.url), 'utf8');
  const keys = [...source.matchAll(/'((?:adm|cmp)\.[\w.]+)':/g)].map((m) => m[1]);
  assert.ok(keys.length > 150, `${keys.length} admin and campaigns texts`);
  for (const [name, part] of [['fa', faAdmin], ['ar', arAdmin]]) {
    for (const k of Object.keys(part)) {
      if (/^(role|strat|cmp\.st)\./.test(k)) continue; // values the server sends, English as they are
      assert.notEqual(english(k), k, `${name}-admin.js: ${k} is no key of i18n.js`);
      assert.deepEqual(placeholders(part[k]).filter((p, i, a) => a.indexOf(p) === i),
        placeholders(english(k)).filter((p, i, a) => a.indexOf(p) === i), `${name}: ${k} keeps its placeholders`);
    }
    for (const k of keys) assert.ok(k in part, `${name}-admin.js lacks ${k}`);
  }
});

test('Persian admin pages: SLA, durations, business hours and refusals in Persian, days from Saturday', () => {
  useLanguage('fa', { ...fa, ...faAdmin });
  assert.equal(formatDuration(900), '۱۵ دقیقه');
  assert.equal(slaSummary({ first_response_s: 900, resolution_s: 28800, warn_before_s: 300 }),
    'اولین پاسخ ۱۵ دقیقه · حل گفتگو ۸ ساعت · هشدار ۵ دقیقه پیش از موعد');
  assert.equal(slaSummary({}), 'بدون هدف');
  assert.equal(hoursSummary(null), 'ساعت کاری تعیین نشده: شبانه‌روزی باز است.');
  assert.equal(hoursSummary({ timezone: 'Asia/Tehran', weekly: { sat: ['09:00-17:00'], thu: ['09:00-13:00'] } }, true),
    'باز در شنبه، پنجشنبه (Asia/Tehran). اکنون باز است.');
  assert.match(slaProblem({ first_response_s: 600, resolution_s: 0, warn_before_s: 3600 }), /^هشدار پیش از موعد \(۱ ساعت\) باید کوتاه‌تر/);
  assert.deepEqual(explainTeamError('team.hours.weekly.sun: bad interval'),
    { text: 'ساعات کاری ذخیره نشد: یکشنبه: bad interval', field: 'sun' }, "the server's reason stays as it is sent");
  const long = explainTeamError('team.closed_message: too long', { closed_message: { fa: 'س'.repeat(2100) } });
  assert.equal(long.text, 'پیام خارج از ساعت کاری ذخیره نشد: too long. فارسی (fa) ۴۲۰۰ بایت است (هر حرف فارسی یا عربی ۲ بایت است).');
});

test('Persian campaigns: the confirmation and the preview in Persian, numbers in Persian digits, a day in the Persian calendar', () => {
  useLanguage('fa', { ...fa, ...faAdmin });
  const some = noBidi(campaignSummary(campaignBody({ name: 'یلدا', kind: 'occasion', occasion: 'yalda', text_fa: 'x', text_en: 'y',
    code: 'Y5', languages: 'fa', tags: 'loyal, vip' })));
  assert.equal(some[0], '«یلدا» (تبریک مناسبت)، زبان متن‌ها: fa، en، کد تخفیف Y5.');
  assert.equal(some[1], 'مخاطبان: ۱ زبان (fa)، ۲ برچسب (loyal, vip)؛ مشتریانی که اشتراک را لغو کرده‌اند کنار گذاشته می‌شوند.');
  const lines = noBidi(previewSummary({ messages: 130, customers: 120, by_channel: { tg: 100, wa: 30 }, skipped: { opted_out: 7 },
    complete: false, files_looked_at: 50000, files_total: 80000, upcoming: { days: 30, messages: 9, by_day: { '2026-12-01': 5 } },
    samples: [{ name: 'سارا', channel: 'tg', text: 'یلدا مبارک' }] }));
  assert.deepEqual(lines, [
    'اگر اکنون اجرا شود، ۱۳۰ پیام برای ۱۲۰ مشتری می‌فرستد (۱۰۰ در tg، ۳۰ در wa).',
    'ردشده: ۷ لغو اشتراک.',
    'در ۳۰ روز آینده: ۹ پیام دیگر (بیشترین در ۱۰ آذر: ۵)، با وضعیت کنونی پرونده‌های مشتریان.',
    'فقط ۵۰٬۰۰۰ پرونده از ۸۰٬۰۰۰ پروندهٔ مشتری شمرده شد.',
    'برای نمونه، به سارا در tg: «یلدا مبارک»',
  ]);
});

test('Arabic admin and campaigns: plural forms where Arabic has them, Arabic-Indic digits', () => {
  useLanguage('ar', { ...ar, ...arAdmin });
  assert.deepEqual([60, 120, 300, 900, 6000].map((s) => formatDuration(s)), ['دقيقة واحدة', 'دقيقتان', '٥ دقائق', '١٥ دقيقة', '١٠٠ دقيقة']);
  assert.equal(hoursSummary({ timezone: 'Asia/Riyadh', weekly: { sun: ['09:00-17:00'] } }), 'مفتوح أيام الأحد (Asia/Riyadh).');
  assert.equal(previewSummary({ messages: 2, customers: 5, by_channel: { whatsapp: 2 }, complete: true })[0],
    'لو شُغّلت الآن لأرسلت رسالتين إلى ٥ عملاء (whatsapp: ٢).');
  assert.equal(noBidi(campaignSummary(campaignBody({ name: 'x', kind: 'birthday' })))[1], 'الجمهور غير محدد: ستصل إلى «كل» عميل لم يُلغِ اشتراكه.');
});

test('a split reply that failed after its first parts says in the agent\'s language which parts the customer has', () => {
  const one = 'part 2 of 3 failed, part 1 was delivered: blocked: Forbidden: bot was blocked by the user';
  const more = 'gave up after 10 attempts: part 4 of 5 failed, parts 1–3 were delivered: http 500: Internal Server Error';
  assert.equal(reasonText(one), 'part 2 of 3 failed; the customer has part 1: blocked: Forbidden: bot was blocked by the user');
  assert.equal(reasonText(more), 'gave up after 10 attempts: part 4 of 5 failed; the customer has parts 1–3: http 500: Internal Server Error');
  assert.equal(reasonText('blocked: Forbidden'), 'blocked: Forbidden', 'any other reason as the server gave it');
  useLanguage('fa', fa);
  assert.equal(reasonText(one), 'بخش ۲ از ۳ ارسال نشد؛ بخش ۱ به دست مشتری رسیده است: blocked: Forbidden: bot was blocked by the user');
  assert.equal(reasonText(more).split(': ')[1], 'بخش ۴ از ۵ ارسال نشد؛ بخش‌های ۱ تا ۳ به دست مشتری رسیده‌اند');
  useLanguage('ar', ar);
  assert.equal(reasonText(one).split(': ')[0], 'فشل الجزء ٢ من ٣؛ وصل الجزء ١ إلى العميل');
});

test('a reply on a channel no gateway sends on: refused, or failed once queued, says why in the agent\'s language', () => {
  const reason = 'no gateway sends on channel tg2 any more: not sent';
  const failure = { code: 'channel_unserved', channel: 'tg2' };
  const stranded = [reason, failure];
  assert.equal(reasonText(reason), reason, 'translated by its code, never by its words');
  assert.equal(reasonText(...stranded), 'no server sends on channel tg2 any more; reach the customer another way');
  assert.equal(t('app.channelUnavailable', { channel: 'tg2' }), 'Not sent: no server sends on channel tg2 now. Reach the customer another way.');
  useLanguage('fa', fa);
  assert.equal(reasonText(...stranded), 'دیگر هیچ سروری روی کانال tg2 نمی‌فرستد؛ از راه دیگری با مشتری تماس بگیرید');
  assert.equal(t('app.channelUnavailable', { channel: 'tg2' }),
    'فرستاده نشد: اکنون هیچ سروری روی کانال tg2 نمی‌فرستد. از راه دیگری با مشتری تماس بگیرید.');
  // Exact: a missing translation falls back to English, which has tg2 in it too.
  useLanguage('ar', ar);
  assert.equal(reasonText(...stranded), 'لم يعد أي خادم يرسل على القناة tg2؛ تواصل مع العميل بطريقة أخرى');
  assert.equal(t('app.channelUnavailable', { channel: 'tg2' }),
    'لم تُرسل: لا يرسل أي خادم على القناة tg2 الآن. تواصل مع العميل بطريقة أخرى.');
});

test('a customer who ended the web chat: the line says so in the agent\'s language, and whether replies can still reach them', () => {
  const left = (byEmail) => ({ type: 'event', conv: 'cv_1', seq: 4, event: 'visitor_left', channel: 'web', by_email: byEmail, actor: 'customer', at: 1 });
  assert.equal(eventText({}, left(true)), 'The customer ended the chat on this device. Replies will reach them only by email.');
  useLanguage('fa', fa);
  assert.equal(eventText({}, left(true)), 'مشتری گفتگو را در این دستگاه پایان داد. پاسخ‌ها فقط از راه ایمیل به او می‌رسد.');
  assert.equal(eventText({}, left(false)), 'مشتری گفتگو را در این دستگاه پایان داد. پاسخ‌ها به او نمی‌رسد (ایمیل تأییدشده‌ای ندارد).');
  useLanguage('ar', ar);
  assert.equal(eventText({}, left(false)), 'أنهى العميل المحادثة على هذا الجهاز. لن تصله الردود (لا بريد إلكتروني مؤكد).');
});

test('a CSAT comment that complains about the service says so, in the agent\'s language', () => {
  const comment = (kind) => ({ type: 'event', conv: 'cv_1', seq: 7, event: 'csat_comment', comment: 'x', kind, actor: 'customer', at: 1 });
  assert.equal(eventText({}, comment('praise')), 'Customer commented on their rating:');
  assert.equal(eventText({}, comment('complaint')), 'Customer complained about the service with their rating:');
  assert.equal(t('rep.csatComplaints', { n: 2 }), ', 2 with complaints about the service');
  useLanguage('fa', fa);
  assert.equal(eventText({}, comment('complaint')), 'گلایهٔ مشتری از پشتیبانی همراه امتیازش:');
  assert.equal(t('rep.csatComplaints', { n: 2 }), '، ۲ با گلایه از پشتیبانی');
  useLanguage('ar', ar);
  assert.equal(eventText({}, comment('complaint')), 'شكوى العميل من الخدمة مع تقييمه:');
});

test('a message type the console cannot show is named in the agent\'s language, or as the provider calls it', () => {
  useLanguage('fa', fa);
  assert.equal(t('att.unsupported'), 'پیامی که پاسخ نمی‌تواند نشان دهد:');
  assert.equal(named('ut.', 'poll'), 'نظرسنجی');
  assert.equal(named('ut.', 'pin'), 'pin', 'a type the console does not know shows as sent');
  useLanguage('ar', ar);
  assert.equal(named('ut.', 'dice'), 'نرد');
});

test('reports: durations in the language\'s words and digits; the period line in its calendar, its values isolated', () => {
  const feb = { from: '2020-02-01', to: '2020-02-29', tz: 'Asia/Tehran' };
  const values = (text) => text.match(/\u2068[^\u2069]*\u2069/g);
  assert.deepEqual([45_000, 40 * 60_000, 70 * 60_000, 51 * 3_600_000].map(reportDuration), ['45 s', '40 min', '1 h 10 min', '2 d 3 h']);
  assert.equal(noBidi([periodText(feb, 6)])[0], '1 Feb 2020 to 29 Feb 2020 (Asia/Tehran), 6 conversations.');

  useLanguage('fa', fa);
  assert.deepEqual([14_000, 60_000, 70 * 60_000, 51 * 3_600_000].map(reportDuration),
    ['۱۴ ثانیه', '۱ دقیقه', '۱ ساعت و ۱۰ دقیقه', '۲ روز و ۳ ساعت']);
  // Not «2020-02-01 تا 29-02-2020»: Solar Hijri days, each isolated from the Persian around it.
  assert.deepEqual(values(periodText(feb, 6)), ['\u2068۱۲ بهمن ۱۳۹۸\u2069', '\u2068۱۰ اسفند ۱۳۹۸\u2069', '\u2068Asia/Tehran\u2069']);
  assert.equal(noBidi([periodText(feb, 6)])[0], '۱۲ بهمن ۱۳۹۸ تا ۱۰ اسفند ۱۳۹۸ (Asia/Tehran)، ۶ گفتگو.');
  assert.equal(formatDay('2026-03-21'), '۱ فروردین ۱۴۰۵');
  // The business-hours example stays left to right inside the Persian help (LRI…PDI).
  assert.match(faAdmin['adm.hoursHelp'], /\(\u206609:00-13:00, 14:00-17:00\u2069\)/);

  useLanguage('ar', ar);
  assert.deepEqual([14_000, 2 * 60_000, 5 * 60_000, 3 * 3_600_000 + 60_000].map(reportDuration),
    ['١٤ ثانية', 'دقيقتان', '٥ دقائق', '٣ ساعات ودقيقة واحدة']);
  assert.equal(noBidi([periodText(feb, 6)])[0], 'من ١ فبراير ٢٠٢٠ إلى ٢٩ فبراير ٢٠٢٠ (Asia/Tehran)، المحادثات: ٦.');
  assert.match(arAdmin['adm.hoursHelp'], /\(\u206609:00-13:00, 14:00-17:00\u2069\)/);
});
