import '../helpers/env.js';
import test from 'ava';
import { sha256 } from '../../src/lib/crypto.js';
import { Token } from '../../src/models/token.js';
import { User } from '../../src/models/user.js';
import {
  eventually,
  findUser,
  login,
  newUserData,
  randomTokenKey,
  registerUser,
  startApp,
  teardown,
  type TestApp,
} from '../helpers/harness.js';

type Errors = Record<string, string[] | undefined>;

const LOGIN = '/api/v0/auth/login';
const LOGOUT = '/api/v0/auth/logout';
const BAD_CREDENTIALS = { non_field_errors: ['Unable to log in with provided credentials.'] };
const THROTTLED = { error: 'Too many login attempts' };
const NO_CREDENTIALS = { detail: 'Authentication credentials were not provided.' };
const INVALID_TOKEN = { detail: 'Invalid token.' };

let app: TestApp;
test.before(async () => {
  app = await startApp();
});
test.after.always(teardown);

const attempt = (username: string, password: string) =>
  app.post<Errors & { key?: string }>(LOGIN, { username, password });

test('POST /api/v0/auth/login -> 200 with a new 40-hex key every time', async (t) => {
  const user = await registerUser(app);
  const first = await attempt(user.username, user.password);
  const second = await attempt(user.username, user.password);
  t.is(first.status, 200);
  t.is(second.status, 200);
  t.deepEqual(Object.keys(first.body), ['key']);
  t.regex(first.body.key ?? '', /^[0-9a-f]{40}$/);
  t.regex(second.body.key ?? '', /^[0-9a-f]{40}$/);
  t.not(first.body.key, second.body.key);
  t.not(first.body.key, user.key);
  // The registration token and both login tokens are stored, hashed.
  t.is(await Token.countDocuments({ user: user.id }), 3);
  t.truthy(await Token.findById(sha256(second.body.key ?? '')).lean());
  for (const key of [user.key, first.body.key, second.body.key]) {
    t.is((await app.get('/api/v0/profile', { token: key })).status, 200);
  }
});

test('POST /api/v0/auth/login -> 200 and records last_login', async (t) => {
  const user = await registerUser(app);
  const before = (await findUser(user.username))?.last_login?.getTime() ?? 0;
  await new Promise((resolve) => setTimeout(resolve, 20));
  await login(app, user);
  const after = (await findUser(user.username))?.last_login?.getTime() ?? 0;
  t.true(after > before);
});

test('POST /api/v0/auth/login wrong password -> 400 non_field_errors', async (t) => {
  const user = await registerUser(app);
  const res = await attempt(user.username, `${user.password}x`);
  t.is(res.status, 400);
  t.deepEqual(res.body, BAD_CREDENTIALS);
  t.is(await Token.countDocuments({ user: user.id }), 1, 'no token issued');
});

test('POST /api/v0/auth/login unknown user -> 400 with the same body as a wrong password', async (t) => {
  const user = await registerUser(app);
  const unknown = await attempt(newUserData().username, user.password);
  const wrong = await attempt(user.username, `${user.password}x`);
  t.is(unknown.status, 400);
  t.is(wrong.status, 400);
  t.deepEqual(unknown.body, wrong.body);
  t.is(unknown.text, wrong.text);
  t.deepEqual(unknown.body, BAD_CREDENTIALS);
});

// Serial: ava runs serial tests before the concurrent ones, so no other test competes for the hash pool.
test.serial(
  'POST /api/v0/auth/login unknown user costs a password check like a wrong password',
  async (t) => {
    const user = await registerUser(app);
    const time = async (username: string): Promise<number> => {
      const started = performance.now();
      const res = await attempt(username, `${user.password}x`);
      t.is(res.status, 400);
      return performance.now() - started;
    };
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    // Three of each stays under the throttle's four failures per (address, username).
    const wrong: number[] = [];
    const unknown: number[] = [];
    const stranger = newUserData().username;
    for (let i = 0; i < 3; i++) {
      wrong.push(await time(user.username));
      unknown.push(await time(stranger));
    }
    t.true(median(unknown) > median(wrong) / 4, `unknown ${median(unknown)} ms vs wrong ${median(wrong)} ms`);
  },
);

test('POST /api/v0/auth/login disabled user with the right password -> 400 non_field_errors', async (t) => {
  const user = await registerUser(app);
  await User.updateOne({ id: user.id }, { $set: { is_active: false } });
  const res = await attempt(user.username, user.password);
  t.is(res.status, 400);
  t.deepEqual(res.body, BAD_CREDENTIALS);
});

test('POST /api/v0/auth/login without fields -> 400 listing both', async (t) => {
  const res = await app.post(LOGIN, {});
  t.is(res.status, 400);
  t.deepEqual(res.body, { username: ['This field is required.'], password: ['This field is required.'] });
});

test('POST /api/v0/auth/login without password -> 400 password', async (t) => {
  const user = await registerUser(app);
  const res = await app.post(LOGIN, { username: user.username });
  t.is(res.status, 400);
  t.deepEqual(res.body, { password: ['This field is required.'] });
});

test('POST /api/v0/auth/login wrong password 4 times -> 400, the 5th -> 429, then the right password -> 429', async (t) => {
  const user = await registerUser(app);
  for (let i = 1; i <= 4; i++) {
    const res = await attempt(user.username, `wrong-${i}`);
    t.is(res.status, 400, `attempt ${i}`);
    t.deepEqual(res.body, BAD_CREDENTIALS);
  }
  const fifth = await attempt(user.username, 'wrong-5');
  t.is(fifth.status, 429);
  t.deepEqual(fifth.body, THROTTLED);
  const retryAfter = Number(fifth.headers.get('retry-after'));
  t.true(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);

  const right = await attempt(user.username, user.password);
  t.is(right.status, 429);
  t.deepEqual(right.body, THROTTLED);
  t.is(await Token.countDocuments({ user: user.id }), 1, 'no token issued while throttled');
});

test('POST /api/v0/auth/login success resets the failure count', async (t) => {
  const user = await registerUser(app);
  for (let i = 1; i <= 4; i++) t.is((await attempt(user.username, `wrong-${i}`)).status, 400);
  t.is((await attempt(user.username, user.password)).status, 200);
  for (let i = 1; i <= 4; i++) t.is((await attempt(user.username, `again-${i}`)).status, 400, `attempt ${i}`);
  t.is((await attempt(user.username, 'again-5')).status, 429);
});

test('POST /api/v0/auth/login throttled username does not throttle another username from the same address', async (t) => {
  const victim = await registerUser(app);
  const other = await registerUser(app);
  for (let i = 1; i <= 5; i++) await attempt(victim.username, `wrong-${i}`);
  t.is((await attempt(victim.username, victim.password)).status, 429);
  const res = await attempt(other.username, other.password);
  t.is(res.status, 200);
  t.regex(res.body.key ?? '', /^[0-9a-f]{40}$/);
});

test('POST /api/v0/auth/login throttle counts the username case-insensitively', async (t) => {
  const user = await registerUser(app);
  for (let i = 1; i <= 4; i++) t.is((await attempt(user.username, `wrong-${i}`)).status, 400);
  const res = await attempt(user.username.toUpperCase(), 'wrong-5');
  t.is(res.status, 429);
});

test('POST /api/v0/auth/logout -> 200 and the token is revoked (next request 401)', async (t) => {
  const user = await registerUser(app);
  const res = await app.post(LOGOUT, undefined, { token: user.key });
  t.is(res.status, 200);
  t.deepEqual(res.body, { success: 'Successfully logged out.', detail: 'Successfully logged out.' });
  t.is(await Token.countDocuments({ _id: sha256(user.key) }), 0);

  const after = await app.get('/api/v0/profile', { token: user.key });
  t.is(after.status, 401);
  t.deepEqual(after.body, INVALID_TOKEN);
  const again = await app.post(LOGOUT, undefined, { token: user.key });
  t.is(again.status, 401);
});

test('POST /api/v0/auth/logout revokes only the presented token', async (t) => {
  const user = await registerUser(app);
  const other = await login(app, user);
  t.is((await app.post(LOGOUT, undefined, { token: user.key })).status, 200);
  t.is((await app.get('/api/v0/profile', { token: other })).status, 200);
  t.is(await Token.countDocuments({ user: user.id }), 1);
});

test('POST /api/v0/auth/logout without credentials -> 401 detail', async (t) => {
  const res = await app.post(LOGOUT);
  t.is(res.status, 401);
  t.deepEqual(res.body, NO_CREDENTIALS);
  t.truthy(res.headers.get('www-authenticate'));
});

test('POST /api/v0/auth/logout with an unknown token -> 401 detail', async (t) => {
  const res = await app.post(LOGOUT, undefined, { token: randomTokenKey() });
  t.is(res.status, 401);
  t.deepEqual(res.body, INVALID_TOKEN);
  t.regex(res.headers.get('www-authenticate') ?? '', /^Token/i);
});

for (const scheme of ['token', 'TOKEN', 'ToKeN']) {
  test(`GET /api/v0/profile with "Authorization: ${scheme} <key>" -> 200 (scheme case-insensitive)`, async (t) => {
    const user = await registerUser(app);
    const res = await app.get('/api/v0/profile', { headers: { Authorization: `${scheme} ${user.key}` } });
    t.is(res.status, 200);
    t.is(res.body.used_storage, 0);
  });
}

for (const [what, header] of [
  ['Bearer scheme', (key: string) => `Bearer ${key}`],
  ['no key', () => 'Token'],
  ['two keys', (key: string) => `Token ${key} ${key}`],
  ['a malformed key', () => 'Token not-a-key'],
  ['a revoked-looking random key', () => `Token ${randomTokenKey()}`],
  ['Basic credentials', () => `Basic ${Buffer.from('a:b').toString('base64')}`],
] as const) {
  test(`GET /api/v0/profile with ${what} -> 401 detail`, async (t) => {
    const user = await registerUser(app);
    const res = await app.get('/api/v0/profile', { headers: { Authorization: header(user.key) } });
    t.is(res.status, 401);
    t.deepEqual(Object.keys(res.body), ['detail']);
    t.is(typeof res.body.detail, 'string');
  });
}

test('GET /api/v0/profile without credentials -> 401 detail with WWW-Authenticate', async (t) => {
  const res = await app.get('/api/v0/profile');
  t.is(res.status, 401);
  t.deepEqual(res.body, NO_CREDENTIALS);
  t.regex(res.headers.get('www-authenticate') ?? '', /^Token/i);
});

test('GET /api/v0/profile with the token of a disabled user -> 401', async (t) => {
  const user = await registerUser(app);
  await User.updateOne({ id: user.id }, { $set: { is_active: false } });
  const res = await app.get('/api/v0/profile', { token: user.key });
  t.is(res.status, 401);
  t.deepEqual(res.body, INVALID_TOKEN);
});

test('GET /api/v0/auth/login -> 405', async (t) => {
  const res = await app.get(LOGIN);
  t.is(res.status, 405);
  t.true(res.json);
  t.regex(res.headers.get('allow') ?? '', /POST/);
});

test('POST /api/v0/auth/logout on one web process -> the token is refused by another at once', async (t) => {
  const other = await startApp();
  const user = await registerUser(app);
  t.is((await other.get('/api/v0/profile', { token: user.key })).status, 200);
  t.is((await app.post(LOGOUT, undefined, { token: user.key })).status, 200);
  const res = await other.get('/api/v0/profile', { token: user.key });
  t.is(res.status, 401);
  t.deepEqual(res.body, INVALID_TOKEN);
});

test('POST /api/v0/auth/login failures on one web process count on another (throttle kept in Redis)', async (t) => {
  const other = await startApp();
  const user = await registerUser(app);
  for (let i = 1; i <= 2; i++) t.is((await attempt(user.username, `wrong-${i}`)).status, 400);
  for (let i = 3; i <= 4; i++) {
    const res = await other.post(LOGIN, { username: user.username, password: `wrong-${i}` });
    t.is(res.status, 400);
  }
  const fifth = await other.post(LOGIN, { username: user.username, password: 'wrong-5' });
  t.is(fifth.status, 429);
  t.is((await attempt(user.username, user.password)).status, 429);
});

test('GET /api/v0/profile records last_used_at on the token at most every few minutes', async (t) => {
  const user = await registerUser(app);
  const id = sha256(user.key);
  const issued = (await Token.findById(id).lean())?.last_used_at?.getTime() ?? 0;
  t.is((await app.get('/api/v0/profile', { token: user.key })).status, 200);
  t.is((await Token.findById(id).lean())?.last_used_at?.getTime(), issued, 'a fresh token is not rewritten');

  const longAgo = new Date(Date.now() - 60 * 60_000);
  await Token.updateOne({ _id: id }, { $set: { last_used_at: longAgo } });
  t.is((await app.get('/api/v0/profile', { token: user.key })).status, 200);
  const touched = await eventually(async () => {
    const at = (await Token.findById(id).lean())?.last_used_at?.getTime() ?? 0;
    return at > longAgo.getTime() ? at : undefined;
  });
  t.true(Date.now() - touched < 60_000);
});
