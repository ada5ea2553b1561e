// The client against a real memoryd (go run ./tools/sdkserver): CRUD,
// list over several pages, search, a 429 retried, typed errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  InvalidRequestError, MemoryClient, MemorydError, NotFoundError, RateLimitedError,
} from '../dist/index.js';
import { startServer } from './server.mjs';

let srv;
let client;
before(async () => {
  srv = await startServer();
  client = new MemoryClient({ baseUrl: srv.base_url, apiKey: srv.api_key });
});
after(async () => { await srv?.stop(); });

// A fetch that records every request and answer it passes on.
function recording() {
  const calls = [];
  const fetch = async (input, init) => {
    const req = new Request(input, init);
    const started = Date.now();
    const res = await globalThis.fetch(req);
    calls.push({ method: req.method, url: new URL(req.url), status: res.status, started, retryAfter: res.headers.get('retry-after') });
    return res;
  };
  return { calls, fetch };
}

describe('memories', () => {
  test('the seed example, then get, upsert, update, delete', async () => {
    // As the API documentation writes it.
    const result = await client.upsert({
      text: "Meeting notes from Q4 planning",
      metadata: {
        type: "meeting",
        tags: ["planning", "q4"]
      }
    });
    assert.equal(result.status, 'stored');
    assert.ok(result.id);

    const got = await client.get(result.id);
    assert.equal(got.text, 'Meeting notes from Q4 planning');
    assert.deepEqual(got.metadata, { type: 'meeting', tags: ['planning', 'q4'] });
    assert.equal(got.embedding?.length, got.vector_dimensions);
    assert.equal((await client.get(result.id, { includeEmbedding: false })).embedding, undefined);

    const again = await client.upsert({ id: result.id, text: 'Q4 planning, revised', metadata: { type: 'meeting' } });
    assert.equal(again.status, 'updated');
    assert.equal((await client.get(result.id)).text, 'Q4 planning, revised');

    const upd = await client.update(result.id, { metadata: { type: 'minutes' } });
    assert.equal(upd.status, 'updated');
    const now = await client.get(result.id);
    assert.deepEqual([now.text, now.metadata], ['Q4 planning, revised', { type: 'minutes' }]);

    const del = await client.delete(result.id);
    assert.deepEqual(del, { success: true, deleted_id: result.id });
    await assert.rejects(client.get(result.id), (e) => {
      assert.ok(e instanceof NotFoundError && e instanceof MemorydError);
      assert.equal(e.code, 'NOT_FOUND');
      assert.equal(e.status, 404);
      return true;
    });
    await assert.rejects(client.delete(result.id), NotFoundError);
    await assert.rejects(client.update(result.id, { text: 'x' }), NotFoundError);
  });

  test('bad input is a typed error from the envelope and stores nothing', async () => {
    await assert.rejects(client.upsert({ id: 'bad-meta', text: 'x', metadata: { tags: 'not-a-list' } }), (e) => {
      assert.ok(e instanceof InvalidRequestError);
      assert.equal(e.code, 'INVALID_REQUEST');
      assert.equal(e.status, 400);
      assert.ok(e.message.length > 0);
      return true;
    });
    await assert.rejects(client.get('bad-meta'), NotFoundError);
  });

  test('list yields every memory once over several pages', async () => {
    const source = `list-${Date.now()}`;
    const want = [];
    for (let i = 0; i < 23; i++) {
      const r = await client.upsert({ id: `${source}-${i}`, text: `list memory ${i}`, metadata: { source } });
      want.push(r.id);
    }
    await client.upsert({ id: `${source}-other`, text: 'not in the list', metadata: { source: source + '-x' } });

    const rec = recording();
    const c = new MemoryClient({ baseUrl: srv.base_url, apiKey: srv.api_key, fetch: rec.fetch });
    const got = [];
    for await (const m of c.list({ source, limit: 5 })) {
      assert.equal(m.metadata.source, source);
      got.push(m.id);
    }
    assert.equal(new Set(got).size, got.length, 'a memory listed twice');
    assert.deepEqual([...got].sort(), [...want].sort());
    assert.deepEqual(got, [...want].reverse(), 'newest first');
    const pages = rec.calls.filter((c) => c.method === 'GET' && c.url.pathname === '/api/v1/memory');
    assert.equal(pages.length, 5, 'pages of 5 for 23 memories');
    assert.ok(pages.slice(1).every((p) => p.url.searchParams.get('cursor')), 'later pages follow the cursor');

    const page = await client.listPage({ source, limit: 5 });
    assert.equal(page.total, 23);
    assert.equal(page.has_more, true);
  });

  test('search finds the memory by meaning and by keyword', async () => {
    const tag = `s${Date.now()}`;
    const texts = ['the cat sleeps on the warm windowsill', 'quarterly revenue grew by ten percent', 'rust borrow checker rules'];
    for (const [i, text] of texts.entries()) {
      await client.upsert({ id: `${tag}-${i}`, text, metadata: { tags: [tag] } });
    }
    const sem = await client.search({ query: texts[1], limit: 3, filters: { tags: [tag] } });
    assert.equal(sem.mode, 'semantic');
    assert.equal(sem.results[0].memory.id, `${tag}-1`);
    assert.ok(sem.results[0].score > 0.99, `score ${sem.results[0].score}`);
    assert.equal(sem.total_results, sem.results.length);

    const kw = await client.search({ query: 'borrow', mode: 'keyword', filters: { tags: [tag] } });
    assert.deepEqual(kw.results.map((r) => r.memory.id), [`${tag}-2`]);

    await assert.rejects(client.search({ query: 'x', mode: 'nonsense' }), InvalidRequestError);
  });
});

describe('rate limits', () => {
  test('a 429 is retried after its Retry-After', async (t) => {
    const rec = recording();
    const c = new MemoryClient({ baseUrl: srv.base_url, apiKey: srv.limited_api_key, fetch: rec.fetch });
    // Enough calls to pass the key's limit; every one must succeed.
    for (let i = 0; i < 60 && !rec.calls.some((x) => x.status === 429); i++) {
      await c.listPage({ limit: 1 });
    }
    const i = rec.calls.findIndex((x) => x.status === 429);
    assert.ok(i >= 0, `no 429 in ${rec.calls.length} calls: the limited key was never limited`);
    await c.listPage({ limit: 1 }).catch(() => {}); // make sure the retry went out
    const limited = rec.calls[i];
    const retry = rec.calls[i + 1];
    assert.ok(retry, 'the 429 was not retried');
    assert.equal(retry.url.href, limited.url.href);
    const waited = retry.started - limited.started;
    assert.ok(Number(limited.retryAfter) >= 0, `Retry-After ${limited.retryAfter}`);
    assert.ok(waited >= Number(limited.retryAfter) * 1000 - 50, `retried after ${waited} ms, Retry-After ${limited.retryAfter} s`);
    t.diagnostic(`429 after ${i} calls, Retry-After ${limited.retryAfter} s, retried after ${waited} ms`);
  });

  test('without retries the 429 is a RateLimitedError', async () => {
    const c = new MemoryClient({ baseUrl: srv.base_url, apiKey: srv.limited_api_key, retry: { maxRetries: 0 } });
    let err;
    for (let i = 0; i < 60 && !err; i++) {
      await c.listPage({ limit: 1 }).catch((e) => { err = e; });
    }
    assert.ok(err instanceof RateLimitedError, `got ${err}`);
    assert.equal(err.code, 'RATE_LIMITED');
    assert.equal(err.status, 429);
    assert.ok(err.retryAfterMs >= 0);
  });
});
