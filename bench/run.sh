#!/usr/bin/env bash
# Runs the control-plane load generator against a fresh loopback `fastgpu server`
# (SQLite in a temp dir) and prints the figures used in docs/benchmarks.md.
# Usage: bash bench/run.sh [build dir, default build]
set -euo pipefail
BUILD=${1:-build}
BIN="$BUILD/fastgpu"
LOADGEN="$BUILD/bin/fastgpu_loadgen"
PORT=${PORT:-18700}

run_server() {  # $1: data dir
  "$BIN" --log-level warn server --data-dir "$1" --listen "127.0.0.1:$PORT" >"$1.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 50); do grep -q "listening on" "$1.log" 2>/dev/null && return; sleep 0.1; done
  echo "server did not start: $(cat "$1.log")" >&2
  exit 1
}
stop_server() { kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
URL="http://127.0.0.1:$PORT"

echo "# 1. durable submissions, 64 clients, no nodes (the API and the store alone)"
run_server "$TMP/a"
"$LOADGEN" --mode submit --server "$URL" --data-dir "$TMP/a" --clients 64 --seconds 10
stop_server

echo "# 2. heartbeats of 1,000 simulated agents (8 GPUs each), nothing to place"
run_server "$TMP/b"
"$LOADGEN" --mode heartbeat --server "$URL" --data-dir "$TMP/b" --agents 1000 --threads 32 --seconds 10
echo "# 3. durable submissions, 64 clients, while the reconciler places them on those 1,000 nodes"
"$LOADGEN" --mode submit --server "$URL" --data-dir "$TMP/b" --clients 64 --seconds 10
echo "# 4. heartbeats of 1,000 more agents (new nodes) while the reconciler places the backlog"
echo "#    on them, so answers list allocations (the first 1,000 nodes are lost by now)"
"$LOADGEN" --mode heartbeat --server "$URL" --data-dir "$TMP/b" --agents 1000 --threads 32 --seconds 10
curl -s "$URL/metrics" | grep -E '^fastgpu_jobs|^fastgpu_scheduling_latency_seconds_(sum|count)' || true
stop_server
