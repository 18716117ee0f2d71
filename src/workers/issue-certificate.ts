import type { Job } from 'bullmq';
import { issueForOrder, markOrderFailed } from '../services/acme-issuance.js';
import { parsePayload, runAcmeStep } from './job-helpers.js';

export async function issueCertificate(job: Job, token?: string): Promise<string> {
  const { orderId } = parsePayload('issue-certificate', job);
  return runAcmeStep(
    job,
    token,
    () => issueForOrder(orderId),
    (reason, permanent) => markOrderFailed(orderId, reason, permanent ? 'invalid' : 'failed'),
  );
}
