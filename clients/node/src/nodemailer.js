// A Nodemailer transport (Nodemailer's custom-transport interface: an object
// with name, version and send(mail, callback), mail.data holding the message
// options) that sends through smtp-sidecar.
import { readFile } from 'node:fs/promises';
import { createClient, CLIENT_VERSION } from './client.js';
import { clientError, SidecarError } from './errors.js';

/** Message options the transport maps (others it does not know are ignored, as Nodemailer does). */
export const MAPPED_OPTIONS = Object.freeze(['from', 'to', 'cc', 'bcc', 'replyTo', 'subject', 'text', 'html', 'attachments', 'headers', 'priority', 'sidecar']);

/** Message options that change the message but cannot be carried by the protocol: refused. */
export const UNSUPPORTED_OPTIONS = Object.freeze([
  'raw', 'icalEvent', 'amp', 'list', 'dkim', 'watchHtml', 'alternatives', 'envelope', 'sender',
  'messageId', 'inReplyTo', 'references', 'date', 'attachDataUrls', 'encoding', 'textEncoding',
]);

function unsupported(message, field) {
  const e = clientError('unsupported_message_option', `${message} Nothing was sent.`, false, { op: 'send' });
  e.field = field;
  return e;
}

function isStream(v) {
  return v !== null && typeof v === 'object' && typeof v.pipe === 'function';
}

function quoteName(name) {
  if (/^[\p{L}\p{N} !#$%&'*+\-/=?^_`{|}~.]*$/u.test(name) && !/^\s|\s$/.test(name) && !name.includes('.')) return name;
  return `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** One Nodemailer address (string or {name, address}) as a string. */
function formatAddress(a, field) {
  if (typeof a === 'string') return a;
  if (a && typeof a === 'object' && typeof a.address === 'string') {
    return a.name ? `${quoteName(String(a.name))} <${a.address}>` : a.address;
  }
  throw unsupported(`${field}: an address must be a string or {name, address}.`, `data.${field}`);
}

/** A Nodemailer address field (string, object or array of either) as a protocol address list. */
export function mapAddressList(v, field) {
  if (v === undefined || v === null || v === '') return undefined;
  if (Array.isArray(v)) {
    const out = v.flatMap((x) => (Array.isArray(x) ? x : [x])).filter((x) => x !== undefined && x !== null && x !== '').map((x) => formatAddress(x, field));
    return out.length ? out : undefined;
  }
  return formatAddress(v, field);
}

function singleAddress(v, field) {
  const m = mapAddressList(v, field);
  if (Array.isArray(m)) {
    if (m.length > 1) throw unsupported(`${field}: only one address can be given.`, `data.${field}`);
    return m[0];
  }
  return m;
}

function bodyText(v, field) {
  if (v === undefined || v === null || v === false) return undefined;
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  throw unsupported(`${field}: only a string or a Buffer can be sent through the sidecar (not a stream, a path or an href).`, `data.${field}`);
}

/** Nodemailer headers (object or [{key, value}]) as protocol headers ([{name, value}]). */
function mapHeaders(headers) {
  if (headers === undefined || headers === null) return undefined;
  const out = [];
  const push = (name, value, field) => {
    if (Array.isArray(value)) {
      for (const v of value) push(name, v, field);
      return;
    }
    if (value && typeof value === 'object' && 'value' in value) value = value.value; // {prepared: true, value}
    if (typeof value !== 'string' && typeof value !== 'number') throw unsupported(`headers: the value of ${name} must be a string.`, field);
    out.push({ name, value: String(value) });
  };
  if (Array.isArray(headers)) {
    headers.forEach((h, i) => {
      if (!h || typeof h.key !== 'string') throw unsupported('headers: an array entry must be {key, value}.', `data.headers[${i}]`);
      push(h.key, h.value, `data.headers[${i}]`);
    });
  } else if (typeof headers === 'object') {
    for (const [k, v] of Object.entries(headers)) push(k, v, `data.headers.${k}`);
  } else throw unsupported('headers must be an object or an array of {key, value}.', 'data.headers');
  return out.length ? out : undefined;
}

function decodeDataUri(uri) {
  const m = /^data:([^,]*?)(;base64)?,(.*)$/s.exec(uri);
  if (!m) return null;
  const content = m[2] ? Buffer.from(m[3], 'base64') : Buffer.from(decodeURIComponent(m[3]), 'utf8');
  return { contentType: m[1] || undefined, content };
}

async function mapAttachment(att, i, data) {
  const field = `data.attachments[${i}]`;
  if (!att || typeof att !== 'object') throw unsupported('an attachment must be an object.', field);
  if (att.raw !== undefined) throw unsupported('raw attachments cannot be sent through the sidecar.', `${field}.raw`);
  if (att.contentDisposition && att.contentDisposition !== 'attachment' && att.contentDisposition !== 'inline') {
    throw unsupported(`contentDisposition ${att.contentDisposition} is not supported.`, `${field}.contentDisposition`);
  }
  const out = {};
  let filename = att.filename;
  let contentType = att.contentType;
  if (att.content !== undefined && att.content !== null) {
    if (isStream(att.content)) throw unsupported('stream content cannot be sent through the sidecar: give a string, a Buffer, a path or an href.', `${field}.content`);
    let bytes;
    if (typeof att.content === 'string') {
      const enc = (att.encoding || 'utf8').toLowerCase();
      if (!['utf8', 'utf-8', 'base64', 'hex', 'binary', 'latin1', 'ascii'].includes(enc)) throw unsupported(`encoding ${att.encoding} is not supported.`, `${field}.encoding`);
      bytes = Buffer.from(att.content, enc === 'utf-8' ? 'utf8' : enc);
    } else if (Buffer.isBuffer(att.content) || att.content instanceof Uint8Array) bytes = Buffer.from(att.content);
    else throw unsupported('content must be a string or a Buffer.', `${field}.content`);
    out.content_base64 = bytes.toString('base64');
  } else if (typeof att.href === 'string' || typeof att.path === 'string') {
    const src = att.href ?? att.path;
    const key = att.href !== undefined ? 'href' : 'path';
    if (/^https?:\/\//i.test(src)) {
      if (data.disableUrlAccess) throw unsupported('disableUrlAccess is set, and this attachment is a URL.', `${field}.${key}`);
      out.url = src;
      if (!filename) filename = decodeURIComponent(new URL(src).pathname.split('/').pop() || '') || undefined;
    } else if (/^data:/i.test(src)) {
      const d = decodeDataUri(src);
      if (!d) throw unsupported('the data: URI cannot be read.', `${field}.${key}`);
      out.content_base64 = d.content.toString('base64');
      contentType = contentType ?? d.contentType;
    } else if (key === 'path') {
      if (data.disableFileAccess) throw unsupported('disableFileAccess is set, and this attachment is a file path.', `${field}.path`);
      let bytes;
      try {
        bytes = await readFile(src);
      } catch (err) {
        const e = unsupported(`the file ${src} cannot be read (${err.code ?? err.message}).`, `${field}.path`);
        e.sidecarCode = 'attachment_invalid';
        e.code = 'EMESSAGE';
        throw e;
      }
      out.content_base64 = bytes.toString('base64');
      if (!filename) filename = src.split(/[\\/]/).pop();
    } else throw unsupported(`href ${src} is not an http(s) URL.`, `${field}.href`);
  } else {
    throw unsupported('the attachment has no content, path or href.', field);
  }
  if (!filename) {
    if (att.cid) filename = String(att.cid).replace(/[^A-Za-z0-9._-]/g, '_');
    else filename = `attachment-${i + 1}`;
  }
  out.filename = filename;
  if (contentType) out.content_type = contentType;
  if (att.cid) out.content_id = att.cid;
  // keep the protocol's order: filename first
  return { filename: out.filename, ...out };
}

/**
 * Maps Nodemailer message options (mail.data) to the params of a `send`
 * request (without workspace and credential). Refuses what cannot be mapped
 * with a SidecarError of code ESIDECARUNSUPPORTED (sidecarCode
 * unsupported_message_option) naming the option.
 */
export async function mapMailOptions(data) {
  if (!data || typeof data !== 'object') throw unsupported('mail.data is missing.', 'data');
  for (const k of UNSUPPORTED_OPTIONS) {
    const v = data[k];
    if (v === undefined || v === null || v === false || (Array.isArray(v) && v.length === 0)) continue;
    // encodings Nodemailer picks itself are harmless to leave to the sidecar
    if ((k === 'encoding' || k === 'textEncoding') && typeof v === 'string') continue;
    throw unsupported(`The Nodemailer option "${k}" cannot be sent through smtp-sidecar.`, `data.${k}`);
  }
  const p = {};
  const from = singleAddress(data.from, 'from');
  if (from !== undefined) p.from = from;
  for (const k of ['to', 'cc', 'bcc']) {
    const v = mapAddressList(data[k], k);
    if (v !== undefined) p[k] = v;
  }
  const replyTo = singleAddress(data.replyTo, 'replyTo');
  if (replyTo !== undefined) p.reply_to = replyTo;
  if (data.subject !== undefined && data.subject !== null) p.subject = String(data.subject);
  const text = bodyText(data.text, 'text');
  const html = bodyText(data.html, 'html');
  if (html !== undefined) {
    p.body_format = 'html';
    if (text !== undefined) p.text = text;
    p.html = html;
  } else if (text !== undefined) {
    p.body_format = 'text';
    p.text = text;
  }
  if (data.priority !== undefined && data.priority !== null) {
    if (!['high', 'normal', 'low'].includes(data.priority)) throw unsupported(`priority must be high, normal or low, not ${data.priority}.`, 'data.priority');
    p.priority = data.priority;
  }
  const headers = mapHeaders(data.headers);
  if (headers) p.headers = headers;
  if (data.attachments !== undefined && data.attachments !== null) {
    if (!Array.isArray(data.attachments)) throw unsupported('attachments must be an array.', 'data.attachments');
    if (data.attachments.length) p.attachments = await Promise.all(data.attachments.map((a, i) => mapAttachment(a, i, data)));
  }
  return p;
}

/**
 * Creates the transport. Options: socketPath, workspaceId (required),
 * credential (inline) or credentialId, context, dedupWindowSeconds,
 * timeoutMs, onError, client (an existing createClient() client), maxConnections.
 * Per message, mail.data.sidecar may give {context, idempotencyKey,
 * dedupWindowSeconds, timeoutMs, credential, credentialId, workspaceId}.
 */
export function sidecarTransport(options = {}) {
  if (!options.workspaceId) throw new TypeError('sidecarTransport: workspaceId is required');
  if (!options.credential === !options.credentialId) throw new TypeError('sidecarTransport: give exactly one of credential and credentialId');
  let client = options.client ?? null;
  const ownClient = !client;
  const getClient = () => (client ??= createClient({ socketPath: options.socketPath, maxConnections: options.maxConnections }));

  const buildParams = async (data) => {
    const s = data.sidecar ?? {};
    const params = { workspace_id: s.workspaceId ?? options.workspaceId };
    const credentialId = s.credentialId ?? (s.credential ? undefined : options.credentialId);
    if (s.credential ?? (!credentialId ? options.credential : undefined)) params.credential = s.credential ?? options.credential;
    else params.credential_id = credentialId;
    Object.assign(params, await mapMailOptions(data));
    const context = { ...(options.context ?? {}), ...(s.context ?? {}) };
    if (s.idempotencyKey) context.idempotency_key = s.idempotencyKey;
    if (Object.keys(context).length) params.context = context;
    const dedup = s.dedupWindowSeconds ?? options.dedupWindowSeconds;
    if (dedup !== undefined) params.dedup_window_seconds = dedup;
    const timeout = s.timeoutMs ?? options.timeoutMs;
    if (timeout !== undefined) params.timeout_ms = timeout;
    return params;
  };

  const transport = {
    name: 'smtp-sidecar',
    version: CLIENT_VERSION,
    /** Nodemailer calls this with the Mail object (mail.data = message options). */
    send(mail, callback) {
      const data = mail && mail.data ? mail.data : mail;
      buildParams(data ?? {})
        .then((params) => getClient().send(params))
        .then(
          (info) => callback(null, info),
          (err) => callback(err instanceof Error ? err : new SidecarError({ code: 'internal_error', message: String(err), retryable: false })),
        );
    },
    /** Nodemailer's transporter.verify(): checks the credential (connects, authenticates, QUITs). */
    verify(callback) {
      const params = { workspace_id: options.workspaceId };
      if (options.credential) params.credential = options.credential;
      else params.credential_id = options.credentialId;
      const p = getClient().verify(params).then(() => true);
      if (typeof callback === 'function') p.then((ok) => callback(null, ok), (err) => callback(err));
      else return p;
    },
    isIdle() {
      return true;
    },
    close() {
      if (ownClient && client) {
        const c = client;
        client = null;
        return c.close();
      }
    },
    /** For tests and tools: the send params for mail.data, without sending. */
    buildParams,
  };
  return transport;
}

export default sidecarTransport;
