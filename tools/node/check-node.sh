#!/usr/bin/env bash
# Fails with a clear message when Node.js or npm is missing or too old for
# the project's npm tools (pinned in tools/*/package-lock.json): Redocly CLI
# needs Node.js 20.19 or newer, Playwright 20. Debian 12's own nodejs
# package is 18, too old: install Node.js 20.19+ (or 22) from another
# source. Nothing is installed here.
set -euo pipefail
want_major=20 want_minor=19
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "check-node.sh: Node.js ${want_major}.${want_minor}+ and npm are required (the spec linters and the browser test are npm packages)" >&2
	exit 1
fi
v=$(node -p 'process.versions.node')
IFS=. read -r major minor _ <<<"$v"
if ((major < want_major || (major == want_major && minor < want_minor))); then
	echo "check-node.sh: Node.js $v is too old; ${want_major}.${want_minor} or newer is required (the spec linters and the browser test are npm packages)" >&2
	exit 1
fi
