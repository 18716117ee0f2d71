// Imported before ./env.js by a test file that starts with Redis unreachable: REDIS_URL points at a
// free loopback port where the test itself can later start a real redis-server (`startRedisOnPort`).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePortSync } from './free-port.js';

export const redisPort = freePortSync();
process.env.REDIS_URL = `redis://127.0.0.1:${redisPort}`;

const canConnect = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** Starts redis-server (no persistence) on `redisPort`; the returned function stops it. */
export async function startRedisOnPort(): Promise<() => Promise<void>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'redis-down-'));
  const args = [
    '--port',
    String(redisPort),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ];
  const child: ChildProcess = spawn('redis-server', args, { stdio: 'ignore' });
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(redisPort))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('redis-server did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return async () => {
    process.off('exit', killOnExit);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
}
