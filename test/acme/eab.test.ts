// External account binding (ZeroSSL, Google): a Pebble that requires it, started for this file.
import '../helpers/env.js';
import test from 'ava';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { onTeardown, startApp, startWorker, teardown, type TestApp } from '../helpers/harness.js';
import { startPebble, type Pebble } from '../helpers/pebble.js';
import { domain, newApi } from './helpers.js';

const KID = 'kid-test';
const HMAC_KEY = randomBytes(48).toString('base64url');
let app: TestApp;
let pebble: Pebble;

test.before(async () => {
  app = await startApp();
  pebble = await startPebble({
    httpPort: (app.server.address() as AddressInfo).port,
    eabKeys: { [KID]: HMAC_KEY },
  });
  onTeardown(() => pebble.stop());
  await startWorker(['acme', 'mail']);
});
test.after.always(teardown);

test('POST /api/acme with eab_kid and eab_hmac_key on a CA that requires EAB -> valid, and it issues', async (t) => {
  const api = await newApi(app);
  const account = await api.validAccount(pebble, { eab_kid: KID, eab_hmac_key: HMAC_KEY });
  t.is(account.status, 'valid');
  t.regex(account.uri ?? '', /^https:\/\/127\.0\.0\.1:\d+\/my-account\//);
  const cert = await api.issue(account.id, [domain()]);
  t.is(cert.status, 'valid');
  t.false(JSON.stringify(account).includes(HMAC_KEY), 'the EAB key is never served');
});

test('POST /api/acme without EAB on a CA that requires it -> failed with the CA’s reason, at once', async (t) => {
  const api = await newApi(app);
  const res = await api.createAccount(pebble);
  t.is(res.status, 201);
  const account = await api.settleAccount(res.body.id as number);
  t.is(account.status, 'failed');
  t.regex(account.error ?? '', /externalAccountBinding|external account/i);
});

test('POST /api/acme with a wrong EAB key -> failed with the CA’s reason', async (t) => {
  const api = await newApi(app);
  const res = await api.createAccount(pebble, {
    eab_kid: KID,
    eab_hmac_key: randomBytes(48).toString('base64url'),
  });
  t.is(res.status, 201);
  const account = await api.settleAccount(res.body.id as number);
  t.is(account.status, 'failed');
  t.truthy(account.error);
});
