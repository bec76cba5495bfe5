#!/usr/bin/env bash
# Durable submissions on SQLite, on PostgreSQL with one control-plane replica and with
# three, then the failover time over 10 kills of the leader (docs/ha.md, docs/benchmarks.md).
# Starts its own PostgreSQL on loopback in a temp dir (as the user postgres when run as
# root); needs Debian's postgresql package.
# Usage: bash bench/ha.sh [build dir, default build] [seconds per measurement, default 10]
set -euo pipefail
BUILD=${1:-build}
SECONDS_EACH=${2:-10}
BIN="$BUILD/fastgpu"
LOADGEN="$BUILD/bin/fastgpu_loadgen"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x "$PGBIN/postgres" ]] || { echo "bench/ha.sh: PostgreSQL is not installed" >&2; exit 1; }
TMP=$(mktemp -d)
AS=()
if [[ $(id -u) -eq 0 ]]; then chown postgres "$TMP"; AS=(runuser -u postgres --); fi
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  # postgres itself (runuser, when root, does not pass the signal on), then its wrapper
  local pm; pm=$(head -1 "$TMP/pg/postmaster.pid" 2>/dev/null || true)
  [[ -n "$pm" ]] && kill -QUIT "$pm" 2>/dev/null || true
  [[ -n "${PG_PID:-}" ]] && kill -QUIT "$PG_PID" 2>/dev/null || true
  for _ in $(seq 50); do [[ -n "$pm" ]] && kill -0 "$pm" 2>/dev/null || break; sleep 0.1; done
  rm -rf "$TMP"
}
trap cleanup EXIT
PGPORT=${PGPORT:-18790}
"${AS[@]}" "$PGBIN/initdb" -D "$TMP/pg" -U fastgpu --auth=trust -E UTF8 --locale=C >/dev/null
"${AS[@]}" "$PGBIN/postgres" -D "$TMP/pg" -p "$PGPORT" -c listen_addresses=127.0.0.1 \
  -c unix_socket_directories="$TMP" -c max_connections=200 >"$TMP/pg.log" 2>&1 &
PG_PID=$!
for _ in $(seq 100); do "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" && break; sleep 0.1; done
db() { "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U fastgpu "$1"; echo "postgresql://fastgpu@127.0.0.1:$PGPORT/$1"; }

start() {  # $1: data dir, $2: port, then server flags; prints nothing, sets PIDS
  local dir=$1 port=$2; shift 2
  "$BIN" --log-level warn server --data-dir "$dir" --listen "127.0.0.1:$port" "$@" >"$dir.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q "listening on" "$dir.log" 2>/dev/null && return; sleep 0.1; done
  echo "server did not start: $(cat "$dir.log")" >&2; exit 1
}
stop_all() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}

echo "# 1. durable submissions, 64 clients, SQLite (one control plane)"
start "$TMP/s" 18781
"$LOADGEN" --mode submit --server http://127.0.0.1:18781 --data-dir "$TMP/s" --clients 64 --seconds "$SECONDS_EACH"
stop_all

echo "# 2. durable submissions, 64 clients, PostgreSQL, one replica"
URL=$(db one)
start "$TMP/p1" 18782 --store "$URL"
"$LOADGEN" --mode submit --server http://127.0.0.1:18782 --data-dir "$TMP/p1" --clients 64 --seconds "$SECONDS_EACH"
stop_all

echo "# 3. durable submissions, 64 clients spread over three replicas on one PostgreSQL"
URL=$(db three)
start "$TMP/r1" 18783 --store "$URL" --replica-id r1
for r in r2 r3; do mkdir -p "$TMP/$r"; cp "$TMP"/r1/*.token "$TMP/$r/"; done
start "$TMP/r2" 18784 --store "$URL" --replica-id r2
start "$TMP/r3" 18785 --store "$URL" --replica-id r3
ALL=http://127.0.0.1:18783,http://127.0.0.1:18784,http://127.0.0.1:18785
"$LOADGEN" --mode submit --server "$ALL" --data-dir "$TMP/r1" --clients 64 --seconds "$SECONDS_EACH"

echo "# 4. failover: the leader killed (SIGKILL) 10 times; seconds until another replica leads"
echo "#    (default lease 4 s; the killed replica is started again as a follower each time)"
leader_port() {
  for p in 18783 18784 18785; do
    curl -s "http://127.0.0.1:$p/healthz" 2>/dev/null | grep -q '"leading":true' && { echo "$p"; return; }
  done
}
times=()
for k in $(seq 10); do
  p=""; for _ in $(seq 200); do p=$(leader_port); [[ -n "$p" ]] && break; sleep 0.05; done
  [[ -n "$p" ]] || { echo "no leader" >&2; exit 1; }
  pid=$(pgrep -f -- "--listen 127.0.0.1:$p" | head -1)
  t0=$(date +%s.%N)
  kill -KILL "$pid"; wait "$pid" 2>/dev/null || true
  while [[ -z "$(leader_port)" ]]; do sleep 0.02; done
  t=$(echo "$(date +%s.%N) - $t0" | bc)
  times+=("$t")
  printf "  kill %2d: port %s, new leader after %.2f s\n" "$k" "$p" "$t"
  r=r$((p - 18782))
  start "$TMP/$r" "$p" --store "$URL" --replica-id "$r"
  sleep 1
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "  failover over %d kills: min %.2f s, median %.2f s, max %.2f s\n", NR, a[1], a[int((NR+1)/2)], a[NR]}'
stop_all
