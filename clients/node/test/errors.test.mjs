import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { SidecarError, NODEMAILER_CODES, nodemailerCode, idempotencyKey, withRetry, isRetryable } from '../src/index.js';

const schema = JSON.parse(fs.readFileSync(new URL('../../../proto-spec/schema/error.schema.json', import.meta.url)));
const known = schema.$defs.known_code.enum;

test('every code of the protocol has a Nodemailer-style code (invalid_params by its field)', () => {
  for (const code of known) {
    if (code === 'invalid_params') continue;
    assert.ok(Object.hasOwn(NODEMAILER_CODES, code), `${code} is not in the table`);
  }
});

test('the code table of the issue', () => {
  const expected = {
    auth_failed: 'EAUTH',
    connection_failed: 'ECONNECTION',
    tls_failed: 'ECONNECTION',
    certificate_invalid: 'ECONNECTION',
    starttls_unavailable: 'ECONNECTION',
    timeout: 'ETIMEDOUT',
    request_timeout: 'ETIMEDOUT',
    sender_rejected: 'EENVELOPE',
    recipients_rejected: 'EENVELOPE',
    invalid_address: 'EENVELOPE',
    no_recipients: 'EENVELOPE',
    mail_loop: 'EENVELOPE',
    message_rejected: 'EMESSAGE',
    header_reserved: 'EMESSAGE',
    attachment_too_large: 'EMESSAGE',
    message_too_large: 'EMESSAGE',
    smtp_protocol_error: 'EPROTOCOL',
    rate_limited: 'ERATELIMIT',
    outcome_unknown: 'EOUTCOMEUNKNOWN',
    internal_error: 'ESIDECAR',
  };
  for (const [code, nm] of Object.entries(expected)) assert.equal(nodemailerCode(code), nm, code);
  assert.equal(nodemailerCode('invalid_params', 'params.credential.port'), 'ECONFIG');
  assert.equal(nodemailerCode('invalid_params', 'params.to[1]'), 'EMESSAGE');
  assert.equal(nodemailerCode('a_code_from_the_future'), 'ESIDECAR');
});

test('SidecarError carries the sidecar error and the Nodemailer members', () => {
  const e = new SidecarError(
    { code: 'auth_failed', message: 'The server refused the username or password', retryable: false, smtp: { code: 535, enhanced_code: '5.7.8', text: 'Error: authentication failed' }, new_member: 1 },
    { result: { outcome: 'not_sent', phase: 'auth' }, op: 'send' },
  );
  assert.ok(e instanceof Error);
  assert.equal(e.code, 'EAUTH');
  assert.equal(e.sidecarCode, 'auth_failed');
  assert.equal(e.retryable, false);
  assert.equal(e.responseCode, 535);
  assert.equal(e.response, '535 5.7.8 Error: authentication failed');
  assert.equal(e.command, 'AUTH');
  assert.equal(e.outcome, 'not_sent');
  const r = new SidecarError({ code: 'rate_limited', message: 'slow down', retryable: true, retry_after_ms: 30000 });
  assert.equal(r.retryAfterMs, 30000);
  assert.equal(r.code, 'ERATELIMIT');
  assert.equal(JSON.parse(JSON.stringify(r)).retryAfterMs, 30000);
  const f = new SidecarError({ code: 'invalid_address', message: 'bad', retryable: false, field: 'params.to[1]' });
  assert.equal(f.field, 'params.to[1]');
});

test('idempotencyKey', () => {
  assert.equal(idempotencyKey('ex_9', 'smtp_1', 1), 'ex_9/smtp_1/1');
  assert.equal(idempotencyKey('a/b', '50%', 2), 'a%2Fb/50%25/2');
  assert.notEqual(idempotencyKey('a/b', 'c', 1), idempotencyKey('a', 'b/c', 1));
  assert.throws(() => idempotencyKey('', 'n', 1), TypeError);
  assert.throws(() => idempotencyKey('e', 'n', 1.5), TypeError);
});

test('withRetry: retries retryable errors, waits retry_after_ms, never re-sends after outcome_unknown', async () => {
  let calls = 0;
  const v = await withRetry(async (attempt) => {
    calls++;
    if (attempt < 3) throw new SidecarError({ code: 'connection_failed', message: 'x', retryable: true });
    return 'ok';
  }, { baseDelayMs: 1 });
  assert.equal(v, 'ok');
  assert.equal(calls, 3);

  calls = 0;
  const unknown = new SidecarError({ code: 'outcome_unknown', message: 'maybe delivered', retryable: true });
  await assert.rejects(withRetry(async () => { calls++; throw unknown; }, { baseDelayMs: 1 }), unknown);
  assert.equal(calls, 1);
  assert.equal(isRetryable(unknown), false);
  // a client-side loss whose result says outcome_unknown is not retried either
  const lost = new SidecarError({ code: 'connection_lost', message: 'x', retryable: true }, { result: { outcome: 'outcome_unknown' } });
  assert.equal(isRetryable(lost), false);

  calls = 0;
  const waits = [];
  await withRetry(async () => {
    if (calls++ === 0) throw new SidecarError({ code: 'rate_limited', message: 'x', retryable: true, retry_after_ms: 5 });
    return 1;
  }, { onRetry: (e, a, d) => waits.push(d) });
  assert.deepEqual(waits, [5]);

  calls = 0;
  await assert.rejects(withRetry(async () => { calls++; throw new SidecarError({ code: 'auth_failed', message: 'x', retryable: false }); }), { code: 'EAUTH' });
  assert.equal(calls, 1);
  await assert.rejects(withRetry(async () => { throw new TypeError('bug'); }), TypeError);
  // unknown codes go by their retryable flag
  calls = 0;
  await assert.rejects(withRetry(async () => { calls++; throw new SidecarError({ code: 'brand_new', message: 'x', retryable: true }); }, { retries: 2, baseDelayMs: 1 }));
  assert.equal(calls, 3);
});
