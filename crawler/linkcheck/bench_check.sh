#!/usr/bin/env bash
# bench_check.sh: trawl check against trawl crawl (and linkinator, muffet when
# given) on the shared bench's sitegen site, interleaved, RUNS times each.
#
#   PAGES=5000 LINKS=20 C=16 RUNS=5 crawler/linkcheck/bench_check.sh
#   LINKINATOR=/tmp/lk/node_modules/.bin/linkinator MUFFET=/tmp/gobin/muffet crawler/linkcheck/bench_check.sh
#
# The peers (linkinator, muffet) run in the first PEER_RUNS rounds only (1:
# linkinator takes minutes).
# Prints one markdown row per tool: median wall seconds and peak RSS, and the
# server's counts of the last run (requests, new connections, most requests in
# flight). Everything runs on loopback.
set -euo pipefail
cd "$(dirname "$0")/../.."
PAGES=${PAGES:-5000} LINKS=${LINKS:-20} C=${C:-16} RUNS=${RUNS:-5} PEER_RUNS=${PEER_RUNS:-1}
BENCH=${BENCH:-/work/shared/bench}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/checkbench.XXXXXX")
trap 'kill "$SITE_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT

go build -o "$WORK/trawl" ./cmd/trawl
(cd "$BENCH/sitegen" && go build -o "$WORK/sitegen" .)
"$WORK/sitegen" -pages "$PAGES" -links "$LINKS" >"$WORK/site.out" 2>"$WORK/site.err" &
SITE_PID=$!
for _ in $(seq 100); do URL=$(head -n1 "$WORK/site.out" 2>/dev/null || true); [ -n "$URL" ] && break; sleep 0.05; done

declare -A CMD
NAMES=(crawl check)
CMD[crawl]="$WORK/trawl crawl $URL/ --workers $C --per-host $C --exclude 'external\.invalid' -o /dev/null -q"
CMD[check]="$WORK/trawl check $URL/ --workers $C --per-host $C --exclude 'external\.invalid' --format jsonl -o /dev/null -q"
if [ -n "${LINKINATOR:-}" ]; then
	NAMES+=(linkinator)
	CMD[linkinator]="$LINKINATOR $URL/ --recurse --concurrency $C --skip 'external\.invalid' --format json >/dev/null"
fi
if [ -n "${MUFFET:-}" ]; then
	NAMES+=(muffet)
	CMD[muffet]="$MUFFET $URL/ --max-connections-per-host $C --exclude 'external\.invalid' --format json >/dev/null"
fi

for run in $(seq "$RUNS"); do
	for name in "${NAMES[@]}"; do
		if [ "$run" -gt "$PEER_RUNS" ] && [ "$name" != crawl ] && [ "$name" != check ]; then
			continue
		fi
		curl -fsS -X POST "$URL/__reset" >/dev/null
		rc=0
		/usr/bin/time -f '%e %M %U %S' -o "$WORK/time" bash -c "${CMD[$name]}" >/dev/null 2>"$WORK/$name.err" || rc=$?
		read -r wall rss ucpu scpu < <(tail -n1 "$WORK/time")
		cpu=$(awk -v u="$ucpu" -v s="$scpu" 'BEGIN { printf "%.2f", u + s }')
		echo "$name $wall $rss $cpu $(curl -fsS "$URL/__stats")" >>"$WORK/results"
		echo "run $run $name: exit $rc ${wall}s cpu ${cpu}s $((rss / 1024)) MB $(curl -fsS "$URL/__stats")" >&2
		if [ "$rc" -ne 0 ]; then tail -n 3 "$WORK/$name.err" | sed 's/^/   | /' >&2; fi
	done
done

echo "| tool | wall s (median) | vs crawl | CPU s (median) | vs crawl | peak RSS MB | requests | connections | max in flight |"
echo "|---|---|---|---|---|---|---|---|---|"
python3 - "$WORK/results" "${NAMES[@]}" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, wall, rss, cpu, stats = line.split(" ", 4)
    rows.setdefault(name, []).append((float(wall), int(rss), float(cpu), json.loads(stats)))
base = statistics.median(r[0] for r in rows["crawl"])
base_cpu = statistics.median(r[2] for r in rows["crawl"])
for name in sys.argv[2:]:
    r = rows[name]
    wall = statistics.median(x[0] for x in r)
    rss = statistics.median(x[1] for x in r) / 1024
    cpu = statistics.median(x[2] for x in r)
    s = r[-1][3]
    print(f"| {name} (runs: {len(r)}) | {wall:.2f} | {wall / base:.2f}x | {cpu:.2f} | {cpu / base_cpu:.2f}x | {rss:.0f} | {s['requests']} | {s['new_conns']} | {s['max_in_flight']} |")
PY
