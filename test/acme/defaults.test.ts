import { DEFAULT_DIRECTORY, SUBJECT_DEFAULTS } from './fixtures/defaults-env.js';
import '../helpers/env.js';
import test from 'ava';
import { startApp, startWorker, teardown, unique, type TestApp } from '../helpers/harness.js';
import { newApi } from './helpers.js';

let app: TestApp;
test.before(async () => {
  app = await startApp();
  await startWorker(['acme']);
});
test.after.always(teardown);

test('POST /api/acme without server or subject fields -> ACME_DIRECTORY_URL and the ACME_DEFAULT_* values', async (t) => {
  const api = await newApi(app);
  const res = await api.post('/api/acme', { email: `${unique('acme')}@example.com` });
  t.is(res.status, 201, res.text);
  const id = res.body.id as number;
  const got = await api.account(id);
  t.is(got.status, 200);
  t.is(got.body.server, DEFAULT_DIRECTORY);
  t.like(got.body, SUBJECT_DEFAULTS);
  // The worker registers against that directory (nothing listens there: failed, saying so).
  const settled = await api.settleAccount(id, ['pending'], 60_000);
  t.is(settled.status, 'failed');
  t.regex(settled.error ?? '', /reach|connect|refused/i);
});

test('POST /api/acme with subject fields -> they override the defaults; a missing one keeps its default', async (t) => {
  const api = await newApi(app);
  const res = await api.post('/api/acme', {
    email: `${unique('acme')}@example.com`,
    organization: 'Own Org',
    country: 'BE',
    location: 'Gent',
  });
  t.is(res.status, 201, res.text);
  const got = await api.account(res.body.id as number);
  t.like(got.body, {
    server: DEFAULT_DIRECTORY,
    organization: 'Own Org',
    organizational_unit: SUBJECT_DEFAULTS.organizational_unit,
    country: 'BE',
    state: SUBJECT_DEFAULTS.state,
    location: 'Gent',
  });
});

test('POST /api/acme without server twice -> 200 with the same account (the default directory counts as the same)', async (t) => {
  const api = await newApi(app);
  const email = `${unique('acme')}@example.com`;
  const first = await api.post('/api/acme', { email });
  t.is(first.status, 201);
  const explicit = await api.post('/api/acme', { email, server: DEFAULT_DIRECTORY });
  t.is(explicit.status, 200, explicit.text);
  t.is(explicit.body.id, first.body.id);
});
