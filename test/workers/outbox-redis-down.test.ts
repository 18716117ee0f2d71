// The outbox through a real Redis outage: this file starts with nothing listening at REDIS_URL,
// registers a user (the request must still succeed and the Mail row stay `queued`), then starts a real
// redis-server on that port, and the worker's sweep delivers the owed mail exactly once.
import { redisPort, startRedisOnPort } from '../helpers/redis-down.js';
import { mailbox } from '../helpers/env.js';
import test from 'ava';
import { Mail } from '../../src/models/mail.js';
import { sweepOwedWork } from '../../src/workers/sweep.js';
import {
  eventually,
  registerUser,
  sleep,
  startApp,
  startWorker,
  teardown,
  type TestApp,
  type TestUser,
} from '../helpers/harness.js';

let app: TestApp;
let stopRedis: (() => Promise<void>) | undefined;
let user: TestUser;

test.before(async () => {
  app = await startApp({ redis: false });
});
test.after.always(async () => {
  await teardown();
  await stopRedis?.();
});

test.serial(
  'POST /api/v0/auth/registration with Redis down -> 201 quickly, Mail row stays queued',
  async (t) => {
    t.log(`REDIS_URL points at 127.0.0.1:${redisPort}, where nothing listens yet`);
    const started = Date.now();
    user = await registerUser(app);
    const elapsed = Date.now() - started;
    t.true(elapsed < 5_000, `registration took ${elapsed} ms`);
    const row = await Mail.findOne({ to: user.email, template: 'verify-email' }).lean();
    t.is(row?.status, 'queued');
    t.is(row?.attempts, 0);
  },
);

test.serial('GET /api/v0/profile with Redis down -> 200 (token checks need only MongoDB)', async (t) => {
  const res = await app.get('/api/v0/profile', { token: user.key });
  t.is(res.status, 200);
});

test.serial('POST /api/v0/auth/login with Redis down -> 503 (no throttle, no guessing)', async (t) => {
  const res = await app.post('/api/v0/auth/login', { username: user.username, password: user.password });
  t.is(res.status, 503);
  t.is(typeof res.body.detail, 'string');
});

test.serial('GET /_health with Redis down -> 503 redis down', async (t) => {
  const res = await app.get('/_health');
  t.is(res.status, 503);
  t.deepEqual(res.body, { mongo: 'ok', redis: 'down' });
});

test.serial('Redis back: the sweep enqueues the owed mail and it is delivered exactly once', async (t) => {
  stopRedis = await startRedisOnPort();
  await eventually(async () => (await app.get('/_health')).status === 200, 15_000, 'producer reconnected');
  const row = await Mail.findOne({ to: user.email, template: 'verify-email' }).lean();
  const mailId = String(row?._id);
  t.is(row?.status, 'queued', 'nothing was sent while Redis was down');

  await startWorker(['mail']);
  await Promise.all([sweepOwedWork(0), sweepOwedWork(0)]);
  const mail = await mailbox.waitForTo(user.email);
  t.is(mail.subject, 'Please confirm your email address');
  await eventually(async () => (await Mail.findById(mailId).lean())?.status === 'sent', 10_000, 'row sent');
  // The request's own enqueue, given up after its timeout, may also land once Redis is back: the job id
  // derived from the row makes all of these one job.
  await sweepOwedWork(0);
  await sleep(500);
  t.is(mailbox.to(user.email).length, 1);
  t.is((await Mail.findById(mailId).lean())?.attempts, 1);
});

test.serial('POST /api/v0/auth/login with Redis back -> 200', async (t) => {
  const res = await app.post('/api/v0/auth/login', { username: user.username, password: user.password });
  t.is(res.status, 200);
});
