import '../helpers/env.js';
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startWorker, teardown } from '../helpers/harness.js';
import {
  accountAtCa,
  caStatus,
  domain,
  newApi,
  startAcmeEnv,
  type AccountView,
  type AcmeTestEnv,
  type CertificateView,
} from './helpers.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));
const CERTIFICATES = 8;

interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

const children: WorkerProcess[] = [];

/** Starts test/acme/fixtures/worker.ts in a child process with this file's settings; resolves once ready. */
async function spawnWorker(): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT], {
    // One job at a time, so a deletion is still under way when the test kills the process.
    env: { ...process.env, WORKER_CONCURRENCY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const worker = { child, output: () => log, exited };
  children.push(worker);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker not ready within 30 s:\n${log}`)), 30_000);
    const collect = (chunk: Buffer): void => {
      log = (log + chunk.toString()).slice(-8000);
      if (/^ready /m.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`worker exited before it was ready (${child.exitCode}):\n${log}`));
    });
  });
  return worker;
}

async function stopChild(worker: WorkerProcess): Promise<void> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  worker.child.kill('SIGTERM');
  const timer = setTimeout(() => worker.child.kill('SIGKILL'), 10_000);
  await worker.exited;
  clearTimeout(timer);
}

// Ava ends a test process with process.exit(): never leave a worker behind.
const killAll = (): void => {
  for (const w of children)
    if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
};
process.once('exit', killAll);

let env: AcmeTestEnv;
test.before(async () => {
  env = await startAcmeEnv({ worker: false });
  await startWorker(['mail']);
});
test.after.always(async () => {
  await Promise.all(children.map(stopChild));
  process.off('exit', killAll);
  await teardown();
});

test('a worker SIGKILLed mid-way through DELETE /api/acme/<id> -> a replacement finishes: all revoked at the CA, account deactivated', async (t) => {
  t.timeout(240_000);
  const api = await newApi(env.app);
  const t0 = Date.now();

  // Set-up with an in-process acme worker, closed before the deletion so that only the child runs it.
  const [setupWorker] = await startWorker(['acme']);
  const account = await api.validAccount(env.pebble);
  const certs: CertificateView[] = await Promise.all(
    Array.from({ length: CERTIFICATES }, () => api.issue(account.id, [domain()])),
  );
  await setupWorker!.close();
  for (const cert of certs) t.like(await caStatus(env.pebble, cert.serial), { Status: 'Valid' });

  t.log(`issued ${CERTIFICATES} certificates in ${Date.now() - t0} ms`);
  const first = await spawnWorker();
  const res = await api.delete(`/api/acme/${account.id}`);
  t.is(res.status, 200, res.text);
  t.deepEqual(res.body, { id: account.id, status: 'deactivating' });

  // Kill the worker as soon as one revocation is recorded.
  let atKill: AccountView | undefined;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    const got = await api.account(account.id);
    if ((got.body.revocation?.done ?? 0) >= 1 || got.body.status !== 'deactivating') {
      first.child.kill('SIGKILL');
      atKill = got.body;
      break;
    }
  }
  await first.exited;
  t.truthy(atKill, `no revocation within 60 s; worker output:\n${first.output()}`);
  t.is(first.child.signalCode, 'SIGKILL');
  const after = (await api.account(account.id)).body;
  t.log(
    `killed at revocation ${JSON.stringify(atKill?.revocation)}; after the kill ${JSON.stringify(after.revocation)}`,
  );
  t.is(after.status, 'deactivating', 'the kill came mid-way through the deletion');
  t.true((after.revocation?.done ?? 0) < CERTIFICATES, 'certificates were still to be revoked at the kill');

  // The replacement picks up the stalled job (after BullMQ's stalled interval) and the rest of the flow.
  const killedAt = Date.now();
  const replacement = await spawnWorker();
  const done = await api.settleAccount(account.id, ['valid', 'deactivating'], 200_000);
  t.log(`the replacement finished ${Date.now() - killedAt} ms after the kill`);
  t.is(done.status, 'deactivated', `error: ${done.error}; worker output:\n${replacement.output()}`);
  t.is(done.error, null);
  t.deepEqual(done.revocation, { total: CERTIFICATES, done: CERTIFICATES, failed: 0 });

  for (const cert of certs) {
    t.is((await api.certificate(cert.id)).body.status, 'revoked', `certificate ${cert.id}`);
    t.like(
      await caStatus(env.pebble, cert.serial),
      { Status: 'Revoked' },
      `certificate ${cert.id} at the CA`,
    );
  }
  await t.throwsAsync(accountAtCa(env.pebble, account.id), { message: /deactivated|not valid/i });
  await stopChild(replacement);
  t.is(replacement.child.exitCode, 0, 'the replacement shuts down cleanly on SIGTERM');
});
