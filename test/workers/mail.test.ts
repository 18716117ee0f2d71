// The mail outbox: Mail rows plus send-mail jobs consumed by a real BullMQ Worker, delivered through the
// in-process SMTP server.
import { mailbox, mailDir } from '../helpers/env.js';
import test from 'ava';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import type { Job } from 'bullmq';
import { Types } from 'mongoose';
import { config } from '../../src/config.js';
import { createMailer } from '../../src/lib/mailer.js';
import { renderMail } from '../../src/mail/templates.js';
import { Mail } from '../../src/models/mail.js';
import { getQueue, jobIdFor } from '../../src/queues/index.js';
import { enqueueMail, queueMail } from '../../src/services/mail.js';
import { sweepOwedWork } from '../../src/workers/sweep.js';
import { connectDatabase, eventually, sleep, startWorker, teardown, unique } from '../helpers/harness.js';

test.before(async () => {
  await connectDatabase();
  await startWorker(['mail']);
});
test.after.always(teardown);

const newAddress = () => `${unique('mail')}@example.com`;

const resetMail = (to: string) =>
  queueMail(to, 'password-reset', {
    username: 'someone',
    url: `${config.PUBLIC_URL}/accounts/reset/MQ/x-y/`,
  });

/** Waits until the job has completed or failed for good, and returns it as stored then. */
async function settled(jobId: string, timeoutMs = 15_000): Promise<Job> {
  const queue = getQueue('mail');
  return eventually(
    async () => {
      // The state first, then the job: read the other way round, a job fetched while still active could
      // be reported completed without its return value.
      const state = await queue.getJobState(jobId);
      if (state !== 'completed' && state !== 'failed') return undefined;
      const job = await queue.getJob(jobId);
      if (!job || state === 'completed') return job;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1) || job.failedReason.includes('invalid');
      return final ? job : undefined;
    },
    timeoutMs,
    `job ${jobId} settled`,
  );
}

test('send-mail job delivers through SMTP and marks the Mail row sent', async (t) => {
  const to = newAddress();
  const id = await resetMail(to);
  const mail = await mailbox.waitForTo(to);
  t.is(mail.subject, 'Password reset');
  t.true(mail.text.includes(`${config.PUBLIC_URL}/accounts/reset/MQ/x-y/`));
  t.regex(mail.html, /<a href="http:\/\/accounts\.test\/accounts\/reset\/MQ\/x-y\/"/);

  const row = await eventually(async () => {
    const r = await Mail.findById(id).lean();
    return r?.status === 'sent' ? r : undefined;
  });
  t.is(row.attempts, 1);
  t.is(row.last_error, null);
  t.truthy(row.sent_at);
  t.is(row.message_id, String(mail.headers.get('message-id')));
  const job = await settled(jobIdFor('send-mail', id));
  t.is(job.returnvalue, 'sent');
});

test('send-mail job for a row already sent sends nothing', async (t) => {
  const to = newAddress();
  const id = await resetMail(to);
  await mailbox.waitForTo(to);
  await eventually(async () => (await Mail.findById(id).lean())?.status === 'sent');

  // A second job for the same row under another id, as a retry after a lost acknowledgement would be.
  await getQueue('mail').add('send-mail', { mailId: id }, { jobId: `again-${id}` });
  const job = await settled(`again-${id}`);
  t.is(job.returnvalue, 'skipped');
  await sleep(300);
  t.is(mailbox.to(to).length, 1);
  t.is((await Mail.findById(id).lean())?.attempts, 1);
});

test('send-mail enqueued twice for the same row -> one job, one mail', async (t) => {
  const to = newAddress();
  const id = await resetMail(to);
  t.true(await enqueueMail(id));
  t.true(await enqueueMail(id));
  await mailbox.waitForTo(to);
  await eventually(async () => (await Mail.findById(id).lean())?.status === 'sent');
  await sleep(300);
  t.is(mailbox.to(to).length, 1);
});

test('send-mail refused by SMTP twice is retried and then sent', async (t) => {
  const to = newAddress();
  mailbox.reject({ match: (addr) => addr === to, times: 2, code: 451, message: '4.3.0 Try again later' });
  const id = await resetMail(to);
  const mail = await mailbox.waitForTo(to);
  t.is(mail.subject, 'Password reset');
  const row = await eventually(async () => {
    const r = await Mail.findById(id).lean();
    return r?.status === 'sent' ? r : undefined;
  });
  t.is(row.attempts, 3);
  t.is(row.last_error, null);
  const job = await settled(jobIdFor('send-mail', id));
  t.is(job.attemptsMade, 3);
  t.is(mailbox.to(to).length, 1);
});

test('send-mail refused by SMTP on every attempt ends failed with the SMTP error', async (t) => {
  const to = newAddress();
  mailbox.reject({ match: (addr) => addr === to, code: 550, message: '5.1.1 Mailbox does not exist' });
  const id = await resetMail(to);
  const job = await settled(jobIdFor('send-mail', id));
  t.is(await job.getState(), 'failed');
  t.is(job.attemptsMade, config.JOB_ATTEMPTS);
  const row = await eventually(async () => {
    const r = await Mail.findById(id).lean();
    return r?.status === 'failed' ? r : undefined;
  });
  t.is(row.attempts, config.JOB_ATTEMPTS);
  t.regex(row.last_error ?? '', /Mailbox does not exist/);
  t.is(row.sent_at, null);
  t.is(mailbox.to(to).length, 0);
});

test('send-mail with an invalid payload fails at once without retries', async (t) => {
  const jobId = unique('bad-');
  await getQueue('mail').add('send-mail', { mailId: 'not-an-object-id' }, { jobId });
  const job = await settled(jobId);
  t.is(await job.getState(), 'failed');
  t.is(job.attemptsMade, 1);
  t.regex(job.failedReason, /invalid send-mail payload/);
});

test('send-mail for a row that does not exist completes as skipped', async (t) => {
  const mailId = new Types.ObjectId().toString();
  t.true(await enqueueMail(mailId));
  const job = await settled(jobIdFor('send-mail', mailId));
  t.is(job.returnvalue, 'skipped');
});

test('send-mail for a row with an unknown template marks it failed and sends nothing', async (t) => {
  const to = newAddress();
  const row = await Mail.create({ to, template: 'no-such-template', data: {} });
  const id = row._id.toString();
  t.true(await enqueueMail(id));
  await settled(jobIdFor('send-mail', id));
  const stored = await Mail.findById(id).lean();
  t.is(stored?.status, 'failed');
  t.regex(stored?.last_error ?? '', /unknown template/);
  t.is(mailbox.to(to).length, 0);
});

test('sweep enqueues a queued Mail row whose job is missing; delivered exactly once though the sweep runs twice', async (t) => {
  const to = newAddress();
  // What a request leaves behind when Redis is down: the row, but no job.
  const row = await Mail.create({
    to,
    template: 'verify-email',
    data: { username: 'swept', url: `${config.PUBLIC_URL}/account-confirm-email/abc/` },
  });
  const id = row._id.toString();
  t.is(await getQueue('mail').getJob(jobIdFor('send-mail', id)), undefined);
  await sleep(5);

  const counts = await Promise.all([sweepOwedWork(0), sweepOwedWork(0)]);
  t.true(counts.every((n) => n >= 0));
  t.truthy(await getQueue('mail').getJob(jobIdFor('send-mail', id)), 'the sweep enqueued the row');
  const mail = await mailbox.waitForTo(to);
  t.is(mail.subject, 'Please confirm your email address');
  await eventually(async () => (await Mail.findById(id).lean())?.status === 'sent');

  await sweepOwedWork(0);
  await sleep(500);
  t.is(mailbox.to(to).length, 1);
  const stored = await Mail.findById(id).lean();
  t.is(stored?.status, 'sent');
  t.is(stored?.attempts, 1);
});

test('sweep leaves a row younger than its grace period to the request that wrote it', async (t) => {
  const to = newAddress();
  const row = await Mail.create({
    to,
    template: 'verify-email',
    data: { username: 'fresh', url: `${config.PUBLIC_URL}/account-confirm-email/def/` },
  });
  await sweepOwedWork(60_000);
  t.is(await getQueue('mail').getJob(jobIdFor('send-mail', row._id.toString())), undefined);
  t.is((await Mail.findById(row._id).lean())?.status, 'queued');
});

test('sweep does not enqueue rows already sent or failed', async (t) => {
  const sent = await Mail.create({ to: newAddress(), template: 'verify-email', data: {}, status: 'sent' });
  const failed = await Mail.create({
    to: newAddress(),
    template: 'verify-email',
    data: {},
    status: 'failed',
  });
  await sleep(5);
  await sweepOwedWork(0);
  for (const row of [sent, failed]) {
    t.is(await getQueue('mail').getJob(jobIdFor('send-mail', row._id.toString())), undefined);
  }
});

test('without SMTP_URL a mail is written as an .eml file under MAIL_DIR', async (t) => {
  const to = newAddress();
  const send = createMailer('');
  const info = await send({
    to,
    ...renderMail('verify-email', { username: 'eml', url: 'http://accounts.test/x/' }),
  });
  t.truthy(info.file);
  const file = info.file ?? '';
  t.is(path.dirname(file), path.resolve(mailDir));
  t.true(file.endsWith('.eml'));
  const parsed = await simpleParser(await readFile(file));
  t.is(parsed.subject, 'Please confirm your email address');
  t.regex(parsed.text ?? '', /http:\/\/accounts\.test\/x\//);
  t.is(mailbox.to(to).length, 0, 'nothing went over SMTP');
});
