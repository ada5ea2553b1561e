#!/usr/bin/env bash
# Installs PostgreSQL's server binaries from Debian when absent. Tests start
# their own throwaway cluster (internal/pgtest); nothing here starts
# or configures a system-wide server.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "PostgreSQL is not installed; run as root or: sudo apt-get install -y postgresql" >&2
	exit 1
fi
source "$(dirname "${BASH_SOURCE[0]}")/../apt/lock.sh"
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	exit 0
fi
echo "installing postgresql from apt..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq postgresql >/dev/null
# The package starts a default cluster; tests do not use it.
(command -v service >/dev/null && service postgresql stop) >/dev/null 2>&1 || true
ls /usr/lib/postgresql/*/bin/initdb >/dev/null
