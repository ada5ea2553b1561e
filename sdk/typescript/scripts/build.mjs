// Builds the package: copies the types generated from the spec
// (gen/typescript, kept fresh by `make generate`) into src/gen/, then
// compiles src/ to ES modules with declarations in dist/. Neither src/gen/
// nor dist/ is tracked: the spec's generated types live in gen/ only.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(pkg, '..', '..', 'gen', 'typescript');
const to = join(pkg, 'src', 'gen');

rmSync(to, { recursive: true, force: true });
mkdirSync(to, { recursive: true });
for (const f of readdirSync(from).filter((f) => f.endsWith('.ts'))) {
  copyFileSync(join(from, f), join(to, f));
}
rmSync(join(pkg, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [join(pkg, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', pkg], { stdio: 'inherit' });
