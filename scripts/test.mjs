// `npm test [-- ava args]`: starts the real local services, then typecheck, lint, build and ava.
// SKIP_CHECKS=1 skips typecheck/lint/build for quick iteration. Pebble is started per test file
// (test/helpers/pebble.ts), because each file validates http-01 against its own web port.
import path from 'node:path';
import { runForeground, runMain, tempDir } from './lib/proc.mjs';
import {
  ensureNpmDeps,
  ensureSystemPackages,
  ensureTls,
  installCleanup,
  root,
  startChallTestSrv,
  startMongo,
  startRedis,
} from './lib/services.mjs';

async function main() {
  installCleanup();
  await ensureNpmDeps();
  await ensureSystemPackages({ browser: true });

  const tmp = tempDir('accounts-test-', ['redis', 'mongo']);

  const started = Date.now();
  const [redis, mongo, chall, tls] = await Promise.all([
    startRedis({ dir: path.join(tmp, 'redis') }),
    startMongo({ dir: path.join(tmp, 'mongo') }),
    startChallTestSrv(),
    ensureTls(path.join(root, 'var/tls')),
  ]);
  console.log(`» services up in ${Date.now() - started} ms: ${redis.url}, ${mongo.url} (${mongo.kind})`);

  const env = {
    ...process.env,
    NODE_ENV: 'test',
    TEST_MONGODB_URL: mongo.url,
    REDIS_URL: redis.url,
    TEST_CHALLTESTSRV_DNS: chall.dnsAddr,
    TEST_PEBBLE_TLS_CERT: tls.cert,
    TEST_PEBBLE_TLS_KEY: tls.key,
    NODE_EXTRA_CA_CERTS: tls.caCert,
    TEST_TMPDIR: tmp, // removed when this script exits
  };
  const opts = { cwd: root, env };
  const checks = process.env.SKIP_CHECKS === '1' ? [] : ['typecheck', 'lint', 'build'];
  for (const script of checks) {
    console.log(`» npm run ${script}`);
    const code = await runForeground('npm', ['run', '--silent', script], opts);
    if (code !== 0) return code;
  }
  console.log('» ava');
  return runForeground(path.join(root, 'node_modules/.bin/ava'), process.argv.slice(2), opts);
}

await runMain(main);
