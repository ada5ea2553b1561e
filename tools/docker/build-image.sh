#!/usr/bin/env bash
# Builds the memoryd image (FROM scratch, static binary) as memoryd:dev.
set -euo pipefail
cd "$(dirname "$0")/../.."
tag=${1:-memoryd:dev}
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$ctx/memoryd" ./server/cmd/memoryd
mkdir -p "$ctx/tmp" "$ctx/data"
cp tools/docker/Dockerfile "$ctx/Dockerfile"
docker build -q -t "$tag" "$ctx" >/dev/null
echo "$tag"
