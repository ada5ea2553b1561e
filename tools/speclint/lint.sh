#!/usr/bin/env bash
# lint.sh [OPENAPI [ASYNCAPI]]: validate the API documents with three
# independent tools. Defaults: spec/openapi.yaml and spec/asyncapi.yaml of
# the repository (the AsyncAPI check is skipped when that file is absent).
#
#   1. Redocly CLI lint, "recommended" rules (tools/speclint/redocly.yaml)
#   2. @asyncapi/parser (asyncapi-validate.mjs): AsyncAPI 3 schema + rules
#   3. kin-openapi strict validation (kinvalidate), the library the server
#      validates requests with; also every spec/schemas/*.yaml that is an
#      OpenAPI document.
#
# The npm tools are pinned in package-lock.json and installed with `npm ci`
# into tools/speclint/node_modules only when it is missing or was installed
# from another lockfile. --ignore-scripts: no dependency needs an install
# script (the only one, @scarf/scarf, reports install analytics). Every
# check runs even when an earlier one fails; the exit code is 1 when any
# failed.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
openapi="$(realpath -m "${1:-$root/spec/openapi.yaml}")"
asyncapi="$(realpath -m "${2:-$root/spec/asyncapi.yaml}")"
spec_dir="$(dirname "$openapi")"

# Redocly: no telemetry or update checks (CI reaches no such host).
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
export NO_UPDATE_NOTIFIER=1 CI="${CI:-true}"

# ensure_node_modules runs `npm ci` when node_modules is absent or stale
# (its stamp names another package-lock.json than the current one).
ensure_node_modules() {
	local stamp="$here/node_modules/.speclint-lock.sha256"
	local want
	want="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
	if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$here/node_modules/.bin/redocly" ]]; then
		return 0
	fi
	bash "$here/../node/check-node.sh" || return 1
	echo "== npm ci (tools/speclint)"
	npm ci --prefix "$here" --prefer-offline --ignore-scripts --no-audit --no-fund --loglevel=error || return 1
	echo "$want" >"$stamp"
}

failed=()
step() {
	local name="$1"
	shift
	echo "== $name"
	if ! "$@"; then
		failed+=("$name")
	fi
}

ensure_node_modules || { echo "lint.sh: could not install the linters" >&2; exit 1; }

step "redocly lint $(basename "$openapi")" \
	"$here/node_modules/.bin/redocly" lint --config "$here/redocly.yaml" --format stylish "$openapi"

if [[ -f "$asyncapi" ]]; then
	step "asyncapi parser $(basename "$asyncapi")" node "$here/asyncapi-validate.mjs" "$asyncapi"
else
	echo "== asyncapi: $asyncapi absent, skipped"
fi

kin_files=("$openapi")
for f in "$spec_dir"/schemas/*.yaml; do
	[[ -f "$f" ]] && grep -q '^openapi:' "$f" && kin_files+=("$f")
done
step "kin-openapi strict" bash -c 'cd "$1" && shift && go run ./tools/speclint/kinvalidate "$@"' _ "$root" "${kin_files[@]}"

if ((${#failed[@]})); then
	printf 'lint.sh: FAILED: %s\n' "${failed[@]}" >&2
	exit 1
fi
echo "lint.sh: all spec checks passed"
