import { randomBytes } from 'node:crypto';
import { config } from '../config.js';
import { NotFoundError } from '../lib/errors.js';
import { sha256 } from '../lib/crypto.js';
import { EmailVerification } from '../models/email-verification.js';
import { User, type UserDoc } from '../models/user.js';
import { queueMail } from './mail.js';

const VALID_MS = 3 * 24 * 3600_000;
const REMINDER_EVERY_MS = 24 * 3600_000;

export const verificationUrl = (key: string) => `${config.PUBLIC_URL}/account-confirm-email/${key}/`;

/** Stores a hashed key valid for 3 days and queues the mail carrying the plain one. */
export async function sendVerification(user: UserDoc, reminder = false): Promise<void> {
  const key = randomBytes(32).toString('hex');
  await EmailVerification.create({
    key_hash: sha256(key),
    user: user.id,
    email: user.email,
    expires_at: new Date(Date.now() + VALID_MS),
  });
  await queueMail(user.email, 'verify-email', {
    username: user.username,
    url: verificationUrl(key),
    reminder,
  });
}

export async function sendVerificationReminder(user: UserDoc): Promise<void> {
  const since = new Date(Date.now() - REMINDER_EVERY_MS);
  // The conditional update claims the reminder; on servers without atomic updates two racing claims
  // could both win, which costs one extra mail, never a missed one.
  const claim = await User.updateOne(
    { id: user.id, $or: [{ verification_reminder_at: null }, { verification_reminder_at: { $lt: since } }] },
    { $set: { verification_reminder_at: new Date() } },
  );
  if (claim.modifiedCount === 1) await sendVerification(user, true);
}

/** Confirms the address; repeating it with the same unexpired key is fine. Keys match case-insensitively. */
export async function verifyEmail(key: string): Promise<void> {
  const row = await EmailVerification.findOne({
    key_hash: sha256(key.trim().toLowerCase()),
    expires_at: { $gt: new Date() },
  }).lean();
  if (!row) throw new NotFoundError('Not found.');
  // Only the address the key was sent to is confirmed: a key mailed before an email change proves nothing.
  await User.updateOne({ id: row.user, email: row.email }, { $set: { email_verified: true } });
  if (!row.confirmed_at)
    await EmailVerification.updateOne({ _id: row._id }, { $set: { confirmed_at: new Date() } });
}
