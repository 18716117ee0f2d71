import type { Job } from 'bullmq';
import { AcmeAccount } from '../models/acme-account.js';
import { finishDeactivation } from '../services/acme-deactivation.js';
import { recordRevocationError, revokeAtCa } from '../services/acme-revocation.js';
import { parsePayload, runAcmeStep } from './job-helpers.js';

/** The flow's parent: runs after every revoke-certificate child has finished. */
export async function deactivateAccount(job: Job, token?: string): Promise<string> {
  const { accountId } = parsePayload('deactivate-account', job);
  const revokeLeftOver = async (certificateId: number) => {
    await revokeAtCa(certificateId).catch(async (err: Error) => {
      await recordRevocationError(certificateId, err.message);
      throw err;
    });
  };
  return runAcmeStep(
    job,
    token,
    () => finishDeactivation(accountId, revokeLeftOver),
    async (reason) => {
      await AcmeAccount.updateOne(
        { id: accountId, status: 'deactivating' },
        { $set: { status: 'failed', error: reason } },
      );
    },
  );
}
