// The stream against a real memoryd behind a proxy that cuts every SSE
// connection after N events (go run ./tools/sdkserver -cut-every N): the
// client must resume by itself and deliver every event written, in order,
// once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryClient, UnauthorizedError } from '../dist/index.js';
import { startServer } from './server.mjs';

const cutEvery = 15;
const writes = 120;

let srv;
before(async () => { srv = await startServer(['-cut-every', String(cutEvery)]); });
after(async () => { await srv?.stop(); });

// next() with a limit, so a stream that stalls fails the test saying so.
async function next(stream, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no stream event within 60 s while waiting for ${what}`)), 60_000);
  });
  try {
    return await Promise.race([stream.next(), limit]);
  } finally {
    clearTimeout(timer);
  }
}

test('a stream cut every N events mid-burst resumes with no gap and no duplicate', { timeout: 10 * 60_000 }, async (t) => {
  const writer = new MemoryClient({ baseUrl: srv.base_url, apiKey: srv.api_key });
  const reader = new MemoryClient({ baseUrl: srv.cut_base_url, apiKey: srv.api_key });
  const stream = reader.stream();
  t.after(() => stream.close());
  const first = await next(stream, 'welcome');
  assert.equal(first.value.type, 'welcome');

  const run = `r${Date.now()}`;
  const written = [];
  const burst = (async () => {
    for (let i = 0; i < writes; i++) {
      const r = await writer.upsert({ id: `${run}-${String(i).padStart(3, '0')}`, text: `burst memory ${i}` });
      written.push(r.id);
    }
  })();

  const received = [];
  const welcomes = [first.value];
  let lastId = first.value.id;
  let seen = 0;
  while (received.length < writes) {
    const { value: ev, done } = await next(stream, `memory ${received.length + 1} of ${writes}`);
    assert.ok(!done, 'the stream ended');
    seen++;
    if (ev.type === 'restart') assert.fail(`restart: ${JSON.stringify(ev.data)}`);
    if (ev.type === 'welcome') {
      // Each reconnection resumes from the last position delivered.
      assert.equal(ev.data.position, lastId, `reconnection ${welcomes.length} resumed elsewhere`);
      welcomes.push(ev);
    }
    if (ev.type === 'memory.created' && ev.data.id.startsWith(run)) received.push(ev.data.id);
    if (ev.id) lastId = ev.id;
  }
  await burst;
  stream.close();

  const dupes = received.length - new Set(received).size;
  t.diagnostic(`written ${written.length}, received ${received.length}, duplicates ${dupes}, ` +
    `connections ${stream.connections} (cut every ${cutEvery} events), messages ${seen}`);
  assert.equal(dupes, 0);
  assert.deepEqual(received, written, 'events received = events written, in order');
  assert.ok(welcomes.length >= Math.floor(writes / cutEvery), `only ${welcomes.length} connections: the proxy did not cut`);
  assert.equal(stream.connections, welcomes.length);
});

test('a stream resumes from a saved position', async (t) => {
  const c = new MemoryClient({ baseUrl: srv.base_url, apiKey: srv.api_key });
  const s1 = c.stream({ events: ['memory.created', 'memory.deleted'] });
  t.after(() => s1.close());
  const w = await next(s1, 'welcome');
  const id = `saved-${Date.now()}`;
  await c.upsert({ id, text: 'one' });
  let ev;
  do ev = (await next(s1, 'memory.created')).value; while (ev.type !== 'memory.created');
  assert.equal(ev.data.id, id);
  const saved = s1.lastEventId;
  assert.equal(saved, ev.id);
  assert.notEqual(saved, w.value.id);
  s1.close();
  assert.equal((await s1.next()).done, true);

  await c.delete(id);
  const s2 = c.stream({ events: ['memory.created', 'memory.deleted'], lastEventId: saved });
  t.after(() => s2.close());
  const w2 = (await next(s2, 'welcome')).value;
  assert.equal(w2.type, 'welcome');
  assert.equal(w2.data.position, saved);
  do ev = (await next(s2, 'memory.deleted')).value; while (ev.type === 'heartbeat');
  assert.deepEqual([ev.type, ev.data.id], ['memory.deleted', id]);
  s2.close();
});

test('an unusable position gets restart, then the stream goes on live', async (t) => {
  const c = new MemoryClient({ baseUrl: srv.base_url, apiKey: srv.api_key });
  const s = c.stream({ lastEventId: 'not-a-position' });
  t.after(() => s.close());
  const types = [(await next(s, 'welcome')).value.type, (await next(s, 'restart')).value];
  assert.equal(types[0], 'welcome');
  assert.equal(types[1].type, 'restart');
  assert.equal(types[1].data.reason, 'malformed');
  assert.equal(s.lastEventId, types[1].data.position);
  const id = `after-restart-${Date.now()}`;
  await c.upsert({ id, text: 'live' });
  let ev;
  do ev = (await next(s, 'memory.created')).value; while (ev.type !== 'memory.created');
  assert.equal(ev.data.id, id);
  s.close();
});

test('a ticket authenticates the stream; a bad one ends it with UnauthorizedError', async (t) => {
  const c = new MemoryClient({ baseUrl: srv.base_url, apiKey: srv.api_key });
  const { ticket } = await c.createStreamTicket();
  const browserLike = new MemoryClient({ baseUrl: srv.base_url });
  const s = browserLike.stream({ ticket });
  t.after(() => s.close());
  assert.equal((await next(s, 'welcome')).value.type, 'welcome');
  s.close();

  const bad = browserLike.stream({ ticket: 'nope' });
  t.after(() => bad.close());
  await assert.rejects(next(bad, 'the 401'), UnauthorizedError);
});
