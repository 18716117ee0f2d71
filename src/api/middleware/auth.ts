import type { Context, Next } from 'koa';
import { config } from '../../config.js';
import { AppError, AuthenticationError, ValidationError } from '../../lib/errors.js';
import { safeEqual } from '../../lib/crypto.js';
import type { UserDoc } from '../../models/user.js';
import { authenticateBasic } from '../../services/basic-auth.js';
import { authenticateToken } from '../../services/tokens.js';

export interface AuthState {
  user: UserDoc;
  /** sha256 of the presented token; absent for Basic credentials. */
  tokenHash?: string;
}

const NO_CREDENTIALS = 'Authentication credentials were not provided.';

/** `Token <key>` with the scheme matched case-insensitively; null when the header has another shape. */
export function parseTokenHeader(header: string | undefined): string | null {
  const match = /^token\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1] ?? null;
}

/** Accounting endpoints: `Authorization: Token <key>`. */
export async function requireToken(ctx: Context, next: Next): Promise<void> {
  const header = ctx.get('Authorization');
  if (!header) throw new AuthenticationError(NO_CREDENTIALS);
  const key = parseTokenHeader(header);
  const auth = key ? await authenticateToken(key) : null;
  if (!auth || !auth.user.is_active) throw new AuthenticationError('Invalid token.');
  ctx.state.user = auth.user;
  ctx.state.tokenHash = auth.tokenHash;
  await next();
}

function parseBasic(header: string): { username: string; password: string } | null {
  const match = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** ACME endpoints: HTTP Basic with the accounting credentials, or a Token. */
export async function requireUser(ctx: Context, next: Next): Promise<void> {
  const header = ctx.get('Authorization');
  const deny = (detail: string) => new AuthenticationError(detail, 'Basic');
  if (!header) throw deny(NO_CREDENTIALS);
  const key = parseTokenHeader(header);
  if (key) {
    const auth = await authenticateToken(key);
    if (!auth || !auth.user.is_active) throw deny('Invalid token.');
    ctx.state.user = auth.user;
    ctx.state.tokenHash = auth.tokenHash;
    await next();
    return;
  }
  const basic = parseBasic(header);
  if (!basic) throw deny('Invalid basic header.');
  try {
    ctx.state.user = await authenticateBasic(basic.username, basic.password, ctx.ip);
  } catch (err) {
    if (err instanceof ValidationError) throw deny('Invalid username/password.');
    throw err;
  }
  await next();
}

/** Internal endpoints for the storage server: the `APISECRET` header, compared in constant time. */
export async function requireInternalSecret(ctx: Context, next: Next): Promise<void> {
  const given = ctx.get('APISECRET');
  if (!given || !safeEqual(given, config.INTERNAL_API_SECRET))
    throw new AppError(403, { error: 'Invalid API key' });
  await next();
}
