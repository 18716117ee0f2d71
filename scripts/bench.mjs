// `npm run bench`: the token-check benchmark (bench/token-check.ts) against real Redis and a real
// MongoDB-compatible server on loopback, started here and stopped at the end.
import path from 'node:path';
import { runForeground, runMain, tempDir } from './lib/proc.mjs';
import {
  ensureNpmDeps,
  ensureSystemPackages,
  installCleanup,
  root,
  startMongo,
  startRedis,
} from './lib/services.mjs';

async function main() {
  installCleanup();
  await ensureNpmDeps();
  await ensureSystemPackages();
  const tmp = tempDir('accounts-bench-', ['redis', 'mongo']);
  const [redis, mongo] = await Promise.all([
    startRedis({ dir: path.join(tmp, 'redis') }),
    startMongo({ dir: path.join(tmp, 'mongo') }),
  ]);
  const env = {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    MONGODB_URI: `${mongo.url}/bench`,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: 'bench',
    SECRET_KEY: 'bench-secret-key-bench-secret-key-0123',
    INTERNAL_API_SECRET: 'bench-internal-secret-0123',
    MAIL_DIR: path.join(tmp, 'mail'),
  };
  console.log(`» services: ${redis.url}, ${mongo.url} (${mongo.kind})`);
  return runForeground(
    process.execPath,
    ['--import', 'tsx', 'bench/token-check.ts', ...process.argv.slice(2)],
    {
      cwd: root,
      env,
    },
  );
}

await runMain(main);
