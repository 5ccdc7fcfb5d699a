// Send results shaped like Nodemailer's `info`, and envelope helpers.
import { formatSmtpReply, SidecarError } from './errors.js';

/**
 * Splits an RFC 5322 address list ("a@x, \"Doe, Jane\" <j@y>") into entries,
 * respecting quotes, angle brackets and comments.
 */
export function splitAddressList(list) {
  const out = [];
  let cur = '';
  let quoted = false;
  let angle = 0;
  let comment = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (quoted) {
      cur += c;
      if (c === '\\' && i + 1 < list.length) cur += list[++i];
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === '(') comment++;
    else if (c === ')' && comment) comment--;
    else if (c === '<') angle++;
    else if (c === '>' && angle) angle--;
    else if (c === ',' && !angle && !comment) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** The bare address of one entry: what is inside <...>, else the entry. */
export function bareAddress(entry) {
  const m = /<([^<>]*)>\s*$/.exec(entry);
  return (m ? m[1] : entry).trim();
}

/** Bare addresses of a `to`/`cc`/`bcc` value (string, or array of strings). */
export function addressesOf(value) {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value : [value];
  const out = [];
  for (const item of items) if (typeof item === 'string') for (const e of splitAddressList(item)) out.push(bareAddress(e));
  return out;
}

/** The SMTP envelope of a send request's params: {from, to}, duplicates removed. */
export function envelopeOf(params) {
  const to = [];
  const seen = new Set();
  for (const k of ['to', 'cc', 'bcc']) {
    for (const a of addressesOf(params?.[k])) {
      if (!seen.has(a)) {
        seen.add(a);
        to.push(a);
      }
    }
  }
  const from = typeof params?.from === 'string' ? bareAddress(params.from) : undefined;
  return { from, to };
}

/**
 * A Nodemailer-style `info` from a send result: messageId, accepted, rejected,
 * pending, response, envelope, plus outcome, duplicate, smtp, recipients, phase
 * and (with on_error "continue") error.
 */
export function toSendInfo(result, params) {
  const r = result && typeof result === 'object' ? result : {};
  const recipients = Array.isArray(r.recipients) ? r.recipients : [];
  const info = {
    messageId: typeof r.message_id === 'string' ? r.message_id : undefined,
    accepted: recipients.filter((x) => x && x.accepted === true).map((x) => x.address),
    rejected: recipients.filter((x) => x && x.accepted === false).map((x) => x.address),
    pending: [],
    response: formatSmtpReply(r.smtp),
    envelope: envelopeOf(params),
    outcome: r.outcome,
    duplicate: r.duplicate === true,
    smtp: r.smtp,
    recipients,
  };
  if (typeof r.phase === 'string') info.phase = r.phase;
  if (r.error && typeof r.error === 'object') info.error = new SidecarError(r.error, { result: r, op: 'send' });
  return info;
}
