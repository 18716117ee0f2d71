import '../helpers/env.js';
import test from 'ava';
import { sha256 } from '../../src/lib/crypto.js';
import { Token } from '../../src/models/token.js';
import {
  findUser,
  login,
  newUserData,
  randomTokenKey,
  registerUser,
  startApp,
  teardown,
  type TestApp,
  type TestUser,
} from '../helpers/harness.js';

type Errors = Record<string, string[] | undefined>;

const CHANGE = '/api/v0/auth/password/change';
const SAVED = { success: 'New password has been saved.', detail: 'New password has been saved.' };
const WRONG_OLD = 'Your old password was entered incorrectly. Please enter it again.';
const MISMATCH = "The two password fields didn't match.";
const REQUIRED = 'This field is required.';

let app: TestApp;
test.before(async () => {
  app = await startApp();
});
test.after.always(teardown);

const change = (user: TestUser, body: Record<string, unknown>, token = user.key) =>
  app.post<Errors>(CHANGE, body, { token });

test('POST /api/v0/auth/password/change -> 200, the new password works and the old one does not', async (t) => {
  const user = await registerUser(app);
  const before = (await findUser(user.username))?.password;
  const password = newUserData().password;
  const res = await change(user, {
    old_password: user.password,
    new_password1: password,
    new_password2: password,
  });
  t.is(res.status, 200);
  t.deepEqual(res.body, SAVED);
  t.not((await findUser(user.username))?.password, before);
  t.regex(await login(app, { username: user.username, password }), /^[0-9a-f]{40}$/);
  const old = await app.post('/api/v0/auth/login', { username: user.username, password: user.password });
  t.is(old.status, 400);
});

test('POST /api/v0/auth/password/change -> the calling token keeps working, every other token is revoked', async (t) => {
  const user = await registerUser(app);
  const other = await login(app, user);
  const third = await login(app, user);
  const password = newUserData().password;
  const res = await change(
    user,
    { old_password: user.password, new_password1: password, new_password2: password },
    other,
  );
  t.is(res.status, 200);
  t.is((await app.get('/api/v0/profile', { token: other })).status, 200, 'the caller stays logged in');
  for (const key of [user.key, third]) {
    const r = await app.get('/api/v0/profile', { token: key });
    t.is(r.status, 401);
    t.deepEqual(r.body, { detail: 'Invalid token.' });
  }
  const left = await Token.find({ user: user.id }).lean();
  t.deepEqual(
    left.map((tok) => tok._id),
    [sha256(other)],
  );
});

test('POST /api/v0/auth/password/change with a wrong old password -> 400 old_password and nothing changed', async (t) => {
  const user = await registerUser(app);
  const other = await login(app, user);
  const before = (await findUser(user.username))?.password;
  const password = newUserData().password;
  const res = await change(user, {
    old_password: `${user.password}x`,
    new_password1: password,
    new_password2: password,
  });
  t.is(res.status, 400);
  t.deepEqual(res.body, { old_password: [WRONG_OLD] });
  t.is((await findUser(user.username))?.password, before);
  t.is((await app.get('/api/v0/profile', { token: other })).status, 200, 'no token revoked');
});

test('POST /api/v0/auth/password/change with mismatching new passwords -> 400 new_password2', async (t) => {
  const user = await registerUser(app);
  const before = (await findUser(user.username))?.password;
  const res = await change(user, {
    old_password: user.password,
    new_password1: newUserData().password,
    new_password2: newUserData().password,
  });
  t.is(res.status, 400);
  t.deepEqual(res.body, { new_password2: [MISMATCH] });
  t.is((await findUser(user.username))?.password, before);
});

for (const [what, password, expected] of [
  ['short', (_u: TestUser) => 'Xy7#q', /too short/],
  ['entirely numeric', (_u: TestUser) => '90817263544', /entirely numeric/],
  ['common', (_u: TestUser) => 'sunshine', /too common/],
  ['similar to the username', (u: TestUser) => `${u.username}7`, /too similar to the username/],
] as const) {
  test(`POST /api/v0/auth/password/change with a ${what} password -> 400 new_password2`, async (t) => {
    const user = await registerUser(app);
    const p = password(user);
    const res = await change(user, { old_password: user.password, new_password1: p, new_password2: p });
    t.is(res.status, 400);
    t.deepEqual(Object.keys(res.body), ['new_password2']);
    t.true(
      res.body.new_password2?.some((m) => expected.test(m)),
      JSON.stringify(res.body),
    );
    t.regex(await login(app, user), /^[0-9a-f]{40}$/, 'the old password still works');
  });
}

test('POST /api/v0/auth/password/change with a wrong old password and a mismatch -> 400 both fields', async (t) => {
  const user = await registerUser(app);
  const res = await change(user, {
    old_password: 'nope',
    new_password1: 'a-new-Pw-1',
    new_password2: 'other-Pw-2',
  });
  t.is(res.status, 400);
  t.deepEqual(res.body, { old_password: [WRONG_OLD], new_password2: [MISMATCH] });
});

test('POST /api/v0/auth/password/change without fields -> 400 listing every field', async (t) => {
  const user = await registerUser(app);
  const res = await change(user, {});
  t.is(res.status, 400);
  t.deepEqual(res.body, {
    old_password: [REQUIRED],
    new_password1: [REQUIRED],
    new_password2: [REQUIRED],
  });
});

test('POST /api/v0/auth/password/change without a token -> 401', async (t) => {
  const res = await app.post(CHANGE, { old_password: 'x', new_password1: 'y', new_password2: 'y' });
  t.is(res.status, 401);
  t.deepEqual(res.body, { detail: 'Authentication credentials were not provided.' });
});

test('POST /api/v0/auth/password/change with an unknown token -> 401', async (t) => {
  const res = await app.post(
    CHANGE,
    { old_password: 'x', new_password1: 'y', new_password2: 'y' },
    { token: randomTokenKey() },
  );
  t.is(res.status, 401);
  t.deepEqual(res.body, { detail: 'Invalid token.' });
});
