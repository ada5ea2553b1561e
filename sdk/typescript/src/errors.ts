import type { ErrorCode } from './types.js';

/**
 * An error answered by memoryd (its error envelope `{error, message,
 * details}`), or a stream `error` message the client cannot recover from.
 * Each code has its own subclass, so `instanceof NotFoundError` works as
 * well as `err.code === 'NOT_FOUND'`.
 */
export class MemorydError extends Error {
  /** The HTTP status; 0 for a stream `error` message. */
  readonly status: number;
  readonly code: ErrorCode | string;
  readonly details: Record<string, unknown>;
  /** Milliseconds the server asked to wait (429 and 503), when it said. */
  readonly retryAfterMs?: number;

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}, retryAfterMs?: number) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfterMs = retryAfterMs;
  }
}

export class InvalidRequestError extends MemorydError {}
export class UnauthorizedError extends MemorydError {}
export class ForbiddenError extends MemorydError {}
export class NotFoundError extends MemorydError {}
export class NotAcceptableError extends MemorydError {}
export class ConflictError extends MemorydError {}
export class PayloadTooLargeError extends MemorydError {}
export class RateLimitedError extends MemorydError {}
export class InternalError extends MemorydError {}
export class UnavailableError extends MemorydError {}

const byCode: Record<ErrorCode, typeof MemorydError> = {
  INVALID_REQUEST: InvalidRequestError,
  UNAUTHORIZED: UnauthorizedError,
  FORBIDDEN: ForbiddenError,
  NOT_FOUND: NotFoundError,
  NOT_ACCEPTABLE: NotAcceptableError,
  CONFLICT: ConflictError,
  PAYLOAD_TOO_LARGE: PayloadTooLargeError,
  RATE_LIMITED: RateLimitedError,
  INTERNAL: InternalError,
  UNAVAILABLE: UnavailableError,
};

// The code a status means when a body is not the envelope (a proxy's page).
const byStatus: Record<number, ErrorCode> = {
  400: 'INVALID_REQUEST', 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 406: 'NOT_ACCEPTABLE',
  409: 'CONFLICT', 413: 'PAYLOAD_TOO_LARGE', 429: 'RATE_LIMITED', 500: 'INTERNAL', 503: 'UNAVAILABLE',
};

/** The typed error for a failed response: its envelope, else its status. */
export function errorFrom(status: number, body: unknown, headers?: Headers): MemorydError {
  const env = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const code = typeof env.error === 'string' ? env.error : byStatus[status] ?? (status >= 500 ? 'INTERNAL' : 'INVALID_REQUEST');
  const message = typeof env.message === 'string' ? env.message
    : `memoryd answered ${status}${typeof body === 'string' && body ? ': ' + body.slice(0, 200) : ''}`;
  const details = typeof env.details === 'object' && env.details !== null ? env.details as Record<string, unknown> : {};
  let wait = headers ? retryAfterMs(headers) : undefined;
  if (wait === undefined && typeof env.retry_after === 'number') wait = env.retry_after * 1000;
  return errorOf(status, code, message, details, wait);
}

/** The error of a stream `error` message that ends the stream. */
export function streamError(code: string, message: string, retryAfterMs?: number): MemorydError {
  return errorOf(0, code, message, {}, retryAfterMs);
}

function errorOf(status: number, code: string, message: string, details: Record<string, unknown>, wait?: number) {
  const Cls = byCode[code as ErrorCode] ?? MemorydError;
  return new Cls(status, code, message, details, wait);
}

/** Retry-After in milliseconds (seconds or an HTTP date), when present. */
export function retryAfterMs(headers: Headers): number | undefined {
  const v = headers.get('retry-after')?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
