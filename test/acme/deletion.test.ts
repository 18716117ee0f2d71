import { mailbox } from '../helpers/env.js';
import test from 'ava';
import acme from 'acme-client';
import type { AddressInfo } from 'node:net';
import { Order } from '../../src/models/order.js';
import { leaksInternals, teardown, unique } from '../helpers/harness.js';
import { startPebble } from '../helpers/pebble.js';
import {
  accountAtCa,
  caStatus,
  domain,
  newApi,
  startAcmeEnv,
  type AccountView,
  type AcmeTestEnv,
  type CertificateView,
  type Errors,
} from './helpers.js';

let env: AcmeTestEnv;
test.before(async () => {
  env = await startAcmeEnv();
});
test.after.always(teardown);

test('DELETE /api/acme/<id> with 3 certificates -> all revoked at the CA, account deactivated here and at the CA', async (t) => {
  const api = await newApi(env.app);
  const account = await api.validAccount(env.pebble);
  const certs: CertificateView[] = [];
  for (let i = 0; i < 3; i++) certs.push(await api.issue(account.id, [domain(), domain()]));
  // One certificate already revoked by itself: it is not revoked twice and not counted in the batch.
  const early = await api.issue(account.id);
  const revokeEarly = await api.delete(`/api/certificates/${early.id}`);
  t.is(revokeEarly.status, 200, revokeEarly.text);
  await waitFor(async () => (await api.certificate(early.id)).body.status === 'revoked', 'early revocation');
  // A certificate of another account of the same user stays valid.
  const sibling = await api.validAccount(env.pebble);
  const untouched = await api.issue(sibling.id);
  t.like(await accountAtCa(env.pebble, account.id), { status: 'valid' });

  const res = await api.delete(`/api/acme/${account.id}`);
  t.is(res.status, 200, res.text);
  t.deepEqual(res.body, { id: account.id, status: 'deactivating' });

  const done = await api.settleAccount(account.id, ['valid', 'deactivating'], 60_000);
  t.is(done.status, 'deactivated', `error: ${done.error}`);
  t.is(done.error, null);
  t.deepEqual(done.revocation, { total: 3, done: 3, failed: 0 });

  for (const cert of certs) {
    const got = await api.certificate(cert.id);
    t.is(got.body.status, 'revoked', `certificate ${cert.id}`);
    t.like(
      await caStatus(env.pebble, cert.serial),
      { Status: 'Revoked' },
      `certificate ${cert.id} at the CA`,
    );
  }
  t.is((await api.certificate(early.id)).body.status, 'revoked');
  t.is((await api.certificate(untouched.id)).body.status, 'valid');
  t.like(await caStatus(env.pebble, untouched.serial), { Status: 'Valid' });

  // Deactivated at the CA: the CA refuses the account's own key from now on.
  const atCa = await accountAtCa(env.pebble, account.id).then(
    (body) => ({ ok: true, message: JSON.stringify(body) }),
    (err: Error) => ({ ok: false, message: err.message }),
  );
  t.false(atCa.ok, `the CA still serves the account: ${atCa.message}`);
  t.regex(atCa.message, /deactivated|not valid/i);

  // Still readable, in the list too.
  const list = await api.get<Record<string, AccountView>>('/api/acme');
  t.is(list.body[String(account.id)]?.status, 'deactivated');

  // DELETE is idempotent.
  const again = await api.delete(`/api/acme/${account.id}`);
  t.is(again.status, 200);
  t.deepEqual(again.body, { id: account.id, status: 'deactivated' });

  // A deactivated account takes no new orders.
  const order = await api.post<Errors>('/api/order', { account: account.id, domains: [domain()] });
  t.true([400, 409].includes(order.status), `${order.status} ${order.text}`);

  // It no longer counts for POST: the same email and server make a new account.
  const fresh = await api.post('/api/acme', { email: account.email, server: account.server });
  t.is(fresh.status, 201, fresh.text);
  t.not(fresh.body.id, account.id);
  const freshAccount = await api.settleAccount(fresh.body.id as number);
  t.is(freshAccount.status, 'valid', `error: ${freshAccount.error}`);
  t.not(freshAccount.uri, account.uri);

  // The owner hears how many certificates were revoked.
  const mail = await mailbox.waitFor(
    (m) =>
      m.to.includes(api.user.email) &&
      m.subject.includes(`ACME account ${account.id}`) &&
      /delet/i.test(m.subject),
  );
  t.regex(mail.text, /\b3 certificate/);
});

test('DELETE /api/acme/<id> of an account without certificates -> deactivated here and at the CA, revocation 0/0', async (t) => {
  const api = await newApi(env.app, 'token');
  const account = await api.validAccount(env.pebble);
  const res = await api.delete(`/api/acme/${account.id}/`);
  t.is(res.status, 200, res.text);
  t.is(res.body.status, 'deactivating');
  const done = await api.settleAccount(account.id, ['valid', 'deactivating'], 30_000);
  t.is(done.status, 'deactivated', `error: ${done.error}`);
  t.like(done.revocation, { total: 0, done: 0, failed: 0 });
  await t.throwsAsync(accountAtCa(env.pebble, account.id), { message: /deactivated|not valid/i });
});

test('DELETE /api/acme/<id> shows revocation progress {total, done, failed} while deactivating', async (t) => {
  const api = await newApi(env.app, 'token');
  const account = await api.validAccount(env.pebble);
  for (let i = 0; i < 4; i++) await api.issue(account.id);
  const res = await api.delete(`/api/acme/${account.id}`);
  t.is(res.status, 200);
  // Every snapshot while it runs is consistent, and done never goes backwards.
  const snapshots: AccountView[] = [];
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    const got = await api.account(account.id);
    snapshots.push(got.body);
    if (got.body.status !== 'deactivating') break;
  }
  let last = 0;
  for (const s of snapshots) {
    t.true(['deactivating', 'deactivated'].includes(s.status), s.status);
    t.truthy(s.revocation, 'revocation is shown from the DELETE on');
    t.is(s.revocation?.total, 4);
    t.is(s.revocation?.failed, 0);
    const done = s.revocation?.done ?? -1;
    t.true(done >= last && done <= 4, `done ${done} after ${last}`);
    last = done;
  }
  const final = snapshots.at(-1);
  t.is(final?.status, 'deactivated');
  t.deepEqual(final?.revocation, { total: 4, done: 4, failed: 0 });
  t.log(
    `${snapshots.length} snapshots: ${snapshots.map((s) => `${s.status}:${s.revocation?.done}`).join(' ')}`,
  );
});

test('DELETE /api/acme/<id> twice at once, and again while deactivating -> 200 each time, one deletion', async (t) => {
  const api = await newApi(env.app, 'token');
  const account = await api.validAccount(env.pebble);
  const certs = [await api.issue(account.id), await api.issue(account.id)];
  const both = await Promise.all([
    api.delete(`/api/acme/${account.id}`),
    api.delete(`/api/acme/${account.id}`),
  ]);
  for (const res of both) {
    t.is(res.status, 200, res.text);
    t.true(['deactivating', 'deactivated'].includes(res.body.status as string), res.text);
  }
  const third = await api.delete(`/api/acme/${account.id}`);
  t.is(third.status, 200);
  t.true(['deactivating', 'deactivated'].includes(third.body.status as string), third.text);
  const done = await api.settleAccount(account.id, ['valid', 'deactivating'], 60_000);
  t.is(done.status, 'deactivated', `error: ${done.error}`);
  t.deepEqual(done.revocation, { total: 2, done: 2, failed: 0 });
  for (const cert of certs) t.like(await caStatus(env.pebble, cert.serial), { Status: 'Revoked' });
});

test('POST /api/order on an account being deleted -> 400 or 409', async (t) => {
  const api = await newApi(env.app);
  const account = await api.validAccount(env.pebble);
  await api.issue(account.id);
  const res = await api.delete(`/api/acme/${account.id}`);
  t.is(res.status, 200);
  const order = await api.post('/api/order', { account: account.id, domains: [domain()] });
  t.true([400, 409].includes(order.status), `${order.status} ${order.text}`);
  const done = await api.settleAccount(account.id, ['valid', 'deactivating'], 60_000);
  t.is(done.status, 'deactivated');
});

test('DELETE /api/acme/<id> while the CA is down -> failed with a readable error and revocation.failed; DELETE retries', async (t) => {
  // A CA of its own, so it can be stopped without touching the other tests.
  const { port } = env.app.server.address() as AddressInfo;
  const ca = await startPebble({ httpPort: port });
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await ca.stop();
  });
  const api = await newApi(env.app);
  const account = await api.validAccount(ca);
  const certs = [await api.issue(account.id), await api.issue(account.id)];
  await ca.stop();
  stopped = true;

  const res = await api.delete(`/api/acme/${account.id}`);
  t.is(res.status, 200, res.text);
  t.is(res.body.status, 'deactivating');
  const failed = await api.settleAccount(account.id, ['valid', 'deactivating'], 60_000);
  t.is(failed.status, 'failed');
  t.is(typeof failed.error, 'string');
  t.true((failed.error ?? '').length > 0);
  t.false(leaksInternals(failed.error ?? ''), failed.error ?? '');
  t.deepEqual(failed.revocation, { total: 2, done: 0, failed: 2 });
  for (const cert of certs) t.not((await api.certificate(cert.id)).body.status, 'revoked');

  // A failed account takes no orders; a DELETE retries the deletion.
  const order = await api.post('/api/order', { account: account.id, domains: [domain()] });
  t.true([400, 409].includes(order.status), `${order.status} ${order.text}`);
  const retry = await api.delete(`/api/acme/${account.id}`);
  t.is(retry.status, 200, retry.text);
  t.deepEqual(retry.body, { id: account.id, status: 'deactivating' });
  const again = await api.settleAccount(account.id, ['deactivating'], 60_000);
  t.is(again.status, 'failed', 'the CA is still down');
  t.is(again.revocation?.total, 2);
});

test('DELETE /api/acme/<id> of an account whose registration failed -> 200, deactivated', async (t) => {
  const api = await newApi(env.app);
  const res = await api.post('/api/acme', {
    email: `${unique('acme')}@example.com`,
    server: 'https://127.0.0.1:1/dir',
  });
  t.is(res.status, 201);
  const id = res.body.id as number;
  const account = await api.settleAccount(id, ['pending'], 60_000);
  t.is(account.status, 'failed');
  const del = await api.delete(`/api/acme/${id}`);
  t.is(del.status, 200, del.text);
  t.deepEqual(del.body, { id, status: 'deactivating' });
  const done = await api.settleAccount(id, ['deactivating'], 30_000);
  t.is(done.status, 'deactivated', `error: ${done.error}`);
});

// The deletion and an issuance run in parallel on the worker: whichever wins, the account must end with no
// certificate left valid, here or at the CA. The test makes the worst interleaving happen, watching the
// worker's own requests to the CA on acme-client's axios instance (the worker runs in this process): the
// DELETE is sent when the order's finalize request goes out, and the account's deactivation request is held
// until the order has settled. Nothing is answered on the CA's behalf; requests are only delayed.
test('DELETE /api/acme/<id> while an order is being finalized -> no certificate of the account is left valid', async (t) => {
  const api = await newApi(env.app);
  const account = await api.validAccount(env.pebble);
  const existing = await api.issue(account.id);
  let deleted: number | undefined;
  const ours: { orderId?: number } = {};
  let held = false;
  const tap = acme.axios.interceptors.request.use(async (config) => {
    if (config.method !== 'post') return config;
    if (deleted === undefined && (await isOurFinalize(config.url))) {
      deleted = 0;
      deleted = (await api.delete(`/api/acme/${account.id}`)).status;
    } else if (deleted === 200 && config.url === account.uri && ours.orderId !== undefined && !held) {
      held = true;
      const id = ours.orderId;
      await waitFor(
        async () => !['pending', 'processing'].includes((await api.order(id)).body.status),
        'order',
      );
    }
    return config;
  });
  t.teardown(() => acme.axios.interceptors.request.eject(tap));
  // Other tests of this file issue at the same time: only this order's finalize counts (Pebble's order and
  // finalize URLs end with the same order id).
  async function isOurFinalize(url: string | undefined): Promise<boolean> {
    if (!url || !/finaliz/i.test(url) || ours.orderId === undefined) return false;
    const doc = await Order.findOne({ id: ours.orderId }).lean();
    const acmeId = doc?.acme_order_url?.split('/').pop();
    return Boolean(acmeId) && url.split('/').pop() === acmeId;
  }

  const ordered = await api.post('/api/order', { account: account.id, domains: [domain(), domain()] });
  t.is(ordered.status, 201, ordered.text);
  ours.orderId = ordered.body.id as number;
  const order = await api.settleOrder(ours.orderId);
  t.is(deleted, 200, 'the DELETE went out with the finalize request');
  const done = await api.settleAccount(account.id, ['valid', 'deactivating'], 60_000);
  t.log(`order ${order.status} (${order.error}); account ${done.status} ${JSON.stringify(done.revocation)}`);
  t.true(held, 'the deactivation request was held until the order settled');
  t.is(done.status, 'deactivated', `error: ${done.error}`);
  t.like(await caStatus(env.pebble, existing.serial), { Status: 'Revoked' });

  const certs = await api.get<Record<string, CertificateView>>('/api/certificates');
  const ofAccount = Object.values(certs.body).filter((c) => c.account === account.id);
  t.true(ofAccount.length >= 1);
  for (const cert of ofAccount) {
    t.not(cert.status, 'valid', `certificate ${cert.id} (order ${cert.order}) is still valid`);
    t.not(
      (await caStatus(env.pebble, cert.serial)).Status,
      'Valid',
      `certificate ${cert.id} is valid at the CA`,
    );
  }
});

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not done within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
