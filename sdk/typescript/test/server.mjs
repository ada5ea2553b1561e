// Starts a real memoryd for the tests with tools/sdkserver (the binary
// $MEMORYD_SDKSERVER names, as `make test-ts` builds it, else `go run
// ./tools/sdkserver`), which prints one JSON line (base_url, cut_base_url,
// api_key, limited_api_key, workspace) and serves until its stdin closes.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

// Compiling memoryd on a cold, busy two-core machine takes minutes.
const startLimitMs = 10 * 60_000;

/** Starts the server; stop() ends it (closing its stdin) and waits for it. */
export async function startServer(args = []) {
  const bin = process.env.MEMORYD_SDKSERVER;
  const cmd = bin ? [bin, args] : ['go', ['run', './tools/sdkserver', ...args]];
  const proc = spawn(cmd[0], cmd[1], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true, // its own process group, so a failed start kills memoryd too
  });
  let log = '';
  proc.stderr.on('data', (b) => { log = (log + b).slice(-8000); });
  const exited = new Promise((resolve) => proc.on('exit', (code, sig) => resolve(code ?? sig)));
  const lines = createInterface({ input: proc.stdout });
  const first = new Promise((resolve, reject) => {
    lines.once('line', resolve);
    exited.then((code) => reject(new Error(`tools/sdkserver exited (${code}) before it printed its URLs:\n${log}`)));
  });
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`tools/sdkserver did not print its URLs within its ${startLimitMs / 1000} s start limit:\n${log}`)), startLimitMs);
  });
  try {
    const info = JSON.parse(await Promise.race([first, limit]));
    const stop = async () => {
      proc.stdin.end();
      await exited;
    };
    return { ...info, stop, log: () => log };
  } catch (e) {
    try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* gone */ }
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
