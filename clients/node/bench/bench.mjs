// Client overhead: p50/p95 of N concurrent sends through createClient() and
// through a minimal raw framing loop (one connection, ids, nothing else), on
// the same daemon and SMTP server, alternating rounds.
//   node bench/bench.mjs --socket PATH --host 127.0.0.1 --port 587 --user U --password P [--ca FILE] [--concurrency 16] [--rounds 20]
import net from 'node:net';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { createClient, encodeRequest, FrameDecoder } from '../src/index.js';

const { values: a } = parseArgs({
  options: {
    socket: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string' },
    user: { type: 'string' }, password: { type: 'string' }, ca: { type: 'string' }, security: { type: 'string' },
    concurrency: { type: 'string', default: '16' }, rounds: { type: 'string', default: '20' }, to: { type: 'string', default: 'bench@example.test' },
  },
});
const N = Number(a.concurrency);
const credential = { id: 'bench', host: a.host, port: Number(a.port), username: a.user, password: a.password, ...(a.security ? { security: a.security } : {}), ...(a.ca ? { tls: { ca_pem: fs.readFileSync(a.ca, 'utf8') } } : {}) };
const params = (i) => ({ workspace_id: 'bench', credential, from: a.user, to: a.to, subject: `bench ${i}`, text: 'x', dedup_window_seconds: 0 });

function rawClient(path) {
  const s = net.createConnection({ path });
  const d = new FrameDecoder();
  const waiting = new Map();
  let id = 0;
  s.on('data', (c) => { for (const p of d.push(c)) { const r = JSON.parse(p); waiting.get(r.id)?.(r); waiting.delete(r.id); } });
  return {
    ready: new Promise((r) => s.once('connect', r)),
    req(op, p) { const i = ++id; return new Promise((resolve) => { waiting.set(i, resolve); s.write(encodeRequest(i, op, p)); }); },
    close() { s.destroy(); },
  };
}

const pct = (xs, p) => { const s = [...xs].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const client = createClient({ socketPath: a.socket, maxConnections: 1 });
await client.hello();
const raw = rawClient(a.socket);
await raw.ready;
await raw.req('hello', { versions: [1] });
const lat = { client: [], raw: [] };
let k = 0;
for (let r = 0; r < Number(a.rounds); r++) {
  for (const which of r % 2 ? ['raw', 'client'] : ['client', 'raw']) {
    await Promise.all(Array.from({ length: N }, async () => {
      const t = process.hrtime.bigint();
      if (which === 'client') await client.send(params(k++));
      else { const res = await raw.req('send', params(k++)); if (!res.ok) throw new Error(res.error.code); }
      lat[which].push(Number(process.hrtime.bigint() - t) / 1e6);
    }));
  }
}
const row = (w) => `${w.padEnd(7)} n=${lat[w].length} p50=${pct(lat[w], 0.5).toFixed(2)} ms p95=${pct(lat[w], 0.95).toFixed(2)} ms`;
console.log(row('raw'));
console.log(row('client'));
console.log(`client p50 overhead: ${((pct(lat.client, 0.5) / pct(lat.raw, 0.5) - 1) * 100).toFixed(1)}%`);
await client.close();
raw.close();
