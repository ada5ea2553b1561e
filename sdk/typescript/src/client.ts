import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './gen/api.js';
import { errorFrom } from './errors.js';
import { retrying, type FetchFn, type RetryOptions } from './retry.js';
import { EventStream, type StreamOptions } from './stream.js';
import type {
  CreateMemoryRequest, DeleteResult, ListQuery, Memory, MemoryList, SearchRequest, SearchResponse,
  StoreResult, StreamTicket, UpdateMemoryRequest, UpdateResult,
} from './types.js';

export interface MemoryClientOptions {
  /** memoryd's base URL, e.g. http://localhost:8080 (a trailing /api/v1 is accepted). */
  baseUrl: string;
  /** An API key. Leave it out in browsers, which follow the stream with a ticket. */
  apiKey?: string;
  /** Workspace to act in (X-Workspace-ID); the key's first one otherwise. */
  workspace?: string;
  /** How 429 answers are retried (Retry-After honoured, bounded). */
  retry?: RetryOptions;
  /** A fetch implementation (default: the global fetch). */
  fetch?: FetchFn;
}

/** Per-call options. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** The query of list(): filters, and the page size it fetches with. */
export type ListOptions = Omit<ListQuery, 'cursor'> & CallOptions;

/**
 * A memoryd client. Every method throws a MemorydError subclass (e.g.
 * NotFoundError) for an error answer; a 429 is retried first.
 */
export class MemoryClient {
  /** The base URL, without /api/v1. */
  readonly baseUrl: string;
  readonly #api: Client<paths>;
  readonly #headers: Record<string, string>;
  readonly #fetch: FetchFn;

  constructor(opts: MemoryClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
    this.#headers = {};
    if (opts.apiKey) this.#headers.Authorization = `Bearer ${opts.apiKey}`;
    if (opts.workspace) this.#headers['X-Workspace-ID'] = opts.workspace;
    // Called through a closure: browsers refuse a fetch detached from window.
    this.#fetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#api = createClient<paths>({
      baseUrl: this.baseUrl + '/api/v1',
      headers: this.#headers,
      fetch: retrying(this.#fetch, opts.retry),
    });
  }

  /**
   * Stores a memory, or replaces the one whose `id` it names: the result's
   * status is "stored" for a new memory, "updated" for an existing one.
   */
  async upsert(memory: CreateMemoryRequest, opts: CallOptions = {}): Promise<StoreResult> {
    return unwrap(await this.#api.POST('/memory', { body: memory, signal: opts.signal }));
  }

  /** Reads one memory (with its embedding unless includeEmbedding is false). */
  async get(id: string, opts: CallOptions & { includeEmbedding?: boolean } = {}): Promise<Memory> {
    return unwrap(await this.#api.GET('/memory/{id}', {
      params: { path: { id }, query: { include_embedding: opts.includeEmbedding } },
      signal: opts.signal,
    }));
  }

  /** Replaces the fields given of an existing memory (NotFoundError otherwise). */
  async update(id: string, changes: UpdateMemoryRequest, opts: CallOptions = {}): Promise<UpdateResult> {
    return unwrap(await this.#api.PUT('/memory/{id}', { params: { path: { id } }, body: changes, signal: opts.signal }));
  }

  async delete(id: string, opts: CallOptions = {}): Promise<DeleteResult> {
    return unwrap(await this.#api.DELETE('/memory/{id}', { params: { path: { id } }, signal: opts.signal }));
  }

  /** One page of the list; pass the previous page's next_cursor as cursor. */
  async listPage(query: ListQuery = {}, opts: CallOptions = {}): Promise<MemoryList> {
    return unwrap(await this.#api.GET('/memory', { params: { query }, signal: opts.signal }));
  }

  /**
   * Every memory matching the filters, newest first, fetching page after
   * page (of `limit`) as the loop goes.
   */
  async *list(opts: ListOptions = {}): AsyncGenerator<Memory, void, undefined> {
    const { signal, ...query } = opts;
    let cursor: string | undefined;
    do {
      const page = await this.listPage({ ...query, cursor }, { signal });
      yield* page.memories;
      cursor = page.next_cursor;
    } while (cursor);
  }

  async search(request: SearchRequest, opts: CallOptions = {}): Promise<SearchResponse> {
    return unwrap(await this.#api.POST('/memory/search', { body: request, signal: opts.signal }));
  }

  /**
   * A short-lived ticket that lets a browser follow the stream without an
   * API key: mint it on your server, hand it to the page, and call
   * stream({ticket}) there.
   */
  async createStreamTicket(opts: CallOptions = {}): Promise<StreamTicket> {
    return unwrap(await this.#api.POST('/stream/tickets', { signal: opts.signal }));
  }

  /**
   * Follows the workspace's events: an async iterator of typed messages
   * that reconnects by itself from the last position it delivered (see
   * EventStream).
   */
  stream(opts: StreamOptions = {}): EventStream {
    return new EventStream({ baseUrl: this.baseUrl, headers: this.#headers, fetch: this.#fetch }, opts);
  }
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

function unwrap<T>(r: Answer<T>): T {
  if (!r.response.ok || r.data === undefined) {
    throw errorFrom(r.response.status, r.error, r.response.headers);
  }
  return r.data;
}
