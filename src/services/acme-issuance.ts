import type acme from 'acme-client';
import { config } from '../config.js';
import { createCsr, generateKey, PermanentFailure, readCertificate } from '../lib/acme.js';
import { decryptSecret, encryptSecret } from '../lib/crypto.js';
import { AcmeAccount, type AcmeAccountDoc } from '../models/acme-account.js';
import { Certificate, type CertificateDoc } from '../models/certificate.js';
import { createWithId, isDuplicateKey } from '../models/counter.js';
import { Order, type OrderDoc } from '../models/order.js';
import { clientFor } from './acme-registration.js';
import { clearChallenges, publishChallenge } from './challenges.js';
import { mailUser } from './mail.js';

type AcmeOrder = acme.Order;

async function loadOrder(orderId: number): Promise<OrderDoc | null> {
  return Order.findOne({ id: orderId }).lean<OrderDoc>();
}

/** The certificate key is generated once per order and stored before the CA sees a CSR made from it. */
async function ensureOrderKey(order: OrderDoc): Promise<string> {
  if (!order.key_sealed) {
    const sealed = encryptSecret(await generateKey(config.CERTIFICATE_KEY_TYPE));
    await Order.updateOne({ id: order.id, key_sealed: null }, { $set: { key_sealed: sealed } });
  }
  const fresh = await loadOrder(order.id);
  return decryptSecret(fresh!.key_sealed!);
}

/** Resumes the ACME order stored on the document, or creates it and stores its URL first. */
async function acmeOrderFor(client: acme.Client, order: OrderDoc): Promise<AcmeOrder> {
  if (order.acme_order_url) return client.getOrder({ url: order.acme_order_url } as AcmeOrder);
  const created = await client.createOrder({
    identifiers: order.domains.map((value) => ({ type: 'dns', value })),
  });
  await Order.updateOne({ id: order.id, acme_order_url: null }, { $set: { acme_order_url: created.url } });
  return created;
}

/** http-01 for every pending authorization; the key authorization goes to MongoDB so any web process answers. */
async function solveChallenges(client: acme.Client, order: OrderDoc, acmeOrder: AcmeOrder): Promise<void> {
  for (const authz of await client.getAuthorizations(acmeOrder)) {
    if (authz.status === 'valid') continue;
    if (authz.status !== 'pending') {
      throw new PermanentFailure(`authorization for ${authz.identifier.value} is ${authz.status}`);
    }
    const challenge = authz.challenges.find((c) => c.type === 'http-01');
    if (!challenge)
      throw new PermanentFailure(`the CA offers no http-01 challenge for ${authz.identifier.value}`);
    const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
    await publishChallenge(challenge.token, keyAuthorization, order.id);
    if (challenge.status === 'pending') await client.completeChallenge(challenge);
    try {
      await client.waitForValidStatus(challenge);
    } catch (err) {
      const latest = await client.getOrder(acmeOrder);
      if (latest.status === 'invalid') throw new PermanentFailure((err as Error).message);
      throw err;
    }
  }
}

async function storeCertificate(order: OrderDoc, pemChain: string, keyPem: string): Promise<number> {
  const facts = readCertificate(pemChain);
  try {
    const cert = await createWithId<CertificateDoc>(Certificate, {
      owner: order.owner,
      account: order.account,
      order: order.id,
      domains: order.domains,
      status: 'valid',
      serial: facts.serial,
      fingerprint: facts.fingerprint,
      not_before: facts.notBefore,
      not_after: facts.notAfter,
      certificate: facts.leaf,
      chain: facts.chain,
      key_sealed: encryptSecret(keyPem),
    });
    return cert.id;
  } catch (err) {
    // A previous run stored it already (one certificate per order).
    if (!isDuplicateKey(err)) throw err;
    const existing = await Certificate.findOne({ order: order.id }).lean();
    if (!existing) throw err;
    return existing.id;
  }
}

/**
 * issue-certificate: order, http-01 challenges, finalize with a CSR from the account's subject defaults,
 * store the certificate. Every step is persisted, so a re-run resumes instead of issuing twice.
 */
export async function issueForOrder(orderId: number): Promise<'valid' | 'skipped'> {
  const order = await loadOrder(orderId);
  if (!order || !['pending', 'processing'].includes(order.status)) return 'skipped';
  // Claim the order before looking at the account: an account deletion fails the orders still pending
  // and waits for those processing, so no certificate can be issued behind its back.
  await Order.updateOne({ id: orderId, status: 'pending' }, { $set: { status: 'processing' } });
  if ((await loadOrder(orderId))?.status !== 'processing') return 'skipped';
  const account = await AcmeAccount.findOne({ id: order.account }).lean<AcmeAccountDoc>();
  if (!account || account.status !== 'valid') throw new PermanentFailure('the ACME account is not valid');

  const keyPem = await ensureOrderKey(order);
  const client = clientFor(account);
  let acmeOrder = await acmeOrderFor(client, order);
  if (acmeOrder.status === 'invalid') throw new PermanentFailure('the CA marked the order invalid');
  if (acmeOrder.status === 'pending') {
    await solveChallenges(client, order, acmeOrder);
    acmeOrder = await client.getOrder(acmeOrder);
  }
  if (acmeOrder.status === 'ready') {
    const subject = {
      organization: account.organization,
      organizationUnit: account.organizational_unit,
      country: account.country,
      state: account.state,
      locality: account.location,
    };
    acmeOrder = await client.finalizeOrder(acmeOrder, await createCsr(keyPem, order.domains, subject));
  }
  const certificateId = await storeCertificate(order, await client.getCertificate(acmeOrder), keyPem);
  await Order.updateOne(
    { id: orderId, status: 'processing' },
    { $set: { status: 'valid', certificate: certificateId, error: null } },
  );
  await clearChallenges(orderId);
  const cert = await Certificate.findOne({ id: certificateId }).lean();
  await mailUser(order.owner, 'certificate-issued', {
    orderId,
    certificateId,
    domains: order.domains,
    notAfter: cert?.not_after.toISOString() ?? '',
  });
  return 'valid';
}

export async function markOrderFailed(
  orderId: number,
  error: string,
  status: 'invalid' | 'failed',
): Promise<void> {
  const result = await Order.updateOne(
    { id: orderId, status: { $in: ['pending', 'processing'] } },
    { $set: { status, error } },
  );
  await clearChallenges(orderId);
  const order = await loadOrder(orderId);
  if (order && result.modifiedCount > 0)
    await mailUser(order.owner, 'certificate-failed', { orderId, domains: order.domains, error });
}
