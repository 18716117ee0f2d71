import { mailbox } from '../helpers/env.js';
import test from 'ava';
import type { AddressInfo } from 'node:net';
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { freePortSync } from '../helpers/free-port.js';
import { leaksInternals, teardown, type JsonObject } from '../helpers/harness.js';
import { startPebble } from '../helpers/pebble.js';
import {
  caStatus,
  revokeDirectly,
  domain,
  newApi,
  sanNames,
  startAcmeEnv,
  unreadable,
  type AcmeTestEnv,
  type CertificateView,
  type Errors,
  type OrderView,
} from './helpers.js';

let env: AcmeTestEnv;
test.before(async () => {
  env = await startAcmeEnv();
});
test.after.always(teardown);

// ---------------------------------------------------------------------------------------------- issuance

test('POST /api/order for 3 names -> 201, order valid, one certificate covering exactly those names', async (t) => {
  const api = await newApi(env.app);
  const account = await api.validAccount(env.pebble);
  const names = [domain(), domain(), domain()];
  const res = await api.post('/api/order', { account: account.id, domains: names });
  t.is(res.status, 201, res.text);
  t.deepEqual(Object.keys(res.body).sort(), ['id', 'status']);
  t.is(res.body.status, 'pending');
  const orderId = res.body.id as number;
  t.true(Number.isInteger(orderId));
  t.is(res.headers.get('location'), `/api/order/${orderId}`);

  const order = await api.settleOrder(orderId);
  t.is(order.status, 'valid', `error: ${order.error}`);
  t.is(order.id, orderId);
  t.is(order.account, account.id);
  t.deepEqual([...order.domains].sort(), [...names].sort());
  t.is(order.error, null);
  t.true(Number.isInteger(order.certificate));

  const got = await api.certificate(order.certificate!);
  t.is(got.status, 200, got.text);
  const cert = got.body;
  t.is<number | null, number | null>(cert.id, order.certificate);
  t.is(cert.account, account.id);
  t.is(cert.order, orderId);
  t.deepEqual([...cert.domains].sort(), [...names].sort());
  t.is(cert.status, 'valid');

  // What the API says matches the PEM itself.
  const x509 = new X509Certificate(cert.certificate);
  t.deepEqual(sanNames(cert.certificate), [...names].sort());
  t.regex(cert.serial, /^[0-9a-f]+$/, 'serial is lowercase hex');
  t.is(cert.serial.replace(/^0+/, ''), x509.serialNumber.toLowerCase().replace(/^0+/, ''));
  t.regex(cert.fingerprint, /^[0-9a-f]{64}$/, 'fingerprint is sha256 hex');
  t.is(cert.fingerprint, createHash('sha256').update(x509.raw).digest('hex'));
  t.is(new Date(cert.not_before).getTime(), new Date(x509.validFrom).getTime());
  t.is(new Date(cert.not_after).getTime(), new Date(x509.validTo).getTime());
  t.regex(cert.not_before, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'ISO 8601');
  t.regex(cert.not_after, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'ISO 8601');

  // The chain is the issuer of the leaf, and the key is the leaf's private key.
  t.true(cert.chain.includes('BEGIN CERTIFICATE'));
  const issuer = new X509Certificate(cert.chain);
  t.true(x509.checkIssued(issuer));
  t.true(x509.verify(issuer.publicKey));
  t.regex(cert.key, /BEGIN (RSA |EC )?PRIVATE KEY/);
  const pub = createPublicKey(createPrivateKey(cert.key)).export({ type: 'spki', format: 'der' });
  t.deepEqual(pub, x509.publicKey.export({ type: 'spki', format: 'der' }));

  // The CA knows it as a valid certificate.
  t.like(await caStatus(env.pebble, cert.serial), { Status: 'Valid' });

  // The owner is told.
  const mail = await mailbox.waitFor((m) => m.to.includes(api.user.email) && /issued/i.test(m.subject));
  t.true(mail.text.includes(String(cert.id)));
});

test('a fresh certificate key per order: two orders for the same name -> two certificates, two keys', async (t) => {
  const api = await newApi(env.app, 'token');
  const account = await api.validAccount(env.pebble);
  const name = domain();
  const a = await api.issue(account.id, [name]);
  const b = await api.issue(account.id, [name]);
  t.not(a.id, b.id);
  t.not(a.serial, b.serial);
  t.not(a.key, b.key);
  t.deepEqual(sanNames(a.certificate), [name]);
  t.deepEqual(sanNames(b.certificate), [name]);
});

test('POST /api/order with duplicate and upper-case names -> one certificate for the distinct names', async (t) => {
  const api = await newApi(env.app);
  const account = await api.validAccount(env.pebble);
  const name = domain();
  const cert = await api.issue(account.id, [name, name.toUpperCase(), name]);
  t.deepEqual(sanNames(cert.certificate), [name]);
});

test('GET /api/order and GET /api/certificates -> objects keyed by id, only the caller’s', async (t) => {
  const api = await newApi(env.app);
  const other = await newApi(env.app);
  const account = await api.validAccount(env.pebble);
  const otherAccount = await other.validAccount(env.pebble);
  const c1 = await api.issue(account.id);
  const c2 = await api.issue(account.id, [domain(), domain()]);
  await other.issue(otherAccount.id);

  const orders = await api.get<Record<string, OrderView>>('/api/order');
  t.is(orders.status, 200);
  t.deepEqual(Object.keys(orders.body).sort(), [String(c1.order), String(c2.order)].sort());
  for (const [id, order] of Object.entries(orders.body)) {
    t.is(String(order.id), id);
    t.is(order.account, account.id);
    t.is(order.status, 'valid');
    t.true([c1.id, c2.id].includes(order.certificate!));
    for (const field of ['id', 'account', 'domains', 'status', 'certificate', 'error'])
      t.true(field in order);
  }
  const withSlash = await api.get<Record<string, OrderView>>('/api/order/');
  t.deepEqual(Object.keys(withSlash.body).sort(), Object.keys(orders.body).sort());

  const certs = await api.get<Record<string, CertificateView>>('/api/certificates');
  t.is(certs.status, 200);
  t.deepEqual(Object.keys(certs.body).sort(), [String(c1.id), String(c2.id)].sort());
  t.is(certs.body[String(c2.id)]?.serial, c2.serial);
  t.is(certs.body[String(c2.id)]?.status, 'valid');

  const empty = await newApi(env.app);
  t.deepEqual((await empty.get('/api/order')).body, {});
  t.deepEqual((await empty.get('/api/certificates')).body, {});
});

// ---------------------------------------------------------------------------------------------- order errors

const refused = async (
  t: import('ava').ExecutionContext,
  api: Awaited<ReturnType<typeof newApi>>,
  body: JsonObject,
  field: string,
): Promise<void> => {
  const res = await api.post<Errors>('/api/order', body);
  t.is(res.status, 400, res.text);
  t.true(
    Array.isArray(res.body[field]) && (res.body[field]?.length ?? 0) > 0,
    `${field} errors in ${res.text}`,
  );
  t.false(leaksInternals(res.text), res.text);
  t.deepEqual((await api.get('/api/order')).body, {}, 'no order was created');
};

test('POST /api/order without domains, with [] or with a string -> 400 {domains: [...]}', async (t) => {
  const api = await newApi(env.app);
  const account = await api.validAccount(env.pebble);
  await refused(t, api, { account: account.id }, 'domains');
  await refused(t, api, { account: account.id, domains: [] }, 'domains');
  await refused(t, api, { account: account.id, domains: domain() }, 'domains');
});

test('POST /api/order with invalid DNS names -> 400 {domains: [...]}', async (t) => {
  const api = await newApi(env.app);
  const account = await api.validAccount(env.pebble);
  for (const bad of [
    'not a domain',
    '-leading.example.test',
    'trailing-.example.test',
    'under_score.example.test',
    'single',
    `${'a'.repeat(64)}.example.test`,
    'http://x.example.test',
    '',
    42,
  ]) {
    await refused(t, api, { account: account.id, domains: [domain(), bad] }, 'domains');
  }
});

test('POST /api/order with 101 domains -> 400 {domains: [...]}; 100 is accepted', async (t) => {
  const api = await newApi(env.app);
  const account = await api.validAccount(env.pebble);
  const many = Array.from({ length: 101 }, () => domain());
  await refused(t, api, { account: account.id, domains: many }, 'domains');
  const hundred = many.slice(0, 100);
  const res = await api.post('/api/order', { account: account.id, domains: hundred });
  t.is(res.status, 201, res.text);
  const order = await api.settleOrder(res.body.id as number, 120_000);
  t.is(order.status, 'valid', `error: ${order.error}`);
  const cert = await api.certificate(order.certificate!);
  t.deepEqual(sanNames(cert.body.certificate), [...hundred].sort());
});

test('POST /api/order without account, with an unknown account or another user’s account -> 400 {account}', async (t) => {
  const api = await newApi(env.app);
  const other = await newApi(env.app);
  const theirs = await other.validAccount(env.pebble);
  await refused(t, api, { domains: [domain()] }, 'account');
  await refused(t, api, { account: 'abc', domains: [domain()] }, 'account');
  await refused(t, api, { account: 999_999_999, domains: [domain()] }, 'account');
  await refused(t, api, { account: theirs.id, domains: [domain()] }, 'account');
  t.deepEqual((await other.get('/api/order')).body, {}, 'nothing was ordered on the other user’s account');
});

test('POST /api/order on an account that is not valid (failed registration) -> 400 {account}', async (t) => {
  const api = await newApi(env.app);
  const res = await api.post('/api/acme', { email: 'x@example.com', server: 'https://127.0.0.1:1/dir' });
  t.is(res.status, 201);
  const account = await api.settleAccount(res.body.id as number, ['pending'], 60_000);
  t.is(account.status, 'failed');
  await refused(t, api, { account: account.id, domains: [domain()] }, 'account');
});

test('GET /api/order/<id> and /api/certificates/<id> of another user or unknown -> 400 {detail}', async (t) => {
  const api = await newApi(env.app);
  const other = await newApi(env.app);
  const account = await api.validAccount(env.pebble);
  const cert = await api.issue(account.id);
  for (const path of [
    `/api/order/${cert.order}`,
    `/api/certificates/${cert.id}`,
    '/api/order/999999999',
    '/api/certificates/999999999',
    '/api/order/abc',
  ]) {
    const res = await other.get(path);
    t.is(res.status, 400, `${path}: ${res.text}`);
    t.is(typeof res.body.detail, 'string');
    t.false(res.text.includes('PRIVATE KEY'));
  }
  const del = await other.delete(`/api/certificates/${cert.id}`);
  t.is(del.status, 400);
  t.is((await api.certificate(cert.id)).body.status, 'valid', "the other user's DELETE changed nothing");
  t.like(await caStatus(env.pebble, cert.serial), { Status: 'Valid' });
});

test('/api/order and /api/certificates without credentials -> 401 with WWW-Authenticate', async (t) => {
  for (const [method, path] of [
    ['GET', '/api/order'],
    ['POST', '/api/order'],
    ['GET', '/api/certificates'],
    ['GET', '/api/certificates/1'],
    ['DELETE', '/api/certificates/1'],
  ] as const) {
    const res = await env.app.request(method, path);
    t.is(res.status, 401, `${method} ${path}`);
    t.is(res.headers.get('www-authenticate'), 'Basic realm="api"');
  }
});

// ---------------------------------------------------------------------------------------------- revocation

test('DELETE /api/certificates/<id> -> 200 revoking, then revoked, and Revoked at the CA with the reason', async (t) => {
  const api = await newApi(env.app);
  const account = await api.validAccount(env.pebble);
  const cert = await api.issue(account.id, [domain(), domain()]);
  const keep = await api.issue(account.id);
  t.like(await caStatus(env.pebble, cert.serial), { Status: 'Valid' });

  const res = await api.delete(`/api/certificates/${cert.id}`, { reason: 4 });
  t.is(res.status, 200, res.text);
  t.deepEqual(res.body, { id: cert.id, status: 'revoking' });

  const revoked = await (async () => {
    for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
      const got = await api.certificate(cert.id);
      if (got.body.status !== 'revoking') return got.body;
      await new Promise((r) => setTimeout(r, 100));
    }
    return (await api.certificate(cert.id)).body;
  })();
  t.is(revoked.status, 'revoked');
  t.like(await caStatus(env.pebble, cert.serial), { Status: 'Revoked', Reason: 4 });

  // Idempotent: a second DELETE reports the state and does not fail.
  const again = await api.delete(`/api/certificates/${cert.id}`);
  t.is(again.status, 200);
  t.deepEqual(again.body, { id: cert.id, status: 'revoked' });

  // Only that one.
  t.is((await api.certificate(keep.id)).body.status, 'valid');
  t.like(await caStatus(env.pebble, keep.serial), { Status: 'Valid' });
});

test('DELETE /api/certificates/<id> without a body -> revoked at the CA (reason 0)', async (t) => {
  const api = await newApi(env.app, 'token');
  const account = await api.validAccount(env.pebble);
  const cert = await api.issue(account.id);
  const res = await api.delete(`/api/certificates/${cert.id}/`);
  t.is(res.status, 200, res.text);
  t.is(res.body.status, 'revoking');
  await waitForCertStatus(api, cert.id, 'revoked');
  const status = await caStatus(env.pebble, cert.serial);
  t.is(status.Status, 'Revoked');
  t.falsy(status.Reason, 'unspecified');
});

test('DELETE /api/certificates/<id> with an invalid reason -> 400 {reason}, certificate untouched', async (t) => {
  const api = await newApi(env.app);
  const account = await api.validAccount(env.pebble);
  const cert = await api.issue(account.id);
  for (const reason of [2, 3, 6, 'x', -1]) {
    const res = await api.delete<Errors>(`/api/certificates/${cert.id}`, { reason });
    t.is(res.status, 400, `${String(reason)}: ${res.text}`);
    t.true(Array.isArray(res.body.reason), res.text);
  }
  t.is((await api.certificate(cert.id)).body.status, 'valid');
  t.like(await caStatus(env.pebble, cert.serial), { Status: 'Valid' });
});

async function waitForCertStatus(
  api: Awaited<ReturnType<typeof newApi>>,
  id: number,
  status: string,
  timeoutMs = 30_000,
): Promise<CertificateView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await api.certificate(id);
    if (got.body.status === status) return got.body;
    if (Date.now() > deadline) throw new Error(`certificate ${id} is ${got.body.status}, not ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('DELETE /api/certificates/<id> of a certificate already revoked at the CA -> revoked, not failed', async (t) => {
  const api = await newApi(env.app);
  const account = await api.validAccount(env.pebble);
  const cert = await api.issue(account.id);
  await revokeDirectly(env.pebble, account.id, cert.certificate, 1);
  t.like(await caStatus(env.pebble, cert.serial), { Status: 'Revoked', Reason: 1 });
  const res = await api.delete(`/api/certificates/${cert.id}`);
  t.is(res.status, 200, res.text);
  const done = await waitForCertStatus(api, cert.id, 'revoked');
  t.is(done.status, 'revoked');
});

test('POST /api/order when the CA cannot validate http-01 -> order invalid with the CA’s reason, owner told', async (t) => {
  // A CA of its own whose http-01 validation goes to a port nothing listens on.
  const ca = await startPebble({ httpPort: freePortSync() });
  t.teardown(() => ca.stop());
  const api = await newApi(env.app);
  const account = await api.validAccount(ca);
  const name = domain();
  const started = Date.now();
  const res = await api.post('/api/order', { account: account.id, domains: [name] });
  t.is(res.status, 201, res.text);
  const order = await api.settleOrder(res.body.id as number);
  t.log(`order ${order.status} after ${Date.now() - started} ms: ${order.error}`);
  t.is(order.status, 'invalid');
  t.is(order.certificate, null);
  t.is(typeof order.error, 'string');
  t.regex(order.error ?? '', /connect|refused|valid|fetch|http/i);
  t.false(leaksInternals(order.error ?? ''), order.error ?? '');
  t.true(Date.now() - started < 30_000, 'a permanent CA failure fails at once, without retries');
  t.deepEqual((await api.get('/api/certificates')).body, {});
  const mail = await mailbox.waitFor((m) => m.to.includes(api.user.email) && /failed/i.test(m.subject));
  t.true(mail.subject.includes(String(order.id)));
  t.true(mail.text.includes(name));
});

test('POST /api/order when the CA has gone away -> order failed with a readable reason after the retries', async (t) => {
  const { port } = env.app.server.address() as AddressInfo;
  const ca = await startPebble({ httpPort: port });
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await ca.stop();
  });
  const api = await newApi(env.app);
  const account = await api.validAccount(ca);
  await ca.stop();
  stopped = true;
  const res = await api.post('/api/order', { account: account.id, domains: [domain()] });
  t.is(res.status, 201, res.text);
  const order = await api.settleOrder(res.body.id as number, 60_000);
  t.is(order.status, 'failed');
  t.regex(order.error ?? '', /reach|connect|refused/i);
  t.false(unreadable(order.error ?? ''), order.error ?? '');
  t.is(order.certificate, null);
});

test('GET /.well-known/acme-challenge/<unknown token> -> 404, no credentials needed', async (t) => {
  const res = await env.app.get('/.well-known/acme-challenge/unknown-token-123');
  t.is(res.status, 404);
  t.false(leaksInternals(res.text), res.text);
});
