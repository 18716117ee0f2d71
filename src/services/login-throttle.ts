import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ServiceUnavailableError, ThrottledError } from '../lib/errors.js';
import { logger } from '../lib/logger.js';
import { readyRedis } from '../lib/redis.js';

// Failures 1-4 in a row from one (address, username) are answered normally; the fifth blocks that pair
// for 60 s. Kept in Redis so that every web process sees the same counts.
const CONSECUTIVE_FAILURES = 4;
// A ceiling per username whatever the address: slows distributed guessing.
const FAILURES_PER_USERNAME_PER_HOUR = 100;

let limiters: { pair: RateLimiterRedis; user: RateLimiterRedis } | undefined;

async function getLimiters() {
  const redis = await readyRedis();
  limiters ??= {
    pair: new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: 'throttle:login:pair',
      points: CONSECUTIVE_FAILURES,
      duration: 3600,
      blockDuration: 60,
    }),
    user: new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: 'throttle:login:user',
      points: FAILURES_PER_USERNAME_PER_HOUR,
      duration: 3600,
      blockDuration: 3600,
    }),
  };
  return limiters;
}

const pairKey = (ip: string, username: string) => `${ip}|${username.toLowerCase()}`;
const userKey = (username: string) => username.toLowerCase();

function throttled(res: RateLimiterRes): ThrottledError {
  return new ThrottledError(Math.ceil(res.msBeforeNext / 1000));
}

async function store<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof RateLimiterRes) throw throttled(err);
    // Without Redis there is no throttle: refuse rather than let unlimited guessing through.
    logger.warn({ err: (err as Error).message }, 'login throttle unavailable');
    throw new ServiceUnavailableError();
  }
}

/** Throws ThrottledError while the pair or the username is blocked, before any password is checked. */
export async function assertLoginAllowed(ip: string, username: string): Promise<void> {
  const { pair, user } = await store(getLimiters);
  const [p, u] = await store(() =>
    Promise.all([pair.get(pairKey(ip, username)), user.get(userKey(username))]),
  );
  if (p && p.consumedPoints > CONSECUTIVE_FAILURES) throw throttled(p);
  if (u && u.consumedPoints > FAILURES_PER_USERNAME_PER_HOUR) throw throttled(u);
}

/** Counts a failed attempt; throws ThrottledError when this failure crosses a limit. */
export async function recordLoginFailure(ip: string, username: string): Promise<void> {
  const { pair, user } = await store(getLimiters);
  await store(() => user.consume(userKey(username)));
  await store(() => pair.consume(pairKey(ip, username)));
}

export async function recordLoginSuccess(ip: string, username: string): Promise<void> {
  const { pair } = await store(getLimiters);
  await store(() => pair.delete(pairKey(ip, username)));
}
