import { hmac, sha256 } from '../lib/crypto.js';
import { logger } from '../lib/logger.js';
import { readyRedis } from '../lib/redis.js';
import { User, type UserDoc } from '../models/user.js';
import { checkCredentials } from './auth.js';

const CACHE_SECONDS = 60;

// The cache key is keyed with SECRET_KEY, so Redis never holds anything a password can be guessed from
// offline. The value pins the user's current password hash: a password change makes every entry miss.
const cacheKey = (username: string, password: string) =>
  `auth:basic:${hmac('basic-auth-cache', `${username.trim().toLowerCase()}\0${password}`)}`;
const pin = (user: UserDoc) => `${user.id}:${sha256(user.password)}`;

async function fromCache(key: string): Promise<UserDoc | null> {
  const hit = await readyRedis()
    .then((redis) => redis.get(key))
    .catch(() => null);
  const id = hit ? Number(hit.split(':')[0]) : NaN;
  if (!Number.isSafeInteger(id)) return null;
  const user = await User.findOne({ id }).lean();
  return user && user.is_active && pin(user) === hit ? user : null;
}

/** HTTP Basic for the ACME API: a full password check only on a cache miss; failures feed the login throttle. */
export async function authenticateBasic(username: string, password: string, ip: string): Promise<UserDoc> {
  const key = cacheKey(username, password);
  const cached = await fromCache(key);
  if (cached) return cached;
  const user = await checkCredentials(username, password, ip);
  await readyRedis()
    .then((redis) => redis.set(key, pin(user), 'EX', CACHE_SECONDS))
    .catch((err: Error) => logger.warn({ err: err.message }, 'basic auth cache write failed'));
  return user;
}
