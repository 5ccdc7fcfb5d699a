// Live tests that need only the daemon (no Postfix): limits from hello,
// idle close and reconnect, and a refusal with id null right after connecting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, withRetry } from '../src/index.js';
import { daemonAvailable, startDaemon, DAEMON_BIN } from './daemon.mjs';

const skip = daemonAvailable() ? false : `no smtp-sidecar binary at ${DAEMON_BIN} (set SMTP_SIDECAR_BIN)`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('live: max_in_flight and idle_timeout_ms from hello are respected; the client reconnects after idling', { skip, timeout: 30_000 }, async () => {
  const daemon = await startDaemon(['max_in_flight_per_connection=2', 'idle_timeout_seconds=1']);
  const client = createClient({ socketPath: daemon.socketPath, maxConnections: 1 });
  try {
    const hello = await client.hello();
    assert.equal(hello.limits.max_in_flight, 2);
    assert.equal(hello.limits.idle_timeout_ms, 1000);
    const t0 = Date.now();
    const res = await Promise.all(Array.from({ length: 6 }, (_, i) => client.ping({ data: String(i), delay_ms: 150 })));
    const took = Date.now() - t0;
    assert.deepEqual(res.map((r) => r.data), ['0', '1', '2', '3', '4', '5']);
    assert.ok(took >= 3 * 150 - 20, `6 pings of 150 ms, 2 at a time, took ${took} ms`);
    const stats = await client.stats();
    await sleep(1500); // past the idle timeout
    assert.equal((await client.ping('again')).data, 'again');
    const after = await client.stats();
    // one more connection (the daemon's count also holds startDaemon's readiness probe)
    assert.equal(after.connections.accepted, stats.connections.accepted + 1);
    assert.equal(client.connectionCount, 1);
  } finally {
    await client.close();
    await daemon.stop();
  }
});

test('live: too_many_connections (id null, right after connecting) fails the request, retryable', { skip, timeout: 30_000 }, async () => {
  const daemon = await startDaemon(['max_connections=1']);
  // startDaemon's readiness probe can still hold the one slot for a moment
  await sleep(300);
  const first = createClient({ socketPath: daemon.socketPath, maxConnections: 1 });
  const second = createClient({ socketPath: daemon.socketPath, maxConnections: 1 });
  try {
    await first.ping('hold');
    await assert.rejects(second.ping('x'), (e) => e.sidecarCode === 'too_many_connections' && e.code === 'ESOCKET' && e.retryable === true);
    await first.close();
    // the slot frees once the daemon has seen the close: withRetry covers the gap
    const t0 = Date.now();
    const pong = await withRetry(() => second.ping('now'), { retries: 20, baseDelayMs: 50, maxDelayMs: 200 });
    assert.equal(pong.data, 'now');
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    await second.close();
    await daemon.stop();
  }
});

test('live: a send over max_frame_bytes is refused by the client before writing', { skip, timeout: 30_000 }, async () => {
  const daemon = await startDaemon(['max_frame_bytes=2048']);
  const client = createClient({ socketPath: daemon.socketPath });
  try {
    await assert.rejects(client.send({ workspace_id: 'w', credential_id: 'c', to: 'a@example.test', text: 'x'.repeat(4096) }), (e) => e.sidecarCode === 'frame_too_large' && e.outcome === 'not_sent');
    const stats = await client.stats();
    assert.equal(stats.requests.by_operation.send ?? 0, 0);
  } finally {
    await client.close();
    await daemon.stop();
  }
});
