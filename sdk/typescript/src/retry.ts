import { retryAfterMs } from './errors.js';

export type FetchFn = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/** How 429 answers are retried. */
export interface RetryOptions {
  /** Retries after the first attempt (default 3; 0 turns retrying off). */
  maxRetries?: number;
  /**
   * The longest Retry-After honoured, in milliseconds (default 60000): a
   * longer one is not waited for, and its RateLimitedError is thrown.
   */
  maxDelayMs?: number;
}

/**
 * Wraps fetch so that a 429 is retried after the server's Retry-After, a
 * bounded number of times. A 429 is refused before anything is done, so
 * every request, writes included, is safe to repeat.
 */
export function retrying(fetchFn: FetchFn, opts: RetryOptions = {}): (req: Request) => Promise<Response> {
  const maxRetries = opts.maxRetries ?? 3;
  const maxDelayMs = opts.maxDelayMs ?? 60_000;
  return async (req) => {
    for (let attempt = 0; ; attempt++) {
      const res = await fetchFn(attempt < maxRetries ? req.clone() : req);
      if (res.status !== 429 || attempt >= maxRetries) return res;
      const wait = retryAfterMs(res.headers) ?? 1000 * 2 ** attempt;
      if (wait > maxDelayMs) return res;
      await res.body?.cancel();
      await sleep(wait, req.signal);
    }
  };
}

/** Resolves after ms, or rejects with the signal's reason once it aborts. */
export function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => { signal?.removeEventListener('abort', abort); resolve(); };
    const t = setTimeout(done, ms);
    const abort = () => { clearTimeout(t); reject(signal?.reason); };
    signal?.addEventListener('abort', abort, { once: true });
  });
}
