import { config } from '../config.js';
import { hmac, safeEqual } from '../lib/crypto.js';
import { ValidationError, type FieldErrors } from '../lib/errors.js';
import { User, type UserDoc } from '../models/user.js';
import { validateNewPassword, setPassword } from './auth.js';
import { queueMail } from './mail.js';
import { revokeUserTokens } from './tokens.js';

const VALID_SECONDS = 3 * 24 * 3600;

// The HMAC covers the password hash and last login: a reset, change or login invalidates the token.
function signature(user: UserDoc, timestamp: string): string {
  return hmac(
    'password-reset',
    [user.id, user.password, user.last_login?.getTime() ?? '', timestamp].join('|'),
  );
}

export function makeResetToken(user: UserDoc, now = Date.now()): { uid: string; token: string } {
  const timestamp = Math.floor(now / 1000).toString(36);
  return {
    uid: Buffer.from(String(user.id)).toString('base64url'),
    token: `${timestamp}-${signature(user, timestamp)}`,
  };
}

/** Always succeeds for the caller; only an existing active user gets the mail. */
export async function requestPasswordReset(email: string): Promise<void> {
  const user = await User.findOne({ email_lower: email.trim().toLowerCase(), is_active: true }).lean();
  if (!user) return;
  const { uid, token } = makeResetToken(user);
  await queueMail(user.email, 'password-reset', {
    username: user.username,
    url: `${config.PUBLIC_URL}/accounts/reset/${uid}/${token}/`,
  });
}

async function userFromUid(uid: string): Promise<UserDoc | null> {
  const decoded = Buffer.from(uid, 'base64url').toString('utf8');
  if (!/^\d{1,15}$/.test(decoded)) return null;
  return User.findOne({ id: Number(decoded), is_active: true }).lean();
}

function tokenValid(user: UserDoc, token: string): boolean {
  const [timestamp, sig, extra] = token.split('-');
  if (!timestamp || !sig || extra !== undefined || !/^[0-9a-z]{1,10}$/.test(timestamp)) return false;
  const age = Date.now() / 1000 - parseInt(timestamp, 36);
  return age >= -60 && age <= VALID_SECONDS && safeEqual(sig, signature(user, timestamp));
}

export interface ResetConfirmation {
  uid: string;
  token: string;
  new_password1: string;
  new_password2: string;
}

/** Sets the new password and revokes every token. A failed attempt leaves the token usable. */
export async function confirmPasswordReset(input: ResetConfirmation): Promise<void> {
  const user = await userFromUid(input.uid);
  if (!user) throw new ValidationError({ uid: ['Invalid value'] });
  const errors: FieldErrors = {};
  if (!tokenValid(user, input.token)) errors.token = ['Invalid value'];
  validateNewPassword(errors, user, input.new_password1, input.new_password2);
  if (Object.keys(errors).length > 0) throw new ValidationError(errors);
  await setPassword(user.id, input.new_password1);
  await revokeUserTokens(user.id);
}
