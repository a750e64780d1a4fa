// Unit tests of the console's languages (web/console/js/i18n.js; Node only,
// no browser): English by default, a key a dictionary lacks in English,
// variables, plurals, and numbers in Persian and Arabic digits.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { lang, named, num, t, tParts, useLanguage } from '../../web/console/js/i18n.js';
import fa from '../../web/console/js/i18n/fa.js';
import ar from '../../web/console/js/i18n/ar.js';
import { typingLine } from '../../web/console/js/typing.js';

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
