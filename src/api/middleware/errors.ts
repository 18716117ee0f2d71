import type { Context, Next } from 'koa';
import { AppError } from '../../lib/errors.js';

const BODY_ERRORS: Record<number, string> = {
  400: 'Malformed request body.',
  413: 'Request body too large.',
  415: 'Unsupported media type.',
};

function isBackendDown(err: unknown): boolean {
  const name = (err as Error | null)?.name ?? '';
  const message = (err as Error | null)?.message ?? '';
  return (
    /^Mongo(ose)?(ServerSelection|Network|NotConnected)Error$/.test(name) ||
    name === 'MaxRetriesPerRequestError' ||
    /enableOfflineQueue|Connection is closed|ECONNREFUSED/.test(message)
  );
}

/** First middleware: every error becomes a stable JSON body; internals go to the log, never the client. */
export async function errorHandler(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
    if (ctx.body == null) {
      // Assigning a body makes Koa answer 200 unless the status was set explicitly, so set it again.
      if (ctx.status === 404) {
        ctx.body = { detail: 'Not found.' };
        ctx.status = 404;
      }
      if (ctx.status === 405) ctx.body = { detail: `Method "${ctx.method}" not allowed.` };
    }
  } catch (err) {
    if (err instanceof AppError) {
      ctx.status = err.status;
      ctx.set(err.headers);
      ctx.body = err.body;
      return;
    }
    // co-body sets `status`; formidable (multipart) sets `httpCode` (413 for fields or files over the limits).
    const { status: bodyStatus, httpCode } = err as { status?: number; httpCode?: number };
    const status = bodyStatus ?? httpCode;
    if (typeof status === 'number' && BODY_ERRORS[status]) {
      ctx.status = status;
      ctx.body = { detail: BODY_ERRORS[status] };
      return;
    }
    ctx.status = isBackendDown(err) ? 503 : 500;
    ctx.body = {
      detail:
        ctx.status === 503 ? 'Service temporarily unavailable, try again later.' : 'Internal server error.',
    };
    ctx.app.emit('error', err, ctx);
  }
}
