// The service harness: the real app on a loopback port against this file's database and queue prefix,
// real BullMQ workers, factories with random unique fields, and a teardown that leaves nothing behind.
import { mailbox } from './env.js';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from 'bullmq';
import mongoose from 'mongoose';
import { createApp } from '../../src/api/app.js';
import { config } from '../../src/config.js';
import { closeMongo, connectMongo } from '../../src/lib/mongo.js';
import { closeRedis, producerRedis } from '../../src/lib/redis.js';
import '../../src/models/index.js';
import { User, type UserDoc } from '../../src/models/user.js';
import { closeQueues, type QueueName } from '../../src/queues/index.js';
import { startWorkers } from '../../src/workers/start.js';

export type JsonObject = Record<string, unknown>;

export interface Response<T = JsonObject> {
  status: number;
  headers: Headers;
  /** The parsed JSON body; `{}` when the response is not JSON (see `text`). */
  body: T;
  text: string;
  json: boolean;
}

export interface RequestOptions {
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  /** Sent as multipart/form-data. */
  multipart?: Record<string, string>;
  /** Sent as is, with `contentType`. */
  raw?: string | Buffer;
  contentType?: string;
  /** `Authorization: Token <token>`. */
  token?: string;
  headers?: Record<string, string>;
}

/** HTTP against a running server, with Node's global fetch. */
export class Client {
  constructor(readonly url: string) {}

  async request<T = JsonObject>(
    method: string,
    path: string,
    opts: RequestOptions = {},
  ): Promise<Response<T>> {
    const headers = new Headers(opts.headers);
    if (opts.token !== undefined) headers.set('Authorization', `Token ${opts.token}`);
    let body: RequestInit['body'];
    if (opts.json !== undefined) {
      headers.set('Content-Type', 'application/json');
      body = JSON.stringify(opts.json);
    } else if (opts.form) {
      body = new URLSearchParams(opts.form);
    } else if (opts.multipart) {
      const data = new FormData();
      for (const [name, value] of Object.entries(opts.multipart)) data.append(name, value);
      body = data;
    } else if (opts.raw !== undefined) {
      if (opts.contentType) headers.set('Content-Type', opts.contentType);
      body = opts.raw;
    }
    const res = await fetch(new URL(path, this.url), { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    const json = /\bjson\b/.test(res.headers.get('content-type') ?? '');
    return {
      status: res.status,
      headers: res.headers,
      body: (json ? JSON.parse(text) : {}) as T,
      text,
      json,
    };
  }

  get<T = JsonObject>(path: string, opts?: RequestOptions) {
    return this.request<T>('GET', path, opts);
  }

  /** POST with a JSON body (or the body given in `opts`). */
  post<T = JsonObject>(path: string, json?: unknown, opts: RequestOptions = {}) {
    return this.request<T>('POST', path, json === undefined ? opts : { ...opts, json });
  }

  patch<T = JsonObject>(path: string, json?: unknown, opts: RequestOptions = {}) {
    return this.request<T>('PATCH', path, json === undefined ? opts : { ...opts, json });
  }
}

export interface TestApp extends Client {
  server: Server;
}

let connected: Promise<unknown> | undefined;
const servers: Server[] = [];
const workers: Worker[] = [];

/** Connects to this file's database (once) and builds every model's indexes, as the release phase does. */
export function connectDatabase(): Promise<unknown> {
  connected ??= (async () => {
    await connectMongo();
    for (const model of Object.values(mongoose.models)) await model.syncIndexes();
  })();
  return connected;
}

/**
 * The Koa app from createApp() on 127.0.0.1 and a free port. Like src/api/server.ts it opens the shared
 * Redis connection at start, and waits for it, so that no test meets it still connecting (the throttle
 * and /_health fail fast on a connection that is not ready). `redis: false` for a file where Redis is down.
 */
export async function startApp({ redis = true }: { redis?: boolean } = {}): Promise<TestApp> {
  await connectDatabase();
  const connection = producerRedis();
  if (redis && connection.status !== 'ready') {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Redis at ${config.REDIS_URL} not ready`)), 10_000);
      connection.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  const handle = createApp().callback();
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  return Object.assign(new Client(`http://127.0.0.1:${port}`), { server });
}

/** Real BullMQ workers on this file's queue prefix (what the worker process runs, minus its entry point). */
export async function startWorker(queues: readonly QueueName[] = ['mail']): Promise<Worker[]> {
  await connectDatabase();
  const started = startWorkers(queues);
  await Promise.all(started.map((w) => w.waitUntilReady()));
  workers.push(...started);
  return started;
}

/** Closes everything this file started, drops its database and stops the SMTP server. */
const cleanups: (() => Promise<void>)[] = [];

/** Something else a test file started (a Pebble, say) that teardown() must stop first. */
export function onTeardown(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}

export async function teardown(): Promise<void> {
  await Promise.allSettled(cleanups.splice(0).map((cleanup) => cleanup()));
  // Each worker closes its own Redis connection when it is closed (src/workers/start.ts).
  await Promise.allSettled(workers.splice(0).map((w) => w.close()));
  await Promise.allSettled(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
  await closeQueues();
  await closeRedis();
  if (connected) {
    await connected.catch(() => undefined);
    await mongoose.connection.dropDatabase().catch(() => undefined);
    await closeMongo();
    connected = undefined;
  }
  await mailbox.close();
}

/** Headers for the internal endpoints. */
export const internalHeaders = (): Record<string, string> => ({ APISECRET: config.INTERNAL_API_SECRET });

/** A random name that no other test uses. */
export const unique = (prefix = 'u'): string => `${prefix}${randomBytes(6).toString('hex')}`;

export interface UserData {
  username: string;
  email: string;
  password: string;
}

/**
 * Random unique registration data. The password is hex with a fixed frame, so it shares nothing with the
 * username or the email (hex has no `o`/`m`: never "com", never "example").
 */
export function newUserData(overrides: Partial<UserData> = {}): UserData {
  const username = unique('u_');
  return {
    username,
    email: `${username}@example.com`,
    password: `Pw!${randomBytes(8).toString('hex')}-Zq`,
    ...overrides,
  };
}

export interface TestUser extends UserData {
  /** The token key returned by the registration. */
  key: string;
  id: number;
}

/** Registers a user over HTTP and returns its data, token key and numeric id. */
export async function registerUser(app: Client, overrides: Partial<UserData> = {}): Promise<TestUser> {
  const data = newUserData(overrides);
  const res = await app.post<{ key: string }>('/api/v0/auth/registration', {
    username: data.username,
    email: data.email,
    password1: data.password,
    password2: data.password,
  });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${res.text}`);
  const user = await findUser(data.username);
  if (!user) throw new Error(`registered user ${data.username} not found in the database`);
  return { ...data, key: res.body.key, id: user.id };
}

/** Logs in over HTTP and returns the new token key. */
export async function login(app: Client, user: Pick<UserData, 'username' | 'password'>): Promise<string> {
  const res = await app.post<{ key: string }>('/api/v0/auth/login', {
    username: user.username,
    password: user.password,
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
  return res.body.key;
}

export const findUser = (username: string): Promise<UserDoc | null> =>
  User.findOne({ username_lower: username.toLowerCase() }).lean<UserDoc>();

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(
  check: () => Promise<T> | T,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A 40-hex key that was never issued. */
export const randomTokenKey = (): string => randomBytes(20).toString('hex');

/** True when a response text carries something only a stack trace or an internal error would. */
export const leaksInternals = (text: string): boolean =>
  /\bat .+\(.+:\d+:\d+\)|node_modules|\/src\/|Error:|ECONNREFUSED|Mongo|stack/i.test(text);
