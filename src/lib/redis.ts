import { Redis, type RedisOptions } from 'ioredis';
import { config } from '../config.js';
import { logger } from './logger.js';

/**
 * `producer`: fails fast while Redis is down so an HTTP request never hangs on it.
 * `worker`: BullMQ workers need `maxRetriesPerRequest: null` to block and reconnect forever.
 */
export function createRedis(role: 'producer' | 'worker'): Redis {
  const options: RedisOptions =
    role === 'producer'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 }
      : { maxRetriesPerRequest: null };
  const redis = new Redis(config.REDIS_URL, { ...options, lazyConnect: false });
  // Without a listener ioredis prints every reconnect failure as an unhandled error event.
  redis.on('error', (err: Error) => logger.warn({ err: err.message, role }, 'redis error'));
  return redis;
}

let shared: Redis | undefined;

/** The process-wide fail-fast connection used by producers, throttling and caches. */
export function producerRedis(): Redis {
  shared ??= createRedis('producer');
  return shared;
}

/**
 * The shared connection once it is ready. With the offline queue off, a command sent while the first
 * connect is still under way would fail; this waits for it (briefly), then fails fast like any command.
 */
export async function readyRedis(timeoutMs = 2_000): Promise<Redis> {
  const redis = producerRedis();
  if (redis.status === 'ready') return redis;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error('Redis is not reachable'));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
  return redis;
}

export async function closeRedis(): Promise<void> {
  const r = shared;
  shared = undefined;
  if (r) await r.quit().catch(() => r.disconnect());
}
