// Starts the real smtp-sidecar daemon for live tests (skipped when absent).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';

export const DAEMON_BIN = process.env.SMTP_SIDECAR_BIN || '/work/bin-clients/smtp-sidecar';

export function daemonAvailable() {
  try {
    fs.accessSync(DAEMON_BIN, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const canConnect = (p) =>
  new Promise((resolve) => {
    const s = net.createConnection({ path: p });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

/** Starts `smtp-sidecar serve` on a fresh socket and state directory; returns {socketPath, stop(), log()}. */
export async function startDaemon(extraSets = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sidecar-node-live-'));
  const socketPath = path.join(dir, 's.sock');
  const args = ['serve', '--socket', socketPath, '--log-target', 'stderr', '--set', `state_directory=${path.join(dir, 'state')}`, '--set', 'egress_allowed_cidrs=127.0.0.1/32,::1/128'];
  for (const s of extraSets) args.push('--set', s);
  // The daemon reads SMTP_SIDECAR_* variables as configuration keys: the tests' own
  // (SMTP_SIDECAR_BIN, ...) must not reach it.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SMTP_SIDECAR_')));
  const child = spawn(DAEMON_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`smtp-sidecar exited: ${log}`);
    if (fs.existsSync(socketPath) && (await canConnect(socketPath))) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    socketPath,
    dir,
    log: () => log,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
