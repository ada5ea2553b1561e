// The package's types are what openapi-typescript makes of the spec now:
// gen/typescript is fresh, and the build's copy in src/gen is that file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './server.mjs';

const pkg = fileURLToPath(new URL('..', import.meta.url));

for (const [spec, file] of [['spec/openapi.yaml', 'api.ts'], ['spec/schemas/events.yaml', 'events.ts']]) {
  test(`gen/typescript/${file} is generated from ${spec}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'memoryd-ts-gen-'));
    try {
      const out = join(dir, file);
      execFileSync(join(pkg, 'node_modules', '.bin', 'openapi-typescript'), [spec, '--output', out], { cwd: repoRoot, stdio: 'pipe' });
      const fresh = readFileSync(out, 'utf8');
      assert.ok(fresh === readFileSync(join(repoRoot, 'gen', 'typescript', file), 'utf8'),
        `gen/typescript/${file} is stale: run make generate`);
      assert.ok(fresh === readFileSync(join(pkg, 'src', 'gen', file), 'utf8'),
        `src/gen/${file} is not the generated file: run npm run build`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
