// What operators watch during an outage, with real processes: the Redis links
// in /metrics and /readyz, a provider outage's backlog and retries, the team
// queues, the log while every request fails, and stopping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  RedisServer, Pasokh, defaultConfig, postMessage, sleep, waitFor, API_KEY, login, agentSocket,
} from '../support/harness.mjs';
import {
  SECRETS, FakeProvider, messengerConfig, postWebhook, telegramHeaders, tgText, newChatId, agentFor,
} from './messenger_support.mjs';

async function metric(g, series) {
  const text = await (await fetch(`${g.base}/metrics`)).text();
  const row = text.split('\n').find((l) => l.startsWith(`${series} `));
  return row === undefined ? undefined : Number(row.split(' ').pop());
}

// A connection of the test's own to Redis, kept open: it still works once
// maxclients refuses new ones. send() resolves with the raw reply.
async function redisAdmin(redis) {
  const socket = await new Promise((resolve, reject) => {
    const s = net.connect(redis.port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  return {
    send: (...args) => new Promise((resolve) => {
      socket.once('data', (d) => resolve(d.toString()));
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    }),
    close: () => socket.destroy(),
  };
}

// A Redis and a gateway of the test's own: these tests take them down.
async function withGateway(fn, extra = {}, { redisArgs = [], waitReady = true } = {}) {
  const redis = await new RedisServer({ args: redisArgs }).start();
  const gw = await new Pasokh(defaultConfig(redis, extra)).start({ waitReady });
  try {
    await fn(gw, redis);
  } finally {
    await gw.cleanup();
    await redis.cleanup();
  }
}

test('/metrics shows each Redis link down while Redis is, and counts the reconnects', async () => {
  await withGateway(async (gw, redis) => {
    const connected = (c) => metric(gw, `pasokh_redis_connected{connection="${c}"}`);
    const reconnects = (c) => metric(gw, `pasokh_redis_reconnects_total{connection="${c}"}`);
    assert.equal(await connected('commands'), 1);
    assert.equal(await connected('pubsub'), 1);
    assert.equal(await connected('webchat_pubsub'), 1);
    assert.equal(await reconnects('commands'), 0);
    assert.equal(await reconnects('pubsub'), 0);
    assert.equal(await reconnects('webchat_pubsub'), 0);
    const links = ['commands', 'pubsub', 'webchat_pubsub'];
    const all = async (state) => (await Promise.all(links.map(connected))).every((c) => c === state);
    await redis.stop();
    await waitFor(() => all(0), 'every link down');
    await redis.start();
    await waitFor(() => all(1), 'every link up', 15000);
    await waitFor(async () => await reconnects('pubsub') === 1 && await reconnects('webchat_pubsub') === 1, 'the pub/sub reconnects counted');
    assert.equal(await reconnects('commands'), 1);
  });
});

test('/readyz answers 503 naming the pub/sub links while only they are down, and 200 once they are back', async () => {
  await withGateway(async (gw, redis) => {
    const admin = await redisAdmin(redis);
    try {
      // Open links stay; new ones are refused, so the dropped pub/sub link cannot come back.
      assert.match(await admin.send('CONFIG', 'SET', 'maxclients', '1'), /^\+OK/);
      assert.match(await admin.send('CLIENT', 'KILL', 'TYPE', 'pubsub'), /^:[1-9]/);
      let answer;
      await waitFor(async () => {
        answer = await fetch(`${gw.base}/readyz`);
        return answer.status === 503;
      }, '/readyz 503');
      const body = await answer.json();
      assert.equal(body.error.code, 'redis_unavailable');
      assert.deepEqual(body.error.down, ['pubsub', 'webchat_pubsub'], 'both pub/sub links were dropped');
      assert.match(body.error.message, /pubsub/);
      assert.equal(await metric(gw, 'pasokh_redis_connected{connection="commands"}'), 1);
      assert.match(await admin.send('CONFIG', 'SET', 'maxclients', '10000'), /^\+OK/);
      await waitFor(async () => (await fetch(`${gw.base}/readyz`)).status === 200, '/readyz 200', 15000);
    } finally {
      admin.close();
    }
  });
});

test('/readyz names every link while Redis is down', async () => {
  await withGateway(async (gw, redis) => {
    await redis.stop();
    let body;
    await waitFor(async () => {
      body = await (await fetch(`${gw.base}/readyz`)).json();
      return body.error?.down?.length === 3;
    }, 'every link down');
    assert.deepEqual(body.error.down, ['commands', 'pubsub', 'webchat_pubsub']);
    assert.equal(body.error.code, 'redis_unavailable');
  });
});

test('while Redis is down the log says "ingest failed" once, then once in 10 s with how many it left out', async () => {
  await withGateway(async (gw, redis) => {
    await redis.stop();
    const started = Date.now();
    let refused = 0;
    for (let batch = 0; Date.now() - started < 10500; ++batch) {
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) =>
        postMessage(gw, { message_id: `m-${batch}-${i}`, customer: { id: 'c-outage' }, text: 'hello?' })));
      refused += answers.filter((a) => a.status === 503).length;
      await sleep(20);
    }
    assert.ok(refused > 200, `${refused} refused`);
    await sleep(200);  // the last lines reach the pipe
    const lines = gw.output.split('\n').filter((l) => l.includes('ingest failed'));
    assert.equal(lines.length, 2, lines.join('\n'));
    const leftOut = Number(lines[1].match(/and (\d+) more like it in the last 10 s, not logged/)?.[1]);
    // Those of the first 10 s: all but the first one logged (later ones wait for the next line).
    assert.ok(leftOut > 100 && leftOut < refused, `${leftOut} left out of ${refused}\n${lines[1]}`);
  });
});

test('a provider outage shows in /metrics: the channel\'s outbox backlog, its oldest message\'s age and retries; they clear once it is back', async () => {
  const fake = await new FakeProvider().start();
  const redis = await new RedisServer().start();
  // Retries every 0.3-1 s, and never given up on during the test.
  const config = messengerConfig(redis, fake);
  config.outbox = { ...config.outbox, max_attempts: 1000 };
  const gw = await new Pasokh(config, SECRETS).start();
  let bringBack = null;
  try {
    await gw.createAgent('sara', 'sara-secret-1', { name: 'Sara' });
    const tg = (series, labels = '') => metric(gw, `${series}{channel="tg"${labels}}`);
    assert.equal(await tg('pasokh_outbox_pending_messages'), 0);
    assert.equal(await tg('pasokh_outbox_oldest_pending_age_seconds'), 0);
    assert.match(await (await fetch(`${gw.base}/metrics`)).text(), /^pasokh_build_info\{version="\d+\.\d+\.\d+"\} 1$/m);

    bringBack = await fake.down();
    const agent = await agentFor(gw);
    const chat = newChatId();
    await postWebhook(gw, '/webhooks/telegram/tg', tgText(chat, 'سفارشم کجاست؟'), telegramHeaders());
    const conv = (await agent.next((f) => f.event === 'message' && f.message?.text === 'سفارشم کجاست؟')).conv;
    agent.send({ type: 'reply', conv, client_id: 'outage-1', text: 'فردا می‌رسد.' });
    await agent.next((f) => f.type === 'ack' && f.client_id === 'outage-1');
    await waitFor(async () => await tg('pasokh_outbox_pending_messages') >= 1
      && await tg('pasokh_outbound_results_total', ',result="retry"') >= 1, 'the backlog and the retries counted');
    await waitFor(async () => await tg('pasokh_outbox_oldest_pending_age_seconds') >= 1, 'the oldest message a second old');
    assert.equal(await tg('pasokh_outbound_results_total', ',result="sent"'), undefined, 'nothing sent yet');
    assert.ok(await tg('pasokh_outbound_messages_total') >= 1, 'the reply counted as it entered the outbox');

    await bringBack();
    bringBack = null;
    const sent = await agent.next((f) => f.event === 'delivery' && f.conv === conv && f.status === 'sent', 10000);
    assert.ok(sent);
    await waitFor(async () => await tg('pasokh_outbox_pending_messages') === 0, 'the backlog cleared');
    assert.equal(await tg('pasokh_outbox_oldest_pending_age_seconds'), 0);
    assert.ok(await tg('pasokh_outbound_results_total', ',result="sent"') >= 1);
    await agent.close();
  } finally {
    if (bringBack) await bringBack();
    fake.stop();
    await gw.cleanup();
    await redis.cleanup();
  }
});

test('/metrics shows the conversations waiting in each team\'s queue and the team\'s agents free to take one', async () => {
  await withGateway(async (gw) => {
    await gw.createAgent('sara', 'sara-secret-1', { name: 'Sara' });
    const team = (series) => metric(gw, `${series}{team="support"}`);
    assert.equal(await team('pasokh_team_queued_conversations'), 0);
    // Nobody online: the conversation waits.
    const posted = await postMessage(gw, { message_id: 'q-1', customer: { id: 'c-q' }, text: 'anyone there?' });
    assert.equal(posted.status, 201, posted.text);
    await waitFor(async () => await team('pasokh_team_queued_conversations') === 1, 'one queued');
    assert.equal(await team('pasokh_team_agents_available'), 0);
    // An agent comes online: it takes the conversation, with room for more.
    const socket = await agentSocket(gw, (await login(gw, 'sara', 'sara-secret-1')).json.token);
    socket.send({ type: 'presence', status: 'online', client_id: 'p1' });
    await socket.next((f) => f.type === 'ack' && f.client_id === 'p1');
    await waitFor(async () => await team('pasokh_team_queued_conversations') === 0, 'the queue drained');
    assert.equal(await team('pasokh_team_agents_available'), 1);
    await socket.close();
  }, { routing: { default_capacity: 3 } });
});

const readyz = async (gw) => {
  const res = await fetch(`${gw.base}/readyz`);
  return { status: res.status, body: await res.json() };
};

test('a Redis that may evict keys keeps /readyz at 503 naming its maxmemory-policy, logged once per connection', async () => {
  await withGateway(async (gw, redis) => {
    // volatile-lru (ElastiCache's default) evicts the dedup keys first: retries of answered messages stored again.
    await waitFor(async () => (await readyz(gw)).body.error?.code === 'redis_evicts_keys', 'readyz names the policy');
    const answer = await readyz(gw);
    assert.equal(answer.status, 503);
    assert.match(answer.body.error.message, /maxmemory-policy is volatile-lru.*noeviction/);
    assert.equal(await metric(gw, 'pasokh_redis_evicting_policy{policy="volatile-lru"}'), 1);
    const policyLines = () => gw.output.split('\n').filter((l) => l.includes('maxmemory-policy is volatile-lru'));
    assert.equal(policyLines().length, 1, gw.output);
    assert.match(policyLines()[0], /\[error\]/);
    // Mended on the Redis side: the next connection finds noeviction and the gateway is ready.
    const admin = await redisAdmin(redis);
    try {
      assert.match(await admin.send('CONFIG', 'SET', 'maxmemory-policy', 'noeviction'), /OK/);
      await admin.send('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    } finally {
      admin.close();
    }
    await waitFor(async () => (await readyz(gw)).status === 200, 'ready on noeviction', 15000);
    assert.equal(await metric(gw, 'pasokh_redis_evicting_policy{policy="volatile-lru"}'), 0);
    assert.equal(policyLines().length, 1, 'said once for the connection that had it');
  }, {}, { redisArgs: ['--maxmemory-policy', 'volatile-lru'], waitReady: false });
});

test('Redis out of memory: ingest answers 503, the log says so a few times only, /readyz is 503 until memory is freed', async () => {
  await withGateway(async (gw, redis) => {
    const admin = await redisAdmin(redis);
    try {
      assert.match(await admin.send('CONFIG', 'SET', 'maxmemory', '1'), /OK/);  // every write is refused (OOM)
      const full = Date.now();
      // 4 writers for 3 s (at least 500 posts), while the background work (routing, outbox, retention) fails too.
      const statuses = [];
      await Promise.all(Array.from({ length: 4 }, async (_, writer) => {
        for (let i = 0; i < 125 || Date.now() - full < 3000; ++i) {
          statuses.push((await postMessage(gw, { message_id: `oom-${writer}-${i}`, customer: { id: `c-oom-${writer}` },
            text: 'hello?' })).status);
        }
      }));
      assert.deepEqual([...new Set(statuses)], [503], 'every post refused');
      const answer = await readyz(gw);
      assert.equal(answer.status, 503);
      assert.equal(answer.body.error.code, 'redis_out_of_memory', JSON.stringify(answer.body));
      assert.ok(await metric(gw, 'pasokh_errors_total{kind="redis_oom"}') >= 1);
      await sleep(200);  // the last lines reach the pipe
      // Each kind of failure once (the next in 10 s), whatever the number of requests.
      const lines = gw.output.split('\n').filter((l) => l.includes('OOM'));
      // Not passed by a log that says nothing: the refused posts are in it at least.
      assert.ok(lines.some((l) => l.includes('ingest batch')), `no line for the refused posts:\n${lines.join('\n')}`);
      const kinds = new Set(lines.map((l) => l.replace(/^\[[^\]]*\] /, '')));
      assert.equal(kinds.size, lines.length, `a kind logged twice in ${Date.now() - full} ms:\n${lines.join('\n')}`);
      assert.ok(lines.length < 8, `${lines.length} lines:\n${lines.join('\n')}`);
      assert.match(await admin.send('CONFIG', 'SET', 'maxmemory', '0'), /OK/);
      await waitFor(async () => (await readyz(gw)).status === 200, 'ready once memory is there');
      assert.equal((await postMessage(gw, { message_id: 'oom-after', customer: { id: 'c-oom-0' }, text: 'back?' })).status, 201);
    } finally {
      admin.close();
    }
  });
});

test('SIGTERM under keep-alive traffic: every request sent gets an HTTP answer (only new connections are refused)', async () => {
  await withGateway(async (gw) => {
    // 32 writers on keep-alive connections (fetch's pool), as a provider's retrying client or a load balancer.
    const statuses = new Map();
    const failures = [];
    let refused = 0;
    let stop = false;
    const writer = async (w) => {
      for (let i = 0; !stop; ++i) {
        try {
          // POSTs: fetch sends them again on no connection of its own accord (it may a GET).
          const res = await fetch(`${gw.base}/api/v1/channels/api/messages`, {
            method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
            body: JSON.stringify({ message_id: `ka-${w}-${i}`, customer: { id: `c-ka-${w}` }, text: 'hello' }),
          });
          await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        } catch (e) {
          // A connection opened after the listener closed: the request was never sent.
          if (e.cause?.code === 'ECONNREFUSED') ++refused;
          else failures.push(`${e.cause?.code ?? ''} ${e.cause?.message ?? e.message}`);
          await sleep(20);
        }
      }
    };
    const writers = Array.from({ length: 32 }, (_, w) => writer(w));
    await sleep(1500);
    const before = [...statuses.values()].reduce((a, b) => a + b, 0);
    gw.proc.kill('SIGTERM');
    const exit = await gw.exited;
    stop = true;
    await Promise.all(writers);
    assert.equal(exit.code, 0);
    assert.ok(before > 200, `${before} answered before the signal`);
    assert.deepEqual(failures, [], `${failures.length} requests got no answer (${refused} refused connections, answers ${JSON.stringify([...statuses])})`);
  });
});

test('a second SIGTERM during the drain stops the gateway at once, non-zero, saying it was forced', async () => {
  await withGateway(async (gw) => {
    // A request whose body never ends holds the drain open (up to its 5 s grace).
    const slow = net.connect(gw.port, '127.0.0.1');
    slow.on('error', () => {});
    await new Promise((r) => slow.once('connect', r));
    slow.write(`POST /api/v1/channels/api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n`
      + `Content-Length: 1000\r\n\r\n{"text":`);
    await sleep(200);
    gw.proc.kill('SIGTERM');
    await sleep(300);
    assert.equal(gw.proc.exitCode, null, 'still draining');
    const forcedAt = Date.now();
    gw.proc.kill('SIGTERM');
    const exit = await gw.exited;
    const took = Date.now() - forcedAt;
    slow.destroy();
    assert.ok(took < 1500, `exited ${took} ms after the second signal`);
    assert.equal(exit.signal, null);
    assert.equal(exit.code, 128 + 15);
    assert.match(gw.output, /signal 15 during the drain: stopping at once, drain not finished \(forced\)/);
  });
});

test('SIGHUP does not stop the gateway: it logs that a reload is not supported and keeps serving', async () => {
  await withGateway(async (gw) => {
    // One at a time: two signals sent before the first is handled arrive as one.
    const warnings = () => (gw.output.match(/SIGHUP: configuration reload is not supported; restart to apply changes/g) ?? []).length;
    for (let i = 1; i <= 2; i++) {
      gw.proc.kill('SIGHUP');
      await waitFor(() => warnings() === i, `a warning for SIGHUP ${i}`);
    }
    assert.equal(gw.proc.exitCode, null);
    assert.equal((await fetch(`${gw.base}/healthz`)).status, 200);
    const p = await postMessage(gw, { message_id: `hup-${process.pid}`, customer: { id: 'hup' }, text: 'hello' });
    assert.equal(p.status, 201, p.text);
    const exit = await gw.stop();
    assert.equal(exit.code, 0, 'SIGTERM still drains and exits 0');
  });
});
