// The ingest script alone, on a Redis of its own: no HTTP, no gateway. Sends
// batches of API-channel messages the way the ingest batcher does (one
// FCALL per batch) and prints what each message costs Redis: CPU, time
// inside FCALL, AOF bytes and the commands the script ran.
//   node script_cost.mjs <redis port> [batches=300] [batch size=50] [returning share=0.5]
// Change routing/src/lua/*.lua and run again to see what a change costs.
import net from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [port, batches = 300, size = 50, returning = 0.5] = process.argv.slice(2).map(Number);
const lua = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../routing/src/lua');
// A library of ingest alone, composed as routing/src/lua_scripts.cpp composes
// the gateway's.
const [prelude, routingLib, ingest] = ['prelude', 'routing_lib', 'ingest'].map((f) => readFileSync(path.join(lua, `${f}.lua`), 'utf8'));
const library = `#!lua name=pasokh_bench\n${prelude}\n${routingLib}\n` +
  `redis.register_function('ingest_bench', function(keys, args)\nbegin_call(keys, args)\n${ingest}\nend)\n`;

// A minimal RESP client: one command in flight at a time.
const socket = net.connect({ port, host: '127.0.0.1' });
await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
let buffer = Buffer.alloc(0);
let waiting = null;
socket.on('data', (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  if (!waiting) return;
  const parsed = parse(buffer, 0);
  if (!parsed) return;
  buffer = buffer.subarray(parsed.end);
  const { resolve } = waiting;
  waiting = null;
  resolve(parsed.value);
});
function parse(b, at) {
  const eol = b.indexOf('\r\n', at);
  if (eol < 0) return null;
  const type = String.fromCharCode(b[at]);
  const line = b.toString('utf8', at + 1, eol);
  if (type === '+' || type === ':') return { value: line, end: eol + 2 };
  if (type === '-') return { value: new Error(line), end: eol + 2 };
  const n = Number(line);
  if (type === '$') {
    if (n < 0) return { value: null, end: eol + 2 };
    if (b.length < eol + 2 + n + 2) return null;
    return { value: b.toString('utf8', eol + 2, eol + 2 + n), end: eol + 2 + n + 2 };
  }
  const items = [];
  let end = eol + 2;
  for (let i = 0; i < n; i++) {
    const item = parse(b, end);
    if (!item) return null;
    items.push(item.value);
    end = item.end;
  }
  return { value: items, end };
}
function command(...args) {
  const parts = [`*${args.length}\r\n`];
  for (const a of args) parts.push(`$${Buffer.byteLength(String(a))}\r\n${a}\r\n`);
  return new Promise((resolve, reject) => {
    waiting = { resolve: (v) => (v instanceof Error ? reject(v) : resolve(v)) };
    socket.write(parts.join(''));
  });
}
const info = async (section) => Object.fromEntries((await command('INFO', section)).split('\r\n')
  .filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
const cpuMs = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;  // utime + stime, 100 ticks a second
};

await command('FUNCTION', 'LOAD', 'REPLACE', library);
const pid = Number((await info('server')).process_id);
await command('CONFIG', 'RESETSTAT');
const aof0 = Number((await info('persistence')).aof_current_size ?? 0);
const cpu0 = cpuMs(pid);

// The arguments run_ingest sends (routing/src/ingest_script.cpp), with the
// caller's routing decision for team "support" (no SLA, not sticky).
let customers = 0, messages = 0;
for (let b = 0; b < batches; b++) {
  const args = ['pasokh:', size];
  const now = Date.now();
  for (let m = 0; m < size; m++) {
    const c = customers > 0 && Math.random() < returning ? Math.floor(Math.random() * customers) : customers++;
    const preview = `سلام، گارانتی دستگاه من تا کی اعتبار دارد؟ order ${messages}`;
    const text = JSON.stringify({ text: preview });
    const a = ['api', 'api', `c${c}`, `Customer ${c}`, `d${b}-${m}`, 86400, now, text, 'support', '0', 'fa', `c${c}`,
      '', '0', '', '', `name:customer ${c}`, '', now, preview, '0', '1', 'fa', 'support', 'normal', '0', '0', '0', '0', '0', '', '0'];
    args.push(a.length, ...a);
    messages++;
  }
  const answers = await command('FCALL', 'ingest_bench', 0, ...args);
  const bad = answers.find((a) => a[0] !== 'stored');
  if (bad) throw new Error(`the script answered ${JSON.stringify(bad)}: does this bench still send what run_ingest sends?`);
}

const cpu = cpuMs(pid) - cpu0;
const aof = Number((await info('persistence')).aof_current_size ?? 0) - aof0;
const stats = await info('commandstats');
const calls = (name) => Number(/calls=(\d+)/.exec(stats[`cmdstat_${name}`] ?? '')?.[1] ?? 0);
const usec = (name) => Number(/usec=(\d+)/.exec(stats[`cmdstat_${name}`] ?? '')?.[1] ?? 0);
const inner = Object.keys(stats).map((k) => k.slice(8)).filter((n) => !['fcall', 'info', 'config|resetstat'].includes(n));
const per = (x) => (x / messages).toFixed(1);
console.log(`ingest.lua alone: ${messages} messages in ${batches} calls of ${size}, ${Math.round(returning * 100)}% from returning customers`);
console.log(`  Redis CPU per message        ${per(cpu * 1000)} µs`);
console.log(`  inside FCALL per message     ${per(usec('fcall'))} µs (of which the commands themselves ${per(inner.reduce((s, n) => s + usec(n), 0))} µs)`);
console.log(`  commands per message         ${per(inner.reduce((s, n) => s + calls(n), 0))}`);
console.log(`  AOF bytes per message        ${per(aof)}`);
socket.end();
