// The workload of sidecar-bench (Sources/sidecar-bench) through this client, for
// scripts/bench/clients.sh: N workers, each sending one message after the other (so N in
// flight), the same send params, body and per-message idempotency key, duplicate
// suppression left at the daemon's default. Prints sidecar-bench's result line.
//   node bench/load.mjs --socket S --request FILE [--clients 16] [--messages 1600]
//                       [--warmup 5] [--size 2048] [--label TEXT] [--max-connections 4]
//                       [--raw-connections N]
// --raw-connections N: not the client but a minimal framing loop on N connections (the
// workers spread over them, answers matched by id), to tell the client's own cost from
// the cost of pipelining on few connections.
import fs from 'node:fs';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createClient, encodeRequest, FrameDecoder, SidecarError } from '../src/index.js';

const { values: a } = parseArgs({
  options: {
    socket: { type: 'string' }, request: { type: 'string' }, clients: { type: 'string', default: '16' },
    messages: { type: 'string', default: '1600' }, warmup: { type: 'string', default: '5' }, size: { type: 'string', default: '2048' },
    label: { type: 'string', default: 'node' }, 'max-connections': { type: 'string', default: '4' },
    'raw-connections': { type: 'string', default: '0' },
  },
});
const clients = Number(a.clients);
const warmup = Number(a.warmup);
const perClient = Math.ceil(Number(a.messages) / clients);
const template = JSON.parse(fs.readFileSync(a.request, 'utf8'));
template.text = 'The quick brown fox jumps over the lazy dog.\n'.repeat(Math.max(1, Math.floor(Number(a.size) / 45)));
delete template.dedup_window_seconds; // the daemon's default: duplicate suppression on

// sidecar-bench's: the smallest value with at least p % of the values at or below it
const percentile = (xs, p) => (xs.length ? xs[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))] : NaN);

/** A connection with nothing but framing and id matching; send() rejects on ok false. */
async function rawConnection(path) {
  const s = net.createConnection({ path });
  const decoder = new FrameDecoder();
  const waiting = new Map();
  let id = 0;
  s.on('data', (c) => {
    for (const p of decoder.push(c)) {
      const r = JSON.parse(p);
      waiting.get(r.id)?.(r);
      waiting.delete(r.id);
    }
  });
  await new Promise((r) => s.once('connect', r));
  const req = (op, params) => new Promise((resolve) => { const i = ++id; waiting.set(i, resolve); s.write(encodeRequest(i, op, params)); });
  await req('hello', { versions: [1] });
  return {
    async send(params) {
      const r = await req('send', params);
      if (!r.ok) throw new SidecarError(r.error, { result: r.result, op: 'send' });
      return r.result;
    },
    close: async () => s.destroy(),
  };
}

const rawCount = Number(a['raw-connections']);
const raws = rawCount > 0 ? await Promise.all(Array.from({ length: rawCount }, () => rawConnection(a.socket))) : [];
const client = rawCount > 0 ? null : createClient({ socketPath: a.socket, maxConnections: Number(a['max-connections']) });
await client?.hello();
let failures = 0;
const latencies = [];
const t0 = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: clients }, async (_, c) => {
    for (let i = 0; i < perClient + warmup; i++) {
      const sender = client ?? raws[c % raws.length];
      const params = { ...template, context: { idempotency_key: `bench-${c}-${i}-${randomUUID()}` } };
      const t = process.hrtime.bigint();
      let ok = true;
      try {
        await sender.send(params);
      } catch (err) {
        if (!(err instanceof SidecarError)) throw err;
        ok = false;
        if (failures === 0) console.error(`send failed: ${err.sidecarCode}: ${err.message}`);
      }
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (i < warmup) continue;
      if (ok) latencies.push(ms);
      else failures++;
    }
  }),
);
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
await client?.close();
for (const r of raws) await r.close();
latencies.sort((x, y) => x - y);
const sent = latencies.length;
const rate = sent ? sent / (wall * (sent / (sent + warmup * clients))) : 0;
const f = (x) => x.toFixed(2).padStart(7);
console.log(`${a.label.padEnd(34)} ${String(sent).padStart(6)} msgs ${rate.toFixed(1).padStart(8)} msg/s  p50 ${f(percentile(latencies, 50))} ms  p90 ${f(percentile(latencies, 90))} ms  p99 ${f(percentile(latencies, 99))} ms  failures ${failures}`);
