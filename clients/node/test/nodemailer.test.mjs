import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { sidecarTransport, mapMailOptions } from '../src/index.js';
import { startFake } from './fake-daemon.mjs';

const refused = async (data, option) =>
  assert.rejects(mapMailOptions(data), (e) => {
    assert.equal(e.code, 'ESIDECARUNSUPPORTED', `${option}: ${e.code}`);
    assert.equal(e.sidecarCode, 'unsupported_message_option');
    assert.equal(e.retryable, false);
    assert.match(e.field, new RegExp(option.replace(/[[\].]/g, '\\$&')));
    return true;
  });

test('Nodemailer message options map to send params', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sidecar-node-nm-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'notes.txt');
  fs.writeFileSync(file, 'from disk');
  const p = await mapMailOptions({
    from: { name: 'Alerts', address: 'alerts@example.com' },
    to: ['ops@example.com', { name: 'Doe, Jane', address: 'jane@example.com' }],
    cc: 'lead@example.com, "Roe, R" <r@example.com>',
    bcc: { address: 'audit@example.com' },
    replyTo: 'support@example.com',
    subject: 'Daily digest – 3 new leads',
    text: '3 new leads',
    html: Buffer.from('<p>3 new leads</p><img src="cid:logo">'),
    priority: 'high',
    headers: { 'X-Campaign': 'q4', 'X-Multi': ['a', 'b'], 'X-Prepared': { prepared: true, value: 'p' } },
    attachments: [
      { filename: 'a.txt', content: 'héllo' },
      { filename: 'b.bin', content: Buffer.from([0, 1, 2]), contentType: 'application/octet-stream' },
      { filename: 'c.txt', content: 'aGk=', encoding: 'base64' },
      { path: file },
      { filename: 'logo.png', href: 'https://cdn.example.com/logo.png', cid: 'logo' },
      { path: 'https://cdn.example.com/files/report.pdf' },
      { filename: 'd.txt', path: 'data:text/plain;base64,aGVsbG8=' },
    ],
    encoding: 'quoted-printable', // Nodemailer's own transfer encoding choice: left to the sidecar
  });
  assert.deepEqual(p, {
    from: 'Alerts <alerts@example.com>',
    to: ['ops@example.com', '"Doe, Jane" <jane@example.com>'],
    cc: 'lead@example.com, "Roe, R" <r@example.com>',
    bcc: 'audit@example.com',
    reply_to: 'support@example.com',
    subject: 'Daily digest – 3 new leads',
    body_format: 'html',
    text: '3 new leads',
    html: '<p>3 new leads</p><img src="cid:logo">',
    priority: 'high',
    headers: [
      { name: 'X-Campaign', value: 'q4' },
      { name: 'X-Multi', value: 'a' },
      { name: 'X-Multi', value: 'b' },
      { name: 'X-Prepared', value: 'p' },
    ],
    attachments: [
      { filename: 'a.txt', content_base64: Buffer.from('héllo').toString('base64') },
      { filename: 'b.bin', content_base64: 'AAEC', content_type: 'application/octet-stream' },
      { filename: 'c.txt', content_base64: 'aGk=' },
      { filename: 'notes.txt', content_base64: Buffer.from('from disk').toString('base64') },
      { filename: 'logo.png', url: 'https://cdn.example.com/logo.png', content_id: 'logo' },
      { filename: 'report.pdf', url: 'https://cdn.example.com/files/report.pdf' },
      { filename: 'd.txt', content_base64: 'aGVsbG8=', content_type: 'text/plain' },
    ],
  });
  assert.deepEqual(await mapMailOptions({ to: 'a@b.c', text: 'only text', headers: [{ key: 'X-A', value: '1' }] }), { to: 'a@b.c', body_format: 'text', text: 'only text', headers: [{ name: 'X-A', value: '1' }] });
});

test('what cannot be mapped is refused with ESIDECARUNSUPPORTED, naming the option', async () => {
  for (const [opt, v] of [
    ['raw', 'From: x\r\n\r\nbody'],
    ['icalEvent', { content: 'BEGIN:VCALENDAR' }],
    ['amp', '<!doctype html><html ⚡4email>'],
    ['list', { unsubscribe: 'https://x' }],
    ['dkim', { domainName: 'x', keySelector: 's', privateKey: 'k' }],
    ['watchHtml', '<b>w</b>'],
    ['alternatives', [{ contentType: 'text/x-web-markdown', content: '**x**' }]],
    ['envelope', { from: 'a@b.c', to: 'c@d.e' }],
    ['messageId', '<x@y>'],
    ['inReplyTo', '<x@y>'],
    ['references', ['<x@y>']],
    ['date', new Date()],
    ['sender', 'a@b.c'],
  ]) {
    await refused({ to: 'a@b.c', text: 'x', [opt]: v }, `data.${opt}`);
  }
  await refused({ to: 'a@b.c', text: Readable.from(['x']) }, 'data.text');
  await refused({ to: 'a@b.c', html: { path: '/etc/hostname' } }, 'data.html');
  await refused({ to: 'a@b.c', attachments: [{ filename: 's', content: Readable.from(['x']) }] }, 'data.attachments[0].content');
  await refused({ to: 'a@b.c', attachments: [{ raw: 'Content-Type: text/plain\r\n\r\nx' }] }, 'data.attachments[0].raw');
  await refused({ to: 'a@b.c', attachments: [{ filename: 'x' }] }, 'data.attachments[0]');
  await refused({ to: 'a@b.c', attachments: [{ href: 'ftp://x/y' }] }, 'data.attachments[0].href');
  await refused({ to: 'a@b.c', disableFileAccess: true, attachments: [{ path: '/etc/hostname' }] }, 'data.attachments[0].path');
  await refused({ to: 'a@b.c', disableUrlAccess: true, attachments: [{ href: 'https://x/y' }] }, 'data.attachments[0].href');
  await refused({ to: 'a@b.c', from: ['a@b.c', 'd@e.f'] }, 'data.from');
  await refused({ to: 'a@b.c', priority: 'urgent' }, 'data.priority');
});

test('the transport: Nodemailer interface, send(mail, callback) through the sidecar, info and errors', async () => {
  const fake = await startFake({
    onRequest(req, conn) {
      if (req.params.subject === 'bad login') {
        return conn.fail(req.id, { code: 'auth_failed', message: 'The server refused the username or password', retryable: false, smtp: { code: 535, enhanced_code: '5.7.8', text: 'Error: authentication failed' } }, { outcome: 'not_sent', phase: 'auth', recipients: [], duplicate: false });
      }
      if (req.op === 'verify') return conn.reply(req.id, { ok: true, security: 'starttls', server: 'x', auth_mechanisms: ['PLAIN'], capabilities: [] });
      conn.reply(req.id, { outcome: 'sent', message_id: '<1@x>', smtp: { code: 250, enhanced_code: '2.0.0', text: 'Ok: queued as Q1' }, recipients: [{ address: 'ops@example.com', accepted: true }], duplicate: true });
    },
  });
  const credential = { id: 'cred_9', host: 'smtp.example.com', port: 587, username: 'u', password: 'p' };
  const transport = sidecarTransport({ socketPath: fake.socketPath, workspaceId: 'ws_1', credential, context: { workflow_id: 'wf_1' }, dedupWindowSeconds: 600 });
  assert.equal(transport.name, 'smtp-sidecar');
  assert.match(transport.version, /^\d+\.\d+\.\d+/);
  assert.equal(typeof transport.send, 'function');

  const send = (data) => new Promise((resolve) => transport.send({ data }, (err, info) => resolve({ err, info })));
  const { err, info } = await send({ from: 'Alerts <alerts@example.com>', to: 'ops@example.com', subject: 'hi', text: 'x', sidecar: { idempotencyKey: 'ex_9/smtp_1/1', context: { node_id: 'smtp_1' } } });
  assert.equal(err, null);
  assert.equal(info.messageId, '<1@x>');
  assert.deepEqual(info.accepted, ['ops@example.com']);
  assert.deepEqual(info.rejected, []);
  assert.equal(info.response, '250 2.0.0 Ok: queued as Q1');
  assert.deepEqual(info.envelope, { from: 'alerts@example.com', to: ['ops@example.com'] });
  assert.equal(info.outcome, 'sent');
  assert.equal(info.duplicate, true);
  const req = fake.requests.find((r) => r.op === 'send');
  assert.deepEqual(req.params, {
    workspace_id: 'ws_1',
    credential,
    from: 'Alerts <alerts@example.com>',
    to: 'ops@example.com',
    subject: 'hi',
    body_format: 'text',
    text: 'x',
    context: { workflow_id: 'wf_1', node_id: 'smtp_1', idempotency_key: 'ex_9/smtp_1/1' },
    dedup_window_seconds: 600,
  });

  const bad = await send({ from: 'a@example.com', to: 'ops@example.com', subject: 'bad login', text: 'x' });
  assert.equal(bad.err.code, 'EAUTH');
  assert.equal(bad.err.responseCode, 535);
  assert.equal(bad.err.response, '535 5.7.8 Error: authentication failed');
  assert.equal(bad.err.command, 'AUTH');

  const unsupported = await send({ to: 'ops@example.com', raw: 'x' });
  assert.equal(unsupported.err.code, 'ESIDECARUNSUPPORTED');
  assert.equal(fake.requests.filter((r) => r.op === 'send').length, 2);

  assert.equal(await transport.verify(), true);
  await transport.close();
  await fake.close();
});

test('sidecarTransport validates its options', () => {
  assert.throws(() => sidecarTransport({ credential: { host: 'x' } }), /workspaceId/);
  assert.throws(() => sidecarTransport({ workspaceId: 'w' }), /exactly one/);
  assert.throws(() => sidecarTransport({ workspaceId: 'w', credential: { host: 'x' }, credentialId: 'c' }), /exactly one/);
});
