// @memoryd/client: a TypeScript client for memoryd (Node.js 20+ and browsers).
export { MemoryClient, type MemoryClientOptions, type CallOptions, type ListOptions } from './client.js';
export { EventStream, type StreamOptions } from './stream.js';
export {
  MemorydError, InvalidRequestError, UnauthorizedError, ForbiddenError, NotFoundError, NotAcceptableError,
  ConflictError, PayloadTooLargeError, RateLimitedError, InternalError, UnavailableError,
} from './errors.js';
export type { RetryOptions, FetchFn } from './retry.js';
export * from './types.js';
export type { paths, components, operations } from './gen/api.js';
export type { components as eventComponents } from './gen/events.js';
