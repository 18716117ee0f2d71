import Router from '@koa/router';
import { mongoReady } from '../../lib/mongo.js';
import { readyRedis } from '../../lib/redis.js';

/** GET /_health: 200 when MongoDB and Redis answer, 503 otherwise (for load balancers and probes). */
export function healthRouter(): Router {
  const router = new Router();
  router.get('/_health', async (ctx) => {
    const redis = await readyRedis(500)
      .then((r) => r.ping())
      .then(() => true)
      .catch(() => false);
    const mongo = mongoReady();
    ctx.status = redis && mongo ? 200 : 503;
    ctx.body = { mongo: mongo ? 'ok' : 'down', redis: redis ? 'ok' : 'down' };
  });
  return router;
}
