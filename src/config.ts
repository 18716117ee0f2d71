import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

const LETS_ENCRYPT_STAGING = 'https://acme-staging-v02.api.letsencrypt.org/directory';
const DEV_SECRETS_FILE = 'var/dev-secrets.json';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  MONGODB_URI: z.string().url().default('mongodb://127.0.0.1:27017/accounts_dev'),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z.string().min(1).default('bull'),
  SMTP_URL: optionalString,
  MAIL_DIR: z.string().default('var/mail'),
  MAIL_FROM: z.string().min(3).default('accounts@localhost'),
  PUBLIC_URL: optionalString.pipe(z.string().url().optional()),
  SECRET_KEY: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  INTERNAL_API_SECRET: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  // Behind a load balancer (Heroku's router) the client address comes from X-Forwarded-For.
  TRUST_PROXY: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  STORAGE_BUCKET: z.string().default('qabel'),
  DEFAULT_QUOTA: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(2 * 1024 ** 3),
  DEFAULT_MONTHLY_TRAFFIC_QUOTA: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(20 * 1024 ** 3),
  ACME_DIRECTORY_URL: optionalString.pipe(z.string().url().optional()),
  ACME_DEFAULT_ORGANIZATION: z.string().default(''),
  ACME_DEFAULT_ORGANIZATIONAL_UNIT: z.string().default(''),
  ACME_DEFAULT_COUNTRY: z
    .string()
    .regex(/^([A-Za-z]{2})?$/, 'must be two letters')
    .default(''),
  ACME_DEFAULT_STATE: z.string().default(''),
  ACME_DEFAULT_LOCATION: z.string().default(''),
  ACME_ACCOUNT_KEY_TYPE: z.enum(['rsa', 'ecdsa']).default('rsa'),
  CERTIFICATE_KEY_TYPE: z.enum(['rsa', 'ecdsa']).default('rsa'),
  WORKER_QUEUES: optionalString,
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  JOB_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
  JOB_BACKOFF_MS: z.coerce.number().int().min(10).default(2_000),
});

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Development secrets are generated once and kept under var/ so tokens survive restarts. */
function devSecrets(): { SECRET_KEY: string; INTERNAL_API_SECRET: string } {
  try {
    return JSON.parse(readFileSync(DEV_SECRETS_FILE, 'utf8')) as {
      SECRET_KEY: string;
      INTERNAL_API_SECRET: string;
    };
  } catch {
    const secrets = {
      SECRET_KEY: randomBytes(32).toString('hex'),
      INTERNAL_API_SECRET: randomBytes(24).toString('hex'),
    };
    mkdirSync('var', { recursive: true });
    writeFileSync(DEV_SECRETS_FILE, JSON.stringify(secrets), { mode: 0o600 });
    return secrets;
  }
}

/** Parses the environment; throws ConfigError listing every problem. */
export function parseConfig(env: NodeJS.ProcessEnv) {
  const parsed = schema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`);
  if (!parsed.success) throw new ConfigError(problems);
  const c = parsed.data;
  const production = c.NODE_ENV === 'production';
  if (production) {
    if (!c.SECRET_KEY) problems.push('SECRET_KEY: required in production');
    if (!c.INTERNAL_API_SECRET) problems.push('INTERNAL_API_SECRET: required in production');
    if (!c.PUBLIC_URL) problems.push('PUBLIC_URL: required in production (used in links inside emails)');
    if (!env.MONGODB_URI) problems.push('MONGODB_URI: required in production');
    if (!env.REDIS_URL) problems.push('REDIS_URL: required in production');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const secrets = c.SECRET_KEY && c.INTERNAL_API_SECRET ? null : devSecrets();
  return Object.freeze({
    ...c,
    production,
    SECRET_KEY: c.SECRET_KEY ?? secrets!.SECRET_KEY,
    INTERNAL_API_SECRET: c.INTERNAL_API_SECRET ?? secrets!.INTERNAL_API_SECRET,
    PUBLIC_URL: (c.PUBLIC_URL ?? `http://localhost:${c.PORT}`).replace(/\/+$/, ''),
    ACME_DIRECTORY_URL: c.ACME_DIRECTORY_URL ?? LETS_ENCRYPT_STAGING,
    WORKER_QUEUES: c.WORKER_QUEUES?.split(',')
      .map((q) => q.trim())
      .filter(Boolean),
  });
}

export type Config = ReturnType<typeof parseConfig>;

function load(): Config {
  try {
    return parseConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // Entry points import config first: report every problem and stop before any connection is opened.
    console.error(err.message);
    process.exit(1);
  }
}

export const config: Config = load();
