import { linkPath, mailbox } from '../helpers/env.js';
import test from 'ava';
import { config } from '../../src/config.js';
import { Mail } from '../../src/models/mail.js';
import { Token } from '../../src/models/token.js';
import { User } from '../../src/models/user.js';
import { makeResetToken } from '../../src/services/password-reset.js';
import {
  eventually,
  findUser,
  login,
  newUserData,
  registerUser,
  startApp,
  startWorker,
  teardown,
  type TestApp,
  type TestUser,
} from '../helpers/harness.js';

type Errors = Record<string, string[] | undefined>;

const RESET = '/api/v0/auth/password/reset';
const CONFIRM = '/api/v0/auth/password/reset/confirm';
const SENT = {
  success: 'Password reset e-mail has been sent.',
  detail: 'Password reset e-mail has been sent.',
};
const REQUIRED = 'This field is required.';

let app: TestApp;
test.before(async () => {
  app = await startApp();
  await startWorker(['mail']);
});
test.after.always(teardown);

interface ResetLink {
  link: string;
  uid: string;
  token: string;
}

/** Requests a reset for `email` and returns the link from the mail the user receives. */
async function requestReset(user: TestUser, email = user.email): Promise<ResetLink> {
  const res = await app.post(RESET, { email });
  if (res.status !== 200) throw new Error(`reset request failed: ${res.status} ${res.text}`);
  const mail = await mailbox.waitFor(
    (m) => m.to.includes(user.email.toLowerCase()) && m.subject === 'Password reset',
  );
  const link = mail.links.find((l) => l.includes('/accounts/reset/')) ?? '';
  const [, uid = '', token = ''] =
    /\/accounts\/reset\/([^/]+)\/([^/]+)\/$/.exec(new URL(link).pathname) ?? [];
  return { link, uid, token };
}

const newPassword = () => newUserData().password;

const confirm = (uid: string, token: string, password1: string, password2 = password1) =>
  app.post<Errors>(CONFIRM, { uid, token, new_password1: password1, new_password2: password2 });

test('POST /api/v0/auth/password/reset for a known email (other case) -> 200 and the mail goes to the user', async (t) => {
  const user = await registerUser(app);
  const res = await app.post(RESET, { email: user.email.toUpperCase() });
  t.is(res.status, 200);
  t.deepEqual(res.body, SENT);
  const mail = await mailbox.waitFor(
    (m) => m.to.includes(user.email.toLowerCase()) && m.subject === 'Password reset',
  );
  const link = mail.links.find((l) => l.includes('/accounts/reset/')) ?? '';
  t.true(link.startsWith(`${config.PUBLIC_URL}/accounts/reset/`), link);
  t.regex(new URL(link).pathname, /^\/accounts\/reset\/[A-Za-z0-9_-]+\/[0-9a-z]+-[0-9a-f]+\/$/);
  t.true(mail.html.includes(link));
  t.true(mail.text.includes(user.username));
  const row = await eventually(() =>
    Mail.findOne({ to: user.email, template: 'password-reset', status: 'sent' }).lean(),
  );
  t.is(row.attempts, 1);
});

test('POST /api/v0/auth/password/reset for an unknown email -> 200 with the same body and no mail', async (t) => {
  const known = await registerUser(app);
  const stranger = newUserData().email;
  const unknownRes = await app.post(RESET, { email: stranger });
  const knownRes = await app.post(RESET, { email: known.email });
  t.is(unknownRes.status, 200);
  t.is(knownRes.status, 200);
  t.is(unknownRes.text, knownRes.text);
  t.deepEqual(unknownRes.body, SENT);
  // Once the known user's mail has gone through, nothing went to the unknown address.
  await mailbox.waitForTo(known.email);
  t.is(await Mail.countDocuments({ to: { $regex: `^${stranger}$`, $options: 'i' } }), 0);
  t.is(mailbox.to(stranger).length, 0);
});

test('POST /api/v0/auth/password/reset for a disabled user -> 200 and no mail', async (t) => {
  const user = await registerUser(app);
  await User.updateOne({ id: user.id }, { $set: { is_active: false } });
  const res = await app.post(RESET, { email: user.email });
  t.is(res.status, 200);
  t.deepEqual(res.body, SENT);
  t.is(await Mail.countDocuments({ to: user.email, template: 'password-reset' }), 0);
});

test('POST /api/v0/auth/password/reset without email -> 400 email', async (t) => {
  const res = await app.post(RESET, {});
  t.is(res.status, 400);
  t.deepEqual(res.body, { email: [REQUIRED] });
});

test('POST /api/v0/auth/password/reset with an invalid email -> 400 email', async (t) => {
  const res = await app.post(RESET, { email: 'not-an-address' });
  t.is(res.status, 400);
  t.deepEqual(res.body, { email: ['Enter a valid email address.'] });
});

test('POST /api/v0/auth/password/reset/confirm with the mailed uid/token -> 200, new password works, every token revoked', async (t) => {
  const user = await registerUser(app);
  const second = await login(app, user);
  const { uid, token } = await requestReset(user);
  const password = newPassword();
  const res = await confirm(uid, token, password);
  t.is(res.status, 200);
  t.deepEqual(res.body, { success: 'New password has been saved.', detail: 'New password has been saved.' });

  t.is(await Token.countDocuments({ user: user.id }), 0, 'every token of the user is revoked');
  for (const key of [user.key, second]) {
    const r = await app.get('/api/v0/profile', { token: key });
    t.is(r.status, 401);
    t.deepEqual(r.body, { detail: 'Invalid token.' });
  }
  const old = await app.post('/api/v0/auth/login', { username: user.username, password: user.password });
  t.is(old.status, 400);
  t.regex(await login(app, { username: user.username, password }), /^[0-9a-f]{40}$/);
});

test('POST /api/v0/auth/password/reset/confirm twice with the same token -> 200 then 400 token', async (t) => {
  const user = await registerUser(app);
  const { uid, token } = await requestReset(user);
  t.is((await confirm(uid, token, newPassword())).status, 200);
  const again = await confirm(uid, token, newPassword());
  t.is(again.status, 400);
  t.deepEqual(Object.keys(again.body), ['token']);
});

test('POST /api/v0/auth/password/reset/confirm with mismatching passwords -> 400 new_password2 and the token stays usable', async (t) => {
  const user = await registerUser(app);
  const { uid, token } = await requestReset(user);
  const before = (await findUser(user.username))?.password;
  const res = await confirm(uid, token, newPassword(), newPassword());
  t.is(res.status, 400);
  t.deepEqual(res.body, { new_password2: ["The two password fields didn't match."] });
  t.is((await findUser(user.username))?.password, before, 'password unchanged');
  t.is((await app.get('/api/v0/profile', { token: user.key })).status, 200, 'tokens not revoked');

  const password = newPassword();
  t.is((await confirm(uid, token, password)).status, 200);
  t.regex(await login(app, { username: user.username, password }), /^[0-9a-f]{40}$/);
});

test('POST /api/v0/auth/password/reset/confirm with a weak password -> 400 new_password2 and the token stays usable', async (t) => {
  const user = await registerUser(app);
  const { uid, token } = await requestReset(user);
  for (const weak of ['short', '12345678901', 'iloveyou', `${user.username}9`]) {
    const res = await confirm(uid, token, weak);
    t.is(res.status, 400, weak);
    t.deepEqual(Object.keys(res.body), ['new_password2'], weak);
  }
  t.is((await confirm(uid, token, newPassword())).status, 200);
});

test('POST /api/v0/auth/password/reset/confirm after a login -> 400 token', async (t) => {
  const user = await registerUser(app);
  const { uid, token } = await requestReset(user);
  await new Promise((resolve) => setTimeout(resolve, 5));
  await login(app, user);
  const res = await confirm(uid, token, newPassword());
  t.is(res.status, 400);
  t.deepEqual(Object.keys(res.body), ['token']);
  t.regex(await login(app, user), /^[0-9a-f]{40}$/, 'the old password still works');
});

test('POST /api/v0/auth/password/reset/confirm after a password change -> 400 token', async (t) => {
  const user = await registerUser(app);
  const { uid, token } = await requestReset(user);
  const changed = newPassword();
  const change = await app.post(
    '/api/v0/auth/password/change',
    { old_password: user.password, new_password1: changed, new_password2: changed },
    { token: user.key },
  );
  t.is(change.status, 200);
  const res = await confirm(uid, token, newPassword());
  t.is(res.status, 400);
  t.deepEqual(Object.keys(res.body), ['token']);
});

test('POST /api/v0/auth/password/reset/confirm with an expired token (over 3 days) -> 400 token', async (t) => {
  const user = await registerUser(app);
  const stored = await findUser(user.username);
  if (!stored) return t.fail('user not stored');
  const { uid, token } = makeResetToken(stored, Date.now() - 3 * 24 * 3600_000 - 60_000);
  const res = await confirm(uid, token, newPassword());
  t.is(res.status, 400);
  t.deepEqual(Object.keys(res.body), ['token']);
});

test('POST /api/v0/auth/password/reset/confirm with a 2-day-old token -> 200', async (t) => {
  const user = await registerUser(app);
  const stored = await findUser(user.username);
  if (!stored) return t.fail('user not stored');
  const { uid, token } = makeResetToken(stored, Date.now() - 2 * 24 * 3600_000);
  t.is((await confirm(uid, token, newPassword())).status, 200);
});

test('POST /api/v0/auth/password/reset/confirm with a tampered token -> 400 token', async (t) => {
  const user = await registerUser(app);
  const { uid, token } = await requestReset(user);
  const tampered = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0');
  for (const bad of [tampered, 'garbage', `${token}-x`, '']) {
    const res = await confirm(uid, bad, newPassword());
    t.is(res.status, 400, bad);
    t.truthy(res.body.token, bad);
  }
  t.is((await confirm(uid, token, newPassword())).status, 200, 'the real token still works');
});

test("POST /api/v0/auth/password/reset/confirm with another user's uid -> 400 token", async (t) => {
  const a = await registerUser(app);
  const b = await registerUser(app);
  const { token } = await requestReset(a);
  const uidB = Buffer.from(String(b.id)).toString('base64url');
  const res = await confirm(uidB, token, newPassword());
  t.is(res.status, 400);
  t.deepEqual(Object.keys(res.body), ['token']);
});

test('POST /api/v0/auth/password/reset/confirm with an invalid uid -> 400 uid', async (t) => {
  const user = await registerUser(app);
  const { token } = await requestReset(user);
  for (const uid of [
    '!!!',
    Buffer.from('abc').toString('base64url'),
    Buffer.from('999999999').toString('base64url'),
  ]) {
    const res = await confirm(uid, token, newPassword());
    t.is(res.status, 400, uid);
    t.truthy(res.body.uid, uid);
  }
});

test('POST /api/v0/auth/password/reset/confirm without fields -> 400 listing every missing field at once', async (t) => {
  const res = await app.post(CONFIRM, {});
  t.is(res.status, 400);
  t.deepEqual(res.body, {
    uid: [REQUIRED],
    token: [REQUIRED],
    new_password1: [REQUIRED],
    new_password2: [REQUIRED],
  });
});

test('GET the reset link from the mail -> 200 HTML form carrying uid and token', async (t) => {
  const user = await registerUser(app);
  const { link, uid, token } = await requestReset(user);
  const res = await app.get(linkPath(link));
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /^text\/html/);
  t.regex(res.text, /<form/);
  t.true(res.text.includes(`value="${uid}"`));
  t.true(res.text.includes(`value="${token}"`));
  t.regex(res.text, /name="new_password1"/);
  t.regex(res.text, /name="new_password2"/);
  // Showing the form changes nothing.
  t.is((await confirm(uid, token, newPassword())).status, 200);
});
