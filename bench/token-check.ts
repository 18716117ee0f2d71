// The storage server calls POST /api/v0/auth/ on every request, so the token check must cost about what a
// trivial request costs, and far less than a password check. Measured in one run, as ratios against
// GET /_health (the baseline: same HTTP stack, one Redis ping and no database query).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import mongoose from 'mongoose';
import { createApp } from '../src/api/app.js';
import { config } from '../src/config.js';
import { closeMongo, connectMongo } from '../src/lib/mongo.js';
import { closeRedis } from '../src/lib/redis.js';
import '../src/models/index.js';
import { closeQueues } from '../src/queues/index.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const PASSES = Number(process.env.BENCH_PASSES ?? 4);

interface Result {
  name: string;
  requests: number;
  seconds: number;
  perSecond: number;
}

async function run(name: string, requests: number, call: () => Promise<Response>): Promise<Result> {
  let next = 0;
  const started = process.hrtime.bigint();
  const lane = async () => {
    while (next < requests) {
      next++;
      const res = await call();
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { name, requests, seconds, perSecond: requests / seconds };
}

await connectMongo();
await mongoose.connection.dropDatabase();
for (const model of Object.values(mongoose.models)) await model.syncIndexes();
// eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa handles its own rejections
const server = createServer(createApp().callback());
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
const password = 'Violet harbour lantern 77';
const reg = await fetch(
  `${base}/api/v0/auth/registration`,
  json({ username: 'bench', email: 'bench@example.com', password1: password, password2: password }),
);
if (reg.status !== 201) throw new Error(`registration failed: ${reg.status} ${await reg.text()}`);
const { key } = (await reg.json()) as { key: string };

// The database server (a JVM under npm test/bench) and V8 need a warm-up before numbers mean anything.
await run('warm-up', 1000, () =>
  fetch(`${base}/api/v0/auth/`, json({ auth: `Token ${key}` }, { APISECRET: config.INTERNAL_API_SECRET })),
);
const rounds: [string, number, () => Promise<Response>][] = [
  ['GET /_health (baseline)', REQUESTS, () => fetch(`${base}/_health`)],
  [
    'POST /api/v0/auth/ token check',
    REQUESTS,
    () =>
      fetch(
        `${base}/api/v0/auth/`,
        json({ auth: `Token ${key}` }, { APISECRET: config.INTERNAL_API_SECRET }),
      ),
  ],
  [
    'GET /api/v0/profile (token auth)',
    REQUESTS,
    () => fetch(`${base}/api/v0/profile`, { headers: { Authorization: `Token ${key}` } }),
  ],
  // Successful logins are not throttled, so they can be repeated; argon2id on purpose, so fewer of them.
  [
    'POST /api/v0/auth/login (argon2id)',
    Math.max(50, REQUESTS / 20),
    () => fetch(`${base}/api/v0/auth/login`, json({ username: 'bench', password })),
  ],
];
// Rounds are interleaved and repeated, and the median kept, so a slow moment of the machine or of the
// database server does not land on one round only.
const samples = new Map<string, number[]>();
for (let pass = 0; pass < PASSES; pass++) {
  // Each pass starts at another round: whichever round follows a lull measured slower here.
  const order = rounds.map((_, i) => rounds[(i + pass) % rounds.length]!);
  for (const [name, requests, call] of order) {
    const r = await run(name, requests, call);
    samples.set(name, [...(samples.get(name) ?? []), r.perSecond]);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results = rounds.map(([name]) => ({ name, perSecond: median(samples.get(name)!) }));

const baseline = results[0]!.perSecond;
console.log(
  `\n${REQUESTS} requests per round, concurrency ${CONCURRENCY}, median of ${PASSES} passes, loopback\n`,
);
console.log('round'.padEnd(40), 'req/s'.padStart(10), 'ratio to baseline'.padStart(20));
for (const r of results) {
  console.log(
    r.name.padEnd(40),
    r.perSecond.toFixed(0).padStart(10),
    `${(r.perSecond / baseline).toFixed(2)}x`.padStart(20),
  );
}

await new Promise<void>((resolve) => server.close(() => resolve()));
await closeQueues();
await closeRedis();
await closeMongo();
