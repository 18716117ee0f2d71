import { createPrivateKey, X509Certificate } from 'node:crypto';
import acme from 'acme-client';
import axios, { type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';

const PERMANENT_PROBLEMS = new Set([
  'malformed',
  'rejectedIdentifier',
  'unauthorized',
  'badCSR',
  'badPublicKey',
  'badRevocationReason',
  'badSignatureAlgorithm',
  'caa',
  'invalidContact',
  'unsupportedContact',
  'unsupportedIdentifier',
  'externalAccountRequired',
  'accountDoesNotExist',
  'userActionRequired',
]);

/** An RFC 8555 problem document from the CA, with its type kept (acme-client keeps only the detail). */
export class AcmeProblem extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    detail: string,
  ) {
    super(detail || type);
    this.name = 'AcmeProblem';
  }

  /** `malformed`, `rejectedIdentifier`, ...: the short name of the problem type. */
  get kind(): string {
    return this.type.replace('urn:ietf:params:acme:error:', '');
  }

  get permanent(): boolean {
    return PERMANENT_PROBLEMS.has(this.kind);
  }
}

/** The step cannot go on yet: the job is rescheduled after `delayMs` without using up an attempt. */
export class RetryLater extends Error {
  constructor(
    readonly delayMs: number,
    detail: string,
  ) {
    super(detail);
    this.name = 'RetryLater';
  }
}

/** The CA asked us to come back later (429 or 503 with Retry-After). */
export class CaRetryLater extends RetryLater {
  override name = 'CaRetryLater';
}

function retryAfterMs(header: unknown): number {
  if (typeof header !== 'string') return 0;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? 0 : Math.max(0, at - Date.now());
}

// Workers must not sleep on the CA: acme-client's own retries are off, so a 429/503 surfaces at once and the
// job is rescheduled by BullMQ; network failures fail the attempt quickly and BullMQ backs off.
const axiosDefaults = acme.axios.defaults as typeof acme.axios.defaults & {
  acmeSettings: Record<string, number>;
};
axiosDefaults.acmeSettings = { ...axiosDefaults.acmeSettings, retryMaxAttempts: 0 };
acme.axios.defaults.timeout = 15_000;

/** The CA could not be reached at all (refused, DNS, TLS, timeout): no HTTP response. */
export class CaUnreachable extends Error {
  constructor(
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'CaUnreachable';
  }
}

// acme-client's retry interceptor cannot cope with a failure that has no response once its retries are
// used up (it reads `response.config`); the adapter turns such failures into an error it passes through.
const httpAdapter = axios.getAdapter('http');
acme.axios.defaults.adapter = async (request: InternalAxiosRequestConfig) => {
  try {
    return await httpAdapter(request);
  } catch (err) {
    const e = err as { response?: unknown; code?: string; message?: string };
    if (e.response) throw err;
    throw new CaUnreachable(e.code, e.message ?? 'network error');
  }
};
acme.axios.interceptors.response.use(
  (response: AxiosResponse<{ type?: string; detail?: string } | undefined>) => {
    const { status, data } = response;
    if (status < 400) return response;
    const type = typeof data?.type === 'string' ? data.type : '';
    // acme-client retries badNonce itself; it needs to see that response.
    if (type.endsWith(':badNonce')) return response;
    const detail = typeof data?.detail === 'string' ? data.detail : `HTTP ${status}`;
    const delay = retryAfterMs(response.headers['retry-after']);
    if ((status === 429 || status === 503) && delay > 0) throw new CaRetryLater(delay, detail);
    if (type) throw new AcmeProblem(type, status, detail);
    throw new Error(`CA answered HTTP ${status}`);
  },
);

export interface AcmeClientOptions {
  directoryUrl: string;
  accountKey: string;
  accountUrl?: string | null;
  eab?: { kid: string; hmacKey: string } | null;
}

export function createAcmeClient(o: AcmeClientOptions): acme.Client {
  return new acme.Client({
    directoryUrl: o.directoryUrl,
    accountKey: o.accountKey,
    ...(o.accountUrl ? { accountUrl: o.accountUrl } : {}),
    ...(o.eab ? { externalAccountBinding: { kid: o.eab.kid, hmacKey: o.eab.hmacKey } } : {}),
    // Polls for a challenge or order status stay short; an order still pending is resumed by a retry.
    backoffAttempts: 8,
    backoffMin: 500,
    backoffMax: 4_000,
  });
}

export async function generateKey(type: 'rsa' | 'ecdsa'): Promise<string> {
  const key =
    type === 'rsa'
      ? await acme.crypto.createPrivateRsaKey(2048)
      : await acme.crypto.createPrivateEcdsaKey('P-256');
  return key.toString();
}

/** Why a PEM is not an acceptable account key (RSA >= 2048 bits, EC P-256/P-384), or null when it is. */
export function accountKeyProblem(pem: string): string | null {
  try {
    const key = createPrivateKey(pem);
    const { asymmetricKeyType: type, asymmetricKeyDetails: details } = key;
    if (type === 'rsa' && (details?.modulusLength ?? 0) >= 2048) return null;
    if (type === 'ec' && ['prime256v1', 'secp384r1'].includes(details?.namedCurve ?? '')) return null;
    return 'Must be an RSA key of 2048 bits or more, or an EC key on P-256 or P-384.';
  } catch {
    return 'Not a PEM private key.';
  }
}

export async function createCsr(
  keyPem: string,
  domains: string[],
  subject: Record<string, string>,
): Promise<Buffer> {
  const fields = Object.fromEntries(Object.entries(subject).filter(([, v]) => v !== ''));
  const [, csr] = await acme.crypto.createCsr(
    { commonName: domains[0], altNames: domains, ...fields },
    keyPem,
  );
  return csr;
}

export interface CertificateFacts {
  leaf: string;
  chain: string;
  serial: string;
  fingerprint: string;
  notBefore: Date;
  notAfter: Date;
}

/** Splits a PEM chain into leaf and issuers and reads the leaf's serial, fingerprint and validity. */
export function readCertificate(pemChain: string): CertificateFacts {
  const [leaf, ...rest] = acme.crypto.splitPemChain(pemChain);
  if (!leaf) throw new Error('the CA returned no certificate');
  const x509 = new X509Certificate(leaf);
  return {
    leaf,
    chain: rest.join('\n'),
    serial: x509.serialNumber.toLowerCase(),
    fingerprint: x509.fingerprint256.replace(/:/g, '').toLowerCase(),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
  };
}

/** A failure that retrying cannot fix (the CA invalidated the order, the account is unusable, ...). */
export class PermanentFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentFailure';
  }
}

export const isPermanent = (err: unknown): boolean =>
  err instanceof PermanentFailure || (err instanceof AcmeProblem && err.permanent);
