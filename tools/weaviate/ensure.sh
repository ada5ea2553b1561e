#!/usr/bin/env bash
# ensure.sh builds weaviate-server once per version into a user cache and prints
# the binary's path. Tests use it to start a real Weaviate without a container
# registry. It is a no-op when the binary is already cached.
#
#   WEAVIATE_VERSION  release to build (default below; the version the tests pin)
#   MEMORYD_CACHE     cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/memoryd)
#
# The build is static (CGO_ENABLED=0) and takes 10-20 minutes on a cold 2-core
# machine, so it happens once; concurrent callers wait on a lock rather than
# building twice, and a half-built binary is never visible under the final name.
set -euo pipefail

version="${WEAVIATE_VERSION:-v1.35.2}"
root="${MEMORYD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memoryd}"
dir="$root/weaviate/$version"
bin="$dir/weaviate-server"

if [[ -x "$bin" ]]; then
	echo "$bin"
	exit 0
fi

mkdir -p "$dir"
exec 9>"$dir/.lock"
if command -v flock >/dev/null && ! flock -n 9; then
	echo "ensure.sh: another build of $version is running; waiting for $dir/.lock" >&2
	flock 9
fi
if [[ -x "$bin" ]]; then # another caller built it while we waited
	echo "$bin"
	exit 0
fi

# Holding the lock, any build directory left is from a build that was
# killed; it is removed.
rm -rf "$dir"/.build.*
tmp="$(mktemp -d "$dir/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "ensure.sh: building weaviate-server $version (slow the first time)" >&2
start=$(date +%s)
# Weaviate's go.mod has no replace directives, so a plain module-mode install
# at the tag works; GOWORK/GOFLAGS are cleared so a caller's workspace or
# vendoring settings cannot leak into this unrelated build.
(
	cd "$tmp"
	GOWORK=off GOFLAGS= GOBIN="$tmp" CGO_ENABLED=0 \
		go install -trimpath "github.com/weaviate/weaviate/cmd/weaviate-server@$version"
)
mv -f "$tmp/weaviate-server" "$bin"
echo "ensure.sh: built $bin in $(($(date +%s) - start))s" >&2
echo "$bin"
