// The SMTP sink of process tests: maildev, read back through its REST API.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { freePort, repoRoot, sleep } from './harness.mjs';

export class MailDev {
  // On free ports; one can be taken by another process before maildev binds
  // it (other tests run alongside): then it exits, and tries other ports.
  async start() {
    for (let attempt = 1; ; attempt++) {
      const exit = await this.#run(await freePort(), await freePort());
      if (!exit) return this;
      if (attempt === 5) throw new Error(`maildev exited (${exit.code ?? exit.signal}) before it answered`);
    }
  }
  // Starts maildev and waits for it to answer; its exit instead, if it went first.
  async #run(smtpPort, webPort) {
    [this.smtpPort, this.webPort] = [smtpPort, webPort];
    const bin = path.join(repoRoot, 'tests', 'node_modules', '.bin', 'maildev');
    this.proc = spawn(bin, ['--smtp', String(smtpPort), '--web', String(webPort), '--ip', '127.0.0.1'], { stdio: 'ignore' });
    let exit = null;
    this.exited = new Promise((r) => this.proc.once('exit', (code, signal) => { exit = { code, signal }; r(exit); }));
    const deadline = Date.now() + 30000;
    for (;;) {
      try {
        if ((await fetch(`http://127.0.0.1:${webPort}/email`)).ok && await portOpen(smtpPort)) {
          await sleep(200);  // not another's answer while ours fails to bind
          if (!exit) return null;
        }
      } catch { /* starting */ }
      if (exit) return exit;
      if (Date.now() > deadline) throw new Error('maildev did not start');
      await sleep(200);
    }
  }
  async emails() { return (await fetch(`http://127.0.0.1:${this.webPort}/email`)).json(); }
  async waitFor(pred, what, timeoutMs = 15000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = (await this.emails()).find(pred);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no mail in the sink: ${what}`);
      await sleep(150);
    }
  }
  async stop() {
    if (!this.proc) return;
    this.proc.kill('SIGKILL');
    await this.exited;
  }
}

// A relay that refuses every recipient for good (550 5.1.1), as one does an
// address that does not exist: the mail fails at sending, no bounce comes.
export class RefusingRelay {
  async start() {
    this.sockets = new Set();
    this.server = net.createServer((s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => {});
      s.setEncoding('utf8');
      s.write('220 mx.refusing.example ESMTP\r\n');
      let pending = '';
      s.on('data', (chunk) => {
        pending += chunk;
        for (let nl; (nl = pending.indexOf('\r\n')) >= 0; pending = pending.slice(nl + 2)) {
          const verb = pending.slice(0, 4).toUpperCase();
          if (verb === 'RCPT') s.write('550 5.1.1 Recipient address rejected: User unknown\r\n');
          else if (verb === 'QUIT') s.end('221 2.0.0 Bye\r\n');
          else s.write('250 2.0.0 OK\r\n');
        }
      });
    });
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = this.server.address().port;
    return this;
  }
  async stop() {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

// A bounce as an MTA sends it (RFC 3464 multipart/report) to support@shop.example
// for a mail of ours to `recipient`; `returned`: the returned headers' lines
// naming our mail (e.g. [`Message-ID: <${id}>`], or folded over two lines).
export function deliveryReport({
  recipient, returned, from = 'Mail Delivery System <MAILER-DAEMON@mx.example.net>',
  subject = 'Undelivered Mail Returned to Sender', id = 'bounce-1@mx.example.net', headers = [],
  note = 'Your message could not be delivered.', mta = 'dns; mx.example.net', status = '5.1.1',
  diagnostic = 'smtp; 550 5.1.1 user unknown', returnedType = 'text/rfc822-headers',
}) {
  return [
    'Return-Path: <>', `From: ${from}`, 'To: support@shop.example', `Subject: ${subject}`, `Message-ID: <${id}>`,
    ...headers, 'MIME-Version: 1.0', 'Content-Type: multipart/report; report-type=delivery-status; boundary="rep"', '',
    '--rep', 'Content-Type: text/plain', '', note,
    '--rep', 'Content-Type: message/delivery-status', '', `Reporting-MTA: ${mta}`, '',
    `Final-Recipient: rfc822; ${recipient}`, 'Action: failed', `Status: ${status}`, `Diagnostic-Code: ${diagnostic}`,
    '--rep', `Content-Type: ${returnedType}`, '', 'From: Shop support <support@shop.example>', `To: ${recipient}`,
    ...returned, '--rep--', '',
  ].join('\r\n');
}
