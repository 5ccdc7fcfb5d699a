import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, encodeRequest, FrameDecoder, SidecarError } from '../src/index.js';
import { startFake, tmpSocketPath } from './fake-daemon.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('framing: the README example frame, byte for byte', () => {
  const frame = encodeRequest(1, 'ping');
  assert.equal(frame.toString('hex'), '000000147b226964223a312c226f70223a2270696e67227d');
});

test('framing: a decoder fed one byte at a time, and two frames in one chunk', () => {
  const a = encodeRequest('a', 'ping', { data: 'h\u00e9llo \u2709' });
  const b = encodeRequest(2, 'stats');
  const d = new FrameDecoder();
  const out = [];
  for (const byte of Buffer.concat([a, b])) out.push(...d.push(Buffer.from([byte])));
  assert.deepEqual(out.map((p) => JSON.parse(p)), [{ id: 'a', op: 'ping', params: { data: 'h\u00e9llo \u2709' } }, { id: 2, op: 'stats' }]);
  const d2 = new FrameDecoder();
  assert.equal(d2.push(Buffer.concat([a, b])).length, 2);
  d2.end();
});

test('framing: an oversized header is refused from the header alone; a cut frame is truncated', () => {
  const d = new FrameDecoder(10);
  assert.throws(() => d.push(Buffer.from('0000000b', 'hex')), { kind: 'oversized', declaredLength: 11 });
  const d2 = new FrameDecoder();
  d2.push(encodeRequest(1, 'ping').subarray(0, 9));
  assert.throws(() => d2.end(), { kind: 'truncated' });
});

test('answers in any order are matched by id', async () => {
  const held = [];
  const fake = await startFake({
    onRequest(req, conn) {
      held.push([req, conn]);
      if (held.length === 3) for (const [r, c] of held.reverse()) c.reply(r.id, { pong: true, data: r.params.data });
    },
  });
  const client = createClient({ socketPath: fake.socketPath, maxConnections: 1 });
  const res = await Promise.all(['1', '2', '3'].map((d) => client.ping(d)));
  assert.deepEqual(res.map((r) => r.data), ['1', '2', '3']);
  assert.equal(fake.conns.length, 1);
  // every request carries a distinct id and hello came first
  assert.equal(fake.requests[0].op, 'hello');
  assert.deepEqual(fake.requests[0].params.versions, [1]);
  assert.equal(new Set(fake.requests.map((r) => r.id)).size, fake.requests.length);
  await client.close();
  await fake.close();
});

test('credentialStatus sends its filters and returns the result', async () => {
  const answer = { credentials: [{ id: 'c1', workspace_id: 'w1', label: '', host: 'h', quota: {}, pool: { pools: 0, open: 0, idle: 0, leased: 0, waiting: 0 }, last_error: { code: 'auth_failed', at: '2027-01-15T08:00:01.000Z' } }] };
  const fake = await startFake({
    onRequest(req, conn) {
      if (req.params?.credential_id === 'nope') conn.fail(req.id, { code: 'credential_not_found', message: 'No stored credential.', retryable: false, field: 'params.credential_id' });
      else conn.reply(req.id, answer);
    },
  });
  const client = createClient({ socketPath: fake.socketPath, maxConnections: 1 });
  assert.deepEqual(await client.credentialStatus(), answer);
  assert.equal((await client.credentialStatus({ workspace_id: 'w1' })).credentials[0].last_error.code, 'auth_failed');
  await assert.rejects(client.credentialStatus({ credential_id: 'nope' }), (e) => e instanceof SidecarError && e.sidecarCode === 'credential_not_found');
  const sent = fake.requests.filter((r) => r.op === 'credential_status');
  assert.deepEqual(sent.map((r) => r.params), [undefined, { workspace_id: 'w1' }, { credential_id: 'nope' }]);
  await client.close();
  await fake.close();
});

test('unknown members, codes and phases are tolerated (§4)', async () => {
  const fake = await startFake({
    onRequest(req, conn) {
      if (req.params?.data === 'new') conn.fail(req.id, { code: 'quantum_flux', message: 'new', retryable: true, future: 1 }, { outcome: 'not_sent', phase: 'warp' });
      else conn.send({ id: req.id, ok: true, result: { pong: true, data: 'x', extra: { a: 1 } }, trailer: true });
    },
  });
  const client = createClient({ socketPath: fake.socketPath });
  assert.equal((await client.ping('x')).data, 'x');
  await assert.rejects(client.ping('new'), (e) => e instanceof SidecarError && e.sidecarCode === 'quantum_flux' && e.code === 'ESIDECAR' && e.retryable === true && e.phase === 'warp' && e.command === 'WARP');
  await client.close();
  await fake.close();
});

test('an id:null refusal fails the unanswered requests of that connection with that error, after collecting the answers still coming', async () => {
  const fake = await startFake({
    onRequest(req, conn) {
      if (req.params?.data === 'boom') {
        conn.send({ id: null, ok: false, error: { code: 'truncated_frame', message: 'cut', retryable: false } });
        // requests already read are still answered, then the daemon closes
        setTimeout(() => {
          const keep = conn.requests.find((r) => r.params?.data === 'keep');
          conn.reply(keep.id, { pong: true, data: 'keep' });
          conn.socket.end();
        }, 20);
      }
    },
  });
  const client = createClient({ socketPath: fake.socketPath, maxConnections: 1 });
  const keep = client.ping('keep');
  const lost = client.ping('lost');
  await sleep(20);
  const boom = client.ping('boom');
  assert.equal((await keep).data, 'keep');
  for (const p of [lost, boom]) await assert.rejects(p, (e) => e.sidecarCode === 'truncated_frame' && e.code === 'EPROTOCOL' && e.retryable === false);
  // the client opens a new connection afterwards
  fake.conns.length; // eslint
  await client.close();
  await fake.close();
});

test('EPIPE before the refusal: the frame_too_large the daemon sent is what the request fails with', async () => {
  // The fake announces 32 MiB but enforces 1 KiB, reads only the header, answers
  // frame_too_large (id null) and destroys the socket while the client is still
  // writing the payload: the client's write fails (EPIPE/ECONNRESET).
  for (let i = 0; i < 5; i++) {
    const fake = await startFake({ maxFrameBytes: 1024 });
    const client = createClient({ socketPath: fake.socketPath, maxConnections: 1 });
    await client.ping('warm');
    const big = client.ping('z'.repeat(8 * 1024 * 1024));
    await assert.rejects(big, (e) => {
      assert.equal(e.sidecarCode, 'frame_too_large', `round ${i}: ${e.sidecarCode} ${e.message}`);
      assert.equal(e.code, 'EMESSAGE');
      return true;
    });
    // and the client is still usable, on a new connection
    assert.equal((await client.ping('after')).data, 'after');
    await client.close();
    await fake.close();
  }
});

test('a request over the announced max_frame_bytes is refused before anything is written', async () => {
  const fake = await startFake({ limits: { max_frame_bytes: 100, max_in_flight: 4, idle_timeout_ms: 60000 } });
  const client = createClient({ socketPath: fake.socketPath });
  await assert.rejects(client.send({ workspace_id: 'w', credential_id: 'c', to: 'a@b.c', text: 'x'.repeat(200) }), (e) => e.sidecarCode === 'frame_too_large' && e.outcome === 'not_sent' && e.code === 'EMESSAGE');
  assert.equal(fake.requests.filter((r) => r.op === 'send').length, 0);
  assert.equal((await client.ping('ok')).data, 'ok');
  await client.close();
  await fake.close();
});

test('idle close by the daemon: the next request reconnects', async () => {
  const fake = await startFake({
    onRequest(req, conn) {
      conn.reply(req.id, { pong: true, data: req.params?.data });
      if (conn.index === 0) setTimeout(() => conn.socket.end(), 10); // idle close
    },
  });
  const client = createClient({ socketPath: fake.socketPath });
  assert.equal((await client.ping('1')).data, '1');
  await sleep(50);
  assert.equal((await client.ping('2')).data, '2');
  assert.equal(fake.conns.length, 2);
  await client.close();
  await fake.close();
});

test('client-side idle close before the daemon\'s idle_timeout_ms', async () => {
  const fake = await startFake({ limits: { max_frame_bytes: 1 << 20, max_in_flight: 8, idle_timeout_ms: 600 } });
  const client = createClient({ socketPath: fake.socketPath });
  await client.ping('1');
  assert.equal(client.connectionCount, 1);
  await sleep(700);
  assert.equal(client.connectionCount, 0);
  assert.equal((await client.ping('2')).data, '2');
  await client.close();
  await fake.close();
});

test('a connection closed under a request (idle-close race): ping is re-sent once; a send without dedup is not', async () => {
  const fake = await startFake({
    onRequest(req, conn) {
      if (conn.index === 0 && req.id !== 1) return conn.socket.destroy(); // closes without answering
      if (req.op === 'send') return conn.socket.destroy();
      conn.reply(req.id, { pong: true, data: req.params?.data });
    },
  });
  const client = createClient({ socketPath: fake.socketPath, maxConnections: 1 });
  assert.equal((await client.ping('resent')).data, 'resent');
  await assert.rejects(client.send({ workspace_id: 'w', credential_id: 'c', to: 'a@b.c', dedup_window_seconds: 0 }), (e) => e.sidecarCode === 'connection_lost' && e.retryable === false && e.outcome === 'outcome_unknown' && e.code === 'ESOCKET');
  await client.close();
  await fake.close();
});

test('max_in_flight from hello is respected on each connection; the pool opens more connections', async () => {
  let open = 0;
  let maxOpen = 0;
  const perConn = new Map();
  const fake = await startFake({
    limits: { max_frame_bytes: 1 << 20, max_in_flight: 2, idle_timeout_ms: 60000 },
    onRequest(req, conn) {
      open++;
      perConn.set(conn.index, (perConn.get(conn.index) ?? 0) + 1);
      maxOpen = Math.max(maxOpen, perConn.get(conn.index));
      setTimeout(() => {
        open--;
        perConn.set(conn.index, perConn.get(conn.index) - 1);
        conn.reply(req.id, { pong: true, data: req.params.data });
      }, 15);
    },
  });
  const one = createClient({ socketPath: fake.socketPath, maxConnections: 1 });
  const res = await Promise.all(Array.from({ length: 9 }, (_, i) => one.ping(String(i))));
  assert.deepEqual(res.map((r) => r.data), Array.from({ length: 9 }, (_, i) => String(i)));
  assert.ok(maxOpen <= 2, `max in flight seen ${maxOpen}`);
  await one.close();
  const three = createClient({ socketPath: fake.socketPath, maxConnections: 3 });
  await Promise.all(Array.from({ length: 12 }, (_, i) => three.ping(String(i))));
  assert.ok(maxOpen <= 2);
  assert.equal(fake.conns.length, 1 + 3);
  await three.close();
  await fake.close();
});

test('too_many_connections right after connecting fails the waiting requests (retryable) without a reconnect storm', async () => {
  const fake = await startFake({
    onConnection(conn) {
      conn.send({ id: null, ok: false, error: { code: 'too_many_connections', message: 'busy', retryable: true } });
      conn.socket.end();
      return false;
    },
  });
  const client = createClient({ socketPath: fake.socketPath });
  await assert.rejects(Promise.all([client.ping('a'), client.ping('b')]), (e) => e.sidecarCode === 'too_many_connections' && e.retryable === true && e.code === 'ESOCKET');
  await sleep(30);
  assert.ok(fake.conns.length <= 2, `${fake.conns.length} connections`);
  await client.close();
  await fake.close();
});

test('no daemon at the socket path: sidecar_unavailable (ESOCKET, retryable)', async () => {
  const client = createClient({ socketPath: tmpSocketPath() });
  await assert.rejects(client.ping(), (e) => e.sidecarCode === 'sidecar_unavailable' && e.code === 'ESOCKET' && e.retryable === true);
  await client.close();
});

test('a client-side timeout rejects with ETIMEDOUT; the late answer is ignored', async () => {
  const fake = await startFake({ onRequest: (req, conn) => setTimeout(() => conn.reply(req.id, { pong: true }), 80) });
  const client = createClient({ socketPath: fake.socketPath });
  await assert.rejects(client.ping('x', { timeoutMs: 20 }), (e) => e.sidecarCode === 'client_timeout' && e.code === 'ETIMEDOUT');
  await sleep(100);
  assert.equal((await client.ping('y')).pong, true);
  await client.close();
  await fake.close();
});

test('send: the result is shaped like Nodemailer info, errors carry the partial result', async () => {
  const fake = await startFake({
    onRequest(req, conn) {
      if (req.params.subject === 'fail') {
        return conn.fail(req.id, { code: 'recipients_rejected', message: 'all refused', retryable: false, smtp: { code: 550, enhanced_code: '5.1.1', text: 'User unknown' } }, { outcome: 'not_sent', phase: 'rcpt', recipients: [{ address: 'x@example.org', accepted: false, smtp: { code: 550, enhanced_code: '5.1.1', text: 'User unknown' } }], duplicate: false });
      }
      conn.reply(req.id, {
        outcome: 'sent',
        message_id: '<m1@example.com>',
        smtp: { code: 250, enhanced_code: '2.0.0', text: 'Ok: queued as 4XyZ1' },
        recipients: [
          { address: 'ops@example.com', accepted: true, smtp: { code: 250, text: 'Ok' } },
          { address: 'jane@example.com', accepted: false, smtp: { code: 550, enhanced_code: '5.1.1', text: 'User unknown' } },
        ],
        duplicate: false,
      });
    },
  });
  const client = createClient({ socketPath: fake.socketPath });
  const info = await client.send({ workspace_id: 'w', credential_id: 'c', from: 'Alerts <alerts@example.com>', to: 'ops@example.com, "Doe, Jane" <jane@example.com>', bcc: ['ops@example.com'] });
  assert.deepEqual(
    { messageId: info.messageId, accepted: info.accepted, rejected: info.rejected, response: info.response, envelope: info.envelope, outcome: info.outcome, duplicate: info.duplicate },
    { messageId: '<m1@example.com>', accepted: ['ops@example.com'], rejected: ['jane@example.com'], response: '250 2.0.0 Ok: queued as 4XyZ1', envelope: { from: 'alerts@example.com', to: ['ops@example.com', 'jane@example.com'] }, outcome: 'sent', duplicate: false },
  );
  await assert.rejects(client.send({ workspace_id: 'w', credential_id: 'c', to: 'x@example.org', subject: 'fail' }), (e) => {
    assert.equal(e.code, 'EENVELOPE');
    assert.equal(e.sidecarCode, 'recipients_rejected');
    assert.equal(e.responseCode, 550);
    assert.equal(e.response, '550 5.1.1 User unknown');
    assert.equal(e.command, 'RCPT TO');
    assert.deepEqual(e.rejected, ['x@example.org']);
    assert.equal(e.outcome, 'not_sent');
    assert.equal(e.result.phase, 'rcpt');
    assert.deepEqual(e.info.rejected, ['x@example.org']);
    return true;
  });
  await client.close();
  await fake.close();
});

test('EPIPE on a write made before the event loop read the refusal: the refusal is still what the request fails with', async () => {
  // The fake runs in another process, so it can answer and close while this
  // one is busy: after hello it sends an id:null refusal and closes at once;
  // the client, blocked meanwhile, writes its next request before it has read
  // that refusal, and the write fails with EPIPE.
  const { spawn } = await import('node:child_process');
  const socketPath = tmpSocketPath();
  const server = `
    const net = require('node:net');
    const frame = (o) => { const p = Buffer.from(JSON.stringify(o)); const h = Buffer.alloc(4); h.writeUInt32BE(p.length); return Buffer.concat([h, p]); };
    const srv = net.createServer((s) => {
      srv.close(); // one connection only: a re-sent request cannot get the refusal again
      s.on('error', () => {});
      s.once('data', (d) => {
        const req = JSON.parse(d.subarray(4));
        s.write(frame({ id: req.id, ok: true, result: { version: 1, server: 'smtp-sidecar', server_version: 'fake', operations: ['ping'], limits: { max_frame_bytes: 1048576, max_in_flight: 8, idle_timeout_ms: 60000 } } }));
        setTimeout(() => { s.write(frame({ id: null, ok: false, error: { code: 'shutting_down', message: 'The sidecar is stopping.', retryable: true } })); s.destroy(); }, 50);
      });
    });
    srv.listen(process.argv[1], () => console.log('ready'));`;
  const child = spawn(process.execPath, ['-e', server, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  try {
    const client = createClient({ socketPath, maxConnections: 1 });
    await client.hello(); // resolves from the poll phase…
    const t = Date.now();
    while (Date.now() - t < 300); // …the refusal arrives and the socket closes meanwhile
    await assert.rejects(client.ping('after'), (e) => {
      assert.equal(e.sidecarCode, 'shutting_down', `${e.sidecarCode}: ${e.message}`);
      assert.equal(e.retryable, true);
      return true;
    });
    await client.close();
  } finally {
    child.kill();
  }
});

test('shutting_down: the connection is no longer used; a retry goes to a new connection', async () => {
  let stopping = true;
  const fake = await startFake({
    onRequest(req, conn) {
      if (conn.index === 0 && stopping) {
        stopping = false;
        return conn.fail(req.id, { code: 'shutting_down', message: 'stopping', retryable: true });
      }
      conn.reply(req.id, { pong: true, data: String(conn.index) });
    },
  });
  const client = createClient({ socketPath: fake.socketPath, maxConnections: 1 });
  await assert.rejects(client.ping('a'), { sidecarCode: 'shutting_down', code: 'ESOCKET', retryable: true });
  assert.equal((await client.ping('b')).data, '1');
  await client.close();
  await fake.close();
});
