import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import argon2 from 'argon2';
import { config } from '../config.js';

// OWASP password storage cheat sheet: argon2id, m=19 MiB, t=2, p=1. argon2 hashes on libuv's thread pool.
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string): Promise<string> => argon2.hash(password, ARGON2_OPTIONS);

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

// A fixed hash to verify against when the user does not exist, so both paths cost one argon2 verification.
let dummyHash: Promise<string> | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(await dummyHash, password);
}

/** 40 hex characters from a secure random source (the Django REST framework token format). */
export const randomKey = (): string => randomBytes(20).toString('hex');

export const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

export const hmac = (purpose: string, value: string): string =>
  createHmac('sha256', subKey(purpose)).update(value).digest('hex');

export function safeEqual(a: string, b: string): boolean {
  // Hash both sides first so lengths match and the comparison leaks nothing about either.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

function subKey(purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', config.SECRET_KEY, 'accounts-certs', purpose, 32));
}

/** AES-256-GCM with a key derived from SECRET_KEY; output is `v1.iv.tag.ciphertext` in base64url. */
export function encryptSecret(plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', subKey('encryption-at-rest'), iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), body]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

export function decryptSecret(sealed: string): string {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('unknown secret format');
  const decipher = createDecipheriv(
    'aes-256-gcm',
    subKey('encryption-at-rest'),
    Buffer.from(iv, 'base64url'),
  );
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
