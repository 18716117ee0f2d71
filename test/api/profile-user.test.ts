import '../helpers/env.js';
import test from 'ava';
import { config } from '../../src/config.js';
import { User } from '../../src/models/user.js';
import {
  findUser,
  randomTokenKey,
  registerUser,
  startApp,
  teardown,
  type TestApp,
} from '../helpers/harness.js';

interface Details {
  username: string;
  email: string;
  first_name: string;
  last_name: string;
  email_verified: boolean;
}

let app: TestApp;
test.before(async () => {
  app = await startApp();
});
test.after.always(teardown);

test('GET /api/v0/profile -> 200 {bucket, used_storage, quota}', async (t) => {
  const user = await registerUser(app);
  const res = await app.get('/api/v0/profile', { token: user.key });
  t.is(res.status, 200);
  t.deepEqual(res.body, { bucket: config.STORAGE_BUCKET, used_storage: 0, quota: config.DEFAULT_QUOTA });
  t.is(typeof res.body.bucket, 'string');
  t.true(Number.isInteger(res.body.used_storage));
  t.true(Number.isInteger(res.body.quota));
});

test('GET /api/v0/profile shows the quota and usage stored for the user', async (t) => {
  const user = await registerUser(app);
  await User.updateOne({ id: user.id }, { $set: { quota: 5 * 1024 ** 3, used_storage: 123_456_789 } });
  const res = await app.get('/api/v0/profile', { token: user.key });
  t.is(res.status, 200);
  t.like(res.body, { used_storage: 123_456_789, quota: 5 * 1024 ** 3 });
});

test('GET /api/v0/profile without a token -> 401 detail', async (t) => {
  const res = await app.get('/api/v0/profile');
  t.is(res.status, 401);
  t.deepEqual(res.body, { detail: 'Authentication credentials were not provided.' });
});

test('GET /api/v0/profile with an unknown token -> 401 detail', async (t) => {
  const res = await app.get('/api/v0/profile', { token: randomTokenKey() });
  t.is(res.status, 401);
  t.deepEqual(res.body, { detail: 'Invalid token.' });
});

for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
  test(`${method} /api/v0/profile -> 405`, async (t) => {
    const user = await registerUser(app);
    const res = await app.request(method, '/api/v0/profile', { token: user.key, json: {} });
    t.is(res.status, 405);
    t.true(res.json);
    t.is(typeof res.body.detail, 'string');
    t.regex(res.headers.get('allow') ?? '', /GET/);
  });
}

test('GET /api/v0/auth/user -> 200 {username, email, first_name, last_name, email_verified}', async (t) => {
  const user = await registerUser(app);
  const res = await app.get<Details>('/api/v0/auth/user', { token: user.key });
  t.is(res.status, 200);
  t.deepEqual(res.body, {
    username: user.username,
    email: user.email,
    first_name: '',
    last_name: '',
    email_verified: false,
  });
});

test('PATCH /api/v0/auth/user first_name and last_name -> 200 and stored', async (t) => {
  const user = await registerUser(app);
  const res = await app.patch<Details>(
    '/api/v0/auth/user',
    { first_name: 'Ada', last_name: 'Lovelace' },
    { token: user.key },
  );
  t.is(res.status, 200);
  t.deepEqual(res.body, {
    username: user.username,
    email: user.email,
    first_name: 'Ada',
    last_name: 'Lovelace',
    email_verified: false,
  });
  const stored = await findUser(user.username);
  t.is(stored?.first_name, 'Ada');
  t.is(stored?.last_name, 'Lovelace');
  const again = await app.get<Details>('/api/v0/auth/user', { token: user.key });
  t.like(again.body, { first_name: 'Ada', last_name: 'Lovelace' });
});

test('PATCH /api/v0/auth/user with only last_name keeps first_name', async (t) => {
  const user = await registerUser(app);
  await app.patch('/api/v0/auth/user', { first_name: 'Grace' }, { token: user.key });
  const res = await app.patch<Details>('/api/v0/auth/user', { last_name: 'Hopper' }, { token: user.key });
  t.is(res.status, 200);
  t.like(res.body, { first_name: 'Grace', last_name: 'Hopper' });
  t.like(await findUser(user.username), { first_name: 'Grace', last_name: 'Hopper' });
});

test('PATCH /api/v0/auth/user cannot change username, email or email_verified', async (t) => {
  const user = await registerUser(app);
  const res = await app.patch<Details>(
    '/api/v0/auth/user',
    { username: 'hijack', email: 'hijack@example.com', email_verified: true, first_name: 'Eve' },
    { token: user.key },
  );
  t.is(res.status, 200);
  t.like(res.body, { username: user.username, email: user.email, email_verified: false, first_name: 'Eve' });
  t.like(await findUser(user.username), {
    username: user.username,
    email: user.email,
    email_verified: false,
  });
});

test('PATCH /api/v0/auth/user with a 151-character first_name -> 400 first_name', async (t) => {
  const user = await registerUser(app);
  const res = await app.patch('/api/v0/auth/user', { first_name: 'x'.repeat(151) }, { token: user.key });
  t.is(res.status, 400);
  t.deepEqual(Object.keys(res.body), ['first_name']);
  t.is((await findUser(user.username))?.first_name, '');
});

test('PATCH /api/v0/auth/user with a non-string last_name -> 400 last_name', async (t) => {
  const user = await registerUser(app);
  const res = await app.patch('/api/v0/auth/user', { last_name: 7 }, { token: user.key });
  t.is(res.status, 400);
  t.deepEqual(Object.keys(res.body), ['last_name']);
});

test('GET /api/v0/auth/user without a token -> 401 detail', async (t) => {
  const res = await app.get('/api/v0/auth/user');
  t.is(res.status, 401);
  t.deepEqual(res.body, { detail: 'Authentication credentials were not provided.' });
});

test('PATCH /api/v0/auth/user with an unknown token -> 401 and nothing stored', async (t) => {
  const res = await app.patch('/api/v0/auth/user', { first_name: 'Mallory' }, { token: randomTokenKey() });
  t.is(res.status, 401);
  t.deepEqual(res.body, { detail: 'Invalid token.' });
  t.is(await User.countDocuments({ first_name: 'Mallory' }), 0);
});

test('DELETE /api/v0/auth/user -> 405', async (t) => {
  const user = await registerUser(app);
  const res = await app.request('DELETE', '/api/v0/auth/user', { token: user.key });
  t.is(res.status, 405);
  t.truthy(await findUser(user.username));
});
