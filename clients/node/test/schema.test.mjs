// The requests the client builds (hello, ping, stats, verify, and sends from
// the Nodemailer mapping) are valid against proto-spec/schema/request.schema.json,
// checked with proto-spec/tools/validate.py's validator (Python jsonschema;
// skipped when missing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, sidecarTransport } from '../src/index.js';
import { startFake } from './fake-daemon.mjs';

const tools = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../proto-spec/tools');
const probe = spawnSync('python3', ['-c', 'import jsonschema'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : 'python3 with jsonschema is not available';

const VALIDATE = `
import json, sys
sys.path.insert(0, sys.argv[1])
import validate
v = validate.validator("request.schema.json")
bad = 0
for line in sys.stdin:
    if line.strip():
        doc = json.loads(line)
        problems = validate.errors(v, doc)
        if problems:
            bad += 1
            print("INVALID", json.dumps(doc)[:300], problems)
print("checked")
sys.exit(1 if bad else 0)
`;

test('requests built by the client are valid against request.schema.json', { skip }, async () => {
  const fake = await startFake({
    onRequest(req, conn) {
      if (req.op === 'send') return conn.reply(req.id, { outcome: 'sent', recipients: [], duplicate: false });
      if (req.op === 'verify') return conn.reply(req.id, { ok: true, security: 'tls', server: 'x', auth_mechanisms: [], capabilities: [] });
      if (req.op === 'stats') return conn.reply(req.id, { uptime_ms: 1, connections: { open: 1, accepted: 1, refused: 0 }, requests: { in_flight: 0, total: 0, by_result: {}, by_operation: {} } });
      conn.reply(req.id, { pong: true });
    },
  });
  const client = createClient({ socketPath: fake.socketPath });
  const credential = { id: 'c1', host: 'smtp.example.com', port: 465, security: 'tls', username: 'u', password: 'p', tls: { min_version: '1.2' }, limits: { per_minute: 10 } };
  await client.ping();
  await client.ping('data');
  await client.ping({ data: 'x', delay_ms: 0 });
  await client.stats();
  await client.verify({ workspace_id: 'w', credential, timeout_ms: 1000 });
  const transport = sidecarTransport({ client, workspaceId: 'w', credentialId: 'stored', context: { workflow_id: 'wf' }, dedupWindowSeconds: 0, timeoutMs: 30000 });
  const send = (data) => new Promise((resolve, reject) => transport.send({ data }, (err, info) => (err ? reject(err) : resolve(info))));
  await send({ from: 'a@example.com', to: 'b@example.com', text: 'plain' });
  await send({
    from: { name: 'A', address: 'a@example.com' }, to: [{ name: 'Doe, Jane', address: 'j@example.com' }, 'k@example.com'], cc: 'c@example.com', bcc: ['d@example.com'], replyTo: 'r@example.com',
    subject: 'S', text: Buffer.from('t'), html: '<b>h</b>', priority: 'low', headers: [{ key: 'X-A', value: '1' }],
    attachments: [{ filename: 'a.txt', content: 'x' }, { href: 'https://example.com/f.pdf', cid: 'f' }],
    sidecar: { idempotencyKey: 'ex/n/1', context: { trigger_email: 't@example.com' } },
  });
  await client.close();
  await fake.close();
  const lines = fake.requests.map((r) => JSON.stringify(r)).join('\n');
  assert.ok(fake.requests.some((r) => r.op === 'hello') && fake.requests.filter((r) => r.op === 'send').length === 2);
  const res = spawnSync('python3', ['-c', VALIDATE, tools], { input: lines, encoding: 'utf8' });
  assert.equal(res.status, 0, res.stdout + res.stderr);
  assert.match(res.stdout, /checked/);
});
