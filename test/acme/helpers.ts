// Shared by the test/acme files: the app, a Pebble CA validating http-01 against that app, and a client that
// speaks to the ACME API as one user (HTTP Basic or Token). Import '../helpers/env.js' before this module.
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import acme from 'acme-client';
import { decryptSecret } from '../../src/lib/crypto.js';
import { AcmeAccount } from '../../src/models/acme-account.js';
import {
  eventually,
  registerUser,
  onTeardown,
  startApp,
  startWorker,
  unique,
  type JsonObject,
  type RequestOptions,
  type Response,
  type TestApp,
  type TestUser,
} from '../helpers/harness.js';
import { certStatusBySerial, startPebble, type Pebble } from '../helpers/pebble.js';

export type Errors = Record<string, string[] | undefined>;

export interface AccountView {
  id: number;
  email: string;
  server: string;
  status: string;
  uri: string | null;
  organization: string;
  organizational_unit: string;
  country: string;
  state: string;
  location: string;
  error: string | null;
  created_at: string;
  updated_at: string;
  revocation?: { total: number; done: number; failed: number };
}

export interface OrderView {
  id: number;
  account: number;
  domains: string[];
  status: string;
  certificate: number | null;
  error: string | null;
}

export interface CertificateView {
  id: number;
  account: number;
  order: number;
  domains: string[];
  status: string;
  serial: string;
  fingerprint: string;
  not_before: string;
  not_after: string;
  certificate: string;
  chain: string;
  key: string;
}

export interface AcmeTestEnv {
  app: TestApp;
  pebble: Pebble;
}

/**
 * The app on a loopback port, then Pebble with `httpPort` = that port (so Pebble's http-01 validation reaches
 * our /.well-known/acme-challenge route), then (unless `worker: false`) in-process acme and mail workers.
 */
export async function startAcmeEnv({ worker = true }: { worker?: boolean } = {}): Promise<AcmeTestEnv> {
  const app = await startApp();
  const { port } = app.server.address() as AddressInfo;
  const pebble = await startPebble({ httpPort: port });
  onTeardown(() => pebble.stop());
  if (worker) await startWorker(['acme', 'mail']);
  return { app, pebble };
}

export const basicHeader = (username: string, password: string): Record<string, string> => ({
  Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
});

/** A DNS name no other test uses; challtestsrv resolves every name to 127.0.0.1 for Pebble. */
export const domain = (): string => `${unique('d')}.example.test`;

/** The ACME API as one user: HTTP Basic by default, `Authorization: Token` with `auth: 'token'`. */
export class AcmeApi {
  constructor(
    readonly app: TestApp,
    readonly user: TestUser,
    readonly auth: 'basic' | 'token' = 'basic',
  ) {}

  private opts(extra: RequestOptions = {}): RequestOptions {
    const headers = this.auth === 'basic' ? basicHeader(this.user.username, this.user.password) : undefined;
    return {
      ...extra,
      ...(this.auth === 'token' ? { token: this.user.key } : {}),
      headers: { ...headers, ...extra.headers },
    };
  }

  get<T = JsonObject>(path: string): Promise<Response<T>> {
    return this.app.get<T>(path, this.opts());
  }

  post<T = JsonObject>(path: string, json: unknown): Promise<Response<T>> {
    return this.app.request<T>('POST', path, this.opts({ json }));
  }

  postForm<T = JsonObject>(path: string, form: Record<string, string>): Promise<Response<T>> {
    return this.app.request<T>('POST', path, this.opts({ form }));
  }

  delete<T = JsonObject>(path: string, json?: unknown): Promise<Response<T>> {
    return this.app.request<T>('DELETE', path, this.opts(json === undefined ? {} : { json }));
  }

  /** POST /api/acme against the test's Pebble unless `server` is given. */
  createAccount(pebble: Pebble, body: JsonObject = {}): Promise<Response<JsonObject>> {
    return this.post('/api/acme', {
      email: `${unique('acme')}@example.com`,
      server: pebble.directoryUrl,
      ...body,
    });
  }

  account(id: number): Promise<Response<AccountView>> {
    return this.get<AccountView>(`/api/acme/${id}`);
  }

  /** Polls GET /api/acme/<id> until the status is none of `transient`. */
  async settleAccount(
    id: number,
    transient: readonly string[] = ['pending'],
    timeoutMs = 30_000,
  ): Promise<AccountView> {
    return eventually(
      async () => {
        const res = await this.account(id);
        if (res.status !== 200) throw new Error(`GET /api/acme/${id}: ${res.status} ${res.text}`);
        return transient.includes(res.body.status) ? null : res.body;
      },
      timeoutMs,
      `account ${id} leaving ${transient.join('/')}`,
    );
  }

  /** Creates an account and waits for the registration job; throws unless it ends `valid`. */
  async validAccount(pebble: Pebble, body: JsonObject = {}): Promise<AccountView> {
    const res = await this.createAccount(pebble, body);
    if (res.status !== 201) throw new Error(`POST /api/acme: ${res.status} ${res.text}`);
    const account = await this.settleAccount(res.body.id as number);
    if (account.status !== 'valid')
      throw new Error(`account ${account.id} is ${account.status}: ${account.error}`);
    return account;
  }

  order(id: number): Promise<Response<OrderView>> {
    return this.get<OrderView>(`/api/order/${id}`);
  }

  async settleOrder(id: number, timeoutMs = 60_000): Promise<OrderView> {
    return eventually(
      async () => {
        const res = await this.order(id);
        if (res.status !== 200) throw new Error(`GET /api/order/${id}: ${res.status} ${res.text}`);
        return ['pending', 'processing'].includes(res.body.status) ? null : res.body;
      },
      timeoutMs,
      `order ${id} finishing`,
    );
  }

  certificate(id: number): Promise<Response<CertificateView>> {
    return this.get<CertificateView>(`/api/certificates/${id}`);
  }

  /** Orders a certificate for `domains` and waits for it; throws unless the order ends `valid`. */
  async issue(accountId: number, domains: string[] = [domain()]): Promise<CertificateView> {
    const res = await this.post('/api/order', { account: accountId, domains });
    if (res.status !== 201) throw new Error(`POST /api/order: ${res.status} ${res.text}`);
    const order = await this.settleOrder(res.body.id as number);
    if (order.status !== 'valid' || order.certificate === null) {
      throw new Error(`order ${order.id} is ${order.status}: ${order.error}`);
    }
    const cert = await this.certificate(order.certificate);
    if (cert.status !== 200) throw new Error(`GET /api/certificates/${order.certificate}: ${cert.status}`);
    return cert.body;
  }
}

/** Registers a new accounting user and returns the ACME API as that user. */
export async function newApi(app: TestApp, auth: 'basic' | 'token' = 'basic'): Promise<AcmeApi> {
  return new AcmeApi(app, await registerUser(app), auth);
}

export type KeySpec = { type: 'rsa'; bits: number } | { type: 'ec'; curve: string };

/** A PKCS#8 PEM private key made here, not by the code under test. */
export function pemKey(spec: KeySpec = { type: 'rsa', bits: 2048 }): string {
  const { privateKey } =
    spec.type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: spec.bits })
      : generateKeyPairSync('ec', { namedCurve: spec.curve });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The ACME account URL the CA has for `key` (RFC 8555 onlyReturnExisting), or throws when it has none. */
export async function accountUrlAtCa(pebble: Pebble, key: string): Promise<string> {
  const client = new acme.Client({ directoryUrl: pebble.directoryUrl, accountKey: key });
  await client.createAccount({ onlyReturnExisting: true });
  return client.getAccountUrl();
}

/**
 * Reads the account at the CA with the key it was registered with (taken from the database: the API never
 * serves it). Resolves with the account object, or rejects with the CA's answer (e.g. for a deactivated one).
 */
export async function accountAtCa(pebble: Pebble, accountId: number): Promise<JsonObject> {
  const doc = await AcmeAccount.findOne({ id: accountId }).lean();
  if (!doc?.key_sealed || !doc.uri) throw new Error(`account ${accountId} has no key or uri in the database`);
  const client = new acme.Client({
    directoryUrl: pebble.directoryUrl,
    accountKey: decryptSecret(doc.key_sealed),
    accountUrl: doc.uri,
  });
  return (await client.updateAccount()) as unknown as JsonObject;
}

/** Revokes a certificate at the CA behind the API's back, signed with the account's key from the database. */
export async function revokeDirectly(
  pebble: Pebble,
  accountId: number,
  pem: string,
  reason: number,
): Promise<void> {
  const doc = await AcmeAccount.findOne({ id: accountId }).lean();
  if (!doc?.key_sealed || !doc.uri) throw new Error(`account ${accountId} has no key or uri in the database`);
  const client = new acme.Client({
    directoryUrl: pebble.directoryUrl,
    accountKey: decryptSecret(doc.key_sealed),
    accountUrl: doc.uri,
  });
  await client.revokeCertificate(pem, { reason });
}

/** Pebble's status of a certificate by our serial (`Valid`, `Revoked`, ...) and its reason code. */
export async function caStatus(pebble: Pebble, serial: string): Promise<{ Status: string; Reason?: number }> {
  return (await certStatusBySerial(pebble.managementUrl, serial)) as { Status: string; Reason?: number };
}

/** The DNS names of a PEM certificate's subjectAltName. */
export function sanNames(pem: string): string[] {
  const san = new X509Certificate(pem).subjectAltName ?? '';
  return san
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4))
    .sort();
}

/** True when an error meant for people carries internals: an OpenSSL error stack, a source path, a stack frame. */
export const unreadable = (text: string): boolean =>
  /deps\/openssl|error:[0-9A-F]{8}|\.c:\d+|\bat .+:\d+:\d+|node_modules|\/src\/|TypeError|undefined/.test(
    text,
  );
