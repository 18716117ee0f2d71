// Imported first by every test file: src/config.ts parses process.env when it is first imported, so the
// per-file settings (own database, own queue prefix, the in-process SMTP server) must be in place before.
// Ava runs each test file in its own process, so these settings never leak into another file.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { freePortSync } from './free-port.js';

/** A mail as the SMTP server received it. */
export interface ReceivedMail {
  /** Envelope recipients (RCPT TO), lower-cased. */
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  headers: Map<string, unknown>;
  /** Every http(s) link in the text part, in order. */
  links: string[];
  receivedAt: number;
}

/** A rule making the server answer DATA with an SMTP error, for the failure paths. */
export interface Rejection {
  match: (recipient: string) => boolean;
  /** How many deliveries to refuse before accepting again; Infinity for always. */
  times: number;
  code: number;
  message: string;
}

const testBase = process.env.TEST_MONGODB_URL;
if (!testBase) throw new Error('TEST_MONGODB_URL is not set: run the tests with `npm test`');
if (!process.env.REDIS_URL) throw new Error('REDIS_URL is not set: run the tests with `npm test`');

export const testId = randomBytes(6).toString('hex');
export const mailDir = mkdtempSync(path.join(tmpdir(), `accounts-mail-${testId}-`));

const received: ReceivedMail[] = [];
const waiters = new Set<() => void>();
const rejections: Rejection[] = [];

/** Extracts the http(s) links from a text body. */
export function extractLinks(text: string): string[] {
  return [...text.matchAll(/https?:\/\/[^\s<>"')]+/g)].map((m) => m[0]);
}

const addressText = (a: AddressObject | AddressObject[] | undefined): string =>
  (Array.isArray(a) ? a : a ? [a] : []).map((x) => x.text).join(', ');

async function onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<void> {
  const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
  const parsed = await simpleParser(stream);
  const rejection = rejections.find((r) => r.times > 0 && to.some((addr) => r.match(addr)));
  if (rejection) {
    rejection.times -= 1;
    throw Object.assign(new Error(rejection.message), { responseCode: rejection.code });
  }
  const text = parsed.text ?? '';
  received.push({
    to,
    from: addressText(parsed.from),
    subject: parsed.subject ?? '',
    text,
    html: typeof parsed.html === 'string' ? parsed.html : '',
    headers: parsed.headers,
    links: extractLinks(text),
    receivedAt: Date.now(),
  });
  for (const wake of waiters) wake();
}

const smtp = new SMTPServer({
  secure: false,
  // Plain SMTP on loopback: no STARTTLS offered, no AUTH required.
  disabledCommands: ['STARTTLS', 'AUTH'],
  authOptional: true,
  logger: false,
  onData(stream, session, callback) {
    onData(stream, session).then(
      () => callback(),
      (err: Error) => {
        stream.resume();
        callback(err);
      },
    );
  },
});
export const smtpPort = freePortSync();

Object.assign(process.env, {
  NODE_ENV: 'test',
  MONGODB_URI: `${testBase.replace(/\/+$/, '')}/t_${testId}`,
  QUEUE_PREFIX: `t${testId}`,
  SECRET_KEY: randomBytes(32).toString('hex'),
  INTERNAL_API_SECRET: randomBytes(24).toString('hex'),
  PUBLIC_URL: 'http://accounts.test',
  // A preamble module (test/helpers/smtp-closed-port.ts) may point SMTP somewhere else on purpose.
  SMTP_URL: process.env.TEST_SMTP_URL ?? `smtp://127.0.0.1:${smtpPort}`,
  MAIL_FROM: 'accounts@accounts.test',
  MAIL_DIR: mailDir,
  JOB_BACKOFF_MS: '50',
  JOB_ATTEMPTS: '3',
  SWEEP_INTERVAL_MS: '3600000',
  WORKER_CONCURRENCY: '4',
  // A preamble module (test/helpers/trust-proxy.ts) turns this on for the X-Forwarded-For tests.
  TRUST_PROXY: process.env.TEST_TRUST_PROXY ?? 'false',
});
// Settings a developer's shell may carry that would change what the tests see.
for (const name of [
  'PORT',
  'WORKER_QUEUES',
  'STORAGE_BUCKET',
  'DEFAULT_QUOTA',
  'DEFAULT_MONTHLY_TRAFFIC_QUOTA',
]) {
  delete process.env[name];
}

// Everything above ran synchronously; only now may this module wait.
await new Promise<void>((resolve, reject) => {
  smtp.once('error', reject);
  smtp.listen(smtpPort, '127.0.0.1', () => {
    smtp.off('error', reject);
    resolve();
  });
});
smtp.on('error', () => undefined);

/** The in-process SMTP server's inbox. */
export const mailbox = {
  all(): readonly ReceivedMail[] {
    return received;
  },
  /** Mails sent to `address` (case-insensitive). */
  to(address: string): ReceivedMail[] {
    const wanted = address.toLowerCase();
    return received.filter((m) => m.to.includes(wanted));
  },
  /** Resolves with the first mail matching `predicate`, received before or within `timeoutMs`. */
  waitFor(predicate: (mail: ReceivedMail) => boolean, timeoutMs = 15_000): Promise<ReceivedMail> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = received.find(predicate);
        if (!found) return false;
        clearTimeout(timer);
        waiters.delete(wake);
        resolve(found);
        return true;
      };
      const wake = (): void => void check();
      const timer = setTimeout(() => {
        waiters.delete(wake);
        reject(new Error(`no matching mail within ${timeoutMs} ms (${received.length} received)`));
      }, timeoutMs);
      if (!check()) waiters.add(wake);
    });
  },
  /** Waits for the first mail to `address`. */
  waitForTo(address: string, timeoutMs?: number): Promise<ReceivedMail> {
    const wanted = address.toLowerCase();
    return this.waitFor((m) => m.to.includes(wanted), timeoutMs);
  },
  /** Refuses deliveries to matching recipients with an SMTP error (`times` of them, or all). */
  reject(rule: Partial<Rejection> & Pick<Rejection, 'match'>): void {
    rejections.push({ times: Infinity, code: 550, message: 'Mailbox unavailable (test rejection)', ...rule });
  },
  async close(): Promise<void> {
    await new Promise<void>((resolve) => smtp.close(resolve));
    rmSync(mailDir, { recursive: true, force: true });
  },
};

/** The path of a link (`/account-confirm-email/<key>/`), so it can be requested against the test server. */
export const linkPath = (link: string): string => {
  const url = new URL(link);
  return url.pathname + url.search;
};
