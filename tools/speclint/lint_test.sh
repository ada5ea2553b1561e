#!/usr/bin/env bash
# lint_test.sh: tests lint.sh itself on the samples in testdata/ (good/
# passes every tool; bad/ breaks each tool's rules) and checks that
# node_modules is reinstalled only when stale. Prints "N passed, N failed".
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
td="$here/testdata"
pass=0 fail=0

# expect NAME WANT_CODE ARGS... -- PATTERNS...: run lint.sh ARGS, check its
# exit code, and that each PATTERN (grep -E) is present, or absent when it
# starts with "!".
expect() {
	local name="$1" want="$2" args=() pats=()
	shift 2
	while (($#)) && [[ "$1" != "--" ]]; do args+=("$1"); shift; done
	(($#)) && shift
	pats=("$@")
	local out code ok=1
	out="$(bash "$here/lint.sh" "${args[@]}" 2>&1)"
	code=$?
	[[ "$code" == "$want" ]] || { echo "  exit code $code, want $want"; ok=0; }
	for p in "${pats[@]}"; do
		if [[ "$p" == !* ]]; then
			grep -qE -- "${p:1}" <<<"$out" && { echo "  unexpected /${p:1}/"; ok=0; }
		else
			grep -qE -- "$p" <<<"$out" || { echo "  missing /$p/"; ok=0; }
		fi
	done
	if ((ok)); then
		echo "ok   $name"; pass=$((pass + 1))
	else
		echo "FAIL $name"; echo "$out" | sed 's/^/    | /'; fail=$((fail + 1))
	fi
}

expect "good samples pass" 0 "$td/good/openapi.yaml" "$td/good/asyncapi.yaml" -- \
	"all spec checks passed" "schemas/note.yaml: valid" "good/asyncapi.yaml: valid AsyncAPI document"

expect "bad OpenAPI fails redocly and kin" 1 "$td/bad/openapi.yaml" "$td/good/asyncapi.yaml" -- \
	"path-parameters-defined" "security-defined" "unsupported 'format' value \"colour-name\"" \
	"FAILED: redocly" "FAILED: kin-openapi" "!FAILED: asyncapi"

expect "bad AsyncAPI fails the parser only" 1 "$td/good/openapi.yaml" "$td/bad/asyncapi.yaml" -- \
	"invalid-ref: '#/channels/missing' does not exist" "FAILED: asyncapi" "!FAILED: redocly" "!FAILED: kin"

expect "absent AsyncAPI is skipped" 0 "$td/good/openapi.yaml" "$td/none.yaml" -- \
	"none.yaml absent, skipped" "all spec checks passed"

# A lockfile change (simulated by a stale stamp) reinstalls; then no more.
stamp="$here/node_modules/.speclint-lock.sha256"
if [[ -f "$stamp" ]]; then
	echo stale >"$stamp"
	expect "stale node_modules is reinstalled" 0 "$td/good/openapi.yaml" "$td/none.yaml" -- "== npm ci"
	expect "fresh node_modules is kept" 0 "$td/good/openapi.yaml" "$td/none.yaml" -- "!== npm ci"
fi

echo "$pass passed, $fail failed"
((fail == 0))
