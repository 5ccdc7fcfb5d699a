// An in-process fake smtp-sidecar: a node:net Unix-socket server speaking the
// framing, for unit tests of the client.
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { encodeFrame } from '../src/frame.js';

let counter = 0;
const dirs = [];
process.on('exit', () => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A socket path in a fresh temporary directory, removed when the process exits. */
export function tmpSocketPath() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sidecar-node-'));
  dirs.push(dir);
  return path.join(dir, `fake-${process.pid}-${counter++}.sock`);
}

export const DEFAULT_LIMITS = { max_frame_bytes: 33554432, max_in_flight: 32, idle_timeout_ms: 300000 };

/**
 * Starts a fake daemon. `onRequest(req, conn)` handles every request but
 * hello (answered with `limits` unless onHello is given); it may answer with
 * conn.reply(id, result) / conn.fail(id, error) / conn.send(obj), or later.
 * `maxFrameBytes` is the size the fake really enforces (it may differ from
 * the one it announces): a larger header gets frame_too_large (id null) and
 * the connection is destroyed at once, with the rest of the payload unread.
 */
export async function startFake({ limits = DEFAULT_LIMITS, onRequest, onHello, onConnection, maxFrameBytes = Infinity } = {}) {
  const socketPath = tmpSocketPath();
  const conns = [];
  const requests = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const conn = {
      socket,
      index: conns.length,
      requests: [],
      send(obj) {
        if (!socket.destroyed) socket.write(encodeFrame(obj));
      },
      reply(id, result) {
        this.send({ id, ok: true, result });
      },
      fail(id, error, result) {
        this.send(result ? { id, ok: false, error, result } : { id, ok: false, error });
      },
    };
    conns.push(conn);
    socket.on('error', () => {});
    // like the daemon: a half-close by the client is answered, then closed
    socket.on('end', () => setTimeout(() => socket.end(), 50));
    if (onConnection && onConnection(conn) === false) return;
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4) {
        const len = buf.readUInt32BE(0);
        if (len > maxFrameBytes) {
          conn.send({ id: null, ok: false, error: { code: 'frame_too_large', message: `frame of ${len} bytes is over ${maxFrameBytes}`, retryable: false } });
          socket.destroy();
          return;
        }
        if (buf.length < 4 + len) break;
        const req = JSON.parse(buf.subarray(4, 4 + len).toString('utf8'));
        buf = buf.subarray(4 + len);
        conn.requests.push(req);
        requests.push(req);
        if (req.op === 'hello') {
          if (onHello) onHello(req, conn);
          else conn.reply(req.id, { version: 1, server: 'smtp-sidecar', server_version: 'fake', operations: ['hello', 'ping', 'stats', 'send', 'verify', 'metrics', 'credential_status'], limits });
        } else if (onRequest) onRequest(req, conn);
        else conn.reply(req.id, { pong: true, data: req.params?.data });
      }
    });
  });
  await new Promise((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    conns,
    requests,
    async close() {
      for (const c of conns) c.socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
