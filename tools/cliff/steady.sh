#!/usr/bin/env bash
# The steady-load slope: memoryd (hash embedder, in-process index, a
# throwaway SQLite file) under tools/load -mode all paced at RATE
# requests/s, ROUNDS times: each round 15 s of creates, gets and searches.
# Prints, per round, the memories stored and each phase's line; compare
# the search p99 at ~50k memories with the one at ~5k. A last round runs
# on a second, empty workspace of the same process and database: a search
# there costs what one at ~5k did (a small index, 4,500 memories), so what
# it adds over round 1 is the machine, the process and the database having
# grown, not the workspace's size.
#
#   go build -o /tmp/memoryd ./server/cmd/memoryd
#   bash tools/cliff/steady.sh /tmp/memoryd            # RATE=300 ROUNDS=12
set -euo pipefail
bin=${1:?usage: steady.sh MEMORYD_BINARY}
rate=${RATE:-300}
rounds=${ROUNDS:-12}
cd "$(dirname "$0")/../.."
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
db="sqlite://$dir/memoryd.db"
key=$("$bin" keys create --db "$db" --workspace default)
small=$("$bin" keys create --db "$db" --workspace small)
"$bin" serve --addr 127.0.0.1:0 --db "$db" --embedder hash >"$dir/server.log" 2>&1 &
pid=$!
url=
for _ in $(seq 600); do
  url=$(grep -o 'addr=http://[^ ]*/api/v1' "$dir/server.log" | head -1 | sed 's/^addr=//; s#/api/v1$##') || true
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "steady.sh: memoryd did not log its address within 60 s" >&2; cat "$dir/server.log" >&2; exit 1; }
go build -o "$dir/load" ./tools/load
for r in $(seq "$rounds"); do
  echo "round $r"
  "$dir/load" -url "$url" -key "$key" -mode all -rate "$rate" -duration 15s | grep -v '^target'
done
echo "a fresh workspace, same process and database"
"$dir/load" -url "$url" -key "$small" -mode all -rate "$rate" -duration 15s | grep -v '^target'
