import { randomKey, sha256 } from '../lib/crypto.js';
import { logger } from '../lib/logger.js';
import { Token } from '../models/token.js';
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

/** The hot path: one indexed lookup of the token, one of its user. No password hashing. */
export async function authenticateToken(key: string): Promise<Authenticated | null> {
  if (!/^[0-9a-fA-F]{40}$/.test(key)) return null;
  const tokenHash = sha256(key.toLowerCase());
  const token = await Token.findById(tokenHash).lean();
  if (!token) return null;
  const user = await User.findOne({ id: token.user }).lean();
  if (!user) return null;
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
