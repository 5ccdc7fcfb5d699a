// Type definitions for smtp-sidecar (Node client), protocol version 1.
/// <reference types="node" />

export const CLIENT_VERSION: string;
export const DEFAULT_SOCKET_PATH: string;
export const MAX_RESPONSE_BYTES: number;

// ---- protocol types (proto-spec/schema) -----------------------------------

export interface SmtpReply {
  code: number;
  enhanced_code?: string;
  text: string;
  [extra: string]: unknown;
}

export interface Limits {
  preset?: 'gmail' | 'ses-sandbox';
  per_minute?: number;
  daily?: number;
}

export interface InlineCredential {
  id?: string;
  host: string;
  port?: number;
  security?: 'tls' | 'starttls' | 'none';
  username?: string;
  password?: string;
  access_token?: string;
  auth?: 'auto' | 'plain' | 'login' | 'xoauth2' | 'oauthbearer' | 'none';
  tls?: { min_version?: '1.2' | '1.3'; accept_unverified?: boolean; ca_pem?: string; server_name?: string };
  client_name?: string;
  pipelining?: boolean;
  chunking?: boolean;
  max_messages_per_connection?: number;
  limits?: Limits;
}

export type AddressList = string | string[];

export interface Attachment {
  filename: string;
  content_type?: string;
  content_base64?: string;
  url?: string;
  content_id?: string;
}

export interface SendContext {
  workflow_id?: string;
  execution_id?: string;
  node_id?: string;
  trigger_email?: string;
  idempotency_key?: string;
}

interface CredentialChoice {
  workspace_id: string;
  credential?: InlineCredential;
  credential_id?: string;
}

/** The params of a `send` request, as on the wire (proto-spec §5.4). */
export interface SendParams extends CredentialChoice {
  from?: string;
  to?: AddressList;
  cc?: AddressList;
  bcc?: AddressList;
  reply_to?: string;
  subject?: string;
  body_format?: 'text' | 'html';
  text?: string;
  html?: string;
  priority?: 'low' | 'normal' | 'high';
  headers?: Array<{ name: string; value: string }> | Record<string, string>;
  attachments?: Attachment[];
  context?: SendContext;
  dedup_window_seconds?: number;
  dsn?: { notify?: Array<'never' | 'success' | 'failure' | 'delay'>; ret?: 'full' | 'headers'; envelope_id?: string };
  on_error?: 'stop' | 'continue';
  timeout_ms?: number;
}

export interface VerifyParams extends CredentialChoice {
  timeout_ms?: number;
}

export type Outcome = 'sent' | 'not_sent' | 'outcome_unknown';

export interface RecipientResult {
  address: string;
  accepted: boolean;
  smtp?: SmtpReply;
}

/** The raw `send` result (proto-spec §5.4). */
export interface SendResult {
  outcome: Outcome | string;
  message_id?: string;
  smtp?: SmtpReply;
  recipients?: RecipientResult[];
  duplicate?: boolean;
  phase?: string;
  error?: ErrorObject;
  [extra: string]: unknown;
}

/** A send result shaped like Nodemailer's `info`, plus outcome and duplicate. */
export interface SendInfo {
  messageId?: string;
  accepted: string[];
  rejected: string[];
  pending: string[];
  /** "250 2.0.0 Ok: queued as …" */
  response?: string;
  envelope: { from?: string; to: string[] };
  outcome: Outcome | string;
  duplicate: boolean;
  smtp?: SmtpReply;
  recipients: RecipientResult[];
  phase?: string;
  /** With on_error "continue": the failure. */
  error?: SidecarError;
}

export interface HelloResult {
  version: number;
  server: 'smtp-sidecar';
  server_version: string;
  operations: string[];
  limits: { max_frame_bytes: number; max_in_flight: number; idle_timeout_ms: number; [extra: string]: unknown };
  [extra: string]: unknown;
}

export interface PingResult {
  pong: true;
  data?: string;
  [extra: string]: unknown;
}

/** The `metrics` result: the daemon's metrics in the Prometheus text format (proto-spec §5.6). */
export interface MetricsResult {
  content_type: string;
  text: string;
}

/** A limit of a stored credential with what is used of it (proto-spec §5.7). */
export interface CredentialQuotaWindow {
  used: number;
  limit: number;
  period_ms: number;
  /** RFC 3339, UTC. */
  resets_at: string;
  [extra: string]: unknown;
}

/** One stored credential's health (proto-spec §5.7). Never a secret. */
export interface CredentialStatus {
  id: string;
  workspace_id: string;
  label: string;
  host: string;
  port?: number;
  username?: string;
  last_success_at?: string;
  last_error?: { code: string; at: string; message?: string; [extra: string]: unknown };
  quota: { rate?: CredentialQuotaWindow; daily?: CredentialQuotaWindow; exhausted_until?: string; [extra: string]: unknown };
  pool: { pools: number; open: number; idle: number; leased: number; waiting: number; [extra: string]: unknown };
  token?: { expires_at?: string; last_refresh_error?: string; [extra: string]: unknown };
  [extra: string]: unknown;
}

/** The `credential_status` result. */
export interface CredentialStatusResult {
  credentials: CredentialStatus[];
  [extra: string]: unknown;
}

export interface StatsResult {
  uptime_ms: number;
  connections: { open: number; accepted: number; refused: number };
  requests: { in_flight: number; total: number; by_result: Record<string, number>; by_operation: Record<string, number> };
  pools?: Array<Record<string, unknown> & { label: string }>;
  [extra: string]: unknown;
}

export interface VerifyResult {
  ok: true;
  security: 'tls' | 'starttls' | 'none';
  server: string;
  auth_mechanisms: string[];
  capabilities: string[];
  [extra: string]: unknown;
}

export interface ErrorObject {
  code: string;
  message: string;
  retryable: boolean;
  field?: string;
  smtp?: SmtpReply;
  retry_after_ms?: number;
  [extra: string]: unknown;
}

// ---- errors -----------------------------------------------------------------

export type NodemailerCode =
  | 'EAUTH' | 'ECONNECTION' | 'ETIMEDOUT' | 'EENVELOPE' | 'EMESSAGE' | 'EPROTOCOL' | 'ECONFIG'
  | 'ESOCKET' | 'ERATELIMIT' | 'EOUTCOMEUNKNOWN' | 'ESIDECAR' | 'ESIDECARUNSUPPORTED';

export class SidecarError extends Error {
  constructor(error: ErrorObject | Partial<ErrorObject>, extra?: { result?: SendResult | Record<string, unknown>; op?: string; id?: string | number; cause?: unknown });
  name: 'SidecarError';
  /** Nodemailer-style code (see NODEMAILER_CODES). */
  code: NodemailerCode | string;
  /** The sidecar's error code (errors.md), or one of this client's: client_timeout, connection_lost, sidecar_unavailable, unsupported_message_option, invalid_response. */
  sidecarCode: string;
  retryable: boolean;
  retryAfterMs?: number;
  smtp?: SmtpReply;
  field?: string;
  /** The partial result the daemon sent with the error (send: outcome, phase, recipients). */
  result?: SendResult;
  phase?: string;
  outcome?: Outcome | string;
  op?: string;
  requestId?: string | number;
  /** Nodemailer-style: the SMTP reply code. */
  responseCode?: number;
  /** Nodemailer-style: "535 5.7.8 Error: authentication failed". */
  response?: string;
  /** Nodemailer-style: the SMTP command of the phase (AUTH, RCPT TO, …). */
  command?: string;
  accepted?: string[];
  rejected?: string[];
  rejectedErrors?: SidecarError[];
  /** For send errors with a partial result: that result as a SendInfo. */
  info?: SendInfo;
  toJSON(): Record<string, unknown>;
}

export const NODEMAILER_CODES: Readonly<Record<string, NodemailerCode>>;
export function nodemailerCode(sidecarCode: string, field?: string): NodemailerCode | string;
export function formatSmtpReply(smtp?: SmtpReply): string | undefined;

// ---- client -------------------------------------------------------------------

export interface ClientOptions {
  /** Default: $SMTP_SIDECAR_SOCKET, else /run/smtp-sidecar/smtp-sidecar.sock */
  socketPath?: string;
  /** Connections in the pool (default 4). */
  maxConnections?: number;
  /** Client-side cap of requests in flight per connection (the daemon's max_in_flight applies anyway). */
  maxInFlight?: number;
  /** Sent in hello (default smtp-sidecar-node/<version>). */
  clientName?: string;
}

export interface CallOptions {
  /** Client-side deadline; ETIMEDOUT/client_timeout. A send keeps running in the daemon. */
  timeoutMs?: number;
}

export interface SidecarClient {
  readonly socketPath: string;
  readonly connectionCount: number;
  send(params: SendParams, opts?: CallOptions): Promise<SendInfo>;
  verify(params: VerifyParams, opts?: CallOptions): Promise<VerifyResult>;
  ping(data?: string | { data?: string; delay_ms?: number }, opts?: CallOptions): Promise<PingResult>;
  stats(opts?: CallOptions): Promise<StatsResult>;
  metrics(opts?: CallOptions): Promise<MetricsResult>;
  credentialStatus(filter?: { credential_id?: string; workspace_id?: string }, opts?: CallOptions): Promise<CredentialStatusResult>;
  hello(opts?: CallOptions): Promise<HelloResult>;
  request(op: string, params?: Record<string, unknown> | null, opts?: CallOptions): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export function createClient(options?: ClientOptions): SidecarClient;

// ---- helpers --------------------------------------------------------------------

export function idempotencyKey(executionId: string | number, nodeId: string | number, attempt?: number): string;
export function isRetryable(err: unknown): boolean;
export function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options?: { retries?: number; baseDelayMs?: number; maxDelayMs?: number; signal?: AbortSignal; onRetry?: (err: SidecarError, attempt: number, delayMs: number) => void },
): Promise<T>;

export function toSendInfo(result: SendResult, params?: SendParams): SendInfo;
export function envelopeOf(params: SendParams): { from?: string; to: string[] };
export function splitAddressList(list: string): string[];
export function bareAddress(entry: string): string;

export function encodeRequest(id: string | number, op: string, params?: unknown): Buffer;
export function encodeFrame(obj: unknown): Buffer;
export class FrameDecoder {
  constructor(maxBytes?: number);
  push(chunk: Buffer): Buffer[];
  end(): void;
  readonly pending: number;
}
export class FrameError extends Error {
  kind: 'oversized' | 'truncated';
  declaredLength?: number;
  received?: number;
  expected?: number;
}

// ---- Nodemailer transport ---------------------------------------------------------

/** The subset of Nodemailer's message options the transport maps. */
export interface NodemailerAddress { name?: string; address: string }
export type NodemailerAddressField = string | NodemailerAddress | Array<string | NodemailerAddress>;
export interface NodemailerAttachment {
  filename?: string;
  content?: string | Buffer | Uint8Array;
  encoding?: string;
  path?: string;
  href?: string;
  contentType?: string;
  cid?: string;
  contentDisposition?: 'attachment' | 'inline';
}
export interface NodemailerMailData {
  from?: NodemailerAddressField;
  to?: NodemailerAddressField;
  cc?: NodemailerAddressField;
  bcc?: NodemailerAddressField;
  replyTo?: NodemailerAddressField;
  subject?: string;
  text?: string | Buffer;
  html?: string | Buffer;
  attachments?: NodemailerAttachment[];
  headers?: Record<string, string | string[] | { prepared: boolean; value: string }> | Array<{ key: string; value: string }>;
  priority?: 'high' | 'normal' | 'low';
  disableFileAccess?: boolean;
  disableUrlAccess?: boolean;
  /** Per-message sidecar options. */
  sidecar?: {
    context?: SendContext;
    idempotencyKey?: string;
    dedupWindowSeconds?: number;
    timeoutMs?: number;
    workspaceId?: string;
    credential?: InlineCredential;
    credentialId?: string;
  };
  [other: string]: unknown;
}

export interface SidecarTransportOptions {
  socketPath?: string;
  workspaceId: string;
  credential?: InlineCredential;
  credentialId?: string;
  context?: SendContext;
  dedupWindowSeconds?: number;
  timeoutMs?: number;
  maxConnections?: number;
  /** Share an existing client (its pool) instead of creating one. */
  client?: SidecarClient;
}

export interface SidecarTransport {
  name: 'smtp-sidecar';
  version: string;
  send(mail: { data: NodemailerMailData } & Record<string, unknown>, callback: (err: SidecarError | null, info?: SendInfo) => void): void;
  verify(): Promise<true>;
  verify(callback: (err: SidecarError | null, ok?: true) => void): void;
  isIdle(): boolean;
  close(): Promise<void> | void;
  buildParams(data: NodemailerMailData): Promise<SendParams>;
}

export function sidecarTransport(options: SidecarTransportOptions): SidecarTransport;
export function mapMailOptions(data: NodemailerMailData): Promise<Omit<SendParams, 'workspace_id' | 'credential' | 'credential_id'>>;
export const UNSUPPORTED_OPTIONS: readonly string[];
export default sidecarTransport;
