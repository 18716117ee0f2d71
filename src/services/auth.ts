import { config } from '../config.js';
import { burnPasswordCheck, hashPassword, verifyPassword } from '../lib/crypto.js';
import { ValidationError, type FieldErrors } from '../lib/errors.js';
import { createWithId, isDuplicateKey } from '../models/counter.js';
import { User, type UserDoc } from '../models/user.js';
import { sendVerification } from './email-verification.js';
import { assertLoginAllowed, recordLoginFailure, recordLoginSuccess } from './login-throttle.js';
import { passwordProblems } from './password-policy.js';
import { issueToken, revokeUserTokens } from './tokens.js';

export const USERNAME_PATTERN = /^[\w.@+-]{1,150}$/;
const BAD_CREDENTIALS = 'Unable to log in with provided credentials.';

function addError(errors: FieldErrors, field: string, message: string): void {
  (errors[field] ??= []).push(message);
}

export interface Registration {
  username: string;
  email: string;
  password1: string;
  password2: string;
}

/**
 * Creates the user, queues the verification mail and returns a token key, as a login would. `fieldErrors`
 * are the caller's shape errors; the checks here add to them so every problem is reported at once.
 */
export async function register(
  input: Partial<Registration>,
  fieldErrors: FieldErrors = {},
): Promise<{ key: string }> {
  const errors: FieldErrors = { ...fieldErrors };
  const username = input.username?.trim();
  const email = input.email?.trim();
  const [usernameTaken, emailTaken] = await Promise.all([
    username ? User.exists({ username_lower: username.toLowerCase() }) : null,
    email ? User.exists({ email_lower: email.toLowerCase() }) : null,
  ]);
  if (usernameTaken) addError(errors, 'username', 'A user with that username already exists.');
  if (emailTaken) addError(errors, 'email', 'A user is already registered with this e-mail address.');
  if (input.password1 !== undefined) {
    for (const problem of passwordProblems(input.password1, { username, email }))
      addError(errors, 'password1', problem);
  }
  if (input.password1 !== undefined && input.password2 !== undefined && input.password1 !== input.password2) {
    addError(errors, 'non_field_errors', "The two password fields didn't match.");
  }
  if (!username || !email || input.password1 === undefined || Object.keys(errors).length > 0) {
    throw new ValidationError(errors);
  }

  let user: UserDoc;
  try {
    // The rest comes from the schema's defaults. last_login is set so a reset token is tied to this moment.
    user = await createWithId<UserDoc>(User, {
      username,
      username_lower: username.toLowerCase(),
      email,
      email_lower: email.toLowerCase(),
      password: await hashPassword(input.password1),
      quota: config.DEFAULT_QUOTA,
      monthly_traffic_quota: config.DEFAULT_MONTHLY_TRAFFIC_QUOTA,
      last_login: new Date(),
    });
  } catch (err) {
    // Lost a race with a concurrent registration of the same name or address.
    if (!isDuplicateKey(err)) throw err;
    const field = /email/.test(String(err)) ? 'email' : 'username';
    throw new ValidationError({
      [field]: [`A user with that ${field === 'email' ? 'e-mail address' : field} already exists.`],
    });
  }
  await sendVerification(user);
  return { key: await issueToken(user.id) };
}

/**
 * Checks a username and password, counting failures in the login throttle. An unknown user costs the
 * same password verification as a wrong password, and both give the same answer.
 */
export async function checkCredentials(username: string, password: string, ip: string): Promise<UserDoc> {
  await assertLoginAllowed(ip, username);
  const user = await User.findOne({ username_lower: username.trim().toLowerCase() }).lean();
  const ok = user
    ? await verifyPassword(user.password, password)
    : (await burnPasswordCheck(password), false);
  if (!user || !ok || !user.is_active) {
    await recordLoginFailure(ip, username);
    throw new ValidationError({ non_field_errors: [BAD_CREDENTIALS] });
  }
  await recordLoginSuccess(ip, username);
  return user;
}

export async function login(username: string, password: string, ip: string): Promise<{ key: string }> {
  const user = await checkCredentials(username, password, ip);
  // last_login feeds the reset-token HMAC: a login invalidates outstanding reset links.
  await User.updateOne({ id: user.id }, { $set: { last_login: new Date() } });
  return { key: await issueToken(user.id) };
}

export interface PasswordChange {
  old_password: string;
  new_password1: string;
  new_password2: string;
}

/** Sets a new password; the calling token keeps working, every other token of the user is revoked. */
export async function changePassword(user: UserDoc, tokenHash: string | undefined, input: PasswordChange) {
  const errors: FieldErrors = {};
  if (!(await verifyPassword(user.password, input.old_password))) {
    addError(errors, 'old_password', 'Your old password was entered incorrectly. Please enter it again.');
  }
  validateNewPassword(errors, user, input.new_password1, input.new_password2);
  if (Object.keys(errors).length > 0) throw new ValidationError(errors);
  await setPassword(user.id, input.new_password1);
  await revokeUserTokens(user.id, tokenHash);
}

export function validateNewPassword(
  errors: FieldErrors,
  user: UserDoc,
  password1: string,
  password2: string,
): void {
  if (password1 !== password2) {
    addError(errors, 'new_password2', "The two password fields didn't match.");
    return;
  }
  for (const problem of passwordProblems(password2, user)) addError(errors, 'new_password2', problem);
}

/** Stores a new hash; listeners (the Basic-auth cache) key on the hash, so old entries stop matching. */
export async function setPassword(userId: number, password: string): Promise<void> {
  await User.updateOne({ id: userId }, { $set: { password: await hashPassword(password) } });
}
