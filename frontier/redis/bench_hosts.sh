#!/usr/bin/env bash
# Scale-out of a Redis crawl over many hosts: 1, 2 and 4 trawl processes
# sharing one crawl of HOSTS sitegen sites (127.0.0.2, 127.0.0.3, ...), each
# process with --workers W --per-host W, so the per-process worker cap is
# the bottleneck, not the per-host limit. Prints, per process count, the
# wall time (first process start to last exit), the speed-up over one
# process, the duplicate requests and the highest max_in_flight over the
# hosts (sitegen's /__stats), Redis CPU seconds (INFO cpu) and Redis calls
# per page (INFO commandstats: script calls, and every command including
# those run inside the scripts). Runs its own redis-server on a free
# loopback port, so no other traffic is counted. Loopback only.
#
#   frontier/redis/bench_hosts.sh
#
# Environment: HOSTS (16), PAGES per host (200), LATENCY (50ms), W (8),
# RUNS (3), PROCS ("1 2 4"), EXTRA (more trawl flags),
# SITEGEN_SRC (/work/shared/bench/sitegen).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
HOSTS=${HOSTS:-16}; PAGES=${PAGES:-200}; LATENCY=${LATENCY:-50ms}; W=${W:-8}
RUNS=${RUNS:-3}; PROCS=${PROCS:-"1 2 4"}; EXTRA=${EXTRA:-}
SITEGEN_SRC=${SITEGEN_SRC:-/work/shared/bench/sitegen}
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
(cd "$SITEGEN_SRC" && go build -o "$WORK/sitegen" .)
(cd "$ROOT" && go build -o "$WORK/trawl" ./cmd/trawl)

# A private redis-server.
RPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --logfile '' >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
REDIS=redis://127.0.0.1:$RPORT/0

SITES=()
for i in $(seq 2 $((HOSTS + 1))); do
	"$WORK/sitegen" -addr "127.0.0.$i:0" -pages "$PAGES" -latency "$LATENCY" >"$WORK/sg$i.out" 2>"$WORK/sg$i.err" &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$WORK/sg$i.out" ] && break; sleep 0.05; done
	SITES+=("$(head -n1 "$WORK/sg$i.out")")
done
echo "hosts=$HOSTS pages/host=$PAGES latency=$LATENCY --workers $W --per-host $W runs=$RUNS redis=$REDIS $EXTRA" >&2

info() { redis-cli -p "$RPORT" info "$1" | tr -d '\r'; }
cpu() { info cpu | awk -F: '/^used_cpu_(sys|user):/ {s += $2} END {printf "%.3f", s}'; }
calls() { # script calls, all calls
	info commandstats | awk -F'[:=,]' '/^cmdstat_/ {all += $3; if ($1 ~ /^cmdstat_eval/) sc += $3} END {print sc+0, all+0}'
}

printf "procs\trun\twall_s\tpages\tdups\tmax_in_flight\tredis_cpu_s\tscript_calls/page\tcalls/page\n"
declare -A BEST
for n in $PROCS; do
	for r in $(seq "$RUNS"); do
		for s in "${SITES[@]}"; do curl -s -XPOST "$s/__reset" >/dev/null; done
		prefix="bench-$n-$r-$$"
		cpu0=$(cpu); read -r sc0 all0 < <(calls)
		start=$(date +%s.%N)
		pids=()
		for _ in $(seq "$n"); do
			(cd "$WORK" && ./trawl crawl "${SITES[@]/%//}" -q -o /dev/null --workers "$W" --per-host "$W" \
				--redis "$REDIS" --redis-prefix "$prefix" $EXTRA) &
			pids+=($!)
		done
		rc=0
		for p in "${pids[@]}"; do wait "$p" || rc=$?; done
		end=$(date +%s.%N)
		cpu1=$(cpu); read -r sc1 all1 < <(calls)
		pages=0 dups=0 maxf=0
		for s in "${SITES[@]}"; do
			read -r u d m < <(curl -s "$s/__stats" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["unique_paths"], j["duplicate_requests"], j["max_in_flight"])')
			pages=$((pages + u)); dups=$((dups + d)); [ "$m" -gt "$maxf" ] && maxf=$m
		done
		wall=$(echo "$end - $start" | bc)
		[ "$rc" = 0 ] || echo "procs=$n run=$r: a process exited $rc" >&2
		printf "%d\t%d\t%.2f\t%d\t%d\t%d\t%.2f\t%.2f\t%.1f\n" "$n" "$r" "$wall" "$pages" "$dups" "$maxf" \
			"$(echo "$cpu1 - $cpu0" | bc)" "$(echo "($sc1 - $sc0) / $pages" | bc -l)" "$(echo "($all1 - $all0) / $pages" | bc -l)"
		if [ -z "${BEST[$n]:-}" ] || [ "$(echo "$wall < ${BEST[$n]}" | bc)" = 1 ]; then BEST[$n]=$wall; fi
	done
done
one=${BEST[1]:-}
if [ -n "$one" ]; then
	for n in $PROCS; do
		printf "procs=%d best wall %.2fs speed-up %.2fx\n" "$n" "${BEST[$n]}" "$(echo "$one / ${BEST[$n]}" | bc -l)"
	done
fi
