import { linkPath, mailbox, type ReceivedMail } from '../helpers/env.js';
import test from 'ava';
import { config } from '../../src/config.js';
import { sha256 } from '../../src/lib/crypto.js';
import { EmailVerification } from '../../src/models/email-verification.js';
import { Mail } from '../../src/models/mail.js';
import {
  eventually,
  findUser,
  registerUser,
  startApp,
  startWorker,
  teardown,
  type TestApp,
  type TestUser,
} from '../helpers/harness.js';

const VERIFY = '/api/v0/auth/registration/verify-email';
const OK = { detail: 'ok', message: 'ok' };

let app: TestApp;
test.before(async () => {
  app = await startApp();
  await startWorker(['mail']);
});
test.after.always(teardown);

/** Registers a user and waits for the verification mail to arrive over SMTP. */
async function registerAndReceive(): Promise<{
  user: TestUser;
  mail: ReceivedMail;
  link: string;
  key: string;
}> {
  const user = await registerUser(app);
  const mail = await mailbox.waitForTo(user.email);
  const link = mail.links.find((l) => l.includes('/account-confirm-email/')) ?? '';
  const key = /\/account-confirm-email\/([^/]+)\/$/.exec(new URL(link).pathname)?.[1] ?? '';
  return { user, mail, link, key };
}

test('POST /api/v0/auth/registration -> the verification mail arrives over SMTP with its link', async (t) => {
  const { user, mail, link, key } = await registerAndReceive();
  t.deepEqual(mail.to, [user.email.toLowerCase()]);
  t.regex(mail.from, new RegExp(config.MAIL_FROM.replace('.', '\\.')));
  t.is(mail.subject, 'Please confirm your email address');
  t.true(mail.text.includes(user.username));
  t.true(link.startsWith(`${config.PUBLIC_URL}/account-confirm-email/`), link);
  t.regex(key, /^[0-9a-zA-Z]{20,}$/);
  t.true(mail.html.includes(link), 'the HTML part carries the same link');

  const row = await eventually(() =>
    Mail.findOne({ to: user.email, template: 'verify-email', status: 'sent' }).lean(),
  );
  t.is(row.attempts, 1);
  t.truthy(row.message_id);
  t.truthy(row.sent_at);
  // Only the hash of the key is stored.
  t.truthy(await EmailVerification.findOne({ key_hash: sha256(key) }).lean());
  t.is(await EmailVerification.countDocuments({ key_hash: key }), 0);
});

test('POST /api/v0/auth/registration/verify-email with the mailed key -> 200 ok and email_verified', async (t) => {
  const { user, key } = await registerAndReceive();
  t.false((await findUser(user.username))?.email_verified);
  const res = await app.post(VERIFY, { key });
  t.is(res.status, 200);
  t.deepEqual(res.body, OK);
  t.true((await findUser(user.username))?.email_verified);
  const row = await EmailVerification.findOne({ key_hash: sha256(key) }).lean();
  t.truthy(row?.confirmed_at);
  const details = await app.get('/api/v0/auth/user', { token: user.key });
  t.is(details.body.email_verified, true);
});

test('POST /api/v0/auth/registration/verify-email twice with the same key -> 200 both times', async (t) => {
  const { user, key } = await registerAndReceive();
  const first = await app.post(VERIFY, { key });
  const second = await app.post(VERIFY, { key });
  t.is(first.status, 200);
  t.is(second.status, 200);
  t.deepEqual(second.body, OK);
  t.true((await findUser(user.username))?.email_verified);
});

test('POST /api/v0/auth/registration/verify-email with the key in upper case -> 200', async (t) => {
  const { user, key } = await registerAndReceive();
  const res = await app.post(VERIFY, { key: key.toUpperCase() });
  t.is(res.status, 200);
  t.true((await findUser(user.username))?.email_verified);
});

test('POST /api/v0/auth/registration/verify-email with an unknown key -> 404 detail', async (t) => {
  const res = await app.post(VERIFY, { key: 'f'.repeat(64) });
  t.is(res.status, 404);
  t.deepEqual(res.body, { detail: 'Not found.' });
});

test('POST /api/v0/auth/registration/verify-email with an expired key -> 404 and nothing verified', async (t) => {
  const { user, key } = await registerAndReceive();
  await EmailVerification.updateOne(
    { key_hash: sha256(key) },
    { $set: { expires_at: new Date(Date.now() - 1000) } },
  );
  const res = await app.post(VERIFY, { key });
  t.is(res.status, 404);
  t.deepEqual(res.body, { detail: 'Not found.' });
  t.false((await findUser(user.username))?.email_verified);
});

test('POST /api/v0/auth/registration/verify-email without key -> 400 key', async (t) => {
  const res = await app.post(VERIFY, {});
  t.is(res.status, 400);
  t.deepEqual(res.body, { key: ['This field is required.'] });
});

test('POST /api/v0/auth/registration/verify-email with a blank key -> 400 key', async (t) => {
  const res = await app.post(VERIFY, { key: '' });
  t.is(res.status, 400);
  t.deepEqual(Object.keys(res.body), ['key']);
});

test('GET the verification link from the mail -> 200 HTML page and email_verified', async (t) => {
  const { user, link } = await registerAndReceive();
  const res = await app.get(linkPath(link));
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /^text\/html/);
  t.regex(res.text, /<!doctype html>/i);
  t.regex(res.text, /confirmed/i);
  t.true((await findUser(user.username))?.email_verified);
  // Opening the link again still shows the page.
  t.is((await app.get(linkPath(link))).status, 200);
});

test('GET an unknown verification link -> 404 HTML page', async (t) => {
  const res = await app.get(`/account-confirm-email/${'0'.repeat(64)}/`);
  t.is(res.status, 404);
  t.regex(res.headers.get('content-type') ?? '', /^text\/html/);
  t.regex(res.text, /invalid or has expired/);
});

test('POST /api/v0/auth/registration/verify-email with the key of another user does not verify this one', async (t) => {
  const a = await registerAndReceive();
  const b = await registerAndReceive();
  t.is((await app.post(VERIFY, { key: a.key })).status, 200);
  t.true((await findUser(a.user.username))?.email_verified);
  t.false((await findUser(b.user.username))?.email_verified);
});
