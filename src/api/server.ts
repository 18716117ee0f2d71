import { once } from 'node:events';
import { createServer } from 'node:http';
import { config } from '../config.js';
import { logger } from '../lib/logger.js';
import { closeMongo, connectMongo } from '../lib/mongo.js';
import { closeRedis, producerRedis } from '../lib/redis.js';
import { onShutdown } from '../lib/shutdown.js';
import { closeQueues } from '../queues/index.js';
import { createApp } from './app.js';

await connectMongo();
producerRedis();
const app = createApp();
// Koa's callback handles its own promise rejections (errorHandler and app.on('error')).
// eslint-disable-next-line @typescript-eslint/no-misused-promises
const server = createServer(app.callback());
// Keep-alive longer than a typical load balancer's idle timeout, so it never reuses a closed socket.
server.keepAliveTimeout = 65_000;
server.listen(config.PORT);
await once(server, 'listening');
const address = server.address();
logger.info({ port: typeof address === 'object' && address ? address.port : config.PORT }, 'web listening');

onShutdown([
  [
    'http',
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  ],
  ['queues', closeQueues],
  ['redis', closeRedis],
  ['mongo', closeMongo],
]);
