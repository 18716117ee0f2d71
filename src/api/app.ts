import Koa from 'koa';
import { HttpMethodEnum, koaBody } from 'koa-body';
import { config } from '../config.js';
import { logger } from '../lib/logger.js';
import { errorHandler } from './middleware/errors.js';
import { accountingRouter } from './routes/accounting.js';
import { healthRouter } from './routes/health.js';
import { internalRouter } from './routes/internal.js';
import { pagesRouter } from './routes/pages.js';
import { acmeRouters } from './routes/acme/index.js';

const BODY_LIMIT = '1mb';

/** The Koa application: middleware and routers only; no listen, no connections. */
export function createApp(): Koa {
  const app = new Koa({ proxy: config.TRUST_PROXY });
  app.use(errorHandler);
  app.use(async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  app.use(
    koaBody({
      json: true,
      urlencoded: true,
      multipart: true,
      // DELETE /api/certificates/<id> takes an optional {reason}.
      parsedMethods: [HttpMethodEnum.POST, HttpMethodEnum.PUT, HttpMethodEnum.PATCH, HttpMethodEnum.DELETE],
      jsonLimit: BODY_LIMIT,
      formLimit: BODY_LIMIT,
      textLimit: BODY_LIMIT,
      // Multipart fields only: files are not accepted, so nothing is written to disk.
      formidable: { maxFileSize: 0, maxFiles: 0, maxFieldsSize: 1024 * 1024 },
      onError: (err) => {
        throw err;
      },
    }),
  );
  for (const router of [
    healthRouter(),
    accountingRouter(),
    internalRouter(),
    pagesRouter(),
    ...acmeRouters(),
  ]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  app.on('error', (err: Error, ctx?: Koa.Context) => {
    logger.error({ err, method: ctx?.method, path: ctx?.path }, 'request failed');
  });
  return app;
}
