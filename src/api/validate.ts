import { z } from 'zod';
import { ValidationError, type FieldErrors } from '../lib/errors.js';

const REQUIRED = 'This field is required.';

/** A required string field with the messages Django REST framework clients know. */
export const requiredString = (max = 4096) =>
  z
    .string({
      error: (issue) =>
        issue.input === undefined || issue.input === null ? REQUIRED : 'Not a valid string.',
    })
    .min(1, 'This field may not be blank.')
    .max(max, `Ensure this field has no more than ${max} characters.`);

export const optionalString = (max = 150) =>
  z
    .string({ error: 'Not a valid string.' })
    .max(max, `Ensure this field has no more than ${max} characters.`)
    .optional();

export const emailField = () =>
  requiredString(254).pipe(
    z
      .string()
      .trim()
      .pipe(z.email({ error: 'Enter a valid email address.' })),
  );

/** An integer from JSON or from a form's string. */
export const integerField = (min = 0) =>
  z
    .union(
      [
        z.number(),
        z
          .string()
          .regex(/^-?\d+$/)
          .transform(Number),
      ],
      {
        error: (issue) => (issue.input === undefined ? REQUIRED : 'A valid integer is required.'),
      },
    )
    .pipe(
      z
        .number()
        .int('A valid integer is required.')
        .min(min, `Ensure this value is greater than or equal to ${min}.`)
        .max(Number.MAX_SAFE_INTEGER, 'A valid integer is required.'),
    );

function asObject(body: unknown): Record<string, unknown> {
  const input: unknown = body ?? {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new ValidationError({ non_field_errors: ['Invalid data. Expected a dictionary.'] });
  }
  return input as Record<string, unknown>;
}

/**
 * Validates each field on its own: the fields that passed and the errors of those that did not, so a
 * service can add its own checks (a taken username) and report everything at once.
 */
export function parseFields<S extends z.ZodObject>(
  schema: S,
  body: unknown,
): { values: Partial<z.infer<S>>; errors: FieldErrors } {
  const input = asObject(body);
  const values: Record<string, unknown> = {};
  const errors: FieldErrors = {};
  const shape: Record<string, z.ZodType> = schema.shape;
  for (const [field, fieldSchema] of Object.entries(shape)) {
    const result = fieldSchema.safeParse(input[field]);
    if (result.success) values[field] = result.data;
    else errors[field] = [...new Set(result.error.issues.map((i) => i.message))];
  }
  return { values: values as Partial<z.infer<S>>, errors };
}

/** Validates a request body; every problem of every field is reported at once. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(asObject(body));
  if (result.success) return result.data;
  const errors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const field = issue.path.length > 0 ? String(issue.path[0]) : 'non_field_errors';
    const messages = (errors[field] ??= []);
    if (!messages.includes(issue.message)) messages.push(issue.message);
  }
  throw new ValidationError(errors);
}
