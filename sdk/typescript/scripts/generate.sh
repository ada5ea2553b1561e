#!/usr/bin/env bash
# Regenerates gen/typescript from the spec with the pinned
# openapi-typescript: api.ts from spec/openapi.yaml (paths, operations,
# schemas) and events.ts from spec/schemas/events.yaml (the stream's
# payloads, the schemas spec/asyncapi.yaml references). Run by
# `make generate` (go generate ./gen/...), checked by make check-generate.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/../.." && pwd)"
bash "$here/scripts/ensure.sh"
gen() {
	(cd "$root" && "$here/node_modules/.bin/openapi-typescript" "$1" --output "$2" --silent)
}
gen spec/openapi.yaml gen/typescript/api.ts
gen spec/schemas/events.yaml gen/typescript/events.ts
