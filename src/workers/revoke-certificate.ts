import type { Job } from 'bullmq';
import { recordRevocationError, revokeAtCa } from '../services/acme-revocation.js';
import { parsePayload, runAcmeStep } from './job-helpers.js';

export async function revokeCertificate(job: Job, token?: string): Promise<string> {
  const { certificateId } = parsePayload('revoke-certificate', job);
  return runAcmeStep(
    job,
    token,
    () => revokeAtCa(certificateId),
    (reason) => recordRevocationError(certificateId, reason),
  );
}
