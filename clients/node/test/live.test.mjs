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
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient, sidecarTransport, SidecarError, withRetry } from '../src/index.js';
import { daemonAvailable, startDaemon, DAEMON_BIN } from './daemon.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const harness = path.join(repoRoot, 'scripts/postfix-harness.sh');
const scenarios = JSON.parse(fs.readFileSync(new URL('./scenarios.json', import.meta.url))).scenarios;

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
let vars = null;
const stallServers = [];
let dataSessions = 0;

/** A TCP server on 127.0.0.1: `greet` false never sends a greeting; true speaks SMTP but never answers the end of data. */
function stallServer(greet) {
  const srv = net.createServer((s) => {
    s.on('error', () => {});
    if (!greet) return;
    s.write('220 stall.test ESMTP\r\n');
    let buf = '';
    let inData = false;
    s.on('data', (d) => {
      if (inData) return; // swallow the message, never answer its end
      buf += d.toString('latin1');
      let i;
      while (!inData && (i = buf.indexOf('\r\n')) >= 0) {
        const cmd = buf.slice(0, 4).toUpperCase();
        buf = buf.slice(i + 2);
        if (cmd === 'EHLO') s.write('250-stall.test\r\n250 8BITMIME\r\n');
        else if (cmd === 'MAIL' || cmd === 'RCPT' || cmd === 'RSET' || cmd === 'NOOP') s.write('250 2.0.0 ok\r\n');
        else if (cmd === 'DATA') {
          dataSessions++;
          inData = true;
          s.write('354 go ahead\r\n');
        } else if (cmd === 'QUIT') s.end('221 bye\r\n');
        else s.write('502 5.5.1 no\r\n');
      }
    });
  });
  stallServers.push(srv);
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(String(srv.address().port))));
}

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
  const env = { ...readEnv(path.join(harnessDir, 'ports.env')), ...readEnv(path.join(harnessDir, 'users.env')) };
  const closedPort = await new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
  vars = {
    ...env,
    SMTP_PORT: env.SUBMISSION_PORT,
    CLOSED_PORT: String(closedPort),
    SMTP_CA_PEM: fs.readFileSync(env.SMTP_CA_FILE, 'utf8'),
    RUN_ID: `${Date.now().toString(36)}${process.pid}`,
    STALL_GREETING_PORT: await stallServer(false),
    STALL_DATA_PORT: await stallServer(true),
  };
  daemon = await startDaemon();
  client = createClient({ socketPath: daemon.socketPath, maxConnections: 2 });
});

after(async () => {
  for (const srv of stallServers) srv.close();
  await client?.close();
  await daemon?.stop();
  if (startedHarness) {
    try {
      execFileSync(harness, ['stop', harnessDir], { stdio: 'ignore', timeout: 30_000 });
    } catch {}
    fs.rmSync(harnessDir, { recursive: true, force: true });
  }
});

/** Replaces ${NAME} placeholders; a string that is exactly one numeric placeholder becomes a number. */
export function substitute(value, v) {
  if (typeof value === 'string') {
    const whole = /^\$\{([A-Z0-9_]+)\}$/.exec(value);
    if (whole && /^\d+$/.test(v[whole[1]] ?? '')) return Number(v[whole[1]]);
    return value.replace(/\$\{([A-Z0-9_]+)\}/g, (_, k) => {
      if (!(k in v)) throw new Error(`unknown placeholder ${k}`);
      return v[k];
    });
  }
  if (Array.isArray(value)) return value.map((x) => substitute(x, v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, substitute(x, v)]));
  return value;
}

/** Runs a scenario; returns {ok, code, outcome, duplicate, nodemailer_code, accepted, rejected, retryable, value}. */
async function run(s) {
  const params = substitute(s.request.params, vars);
  let last;
  for (let i = 0; i < (s.repeat ?? 1); i++) {
    try {
      // through withRetry, as a worker would: it must not re-send what it must not
      const info = await withRetry(() => client.request(s.request.op, params), { retries: s.expect.code === 'rate_limited' ? 0 : 2, baseDelayMs: 50, maxDelayMs: 200 }).then((r) => ({ raw: r }));
      last = info;
    } catch (err) {
      last = { err };
    }
  }
  if (last.err) {
    const e = last.err;
    assert.ok(e instanceof SidecarError, `${s.name}: ${e}`);
    return { ok: false, code: e.sidecarCode, outcome: e.outcome ?? null, duplicate: e.result?.duplicate === true, nodemailer_code: e.code, accepted: e.accepted?.length, rejected: e.rejected?.length, retryable: e.retryable, err: e, params };
  }
  return { ok: true, code: null, outcome: last.raw.outcome ?? null, duplicate: last.raw.duplicate === true, nodemailer_code: null, raw: last.raw, params };
}

for (const s of scenarios) {
  test(`live scenario ${s.name}`, { skip, timeout: 60_000 }, async () => {
    const r = await run(s);
    const e = s.expect;
    assert.deepEqual({ ok: r.ok, code: r.code, outcome: r.outcome, duplicate: r.duplicate }, { ok: e.ok, code: e.code, outcome: e.outcome, duplicate: e.duplicate }, `${s.name}: ${r.err?.message ?? ''}`);
    assert.equal(r.nodemailer_code, e.nodemailer_code);
    if (e.retryable !== undefined) assert.equal(r.retryable, e.retryable);
    if (r.ok) {
      // the same answer through the client's send(): Nodemailer-style info
      const { toSendInfo } = await import('../src/result.js');
      const info = toSendInfo(r.raw, r.params);
      assert.equal(info.outcome, e.outcome);
      assert.equal(info.duplicate, e.duplicate);
      assert.match(info.messageId, /^<.+@.+>$/);
      assert.match(info.response, /^250 /);
      assert.equal(info.accepted.length, e.accepted);
      assert.equal(info.rejected.length, e.rejected);
      assert.equal(info.envelope.from, vars.SMTP_USER);
    } else {
      if (e.accepted !== undefined) assert.equal(r.accepted, e.accepted);
      if (e.rejected !== undefined) assert.equal(r.rejected, e.rejected);
      if (r.code === 'auth_failed') {
        assert.equal(r.err.responseCode, 535);
        assert.match(r.err.response, /^535 5\.7\.8 /);
        assert.equal(r.err.command, 'AUTH');
      }
      if (r.code === 'rate_limited') assert.ok(r.err.retryAfterMs > 0);
      if (r.code === 'recipients_rejected') assert.equal(r.err.responseCode, 550);
      if (r.code === 'outcome_unknown') {
        assert.equal(dataSessions, 1, 'withRetry re-sent a message whose outcome is unknown');
        assert.equal(r.err.phase, 'data');
      }
    }
  });
}

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
