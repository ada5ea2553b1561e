// The seed's `client.upsert({text, metadata})` and the stream's narrowing
// type-check (tsc --noEmit on test/typecheck.ts), and a wrong field does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const tsc = (file) => execFileSync(process.execPath, [join(pkg, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit',
  '--strict', '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--skipLibCheck', file],
{ cwd: pkg, stdio: 'pipe' });

test('the seed example and typed stream events type-check', () => {
  tsc('test/typecheck.ts');
});

test('a field the spec does not have is a type error', () => {
  const dir = mkdtempSync(join(pkg, 'test', '.tmp-'));
  try {
    const bad = join(dir, 'bad.ts');
    writeFileSync(bad, readFileSync(join(pkg, 'test', 'typecheck.ts'), 'utf8')
      .replace("'../dist/index.js'", "'../../dist/index.js'")
      .replace('return ev.data.content;', 'return ev.data.text;'));
    assert.throws(() => tsc(bad), (e) => /Property 'text' does not exist/.test(String(e.stdout)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
