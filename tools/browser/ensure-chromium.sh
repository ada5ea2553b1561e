#!/usr/bin/env bash
# Makes the browser end-to-end test (server/e2e) runnable, installing only
# what is missing:
#   1. Debian's chromium (/usr/bin/chromium), from apt. Playwright never
#      downloads a browser here: the test launches this one.
#   2. playwright-core, pinned in package-lock.json, with `npm ci` into
#      tools/browser/node_modules when absent or installed from another
#      lockfile. --ignore-scripts: playwright-core needs no install script.
# Cheap when both are present, so the test runs it every time.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ ! -x /usr/bin/chromium ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "chromium is not installed; run as root or: sudo apt-get install -y chromium" >&2
		exit 1
	fi
	source "$here/../apt/lock.sh"
	if [ ! -x /usr/bin/chromium ]; then
		echo "installing chromium from apt..." >&2
		export DEBIAN_FRONTEND=noninteractive
		# A stale package list can name versions the mirror no longer has.
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends chromium >/dev/null
		test -x /usr/bin/chromium
	fi
	exec 9>&-
fi

stamp="$here/node_modules/.browser-lock.sha256"
want="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -f "$here/node_modules/playwright-core/package.json" ]]; then
	exit 0
fi
bash "$here/../node/check-node.sh"
echo "npm ci (tools/browser)..." >&2
npm ci --prefix "$here" --prefer-offline --ignore-scripts --no-audit --no-fund --loglevel=error >&2
echo "$want" >"$stamp"
