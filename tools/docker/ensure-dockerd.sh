#!/usr/bin/env bash
# Makes a Docker engine available: installs Debian's docker.io when the
# daemon is missing and starts dockerd in the background when it is not
# running. No image is ever pulled; images are built locally.
set -euo pipefail
log() { echo "ensure-dockerd: $*" >&2; }

if docker info >/dev/null 2>&1; then
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  source "$(dirname "${BASH_SOURCE[0]}")/../apt/lock.sh"
  if ! command -v dockerd >/dev/null 2>&1; then
    log "installing docker.io from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq docker.io >/dev/null
  fi
  exec 9>&-
fi
if ! pgrep -x dockerd >/dev/null 2>&1; then
  log "starting dockerd (log: /tmp/dockerd.log)"
  nohup dockerd >/tmp/dockerd.log 2>&1 &
fi
for _ in $(seq 1 180); do
  if docker info >/dev/null 2>&1; then
    log "dockerd is up"
    exit 0
  fi
  sleep 1
done
log "dockerd did not come up within its 180 s limit (tools/docker/ensure-dockerd.sh); see /tmp/dockerd.log"
tail -20 /tmp/dockerd.log >&2 || true
exit 1
