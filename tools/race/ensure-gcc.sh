#!/usr/bin/env bash
# Makes `go test -race` runnable: the race detector needs cgo, so a C
# compiler and the C library's headers. Installs Debian's gcc and libc6-dev
# when either is missing; cheap when both are present.
set -euo pipefail
if command -v gcc >/dev/null 2>&1 && [ -f /usr/include/stdlib.h ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "ensure-gcc.sh: go test -race needs gcc; run as root or: sudo apt-get install -y gcc libc6-dev" >&2
	exit 1
fi
source "$(dirname "${BASH_SOURCE[0]}")/../apt/lock.sh"
if command -v gcc >/dev/null 2>&1 && [ -f /usr/include/stdlib.h ]; then
	exit 0
fi
echo "installing gcc from apt (for go test -race)..." >&2
export DEBIAN_FRONTEND=noninteractive
# A stale package list can name versions the mirror no longer has.
apt-get update -qq
apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null
command -v gcc >/dev/null
