import { AcmeAccount } from '../models/acme-account.js';
import { Certificate } from '../models/certificate.js';
import { Order } from '../models/order.js';
import { enqueueRegistration } from './acme-accounts.js';
import { enqueueDeactivation } from './acme-deactivation.js';
import { enqueueRevocation } from './certificates.js';
import { enqueueIssuance } from './orders.js';

const LIMIT = 500;

/** Enqueues ACME work whose document says it is owed; ids are derived, so queued jobs make this a no-op. */
export async function enqueueOwedAcmeWork(graceMs: number): Promise<number> {
  const before = { $lt: new Date(Date.now() - graceMs) };
  let count = 0;
  const accounts = await AcmeAccount.find({
    status: { $in: ['pending', 'deactivating'] },
    updated_at: before,
  })
    .limit(LIMIT)
    .lean();
  for (const a of accounts) {
    if (await (a.status === 'pending' ? enqueueRegistration(a.id) : enqueueDeactivation(a.id))) count++;
  }
  const orders = await Order.find({ status: { $in: ['pending', 'processing'] }, updated_at: before })
    .limit(LIMIT)
    .lean();
  for (const o of orders) if (await enqueueIssuance(o.id)) count++;
  // Certificates revoked on their own; those of an account deletion belong to the deletion flow.
  const certs = await Certificate.find({
    status: 'revoking',
    updated_at: before,
    revocation_job: /^revoke-certificate-/,
  })
    .limit(LIMIT)
    .lean();
  for (const c of certs) if (await enqueueRevocation(c.id, c.revocation_job!)) count++;
  return count;
}
