import type { Job } from 'bullmq';
import { markRegistrationFailed, registerAtCa } from '../services/acme-registration.js';
import { parsePayload, runAcmeStep } from './job-helpers.js';

export async function registerAccount(job: Job, token?: string): Promise<string> {
  const { accountId } = parsePayload('register-account', job);
  return runAcmeStep(
    job,
    token,
    () => registerAtCa(accountId),
    (reason) => markRegistrationFailed(accountId, reason),
  );
}
