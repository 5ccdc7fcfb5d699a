// SidecarError: the sidecar's error object (proto-spec §3.4, errors.md) with,
// beside it, the Nodemailer-style `code` that workflow tools already map.

/**
 * Sidecar error code -> Nodemailer-style code. Codes not listed (and codes a
 * newer daemon adds) map to 'ESIDECAR'; their `retryable` flag decides (§4).
 * Codes marked "client" are produced by this client, never by the daemon.
 */
export const NODEMAILER_CODES = Object.freeze({
  // authentication
  auth_failed: 'EAUTH',
  oauth_reauthorization_required: 'EAUTH',
  oauth_token_failed: 'EAUTH',
  smtp_auth_disabled: 'EAUTH',
  // reaching / securing the SMTP server
  connection_failed: 'ECONNECTION',
  tls_failed: 'ECONNECTION',
  certificate_invalid: 'ECONNECTION',
  starttls_unavailable: 'ECONNECTION',
  destination_forbidden: 'ECONNECTION',
  port_25_blocked: 'ECONNECTION',
  pool_busy: 'ECONNECTION',
  // the provider throttles, or the account's daily quota is spent (see retryAfterMs)
  throttled: 'ERATELIMIT',
  quota_exceeded: 'ERATELIMIT',
  // timeouts
  timeout: 'ETIMEDOUT',
  request_timeout: 'ETIMEDOUT',
  client_timeout: 'ETIMEDOUT', // client
  // envelope: sender and recipients
  sender_rejected: 'EENVELOPE',
  sender_not_allowed: 'EENVELOPE',
  recipients_rejected: 'EENVELOPE',
  invalid_address: 'EENVELOPE',
  no_sender: 'EENVELOPE',
  no_recipients: 'EENVELOPE',
  too_many_recipients: 'EENVELOPE',
  smtputf8_unsupported: 'EENVELOPE',
  mail_loop: 'EENVELOPE',
  // the message itself
  message_rejected: 'EMESSAGE',
  header_forbidden_characters: 'EMESSAGE',
  header_reserved: 'EMESSAGE',
  header_name_invalid: 'EMESSAGE',
  too_many_headers: 'EMESSAGE',
  header_value_too_long: 'EMESSAGE',
  subject_too_long: 'EMESSAGE',
  body_too_large: 'EMESSAGE',
  attachment_invalid_base64: 'EMESSAGE',
  attachment_invalid: 'EMESSAGE',
  too_many_attachments: 'EMESSAGE',
  attachment_too_large: 'EMESSAGE',
  message_too_large: 'EMESSAGE',
  attachment_fetch_failed: 'EMESSAGE',
  frame_too_large: 'EMESSAGE',
  unsupported_message_option: 'ESIDECARUNSUPPORTED', // client (Nodemailer transport)
  // SMTP or sidecar protocol
  smtp_protocol_error: 'EPROTOCOL',
  truncated_frame: 'EPROTOCOL',
  invalid_json: 'EPROTOCOL',
  not_an_object: 'EPROTOCOL',
  missing_id: 'EPROTOCOL',
  duplicate_id: 'EPROTOCOL',
  unknown_operation: 'EPROTOCOL',
  unsupported_version: 'EPROTOCOL',
  not_implemented: 'EPROTOCOL',
  invalid_response: 'EPROTOCOL', // client
  // configuration of the worker or daemon
  credential_not_found: 'ECONFIG',
  peer_not_allowed: 'ECONFIG',
  invalid_configuration: 'ECONFIG',
  // the sidecar itself (the local socket)
  too_many_connections: 'ESOCKET',
  shutting_down: 'ESOCKET',
  sidecar_unavailable: 'ESOCKET', // client: cannot connect to the socket
  connection_lost: 'ESOCKET', // client: the socket closed before the answer
  // policy
  rate_limited: 'ERATELIMIT',
  outcome_unknown: 'EOUTCOMEUNKNOWN',
  internal_error: 'ESIDECAR',
  // the daemon's shared state database (a fleet's PostgreSQL) is down: nothing was sent
  state_unavailable: 'ESIDECAR',
});

/** The Nodemailer-style code for a sidecar error code (and its field, for invalid_params). */
export function nodemailerCode(sidecarCode, field) {
  if (sidecarCode === 'invalid_params') {
    if (typeof field === 'string' && /^params\.(credential|credential_id|workspace_id)\b/.test(field)) return 'ECONFIG';
    return 'EMESSAGE';
  }
  return Object.prototype.hasOwnProperty.call(NODEMAILER_CODES, sidecarCode) ? NODEMAILER_CODES[sidecarCode] : 'ESIDECAR';
}

const PHASE_COMMANDS = {
  connect: 'CONN',
  greeting: 'CONN',
  tls: 'STARTTLS',
  ehlo: 'EHLO',
  auth: 'AUTH',
  mail: 'MAIL FROM',
  rcpt: 'RCPT TO',
  data: 'DATA',
  reset: 'RSET',
  quit: 'QUIT',
};

/** "250 2.0.0 Ok: queued as X", like Nodemailer's `response`. */
export function formatSmtpReply(smtp) {
  if (!smtp || typeof smtp !== 'object' || smtp.code === undefined) return undefined;
  return [smtp.code, smtp.enhanced_code, smtp.text].filter((x) => x !== undefined && x !== null && x !== '').join(' ');
}

export class SidecarError extends Error {
  /**
   * @param {object} error the protocol's error object {code, message, retryable, field?, smtp?, retry_after_ms?}
   * @param {object} [extra] {result, op, id, cause}
   */
  constructor(error, extra = {}) {
    const e = error && typeof error === 'object' ? error : { code: 'invalid_response', message: String(error), retryable: false };
    super(typeof e.message === 'string' && e.message ? e.message : String(e.code), extra.cause ? { cause: extra.cause } : undefined);
    this.name = 'SidecarError';
    this.sidecarCode = typeof e.code === 'string' ? e.code : 'invalid_response';
    this.code = nodemailerCode(this.sidecarCode, e.field);
    this.retryable = e.retryable === true;
    this.retryAfterMs = Number.isInteger(e.retry_after_ms) ? e.retry_after_ms : undefined;
    this.smtp = e.smtp && typeof e.smtp === 'object' ? e.smtp : undefined;
    this.field = typeof e.field === 'string' ? e.field : undefined;
    this.result = extra.result && typeof extra.result === 'object' ? extra.result : undefined;
    this.op = extra.op;
    this.requestId = extra.id;
    this.phase = this.result && typeof this.result.phase === 'string' ? this.result.phase : undefined;
    this.outcome =
      this.sidecarCode === 'outcome_unknown'
        ? 'outcome_unknown'
        : this.result && typeof this.result.outcome === 'string'
          ? this.result.outcome
          : undefined;
    // Nodemailer-style members
    this.responseCode = this.smtp && Number.isInteger(this.smtp.code) ? this.smtp.code : undefined;
    this.response = formatSmtpReply(this.smtp);
    if (this.phase) this.command = PHASE_COMMANDS[this.phase] ?? this.phase.toUpperCase();
    const recipients = this.result && Array.isArray(this.result.recipients) ? this.result.recipients : null;
    if (recipients) {
      this.accepted = recipients.filter((r) => r && r.accepted === true).map((r) => r.address);
      this.rejected = recipients.filter((r) => r && r.accepted === false).map((r) => r.address);
      this.rejectedErrors = recipients
        .filter((r) => r && r.accepted === false)
        .map((r) => {
          const sub = new SidecarError({ code: 'recipients_rejected', message: `${r.address}: ${formatSmtpReply(r.smtp) ?? 'refused'}`, retryable: false, smtp: r.smtp });
          sub.recipient = r.address;
          return sub;
        });
    }
  }

  toJSON() {
    const o = { name: this.name, message: this.message };
    for (const k of ['code', 'sidecarCode', 'retryable', 'retryAfterMs', 'smtp', 'field', 'phase', 'outcome', 'responseCode', 'response', 'command', 'accepted', 'rejected', 'result']) {
      if (this[k] !== undefined) o[k] = this[k];
    }
    return o;
  }
}

/** An error this client makes itself (not sent by the daemon). */
export function clientError(code, message, retryable, extra) {
  return new SidecarError({ code, message, retryable }, extra);
}
