// Framing of the smtp-sidecar protocol (proto-spec §2): a 4-byte big-endian
// payload length, then one JSON object in UTF-8.

/** Responses up to this size are accepted (proto-spec §2: clients SHOULD accept 64 MiB). */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** Encodes one request object as a frame. `params` is left out when null/undefined. */
export function encodeRequest(id, op, params) {
  const req = params === undefined || params === null ? { id, op } : { id, op, params };
  return encodeFrame(req);
}

export function encodeFrame(obj) {
  const payload = Buffer.from(JSON.stringify(obj), 'utf8');
  const frame = Buffer.allocUnsafe(4 + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  payload.copy(frame, 4);
  return frame;
}

/**
 * Incremental frame decoder. push(chunk) returns the complete payloads (Buffers)
 * decoded so far. A header announcing more than maxBytes throws a FrameError
 * with kind 'oversized' from the header alone; end() throws kind 'truncated'
 * when bytes of an incomplete frame are left.
 */
export class FrameDecoder {
  constructor(maxBytes = MAX_RESPONSE_BYTES) {
    this.maxBytes = maxBytes;
    this.chunks = [];
    this.length = 0;
  }

  push(chunk) {
    if (chunk.length) {
      this.chunks.push(chunk);
      this.length += chunk.length;
    }
    const out = [];
    for (;;) {
      if (this.length < 4) break;
      const head = this._peek(4);
      const size = head.readUInt32BE(0);
      if (size > this.maxBytes) {
        throw new FrameError('oversized', `frame of ${size} bytes exceeds ${this.maxBytes}`, { declaredLength: size });
      }
      if (this.length < 4 + size) break;
      const all = this._take(4 + size);
      out.push(all.subarray(4));
    }
    return out;
  }

  /** Bytes of an incomplete frame still buffered. */
  get pending() {
    return this.length;
  }

  /**
   * Throws a FrameError of kind 'truncated' when the stream ended inside a
   * frame. `received` and `expected` count the frame's bytes header included,
   * as proto-spec/vectors do (2 of 4 for a cut header, 10 of 104 for a cut
   * 100-byte payload).
   */
  end() {
    if (this.length > 0) {
      const expected = this.length >= 4 ? this._peek(4).readUInt32BE(0) + 4 : 4;
      throw new FrameError('truncated', `stream ended inside a frame (${this.length} of ${expected} bytes)`, { received: this.length, expected });
    }
  }

  _peek(n) {
    if (this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined.subarray(0, n);
  }

  _take(n) {
    let buf;
    if (this.chunks[0].length >= n) {
      buf = this.chunks[0].subarray(0, n);
      const rest = this.chunks[0].subarray(n);
      if (rest.length) this.chunks[0] = rest;
      else this.chunks.shift();
    } else {
      const joined = Buffer.concat(this.chunks);
      buf = joined.subarray(0, n);
      const rest = joined.subarray(n);
      this.chunks = rest.length ? [rest] : [];
    }
    this.length -= n;
    return buf;
  }
}

export class FrameError extends Error {
  constructor(kind, message, details = {}) {
    super(message);
    this.name = 'FrameError';
    this.kind = kind;
    Object.assign(this, details);
  }
}
