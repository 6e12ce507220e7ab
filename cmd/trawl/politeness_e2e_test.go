package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2EAutoThrottleStats: with --auto-throttle the --stats file names the
// host whose delay follows its latency, and how long that delay is.
func TestE2EAutoThrottleStats(t *testing.T) {
	t.Parallel()
	s := newSite(t, 6, 30*time.Millisecond)
	stats := filepath.Join(t.TempDir(), "stats.json")
	r := trawl(t, "crawl", s.url(0), "-q", "--auto-throttle", "--stats", stats)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	raw, err := os.ReadFile(stats)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Pages       int `json:"pages"`
		HostsSlowed int `json:"hosts_slowed"`
		SlowHosts   []struct {
			Host     string  `json:"host"`
			Interval float64 `json:"interval_s"`
			Reason   string  `json:"reason"`
		} `json:"slow_hosts"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("stats: %v\n%s", err, raw)
	}
	host := strings.TrimPrefix(s.URL, "http://")
	if st.Pages != 6 || len(st.SlowHosts) != 1 || st.HostsSlowed != 1 || st.SlowHosts[0].Host != host ||
		st.SlowHosts[0].Reason != "latency" || st.SlowHosts[0].Interval < 0.03 {
		t.Errorf("stats: want 6 pages and %s slowed for latency to >= 30ms:\n%s", host, raw)
	}
}

// TestE2EAdaptiveFlags: bad values of the adaptive politeness flags are one
// line naming the flag, exit status 2.
func TestE2EAdaptiveFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--auto-throttle-target", "0"}, "--auto-throttle-target"},
		{[]string{"--auto-throttle-target", "NaN"}, "--auto-throttle-target"},
		{[]string{"--max-host-delay", "0s"}, "--max-host-delay"},
		{[]string{"--host-backoff", "-1s"}, "--host-backoff"},
	} {
		r := trawl(t, append([]string{"crawl", "http://127.0.0.1:9/"}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.flag) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line naming %s", tc.args, r.code, r.stderr, tc.flag)
		}
	}
}
