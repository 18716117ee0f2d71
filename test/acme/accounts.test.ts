import { mailbox } from '../helpers/env.js';
import test from 'ava';
import type { AddressInfo } from 'node:net';
import { freePortSync } from '../helpers/free-port.js';
import { leaksInternals, registerUser, teardown, unique, type JsonObject } from '../helpers/harness.js';
import {
  AcmeApi,
  accountAtCa,
  accountUrlAtCa,
  basicHeader,
  newApi,
  pemKey,
  startAcmeEnv,
  unreadable,
  type AccountView,
  type AcmeTestEnv,
  type Errors,
} from './helpers.js';

let env: AcmeTestEnv;
test.before(async () => {
  env = await startAcmeEnv();
});
test.after.always(teardown);

const ACCOUNT_FIELDS = [
  'id',
  'email',
  'server',
  'status',
  'uri',
  'organization',
  'organizational_unit',
  'country',
  'state',
  'location',
  'error',
  'created_at',
  'updated_at',
];

// ---------------------------------------------------------------------------------------------- creation

test('POST /api/acme -> 201 {id, status: pending} + Location, then the job registers it (valid, uri)', async (t) => {
  const api = await newApi(env.app);
  const email = `${unique('acme')}@example.com`;
  const res = await api.post('/api/acme', {
    email,
    server: env.pebble.directoryUrl,
    organization: 'Example Org',
    organizational_unit: 'Ops',
    country: 'de',
    state: 'Berlin',
    location: 'Berlin',
  });
  t.is(res.status, 201, res.text);
  t.deepEqual(Object.keys(res.body).sort(), ['id', 'status']);
  t.true(Number.isInteger(res.body.id));
  t.is(res.body.status, 'pending');
  const id = res.body.id as number;
  t.is(res.headers.get('location'), `/api/acme/${id}`);

  const account = await api.settleAccount(id);
  t.is(account.status, 'valid', `error: ${account.error}`);
  t.is(account.id, id);
  t.is(account.email, email);
  t.is(account.server, env.pebble.directoryUrl);
  t.true(
    typeof account.uri === 'string' && account.uri.startsWith('https://127.0.0.1:'),
    String(account.uri),
  );
  t.is(account.organization, 'Example Org');
  t.is(account.organizational_unit, 'Ops');
  t.is(account.country.toUpperCase(), 'DE');
  t.is(account.state, 'Berlin');
  t.is(account.location, 'Berlin');
  t.is(account.error, null);
  t.false(Number.isNaN(Date.parse(account.created_at)));
  t.false(Number.isNaN(Date.parse(account.updated_at)));
  for (const field of ACCOUNT_FIELDS) t.true(field in account, `GET /api/acme/<id> has ${field}`);

  // At the CA: a valid account with the mailto: contact.
  const atCa = await accountAtCa(env.pebble, id);
  t.is(atCa.status, 'valid');
  t.deepEqual(atCa.contact, [`mailto:${email}`]);

  // The owner hears about it through the mail queue.
  const mail = await mailbox.waitFor((m) => m.to.includes(api.user.email) && m.subject.includes(`${id}`));
  t.regex(mail.subject, /registered/i);
});

test('POST /api/acme with the same email and server again -> 200 with the same id and Location', async (t) => {
  const api = await newApi(env.app);
  const email = `${unique('acme')}@example.com`;
  const first = await api.post('/api/acme', { email, server: env.pebble.directoryUrl });
  t.is(first.status, 201, first.text);
  const id = first.body.id as number;

  const again = await api.post('/api/acme', { email, server: env.pebble.directoryUrl });
  t.is(again.status, 200, again.text);
  t.is(again.body.id, id);
  t.true(['pending', 'valid'].includes(again.body.status as string));
  t.is(again.headers.get('location'), `/api/acme/${id}`);

  await api.settleAccount(id);
  const third = await api.post('/api/acme', { email, server: env.pebble.directoryUrl });
  t.is(third.status, 200);
  t.deepEqual(third.body, { id, status: 'valid' });

  // Another directory is another account.
  const elsewhere = await api.post('/api/acme', { email, server: `${env.pebble.directoryUrl}?other=1` });
  t.is(elsewhere.status, 201, elsewhere.text);
  t.not(elsewhere.body.id, id);

  // Another user with the same email gets an account of their own.
  const other = await newApi(env.app);
  const theirs = await other.post('/api/acme', { email, server: env.pebble.directoryUrl });
  t.is(theirs.status, 201, theirs.text);
  t.not(theirs.body.id, id);
});

test('POST /api/acme 8 times at once with the same email and server -> one account (201 once, 200 with its id)', async (t) => {
  const api = await newApi(env.app, 'token');
  const email = `${unique('acme')}@example.com`;
  const results = await Promise.all(
    Array.from({ length: 8 }, () => api.post('/api/acme', { email, server: env.pebble.directoryUrl })),
  );
  const ids = new Set(results.map((r) => r.body.id));
  t.is(ids.size, 1, `ids ${[...ids].join(', ')}`);
  t.deepEqual(results.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 200, 200, 201]);
  t.is(Object.keys((await api.get('/api/acme')).body).length, 1);
});

test('POST /api/acme again for an account whose registration failed -> 200 with that account', async (t) => {
  const api = await newApi(env.app);
  const body = { email: `${unique('acme')}@example.com`, server: `https://127.0.0.1:${freePortSync()}/dir` };
  const first = await api.post('/api/acme', body);
  t.is(first.status, 201);
  const account = await api.settleAccount(first.body.id as number, ['pending'], 60_000);
  t.is(account.status, 'failed');
  const again = await api.post('/api/acme', body);
  t.is(again.status, 200, again.text);
  t.deepEqual(again.body, { id: account.id, status: 'failed' });
});

test('POST /api/acme/ (trailing slash) and a form-encoded body -> 201; GET /api/acme/<id>/ -> 200', async (t) => {
  const api = await newApi(env.app);
  const res = await api.postForm('/api/acme/', {
    email: `${unique('acme')}@example.com`,
    server: env.pebble.directoryUrl,
    country: 'FR',
  });
  t.is(res.status, 201, res.text);
  const id = res.body.id as number;
  const got = await api.get<AccountView>(`/api/acme/${id}/`);
  t.is(got.status, 200, got.text);
  t.is(got.body.id, id);
  t.is(got.body.country, 'FR');
  const list = await api.get('/api/acme/');
  t.is(list.status, 200);
  t.deepEqual(Object.keys(list.body), [String(id)]);
});

test('POST /api/acme without server uses the configured default directory', async (t) => {
  const api = await newApi(env.app);
  const res = await api.post('/api/acme', { email: `${unique('acme')}@example.com` });
  t.is(res.status, 201, res.text);
  const got = await api.account(res.body.id as number);
  t.is(got.status, 200);
  t.regex(got.body.server, /^https:\/\//);
  t.not(
    got.body.server,
    'https://acme-v02.api.letsencrypt.org/directory',
    'never the production CA by default',
  );
});

// ---------------------------------------------------------------------------------------------- validation

const invalid = async (t: import('ava').ExecutionContext, body: JsonObject, field: string): Promise<void> => {
  const api = await newApi(env.app);
  const res = await api.post<Errors>('/api/acme', body);
  t.is(res.status, 400, res.text);
  t.true(Array.isArray(res.body[field]), `${field} errors in ${res.text}`);
  t.true((res.body[field]?.length ?? 0) > 0);
  t.true(res.body[field]?.every((m) => typeof m === 'string' && m.length > 0));
  t.false(leaksInternals(res.text), res.text);
  // Nothing was created.
  const list = await api.get('/api/acme');
  t.deepEqual(list.body, {});
};

test('POST /api/acme without email -> 400 {email: [...]}', async (t) => {
  await invalid(t, { server: env.pebble.directoryUrl }, 'email');
});

test('POST /api/acme with an invalid email -> 400 {email: [...]}', async (t) => {
  await invalid(t, { email: 'not-an-email', server: env.pebble.directoryUrl }, 'email');
});

test('POST /api/acme with an empty email -> 400 {email: [...]}', async (t) => {
  await invalid(t, { email: '', server: env.pebble.directoryUrl }, 'email');
});

test('POST /api/acme with a key that is not PEM -> 400 {key: [...]}', async (t) => {
  await invalid(
    t,
    { email: `${unique('a')}@example.com`, server: env.pebble.directoryUrl, key: 'nope' },
    'key',
  );
});

test('POST /api/acme with a public key instead of a private key -> 400 {key: [...]}', async (t) => {
  const { createPublicKey } = await import('node:crypto');
  const pub = createPublicKey(pemKey()).export({ type: 'spki', format: 'pem' }).toString();
  await invalid(t, { email: `${unique('a')}@example.com`, server: env.pebble.directoryUrl, key: pub }, 'key');
});

test('POST /api/acme with an Ed25519 key -> 400 {key: [...]}', async (t) => {
  const { generateKeyPairSync } = await import('node:crypto');
  const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  await invalid(t, { email: `${unique('a')}@example.com`, server: env.pebble.directoryUrl, key }, 'key');
});

test('POST /api/acme with an RSA 1024 key -> 400 {key: [...]}', async (t) => {
  const key = pemKey({ type: 'rsa', bits: 1024 });
  await invalid(t, { email: `${unique('a')}@example.com`, server: env.pebble.directoryUrl, key }, 'key');
});

test('POST /api/acme with an EC P-521 key -> 400 {key: [...]}', async (t) => {
  const key = pemKey({ type: 'ec', curve: 'secp521r1' });
  await invalid(t, { email: `${unique('a')}@example.com`, server: env.pebble.directoryUrl, key }, 'key');
});

test('POST /api/acme with an http:// server -> 400 {server: [...]}', async (t) => {
  const server = env.pebble.directoryUrl.replace(/^https:/, 'http:');
  await invalid(t, { email: `${unique('a')}@example.com`, server }, 'server');
});

test('POST /api/acme with a server that is not a URL -> 400 {server: [...]}', async (t) => {
  await invalid(t, { email: `${unique('a')}@example.com`, server: 'acme directory' }, 'server');
});

test('POST /api/acme with a 3-letter country -> 400 {country: [...]}', async (t) => {
  await invalid(
    t,
    { email: `${unique('a')}@example.com`, server: env.pebble.directoryUrl, country: 'DEU' },
    'country',
  );
});

test('POST /api/acme with a non-letter country -> 400 {country: [...]}', async (t) => {
  await invalid(
    t,
    { email: `${unique('a')}@example.com`, server: env.pebble.directoryUrl, country: 'D1' },
    'country',
  );
});

test('POST /api/acme with several bad fields -> 400 listing each of them', async (t) => {
  const api = await newApi(env.app);
  const res = await api.post<Errors>('/api/acme', {
    email: 'x',
    server: 'http://ca.test/dir',
    country: 'XYZ',
  });
  t.is(res.status, 400);
  t.deepEqual(Object.keys(res.body).sort(), ['country', 'email', 'server']);
});

// ---------------------------------------------------------------------------------------------- keys

test('POST /api/acme with an RSA 2048 key -> the CA has exactly that key as the account (onlyReturnExisting)', async (t) => {
  const api = await newApi(env.app);
  const key = pemKey({ type: 'rsa', bits: 2048 });
  const account = await api.validAccount(env.pebble, { key });
  t.truthy(account.uri);
  t.is<string | null, string | null>(await accountUrlAtCa(env.pebble, key), account.uri);
});

test('POST /api/acme with an EC P-256 key -> valid, registered with that key', async (t) => {
  const api = await newApi(env.app);
  const key = pemKey({ type: 'ec', curve: 'prime256v1' });
  const account = await api.validAccount(env.pebble, { key });
  t.is<string | null, string | null>(await accountUrlAtCa(env.pebble, key), account.uri);
});

test('POST /api/acme with an EC P-384 key -> valid, registered with that key', async (t) => {
  const api = await newApi(env.app);
  const key = pemKey({ type: 'ec', curve: 'secp384r1' });
  const account = await api.validAccount(env.pebble, { key });
  t.is<string | null, string | null>(await accountUrlAtCa(env.pebble, key), account.uri);
});

test('POST /api/acme with a PKCS#1 RSA key or a SEC1 EC key (openssl genrsa / ecparam) -> valid, registered with that key', async (t) => {
  const api = await newApi(env.app);
  const { generateKeyPairSync } = await import('node:crypto');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs1', format: 'pem' })
    .toString();
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .privateKey.export({ type: 'sec1', format: 'pem' })
    .toString();
  t.true(rsa.startsWith('-----BEGIN RSA PRIVATE KEY-----'));
  t.true(ec.startsWith('-----BEGIN EC PRIVATE KEY-----'));
  for (const key of [rsa, ec]) {
    const account = await api.validAccount(env.pebble, { key });
    t.is<string | null, string | null>(await accountUrlAtCa(env.pebble, key), account.uri);
  }
});

test('POST /api/acme with a key already registered at the CA (another user, other email) -> the same ACME account uri', async (t) => {
  const key = pemKey();
  const first = await newApi(env.app);
  const a = await first.validAccount(env.pebble, { key });
  const second = await newApi(env.app);
  const b = await second.validAccount(env.pebble, { key });
  t.not(a.id, b.id);
  t.not(a.email, b.email);
  t.truthy(a.uri);
  t.is(b.uri, a.uri, 'the CA found the existing account for the key instead of creating or failing');
});

test('POST /api/acme without a key -> a key is generated and registered (valid, own uri, usable)', async (t) => {
  const api = await newApi(env.app);
  const a = await api.validAccount(env.pebble);
  const b = await api.validAccount(env.pebble);
  t.truthy(a.uri);
  t.truthy(b.uri);
  t.not(a.uri, b.uri, 'each account gets its own generated key');
  // The generated key signs orders: the account can issue.
  const cert = await api.issue(a.id);
  t.is(cert.status, 'valid');
});

test('the private key is never served: GET /api/acme/<id> and GET /api/acme carry no key', async (t) => {
  const api = await newApi(env.app);
  const key = pemKey();
  const account = await api.validAccount(env.pebble, { key });
  const keyBody = key.split('\n').slice(1, 3).join('');
  for (const res of [await api.account(account.id), await api.get('/api/acme')]) {
    t.is(res.status, 200);
    t.false(/PRIVATE KEY/.test(res.text), res.text);
    t.false(res.text.replace(/\\n/g, '').includes(keyBody.slice(0, 40)));
    t.false(/key_sealed|"key"/.test(res.text), res.text);
  }
  const generated = await api.validAccount(env.pebble);
  const res = await api.account(generated.id);
  t.false(/PRIVATE KEY|key_sealed|"key"/.test(res.text), res.text);
});

// ---------------------------------------------------------------------------------------------- failure

test('POST /api/acme with an unreachable CA -> 201, then failed with a readable error within a minute', async (t) => {
  const api = await newApi(env.app);
  const port = freePortSync();
  const started = Date.now();
  const res = await api.post('/api/acme', {
    email: `${unique('acme')}@example.com`,
    server: `https://127.0.0.1:${port}/dir`,
  });
  t.is(res.status, 201, res.text);
  const account = await api.settleAccount(res.body.id as number, ['pending'], 60_000);
  t.true(Date.now() - started < 60_000);
  t.is(account.status, 'failed');
  t.is(account.uri, null);
  t.is(typeof account.error, 'string');
  t.regex(account.error ?? '', /reach|connect|refused/i);
  t.false(/\bat .+:\d+:\d+|node_modules|\/src\//.test(account.error ?? ''), account.error ?? '');
  const mail = await mailbox.waitFor(
    (m) => m.to.includes(api.user.email) && /could not|fail/i.test(m.subject),
  );
  t.true(mail.subject.includes(String(account.id)));
});

test('POST /api/acme with a server that does not speak TLS -> failed, saying TLS failed, without OpenSSL internals', async (t) => {
  const api = await newApi(env.app);
  const { port } = env.app.server.address() as AddressInfo;
  const res = await api.post('/api/acme', {
    email: `${unique('a')}@example.com`,
    server: `https://127.0.0.1:${port}/dir`,
  });
  t.is(res.status, 201, res.text);
  const account = await api.settleAccount(res.body.id as number, ['pending'], 60_000);
  t.is(account.status, 'failed');
  t.regex(account.error ?? '', /TLS|SSL|secure/i);
  t.false(unreadable(account.error ?? ''), account.error ?? '');
});

test('POST /api/acme with a server that is not an ACME directory (404, or another JSON) -> failed with a readable error', async (t) => {
  const api = await newApi(env.app);
  for (const server of [
    env.pebble.directoryUrl.replace(/\/dir$/, '/no-such-directory'),
    `${env.pebble.managementUrl}/roots/0`,
  ]) {
    const res = await api.post('/api/acme', { email: `${unique('a')}@example.com`, server });
    t.is(res.status, 201, res.text);
    const account = await api.settleAccount(res.body.id as number, ['pending'], 60_000);
    t.is(account.status, 'failed', server);
    t.true((account.error ?? '').length > 0, server);
    t.false(unreadable(account.error ?? ''), `${server}: ${account.error}`);
  }
});

// ---------------------------------------------------------------------------------------------- auth

test('GET /api/acme without credentials -> 401 {detail} with WWW-Authenticate: Basic realm="api"', async (t) => {
  const res = await env.app.get('/api/acme');
  t.is(res.status, 401);
  t.is(typeof res.body.detail, 'string');
  t.is(res.headers.get('www-authenticate'), 'Basic realm="api"');
});

test('POST /api/acme with a wrong Basic password -> 401 with WWW-Authenticate, nothing created', async (t) => {
  const user = await registerUser(env.app);
  const res = await env.app.post(
    '/api/acme',
    { email: `${unique('acme')}@example.com`, server: env.pebble.directoryUrl },
    { headers: basicHeader(user.username, `${user.password}x`) },
  );
  t.is(res.status, 401);
  t.is(typeof res.body.detail, 'string');
  t.is(res.headers.get('www-authenticate'), 'Basic realm="api"');
  const list = await new AcmeApi(env.app, user).get('/api/acme');
  t.deepEqual(list.body, {});
});

test('GET /api/acme with an unknown Basic user, a malformed Basic header or a bad token -> 401', async (t) => {
  for (const headers of [
    basicHeader(unique('nobody'), 'whatever-password'),
    { Authorization: 'Basic !!!not-base64' },
    { Authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` },
    { Authorization: 'Token 0000000000000000000000000000000000000000' },
    { Authorization: 'Bearer abc' },
  ]) {
    const res = await env.app.get('/api/acme', { headers });
    t.is(res.status, 401, JSON.stringify(headers));
    t.is(typeof res.body.detail, 'string');
    t.is(res.headers.get('www-authenticate'), 'Basic realm="api"');
  }
});

test('Basic and Token auth see the same accounts of the same user', async (t) => {
  const user = await registerUser(env.app);
  const basic = new AcmeApi(env.app, user, 'basic');
  const token = new AcmeApi(env.app, user, 'token');
  const created = await token.createAccount(env.pebble);
  t.is(created.status, 201, created.text);
  const id = created.body.id as number;
  const viaBasic = await basic.account(id);
  t.is(viaBasic.status, 200, viaBasic.text);
  const viaToken = await token.account(id);
  t.is(viaToken.status, 200, viaToken.text);
  t.is(viaBasic.body.email, viaToken.body.email);
  t.deepEqual(Object.keys((await basic.get('/api/acme')).body), [String(id)]);
  t.deepEqual(Object.keys((await token.get('/api/acme')).body), [String(id)]);
});

test('Basic auth after a password change: the old password -> 401 at once, the new one -> 200', async (t) => {
  const user = await registerUser(env.app);
  const before = new AcmeApi(env.app, user);
  t.is((await before.get('/api/acme')).status, 200);
  t.is((await before.get('/api/acme')).status, 200, 'a second request (from the cache) works too');
  const password = `Pw!${unique('')}-Zq`;
  const change = await env.app.post(
    '/api/v0/auth/password/change',
    { old_password: user.password, new_password1: password, new_password2: password },
    { token: user.key },
  );
  t.is(change.status, 200, change.text);
  const stale = await before.get('/api/acme');
  t.is(stale.status, 401, 'the cached Basic check was dropped with the old password');
  t.is(stale.headers.get('www-authenticate'), 'Basic realm="api"');
  const after = new AcmeApi(env.app, { ...user, password });
  t.is((await after.get('/api/acme')).status, 200);
});

test('Basic failures count in the login throttle: after 5 wrong passwords the right one is refused', async (t) => {
  const user = await registerUser(env.app);
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await env.app.get('/api/acme', { headers: basicHeader(user.username, `wrong-${i}`) });
    statuses.push(res.status);
    t.false(leaksInternals(res.text), res.text);
  }
  t.deepEqual(statuses.slice(0, 4), [401, 401, 401, 401]);
  t.true([401, 429].includes(statuses[4]!), String(statuses[4]));
  const login = await env.app.post('/api/v0/auth/login', {
    username: user.username,
    password: user.password,
  });
  t.is(login.status, 429, `login after 5 Basic failures: ${login.status} ${login.text}`);
  const basic = await env.app.get('/api/acme', { headers: basicHeader(user.username, user.password) });
  t.true([401, 429].includes(basic.status), `Basic with the right password while blocked: ${basic.status}`);
  // A token still works: the throttle is about password guessing.
  t.is((await new AcmeApi(env.app, user, 'token').get('/api/acme')).status, 200);
});

test('PUT /api/acme/<id> and PATCH /api/acme -> 405; an oversized body -> 413', async (t) => {
  const api = await newApi(env.app);
  const account = await api.createAccount(env.pebble);
  const headers = basicHeader(api.user.username, api.user.password);
  const put = await env.app.request('PUT', `/api/acme/${account.body.id as number}`, { json: {}, headers });
  t.is(put.status, 405, put.text);
  const patch = await env.app.request('PATCH', '/api/acme', { json: {}, headers });
  t.is(patch.status, 405, patch.text);
  const big = await env.app.request('POST', '/api/acme', {
    json: { email: `${unique('a')}@example.com`, organization: 'x'.repeat(2 * 1024 * 1024) },
    headers,
  });
  t.is(big.status, 413, big.text.slice(0, 200));
});

// ---------------------------------------------------------------------------------------------- isolation

test("GET/DELETE /api/acme/<another user's id> -> 400 {detail}; each list shows only its own accounts", async (t) => {
  const alice = await newApi(env.app);
  const bob = await newApi(env.app, 'token');
  const a = await alice.validAccount(env.pebble);
  const b1 = await bob.validAccount(env.pebble);
  const b2 = await bob.validAccount(env.pebble);

  const peek = await bob.account(a.id);
  t.is(peek.status, 400);
  t.is(typeof (peek.body as unknown as JsonObject).detail, 'string');
  t.false(peek.text.includes(a.email));

  const del = await bob.delete(`/api/acme/${a.id}`);
  t.is(del.status, 400);
  t.is(typeof del.body.detail, 'string');
  t.is((await alice.account(a.id)).body.status, 'valid', "the other user's DELETE changed nothing");

  const aliceList = await alice.get<Record<string, AccountView>>('/api/acme');
  t.is(aliceList.status, 200);
  t.deepEqual(Object.keys(aliceList.body), [String(a.id)]);
  t.is(aliceList.body[String(a.id)]?.email, a.email);

  const bobList = await bob.get<Record<string, AccountView>>('/api/acme');
  t.deepEqual(Object.keys(bobList.body).sort(), [String(b1.id), String(b2.id)].sort());
  t.is(bobList.body[String(b2.id)]?.id, b2.id);
  t.is(bobList.body[String(b2.id)]?.status, 'valid');
});

test('GET /api/acme for a user without accounts -> 200 {}', async (t) => {
  const api = await newApi(env.app);
  const res = await api.get('/api/acme');
  t.is(res.status, 200);
  t.deepEqual(res.body, {});
});

test('GET /api/acme/<unknown id> and /api/acme/<not a number> -> 400 {detail}', async (t) => {
  const api = await newApi(env.app);
  for (const path of ['/api/acme/999999999', '/api/acme/abc', '/api/acme/-1']) {
    const res = await api.get(path);
    t.is(res.status, 400, `${path}: ${res.text}`);
    t.is(typeof res.body.detail, 'string');
  }
  const del = await api.delete('/api/acme/999999999');
  t.is(del.status, 400);
});
