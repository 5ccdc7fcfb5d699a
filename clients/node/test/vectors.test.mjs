// proto-spec/vectors/vectors.json: the client's framing and JSON against the
// spec's vectors, and (when the daemon binary is there) the client's decoder
// reading the daemon's real answers to them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { encodeRequest, FrameDecoder, SidecarError, nodemailerCode } from '../src/index.js';
import { daemonAvailable, startDaemon } from './daemon.mjs';

const spec = JSON.parse(fs.readFileSync(new URL('../../../proto-spec/vectors/vectors.json', import.meta.url)));
const vectors = spec.vectors;

/** Whether `actual` holds at least the members of `expected` (null: absent or null). */
function assertSubset(actual, expected, where) {
  if (expected === null) return assert.ok(actual === null || actual === undefined, `${where}: expected null, got ${JSON.stringify(actual)}`);
  if (typeof expected !== 'object') return assert.equal(actual, expected, where);
  assert.equal(typeof actual, 'object', `${where}: not an object`);
  for (const [k, v] of Object.entries(expected)) assertSubset(actual?.[k], v, `${where}.${k}`);
}

test('vectors.json is the version the client speaks', () => {
  assert.equal(spec.version, 1);
  assert.ok(vectors.length >= 40);
});

for (const v of vectors) {
  test(`vector ${v.name}: decoded with the client's frame decoder`, () => {
    const stream = Buffer.from(v.stream_hex, 'hex');
    const d = new FrameDecoder(v.max_frame_bytes);
    const kinds = v.frames.map((f) => Object.keys(f)[0]);
    if (kinds[0] === 'oversized') {
      assert.throws(() => d.push(stream), (e) => e.kind === 'oversized' && e.declaredLength === v.frames[0].oversized.declared_length);
      return;
    }
    const payloads = d.push(stream);
    if (kinds.at(-1) === 'truncated') {
      assert.equal(payloads.length, kinds.length - 1);
      assert.throws(() => d.end(), (e) => e.kind === 'truncated' && e.received === v.frames.at(-1).truncated.received && e.expected === v.frames.at(-1).truncated.expected);
      return;
    }
    d.end();
    assert.equal(payloads.length, v.frames.length);
    v.frames.forEach((f, i) => {
      if (!f.request) return;
      const req = JSON.parse(payloads[i].toString('utf8'));
      assert.deepEqual(req.id, f.request.id);
      assert.equal(req.op, f.request.op);
      assertSubset(req.params ?? null, f.request.params, 'params');
    });
  });

  if (v.frames.every((f) => f.request)) {
    test(`vector ${v.name}: the client encodes the same requests`, () => {
      const stream = Buffer.from(v.stream_hex, 'hex');
      const ours = Buffer.concat(v.frames.map((f) => encodeRequest(f.request.id, f.request.op, f.request.params)));
      // Byte for byte where the vector is compact JSON in id, op, params order;
      // otherwise (unknown members, other order) the same JSON values.
      const canonical = new FrameDecoder().push(stream).every((p) => {
        const o = JSON.parse(p);
        return JSON.stringify({ id: o.id, op: o.op, ...(o.params != null ? { params: o.params } : {}) }) === p.toString('utf8');
      });
      if (canonical) assert.equal(ours.toString('hex'), v.stream_hex);
      const mine = new FrameDecoder().push(ours).map((p) => JSON.parse(p));
      assert.equal(mine.length, v.frames.length);
      for (const [i, f] of v.frames.entries()) assert.ok(ours.length > 0 && mine[i].id === f.request.id && mine[i].op === f.request.op);
      for (const m of mine) assert.ok(m.params === undefined || (typeof m.params === 'object' && m.params !== null), 'params omitted rather than null');
    });
  }

  const errors = v.responses.filter((r) => r.ok === false);
  if (errors.length) {
    test(`vector ${v.name}: the refusal becomes a SidecarError`, () => {
      for (const r of errors) {
        const e = new SidecarError({ message: 'm', ...r.error });
        assert.equal(e.sidecarCode, r.error.code);
        assert.equal(e.retryable, r.error.retryable);
        assert.equal(e.field, r.error.field ?? undefined);
        assert.equal(e.code, nodemailerCode(r.error.code, r.error.field));
        assert.notEqual(e.code, 'ESIDECAR', `${r.error.code} has no Nodemailer-style code`);
      }
    });
  }
}

test('live: the daemon\'s answers to every vector, read with the client\'s decoder', { skip: daemonAvailable() ? false : 'no smtp-sidecar binary (SMTP_SIDECAR_BIN)' }, async () => {
  const daemon = await startDaemon([`max_frame_bytes=${spec.max_frame_bytes}`]);
  try {
    for (const v of vectors) {
      const { responses, closed } = await replay(daemon.socketPath, v);
      assert.equal(responses.length, v.responses.length, `${v.name}: ${JSON.stringify(responses)}`);
      for (const expected of v.responses) {
        const match = responses.find((r) => JSON.stringify(r.id ?? null) === JSON.stringify(expected.id ?? null) && (expected.error ? r.error?.code === expected.error.code : r.ok === true));
        assert.ok(match, `${v.name}: no response like ${JSON.stringify(expected)} in ${JSON.stringify(responses)}`);
        assertSubset(match, expected, v.name);
      }
      assert.equal(closed, v.server_closes, `${v.name}: server_closes`);
    }
  } finally {
    await daemon.stop();
  }
});

function replay(socketPath, v) {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ path: socketPath, allowHalfOpen: true });
    const d = new FrameDecoder();
    const responses = [];
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ responses, closed });
    };
    s.on('data', (c) => {
      for (const p of d.push(c)) responses.push(JSON.parse(p));
      if (!v.server_closes && responses.length === v.responses.length) setTimeout(() => finish(false), 100);
    });
    s.on('end', () => finish(true));
    s.on('error', (e) => (v.server_closes ? finish(true) : reject(e)));
    const timer = setTimeout(() => finish(false), 3000);
    s.once('connect', () => {
      s.write(Buffer.from(v.stream_hex, 'hex'));
      if (v.client_half_closes) s.end();
    });
  });
}
