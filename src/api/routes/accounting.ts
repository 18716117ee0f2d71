import Router from '@koa/router';
import { z } from 'zod';
import * as auth from '../../services/auth.js';
import { verifyEmail } from '../../services/email-verification.js';
import { confirmPasswordReset, requestPasswordReset } from '../../services/password-reset.js';
import { revokeToken } from '../../services/tokens.js';
import { profile, updateUserDetails, userDetails } from '../../services/users.js';
import { requireToken, type AuthState } from '../middleware/auth.js';
import { emailField, optionalString, parseBody, parseFields, requiredString } from '../validate.js';

const usernameField = () =>
  requiredString(150).regex(
    auth.USERNAME_PATTERN,
    'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.',
  );

const schemas = {
  registration: z.object({
    username: usernameField(),
    email: emailField(),
    password1: requiredString(),
    password2: requiredString(),
  }),
  login: z.object({ username: requiredString(150), password: requiredString() }),
  verifyEmail: z.object({ key: requiredString(128) }),
  reset: z.object({ email: emailField() }),
  resetConfirm: z.object({
    uid: requiredString(64),
    token: requiredString(128),
    new_password1: requiredString(),
    new_password2: requiredString(),
  }),
  change: z.object({
    old_password: requiredString(),
    new_password1: requiredString(),
    new_password2: requiredString(),
  }),
  userPatch: z.object({ first_name: optionalString(150), last_name: optionalString(150) }),
};

const RESET_SENT = 'Password reset e-mail has been sent.';
const LOGGED_OUT = 'Successfully logged out.';
const PASSWORD_SET = 'New password has been saved.';

/** The Qabel accounting API under /api/v0: every path with or without a trailing slash. */
export function accountingRouter(): Router<AuthState> {
  const router = new Router<AuthState>({ prefix: '/api/v0' });

  router.post('/auth/registration', async (ctx) => {
    const { values, errors } = parseFields(schemas.registration, ctx.request.body);
    ctx.status = 201;
    ctx.body = await auth.register(values, errors);
  });

  router.post('/auth/login', async (ctx) => {
    const { username, password } = parseBody(schemas.login, ctx.request.body);
    ctx.body = await auth.login(username, password, ctx.ip);
  });

  router.post('/auth/logout', requireToken, async (ctx) => {
    if (ctx.state.tokenHash) await revokeToken(ctx.state.tokenHash);
    ctx.body = { success: LOGGED_OUT, detail: LOGGED_OUT };
  });

  router.get('/profile', requireToken, (ctx) => {
    ctx.body = profile(ctx.state.user);
  });

  router.get('/auth/user', requireToken, (ctx) => {
    ctx.body = userDetails(ctx.state.user);
  });

  router.patch('/auth/user', requireToken, async (ctx) => {
    ctx.body = await updateUserDetails(ctx.state.user, parseBody(schemas.userPatch, ctx.request.body));
  });

  router.post('/auth/registration/verify-email', async (ctx) => {
    await verifyEmail(parseBody(schemas.verifyEmail, ctx.request.body).key);
    ctx.body = { detail: 'ok', message: 'ok' };
  });

  router.post('/auth/password/reset', async (ctx) => {
    await requestPasswordReset(parseBody(schemas.reset, ctx.request.body).email);
    ctx.body = { success: RESET_SENT, detail: RESET_SENT };
  });

  router.post('/auth/password/reset/confirm', async (ctx) => {
    await confirmPasswordReset(parseBody(schemas.resetConfirm, ctx.request.body));
    ctx.body = { success: PASSWORD_SET, detail: PASSWORD_SET };
  });

  router.post('/auth/password/change', requireToken, async (ctx) => {
    await auth.changePassword(
      ctx.state.user,
      ctx.state.tokenHash,
      parseBody(schemas.change, ctx.request.body),
    );
    ctx.body = { success: PASSWORD_SET, detail: PASSWORD_SET };
  });

  return router;
}
