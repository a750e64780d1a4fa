// Unit tests of the reports dashboard's pure helpers (Node only, no browser):
// durations for people, chart geometry, RTL detection, periods and the query.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { barGeometry, formatDuration, formatPercent, isRtl, lineGeometry, niceMax, tickIndexes } from '../../web/console/js/views/charts.js';
import { addDays, agentChoices, presetRange, reportQuery } from '../../web/console/js/views/reports.js';

test('formatDuration and formatPercent', () => {
  assert.equal(formatDuration(null), '—');
  assert.equal(formatDuration(45_000), '45 s');
  assert.equal(formatDuration(40 * 60_000), '40 min');
  assert.equal(formatDuration(60 * 60_000), '1 h');
  assert.equal(formatDuration(70 * 60_000), '1 h 10 min');
  assert.equal(formatDuration(51 * 3_600_000), '2 d 3 h');
  assert.equal(formatPercent(75), '75%');
  assert.equal(formatPercent(66.67), '66.7%');
  assert.equal(formatPercent(null), '—');
});

test('niceMax, ticks and line geometry: gaps for days without a value', () => {
  assert.deepEqual([0, 1, 3, 7, 12, 180].map(niceMax), [1, 1, 5, 10, 20, 200]);
  assert.deepEqual(tickIndexes(5), [0, 1, 2, 3, 4]);
  const t = tickIndexes(29);
  assert.equal(t[0], 0);
  assert.equal(t.at(-1), 28);
  assert.ok(t.length <= 10);
  // 30 days: the last label never sits right next to a regular one.
  for (const n of [11, 29, 30, 31, 60, 90]) {
    const ticks = tickIndexes(n);
    assert.equal(ticks.at(-1), n - 1);
    const gaps = ticks.slice(1).map((x, i) => x - ticks[i]);
    assert.ok(Math.min(...gaps) >= Math.ceil(n / 8) / 2, `${n}: ${ticks}`);
  }
  const values = [{ c: 0, f: null }, { c: 2, f: 60 }, { c: 1, f: null }, { c: 4, f: 30 }];
  const [conv, first] = lineGeometry(values, [{ key: 'c', value: (v) => v.c }, { key: 'f', value: (v) => v.f }], { width: 300, height: 100 });
  assert.equal(conv.points.length, 4);
  assert.equal(first.points.length, 2, 'no point where the day has no first response');
  assert.equal(conv.max, 5);
  assert.deepEqual(conv.points.map((p) => p.x), [0, 100, 200, 300]);
  assert.deepEqual(conv.points.map((p) => p.y), [100, 60, 80, 20]);
  assert.equal(first.max, 100, 'each series on its own axis');
  assert.deepEqual(first.points.map((p) => [p.x, p.y]), [[100, 40], [300, 70]]);
  const bars = barGeometry([{ label: 'api', value: 4 }, { label: 'web', value: 2 }], 100);
  assert.deepEqual(bars.map((b) => b.length), [80, 40]);
});

test('isRtl: Persian and Arabic labels, also after digits or punctuation', () => {
  assert.equal(isRtl('مریم احمدی'), true);
  assert.equal(isRtl('ليلى'), true);
  assert.equal(isRtl('۱۲ علی'), true);
  assert.equal(isRtl('Ali (علی)'), false);
  assert.equal(isRtl('api'), false);
  assert.equal(isRtl(''), false);
});

test('periods and the summary query', () => {
  assert.equal(addDays('2020-02-28', 1), '2020-02-29');
  assert.equal(addDays('2020-02-29', 1), '2020-03-01');
  assert.deepEqual(presetRange('last7', '2020-02-10'), ['2020-02-04', '2020-02-10']);
  assert.deepEqual(presetRange('this_month', '2020-02-10'), ['2020-02-01', '2020-02-10']);
  assert.deepEqual(presetRange('last_month', '2020-03-15'), ['2020-02-01', '2020-02-29']);
  assert.deepEqual(presetRange('last_month', '2020-01-15'), ['2019-12-01', '2019-12-31']);
  const q = new URLSearchParams(reportQuery({ from: '2020-02-01', to: '2020-02-29', group: 'week', channel: '', team: 'vip',
    agent: '', tz: 'Asia/Tehran' }, 'csv'));
  assert.equal(q.get('to'), '2020-03-01', 'the last day is included');
  assert.equal(q.has('week_start'), false, 'the server starts weeks as the zone does');
  assert.equal(q.get('team'), 'vip');
  assert.equal(q.has('channel'), false);
  assert.equal(q.get('format'), 'csv');
});

test('the report\'s zone: the server\'s unless one is typed', () => {
  const feb = { from: '2020-02-01', to: '2020-02-29', group: 'week', channel: '', team: '', agent: '' };
  const q = new URLSearchParams(reportQuery({ ...feb, tz: '' }));
  assert.equal(q.has('tz'), false, 'no tz: the server uses the shop\'s zone');
  assert.equal(new URLSearchParams(reportQuery({ ...feb, tz: 'Europe/Berlin' })).get('tz'), 'Europe/Berlin');
});

test('the agent filter lists the removed agents too, marked, after the others', () => {
  assert.deepEqual(agentChoices({ agents: [{ id: 'ag_ali', name: 'Ali' }, { id: 'ag_x', login: 'x', name: '' }],
    removed: [{ id: 'ag_layla', name: 'Layla' }] }), [['ag_ali', 'Ali'], ['ag_x', 'x'], ['ag_layla', 'Layla (removed)']]);
  assert.deepEqual(agentChoices({}), []);
});
