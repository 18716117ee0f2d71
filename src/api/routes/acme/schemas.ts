import { z } from 'zod';
import { accountKeyProblem } from '../../../lib/acme.js';
import { emailField, integerField, optionalString } from '../../validate.js';

const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export const dnsName = z
  .string({ error: 'Each domain must be a string.' })
  .trim()
  .toLowerCase()
  .refine(
    (name) =>
      name.length <= 253 &&
      name.split('.').length >= 2 &&
      name.split('.').every((label) => DNS_LABEL.test(label)),
    { error: (issue) => `"${String(issue.input)}" is not a valid DNS name.` },
  );

export const newAccount = z.object({
  email: emailField(),
  server: z
    .string({ error: 'Must be a string.' })
    .trim()
    .pipe(z.url({ protocol: /^https$/, error: 'Must be an https URL of an ACME directory.' }))
    .optional(),
  organization: optionalString(64),
  organizational_unit: optionalString(64),
  country: z
    .string({ error: 'Must be a string.' })
    .regex(/^[A-Za-z]{2}$/, 'Must be a two-letter country code.')
    .optional(),
  state: optionalString(128),
  location: optionalString(128),
  key: z
    .string({ error: 'Must be a PEM private key.' })
    .superRefine((pem, ctx) => {
      const problem = accountKeyProblem(pem);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  eab_kid: optionalString(256),
  eab_hmac_key: optionalString(512),
});

export const newOrder = z.object({
  account: integerField(1),
  domains: z
    .array(dnsName, {
      error: (issue) =>
        issue.input === undefined ? 'This field is required.' : 'Expected a list of DNS names.',
    })
    .min(1, 'At least one domain is required.')
    .max(100, 'At most 100 domains per certificate.')
    .transform((names) => [...new Set(names)]),
});

export const revocation = z.object({
  reason: z
    .union(
      [
        z.literal(0),
        z.literal(1),
        z.literal(4),
        z.literal(5),
        z.enum(['0', '1', '4', '5']).transform(Number),
      ],
      {
        error: 'Must be one of 0 (unspecified), 1 (keyCompromise), 4 (superseded), 5 (cessationOfOperation).',
      },
    )
    .optional()
    .default(0),
});

export const idParam = z
  .string()
  .regex(/^\d{1,15}$/)
  .transform(Number);
