import type { Worker } from 'bullmq';
import { config } from '../config.js';
import { logger } from '../lib/logger.js';
import { closeMongo, connectMongo } from '../lib/mongo.js';
import { closeRedis } from '../lib/redis.js';
import { onShutdown } from '../lib/shutdown.js';
import { closeQueues, QUEUE_NAMES, type QueueName } from '../queues/index.js';
import { startWorkers } from './start.js';
import { startSweeper } from './sweep.js';

const wanted = (config.WORKER_QUEUES ?? QUEUE_NAMES) as string[];
const unknown = wanted.filter((q) => !QUEUE_NAMES.includes(q as QueueName));
if (unknown.length > 0) {
  console.error(`WORKER_QUEUES: unknown queue(s) ${unknown.join(', ')}; known: ${QUEUE_NAMES.join(', ')}`);
  process.exit(1);
}

await connectMongo();
const workers: Worker[] = startWorkers(wanted as QueueName[]);
const sweeper = startSweeper(config.SWEEP_INTERVAL_MS);
logger.info({ queues: wanted }, 'worker started');

onShutdown([
  ['sweeper', () => Promise.resolve(sweeper.stop())],
  // close() waits for the jobs in progress; a SIGKILL instead leaves them to stalled-job recovery.
  ['workers', () => Promise.all(workers.map((w) => w.close()))],
  ['queues', closeQueues],
  ['redis', closeRedis],
  ['mongo', closeMongo],
]);
