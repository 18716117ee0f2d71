// Provisions and starts the real local services (see ../shared/DESIGN.md, "Local services").
// Every server binds 127.0.0.1; stop() on each, or stopAll(), ends it.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import path from 'node:path';
import { freePort, run, spawnService, tcpOpen, waitUntil, which } from './proc.mjs';

export { freePort, installCleanup, setLogDir, stopAll } from './proc.mjs';
export { startMongo } from './mongo.mjs';
export { ensureTls } from './tls.mjs';

export const root = path.resolve(import.meta.dirname, '../..');

/** `npm ci` when node_modules is missing or older than package-lock.json. */
export async function ensureNpmDeps() {
  // npm rewrites node_modules/.package-lock.json on every install; the directory's mtime says nothing.
  const installed = path.join(root, 'node_modules/.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs) return;
  console.log('» npm ci (node_modules missing or older than package-lock.json)');
  try {
    await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root });
  } catch {
    // A registry that only serves this platform's optional packages yields a lock file without
    // the others, which `npm ci` rejects as out of sync; `npm install` accepts it unchanged.
    console.log('» npm ci refused the lock file; trying npm install');
    const before = readFileSync(lock, 'utf8');
    await run('npm', ['install', '--no-audit', '--no-fund'], { cwd: root });
    if (readFileSync(lock, 'utf8') !== before) console.warn('» npm install changed package-lock.json');
  }
}

/**
 * Installs the Debian packages behind any missing binary (apt-get update only when needed).
 * `browser`: also Chromium, which the tests drive to check the pages a mail's links open.
 */
export async function ensureSystemPackages({ browser = false } = {}) {
  const wanted = {
    'redis-server': 'redis-server',
    pebble: 'pebble',
    'pebble-challtestsrv': 'pebble',
    openssl: 'openssl',
    ...(browser ? { chromium: 'chromium' } : {}),
  };
  if (!which('mongod') && !which('ferretdb')) {
    // mongo-java-server fallback: javac precompiles the launcher, mvn resolves its classpath.
    Object.assign(wanted, { java: 'default-jdk-headless', javac: 'default-jdk-headless', mvn: 'maven' });
  }
  const missing = Object.keys(wanted).filter((bin) => !which(bin));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((bin) => wanted[bin]))];
  console.log(`» apt-get install ${packages.join(' ')} (missing: ${missing.join(', ')})`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const apt = (...args) =>
    sudo.length
      ? run('sudo', ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args])
      : run('apt-get', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  await apt('update');
  await apt('install', '-y', '--no-install-recommends', ...packages);
  const still = missing.filter((bin) => !which(bin));
  if (still.length) throw new Error(`still missing after apt-get install: ${still.join(', ')}`);
}

/** Redis without persistence in a temp dir (tests), or saving into `dir` (dev). */
export async function startRedis({ dir, port, persistent = false }) {
  port ??= await freePort();
  const save = persistent ? ['--save', '60 1', '--dir', dir] : ['--save', '', '--dir', dir];
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'no', ...save];
  const svc = spawnService('redis', 'redis-server', args);
  await waitUntil(svc, `a listener on port ${port}`, () => tcpOpen(port));
  return { url: `redis://127.0.0.1:${port}`, stop: svc.stop };
}

/** pebble-challtestsrv as Pebble's DNS: every A query answers 127.0.0.1, nothing else is served. */
export async function startChallTestSrv() {
  const [dns, mgmt] = [await freePort(), await freePort()];
  const off = ['-http01', '', '-https01', '', '-tlsalpn01', ''];
  const args = ['-defaultIPv4', '127.0.0.1', '-defaultIPv6', '', '-dns01', `127.0.0.1:${dns}`, ...off];
  const svc = spawnService('challtestsrv', 'pebble-challtestsrv', [
    ...args,
    '-management',
    `127.0.0.1:${mgmt}`,
  ]);
  await waitUntil(svc, 'its DNS and management listeners', async () => (await tcpOpen(mgmt)) && tcpOpen(dns));
  return { dnsAddr: `127.0.0.1:${dns}`, managementUrl: `http://127.0.0.1:${mgmt}`, stop: svc.stop };
}

/** Pebble validating http-01 against `httpPort` on 127.0.0.1 (via challtestsrv's DNS). */
export async function startPebble({ httpPort, dnsAddr, tls, dir }) {
  const [listen, mgmt, tlsPort] = [await freePort(), await freePort(), await freePort()];
  const config = path.join(dir, 'pebble-config.json');
  const pebble = {
    ...{ listenAddress: `127.0.0.1:${listen}`, managementListenAddress: `127.0.0.1:${mgmt}` },
    ...{ certificate: tls.cert, privateKey: tls.key, httpPort, tlsPort },
    ...{ ocspResponderURL: '', externalAccountBindingRequired: false },
  };
  writeFileSync(config, JSON.stringify({ pebble }, null, 2));
  // No artificial validation delay, and no random badNonce rejections (5% by default).
  const env = { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' };
  const svc = spawnService('pebble', 'pebble', ['-config', config, '-dnsserver', dnsAddr], { env });
  const directoryUrl = `https://127.0.0.1:${listen}/dir`;
  await waitUntil(svc, `an answer from ${directoryUrl}`, () => httpsAnswers(directoryUrl, tls.caCert));
  return { directoryUrl, managementUrl: `https://127.0.0.1:${mgmt}`, stop: svc.stop };
}

function httpsAnswers(url, caFile) {
  return new Promise((resolve) => {
    const req = request(url, { ca: readFileSync(caFile) }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('error', () => resolve(false));
    req.end();
  });
}
