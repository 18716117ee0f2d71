// HTTP conventions shared by every accounting endpoint: trailing slashes, body encodings, body errors,
// unknown routes and methods, and error bodies that never show internals.
import '../helpers/env.js';
import test from 'ava';
import {
  findUser,
  internalHeaders,
  leaksInternals,
  login,
  newUserData,
  registerUser,
  startApp,
  teardown,
  type Response,
  type TestApp,
} from '../helpers/harness.js';

let app: TestApp;
test.before(async () => {
  app = await startApp();
});
test.after.always(teardown);

const assertCleanError = (
  t: { true: (v: boolean, m?: string) => void; false: (v: boolean, m?: string) => void },
  res: Response,
) => {
  t.true(res.json, `JSON body expected, got ${res.headers.get('content-type')}: ${res.text.slice(0, 200)}`);
  t.false(leaksInternals(res.text), res.text.slice(0, 300));
};

for (const slash of ['', '/']) {
  const label = slash ? 'with' : 'without';

  test(`POST /api/v0/auth/registration${slash} (${label} trailing slash) -> 201`, async (t) => {
    const d = newUserData();
    const res = await app.post(`/api/v0/auth/registration${slash}`, {
      username: d.username,
      email: d.email,
      password1: d.password,
      password2: d.password,
    });
    t.is(res.status, 201);
    t.truthy(await findUser(d.username));
  });

  test(`POST /api/v0/auth/login${slash} (${label} trailing slash) -> 200`, async (t) => {
    const user = await registerUser(app);
    const res = await app.post(`/api/v0/auth/login${slash}`, {
      username: user.username,
      password: user.password,
    });
    t.is(res.status, 200);
    t.regex(String(res.body.key), /^[0-9a-f]{40}$/);
  });

  test(`POST /api/v0/auth/logout${slash} (${label} trailing slash) -> 200`, async (t) => {
    const user = await registerUser(app);
    t.is((await app.post(`/api/v0/auth/logout${slash}`, undefined, { token: user.key })).status, 200);
    t.is((await app.get('/api/v0/profile', { token: user.key })).status, 401);
  });

  test(`GET /api/v0/profile${slash} (${label} trailing slash) -> 200`, async (t) => {
    const user = await registerUser(app);
    const res = await app.get(`/api/v0/profile${slash}`, { token: user.key });
    t.is(res.status, 200);
    t.is(res.body.used_storage, 0);
  });

  test(`GET and PATCH /api/v0/auth/user${slash} (${label} trailing slash) -> 200`, async (t) => {
    const user = await registerUser(app);
    t.is((await app.get(`/api/v0/auth/user${slash}`, { token: user.key })).body.username, user.username);
    const res = await app.patch(`/api/v0/auth/user${slash}`, { first_name: 'Slash' }, { token: user.key });
    t.is(res.status, 200);
    t.is((await findUser(user.username))?.first_name, 'Slash');
  });

  test(`POST /api/v0/auth/registration/verify-email${slash} (${label} trailing slash) without key -> 400`, async (t) => {
    const res = await app.post(`/api/v0/auth/registration/verify-email${slash}`, {});
    t.is(res.status, 400);
    t.deepEqual(res.body, { key: ['This field is required.'] });
  });

  test(`POST /api/v0/auth/password/reset${slash} (${label} trailing slash) -> 200`, async (t) => {
    const res = await app.post(`/api/v0/auth/password/reset${slash}`, { email: newUserData().email });
    t.is(res.status, 200);
    t.is(res.body.success, 'Password reset e-mail has been sent.');
  });

  test(`POST /api/v0/auth/password/reset/confirm${slash} (${label} trailing slash) without fields -> 400`, async (t) => {
    const res = await app.post(`/api/v0/auth/password/reset/confirm${slash}`, {});
    t.is(res.status, 400);
    t.deepEqual(Object.keys(res.body).sort(), ['new_password1', 'new_password2', 'token', 'uid']);
  });

  test(`POST /api/v0/auth/password/change${slash} (${label} trailing slash) -> 200`, async (t) => {
    const user = await registerUser(app);
    const p = newUserData().password;
    const res = await app.post(
      `/api/v0/auth/password/change${slash}`,
      { old_password: user.password, new_password1: p, new_password2: p },
      { token: user.key },
    );
    t.is(res.status, 200);
  });

  test(`POST /api/v0/internal/user${slash} and /api/v0/internal/usage${slash} (${label} trailing slash) -> 200`, async (t) => {
    const user = await registerUser(app);
    const headers = internalHeaders();
    t.is((await app.post(`/api/v0/internal/user${slash}`, { user_id: user.id }, { headers })).status, 200);
    const usage = await app.post(
      `/api/v0/internal/usage${slash}`,
      { user_id: user.id, used_storage: 7 },
      { headers },
    );
    t.is(usage.status, 200);
    t.is((await findUser(user.username))?.used_storage, 7);
  });
}

test('POST /api/v0/auth/registration form-urlencoded -> 201', async (t) => {
  const d = newUserData();
  const res = await app.post('/api/v0/auth/registration', undefined, {
    form: { username: d.username, email: d.email, password1: d.password, password2: d.password },
  });
  t.is(res.status, 201);
  t.regex(String(res.body.key), /^[0-9a-f]{40}$/);
  t.truthy(await findUser(d.username));
});

test('POST /api/v0/auth/registration multipart -> 201', async (t) => {
  const d = newUserData();
  const res = await app.post('/api/v0/auth/registration', undefined, {
    multipart: { username: d.username, email: d.email, password1: d.password, password2: d.password },
  });
  t.is(res.status, 201);
  t.truthy(await findUser(d.username));
});

test('POST /api/v0/auth/login form-urlencoded and multipart -> 200', async (t) => {
  const user = await registerUser(app);
  const fields = { username: user.username, password: user.password };
  const form = await app.post('/api/v0/auth/login', undefined, { form: fields });
  const multipart = await app.post('/api/v0/auth/login', undefined, { multipart: fields });
  t.is(form.status, 200);
  t.is(multipart.status, 200);
  t.not(form.body.key, multipart.body.key);
});

test('POST /api/v0/auth/registration multipart with field errors -> 400 in the same shape', async (t) => {
  const res = await app.post('/api/v0/auth/registration', undefined, {
    multipart: { username: 'bad name', email: 'nope', password1: 'x', password2: 'y' },
  });
  t.is(res.status, 400);
  t.truthy(res.body.username);
  t.truthy(res.body.email);
});

test('PATCH /api/v0/auth/user form-urlencoded -> 200', async (t) => {
  const user = await registerUser(app);
  const res = await app.patch('/api/v0/auth/user', undefined, {
    token: user.key,
    form: { last_name: 'Form' },
  });
  t.is(res.status, 200);
  t.is((await findUser(user.username))?.last_name, 'Form');
});

test('POST /api/v0/auth/password/change multipart -> 200', async (t) => {
  const user = await registerUser(app);
  const p = newUserData().password;
  const res = await app.post('/api/v0/auth/password/change', undefined, {
    token: user.key,
    multipart: { old_password: user.password, new_password1: p, new_password2: p },
  });
  t.is(res.status, 200);
  t.regex(await login(app, { username: user.username, password: p }), /^[0-9a-f]{40}$/);
});

test('POST /api/v0/auth/login with malformed JSON -> 400 JSON body', async (t) => {
  const res = await app.post('/api/v0/auth/login', undefined, {
    raw: '{"username": "a", "password": ',
    contentType: 'application/json',
  });
  t.is(res.status, 400);
  assertCleanError(t, res);
  t.is(typeof res.body.detail, 'string');
});

test('POST /api/v0/auth/registration with a JSON string body -> 400 JSON body', async (t) => {
  const res = await app.post('/api/v0/auth/registration', 'just a string');
  t.is(res.status, 400);
  assertCleanError(t, res);
});

test('POST /api/v0/auth/registration with a text/plain body -> 400 JSON body', async (t) => {
  const res = await app.post('/api/v0/auth/registration', undefined, {
    raw: 'username=x',
    contentType: 'text/plain',
  });
  t.is(res.status, 400);
  assertCleanError(t, res);
});

test('POST /api/v0/auth/registration with a JSON body over 1 MB -> 413 JSON body', async (t) => {
  const d = newUserData();
  const res = await app.post('/api/v0/auth/registration', {
    username: d.username,
    email: d.email,
    password1: d.password,
    password2: d.password,
    padding: 'x'.repeat(1024 * 1024 + 16),
  });
  t.is(res.status, 413);
  assertCleanError(t, res);
  t.is(await findUser(d.username), null);
});

test('POST /api/v0/auth/login with a form body over 1 MB -> 413 JSON body', async (t) => {
  const res = await app.post('/api/v0/auth/login', undefined, {
    form: { username: 'x', password: 'y'.repeat(1024 * 1024 + 16) },
  });
  t.is(res.status, 413);
  assertCleanError(t, res);
});

test('POST /api/v0/auth/login with a multipart body over 1 MB -> 413 JSON body', async (t) => {
  const res = await app.post('/api/v0/auth/login', undefined, {
    multipart: { username: 'x', password: 'y'.repeat(1024 * 1024 + 16) },
  });
  t.is(res.status, 413);
  assertCleanError(t, res);
});

test('POST /api/v0/auth/login multipart with a file -> 4xx JSON body and nothing kept', async (t) => {
  const data = new FormData();
  data.append('username', 'x');
  data.append('password', new Blob(['secret']), 'password.txt');
  const res = await fetch(new URL('/api/v0/auth/login', app.url), { method: 'POST', body: data });
  const text = await res.text();
  t.true(res.status >= 400 && res.status < 500, `${res.status} ${text}`);
  t.regex(res.headers.get('content-type') ?? '', /json/);
  t.false(leaksInternals(text), text);
});

test('GET an unknown path -> 404 JSON detail', async (t) => {
  const res = await app.get('/api/v0/nothing-here');
  t.is(res.status, 404);
  t.deepEqual(res.body, { detail: 'Not found.' });
});

for (const [method, path] of [
  ['GET', '/api/v0/auth/logout'],
  ['PUT', '/api/v0/auth/password/reset'],
  ['GET', '/api/v0/auth/password/reset/confirm'],
  ['DELETE', '/api/v0/auth/password/change'],
  ['GET', '/api/v0/auth/registration/verify-email'],
  ['GET', '/api/v0/auth/'],
  ['GET', '/api/v0/internal/user/'],
] as const) {
  test(`${method} ${path} -> 405 JSON detail`, async (t) => {
    const res = await app.request(method, path);
    t.is(res.status, 405);
    assertCleanError(t, res);
    t.truthy(res.headers.get('allow'));
  });
}

test('error responses never carry a stack trace or internal message', async (t) => {
  const user = await registerUser(app);
  const responses = await Promise.all([
    app.post('/api/v0/auth/login', undefined, { raw: '{', contentType: 'application/json' }),
    app.post('/api/v0/auth/registration', { username: {}, email: [], password1: 1, password2: null }),
    app.post('/api/v0/auth/password/reset/confirm', {
      uid: '%%%',
      token: '-',
      new_password1: 'a',
      new_password2: 'a',
    }),
    app.post('/api/v0/internal/user/', { user_id: '1e400' }, { headers: internalHeaders() }),
    app.post('/api/v0/internal/usage', { user_id: 1, used_storage: 1e300 }, { headers: internalHeaders() }),
    app.post('/api/v0/auth/', { auth: `Token ${'g'.repeat(40)}` }, { headers: internalHeaders() }),
    app.get('/api/v0/profile', { headers: { Authorization: 'Token \u00ff' } }),
    app.patch('/api/v0/auth/user', { first_name: { $gt: '' } }, { token: user.key }),
    app.post('/api/v0/auth/login', { username: { $ne: null }, password: { $ne: null } }),
  ]);
  for (const res of responses) {
    t.true(res.status >= 400 && res.status < 500, `${res.status} ${res.text.slice(0, 200)}`);
    assertCleanError(t, res);
  }
});

test('GET /_health -> 200 with MongoDB and Redis up', async (t) => {
  const res = await app.get('/_health');
  t.is(res.status, 200);
  t.deepEqual(res.body, { mongo: 'ok', redis: 'ok' });
});
