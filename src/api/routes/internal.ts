import Router from '@koa/router';
import { z } from 'zod';
import { AppError } from '../../lib/errors.js';
import { authenticateToken } from '../../services/tokens.js';
import { accessStatus, internalUser, reportUsage } from '../../services/users.js';
import { parseTokenHeader, requireInternalSecret } from '../middleware/auth.js';
import { integerField, parseBody } from '../validate.js';

const userIdBody = z.object({ user_id: integerField(1) });
const usageBody = z.object({ user_id: integerField(1), used_storage: integerField(0) });

/** Endpoints for the storage/block server, guarded by the APISECRET header. */
export function internalRouter(): Router {
  const router = new Router({ prefix: '/api/v0' });

  // The storage server calls this on every request: one token lookup, no password hashing.
  router.post('/auth', requireInternalSecret, async (ctx) => {
    const body = (ctx.request.body ?? {}) as { auth?: unknown };
    if (typeof body.auth !== 'string' || body.auth.trim() === '') {
      throw new AppError(400, { error: 'Missing auth field' });
    }
    const key = parseTokenHeader(body.auth);
    if (!key) throw new AppError(400, { error: 'Malformed auth field, expected "Token <key>"' });
    const found = await authenticateToken(key);
    if (!found) throw new AppError(404, { error: 'Invalid token' });
    ctx.body = await accessStatus(found.user);
  });

  router.post('/internal/user', requireInternalSecret, async (ctx) => {
    ctx.body = await internalUser(parseBody(userIdBody, ctx.request.body).user_id);
  });

  router.post('/internal/usage', requireInternalSecret, async (ctx) => {
    const { user_id, used_storage } = parseBody(usageBody, ctx.request.body);
    ctx.body = await reportUsage(user_id, used_storage);
  });

  return router;
}
