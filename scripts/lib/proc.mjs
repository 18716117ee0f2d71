// Child-process plumbing for the dev/test scripts: long-running services, foreground steps,
// readiness waits and cleanup. Node built-ins only, because it runs before `npm ci`.
import { spawn } from 'node:child_process';
import { accessSync, constants, createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const services = new Set();
const foregrounds = new Set();
const handedOut = new Set();
let logDir;

/** Also append every service's output to DIR/<name>.log (dev); otherwise only a tail is kept. */
export function setLogDir(dir) {
  logDir = dir;
}

export function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    try {
      accessSync(path.join(dir, cmd), constants.X_OK);
      return path.join(dir, cmd);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * Runs a command to completion with inherited stdio (progress of slow steps stays visible), or
 * with `quiet` its output shown only on failure. Rejects on a non-zero exit.
 */
export function run(cmd, args, { quiet = false, ...opts } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit', ...opts });
    let output = '';
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? code})\n${output}`)),
    );
  });
}

/**
 * Runs a foreground step (checks, ava, foreman) in its own process group, so that on exit or on
 * a signal we can end it together with anything it left behind (e.g. a Pebble of a crashed test).
 * Resolves with the exit code.
 */
export function runForeground(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: 'inherit', detached: true, ...opts });
  const entry = { child, done: undefined };
  foregrounds.add(entry);
  entry.done = new Promise((resolve) => {
    child.on('error', (err) => {
      console.error(`${cmd}: ${err.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal === 'SIGINT' ? 2 : 15)));
  }).then((code) => {
    killGroup(child.pid, 'SIGKILL'); // orphans of the step, if any
    foregrounds.delete(entry);
    return code;
  });
  return entry.done;
}

/** Starts a long-running service in its own process group; stop() or stopAll() ends it. */
export function spawnService(name, cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
  const lines = [];
  const log = logDir ? createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' }) : undefined;
  const onData = (chunk) => {
    log?.write(chunk);
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 30));
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const svc = { name, child, ready: false, exited: false, stopping: false, tail: () => lines.join('\n') };
  const exited = new Promise((resolve) => {
    child.on('error', (err) => lines.push(`spawn ${cmd}: ${err.message}`));
    child.on('close', (code, signal) => {
      svc.exited = true;
      services.delete(svc);
      log?.end();
      // Before it is ready, waitUntil() reports the failure with the same tail.
      if (svc.ready && !svc.stopping)
        console.error(`[${name}] exited unexpectedly (${signal ?? code}):\n${svc.tail()}`);
      resolve();
    });
  });
  svc.stop = async () => {
    if (svc.exited) return;
    svc.stopping = true;
    killGroup(child.pid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  services.add(svc);
  return svc;
}

function killGroup(pid, signal) {
  try {
    if (pid) process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Stops foreground steps first (they use the services), then services, newest first. */
export async function stopAll(signal = 'SIGTERM') {
  await Promise.all(
    [...foregrounds].map(({ child, done }) => {
      killGroup(child.pid, signal);
      const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 10_000);
      return done.finally(() => clearTimeout(timer));
    }),
  );
  for (const svc of [...services].reverse()) await svc.stop();
}

let signalled = false;

/** On SIGINT/SIGTERM/SIGHUP stop everything and exit; on any exit kill what is left. */
export function installCleanup() {
  const codes = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
  for (const [signal, code] of Object.entries(codes)) {
    process.on(signal, () => {
      if (signalled) return; // a second Ctrl-C: the exit handler below still runs
      signalled = true;
      console.error(`\n${signal}: stopping…`);
      void stopAll(signal === 'SIGHUP' ? 'SIGTERM' : signal).finally(() => process.exit(code));
    });
  }
  process.on('exit', () => {
    for (const { child } of foregrounds) killGroup(child.pid, 'SIGKILL');
    for (const svc of services) killGroup(svc.child.pid, 'SIGKILL');
  });
}

/** Stops everything and exits with `code`, unless a signal handler is already doing so. */
export async function finish(code) {
  await stopAll();
  if (!signalled) process.exit(code);
}

/** A loopback port that is free for TCP and UDP (challtestsrv's DNS uses both). */
export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const srv = createServer().once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const { port } = srv.address();
        srv.close(() => resolve(port));
      });
    });
    if (handedOut.has(port) || !(await udpFree(port))) continue;
    handedOut.add(port);
    return port;
  }
}

function udpFree(port) {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    sock.once('error', () => resolve(false));
    sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)));
  });
}

export function tcpOpen(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const sock = connect({ port, host });
    sock.once('connect', () => {
      sock.end();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** Polls check() until it is truthy; fails early with the service's log tail if it dies. */
export async function waitUntil(svc, what, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (svc.exited) throw new Error(`${svc.name} exited before ${what}:\n${svc.tail()}`);
    if (await check().catch(() => false)) {
      svc.ready = true;
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${svc.name}: no ${what} after ${timeoutMs / 1000}s; last log lines:\n${svc.tail()}`);
}

/** Runs a script's `main` (which returns an exit code), reports its error plainly and stops what it started. */
export async function runMain(main) {
  let code = 1;
  try {
    code = await main();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
  }
  await finish(code);
}

/** A temp dir with `subdirs`, removed when the process exits. */
export function tempDir(prefix, subdirs = []) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  for (const d of subdirs) mkdirSync(path.join(dir, d));
  return dir;
}
