import { config } from '../config.js';
import { encryptSecret } from '../lib/crypto.js';
import { AppError } from '../lib/errors.js';
import { AcmeAccount, type AcmeAccountDoc } from '../models/acme-account.js';
import { Certificate } from '../models/certificate.js';
import { createWithId, isDuplicateKey } from '../models/counter.js';
import { enqueue, jobIdFor } from '../queues/index.js';
import { enqueueDeactivation } from './acme-deactivation.js';

export interface NewAcmeAccount {
  email: string;
  server?: string;
  organization?: string;
  organizational_unit?: string;
  country?: string;
  state?: string;
  location?: string;
  key?: string;
  eab_kid?: string;
  eab_hmac_key?: string;
}

/** The seed answers 400 for an unknown id and for another user's account alike. */
const notYours = () => new AppError(400, { detail: 'ACME account not found.' });

export async function findOwnAccount(owner: number, id: number): Promise<AcmeAccountDoc> {
  const account = await AcmeAccount.findOne({ id, owner }).lean<AcmeAccountDoc>();
  if (!account) throw notYours();
  return account;
}

export const enqueueRegistration = (id: number) =>
  enqueue('register-account', { accountId: id }, jobIdFor('register-account', id));

/**
 * Creates the account document (status pending) and queues its registration. The same owner, email and
 * directory with an account not deactivated returns that one instead (`created: false`).
 */
export async function createAcmeAccount(owner: number, input: NewAcmeAccount) {
  const server = input.server ?? config.ACME_DIRECTORY_URL;
  const activeKey = `${owner}:${input.email.toLowerCase()}:${server}`;
  const existing = await AcmeAccount.findOne({ active_key: activeKey }).lean<AcmeAccountDoc>();
  if (existing) return { created: false, account: existing };
  let account: AcmeAccountDoc;
  try {
    account = await createWithId<AcmeAccountDoc>(AcmeAccount, {
      owner,
      email: input.email,
      email_lower: input.email.toLowerCase(),
      server,
      active_key: activeKey,
      organization: input.organization ?? config.ACME_DEFAULT_ORGANIZATION,
      organizational_unit: input.organizational_unit ?? config.ACME_DEFAULT_ORGANIZATIONAL_UNIT,
      country: (input.country ?? config.ACME_DEFAULT_COUNTRY).toUpperCase(),
      state: input.state ?? config.ACME_DEFAULT_STATE,
      location: input.location ?? config.ACME_DEFAULT_LOCATION,
      key_sealed: input.key ? encryptSecret(input.key.trim() + '\n') : null,
      eab_kid: input.eab_kid ?? null,
      eab_hmac_key_sealed: input.eab_hmac_key ? encryptSecret(input.eab_hmac_key) : null,
      status: 'pending',
    });
  } catch (err) {
    // A concurrent POST for the same email and directory won: answer with its account.
    if (!isDuplicateKey(err)) throw err;
    const winner = await AcmeAccount.findOne({ active_key: activeKey }).lean<AcmeAccountDoc>();
    if (!winner) throw err;
    return { created: false, account: winner };
  }
  await enqueueRegistration(account.id);
  return { created: true, account };
}

async function revocationProgress(account: AcmeAccountDoc) {
  const batch = jobIdFor('deactivate-account', account.id, account.deactivation_generation);
  const [done, failed] = await Promise.all([
    Certificate.countDocuments({ account: account.id, revocation_job: batch, status: 'revoked' }),
    Certificate.countDocuments({
      account: account.id,
      revocation_job: batch,
      revocation_error: { $ne: null },
    }),
  ]);
  return { total: account.revocation_total, done, failed };
}

/** The API's view of an account: never the private key. */
export async function presentAccount(account: AcmeAccountDoc) {
  return {
    id: account.id,
    email: account.email,
    server: account.server,
    status: account.status,
    uri: account.uri ?? null,
    organization: account.organization,
    organizational_unit: account.organizational_unit,
    country: account.country,
    state: account.state,
    location: account.location,
    error: account.error ?? null,
    created_at: account.created_at.toISOString(),
    updated_at: account.updated_at.toISOString(),
    ...(account.deactivation_generation > 0 ? { revocation: await revocationProgress(account) } : {}),
  };
}

export async function listAccounts(owner: number) {
  const accounts = await AcmeAccount.find({ owner }).sort({ id: 1 }).lean<AcmeAccountDoc[]>();
  const entries = await Promise.all(
    accounts.map(async (a) => [String(a.id), await presentAccount(a)] as const),
  );
  return Object.fromEntries(entries);
}

/**
 * DELETE: marks the account `deactivating` and its unrevoked certificates `revoking` under one batch, then
 * queues the flow. Idempotent: an account already deactivating or deactivated is returned as it is.
 */
export async function deleteAcmeAccount(owner: number, id: number): Promise<{ id: number; status: string }> {
  const account = await findOwnAccount(owner, id);
  if (account.status === 'deactivating' || account.status === 'deactivated')
    return { id, status: account.status };
  if (account.status === 'pending') {
    throw new AppError(409, { detail: 'The account is still being registered; try again shortly.' });
  }
  const generation = account.deactivation_generation + 1;
  const batch = jobIdFor('deactivate-account', id, generation);
  await Certificate.updateMany(
    { account: id, status: { $in: ['valid', 'revoking'] } },
    { $set: { status: 'revoking', revocation_job: batch, revocation_error: null, revocation_reason: 5 } },
  );
  const total = await Certificate.countDocuments({ account: id, revocation_job: batch });
  await AcmeAccount.updateOne(
    { id },
    {
      $set: {
        status: 'deactivating',
        error: null,
        deactivation_generation: generation,
        revocation_total: total,
      },
    },
  );
  await enqueueDeactivation(id);
  return { id, status: 'deactivating' };
}
