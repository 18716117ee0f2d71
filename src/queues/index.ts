import { FlowProducer, Queue, type JobsOptions } from 'bullmq';
import { z } from 'zod';
import { config } from '../config.js';
import { logger } from '../lib/logger.js';
import { producerRedis } from '../lib/redis.js';

const objectId = z.string().regex(/^[a-f0-9]{24}$/, 'must be an ObjectId');
const intId = z.number().int().positive();

/** Payloads carry ids only; the documents in MongoDB hold the work. */
export const payloadSchemas = {
  'send-mail': z.object({ mailId: objectId }),
  'register-account': z.object({ accountId: intId }),
  'issue-certificate': z.object({ orderId: intId }),
  'revoke-certificate': z.object({ certificateId: intId }),
  'deactivate-account': z.object({ accountId: intId }),
} as const;

export type JobName = keyof typeof payloadSchemas;
export type Payload<N extends JobName> = z.infer<(typeof payloadSchemas)[N]>;

export const QUEUE_OF = {
  'send-mail': 'mail',
  'register-account': 'acme',
  'issue-certificate': 'acme',
  'revoke-certificate': 'acme',
  'deactivate-account': 'acme',
} as const satisfies Record<JobName, string>;

export type QueueName = (typeof QUEUE_OF)[JobName];
export const QUEUE_NAMES: readonly QueueName[] = ['mail', 'acme'];

export function defaultJobOptions(): JobsOptions {
  return {
    attempts: config.JOB_ATTEMPTS,
    backoff: { type: 'exponential', delay: config.JOB_BACKOFF_MS },
    removeOnComplete: { age: 24 * 3600, count: 1000 },
    removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
  };
}

const queues = new Map<QueueName, Queue>();

export function getQueue(name: QueueName): Queue {
  let q = queues.get(name);
  if (!q) {
    q = new Queue(name, {
      connection: producerRedis(),
      prefix: config.QUEUE_PREFIX,
      defaultJobOptions: defaultJobOptions(),
    });
    q.on('error', (err) => logger.warn({ err: err.message, queue: name }, 'queue error'));
    queues.set(name, q);
  }
  return q;
}

let flows: FlowProducer | undefined;
export function getFlowProducer(): FlowProducer {
  flows ??= new FlowProducer({ connection: producerRedis(), prefix: config.QUEUE_PREFIX });
  return flows;
}

/** The job id is derived from the document, so enqueueing the same work twice is a no-op. */
export const jobIdFor = (name: JobName, ...parts: (string | number)[]): string => [name, ...parts].join('-');

const ENQUEUE_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs a queue operation from a request or the sweep, failing fast when Redis is unavailable: BullMQ would
 * otherwise wait for a connection that is not ready, however long Redis is down. It gives up at once while
 * ioredis is between reconnects and bounds the wait otherwise. The abandoned operation may still land when
 * Redis comes back; job ids are derived from documents, so that is harmless.
 */
export async function withQueues<T>(operation: () => Promise<T>): Promise<T> {
  const { status } = producerRedis();
  if (!['connecting', 'connect', 'ready'].includes(status)) throw new Error(`redis connection is ${status}`);
  const pending = operation();
  pending.catch(() => undefined); // settles after the timeout below: nothing left unhandled
  return withTimeout(pending, ENQUEUE_TIMEOUT_MS);
}

/**
 * Enqueues `name` for a document already written to MongoDB. Returns false instead of throwing when Redis
 * is unavailable: the document still says the work is owed and the worker's sweep enqueues it later.
 */
export async function enqueue<N extends JobName>(
  name: N,
  payload: Payload<N>,
  jobId: string,
  opts: JobsOptions = {},
): Promise<boolean> {
  try {
    const data = payloadSchemas[name].parse(payload);
    await withQueues(() => getQueue(QUEUE_OF[name]).add(name, data, { ...opts, jobId }));
    return true;
  } catch (err) {
    logger.warn({ err: (err as Error).message, job: name, jobId }, 'enqueue failed; the sweep will retry');
    return false;
  }
}

export async function closeQueues(): Promise<void> {
  await Promise.allSettled([...queues.values()].map((q) => q.close()));
  queues.clear();
  await flows?.close();
  flows = undefined;
}
