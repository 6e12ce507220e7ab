#!/usr/bin/env bash
# Crawl throughput of the in-memory frontier against --state (and
# --state --state-sync), interleaved round by round against one sitegen of
# the shared bench, so that the machine's load hits every variant alike.
# Prints one line per run: wall time and the server's /__stats. Records
# go to a file, as a resumable crawl's do (with --state, a worker then need
# not wait for each commit; see cmd/trawl/state.go). Loopback only.
#
#   frontier/disk/bench_crawl.sh
#
# Environment: PAGES (20000), LATENCY (0), C workers and per-host limit (16),
# ROUNDS (3), SITEGEN_SRC (../shared/bench/sitegen).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PAGES=${PAGES:-20000}; LATENCY=${LATENCY:-0}; C=${C:-16}; ROUNDS=${ROUNDS:-3}
SITEGEN_SRC=${SITEGEN_SRC:-$ROOT/../shared/bench/sitegen}
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

WORK=$(mktemp -d)
SG=
cleanup() { [ -n "$SG" ] && kill "$SG" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
(cd "$SITEGEN_SRC" && go build -o "$WORK/sitegen" .)
(cd "$ROOT" && go build -o "$WORK/trawl" ./cmd/trawl)
"$WORK/sitegen" -addr 127.0.0.1:0 -pages "$PAGES" -latency "$LATENCY" >"$WORK/sg.out" 2>"$WORK/sg.err" &
SG=$!
BASE=
for _ in $(seq 100); do BASE=$(head -n1 "$WORK/sg.out" 2>/dev/null || true); [ -n "$BASE" ] && break; sleep 0.1; done
echo "site $BASE PAGES=$PAGES LATENCY=$LATENCY C=$C rounds=$ROUNDS" >&2

run() { # name round flags...
	local name=$1 r=$2
	shift 2
	rm -rf "$WORK/state" "$WORK/pages.jsonl"
	curl -s -XPOST "$BASE/__reset" >/dev/null
	local start end rc=0
	start=$(date +%s.%N)
	(cd "$WORK" && ./trawl crawl "$BASE/" --quiet --workers "$C" --per-host "$C" --ignore-robots -o pages.jsonl "$@") || rc=$?
	end=$(date +%s.%N)
	printf "%s\tround=%d\trc=%d\twall=%.2f\t%s\n" "$name" "$r" "$rc" \
		"$(echo "$end - $start" | bc)" "$(curl -s "$BASE/__stats")"
}
for r in $(seq "$ROUNDS"); do
	run memory "$r"
	run state "$r" --state "$WORK/state"
	run state-sync "$r" --state "$WORK/state" --state-sync
done
