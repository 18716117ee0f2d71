import { AppError } from '../lib/errors.js';
import { createWithId } from '../models/counter.js';
import { Order, type OrderDoc } from '../models/order.js';
import { enqueue, jobIdFor } from '../queues/index.js';
import { findOwnAccount } from './acme-accounts.js';

const notYours = () => new AppError(400, { detail: 'Order not found.' });

export const enqueueIssuance = (id: number) =>
  enqueue('issue-certificate', { orderId: id }, jobIdFor('issue-certificate', id));

export const presentOrder = (o: OrderDoc) => ({
  id: o.id,
  account: o.account,
  domains: o.domains,
  status: o.status,
  certificate: o.certificate ?? null,
  error: o.error ?? null,
  created_at: o.created_at.toISOString(),
  updated_at: o.updated_at.toISOString(),
});

/** POST /api/order: the account must be the caller's and registered (valid). */
export async function createOrder(owner: number, accountId: number, domains: string[]) {
  const account = await findOwnAccount(owner, accountId).catch(() => {
    throw new AppError(400, { account: ['Unknown ACME account.'] });
  });
  if (account.status !== 'valid') {
    throw new AppError(400, {
      account: [`The ACME account is ${account.status}; orders need a valid account.`],
    });
  }
  const order = await createWithId<OrderDoc>(Order, {
    owner,
    account: accountId,
    domains,
    status: 'pending',
  });
  const { id } = order;
  await enqueueIssuance(id);
  return { id, status: 'pending' as const };
}

export async function getOrder(owner: number, id: number) {
  const order = await Order.findOne({ id, owner }).lean<OrderDoc>();
  if (!order) throw notYours();
  return presentOrder(order);
}

export async function listOrders(owner: number) {
  const orders = await Order.find({ owner }).sort({ id: 1 }).lean<OrderDoc[]>();
  return Object.fromEntries(orders.map((o) => [String(o.id), presentOrder(o)]));
}
