#!/usr/bin/env bash
# Installs the package's pinned dependencies (package-lock.json) with
# `npm ci` when node_modules is missing or was installed from another
# lockfile; with --build it also compiles the package into dist/. Cheap
# when nothing changed, so make generate, make test-ts and the browser
# test run it every time. A lock serialises concurrent callers.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/../../tools/node/check-node.sh"

exec 9>"$here/.ensure.lock"
flock 9

stamp="$here/node_modules/.sdk-lock.sha256"
want="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
	echo "npm ci (sdk/typescript)..." >&2
	# No package here needs an install script.
	npm ci --prefix "$here" --prefer-offline --ignore-scripts --no-audit --no-fund --loglevel=error >&2
	echo "$want" >"$stamp"
fi
if [[ "${1:-}" == "--build" ]]; then
	node "$here/scripts/build.mjs" >&2
fi
