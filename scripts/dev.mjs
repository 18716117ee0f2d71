// `npm run dev`: starts Redis, MongoDB-compatible DB, challtestsrv and Pebble with data under var/,
// then the web and worker processes from Procfile.dev with foreman. Ctrl-C stops everything.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { runForeground, runMain, tcpOpen } from './lib/proc.mjs';
import {
  ensureNpmDeps,
  ensureSystemPackages,
  ensureTls,
  installCleanup,
  root,
  setLogDir,
  startChallTestSrv,
  startMongo,
  startPebble,
  startRedis,
} from './lib/services.mjs';

const v = (p) => path.join(root, 'var', p);

async function main() {
  installCleanup();
  await ensureNpmDeps();
  await ensureSystemPackages();
  for (const d of ['redis', 'mongo', 'tls', 'mail', 'log', 'pebble']) mkdirSync(v(d), { recursive: true });
  setLogDir(v('log'));

  const port = Number(process.env.PORT ?? 3000);
  // Pebble validates http-01 on this port, so the web process must really get it.
  if (await tcpOpen(port)) throw new Error(`port ${port} is in use; set PORT to a free port`);
  const [redis, mongo, chall, tls] = await Promise.all([
    // The usual Redis port when it is free, so redis-cli works without arguments.
    tcpOpen(6379).then((busy) =>
      startRedis({ dir: v('redis'), port: busy ? undefined : 6379, persistent: true }),
    ),
    startMongo({ dir: v('mongo'), persistent: true }),
    startChallTestSrv(),
    ensureTls(v('tls')),
  ]);
  const pebble = await startPebble({ httpPort: port, dnsAddr: chall.dnsAddr, tls, dir: v('pebble') });

  const env = {
    ...process.env,
    PORT: String(port),
    PUBLIC_URL: `http://localhost:${port}`,
    MONGODB_URI: `${mongo.url}/accounts_dev`,
    REDIS_URL: redis.url,
    ACME_DIRECTORY_URL: pebble.directoryUrl,
    NODE_EXTRA_CA_CERTS: tls.caCert,
  };
  console.log(`
  API              http://localhost:${port}
  Pebble directory ${pebble.directoryUrl}  (management ${pebble.managementUrl})
  MongoDB          ${env.MONGODB_URI}  (${mongo.kind}, data in var/mongo/)
  Redis            ${redis.url}
  Mails            var/mail/*.eml (unless SMTP_URL is set)
  Service logs     var/log/
`);
  // -p: foreman sets PORT itself (web gets it, worker PORT+100); a .env file overrides our values.
  const nf = path.join(root, 'node_modules/.bin/nf');
  return runForeground(nf, ['start', '-j', 'Procfile.dev', '-p', String(port)], { cwd: root, env });
}

await runMain(main);
