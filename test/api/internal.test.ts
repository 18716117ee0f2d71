import { linkPath, mailbox } from '../helpers/env.js';
import test from 'ava';
import { config } from '../../src/config.js';
import { Mail } from '../../src/models/mail.js';
import { User } from '../../src/models/user.js';
import {
  eventually,
  findUser,
  internalHeaders,
  randomTokenKey,
  registerUser,
  startApp,
  startWorker,
  teardown,
  type TestApp,
  type TestUser,
} from '../helpers/harness.js';

const AUTH = '/api/v0/auth/';
const USER = '/api/v0/internal/user/';
const USAGE = '/api/v0/internal/usage';
const INVALID_API_KEY = { error: 'Invalid API key' };
const DAY = 24 * 3600_000;

let app: TestApp;
test.before(async () => {
  app = await startApp();
  await startWorker(['mail']);
});
test.after.always(teardown);

const checkToken = (auth: unknown, headers: Record<string, string> = internalHeaders()) =>
  app.post<{ user_id?: number; active?: boolean; error?: string }>(AUTH, auth === undefined ? {} : { auth }, {
    headers,
  });

const ageUser = (user: TestUser, days: number, set: Record<string, unknown> = {}) =>
  User.updateOne({ id: user.id }, { $set: { created_at: new Date(Date.now() - days * DAY), ...set } });

const reminders = (user: TestUser) =>
  Mail.countDocuments({ to: user.email, template: 'verify-email', 'data.reminder': true });

test('POST /api/v0/auth/ with APISECRET and a valid token -> 200 {user_id, active}', async (t) => {
  const user = await registerUser(app);
  const res = await checkToken(`Token ${user.key}`);
  t.is(res.status, 200);
  t.deepEqual(res.body, { user_id: user.id, active: true });
});

test('POST /api/v0/auth/ accepts the token scheme in any case', async (t) => {
  const user = await registerUser(app);
  const res = await checkToken(`token ${user.key}`);
  t.is(res.status, 200);
  t.is(res.body.user_id, user.id);
});

test('POST /api/v0/auth/ without APISECRET -> 403 Invalid API key', async (t) => {
  const user = await registerUser(app);
  const res = await checkToken(`Token ${user.key}`, {});
  t.is(res.status, 403);
  t.deepEqual(res.body, INVALID_API_KEY);
});

for (const [what, secret] of [
  ['a wrong', () => 'x'.repeat(48)],
  ['a truncated', () => config.INTERNAL_API_SECRET.slice(0, -1)],
  ['an extended', () => `${config.INTERNAL_API_SECRET}0`],
] as const) {
  test(`POST /api/v0/auth/ with ${what} APISECRET -> 403 Invalid API key`, async (t) => {
    const user = await registerUser(app);
    const res = await checkToken(`Token ${user.key}`, { APISECRET: secret() });
    t.is(res.status, 403);
    t.deepEqual(res.body, INVALID_API_KEY);
  });
}

test('POST /api/v0/auth/ without auth -> 400 error', async (t) => {
  const res = await checkToken(undefined);
  t.is(res.status, 400);
  t.deepEqual(Object.keys(res.body), ['error']);
  t.is(typeof res.body.error, 'string');
});

for (const [what, auth] of [
  ['an empty auth', () => ''],
  ['a non-string auth', () => 42],
  ['the wrong scheme', (key: string) => `Bearer ${key}`],
  ['no key', () => 'Token'],
  ['a bare key', (key: string) => key],
  ['extra parts', (key: string) => `Token ${key} extra`],
] as const) {
  test(`POST /api/v0/auth/ with ${what} -> 400 error`, async (t) => {
    const user = await registerUser(app);
    const res = await checkToken(auth(user.key));
    t.is(res.status, 400);
    t.deepEqual(Object.keys(res.body), ['error']);
  });
}

test('POST /api/v0/auth/ with an unknown token -> 404 Invalid token', async (t) => {
  const res = await checkToken(`Token ${randomTokenKey()}`);
  t.is(res.status, 404);
  t.deepEqual(res.body, { error: 'Invalid token' });
});

test('POST /api/v0/auth/ with a token revoked by logout -> 404 Invalid token', async (t) => {
  const user = await registerUser(app);
  t.is((await app.post('/api/v0/auth/logout', undefined, { token: user.key })).status, 200);
  const res = await checkToken(`Token ${user.key}`);
  t.is(res.status, 404);
  t.deepEqual(res.body, { error: 'Invalid token' });
});

test('POST /api/v0/auth (no trailing slash) -> 200', async (t) => {
  const user = await registerUser(app);
  const res = await app.post('/api/v0/auth', { auth: `Token ${user.key}` }, { headers: internalHeaders() });
  t.is(res.status, 200);
  t.deepEqual(res.body, { user_id: user.id, active: true });
});

test('POST /api/v0/auth/ for an unverified user registered 6 days ago -> active', async (t) => {
  const user = await registerUser(app);
  await ageUser(user, 6);
  const res = await checkToken(`Token ${user.key}`);
  t.deepEqual(res.body, { user_id: user.id, active: true });
  t.is(await reminders(user), 0);
});

test('POST /api/v0/auth/ for a verified user registered 30 days ago -> active, no reminder', async (t) => {
  const user = await registerUser(app);
  await ageUser(user, 30, { email_verified: true });
  const res = await checkToken(`Token ${user.key}`);
  t.deepEqual(res.body, { user_id: user.id, active: true });
  t.is(await reminders(user), 0);
});

test('POST /api/v0/auth/ for an unverified user older than 7 days -> inactive, one reminder mail per 24 h', async (t) => {
  const user = await registerUser(app);
  await mailbox.waitForTo(user.email); // the registration mail
  await ageUser(user, 8);

  const first = await checkToken(`Token ${user.key}`);
  t.is(first.status, 200);
  t.deepEqual(first.body, { user_id: user.id, active: false });
  const reminder = await mailbox.waitFor(
    (m) =>
      m.to.includes(user.email.toLowerCase()) && m.subject === 'Reminder: please confirm your email address',
  );
  t.truthy(reminder.links.find((l) => l.includes('/account-confirm-email/')));
  t.truthy((await findUser(user.username))?.verification_reminder_at);

  const second = await checkToken(`Token ${user.key}`);
  t.deepEqual(second.body, { user_id: user.id, active: false });
  t.is(await reminders(user), 1, 'no second reminder within 24 h');

  await User.updateOne(
    { id: user.id },
    { $set: { verification_reminder_at: new Date(Date.now() - DAY - 60_000) } },
  );
  const third = await checkToken(`Token ${user.key}`);
  t.deepEqual(third.body, { user_id: user.id, active: false });
  t.is(await reminders(user), 2, 'a new reminder after 24 h');
});

test('POST /api/v0/auth/ after following the reminder link -> active again', async (t) => {
  const user = await registerUser(app);
  await ageUser(user, 10);
  t.is((await checkToken(`Token ${user.key}`)).body.active, false);
  const reminder = await mailbox.waitFor(
    (m) => m.to.includes(user.email.toLowerCase()) && m.subject.startsWith('Reminder'),
  );
  const link = reminder.links.find((l) => l.includes('/account-confirm-email/')) ?? '';
  t.is((await app.get(linkPath(link))).status, 200);
  t.true((await findUser(user.username))?.email_verified);
  t.deepEqual((await checkToken(`Token ${user.key}`)).body, { user_id: user.id, active: true });
});

test('POST /api/v0/auth/ for a disabled user -> inactive and no reminder', async (t) => {
  const user = await registerUser(app);
  await ageUser(user, 8, { is_active: false });
  const res = await checkToken(`Token ${user.key}`);
  t.is(res.status, 200);
  t.deepEqual(res.body, { user_id: user.id, active: false });
  t.is(await reminders(user), 0);
});

test('POST /api/v0/auth/ for a disabled verified user -> inactive', async (t) => {
  const user = await registerUser(app);
  await User.updateOne({ id: user.id }, { $set: { is_active: false, email_verified: true } });
  const res = await checkToken(`Token ${user.key}`);
  t.deepEqual(res.body, { user_id: user.id, active: false });
});

test('POST /api/v0/internal/user/ -> 200 {user_id, active, block_quota, monthly_traffic_quota}', async (t) => {
  const user = await registerUser(app);
  const res = await app.post(USER, { user_id: user.id }, { headers: internalHeaders() });
  t.is(res.status, 200);
  t.deepEqual(res.body, {
    user_id: user.id,
    active: true,
    block_quota: config.DEFAULT_QUOTA,
    monthly_traffic_quota: config.DEFAULT_MONTHLY_TRAFFIC_QUOTA,
  });
});

test('POST /api/v0/internal/user (no slash, form-encoded id) -> 200', async (t) => {
  const user = await registerUser(app);
  const res = await app.post('/api/v0/internal/user', undefined, {
    headers: internalHeaders(),
    form: { user_id: String(user.id) },
  });
  t.is(res.status, 200);
  t.is(res.body.user_id, user.id);
});

test('POST /api/v0/internal/user/ for an unverified user older than 7 days -> active false and a reminder', async (t) => {
  const user = await registerUser(app);
  await ageUser(user, 9);
  const res = await app.post(USER, { user_id: user.id }, { headers: internalHeaders() });
  t.is(res.status, 200);
  t.is(res.body.active, false);
  await eventually(async () => (await reminders(user)) === 1, 5_000, 'one reminder');
  t.pass();
});

for (const [what, id] of [
  ['a non-integer string', 'abc'],
  ['a fraction', 1.5],
  ['a boolean', true],
  ['zero', 0],
  ['a negative number', -4],
] as const) {
  test(`POST /api/v0/internal/user/ with ${what} as user_id -> 400 user_id`, async (t) => {
    const res = await app.post(USER, { user_id: id }, { headers: internalHeaders() });
    t.is(res.status, 400);
    t.deepEqual(Object.keys(res.body), ['user_id']);
  });
}

test('POST /api/v0/internal/user/ without user_id -> 400 user_id', async (t) => {
  const res = await app.post(USER, {}, { headers: internalHeaders() });
  t.is(res.status, 400);
  t.deepEqual(res.body, { user_id: ['This field is required.'] });
});

test('POST /api/v0/internal/user/ for an unknown user -> 404', async (t) => {
  const res = await app.post(USER, { user_id: 987_654_321 }, { headers: internalHeaders() });
  t.is(res.status, 404);
  t.true(res.json);
});

test('POST /api/v0/internal/user/ without APISECRET -> 403 Invalid API key', async (t) => {
  const user = await registerUser(app);
  const res = await app.post(USER, { user_id: user.id });
  t.is(res.status, 403);
  t.deepEqual(res.body, INVALID_API_KEY);
});

test('POST /api/v0/internal/usage -> 200 and the profile shows the usage', async (t) => {
  const user = await registerUser(app);
  const res = await app.post(
    USAGE,
    { user_id: user.id, used_storage: 1_234_567 },
    { headers: internalHeaders() },
  );
  t.is(res.status, 200);
  t.is((await findUser(user.username))?.used_storage, 1_234_567);
  const profile = await app.get('/api/v0/profile', { token: user.key });
  t.is(profile.status, 200);
  t.is(profile.body.used_storage, 1_234_567);

  const again = await app.post(
    `${USAGE}/`,
    { user_id: user.id, used_storage: 0 },
    { headers: internalHeaders() },
  );
  t.is(again.status, 200);
  t.is((await app.get('/api/v0/profile', { token: user.key })).body.used_storage, 0);
});

test('POST /api/v0/internal/usage with a form-encoded body -> 200', async (t) => {
  const user = await registerUser(app);
  const res = await app.post(USAGE, undefined, {
    headers: internalHeaders(),
    form: { user_id: String(user.id), used_storage: '4096' },
  });
  t.is(res.status, 200);
  t.is((await findUser(user.username))?.used_storage, 4096);
});

for (const [what, body] of [
  ['no fields', {}],
  ['a negative used_storage', { used_storage: -1 }],
  ['a fractional used_storage', { used_storage: 10.5 }],
  ['a textual used_storage', { used_storage: 'lots' }],
  ['a textual user_id', { user_id: 'me', used_storage: 1 }],
] as const) {
  test(`POST /api/v0/internal/usage with ${what} -> 400 and nothing stored`, async (t) => {
    const user = await registerUser(app);
    const res = await app.post(USAGE, { user_id: user.id, ...body }, { headers: internalHeaders() });
    t.is(res.status, 400);
    t.true(res.json);
    t.true(Object.keys(res.body).length > 0);
    t.is((await findUser(user.username))?.used_storage, 0);
  });
}

test('POST /api/v0/internal/usage for an unknown user -> 404', async (t) => {
  const res = await app.post(
    USAGE,
    { user_id: 987_654_322, used_storage: 1 },
    { headers: internalHeaders() },
  );
  t.is(res.status, 404);
  t.true(res.json);
  t.is(await User.countDocuments({ id: 987_654_322 }), 0);
});

test('POST /api/v0/internal/usage without APISECRET -> 403 and nothing stored', async (t) => {
  const user = await registerUser(app);
  const res = await app.post(USAGE, { user_id: user.id, used_storage: 99 });
  t.is(res.status, 403);
  t.deepEqual(res.body, INVALID_API_KEY);
  t.is((await findUser(user.username))?.used_storage, 0);
});

test('GET /api/v0/internal/usage -> 405', async (t) => {
  const res = await app.get(USAGE, { headers: internalHeaders() });
  t.is(res.status, 405);
});
