import { AcmeProblem } from '../lib/acme.js';
import { AcmeAccount, type AcmeAccountDoc } from '../models/acme-account.js';
import { Certificate } from '../models/certificate.js';
import { clientFor } from './acme-registration.js';

/** revoke-certificate: revokes at the CA and marks it revoked. "Already revoked" counts as done. */
export async function revokeAtCa(certificateId: number): Promise<'revoked' | 'skipped'> {
  const cert = await Certificate.findOne({ id: certificateId }).lean();
  if (!cert || cert.status !== 'revoking') return 'skipped';
  const account = await AcmeAccount.findOne({ id: cert.account }).lean<AcmeAccountDoc>();
  if (!account?.uri) throw new Error(`ACME account ${cert.account} is not registered`);
  try {
    await clientFor(account).revokeCertificate(cert.certificate, { reason: cert.revocation_reason ?? 0 });
  } catch (err) {
    if (!(err instanceof AcmeProblem && err.kind === 'alreadyRevoked')) throw err;
  }
  await Certificate.updateOne(
    { id: certificateId },
    { $set: { status: 'revoked', revoked_at: new Date(), revocation_error: null } },
  );
  return 'revoked';
}

export async function recordRevocationError(certificateId: number, error: string): Promise<void> {
  await Certificate.updateOne(
    { id: certificateId, status: 'revoking' },
    { $set: { revocation_error: error } },
  );
}
