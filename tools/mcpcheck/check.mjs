// An MCP session with memoryd from an independent client, the official
// TypeScript SDK: list the tools, store a memory, find it by search,
// delete it, and check that it is gone. It prints the session and exits 1
// at the first answer that is not what memoryd's tools promise.
//
//   MEMORYD_URL=http://127.0.0.1:8080 MEMORYD_API_KEY=mk_... node check.mjs
//
// MEMORYD_WORKSPACE, when set, is sent as X-Workspace-ID.
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const base = process.env.MEMORYD_URL ?? "http://127.0.0.1:8080";
const key = process.env.MEMORYD_API_KEY;
if (!key) {
  console.error("check.mjs: set MEMORYD_API_KEY");
  process.exit(2);
}
const headers = { Authorization: `Bearer ${key}` };
if (process.env.MEMORYD_WORKSPACE) headers["X-Workspace-ID"] = process.env.MEMORYD_WORKSPACE;

const show = (dir, what) => console.log(`${dir} ${typeof what === "string" ? what : JSON.stringify(what)}`);

const client = new Client({ name: "memoryd-mcpcheck", version: "1.0.0" });
const transport = new StreamableHTTPClientTransport(new URL("/mcp", base), { requestInit: { headers } });

// call calls a tool, prints the exchange and returns the result.
async function call(name, args) {
  show(">", `tools/call ${name} ${JSON.stringify(args)}`);
  const res = await client.callTool({ name, arguments: args });
  show("<", { isError: res.isError ?? false, text: res.content?.[0]?.text, structuredContent: res.structuredContent });
  return res;
}

try {
  await client.connect(transport);
  show("<", `connected to ${client.getServerVersion()?.name} ${client.getServerVersion()?.version}`);

  show(">", "tools/list");
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name).sort();
  show("<", `tools: ${names.join(", ")}`);
  assert.deepEqual(names, ["delete", "get", "list", "search", "store", "update"]);
  for (const t of tools) {
    assert.equal(t.inputSchema.type, "object", `${t.name}: input schema type`);
    assert.ok(t.description.length > 40, `${t.name}: a description for a model`);
  }
  const store = tools.find((t) => t.name === "store");
  assert.deepEqual(store.inputSchema.required, ["text"]);
  assert.equal(store.inputSchema.properties.id.maxLength, 128);

  const text = `The user's favourite editor is Helix (check ${Date.now()})`;
  const stored = await call("store", { text, metadata: { type: "preference", tags: ["tools"] } });
  assert.ok(!stored.isError, "store failed");
  const id = stored.structuredContent.id;
  assert.match(id, /^[A-Za-z0-9_.:-]+$/);
  assert.equal(stored.structuredContent.status, "stored");
  assert.ok(stored.content[0].text.includes(id), "the store text names the id");

  const found = await call("search", { query: "favourite editor Helix", limit: 3 });
  assert.ok(!found.isError, "search failed");
  assert.ok(found.structuredContent.total_results >= 1, "search found nothing");
  assert.equal(found.structuredContent.results[0].memory.id, id);
  assert.equal(found.structuredContent.results[0].memory.text, text);
  assert.ok(found.content[0].text.includes(id), "the search text names the hit");

  const deleted = await call("delete", { id });
  assert.ok(!deleted.isError, "delete failed");
  assert.deepEqual(deleted.structuredContent, { success: true, deleted_id: id });

  const gone = await call("get", { id });
  assert.equal(gone.isError, true);
  assert.equal(gone.structuredContent.error, "NOT_FOUND");
  assert.match(gone.content[0].text, /^NOT_FOUND: /);

  const bad = await call("search", { query: "x", limit: 1000 });
  assert.equal(bad.isError, true);
  assert.equal(bad.structuredContent.error, "INVALID_REQUEST");

  console.log(`ok: listed ${names.length} tools, stored, found, deleted ${id}`);
} catch (err) {
  console.error(`check.mjs: ${err?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  await client.close();
}
