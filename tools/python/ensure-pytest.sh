#!/usr/bin/env bash
# Installs pytest from Debian's packages for the system Python when it is
# missing (the Python package index is not needed). Prints nothing when it
# is already there.
set -euo pipefail
py=/usr/bin/python3
if [ -x "$py" ] && "$py" -c 'import pytest' 2>/dev/null; then
	exit 0
fi
source "$(dirname "${BASH_SOURCE[0]}")/../apt/lock.sh"
if [ -x "$py" ] && "$py" -c 'import pytest' 2>/dev/null; then
	exit 0
fi
echo "installing python3-pytest from apt" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq python3 python3-pytest >/dev/null
"$py" -c 'import pytest; print("pytest", pytest.__version__)' >&2
