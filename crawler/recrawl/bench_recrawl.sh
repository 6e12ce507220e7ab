#!/usr/bin/env bash
# Benchmark of incremental recrawl (issue 15): three passes of trawl over a
# local revisitsite (internal/revisitsite), with the site's own counters.
#
#   pass 1  trawl crawl URL --state DIR            (full crawl)
#   pass 2  ... --recrawl                          (site unchanged)
#   pass 3  ... --recrawl                          (after FRACTION of the pages changed)
#
# It prints, per pass: wall seconds, requests, 200s, 304s, conditional
# requests, body bytes, records written (not_modified / changed:true), the
# crawler's peak RSS and CPU, the site's CPU and (private Redis only) the
# redis-server's CPU during the pass; then pass 2 / pass 1 (body bytes %,
# speed-up) and whether pass 3 fetched exactly the bodies that changed.
#
# Usage: bench_recrawl.sh [--redis]
#   --redis        keep the crawl in Redis instead of --state: a private
#                  redis-server on a free loopback port, or REDIS_URL.
# Environment: PAGES (20000), SIZE (16384), LINKS (20), C (16: --workers and
# --per-host), SEED (1), FRACTION (0.01), VALIDATORS (both; etag, weak, lm,
# none, ignore), CACHE_CONTROL (""), PASSES (3; 1 runs pass 1 only),
# TIMEOUT seconds per pass (600), BIN (build folder; default a temp one),
# RAW (1: afterwards, fetch pass 1's URLs with a bare net/http client,
# internal/revisitsite/cmd/rawrevisit, in full then conditionally: the
# floor of each kind of pass, without a crawler; 0: skip),
# GO, REDIS_URL, REDIS_SERVER (redis-server), KEEP=1 keeps the work folder,
# EXTRA (more trawl flags for every pass),
# LINK (unset: plain loopback): a rate such as 1gbit; the whole bench (site,
# crawler, rawrevisit, private redis-server) then runs in a network namespace
# of its own whose loopback is shaped to that rate with tc's tbf, as if the
# site were across a link of that speed. Needs root and iproute2; traffic
# still never leaves the machine (the namespace has no other interface).
set -euo pipefail

if [ -n "${LINK:-}" ] && [ -z "${RECRAWL_NETNS:-}" ]; then
	command -v ip >/dev/null && command -v tc >/dev/null || { echo "LINK needs ip and tc (iproute2)" >&2; exit 1; }
	ns="recrawlbench-$$"
	ip netns add "$ns"
	trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
	ip netns exec "$ns" ip link set lo up
	# A burst of 1 MB lets loopback's 64 KiB segments through at the rate.
	ip netns exec "$ns" tc qdisc add dev lo root tbf rate "$LINK" burst 1mb latency 50ms
	echo "network namespace $ns: loopback shaped to $LINK ($(ip netns exec "$ns" tc qdisc show dev lo))" >&2
	rc=0
	RECRAWL_NETNS=$ns ip netns exec "$ns" bash "$0" "$@" || rc=$?
	exit "$rc"
fi

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PAGES=${PAGES:-20000}
SIZE=${SIZE:-16384}
LINKS=${LINKS:-20}
C=${C:-16}
SEED=${SEED:-1}
FRACTION=${FRACTION:-0.01}
VALIDATORS=${VALIDATORS:-both}
CACHE_CONTROL=${CACHE_CONTROL:-}
PASSES=${PASSES:-3}
TIMEOUT=${TIMEOUT:-600}
EXTRA=${EXTRA:-}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
USE_REDIS=
case "${1:-}" in
--redis) USE_REDIS=1 ;;
"") ;;
*) echo "usage: $0 [--redis]" >&2; exit 2 ;;
esac

# Loopback only: never let a proxy setting send traffic elsewhere.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

WORK=$(mktemp -d "${TMPDIR:-/tmp}/recrawlbench.XXXXXX")
BIN=${BIN:-$WORK/bin}
SITE_PID=
REDIS_PID=
cleanup() {
	for pid in $SITE_PID $REDIS_PID; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [ -n "${KEEP:-}" ]; then echo "work folder kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$BIN"
echo "building into $BIN" >&2
(cd "$ROOT" && "$GO" build -o "$BIN/trawl" ./cmd/trawl && "$GO" build -o "$BIN/revisitsite" ./internal/revisitsite/cmd/revisitsite &&
	"$GO" build -o "$BIN/rawrevisit" ./internal/revisitsite/cmd/rawrevisit)

freeport() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The site.
"$BIN/revisitsite" -addr 127.0.0.1:0 -pages "$PAGES" -size "$SIZE" -links "$LINKS" -seed "$SEED" \
	-validators "$VALIDATORS" -cache-control "$CACHE_CONTROL" >"$WORK/site.out" 2>"$WORK/site.err" &
SITE_PID=$!
BASE=
for _ in $(seq 100); do
	BASE=$(head -n1 "$WORK/site.out" 2>/dev/null || true)
	[ -n "$BASE" ] && break
	sleep 0.1
done
case "$BASE" in
http://127.*) ;;
*) echo "revisitsite did not start on loopback: '$BASE'" >&2; cat "$WORK/site.err" >&2; exit 1 ;;
esac
URL="$BASE/"

# Where the crawl keeps its state.
if [ -n "$USE_REDIS" ]; then
	if [ -z "${REDIS_URL:-}" ]; then
		command -v "$REDIS_SERVER" >/dev/null || { echo "no $REDIS_SERVER; install redis-server or set REDIS_URL" >&2; exit 1; }
		port=$(freeport)
		"$REDIS_SERVER" --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
			--dir "$WORK" >"$WORK/redis.log" 2>&1 &
		REDIS_PID=$!
		for _ in $(seq 100); do
			if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
			sleep 0.1
		done
		REDIS_URL="redis://127.0.0.1:$port/0"
	fi
	case "$REDIS_URL" in
	redis://127.*|redis://localhost*|redis://\[::1\]*) ;;
	*) echo "REDIS_URL must be on loopback: $REDIS_URL" >&2; exit 1 ;;
	esac
	STORE=(--redis "$REDIS_URL" --redis-prefix "recrawlbench-$$-$RANDOM")
	STORE_DESC="redis $REDIS_URL"
else
	STORE=(--state "$WORK/state")
	STORE_DESC="--state"
fi

echo "site $URL: PAGES=$PAGES SIZE=$SIZE LINKS=$LINKS C=$C VALIDATORS=$VALIDATORS CACHE_CONTROL='$CACHE_CONTROL' FRACTION=$FRACTION LINK=${LINK:-loopback} store: $STORE_DESC" >&2
echo "load before: $(uptime)" >&2

control() { # METHOD PATH
	curl -sS --noproxy '*' -X "$1" "$BASE$2"
}

# run_pass N [trawl flags...]: resets the counters, runs one pass, saves
# the site's counters to stats$N.json and the crawler's time to time$N.
cputicks() { # PID: user+system clock ticks of a process, "-" if unknown
	if [ -n "$1" ] && [ -r "/proc/$1/stat" ]; then
		awk '{print $14+$15}' "/proc/$1/stat"
	else
		echo -
	fi
}

run_pass() {
	local n=$1
	shift
	control POST /__reset >/dev/null
	local t0 t1
	echo "$(cputicks "$SITE_PID") $(cputicks "$REDIS_PID")" >"$WORK/ticks$n.0"
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	if ! timeout "$TIMEOUT" /usr/bin/time -f '%M %U %S' -o "$WORK/rusage$n" \
		"$BIN/trawl" crawl "$URL" "${STORE[@]}" -o "$WORK/p$n.jsonl" --quiet --ignore-robots \
		--workers "$C" --per-host "$C" $EXTRA "$@" 2>"$WORK/trawl$n.err"; then
		echo "pass $n failed:" >&2
		tail -n 20 "$WORK/trawl$n.err" >&2
		exit 1
	fi
	t1=$(date +%s.%N)
	echo "$(cputicks "$SITE_PID") $(cputicks "$REDIS_PID")" >"$WORK/ticks$n.1"
	echo "$t0 $t1" >"$WORK/time$n"
	control GET /__stats >"$WORK/stats$n.json"
	echo "pass $n done in $(python3 -c "print(f'{$t1-$t0:.2f}')")s" >&2
}

run_pass 1
if [ "$PASSES" -ge 2 ]; then
	run_pass 2 --recrawl
fi
if [ "$PASSES" -ge 3 ]; then
	control POST /__reset >/dev/null
	control POST "/__change?fraction=$FRACTION&seed=$SEED" >"$WORK/changed.json"
	run_pass 3 --recrawl
fi
if [ "${RAW:-1}" = 1 ]; then
	control POST /__reset >/dev/null
	"$BIN/rawrevisit" -urls "$WORK/p1.jsonl" -c "$C" >"$WORK/raw.out"
fi
echo "load after: $(uptime)" >&2

python3 - "$WORK" "$PASSES" "$BASE" "$(getconf CLK_TCK)" <<'PY'
import json, sys
work, passes, base, hz = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])

def cpu_of(n):
    a = open(f"{work}/ticks{n}.0").read().split()
    b = open(f"{work}/ticks{n}.1").read().split()
    return [f"{(int(y) - int(x)) / hz:.2f}" if x != "-" and y != "-" else "-" for x, y in zip(a, b)]

def records(n):
    recs = []
    with open(f"{work}/p{n}.jsonl") as f:
        for line in f:
            recs.append(json.loads(line))
    return recs

rows = []
for n in range(1, passes + 1):
    st = json.load(open(f"{work}/stats{n}.json"))
    t0, t1 = map(float, open(f"{work}/time{n}").read().split())
    rss, user, sys_ = open(f"{work}/rusage{n}").read().split()[-3:]
    recs = records(n)
    site_cpu, redis_cpu = cpu_of(n)
    rows.append(dict(n=n, wall=t1 - t0, st=st, recs=recs, rss=int(rss) / 1024, cpu=float(user) + float(sys_),
                     site_cpu=site_cpu, redis_cpu=redis_cpu))

hdr = ["pass", "wall_s", "requests", "200s", "304s", "other", "conditional", "body_bytes", "records", "not_mod",
       "changed", "gone", "rss_MB", "cpu_s", "site_cpu_s", "redis_cpu_s"]
import os
print(f"link: {os.environ.get('LINK') or 'loopback, unshaped'}")
print("\t".join(hdr))
for r in rows:
    st, recs = r["st"], r["recs"]
    print("\t".join(str(x) for x in [
        r["n"], f"{r['wall']:.2f}", st["requests"], st["status_200"], st["status_304"], st["status_other"],
        st["conditional"], st["body_bytes"], len(recs),
        sum(1 for x in recs if x.get("not_modified")), sum(1 for x in recs if x.get("changed") is True),
        sum(1 for x in recs if x.get("gone")), f"{r['rss']:.0f}", f"{r['cpu']:.2f}", r["site_cpu"], r["redis_cpu"]]))

ok = True
if passes >= 2:
    p1, p2 = rows[0], rows[1]
    pct = 100 * p2["st"]["body_bytes"] / max(1, p1["st"]["body_bytes"])
    speed = p1["wall"] / p2["wall"]
    print(f"pass2/pass1: body bytes {pct:.2f}% (target < 5%), speed {speed:.2f}x (target >= 3x)")
    ok = ok and pct < 5 and speed >= 3
if passes >= 3:
    p3 = rows[2]
    changed = set(json.load(open(f"{work}/changed.json"))["changed"])
    fetched = set(p3["st"]["paths_200"])
    exact = fetched == changed and p3["st"]["status_200"] == len(changed)
    flagged = {x["url"][len(base):] for x in p3["recs"] if x.get("changed") is True}
    print(f"pass 3: {len(changed)} pages changed; bodies fetched {p3['st']['status_200']} "
          f"({len(fetched)} paths); exactly the changed set: {'yes' if exact else 'NO'}")
    if not exact:
        print(f"  fetched but not changed: {sorted(fetched - changed)[:10]}")
        print(f"  changed but not fetched: {sorted(changed - fetched)[:10]}")
    print(f"pass 3: records with changed:true {len(flagged)}; exactly the changed set: {'yes' if flagged == changed else 'NO'}")
    ok = ok and exact and flagged == changed
import os, re
if os.path.exists(f"{work}/raw.out"):
    raw = open(f"{work}/raw.out").read()
    print(raw, end="")
    t = dict(re.findall(r"raw (full|conditional): \d+ requests in ([0-9.]+)s", raw))
    if "full" in t and "conditional" in t:
        print(f"floor without a crawler: raw full / raw conditional {float(t['full']) / float(t['conditional']):.2f}x"
              + (f"; trawl pass 2 / raw conditional {rows[1]['wall'] / float(t['conditional']):.2f}x" if passes >= 2 else ""))
if passes >= 2:
    print("targets met" if ok else "TARGETS MISSED")
PY
