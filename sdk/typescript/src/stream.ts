import { EventSource, type EventSourceFetchInit } from 'eventsource';
import { errorFrom, MemorydError, retryAfterMs, streamError } from './errors.js';
import type { FetchFn } from './retry.js';
import { STREAM_EVENT_TYPES, type StreamEvent, type StreamEventType } from './types.js';

export interface StreamOptions {
  /** Event types to receive (all when absent); control messages always come. */
  events?: StreamEventType[];
  /** Exact matches on memory events' metadata keys (`filters[key]=value`). */
  filters?: Record<string, string | number | boolean>;
  /** Heartbeat interval in seconds (at least the server's minimum). */
  heartbeat?: number;
  /** Resume strictly after this position (e.g. one saved from a previous run). */
  lastEventId?: string;
  /**
   * A stream ticket (POST /stream/tickets) instead of the API key: what a
   * browser uses. A function is asked for a fresh one whenever the client
   * opens a new connection, so an expired ticket is replaced.
   */
  ticket?: string | (() => string | Promise<string>);
  /** Ends the stream (the iterator finishes). */
  signal?: AbortSignal;
  /**
   * Failed connection attempts in a row (429, 503, 5xx, no answer) the
   * client retries before it gives up with their error (default 10).
   */
  maxRetries?: number;
}

interface Context {
  baseUrl: string;
  headers: Record<string, string>;
  fetch: FetchFn;
}

interface Failed {
  status: number;
  headers: Headers;
  body: unknown;
}

// Longest wait between connection attempts when the server names none.
const maxBackoffMs = 30_000;

/**
 * The workspace's stream as an async iterator of typed messages, in log
 * order, on the WHATWG `eventsource` package (Node.js and browsers).
 *
 * It resumes by itself without a gap or a duplicate: a dropped connection
 * is reopened after the server's `retry:` with Last-Event-ID set to the last
 * position delivered; a server `error` message is followed after its
 * `retry_after` (and ends the stream with a MemorydError when it is 0); a
 * 429 or 503 is retried after its Retry-After; an expired ticket is
 * replaced when `ticket` is a function. Every message is yielded, control
 * messages included: a `restart` means the position was unusable (log
 * recreated, pruned, ...) and the stream continues live from the end, so
 * state built from earlier events should be rebuilt (list again).
 * `lastEventId` is the position to save to resume in a later run.
 */
export class EventStream implements AsyncIterableIterator<StreamEvent> {
  readonly #ctx: Context;
  readonly #opts: StreamOptions;
  readonly #queue: StreamEvent[] = [];
  #waiter?: { resolve: (r: IteratorResult<StreamEvent>) => void; reject: (e: unknown) => void };
  #failure?: unknown;
  #closed = false;
  #es?: EventSource;
  #timer?: ReturnType<typeof setTimeout>;
  #lastId?: string; // the last position received: where a reconnection resumes
  #delivered?: string; // the last position next() returned
  #ticket?: string;
  #failed?: Failed;
  #attempts = 0;
  #opens = 0;
  #drops = 0;

  constructor(ctx: Context, opts: StreamOptions) {
    this.#ctx = ctx;
    this.#opts = opts;
    this.#lastId = this.#delivered = opts.lastEventId;
    if (opts.signal?.aborted) {
      this.#closed = true;
      return;
    }
    opts.signal?.addEventListener('abort', () => this.close(), { once: true });
    void this.#open();
  }

  /**
   * The position of the last message the iterator returned: save it to
   * resume from in a later run (messages received but not yet taken from
   * the iterator are after it).
   */
  get lastEventId(): string | undefined {
    return this.#delivered;
  }

  /** How many connections were opened (1 + reconnections). */
  get connections(): number {
    return this.#opens;
  }

  /** How many times a connection was lost or refused (then retried or not). */
  get drops(): number {
    return this.#drops;
  }

  [Symbol.asyncIterator](): EventStream {
    return this;
  }

  next(): Promise<IteratorResult<StreamEvent>> {
    const value = this.#queue.shift();
    if (value) return Promise.resolve(this.#deliver(value));
    if (this.#failure !== undefined) {
      const f = this.#failure;
      this.#failure = undefined;
      return Promise.reject(f);
    }
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => { this.#waiter = { resolve, reject }; });
  }

  /** Called when a for-await loop ends early: closes the connection. */
  return(): Promise<IteratorResult<StreamEvent>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Closes the connection; the iterator finishes after what it holds. */
  close(): void {
    this.#closed = true;
    this.#stop();
    this.#settle({ value: undefined, done: true });
  }

  #stop() {
    clearTimeout(this.#timer);
    this.#es?.close();
    this.#es = undefined;
  }

  async #open() {
    if (this.#closed) return;
    try {
      const t = this.#opts.ticket;
      this.#ticket = typeof t === 'function' ? await t() : t;
    } catch (e) {
      return this.#fail(e);
    }
    if (this.#closed) return;
    const es = new EventSource(this.#url(), { fetch: this.#fetchFor });
    this.#es = es;
    es.addEventListener('open', () => {
      this.#attempts = 0;
      this.#opens++;
    });
    for (const type of STREAM_EVENT_TYPES) {
      if (type !== 'error') es.addEventListener(type, (e) => this.#message(type, e));
    }
    // "error" is both the server's `error` message (a MessageEvent) and the
    // connection's own error event.
    es.addEventListener('error', (e: Event) => {
      if (es !== this.#es) return;
      if (typeof (e as MessageEvent).data === 'string') this.#serverError(e as MessageEvent);
      else this.#connectionError(es);
    });
  }

  #url(): string {
    const u = new URL(this.#ctx.baseUrl + '/api/v1/stream');
    const { events, filters, heartbeat } = this.#opts;
    if (events?.length) u.searchParams.set('events', events.join(','));
    for (const [k, v] of Object.entries(filters ?? {})) u.searchParams.set(`filters[${k}]`, String(v));
    if (heartbeat !== undefined) u.searchParams.set('heartbeat', String(heartbeat));
    if (this.#ticket) u.searchParams.set('ticket', this.#ticket);
    // EventSource sends Last-Event-ID itself only on its own reconnections.
    if (this.#lastId) u.searchParams.set('last_event_id', this.#lastId);
    return u.href;
  }

  // The fetch EventSource connects with: the key's headers (unless a
  // ticket authenticates), and the failed answer kept for #connectionError.
  #fetchFor = async (url: string | URL, init: EventSourceFetchInit) => {
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(this.#ctx.headers)) {
      if (!(this.#ticket && k === 'Authorization')) headers.set(k, v);
    }
    const res = await this.#ctx.fetch(url, { ...init, headers } as RequestInit);
    if (res.status !== 200) {
      const text = await res.clone().text().catch(() => '');
      let body: unknown = text;
      try { body = JSON.parse(text); } catch { /* not the envelope */ }
      this.#failed = { status: res.status, headers: res.headers, body };
    }
    return res;
  };

  #message(type: StreamEventType, e: MessageEvent) {
    let data: unknown;
    try {
      data = JSON.parse(e.data);
    } catch {
      return this.#fail(new MemorydError(0, 'INTERNAL', `stream message ${type} is not JSON: ${String(e.data).slice(0, 200)}`));
    }
    if (e.lastEventId) this.#lastId = e.lastEventId;
    this.#push({ type, id: e.lastEventId, data } as StreamEvent);
  }

  // The server's `error` message: it closes the stream after it. Reconnect
  // after its retry_after, or end with it when that is 0.
  #serverError(e: MessageEvent) {
    let data: { code?: string; message?: string; retry_after?: number } = {};
    try { data = JSON.parse(e.data); } catch { /* reported below with no code */ }
    const err = streamError(data.code ?? 'INTERNAL', data.message ?? String(e.data), data.retry_after);
    this.#push({ type: 'error', id: '', data: { code: err.code, message: err.message, retry_after: data.retry_after ?? 0 } });
    this.#stop();
    if (!data.retry_after || data.retry_after <= 0) return this.#fail(err);
    this.#reopenAfter(data.retry_after, err);
  }

  #connectionError(es: EventSource) {
    this.#drops++;
    // Still connecting: EventSource reconnects by itself after the server's
    // `retry:`, with Last-Event-ID.
    if (es.readyState !== EventSource.CLOSED) return;
    const failed = this.#failed;
    this.#failed = undefined;
    this.#stop();
    const status = failed?.status ?? 0;
    const err = failed ? errorFrom(status, failed.body, failed.headers)
      : new MemorydError(0, 'UNAVAILABLE', 'the stream connection failed');
    if (status === 401 && typeof this.#opts.ticket === 'function' && this.#attempts === 0) {
      return this.#reopenAfter(0, err); // the ticket expired: fetch a fresh one
    }
    if (status === 429 || status === 503 || status >= 500 || status === 0) {
      const wait = (failed && retryAfterMs(failed.headers)) ?? Math.min(maxBackoffMs, 500 * 2 ** this.#attempts);
      return this.#reopenAfter(wait, err);
    }
    this.#fail(err);
  }

  #reopenAfter(ms: number, err: unknown) {
    if (++this.#attempts > (this.#opts.maxRetries ?? 10)) return this.#fail(err);
    this.#timer = setTimeout(() => void this.#open(), ms);
  }

  #push(ev: StreamEvent) {
    if (this.#closed) return;
    if (this.#waiter) this.#settle(this.#deliver(ev));
    else this.#queue.push(ev);
  }

  #deliver(ev: StreamEvent): IteratorResult<StreamEvent> {
    if (ev.id) this.#delivered = ev.id;
    return { value: ev, done: false };
  }

  #settle(r: IteratorResult<StreamEvent>) {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.resolve(r);
  }

  #fail(err: unknown) {
    this.#closed = true;
    this.#stop();
    const w = this.#waiter;
    this.#waiter = undefined;
    if (w) w.reject(err);
    else this.#failure = err;
  }
}
