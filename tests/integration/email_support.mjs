// What the email tests share: a mail sent through swaks to the gateway's SMTP
// listener, reads of Redis and /metrics, and the agent's customer events.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');
export const encodedWord = (s) => `=?UTF-8?B?${b64(s)}?=`;

// Sends one mail; resolves with swaks' transcript and exit code (non-zero when
// the server refused it, e.g. 451). `raw`: the whole message as written.
// `dir`: where its files are written. `summarized`: the transcript without
// the message's lines (a big file's would fill the pipe).
export function sendMail(dir, { port, from, to = 'support@shop.example', subject = 'Hello', body = 'Hello\r\n', headers = {}, attach, raw, summarized = false }) {
  const bodyFile = path.join(dir, `body-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(bodyFile, raw ?? body);
  const args = ['--server', `127.0.0.1:${port}`, '--from', from, '--to', to];
  if (raw) {
    args.push('--data', `@${bodyFile}`);
  } else if (attach) {
    args.push('--header', `Subject: ${encodedWord(subject)}`);
    // swaks builds the multipart/mixed message: the text first, then the file.
    const file = path.join(dir, attach.name);
    writeFileSync(file, attach.content);
    args.push('--attach-type', 'text/plain; charset=utf-8', '--attach-body', `@${bodyFile}`,
      '--attach-type', attach.type, '--attach-name', attach.name, '--attach', `@${file}`);
  } else {
    args.push('--header', `Subject: ${encodedWord(subject)}`);
    args.push('--body', `@${bodyFile}`, '--header', 'MIME-Version: 1.0',
      '--header', 'Content-Type: text/plain; charset=utf-8', '--header', 'Content-Transfer-Encoding: 8bit');
  }
  for (const [name, value] of Object.entries(headers)) args.push('--header', `${name}: ${value}`);
  if (summarized) args.push('--suppress-data');
  return new Promise((resolve) => {
    execFile('swaks', args, { timeout: 20000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? 1) : 0, out: stdout + stderr }));
  });
}

export const redisCliAt = (port, ...args) => new Promise((resolve, reject) => execFile('redis-cli', ['-p', String(port), ...args],
  (err, stdout) => (err ? reject(err) : resolve(stdout.trim()))));

export async function metricOf(gw, name, labels) {
  const text = await (await fetch(`${gw.base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

export const customerEvent = (pred) => (f) => f.type === 'event' && f.event === 'message' && f.message?.author === 'customer' && pred(f);
