import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { CaUnreachable, isPermanent, RetryLater } from '../lib/acme.js';
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
    if (err instanceof RetryLater && token) {
      await job.moveToDelayed(Date.now() + err.delayMs, token);
      throw new DelayedError(err.message);
    }
    const reason = readableReason(err);
    const permanent = isPermanent(err);
    if (permanent || isFinalAttempt(job)) await onGiveUp(reason, permanent);
    throw permanent ? new UnrecoverableError(reason) : err;
  }
}

/** A sentence for the document and the owner's mail: never a stack or OpenSSL's internals. */
function readableReason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (!(err instanceof CaUnreachable) && e.code !== 'ECONNREFUSED' && e.code !== 'ENOTFOUND') {
    return e.message || String(err);
  }
  const code = e.code ?? 'network error';
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') return 'The CA did not answer in time.';
  if (code === 'EPROTO' || /SSL routines|wrong version number/i.test(e.message ?? '')) {
    return `TLS to the CA failed: the server does not speak TLS or offers no acceptable protocol (${code}).`;
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME|ALTNAME/i.test(code)) {
    return `TLS to the CA failed: its certificate is not trusted (${code}).`;
  }
  return `The CA could not be reached (${code}).`;
}
