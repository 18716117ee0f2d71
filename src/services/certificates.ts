import { decryptSecret } from '../lib/crypto.js';
import { AppError } from '../lib/errors.js';
import { Certificate, type CertificateDoc } from '../models/certificate.js';
import { enqueue, jobIdFor } from '../queues/index.js';

const notYours = () => new AppError(400, { detail: 'Certificate not found.' });

/** The owner's view: the PEM private key is included, since deploying the certificate needs it. */
export const presentCertificate = (c: CertificateDoc) => ({
  id: c.id,
  account: c.account,
  order: c.order,
  domains: c.domains,
  status: c.status === 'valid' && c.not_after.getTime() < Date.now() ? 'expired' : c.status,
  serial: c.serial,
  fingerprint: c.fingerprint,
  not_before: c.not_before.toISOString(),
  not_after: c.not_after.toISOString(),
  certificate: c.certificate,
  chain: c.chain,
  key: decryptSecret(c.key_sealed),
  error: c.revocation_error ?? null,
});

export async function getCertificate(owner: number, id: number) {
  const cert = await Certificate.findOne({ id, owner }).lean<CertificateDoc>();
  if (!cert) throw notYours();
  return presentCertificate(cert);
}

export async function listCertificates(owner: number) {
  const certs = await Certificate.find({ owner }).sort({ id: 1 }).lean<CertificateDoc[]>();
  return Object.fromEntries(certs.map((c) => [String(c.id), presentCertificate(c)]));
}

export const enqueueRevocation = (certificateId: number, jobId: string) =>
  enqueue('revoke-certificate', { certificateId }, jobId);

/** DELETE /api/certificates/<id>: marks it revoking, then queues the revocation. Idempotent. */
export async function requestRevocation(owner: number, id: number, reason: number) {
  const cert = await Certificate.findOne({ id, owner }).lean<CertificateDoc>();
  if (!cert) throw notYours();
  if (cert.status === 'revoking' || cert.status === 'revoked') return { id, status: cert.status };
  const jobId = jobIdFor('revoke-certificate', id);
  await Certificate.updateOne(
    { id, status: 'valid' },
    {
      $set: { status: 'revoking', revocation_reason: reason, revocation_job: jobId, revocation_error: null },
    },
  );
  await enqueueRevocation(id, jobId);
  return { id, status: 'revoking' as const };
}
