import { randomKey, sha256 } from '../lib/crypto.js';
import { logger } from '../lib/logger.js';
import { Token, type TokenDoc } from '../models/token.js';
import { User, type UserDoc } from '../models/user.js';

const TOUCH_EVERY_MS = 5 * 60_000;

/** Issues a new 40-hex key; only its sha256 is stored. */
export async function issueToken(userId: number): Promise<string> {
  const key = randomKey();
  await Token.create({ _id: sha256(key), user: userId });
  return key;
}

export interface Authenticated {
  user: UserDoc;
  tokenHash: string;
}

/**
 * The hot path: one round trip to the database (the token by its _id joined to its user on the unique
 * `id` index). No password hashing, no cache to go stale: a revocation is seen by every process at once.
 */
export async function authenticateToken(key: string): Promise<Authenticated | null> {
  if (!/^[0-9a-fA-F]{40}$/.test(key)) return null;
  const tokenHash = sha256(key.toLowerCase());
  const [token] = await Token.aggregate<TokenDoc & { owner: UserDoc[] }>([
    { $match: { _id: tokenHash } },
    { $limit: 1 },
    {
      $lookup: { from: User.collection.collectionName, localField: 'user', foreignField: 'id', as: 'owner' },
    },
  ]);
  const user = token?.owner[0];
  if (!token || !user) return null;
  if (Date.now() - token.last_used_at.getTime() > TOUCH_EVERY_MS) {
    // Written at most every few minutes, off the request's critical path.
    Token.updateOne({ _id: tokenHash }, { $set: { last_used_at: new Date() } }).catch((err: Error) =>
      logger.warn({ err: err.message }, 'token touch failed'),
    );
  }
  return { user, tokenHash };
}

export async function revokeToken(tokenHash: string): Promise<void> {
  await Token.deleteOne({ _id: tokenHash });
}

/** Revokes every token of the user except `keepHash` (the caller's own, on a password change). */
export async function revokeUserTokens(userId: number, keepHash?: string): Promise<void> {
  await Token.deleteMany({ user: userId, ...(keepHash ? { _id: { $ne: keepHash } } : {}) });
}
