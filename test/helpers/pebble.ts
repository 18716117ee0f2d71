// A real Pebble ACME CA per test file, validating http-01 against that file's in-process web
// server. Needs the environment set by scripts/test.mjs (TEST_CHALLTESTSRV_DNS, TEST_PEBBLE_TLS_*,
// NODE_EXTRA_CA_CERTS so that fetch trusts Pebble's HTTPS). Pebble resolves every name to 127.0.0.1
// through challtestsrv, but this process does not: clients must skip their own pre-check
// (acme-client auto(): skipChallengeVerification: true).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface Pebble {
  directoryUrl: string;
  managementUrl: string;
  stop(): Promise<void>;
}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with \`npm test\``);
  return value;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * `eabKeys`: kid -> base64url HMAC key; when given, Pebble requires external account binding on every new
 * account (as ZeroSSL or Google do).
 */
export async function startPebble({
  httpPort,
  eabKeys,
}: {
  httpPort: number;
  eabKeys?: Record<string, string>;
}): Promise<Pebble> {
  // Inside the run's temp dir when there is one, so that scripts/test.mjs removes it even after a crash.
  const dir = await mkdtemp(path.join(process.env.TEST_TMPDIR ?? tmpdir(), 'pebble-'));
  const [listen, mgmt, tlsPort] = [await freePort(), await freePort(), await freePort()];
  const config = path.join(dir, 'pebble-config.json');
  const pebble = {
    listenAddress: `127.0.0.1:${listen}`,
    managementListenAddress: `127.0.0.1:${mgmt}`,
    certificate: requireEnv('TEST_PEBBLE_TLS_CERT'),
    privateKey: requireEnv('TEST_PEBBLE_TLS_KEY'),
    httpPort,
    tlsPort,
    ocspResponderURL: '',
    externalAccountBindingRequired: eabKeys !== undefined,
    ...(eabKeys ? { externalAccountMACKeys: eabKeys } : {}),
  };
  await writeFile(config, JSON.stringify({ pebble }));
  // Deterministic runs: no validation delay, no random badNonce, no reuse of earlier authorizations.
  const env = { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' };
  const dns = requireEnv('TEST_CHALLTESTSRV_DNS');
  const child = spawn('pebble', ['-config', config, '-dnsserver', dns], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const collect = (chunk: Buffer): void => {
    log = (log + chunk.toString()).slice(-4000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  // Ava ends a worker with process.exit(); never leave Pebble behind then.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };

  const directoryUrl = `https://127.0.0.1:${listen}/dir`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) break;
    const ok = await fetch(directoryUrl).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return { directoryUrl, managementUrl: `https://127.0.0.1:${mgmt}`, stop };
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`Pebble did not answer at ${directoryUrl}; its log:\n${log}`);
}

/** Pebble's view of a certificate, e.g. `{ Status: 'Revoked', Reason: 0, ... }`. */
export async function certStatusBySerial(managementUrl: string, serialHex: string): Promise<unknown> {
  const res = await fetch(`${managementUrl}/cert-status-by-serial/${serialHex}`);
  if (!res.ok) throw new Error(`cert-status-by-serial/${serialHex}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}
