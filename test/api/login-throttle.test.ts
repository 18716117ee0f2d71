// The login throttle per client address: this file runs with TRUST_PROXY=true, so ctx.ip comes from
// X-Forwarded-For and each test can play several clients.
import '../helpers/trust-proxy.js';
import '../helpers/env.js';
import test from 'ava';
import { Token } from '../../src/models/token.js';
import { registerUser, sleep, startApp, teardown, unique, type TestApp } from '../helpers/harness.js';

const LOGIN = '/api/v0/auth/login';
const THROTTLED = { error: 'Too many login attempts' };

let app: TestApp;
test.before(async () => {
  app = await startApp();
});
test.after.always(teardown);

let nextAddress = 1;
/** A client address no other test uses (TEST-NET-3 and friends). */
const newAddress = (): string => {
  const n = nextAddress++;
  return `198.51.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
};

const attempt = (ip: string, username: string, password: string) =>
  app.post<{ key?: string; error?: string }>(
    LOGIN,
    { username, password },
    { headers: { 'X-Forwarded-For': ip } },
  );

test('POST /api/v0/auth/login throttled at one address -> another address for the same user still gets 400/200', async (t) => {
  const user = await registerUser(app);
  const [a, b] = [newAddress(), newAddress()];
  for (let i = 1; i <= 4; i++) t.is((await attempt(a, user.username, `wrong-${i}`)).status, 400);
  const fifth = await attempt(a, user.username, 'wrong-5');
  t.is(fifth.status, 429);
  t.deepEqual(fifth.body, THROTTLED);
  t.is((await attempt(a, user.username, user.password)).status, 429);

  t.is((await attempt(b, user.username, 'wrong-b')).status, 400);
  const ok = await attempt(b, user.username, user.password);
  t.is(ok.status, 200);
  t.regex(ok.body.key ?? '', /^[0-9a-f]{40}$/);
  // The throttled address stays blocked after the other address's success.
  t.is((await attempt(a, user.username, user.password)).status, 429);
});

test('POST /api/v0/auth/login failures from different addresses do not add up per pair', async (t) => {
  const user = await registerUser(app);
  const [a, b] = [newAddress(), newAddress()];
  for (let i = 1; i <= 4; i++) {
    t.is((await attempt(a, user.username, `wrong-a${i}`)).status, 400);
    t.is((await attempt(b, user.username, `wrong-b${i}`)).status, 400);
  }
  t.is((await attempt(a, user.username, user.password)).status, 200);
  t.is((await attempt(b, user.username, user.password)).status, 200);
});

test('POST /api/v0/auth/login more than 100 failures an hour from many addresses -> 429 for the username', async (t) => {
  const user = await registerUser(app);
  // 25 addresses x 4 failures: no single (address, username) pair reaches its own limit.
  for (let n = 0; n < 25; n++) {
    const ip = newAddress();
    for (let i = 1; i <= 4; i++) {
      const res = await attempt(ip, user.username, `wrong-${n}-${i}`);
      if (res.status !== 400) t.fail(`failure ${n * 4 + i} from ${ip}: ${res.status}`);
    }
  }
  const fresh = newAddress();
  const res = await attempt(fresh, user.username, 'wrong-101');
  t.is(res.status, 429);
  t.deepEqual(res.body, THROTTLED);
  t.is((await attempt(newAddress(), user.username, user.password)).status, 429);
  // Another username is not affected by this one's ceiling.
  const other = await registerUser(app);
  t.is((await attempt(fresh, other.username, other.password)).status, 200);
  t.is(await Token.countDocuments({ user: user.id }), 1);
});

test('POST /api/v0/auth/login after the 60 s block -> 200 again', async (t) => {
  t.timeout(120_000);
  const user = await registerUser(app);
  const ip = newAddress();
  for (let i = 1; i <= 5; i++) await attempt(ip, user.username, `wrong-${i}`);
  t.is((await attempt(ip, user.username, user.password)).status, 429);
  await sleep(50_000);
  t.is((await attempt(ip, user.username, user.password)).status, 429, 'still blocked before 60 s');
  await sleep(11_500);
  const res = await attempt(ip, user.username, user.password);
  t.is(res.status, 200);
  t.regex(res.body.key ?? '', /^[0-9a-f]{40}$/);
});

test('POST /api/v0/auth/login with an unknown username is throttled too', async (t) => {
  const ip = newAddress();
  const username = unique('ghost');
  for (let i = 1; i <= 4; i++) t.is((await attempt(ip, username, `wrong-${i}`)).status, 400);
  t.is((await attempt(ip, username, 'wrong-5')).status, 429);
});
