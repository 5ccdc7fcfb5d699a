// Promise client: a small pool of Unix-socket connections, each multiplexing
// requests by id (proto-spec §3.3), each opened with `hello` (§4, §5.1).
import net from 'node:net';
import { encodeRequest, FrameDecoder, MAX_RESPONSE_BYTES } from './frame.js';
import { SidecarError, clientError } from './errors.js';
import { toSendInfo } from './result.js';

export const CLIENT_VERSION = '0.1.0';
export const DEFAULT_SOCKET_PATH = '/run/smtp-sidecar/smtp-sidecar.sock';
const SUPPORTED_VERSIONS = [1];

/**
 * One connection to the daemon. Requests are written as soon as there is a
 * free slot (min of the daemon's max_in_flight and the client's), answers are
 * matched by id, in any order.
 */
class Connection {
  constructor(pool) {
    this.pool = pool;
    this.pending = new Map(); // id -> item
    this.nextId = 1;
    this.state = 'connecting'; // connecting | ready | draining | closed
    this.hello = null;
    this.limits = null;
    this.fatal = null; // an id:null refusal: the connection is ending because of it
    this.socketError = null;
    this.decoder = new FrameDecoder(MAX_RESPONSE_BYTES);
    this.idleTimer = null;
    this.writeQueue = [];
    this.writeScheduled = false;
    this.everReady = false;
    this.closedPromise = new Promise((resolve) => (this._resolveClosed = resolve));
  }

  get inFlight() {
    return this.pending.size;
  }

  get capacity() {
    const daemon = this.limits ? this.limits.max_in_flight : 1;
    return Math.max(1, Math.min(daemon, this.pool.maxInFlight));
  }

  hasRoom() {
    return this.state === 'ready' && this.pending.size < this.capacity;
  }

  open() {
    const socket = net.createConnection({ path: this.pool.socketPath });
    this.socket = socket;
    // A write can fail (EPIPE/ECONNRESET) while the refusal that explains it
    // (frame_too_large, too_many_connections…) is still unread in the socket
    // buffer. Node destroys a socket on a write error, losing that refusal; so
    // the socket is not auto-destroyed, reading goes on after a failed write
    // until the daemon's end of stream, and the connection then fails its
    // requests with the refusal it read.
    if (socket._writableState && socket._readableState) {
      socket._writableState.autoDestroy = false;
      socket._readableState.autoDestroy = false;
    }
    socket.on('data', (chunk) => this._onData(chunk));
    socket.on('error', (err) => {
      this.socketError = this.socketError ?? err;
      if (err.syscall === 'write' && !socket.destroyed && socket._readableState && !socket.readableEnded) {
        socket._readableState.errored = null; // keep reading what the daemon sent
        setTimeout(() => socket.destroy(), 1000);
      } else socket.destroy();
    });
    socket.on('close', () => this._onClose());
    // The daemon closed its side: nothing more will be answered.
    socket.on('end', () => socket.destroy());
    socket.once('connect', () => {
      const item = {
        op: 'hello',
        params: { versions: SUPPORTED_VERSIONS, client: this.pool.clientName },
        resolve: (res) => this._onHello(res),
        reject: (err) => this.pool._connectionFailed(this, err),
        internal: true,
        attempts: 1,
      };
      this._write(item, true);
    });
  }

  _onHello(result) {
    if (!result || result.version !== 1 || !result.limits) {
      this.pool._connectionFailed(this, clientError('unsupported_version', `the sidecar answered hello with version ${result && result.version}; this client speaks ${SUPPORTED_VERSIONS.join(', ')}`, false));
      this.destroy();
      return;
    }
    this.hello = result;
    this.limits = result.limits;
    if (this.state === 'connecting') this.state = 'ready';
    this.everReady = true;
    this._touch();
    this.pool._connectionReady(this);
  }

  /** Sends an item (from the pool queue). */
  dispatch(item) {
    this._write(item, false);
  }

  _write(item, isHello) {
    const id = this.nextId++;
    let frame;
    try {
      frame = encodeRequest(id, item.op, item.params);
    } catch (err) {
      item.reject(clientError('invalid_params', `the request cannot be encoded as JSON: ${err.message}`, false, { op: item.op, cause: err }));
      return;
    }
    const max = this.limits ? this.limits.max_frame_bytes : Infinity;
    if (frame.length - 4 > max) {
      item.reject(
        new SidecarError(
          { code: 'frame_too_large', message: `The request is ${frame.length - 4} bytes; the sidecar accepts at most ${max} (max_frame_bytes). Attach large files by URL. Nothing was sent.`, retryable: false },
          { op: item.op, result: item.op === 'send' ? { outcome: 'not_sent' } : undefined },
        ),
      );
      this.pool._pump();
      return;
    }
    item.id = id;
    item.conn = this;
    this.pending.set(id, item);
    this._touch();
    this.writeQueue.push(frame);
    if (!this.writeScheduled) {
      this.writeScheduled = true;
      // Written from setImmediate, after the event loop has polled the socket:
      // a refusal the daemon already sent is read before a write can fail with
      // EPIPE, and frames of one tick go out in one write.
      setImmediate(() => this._flush());
    }
  }

  _flush() {
    this.writeScheduled = false;
    if (this.state === 'closed' || this.socket.destroyed || this.socketError || !this.socket.writable || !this.writeQueue.length) {
      this.writeQueue = [];
      return;
    }
    const frames = this.writeQueue;
    this.writeQueue = [];
    this.socket.cork();
    for (const f of frames) this.socket.write(f);
    this.socket.uncork();
  }

  _onData(chunk) {
    let payloads;
    try {
      payloads = this.decoder.push(chunk);
    } catch (err) {
      this._protocolFailure(`a response frame is too large: ${err.message}`);
      return;
    }
    for (const p of payloads) {
      let resp;
      try {
        resp = JSON.parse(p.toString('utf8'));
      } catch (err) {
        this._protocolFailure(`a response is not JSON: ${err.message}`);
        return;
      }
      if (!resp || typeof resp !== 'object' || Array.isArray(resp)) {
        this._protocolFailure('a response is not a JSON object');
        return;
      }
      this._onResponse(resp);
    }
  }

  _onResponse(resp) {
    if (resp.id === null || resp.id === undefined) {
      // Cannot be matched to one request (frame_too_large, truncated_frame,
      // too_many_connections, peer_not_allowed, …). Stop writing, half-close:
      // the daemon answers what it has read, then closes; what is left
      // unanswered then gets this error.
      const err = new SidecarError(resp.error ?? { code: 'invalid_response', message: 'an answer without id', retryable: false });
      if (!this.fatal) this.fatal = err;
      this._drain();
      return;
    }
    const item = this.pending.get(resp.id);
    if (!item) return; // not ours (or already given up): ignore
    this.pending.delete(resp.id);
    this._touch();
    if (resp.ok === true) item.resolve(resp.result ?? {});
    else {
      item.reject(new SidecarError(resp.error, { result: resp.result, op: item.op, id: resp.id }));
      // The daemon is stopping: a retry must go to a new connection (the next instance).
      if (resp.error && resp.error.code === 'shutting_down' && this.state === 'ready') this._drain();
    }
    if (this.state === 'draining' && this.pending.size === 0 && !this.socket.destroyed) this.socket.end();
    if (!item.internal) this.pool._pump();
  }

  _protocolFailure(message) {
    this.fatal = this.fatal ?? clientError('invalid_response', `The sidecar sent something this client cannot read (${message}).`, false);
    this.destroy();
  }

  /** No new requests; half-close so the daemon finishes and closes. */
  _drain() {
    if (this.state === 'closed') return;
    this.state = 'draining';
    this._clearIdle();
    if (!this.socket.destroyed) this.socket.end();
    this.pool._connectionDraining(this);
  }

  _touch() {
    this._clearIdle();
    if (this.socket) {
      // An idle connection does not keep the process alive.
      if (this.pending.size === 0) this.socket.unref();
      else this.socket.ref();
    }
    if (this.pending.size === 0 && this.state === 'ready' && this.limits) {
      // Close it ourselves a little before the daemon's idle timeout, so that a
      // request never races the daemon's idle close.
      const ms = Math.max(500, this.limits.idle_timeout_ms - Math.min(2000, this.limits.idle_timeout_ms / 10));
      this.idleTimer = setTimeout(() => {
        if (this.pending.size === 0 && this.state === 'ready') {
          this.state = 'draining';
          this.pool._connectionDraining(this);
          this.socket.end();
        }
      }, ms);
      this.idleTimer.unref();
    }
  }

  _clearIdle() {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  destroy() {
    if (this.socket && !this.socket.destroyed) this.socket.destroy();
  }

  _onClose() {
    const wasReady = this.everReady;
    this.state = 'closed';
    this._clearIdle();
    let truncated = null;
    try {
      this.decoder.end();
    } catch (err) {
      truncated = err;
    }
    const items = [...this.pending.values()];
    this.pending.clear();
    for (const item of items) {
      if (this.fatal) {
        item.reject(this._fatalFor(item));
      } else {
        const why = this.socketError ? `${this.socketError.code ?? this.socketError.message}` : truncated ? 'in the middle of a response' : 'without answering';
        item.connectionLost = why;
        if (item.internal) {
          // hello: the connection never became usable
          const code = wasReady ? 'connection_lost' : 'sidecar_unavailable';
          item.reject(clientError(code, `Cannot talk to smtp-sidecar at ${this.pool.socketPath}: the connection closed (${why}).`, true, { cause: this.socketError ?? undefined }));
        } else {
          this.pool._lost(item, why, this.socketError);
        }
      }
    }
    if (!wasReady && !this.failedWith) {
      // never connected (no socket file, refused, …): nothing was written
      const why = this.socketError ? this.socketError.code ?? this.socketError.message : 'closed';
      this.pool._connectionFailed(this, clientError('sidecar_unavailable', `Cannot connect to smtp-sidecar at ${this.pool.socketPath} (${why}). Is the daemon running, and may this process use its socket?`, true, { cause: this.socketError ?? undefined }));
    }
    this.pool._connectionClosed(this);
    this._resolveClosed();
  }

  _fatalFor(item) {
    const f = this.fatal;
    const err = new SidecarError(
      { code: f.sidecarCode, message: f.message, retryable: f.retryable, smtp: f.smtp, field: f.field, retry_after_ms: f.retryAfterMs },
      { op: item.op, id: item.id },
    );
    return err;
  }
}

class Pool {
  constructor(options) {
    this.socketPath = options.socketPath ?? process.env.SMTP_SIDECAR_SOCKET ?? DEFAULT_SOCKET_PATH;
    this.maxConnections = Math.max(1, options.maxConnections ?? 4);
    this.maxInFlight = Math.max(1, options.maxInFlight ?? Infinity);
    this.clientName = options.clientName ?? `smtp-sidecar-node/${CLIENT_VERSION}`;
    this.connections = new Set();
    this.queue = [];
    this.closed = false;
  }

  request(op, params, opts = {}) {
    if (this.closed) return Promise.reject(clientError('connection_lost', 'The client is closed.', false, { op }));
    return new Promise((resolve, reject) => {
      const item = { op, params, attempts: 0 };
      let settled = false;
      let timer = null;
      item.resolve = (v) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        resolve(v);
      };
      item.reject = (e) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        reject(e);
      };
      if (opts.timeoutMs) {
        timer = setTimeout(() => {
          const sent = item.conn !== undefined;
          item.reject(
            clientError(
              'client_timeout',
              `No answer from smtp-sidecar within ${opts.timeoutMs} ms${sent && op === 'send' ? '; the send may still complete in the sidecar (a retry within the dedup window gets its result)' : ''}.`,
              op !== 'send' || !sent || params?.dedup_window_seconds !== 0,
              { op },
            ),
          );
          const i = this.queue.indexOf(item);
          if (i >= 0) this.queue.splice(i, 1);
        }, opts.timeoutMs);
      }
      this.queue.push(item);
      this._pump();
    });
  }

  _pump() {
    while (this.queue.length) {
      let best = null;
      for (const c of this.connections) if (c.hasRoom() && (!best || c.inFlight < best.inFlight)) best = c;
      if (best) {
        const item = this.queue.shift();
        if (item.op === null) {
          // hello(): only waits for a ready connection
          item.resolve(best.hello);
          continue;
        }
        item.attempts++;
        best.dispatch(item);
        continue;
      }
      const connecting = [...this.connections].some((c) => c.state === 'connecting');
      const usable = [...this.connections].filter((c) => c.state === 'connecting' || c.state === 'ready').length;
      if (!connecting && usable < this.maxConnections && !this.closed) {
        const c = new Connection(this);
        this.connections.add(c);
        c.open();
      }
      break;
    }
  }

  _connectionReady() {
    this._pump();
  }

  _connectionDraining(conn) {
    // A connection refused before it was ready (too_many_connections…) does
    // not make room for another attempt: its hello fails and says why.
    if (conn.everReady) this._pump();
  }

  _connectionFailed(conn, err) {
    conn.failedWith = err;
    this.connections.delete(conn);
    conn.destroy();
    const others = [...this.connections].some((c) => c.state === 'ready' || c.state === 'connecting');
    if (!others) {
      // Nothing can carry the queued requests: fail them with the reason.
      const items = this.queue.splice(0);
      for (const item of items) item.reject(new SidecarError({ code: err.sidecarCode, message: err.message, retryable: err.retryable, field: err.field, retry_after_ms: err.retryAfterMs }, { op: item.op, cause: err.cause }));
    } else this._pump();
  }

  _connectionClosed(conn) {
    this.connections.delete(conn);
    if (!this.closed) this._pump();
  }

  /**
   * A request's connection closed without its answer and without a refusal.
   * It is re-sent once on another connection when that cannot send twice: any
   * operation but send, or a send with duplicate suppression on (the daemon
   * answers the re-sent one with the first one's result, duplicate: true).
   */
  _lost(item, why, cause) {
    const safe = item.op !== 'send' || item.params?.dedup_window_seconds !== 0;
    if (safe && item.attempts < 2 && !this.closed) {
      delete item.conn;
      delete item.id;
      this.queue.unshift(item);
      this._pump();
      return;
    }
    item.reject(
      clientError(
        'connection_lost',
        `The connection to smtp-sidecar closed (${why}) before it answered${item.op === 'send' ? '; the send may have been delivered' : ''}.`,
        safe,
        { op: item.op, cause: cause ?? undefined, result: item.op === 'send' ? { outcome: 'outcome_unknown' } : undefined },
      ),
    );
  }

  async close() {
    this.closed = true;
    const items = this.queue.splice(0);
    for (const item of items) item.reject(clientError('connection_lost', 'The client was closed before the request was sent.', true, { op: item.op }));
    const waits = [];
    for (const c of this.connections) {
      waits.push(c.closedPromise);
      if (c.inFlight === 0) c.destroy();
      else c._drain();
    }
    await Promise.all(waits);
  }
}

/**
 * Creates a client. Options: socketPath, maxConnections (default 4),
 * maxInFlight (client-side cap per connection, below the daemon's),
 * clientName (sent in hello).
 */
export function createClient(options = {}) {
  const pool = new Pool(options);
  return {
    get socketPath() {
      return pool.socketPath;
    },
    async send(params, opts) {
      const result = await pool.request('send', params, opts).catch((err) => {
        if (err instanceof SidecarError && err.op === 'send' && err.result) err.info = toSendInfo(err.result, params);
        throw err;
      });
      return toSendInfo(result, params);
    },
    verify(params, opts) {
      return pool.request('verify', params, opts);
    },
    ping(data, opts) {
      const params = data === undefined ? undefined : typeof data === 'object' && data !== null ? data : { data: String(data) };
      return pool.request('ping', params, opts);
    },
    stats(opts) {
      return pool.request('stats', undefined, opts);
    },
    /** The daemon's metrics: `{content_type, text}`, the Prometheus text format. */
    metrics(opts) {
      return pool.request('metrics', undefined, opts);
    },
    /**
     * The health of the daemon's stored credentials (proto-spec §5.7): `{credentials: [...]}`,
     * all of them, or filtered by `{credential_id, workspace_id}`.
     */
    credentialStatus(filter, opts) {
      const params = {};
      if (filter?.credential_id !== undefined) params.credential_id = filter.credential_id;
      if (filter?.workspace_id !== undefined) params.workspace_id = filter.workspace_id;
      return pool.request('credential_status', Object.keys(params).length ? params : undefined, opts);
    },
    /** The hello result of a connection (opening one if needed). */
    async hello(opts) {
      for (const c of pool.connections) if (c.hello && c.state === 'ready') return c.hello;
      return pool.request(null, undefined, opts);
    },
    /** Low-level: any operation, raw result. */
    request(op, params, opts) {
      return pool.request(op, params, opts);
    },
    close() {
      return pool.close();
    },
    /** Open connections (for tests and metrics). */
    get connectionCount() {
      return pool.connections.size;
    },
  };
}
