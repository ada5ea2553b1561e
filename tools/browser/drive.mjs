// drive.mjs URL: opens URL in Debian's headless Chromium and answers
// commands, one JSON object per line on stdin, with one JSON line on stdout:
//
//   {"wait": "<js expression>", "timeout_ms": 60000}  -> {"ok": true} once it is truthy
//   {"eval": "<js expression>"}                        -> {"ok": true, "value": <its value>}
//
// and {"ok": false, "error": "..."} when a command fails. The first line
// out is {"ok": true, "ready": true} once the page has loaded. Closing
// stdin closes the browser. Page console output and errors go to stderr,
// so a failing test can show them.
//
// The browser is never downloaded: playwright-core launches
// /usr/bin/chromium (tools/browser/ensure-chromium.sh installs it).
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const url = process.argv[2];
if (!url) {
  console.error('usage: node drive.mjs URL');
  process.exit(2);
}

// Time limits, with room for a cold, busy machine (Chromium's first start
// reads its whole profile and libraries from a cold disk). Playwright's
// timeout errors name the operation and the limit ("page.goto: Timeout
// 120000ms exceeded").
const launchLimitMs = 180000;
const gotoLimitMs = 120000;
const waitLimitMs = 60000; // a wait command without timeout_ms

const profile = mkdtempSync(join(tmpdir(), 'memoryd-chromium-'));
const out = (v) => process.stdout.write(JSON.stringify(v) + '\n');

async function run(page, cmd) {
  if (typeof cmd.wait === 'string') {
    await page.waitForFunction(cmd.wait, null, { timeout: cmd.timeout_ms ?? waitLimitMs, polling: 50 });
    return { ok: true };
  }
  if (typeof cmd.eval === 'string') {
    return { ok: true, value: await page.evaluate(cmd.eval) };
  }
  throw new Error('unknown command ' + JSON.stringify(cmd));
}

let browser;
try {
  // A persistent context is how Playwright passes --user-data-dir (a
  // throwaway profile). Headless mode is an argument, so the Debian build
  // runs its new headless mode; the other flags keep it off the network.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: false,
    timeout: launchLimitMs,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const page = browser.pages()[0] ?? await browser.newPage();
  page.on('console', (m) => console.error(`[console.${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => console.error(`[pageerror] ${e.message}`));
  await page.goto(url, { timeout: gotoLimitMs });
  out({ ok: true, ready: true });
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    try {
      out(await run(page, JSON.parse(line)));
    } catch (e) {
      out({ ok: false, error: String(e?.message ?? e) });
    }
  }
} catch (e) {
  out({ ok: false, error: String(e?.stack ?? e) });
  process.exitCode = 1;
} finally {
  await browser?.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
