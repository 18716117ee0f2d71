import '../helpers/env.js';
import test from 'ava';
import { sha256 } from '../../src/lib/crypto.js';
import { Mail } from '../../src/models/mail.js';
import { Token } from '../../src/models/token.js';
import { User } from '../../src/models/user.js';
import {
  findUser,
  newUserData,
  registerUser,
  startApp,
  teardown,
  unique,
  type TestApp,
  type UserData,
} from '../helpers/harness.js';

type Errors = Record<string, string[] | undefined>;

const PATH = '/api/v0/auth/registration';
const TAKEN_USERNAME = 'A user with that username already exists.';
const TAKEN_EMAIL = 'A user is already registered with this e-mail address.';
const INVALID_USERNAME =
  'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.';
const REQUIRED = 'This field is required.';
const MISMATCH = "The two password fields didn't match.";

let app: TestApp;
test.before(async () => {
  app = await startApp();
});
test.after.always(teardown);

const body = (d: UserData, password2 = d.password) => ({
  username: d.username,
  email: d.email,
  password1: d.password,
  password2,
});

const register = (payload: Record<string, unknown>) => app.post<Errors & { key?: string }>(PATH, payload);

test('POST /api/v0/auth/registration -> 201 with a 40-hex key, user stored unverified, token stored hashed', async (t) => {
  const data = newUserData();
  const res = await register(body(data));
  t.is(res.status, 201);
  t.deepEqual(Object.keys(res.body), ['key']);
  const key = res.body.key ?? '';
  t.regex(key, /^[0-9a-f]{40}$/);

  const user = await findUser(data.username);
  t.truthy(user);
  t.is(user?.username, data.username);
  t.is(user?.email, data.email);
  t.false(user?.email_verified);
  t.true(user?.is_active);
  t.true(Number.isInteger(user?.id));
  t.regex(user?.password ?? '', /^\$(argon2id|scrypt)/, 'the password is stored hashed');
  t.false(user?.password.includes(data.password));

  t.truthy(await Token.findById(sha256(key)).lean(), 'the token is stored as its sha256');
  t.is(await Token.countDocuments({ _id: key }), 0, 'the key itself is never stored');
  t.is(await Token.countDocuments({ user: user?.id }), 1);

  const mail = await Mail.findOne({ to: data.email, template: 'verify-email' }).lean();
  t.truthy(mail, 'the verification mail is queued in the outbox');
});

test('POST /api/v0/auth/registration -> the key works as a Token for the new user', async (t) => {
  const user = await registerUser(app);
  const res = await app.get('/api/v0/auth/user', { token: user.key });
  t.is(res.status, 200);
  t.like(res.body, { username: user.username, email: user.email, email_verified: false });
});

test('POST /api/v0/auth/registration users get distinct increasing ids', async (t) => {
  const a = await registerUser(app);
  const b = await registerUser(app);
  t.not(a.id, b.id);
  t.true(a.id > 0 && b.id > 0);
});

test('POST /api/v0/auth/registration with an empty body -> 400 listing every field at once', async (t) => {
  const res = await register({});
  t.is(res.status, 400);
  t.deepEqual(res.body, {
    username: [REQUIRED],
    email: [REQUIRED],
    password1: [REQUIRED],
    password2: [REQUIRED],
  });
});

test('POST /api/v0/auth/registration without username -> 400 username', async (t) => {
  const data = newUserData();
  const rest: Record<string, string> = body(data);
  delete rest.username;
  const res = await register(rest);
  t.is(res.status, 400);
  t.deepEqual(res.body, { username: [REQUIRED] });
  t.is(await User.countDocuments({ email_lower: data.email.toLowerCase() }), 0);
});

test('POST /api/v0/auth/registration with a blank username -> 400 username', async (t) => {
  const res = await register(body(newUserData({ username: '' })));
  t.is(res.status, 400);
  t.deepEqual(Object.keys(res.body), ['username']);
  t.true((res.body.username?.length ?? 0) > 0);
});

test('POST /api/v0/auth/registration with a taken username (other case) -> 400 username', async (t) => {
  const first = await registerUser(app);
  const data = newUserData({ username: first.username.toUpperCase() });
  const res = await register(body(data));
  t.is(res.status, 400);
  t.deepEqual(res.body, { username: [TAKEN_USERNAME] });
  t.is(await User.countDocuments({ username_lower: first.username.toLowerCase() }), 1);
  t.is(await User.countDocuments({ email_lower: data.email.toLowerCase() }), 0);
});

for (const [what, username] of [
  ['a space', 'bad name'],
  ['an exclamation mark', 'bad!name'],
  ['a slash', 'bad/name'],
  ['a non-ASCII letter but a forbidden sign', 'bäd#name'],
] as const) {
  test(`POST /api/v0/auth/registration with a username containing ${what} -> 400 username`, async (t) => {
    const data = newUserData({ username: `${username}${unique('')}` });
    const res = await register(body(data));
    t.is(res.status, 400);
    t.deepEqual(res.body, { username: [INVALID_USERNAME] });
    t.is(await User.countDocuments({ email_lower: data.email.toLowerCase() }), 0);
  });
}

test('POST /api/v0/auth/registration with a 151-character username -> 400 username', async (t) => {
  const username = unique('x').padEnd(151, 'y');
  const res = await register(body(newUserData({ username })));
  t.is(res.status, 400);
  t.deepEqual(Object.keys(res.body), ['username']);
  t.true((res.body.username?.length ?? 0) > 0);
  t.is(await User.countDocuments({ username_lower: username.toLowerCase() }), 0);
});

test('POST /api/v0/auth/registration with a 150-character username of every allowed sign -> 201', async (t) => {
  const username = `${unique('a')}.@+-_`.padEnd(150, 'z');
  const data = newUserData({ username, email: `${unique('e')}@example.com` });
  const res = await register(body(data));
  t.is(res.status, 201);
  t.is((await findUser(username))?.username, username);
});

test('POST /api/v0/auth/registration without email -> 400 email', async (t) => {
  const rest: Record<string, string> = body(newUserData());
  delete rest.email;
  const res = await register(rest);
  t.is(res.status, 400);
  t.deepEqual(res.body, { email: [REQUIRED] });
});

for (const email of ['not-an-email', 'a@', '@example.com', 'two@@example.com', 'spaces in@example.com']) {
  test(`POST /api/v0/auth/registration with invalid email "${email}" -> 400 email`, async (t) => {
    const data = newUserData({ email });
    const res = await register(body(data));
    t.is(res.status, 400);
    t.deepEqual(res.body, { email: ['Enter a valid email address.'] });
    t.is(await User.countDocuments({ username_lower: data.username.toLowerCase() }), 0);
  });
}

test('POST /api/v0/auth/registration with a taken email (other case) -> 400 email', async (t) => {
  const first = await registerUser(app);
  const data = newUserData({ email: first.email.toUpperCase() });
  const res = await register(body(data));
  t.is(res.status, 400);
  t.deepEqual(res.body, { email: [TAKEN_EMAIL] });
  t.is(await User.countDocuments({ email_lower: first.email.toLowerCase() }), 1);
});

test('POST /api/v0/auth/registration without password1 and password2 -> 400 both', async (t) => {
  const data = newUserData();
  const res = await register({ username: data.username, email: data.email });
  t.is(res.status, 400);
  t.deepEqual(res.body, { password1: [REQUIRED], password2: [REQUIRED] });
});

test('POST /api/v0/auth/registration with mismatching passwords -> 400 non_field_errors', async (t) => {
  const data = newUserData();
  const res = await register(body(data, `${data.password}x`));
  t.is(res.status, 400);
  t.deepEqual(res.body, { non_field_errors: [MISMATCH] });
  t.is(await User.countDocuments({ username_lower: data.username.toLowerCase() }), 0);
});

const policyCases: [string, (d: UserData) => string, RegExp][] = [
  ['short', () => 'Xq7#vb', /too short/],
  ['entirely numeric', () => '48213957604812', /entirely numeric/],
  ['common', () => 'iloveyou', /too common/],
  ['common in another case', () => 'TRUSTNO1', /too common/],
  ['similar to the username', (d) => `${d.username}1`, /too similar to the username/],
  [
    'similar to the email address',
    (d) => {
      d.email = `${unique('mailbox')}@example.com`;
      return `${d.email.split('@')[0]}#9`;
    },
    /too similar to the email address/,
  ],
];
for (const [what, password, expected] of policyCases) {
  test(`POST /api/v0/auth/registration with a ${what} password -> 400 password1`, async (t) => {
    const data = newUserData();
    data.password = password(data);
    const res = await register(body(data));
    t.is(res.status, 400);
    t.deepEqual(Object.keys(res.body), ['password1']);
    t.true(
      res.body.password1?.some((m) => expected.test(m)),
      JSON.stringify(res.body),
    );
    t.is(await User.countDocuments({ username_lower: data.username.toLowerCase() }), 0);
  });
}

test('POST /api/v0/auth/registration with a short numeric password -> 400 password1 with both problems', async (t) => {
  const data = newUserData();
  data.password = '4821';
  const res = await register(body(data));
  t.is(res.status, 400);
  const messages = res.body.password1 ?? [];
  t.true(messages.some((m) => /too short/.test(m)));
  t.true(messages.some((m) => /entirely numeric/.test(m)));
});

test('POST /api/v0/auth/registration with taken username, taken email, weak and mismatching passwords -> 400 all at once', async (t) => {
  const first = await registerUser(app);
  const res = await register({
    username: first.username.toUpperCase(),
    email: first.email.toUpperCase(),
    password1: 'short',
    password2: 'other',
  });
  t.is(res.status, 400);
  t.deepEqual(res.body.username, [TAKEN_USERNAME]);
  t.deepEqual(res.body.email, [TAKEN_EMAIL]);
  t.true(res.body.password1?.some((m) => /too short/.test(m)));
  t.deepEqual(res.body.non_field_errors, [MISMATCH]);
});

test('POST /api/v0/auth/registration with an invalid username and an invalid email -> 400 both', async (t) => {
  const res = await register({ ...body(newUserData()), username: 'no spaces allowed', email: 'nope' });
  t.is(res.status, 400);
  t.deepEqual(res.body, { username: [INVALID_USERNAME], email: ['Enter a valid email address.'] });
});

test('POST /api/v0/auth/registration with an invalid email and a taken username -> 400 both', async (t) => {
  const first = await registerUser(app);
  const res = await register({ ...body(newUserData()), username: first.username, email: 'nope' });
  t.is(res.status, 400);
  t.deepEqual(res.body.email, ['Enter a valid email address.']);
  t.deepEqual(res.body.username, [TAKEN_USERNAME]);
});

test('POST /api/v0/auth/registration with non-string fields -> 400 per field', async (t) => {
  const res = await register({ username: 42, email: ['x@example.com'], password1: {}, password2: null });
  t.is(res.status, 400);
  t.deepEqual(Object.keys(res.body).sort(), ['email', 'password1', 'password2', 'username']);
});

test('POST /api/v0/auth/registration with a JSON array body -> 400 non_field_errors', async (t) => {
  const res = await app.post<Errors>(PATH, [1, 2]);
  t.is(res.status, 400);
  t.true((res.body.non_field_errors?.length ?? 0) > 0);
});

test('POST /api/v0/auth/registration the same user twice at once -> one 201, one 400', async (t) => {
  const data = newUserData();
  const results = await Promise.all([register(body(data)), register(body(data))]);
  const statuses = results.map((r) => r.status).sort();
  t.deepEqual(statuses, [201, 400]);
  t.is(await User.countDocuments({ username_lower: data.username.toLowerCase() }), 1);
});

test('GET /api/v0/auth/registration -> 405', async (t) => {
  const res = await app.get(PATH);
  t.is(res.status, 405);
  t.true(res.json);
});
