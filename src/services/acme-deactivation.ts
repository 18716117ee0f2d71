import { AcmeAccount, type AcmeAccountDoc } from '../models/acme-account.js';
import { Certificate } from '../models/certificate.js';
import { defaultJobOptions, getFlowProducer, getQueue, jobIdFor, withQueues } from '../queues/index.js';
import { RetryLater } from '../lib/acme.js';
import { logger } from '../lib/logger.js';
import { Order } from '../models/order.js';
import { deactivateAtCa } from './acme-registration.js';
import { mailUser } from './mail.js';

/**
 * Queues the deletion flow: one revoke-certificate child per certificate of the batch, then the parent
 * deactivate-account, which BullMQ runs only after every child has finished. Ids derive from the account and
 * its deactivation generation, so a repeat is a no-op. Returns false when Redis is unavailable (the sweep
 * retries, since the account stays `deactivating`).
 */
export async function enqueueDeactivation(accountId: number): Promise<boolean> {
  const account = await AcmeAccount.findOne({ id: accountId }).lean<AcmeAccountDoc>();
  if (!account || account.status !== 'deactivating') return false;
  const batch = jobIdFor('deactivate-account', accountId, account.deactivation_generation);
  try {
    await withQueues(async () => {
      if (await getQueue('acme').getJob(batch)) return;
      const certificates = await Certificate.find({
        account: accountId,
        revocation_job: batch,
        status: 'revoking',
      })
        .select({ id: 1 })
        .lean();
      const opts = defaultJobOptions();
      await getFlowProducer().add({
        name: 'deactivate-account',
        queueName: 'acme',
        data: { accountId },
        opts: { ...opts, jobId: batch },
        children: certificates.map((c) => ({
          name: 'revoke-certificate',
          queueName: 'acme',
          data: { certificateId: c.id },
          // A child that fails for good must not hold the parent forever: the parent checks what is left.
          opts: { ...opts, jobId: `${batch}-revoke-${c.id}`, ignoreDependencyOnFailure: true },
        })),
      });
    });
    return true;
  } catch (err) {
    logger.warn(
      { err: (err as Error).message, accountId },
      'enqueue deactivation failed; the sweep will retry',
    );
    return false;
  }
}

/**
 * Orders not started yet are failed; orders being issued must finish first (the job is rescheduled), and
 * whatever they issued joins the batch, so no certificate of the account escapes the revocation.
 */
async function settleOrders(accountId: number, batch: string): Promise<void> {
  await Order.updateMany(
    { account: accountId, status: 'pending' },
    { $set: { status: 'failed', error: 'The ACME account was deleted.' } },
  );
  const inFlight = await Order.countDocuments({ account: accountId, status: 'processing' });
  if (inFlight > 0)
    throw new RetryLater(2_000, `waiting for ${inFlight} order(s) of the account being issued`);
  const late = await Certificate.updateMany(
    { account: accountId, status: 'valid' },
    { $set: { status: 'revoking', revocation_job: batch, revocation_reason: 5, revocation_error: null } },
  );
  if (late.modifiedCount > 0) {
    const total = await Certificate.countDocuments({ account: accountId, revocation_job: batch });
    await AcmeAccount.updateOne({ id: accountId }, { $set: { revocation_total: total } });
  }
}

/**
 * The parent step: every certificate of the batch must be revoked (children did it; any left over are
 * revoked here), then the account is deactivated at the CA. Revoke before deactivate: a CA refuses requests
 * signed by a deactivated account.
 */
export async function finishDeactivation(
  accountId: number,
  revokeLeftOver: (certificateId: number) => Promise<void>,
): Promise<'deactivated' | 'failed' | 'skipped'> {
  const account = await AcmeAccount.findOne({ id: accountId }).lean<AcmeAccountDoc>();
  if (!account || account.status !== 'deactivating') return 'skipped';
  const batch = jobIdFor('deactivate-account', accountId, account.deactivation_generation);
  await settleOrders(accountId, batch);
  const leftOver = await Certificate.find({
    account: accountId,
    revocation_job: batch,
    status: 'revoking',
  }).lean();
  for (const cert of leftOver) {
    await revokeLeftOver(cert.id).catch(() => undefined);
  }
  const failed = await Certificate.countDocuments({
    account: accountId,
    revocation_job: batch,
    status: 'revoking',
  });
  const revoked = await Certificate.countDocuments({
    account: accountId,
    revocation_job: batch,
    status: 'revoked',
  });
  if (failed > 0) {
    await AcmeAccount.updateOne(
      { id: accountId },
      {
        $set: {
          status: 'failed',
          error: `${failed} certificate(s) could not be revoked; DELETE again to retry.`,
        },
      },
    );
    return 'failed';
  }
  if (account.uri) await deactivateAtCa(account);
  // A deactivated account no longer counts as existing: its email and directory can be registered again.
  await AcmeAccount.updateOne(
    { id: accountId },
    { $set: { status: 'deactivated', error: null, active_key: `deactivated:${accountId}` } },
  );
  await mailUser(account.owner, 'account-deactivated', { id: accountId, revoked, failed });
  return 'deactivated';
}
