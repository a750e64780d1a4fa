// What operators watch during an outage, with real processes: the Redis links
// in /metrics and /readyz, the log while every request fails, and stopping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RedisServer, Pasokh, defaultConfig, waitFor,
} from '../support/harness.mjs';

async function metric(g, series) {
  const text = await (await fetch(`${g.base}/metrics`)).text();
  const row = text.split('\n').find((l) => l.startsWith(`${series} `));
  return row === undefined ? undefined : Number(row.split(' ').pop());
}

// A Redis and a gateway of the test's own: these tests take them down.
async function withGateway(fn, extra = {}) {
  const redis = await new RedisServer().start();
  const gw = await new Pasokh(defaultConfig(redis, extra)).start();
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
    assert.equal(await reconnects('commands'), 0);
    assert.equal(await reconnects('pubsub'), 0);
    await redis.stop();
    await waitFor(async () => await connected('commands') === 0 && await connected('pubsub') === 0, 'both links down');
    await redis.start();
    await waitFor(async () => await connected('commands') === 1 && await connected('pubsub') === 1, 'both links up', 15000);
    await waitFor(async () => await reconnects('pubsub') === 1, 'the pub/sub reconnect counted');
    assert.equal(await reconnects('commands'), 1);
  });
});
