// SMTP unreachable: SMTP_URL points at a loopback port where nothing listens. Requests never wait for
// SMTP; the job retries with backoff and the row ends `failed` with the connection error.
import '../helpers/smtp-closed-port.js';
import { mailbox, smtpPort } from '../helpers/env.js';
import test from 'ava';
import { config } from '../../src/config.js';
import { Mail } from '../../src/models/mail.js';
import { getQueue, jobIdFor } from '../../src/queues/index.js';
import {
  eventually,
  registerUser,
  startApp,
  startWorker,
  teardown,
  type TestApp,
} from '../helpers/harness.js';

let app: TestApp;
test.before(async () => {
  app = await startApp();
  await startWorker(['mail']);
});
test.after.always(teardown);

test('POST /api/v0/auth/registration with SMTP down -> 201; the mail job retries and the row ends failed', async (t) => {
  t.not(
    new URL(config.SMTP_URL ?? 'smtp://unset').port,
    String(smtpPort),
    'SMTP points away from the test server',
  );
  const started = Date.now();
  const user = await registerUser(app);
  t.true(Date.now() - started < 5_000, 'the request does not wait for SMTP');

  const row = await eventually(
    async () => {
      const r = await Mail.findOne({ to: user.email, template: 'verify-email' }).lean();
      return r?.status === 'failed' ? r : undefined;
    },
    20_000,
    'row failed',
  );
  t.is(row.attempts, config.JOB_ATTEMPTS);
  t.regex(row.last_error ?? '', /ECONNREFUSED|connect/i);
  t.is(row.sent_at, null);

  const job = await getQueue('mail').getJob(jobIdFor('send-mail', row._id.toString()));
  t.is(await job?.getState(), 'failed');
  t.is(job?.attemptsMade, config.JOB_ATTEMPTS);
  t.is(mailbox.all().length, 0);
});

test('POST /api/v0/auth/password/reset with SMTP down -> 200 and the row records the error after the last attempt', async (t) => {
  const user = await registerUser(app);
  const res = await app.post('/api/v0/auth/password/reset', { email: user.email });
  t.is(res.status, 200);
  const row = await eventually(
    async () => {
      const r = await Mail.findOne({ to: user.email, template: 'password-reset' }).lean();
      return r?.status === 'failed' ? r : undefined;
    },
    20_000,
    'row failed',
  );
  t.is(row.attempts, config.JOB_ATTEMPTS);
  t.truthy(row.last_error);
});
