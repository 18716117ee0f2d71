// `npm run bench`: the token-check benchmark (bench/token-check.ts) against real Redis and a real
// MongoDB-compatible server on loopback, started here and stopped at the end.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finish, runForeground } from './lib/proc.mjs';
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
  const tmp = mkdtempSync(path.join(tmpdir(), 'accounts-bench-'));
  process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
  for (const d of ['redis', 'mongo']) mkdirSync(path.join(tmp, d));
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

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
}
await finish(code);
