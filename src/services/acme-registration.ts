import type acme from 'acme-client';
import { config } from '../config.js';
import { AcmeProblem, createAcmeClient, generateKey } from '../lib/acme.js';
import { decryptSecret, encryptSecret } from '../lib/crypto.js';
import { AcmeAccount, type AcmeAccountDoc } from '../models/acme-account.js';
import { mailUser } from './mail.js';

/** An ACME client signed with the account's key (and its URL once registered). */
export function clientFor(account: AcmeAccountDoc): acme.Client {
  if (!account.key_sealed) throw new Error(`ACME account ${account.id} has no key yet`);
  return createAcmeClient({
    directoryUrl: account.server,
    accountKey: decryptSecret(account.key_sealed),
    accountUrl: account.uri,
    eab:
      account.eab_kid && account.eab_hmac_key_sealed
        ? { kid: account.eab_kid, hmacKey: decryptSecret(account.eab_hmac_key_sealed) }
        : null,
  });
}

/** Generates and stores the account key once; a re-run after a crash reuses the stored one. */
async function ensureKey(account: AcmeAccountDoc): Promise<AcmeAccountDoc> {
  if (account.key_sealed) return account;
  const sealed = encryptSecret(await generateKey(config.ACME_ACCOUNT_KEY_TYPE));
  await AcmeAccount.updateOne({ id: account.id, key_sealed: null }, { $set: { key_sealed: sealed } });
  return (await AcmeAccount.findOne({ id: account.id }).lean<AcmeAccountDoc>())!;
}

/**
 * register-account: creates the account at the CA, or finds it when the key is already registered there
 * (the CA answers 200 for a known key, which acme-client treats as "exists"). Safe to run again.
 */
export async function registerAtCa(accountId: number): Promise<'valid' | 'skipped'> {
  const found = await AcmeAccount.findOne({ id: accountId }).lean<AcmeAccountDoc>();
  if (!found || found.status !== 'pending') return 'skipped';
  const account = await ensureKey(found);
  const client = clientFor(account);
  await client.createAccount({ termsOfServiceAgreed: true, contact: [`mailto:${account.email}`] });
  const uri = client.getAccountUrl();
  await AcmeAccount.updateOne(
    { id: accountId, status: 'pending' },
    { $set: { uri, status: 'valid', error: null } },
  );
  await mailUser(account.owner, 'acme-account-registered', {
    id: account.id,
    email: account.email,
    server: account.server,
  });
  return 'valid';
}

export async function markRegistrationFailed(accountId: number, error: string): Promise<void> {
  const result = await AcmeAccount.updateOne(
    { id: accountId, status: 'pending' },
    { $set: { status: 'failed', error } },
  );
  if (result.modifiedCount === 0) return;
  const account = await AcmeAccount.findOne({ id: accountId }).lean<AcmeAccountDoc>();
  if (account) {
    await mailUser(account.owner, 'acme-account-failed', {
      id: accountId,
      email: account.email,
      server: account.server,
      error,
    });
  }
}

/** Deactivates at the CA; an account the CA already considers deactivated counts as done. */
export async function deactivateAtCa(account: AcmeAccountDoc): Promise<void> {
  try {
    await clientFor(account).updateAccount({ status: 'deactivated' });
  } catch (err) {
    if (err instanceof AcmeProblem && err.kind === 'unauthorized' && /deactivated/i.test(err.message)) return;
    throw err;
  }
}
