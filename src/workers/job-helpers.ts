import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { CaRetryLater, CaUnreachable, isPermanent } from '../lib/acme.js';
import { payloadSchemas, type JobName, type Payload } from '../queues/index.js';

/** A payload that does not match its schema will never succeed: fail it without retries. */
export function parsePayload<N extends JobName>(name: N, job: Job): Payload<N> {
  const result = payloadSchemas[name].safeParse(job.data);
  if (!result.success) throw new UnrecoverableError(`invalid ${name} payload: ${result.error.message}`);
  return result.data as Payload<N>;
}

/** True while the current run is the job's last allowed attempt. */
export const isFinalAttempt = (job: Job): boolean => job.attemptsMade + 1 >= (job.opts.attempts ?? 1);

/**
 * Runs one ACME step with the CA-facing error policy: Retry-After reschedules the job without using an
 * attempt; permanent errors (the CA's malformed, rejectedIdentifier, unauthorized, ...) fail at once; anything
 * else (network, TLS, 5xx) is retried by BullMQ with backoff. `onGiveUp` records the reason on the document.
 */
export async function runAcmeStep<T>(
  job: Job,
  token: string | undefined,
  step: () => Promise<T>,
  onGiveUp: (reason: string, permanent: boolean) => Promise<void>,
): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof CaRetryLater && token) {
      await job.moveToDelayed(Date.now() + err.delayMs, token);
      throw new DelayedError(err.message);
    }
    const reason = readableReason(err);
    const permanent = isPermanent(err);
    if (permanent || isFinalAttempt(job)) await onGiveUp(reason, permanent);
    throw permanent ? new UnrecoverableError(reason) : err;
  }
}

function readableReason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (err instanceof CaUnreachable || e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND') {
    if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT') return 'The CA did not answer in time.';
    if (/certificate|self.signed|CERT_|TLS|SSL/i.test(`${e.code ?? ''} ${e.message ?? ''}`)) {
      return `TLS to the CA failed: ${e.message ?? e.code ?? ''}`;
    }
    return `The CA could not be reached (${e.code ?? e.message ?? 'network error'}).`;
  }
  return e.message || String(err);
}
