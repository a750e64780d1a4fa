// The SMTP sink of process tests: maildev, read back through its REST API.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { freePort, repoRoot, sleep } from './harness.mjs';

export class MailDev {
  async start() {
    this.smtpPort = await freePort();
    this.webPort = await freePort();
    const bin = path.join(repoRoot, 'tests', 'node_modules', '.bin', 'maildev');
    this.proc = spawn(bin, ['--smtp', String(this.smtpPort), '--web', String(this.webPort), '--ip', '127.0.0.1'],
      { stdio: 'ignore' });
    this.exited = new Promise((r) => this.proc.once('exit', r));
    const deadline = Date.now() + 30000;
    for (;;) {
      try {
        if ((await fetch(`http://127.0.0.1:${this.webPort}/email`)).ok && await portOpen(this.smtpPort)) return this;
      } catch { /* starting */ }
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

function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}
