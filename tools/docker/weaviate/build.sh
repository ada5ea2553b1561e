#!/usr/bin/env bash
# Builds the Weaviate image FROM scratch from the static weaviate-server that
# tools/weaviate/ensure.sh builds once per version (no registry). The tag is
# the version and a hash of the binary and the Dockerfile: an unchanged
# input reuses the image. Prints the tag.
set -euo pipefail
cd "$(dirname "$0")"
bin=$(bash ../../weaviate/ensure.sh)
version=$(basename "$(dirname "$bin")") # ensure.sh caches by version
hash=$(cat "$bin" Dockerfile | sha256sum | cut -c1-16)
tag=memoryd-weaviate:${version#v}-$hash
if docker image inspect "$tag" >/dev/null 2>&1; then
	echo "$tag"
	exit 0
fi
echo "weaviate image: building $tag" >&2
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$bin" "$ctx/weaviate-server"
cp Dockerfile "$ctx/"
mkdir "$ctx/tmp"
docker build -q -t "$tag" "$ctx" >/dev/null
echo "$tag"
