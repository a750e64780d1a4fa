// pasokh --check-config: what a start would load besides the file (the
// console under web_root, the knowledge base), and errors that name the
// setting, its environment variable or the absolute path tried. No Redis:
// the check does not connect.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { API_KEY, pasokhBin, repoRoot } from '../support/harness.mjs';

let dir;
before(() => { dir = mkdtempSync(path.join(tmpdir(), 'pasokh-check-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

const valid = {
  web_root: path.join(repoRoot, 'web'),
  bot: { knowledge_base: path.join(repoRoot, 'bot', 'data', 'demo-kb.json') },
  channels: [{ id: 'shop', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY' }],
};

// Exit code, stdout and stderr of --check-config on `config`, run in `cwd`.
function check(config, { cwd = repoRoot, env = {} } = {}) {
  const file = path.join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(config));
  return new Promise((resolve) => execFile(pasokhBin, ['--config', file, '--check-config'],
    { cwd, env: { ...process.env, PASOKH_TEST_API_KEY: API_KEY, ...env } },
    (err, stdout, stderr) => resolve({ code: err?.code ?? 0, stdout, stderr })));
}

test('a valid config passes', async () => {
  const r = await check(valid);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /OK \(1 channels\)/);
});

test('a web_root without the console fails the check, naming the setting and the folder', async () => {
  const missing = path.join(dir, 'no-such-web');
  const r = await check({ ...valid, web_root: missing });
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), `pasokh: web_root "${missing}": no console/index.html there`);
});

test('relative paths are from the working directory, and the errors say which absolute path was tried', async () => {
  // Started from elsewhere than the checkout: "web" and "bot/data/…" are not there.
  const relativeKb = { ...valid, bot: { knowledge_base: 'bot/data/demo-kb.json' } };
  const kb = await check(relativeKb, { cwd: dir });
  assert.equal(kb.code, 2);
  assert.match(kb.stderr, new RegExp(`^pasokh: bot\\.knowledge_base "bot/data/demo-kb\\.json" \\(${dir}/bot/data/demo-kb\\.json; ` +
    'a relative path is from the working directory\\): .*cannot read', 'm'));
  const web = await check({ ...valid, web_root: 'web' }, { cwd: dir });
  assert.equal(web.code, 2);
  assert.match(web.stderr, new RegExp(`^pasokh: web_root "web" \\(${dir}/web; a relative path is from the working directory\\): ` +
    'no console/index.html there', 'm'));
  // From the checkout the same relative paths are right.
  assert.equal((await check({ ...relativeKb, web_root: 'web' })).code, 0);
});

test('a short API key is refused, naming the channel and its variable, never the key', async () => {
  const r = await check(valid, { env: { PASOKH_TEST_API_KEY: 'short-key' } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /channels\[0\]\.api_key_env \(channel "shop"\): the API key in environment variable PASOKH_TEST_API_KEY must be at least 16 bytes/);
  assert.doesNotMatch(r.stderr, /short-key/);
});
