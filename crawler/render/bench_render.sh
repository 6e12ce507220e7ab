#!/usr/bin/env bash
# Rendering benchmark: trawl crawl --render against Crawlee's PlaywrightCrawler
# on the same Chromium and the same local JavaScript-built site
# (testdata/rendersite), loopback only. For each crawler: wall time, pages/s,
# pages found, the most requests the site saw in flight, and the memory of
# the crawler with its browser (sum of PSS over the process tree, sampled
# every 0.5 s: peak, and at each quarter of the crawl to show whether it
# grows).
#
#   crawler/render/bench_render.sh                 # 2000 pages, 4 tabs
#   PAGES=500 TABS=4 CRAWLERS="trawl" crawler/render/bench_render.sh
#
# Environment: PAGES (2000), LINKS (10), TABS (4), LATENCY (0),
# CRAWLERS ("trawl crawlee"), BROWSER (chromium on PATH). The Crawlee peer
# needs node and npm; its packages are installed into
# testdata/crawlee/node_modules (git-ignored) the first time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PAGES=${PAGES:-2000} LINKS=${LINKS:-10} TABS=${TABS:-4} LATENCY=${LATENCY:-0}
CRAWLERS=${CRAWLERS:-"trawl crawlee"}
BROWSER=${BROWSER:-$(command -v chromium || command -v chromium-browser || command -v google-chrome)}
work=$(mktemp -d)
trap 'kill $site_pid 2>/dev/null || true; rm -rf "$work"' EXIT

(cd "$root" && go build -o "$work/trawl" ./cmd/trawl && go build -o "$work/rendersite" ./crawler/render/testdata/rendersite)
"$work/rendersite" -pages "$PAGES" -links "$LINKS" -latency "$LATENCY" > "$work/site.out" &
site_pid=$!
for _ in $(seq 50); do [ -s "$work/site.out" ] && break; sleep 0.1; done
url=$(head -1 "$work/site.out")

# sample PID OUT: peak and per-quarter PSS (MB) of PID's process tree,
# with the site's count of pages fetched, until PID exits.
sample() {
  python3 - "$1" "$2" "$url" "$PAGES" <<'PY'
import os, sys, time, json, urllib.request
pid, out, url, pages = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
def tree(root):
    kids = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                f = open(f'/proc/{d}/stat').read()
                ppid = int(f[f.rindex(')') + 2:].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except Exception:
                pass
    todo, seen = [root], []
    while todo:
        p = todo.pop(); seen.append(p); todo += kids.get(p, [])
    return seen
def pss(p):
    try:
        for line in open(f'/proc/{p}/smaps_rollup'):
            if line.startswith('Pss:'):
                return int(line.split()[1]) / 1024
    except Exception:
        pass
    return 0
peak, marks = 0, {}
while os.path.exists(f'/proc/{pid}') and open(f'/proc/{pid}/stat').read().split()[2] != 'Z':
    m = sum(pss(p) for p in tree(pid))
    peak = max(peak, m)
    try:
        done = json.load(urllib.request.urlopen(url + '__stats'))['pages_fetched']
    except Exception:
        done = 0
    q = min(4, done * 4 // (pages + 1))
    if q >= 1:
        marks.setdefault(q, round(m))
    time.sleep(0.5)
json.dump({'peak_mb': round(peak), 'quarters_mb': [marks.get(q) for q in (1, 2, 3, 4)]}, open(out, 'w'))
PY
}

stats() { curl -s "${url}__stats"; }
printf '%-8s %8s %8s %7s %12s %8s %s\n' crawler wall_s pages/s pages max_inflight peak_MB "PSS at 1/4 2/4 3/4 4/4 (MB)"
for c in $CRAWLERS; do
  kill $site_pid; wait $site_pid 2>/dev/null || true
  "$work/rendersite" -pages "$PAGES" -links "$LINKS" -latency "$LATENCY" -addr "$(echo "${url#http://}" | tr -d /)" > /dev/null &
  site_pid=$!; sleep 0.3
  start=$(date +%s.%N)
  case $c in
  trawl)
    "$work/trawl" crawl "$url" -q --render --render-tabs "$TABS" --browser "$BROWSER" \
      --workers "$TABS" --per-host 8 -o "$work/trawl.jsonl" &
    ;;
  crawlee)
    if [ ! -d "$here/testdata/crawlee/node_modules" ]; then
      (cd "$here/testdata/crawlee" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund >/dev/null)
    fi
    node "$here/testdata/crawlee/render.mjs" --url "$url" -c "$TABS" --browser "$BROWSER" > "$work/crawlee.json" &
    ;;
  esac
  pid=$!
  sample $pid "$work/$c.mem" &
  spid=$!
  wait $pid || echo "$c exited with status $?" >&2
  wait $spid
  end=$(date +%s.%N)
  s=$(stats)
  python3 - "$c" "$start" "$end" "$s" "$work/$c.mem" <<'PY'
import json, sys
c, start, end, s, mem = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), json.loads(sys.argv[4]), json.load(open(sys.argv[5]))
wall = end - start
print(f"{c:<8} {wall:8.2f} {s['pages_fetched']/wall:8.1f} {s['pages_fetched']:7d} {s['max_in_flight']:12d} {mem['peak_mb']:8d} {mem['quarters_mb']}")
PY
done
