import { logger } from '../lib/logger.js';
import { enqueueMail, owedMailIds } from '../services/mail.js';
import { enqueueOwedAcmeWork } from '../services/acme-sweep.js';

// Rows younger than this are left to the request that wrote them, which enqueues right after the write.
const GRACE_MS = 5_000;

/**
 * Re-enqueues work that MongoDB says is owed. Job ids are derived from the documents, so a job still in
 * the queue makes this a no-op; processors skip documents whose work is done, so nothing runs twice.
 */
export async function sweepOwedWork(graceMs = GRACE_MS): Promise<number> {
  let count = 0;
  for (const id of await owedMailIds(graceMs)) if (await enqueueMail(id)) count++;
  count += await enqueueOwedAcmeWork(graceMs);
  if (count > 0) logger.info({ count }, 'sweep enqueued owed work');
  return count;
}

export function startSweeper(intervalMs: number): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweepOwedWork()
      .catch((err: Error) => logger.warn({ err: err.message }, 'sweep failed'))
      .finally(() => (running = false));
  }, intervalMs);
  return { stop: () => clearInterval(timer) };
}
