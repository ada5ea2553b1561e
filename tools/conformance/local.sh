#!/usr/bin/env bash
# Runs the conformance suite against a freshly built memoryd on a throwaway
# SQLite database and a free loopback port, then stops it.
#
#   PROFILE=core,stream tools/conformance/local.sh [memconform flags, e.g. --run '^STREAM-']
#
# Reports go to $REPORTS (default ./reports): conformance-local.{xml,json}
# and, when PROFILE has limits, conformance-local-limits.{xml,json}; the
# server's log is kept as memoryd-local.log. Exits with memconform's status.
set -euo pipefail
cd "$(dirname "$0")/../.."
PROFILE=${PROFILE:-core,stream}
REPORTS=${REPORTS:-reports}
GO=${GO:-go}
log() { echo "conformance-local: $*" >&2; }

mkdir -p bin "$REPORTS"
CGO_ENABLED=${CGO_ENABLED:-0} "$GO" build -o bin/memoryd ./server/cmd/memoryd
"$GO" build -o bin/memconform ./conformance/cmd/memconform

tmp=$(mktemp -d)
pid=
stop() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" && wait "$pid" 2>/dev/null || true
  fi
  cp "$tmp/server.log" "$REPORTS/memoryd-local.log" 2>/dev/null || true
  rm -rf "$tmp"
}
trap stop EXIT

db="sqlite://$tmp/memoryd.db"
# Limits, with room for a cold, busy machine; each says its name when it
# runs out. A key is created in well under a second, but never wait forever
# on one (-k: a hung process may ignore SIGTERM).
KEY_LIMIT=${KEY_LIMIT:-120}     # seconds, one `memoryd keys create`
START_LIMIT=${START_LIMIT:-120} # seconds, from starting memoryd until it logs its address
key() {
  local s=0
  timeout -k 5 "$KEY_LIMIT" bin/memoryd keys create --db "$db" "$@" 2>"$tmp/keys.err" || s=$?
  [ "$s" = 0 ] && return 0
  if [ "$s" = 124 ] || [ "$s" = 137 ]; then
    log "keys create exceeded its ${KEY_LIMIT}s limit (KEY_LIMIT in tools/conformance/local.sh)"
  else
    log "keys create failed (exit $s):"
  fi
  cat "$tmp/keys.err" >&2
  exit 2
}
key_a=$(key --workspace conf-a)
key_b=$(key --workspace conf-b)
# The limits profile spends a key's quota: it gets its own free-tier key.
key_limits=$(key --workspace conf-a --tier free)

# Port 0: the kernel picks a free port, which the server logs. The
# webhooks profile's receiver listens on loopback over plain http, which
# only a server allowing private webhook addresses may reach.
MEMORYD_WEBHOOKS_ALLOW_PRIVATE=true bin/memoryd serve --addr 127.0.0.1:0 --db "$db" --embedder hash \
  --stream-min-heartbeat 1s >"$tmp/server.log" 2>&1 &
pid=$!
base=
for _ in $(seq 1 $((START_LIMIT * 10))); do
  base=$(sed -n 's/.*msg="memoryd listening" addr=\(http:\/\/[^ ]*\)\/api\/v1.*/\1/p' "$tmp/server.log" | head -1)
  [ -n "$base" ] && break
  kill -0 "$pid" 2>/dev/null || { log "memoryd exited:"; cat "$tmp/server.log" >&2; exit 2; }
  sleep 0.1
done
[ -n "$base" ] || { log "memoryd did not log its address within its ${START_LIMIT}s limit (START_LIMIT in tools/conformance/local.sh)"; cat "$tmp/server.log" >&2; exit 2; }
log "memoryd at $base (pid $pid)"

# Split PROFILE: limits runs last, alone, with the free-tier key.
others=$(tr ',' '\n' <<<"$PROFILE" | grep -vx 'limits' | paste -sd, - || true)
status=0
if [ -n "$others" ]; then
  MEMCONFORM_API_KEY=$key_a MEMCONFORM_API_KEY_B=$key_b bin/memconform --base-url "$base" \
    --workspace-a conf-a --workspace-b conf-b --profile "$others" \
    --junit "$REPORTS/conformance-local.xml" --json "$REPORTS/conformance-local.json" "$@" || status=$?
fi
if tr ',' '\n' <<<"$PROFILE" | grep -qx 'limits'; then
  s=0
  MEMCONFORM_API_KEY=$key_limits MEMCONFORM_API_KEY_B=$key_b bin/memconform --base-url "$base" \
    --workspace-a conf-a --workspace-b conf-b --profile limits \
    --junit "$REPORTS/conformance-local-limits.xml" --json "$REPORTS/conformance-local-limits.json" "$@" || s=$?
  [ "$s" -gt "$status" ] && status=$s
fi
log "reports in $REPORTS/; memconform exit status $status"
exit "$status"
