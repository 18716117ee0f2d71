import { Worker, type Job } from 'bullmq';
import { config } from '../config.js';
import { logger } from '../lib/logger.js';
import { createRedis } from '../lib/redis.js';
import { QUEUE_OF, type JobName, type QueueName } from '../queues/index.js';
import { deactivateAccount } from './deactivate-account.js';
import { issueCertificate } from './issue-certificate.js';
import { registerAccount } from './register-account.js';
import { revokeCertificate } from './revoke-certificate.js';
import { sendMail } from './send-mail.js';

type JobProcessor = (job: Job, token?: string) => Promise<unknown>;

export const processors = {
  'send-mail': sendMail,
  'register-account': registerAccount,
  'issue-certificate': issueCertificate,
  'revoke-certificate': revokeCertificate,
  'deactivate-account': deactivateAccount,
} satisfies Record<JobName, JobProcessor>;

function dispatch(queue: QueueName): JobProcessor {
  return async (job, token) => {
    const name = job.name as JobName;
    if (!(name in processors) || QUEUE_OF[name] !== queue)
      throw new Error(`no processor for ${job.name} on ${queue}`);
    return processors[name](job, token);
  };
}

/** One Worker per queue, each with its own blocking connection. */
export function startWorkers(queues: readonly QueueName[], prefix = config.QUEUE_PREFIX): Worker[] {
  return queues.map((queue) => {
    const connection = createRedis('worker');
    const worker = new Worker(queue, dispatch(queue), {
      connection,
      prefix,
      concurrency: config.WORKER_CONCURRENCY,
    });
    worker.on('failed', (job, err) =>
      logger.warn(
        { queue, job: job?.name, jobId: job?.id, attempts: job?.attemptsMade, err: err.message },
        'job failed',
      ),
    );
    worker.on('error', (err) => logger.warn({ queue, err: err.message }, 'worker error'));
    // BullMQ leaves a connection it was handed open: close it with the worker.
    worker.on('closed', () => void connection.quit().catch(() => connection.disconnect()));
    return worker;
  });
}
