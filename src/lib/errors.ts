/** Field errors in the Django REST framework shape the accounting clients parse. */
export type FieldErrors = Record<string, string[]>;

/** An error meant for the client: status plus a stable JSON body. Anything else is a 500 with no details. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body.detail === 'string' ? body.detail : `http ${status}`);
    this.name = 'AppError';
  }
}

export class ValidationError extends AppError {
  constructor(readonly fields: FieldErrors) {
    super(400, fields);
    this.name = 'ValidationError';
  }
}

export class AuthenticationError extends AppError {
  constructor(detail = 'Invalid token.', scheme = 'Token') {
    super(401, { detail }, { 'WWW-Authenticate': scheme === 'Basic' ? 'Basic realm="api"' : scheme });
    this.name = 'AuthenticationError';
  }
}

export class NotFoundError extends AppError {
  constructor(detail = 'Not found.') {
    super(404, { detail });
    this.name = 'NotFoundError';
  }
}

export class ThrottledError extends AppError {
  constructor(retryAfterSeconds: number) {
    super(
      429,
      { error: 'Too many login attempts' },
      { 'Retry-After': String(Math.max(1, retryAfterSeconds)) },
    );
    this.name = 'ThrottledError';
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(detail = 'Service temporarily unavailable, try again later.') {
    super(503, { detail });
    this.name = 'ServiceUnavailableError';
  }
}

export function fieldError(field: string, message: string): ValidationError {
  return new ValidationError({ [field]: [message] });
}
