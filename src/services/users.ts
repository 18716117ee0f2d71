import { config } from '../config.js';
import { NotFoundError } from '../lib/errors.js';
import { User, type UserDoc } from '../models/user.js';
import { sendVerificationReminder } from './email-verification.js';

const GRACE_MS = 7 * 24 * 3600_000;

/** Enabled, and verified or still inside the 7-day grace period after registration. */
export const isActive = (user: UserDoc, now = Date.now()): boolean =>
  user.is_active && (user.email_verified || now - user.created_at.getTime() < GRACE_MS);

/**
 * What the storage server sees. A user inactive only for want of verification gets a reminder mail
 * (at most one per 24 h; sendVerificationReminder enforces that).
 */
export async function accessStatus(user: UserDoc): Promise<{ user_id: number; active: boolean }> {
  const active = isActive(user);
  if (!active && user.is_active && !user.email_verified) await sendVerificationReminder(user);
  return { user_id: user.id, active };
}

export async function findUserById(id: number): Promise<UserDoc> {
  const user = await User.findOne({ id }).lean();
  if (!user) throw new NotFoundError('Not found.');
  return user;
}

export const profile = (user: UserDoc) => ({
  bucket: config.STORAGE_BUCKET,
  used_storage: user.used_storage,
  quota: user.quota,
});

export const userDetails = (user: UserDoc) => ({
  username: user.username,
  email: user.email,
  first_name: user.first_name,
  last_name: user.last_name,
  email_verified: user.email_verified,
});

export async function updateUserDetails(
  user: UserDoc,
  changes: { first_name?: string; last_name?: string },
): Promise<ReturnType<typeof userDetails>> {
  await User.updateOne({ id: user.id }, { $set: changes });
  return userDetails({ ...user, ...changes });
}

export async function internalUser(id: number) {
  const user = await findUserById(id);
  const { active } = await accessStatus(user);
  return {
    user_id: user.id,
    active,
    block_quota: user.quota,
    monthly_traffic_quota: user.monthly_traffic_quota,
  };
}

export async function reportUsage(
  id: number,
  usedStorage: number,
): Promise<{ user_id: number; used_storage: number }> {
  const result = await User.updateOne({ id }, { $set: { used_storage: usedStorage } });
  if (result.matchedCount === 0) throw new NotFoundError('Not found.');
  return { user_id: id, used_storage: usedStorage };
}
