// Live tests: the real daemon (SMTP_SIDECAR_BIN) sending through a real
// Postfix (scripts/postfix-harness.sh). Skipped cleanly when either is missing.
// POSTFIX_HARNESS_DIR=DIR reuses a harness already started in DIR; otherwise,
// as root, one is started in a temporary directory and stopped at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient, sidecarTransport, SidecarError, withRetry } from '../src/index.js';
import { toSendInfo } from '../src/result.js';
import { daemonAvailable, startDaemon, DAEMON_BIN } from './daemon.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const harness = path.join(repoRoot, 'scripts/postfix-harness.sh');
const hostileScript = path.join(repoRoot, 'scripts/hostile-smtp/hostile_smtp.py');
// The one scenario file both official clients replay (clients/fixtures/README.md).
const scenarios = JSON.parse(fs.readFileSync(path.join(repoRoot, 'clients/fixtures/scenarios.json'), 'utf8'));
// The scenarios issue #19 names: the file must keep covering them.
const REQUIRED = ['sent', 'partial-refusal', 'all-refused', 'auth-failure', 'tls-failure', 'request-timeout', 'outcome-unknown', 'duplicate', 'rate-limited', 'mail-loop'];
// The Nodemailer-style `code` each scenario's sidecar code must surface as (this client's view).
const NODEMAILER = { recipients_rejected: 'EENVELOPE', mail_loop: 'EENVELOPE', auth_failed: 'EAUTH', tls_failed: 'ECONNECTION', certificate_invalid: 'ECONNECTION', connection_failed: 'ECONNECTION', request_timeout: 'ETIMEDOUT', outcome_unknown: 'EOUTCOMEUNKNOWN', rate_limited: 'ERATELIMIT' };

function readEnv(file) {
  const env = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
  }
  return env;
}

let skip = false;
if (!daemonAvailable()) skip = `no smtp-sidecar binary at ${DAEMON_BIN} (set SMTP_SIDECAR_BIN)`;
else if (!process.env.POSTFIX_HARNESS_DIR && !(process.getuid?.() === 0 && fs.existsSync(harness))) skip = 'no Postfix harness (run as root, or set POSTFIX_HARNESS_DIR)';

let harnessDir = null;
let startedHarness = false;
let daemon = null;
let client = null;
let vars = null; // the harness's ports.env and users.env
let ph = null; // the scenario placeholders (clients/fixtures/README.md)
const hostiles = [];
const ran = new Set();

/** scripts/hostile-smtp/hostile_smtp.py with one fault; resolves {port, events} once it listens. */
async function startHostile(fault) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sidecar-node-hostile-'));
  const portFile = path.join(dir, 'port');
  const events = path.join(dir, 'events');
  const child = spawn('python3', [hostileScript, '--port-file', portFile, '--events', events, '--fault', fault], { stdio: 'ignore' });
  const h = { child, dir, events, port: null };
  hostiles.push(h);
  for (let i = 0; i < 200 && h.port === null; i++) {
    if (child.exitCode !== null) throw new Error(`hostile_smtp.py --fault ${fault} exited ${child.exitCode}`);
    const text = fs.existsSync(portFile) ? fs.readFileSync(portFile, 'utf8').trim() : '';
    if (text) h.port = Number(text);
    else await new Promise((r) => setTimeout(r, 50));
  }
  if (h.port === null) throw new Error(`hostile_smtp.py --fault ${fault} did not start`);
  return h;
}

let dotDrop = null;

before(async () => {
  if (skip) return;
  harnessDir = process.env.POSTFIX_HARNESS_DIR;
  if (!harnessDir) {
    harnessDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sidecar-node-postfix-'));
    fs.chmodSync(harnessDir, 0o755);
    try {
      execFileSync(harness, ['start', harnessDir], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 90_000 });
      startedHarness = true;
    } catch (err) {
      skip = `the Postfix harness did not start: ${String(err.stderr ?? err.message).slice(-300)}`;
      return;
    }
  }
  vars = { ...readEnv(path.join(harnessDir, 'ports.env')), ...readEnv(path.join(harnessDir, 'users.env')) };
  const closedPort = await new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
  dotDrop = await startHostile('dot:drop');
  const greetingStall = await startHostile('greeting:stall');
  ph = {
    RUN_ID: `${Date.now().toString(36)}${process.pid}`,
    SMTP_HOST: vars.SMTP_HOST ?? '127.0.0.1',
    SMTP_TLS_NAME: vars.SMTP_TLS_NAME ?? 'localhost',
    SMTP_PORT: Number(vars.SUBMISSION_PORT),
    SMTPS_PORT: Number(vars.SMTPS_PORT),
    BADCERT_PORT: Number(vars.BADCERT_PORT),
    STOCK_SUBMISSION_PORT: Number(vars.STOCK_SUBMISSION_PORT),
    CLOSED_PORT: closedPort,
    HOSTILE_DOT_DROP_PORT: dotDrop.port,
    HOSTILE_GREETING_STALL_PORT: greetingStall.port,
    HOSTILE_CA_PEM: fs.readFileSync(path.join(repoRoot, 'scripts/hostile-smtp/ca.pem'), 'utf8'),
    SMTP_USER: vars.SMTP_USER,
    SMTP_PASSWORD: vars.SMTP_PASSWORD,
    SMTP_CA_PEM: fs.readFileSync(vars.SMTP_CA_FILE, 'utf8'),
  };
  Object.assign(vars, { RUN_ID: ph.RUN_ID, SMTP_CA_PEM: ph.SMTP_CA_PEM }); // for the tests below
  daemon = await startDaemon();
  client = createClient({ socketPath: daemon.socketPath, maxConnections: 2 });
});

after(async () => {
  for (const h of hostiles) {
    if (h.child.exitCode === null) {
      const exited = new Promise((r) => h.child.once('exit', r));
      h.child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(h.dir, { recursive: true, force: true });
  }
  await client?.close();
  await daemon?.stop();
  if (startedHarness) {
    try {
      execFileSync(harness, ['stop', harnessDir], { stdio: 'ignore', timeout: 30_000 });
    } catch {}
    fs.rmSync(harnessDir, { recursive: true, force: true });
  }
});

/** Replaces ${NAME} placeholders; a string that is exactly one placeholder takes the placeholder's type (ports are numbers). An unknown name throws. */
export function substitute(value, v) {
  if (typeof value === 'string') {
    const whole = /^\$\{([A-Z0-9_]+)\}$/.exec(value);
    if (whole) {
      if (!(whole[1] in v)) throw new Error(`unknown placeholder ${whole[1]}`);
      return v[whole[1]];
    }
    return value.replace(/\$\{([A-Z0-9_]+)\}/g, (_, k) => {
      if (!(k in v)) throw new Error(`unknown placeholder ${k}`);
      return String(v[k]);
    });
  }
  if (Array.isArray(value)) return value.map((x) => substitute(x, v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, substitute(x, v)]));
  return value;
}

/** What a replay compares with `expect` (clients/fixtures/README.md, "What is compared"). */
function observe(ok, result, code, retryable) {
  const r = result && typeof result === 'object' ? result : {};
  return {
    ok,
    code,
    outcome: typeof r.outcome === 'string' ? r.outcome : null,
    duplicate: typeof r.duplicate === 'boolean' ? r.duplicate : null,
    retryable: ok ? null : retryable,
    recipients: Array.isArray(r.recipients) ? r.recipients.map((x) => ({ address: x.address, accepted: x.accepted })) : null,
  };
}

for (const s of scenarios) {
  test(`live scenario ${s.name}`, { timeout: 60_000 }, async (t) => {
    if (skip) return t.skip(skip);
    ran.add(s.name);
    const n = s.repeat ?? 1;
    for (let i = 1; i <= n; i++) {
      const req = substitute(s.request, { ...ph, REPEAT_INDEX: i });
      const e = i === n ? s.expect : s.expect_first;
      let got;
      let err = null;
      let raw = null;
      try {
        raw = await client.request(req.op, req.params);
        got = observe(true, raw, null, null);
      } catch (x) {
        err = x;
        assert.ok(err instanceof SidecarError, `${s.name} #${i}: ${err}`);
        got = observe(false, err.result, err.sidecarCode, err.retryable);
      }
      assert.deepEqual(got, e, `${s.name} #${i}: ${err?.message ?? ''}`);
      // this client's view of the same answer: Nodemailer-style members
      const accepted = (e.recipients ?? []).filter((x) => x.accepted).map((x) => x.address);
      const rejected = (e.recipients ?? []).filter((x) => !x.accepted).map((x) => x.address);
      if (!err && req.op === 'send') {
        const info = toSendInfo(raw, req.params);
        assert.equal(info.outcome, e.outcome);
        assert.equal(info.duplicate, e.duplicate);
        assert.match(info.messageId, /^<.+@.+>$/);
        assert.match(info.response, /^250 /);
        assert.deepEqual(info.accepted, accepted);
        assert.deepEqual(info.rejected, rejected);
        assert.equal(info.envelope.from, ph.SMTP_USER);
      } else if (err) {
        assert.equal(err.code, NODEMAILER[e.code] ?? 'ESIDECAR', `${s.name}: Nodemailer code of ${e.code}`);
        if (e.recipients?.length) {
          assert.deepEqual(err.accepted, accepted);
          assert.deepEqual(err.rejected, rejected);
        }
        if (e.code === 'auth_failed') {
          assert.equal(err.responseCode, 535);
          assert.match(err.response, /^535 5\.7\.8 /);
          // a failed verify has no result, so no phase to name the command from
          if (req.op === 'send') assert.equal(err.command, 'AUTH');
        }
        if (e.code === 'rate_limited') assert.ok(err.retryAfterMs > 0);
        if (e.code === 'recipients_rejected') assert.equal(err.responseCode, 550);
        if (e.code === 'outcome_unknown') assert.equal(err.phase, 'data');
      }
    }
  });
}

test('live: every scenario of the shared file was replayed', async (t) => {
  if (skip) return t.skip(skip);
  const names = scenarios.map((s) => s.name);
  assert.equal(new Set(names).size, names.length, 'scenario names must be unique');
  assert.deepEqual(REQUIRED.filter((n) => !names.includes(n)), [], 'missing from the fixture');
  assert.deepEqual(names.filter((n) => !ran.has(n)), [], 'not replayed');
  t.diagnostic(`replayed ${ran.size} of ${names.length} scenarios`);
});

test('live: withRetry does not re-send a message whose outcome is unknown', { timeout: 60_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const s = scenarios.find((x) => x.name === 'outcome-unknown');
  const req = substitute(s.request, { ...ph, RUN_ID: `${ph.RUN_ID}-retry`, REPEAT_INDEX: 1 });
  const messages = () => fs.readFileSync(dotDrop.events, 'utf8').split('\n').filter((l) => / body \d+$/.test(l)).length;
  const before = messages();
  let calls = 0;
  await assert.rejects(
    withRetry(() => (calls++, client.request(req.op, req.params)), { retries: 3, baseDelayMs: 10, maxDelayMs: 20 }),
    (e) => e.sidecarCode === 'outcome_unknown' && e.code === 'EOUTCOMEUNKNOWN' && e.retryable === false,
  );
  assert.equal(calls, 1);
  assert.equal(messages() - before, 1, 'the hostile server received the message more than once');
});

test('live: hello, ping, stats and verify through the client', { skip, timeout: 30_000 }, async () => {
  const hello = await client.hello();
  assert.equal(hello.version, 1);
  assert.ok(hello.limits.max_in_flight >= 1);
  assert.deepEqual(await client.ping('h\u00e9llo'), { pong: true, data: 'h\u00e9llo' });
  const stats = await client.stats();
  assert.ok(stats.requests.total >= 1);
  const cred = { host: '127.0.0.1', port: Number(vars.SUBMISSION_PORT), username: vars.SMTP_USER, password: vars.SMTP_PASSWORD, tls: { ca_pem: vars.SMTP_CA_PEM } };
  const v = await client.verify({ workspace_id: 'ws-clients', credential: cred });
  assert.equal(v.ok, true);
  assert.equal(v.security, 'starttls');
  await assert.rejects(client.verify({ workspace_id: 'ws-clients', credential: { ...cred, password: 'wrong' } }), { code: 'EAUTH', sidecarCode: 'auth_failed' });
});

test('live: 16 concurrent sends through one client, answers matched by id', { skip, timeout: 60_000 }, async () => {
  const cred = { id: `conc-${vars.RUN_ID}`, host: '127.0.0.1', port: Number(vars.SUBMISSION_PORT), username: vars.SMTP_USER, password: vars.SMTP_PASSWORD, tls: { ca_pem: vars.SMTP_CA_PEM } };
  const infos = await Promise.all(
    Array.from({ length: 16 }, (_, i) => client.send({ workspace_id: 'ws-clients', credential: cred, from: vars.SMTP_USER, to: `conc${i}-${vars.RUN_ID}@example.test`, subject: `conc ${i}`, text: 'x', dedup_window_seconds: 0 })),
  );
  infos.forEach((info, i) => {
    assert.equal(info.outcome, 'sent');
    assert.deepEqual(info.accepted, [`conc${i}-${vars.RUN_ID}@example.test`]);
  });
});

test('live: the Nodemailer transport delivers a message with attachments to Postfix', { skip, timeout: 60_000 }, async () => {
  const credential = { id: `nm-${vars.RUN_ID}`, host: '127.0.0.1', port: Number(vars.SUBMISSION_PORT), username: vars.SMTP_USER, password: vars.SMTP_PASSWORD, tls: { ca_pem: vars.SMTP_CA_PEM } };
  const transport = sidecarTransport({ socketPath: daemon.socketPath, workspaceId: 'ws-clients', credential, dedupWindowSeconds: 0 });
  const to = `nm-${vars.RUN_ID}@example.test`;
  const subject = `nodemailer ${vars.RUN_ID}`;
  const info = await new Promise((resolve, reject) =>
    transport.send(
      { data: { from: { name: 'Sidecar Node', address: vars.SMTP_USER }, to: [{ name: 'Doe, Jane', address: to }], subject, text: 'plain', html: '<p>html <img src="cid:dot"></p>', priority: 'high', headers: { 'X-Run': vars.RUN_ID }, attachments: [{ filename: 'a.txt', content: 'attached text' }, { filename: 'dot.bin', content: Buffer.from([1, 2, 3]), cid: 'dot' }] } },
      (err, info) => (err ? reject(err) : resolve(info)),
    ),
  );
  assert.equal(info.outcome, 'sent');
  assert.deepEqual(info.accepted, [to]);
  assert.deepEqual(info.envelope, { from: vars.SMTP_USER, to: [to] });
  // the message reached the Maildir
  const maildir = path.join(vars.MAILDIR, 'new');
  let found = null;
  for (let i = 0; i < 100 && !found; i++) {
    for (const f of fs.existsSync(maildir) ? fs.readdirSync(maildir) : []) {
      const text = fs.readFileSync(path.join(maildir, f), 'utf8');
      if (text.includes(`X-Run: ${vars.RUN_ID}`)) found = text;
    }
    if (!found) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(found, 'message not delivered to the Maildir');
  assert.match(found, /Subject: nodemailer /);
  assert.match(found, /X-Priority: 1/i);
  assert.match(found, /filename="?a\.txt"?/);
  assert.match(found, new RegExp(`Message-ID: ${info.messageId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'i'));
  await transport.close();
});
