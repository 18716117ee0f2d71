// End to end on the built processes: the Procfile's release, web and worker commands run as child
// processes with production settings against the real services and this file's SMTP server.
import { mailbox } from '../helpers/env.js';
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { freePortSync } from '../helpers/free-port.js';
import { Client, connectDatabase, eventually, newUserData, teardown } from '../helpers/harness.js';

const root = path.resolve(import.meta.dirname, '../..');
const children = new Set<ChildProcess>();

test.before(() => {
  if (!existsSync(path.join(root, 'dist/api/server.js'))) {
    throw new Error('dist/ is missing: `npm test` builds it before ava (or run `npm run build`)');
  }
});
test.after.always(async () => {
  for (const child of children) child.kill('SIGKILL');
  await connectDatabase(); // to drop this file's database, which the release and web processes used
  await teardown();
});

/** The Procfile's process types and their commands. */
function procfile(): Record<string, string> {
  const entries = readFileSync(path.join(root, 'Procfile'), 'utf8')
    .split('\n')
    .map((line) => /^([A-Za-z0-9_-]+):\s*(.+?)\s*$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1] ?? '', m[2] ?? ''] as const);
  return Object.fromEntries(entries);
}

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a Procfile command (`node ...`) with exactly `env` plus PATH and HOME. */
function run(command: string, env: Record<string, string>): Proc {
  const [program, ...args] = command.split(/\s+/);
  const child = spawn(program === 'node' ? process.execPath : (program ?? ''), args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, output: () => output, exited };
}

const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)),
  ]);

/** What a production deployment sets: no defaults relied upon. */
function productionEnv(port: number): Record<string, string> {
  const required = [
    'MONGODB_URI',
    'REDIS_URL',
    'SMTP_URL',
    'SECRET_KEY',
    'INTERNAL_API_SECRET',
    'QUEUE_PREFIX',
  ];
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    MAIL_FROM: 'accounts@accounts.test',
    LOG_LEVEL: 'info',
  };
  for (const name of required) env[name] = process.env[name] ?? '';
  if (process.env.NODE_EXTRA_CA_CERTS) env.NODE_EXTRA_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;
  return env;
}

test('Procfile release, web and worker in production: register -> mail -> verify -> login -> profile -> logout, then SIGTERM exits 0', async (t) => {
  t.timeout(150_000);
  const commands = procfile();
  t.truthy(commands.web);
  t.truthy(commands.worker);
  t.truthy(commands.release);
  const port = freePortSync();
  const env = productionEnv(port);

  const release = run(commands.release ?? '', env);
  const released = await within(release.exited, 60_000, 'release');
  t.is(released.code, 0, release.output());

  const web = run(commands.web ?? '', env);
  const worker = run(commands.worker ?? '', env);
  const api = new Client(`http://127.0.0.1:${port}`);
  try {
    await eventually(
      async () => {
        if (web.child.exitCode !== null) throw new Error(`web exited: ${web.output()}`);
        const res = await api.get('/_health').catch(() => undefined);
        return res?.status === 200;
      },
      30_000,
      'web healthy',
    );

    const data = newUserData();
    const registered = await api.post<{ key: string }>('/api/v0/auth/registration', {
      username: data.username,
      email: data.email,
      password1: data.password,
      password2: data.password,
    });
    t.is(registered.status, 201, registered.text);
    t.regex(registered.body.key, /^[0-9a-f]{40}$/);

    const mail = await mailbox.waitForTo(data.email, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\nworker output:\n${worker.output()}`);
    });
    t.is(mail.subject, 'Please confirm your email address');
    const link = mail.links.find((l) => l.startsWith(`http://127.0.0.1:${port}/account-confirm-email/`));
    if (!link) return t.fail(`no verification link in:\n${mail.text}`);

    const page = await fetch(link);
    t.is(page.status, 200);
    t.regex(page.headers.get('content-type') ?? '', /^text\/html/);
    t.regex(await page.text(), /confirmed/i);

    const loggedIn = await api.post<{ key: string }>('/api/v0/auth/login', {
      username: data.username,
      password: data.password,
    });
    t.is(loggedIn.status, 200, loggedIn.text);
    const key = loggedIn.body.key;
    t.not(key, registered.body.key);

    const user = await api.get('/api/v0/auth/user', { token: key });
    t.is(user.status, 200);
    t.is(user.body.email_verified, true, 'following the link verified the address');

    const profile = await api.get('/api/v0/profile', { token: key });
    t.is(profile.status, 200);
    t.like(profile.body, { used_storage: 0 });
    t.is(typeof profile.body.bucket, 'string');
    t.true(Number.isInteger(profile.body.quota));

    const logout = await api.post('/api/v0/auth/logout', undefined, { token: key });
    t.is(logout.status, 200);
    t.is((await api.get('/api/v0/profile', { token: key })).status, 401);
  } finally {
    const started = Date.now();
    web.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    const [webExit, workerExit] = await within(Promise.all([web.exited, worker.exited]), 30_000, 'shutdown');
    t.log(`web and worker stopped in ${Date.now() - started} ms`);
    t.is(webExit.code, 0, web.output());
    t.is(workerExit.code, 0, worker.output());
  }
});

for (const type of ['web', 'worker', 'release']) {
  test(`Procfile ${type} in production without SECRET_KEY and INTERNAL_API_SECRET exits non-zero naming both`, async (t) => {
    const env = productionEnv(freePortSync());
    delete env.SECRET_KEY;
    delete env.INTERNAL_API_SECRET;
    const proc = run(procfile()[type] ?? '', env);
    const { code } = await within(proc.exited, 20_000, `${type} exit`);
    t.not(code, 0);
    t.regex(proc.output(), /SECRET_KEY/);
    t.regex(proc.output(), /INTERNAL_API_SECRET/);
  });
}

test('node dist/api/server.js in production without SECRET_KEY and INTERNAL_API_SECRET exits non-zero listing both', async (t) => {
  const env = productionEnv(freePortSync());
  delete env.SECRET_KEY;
  delete env.INTERNAL_API_SECRET;
  const proc = run('node dist/api/server.js', env);
  const { code } = await within(proc.exited, 20_000, 'server exit');
  t.not(code, 0);
  const output = proc.output();
  t.regex(output, /SECRET_KEY: required in production/);
  t.regex(output, /INTERNAL_API_SECRET: required in production/);
  t.notRegex(output, /listening/);
});
