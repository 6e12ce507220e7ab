#!/usr/bin/env bash
# Throughput of 1, 2 and 4 trawl processes sharing one crawl through Redis,
# on the shared bench's sitegen (latency-bound scenario by default), with
# one in-memory run as a reference. Prints one line per run: wall time and
# the server's /__stats. Loopback only.
#
#   frontier/redis/bench_processes.sh redis://127.0.0.1:6379/0
#
# Environment: PAGES (5000), LATENCY (20ms), CONN_LATENCY (60ms), C per-host
# limit (16), RUNS (3), PROCS ("1 2 4"), SITEGEN_SRC (../shared/bench/sitegen).
set -euo pipefail
REDIS=${1:?usage: bench_processes.sh REDIS_URL}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PAGES=${PAGES:-5000}; LATENCY=${LATENCY:-20ms}; CONN_LATENCY=${CONN_LATENCY:-60ms}
C=${C:-16}; RUNS=${RUNS:-3}; PROCS=${PROCS:-"1 2 4"}
SITEGEN_SRC=${SITEGEN_SRC:-$ROOT/../shared/bench/sitegen}
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

WORK=$(mktemp -d)
SG=
cleanup() { [ -n "$SG" ] && kill "$SG" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
(cd "$SITEGEN_SRC" && go build -o "$WORK/sitegen" .)
(cd "$ROOT" && go build -o "$WORK/trawl" ./cmd/trawl)
"$WORK/sitegen" -addr 127.0.0.1:0 -pages "$PAGES" -latency "$LATENCY" -conn-latency "$CONN_LATENCY" \
	>"$WORK/sg.out" 2>"$WORK/sg.err" &
SG=$!
BASE=
for _ in $(seq 100); do BASE=$(head -n1 "$WORK/sg.out" 2>/dev/null || true); [ -n "$BASE" ] && break; sleep 0.1; done
echo "site $BASE PAGES=$PAGES LATENCY=$LATENCY CONN_LATENCY=$CONN_LATENCY per-host=$C runs=$RUNS" >&2

run() { # name nprocs useredis
	local name=$1 n=$2 useredis=$3
	for r in $(seq "$RUNS"); do
		curl -s -XPOST "$BASE/__reset" >/dev/null
		local prefix="bench-$n-$r-$$-$RANDOM" pids=() rc=0
		local start end
		start=$(date +%s.%N)
		for _ in $(seq "$n"); do
			if [ "$useredis" = 1 ]; then
				(cd "$WORK" && ./trawl crawl "$BASE/" -q -o /dev/null --per-host "$C" --redis "$REDIS" --redis-prefix "$prefix") &
			else
				(cd "$WORK" && ./trawl crawl "$BASE/" -q -o /dev/null --per-host "$C") &
			fi
			pids+=($!)
		done
		for p in "${pids[@]}"; do wait "$p" || rc=$?; done
		end=$(date +%s.%N)
		printf "%s\tprocs=%d\trun=%d\trc=%d\twall=%.2f\t%s\n" "$name" "$n" "$r" "$rc" \
			"$(echo "$end - $start" | bc)" "$(curl -s "$BASE/__stats")"
	done
}
run memory 1 0
for n in $PROCS; do run redis "$n" 1; done
