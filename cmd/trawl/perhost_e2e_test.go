package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/trawlhq/trawl/internal/redistest"
)

// TestE2ERedisPerHostLimit: three processes of one Redis crawl, each with
// four workers and --per-host 4, crawl one host whose 16 KB pages take
// 10 ms. At no instant may the server have more than four requests in
// flight across the processes, and every page is fetched exactly once.
// Locally: go test -run TestE2ERedisPerHostLimit -count 20 ./cmd/trawl/
func TestE2ERedisPerHostLimit(t *testing.T) {
	const perHost = 4
	redisURL := redistest.URL(t)
	site := newPaddedSite(t, 600, 10*time.Millisecond, 16<<10)
	procs := startShared(t, 3, site, redisURL, redistest.Name(t),
		"--workers", "4", "--per-host", fmt.Sprint(perHost), "--ignore-robots")
	for i, p := range procs {
		if code := p.wait(t, 60*time.Second); code != 0 {
			t.Fatalf("process %d exited %d; stderr:\n%s", i, code, p.stderr.String())
		}
	}
	for i := range site.pages {
		if n := site.hitsOf(fmt.Sprintf("/p/%d", i)); n != 1 {
			t.Errorf("page %d fetched %d times; want exactly once across processes", i, n)
		}
	}
	if peak := site.peak.Load(); peak > perHost {
		t.Errorf("server had %d requests in flight at once; --per-host %d must hold across processes", peak, perHost)
	}
	checkAllExported(t, site, procs, true)
	t.Logf("peak in flight %d (handlers still running, including their tail after the response was sent: %d)",
		site.peak.Load(), site.handlerPeak.Load())
}

// TestE2EPerHostLimitOneProcess: the same server-side assertion for the
// memory and --state frontiers with 200 workers on one host.
func TestE2EPerHostLimitOneProcess(t *testing.T) {
	const perHost = 4
	for _, tc := range []struct {
		name  string
		extra func(dir string) []string
	}{
		{"memory", func(string) []string { return nil }},
		{"state", func(dir string) []string { return []string{"--state", filepath.Join(dir, "state")} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site := newPaddedSite(t, 600, 10*time.Millisecond, 16<<10)
			dir := t.TempDir()
			out := filepath.Join(dir, "out.jsonl")
			args := append([]string{"crawl", site.URL + "/p/0", "--workers", "200", "--per-host", fmt.Sprint(perHost),
				"--ignore-robots", "--log-level", "warn", "-o", out}, tc.extra(dir)...)
			if r := trawl(t, args...); r.code != 0 {
				t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
			}
			for i := range site.pages {
				if n := site.hitsOf(fmt.Sprintf("/p/%d", i)); n != 1 {
					t.Errorf("page %d fetched %d times; want exactly once", i, n)
				}
			}
			if peak := site.peak.Load(); peak > perHost {
				t.Errorf("server had %d requests in flight at once; --per-host %d must hold with 200 workers", peak, perHost)
			}
			if got := len(exported(t, out)); got != site.pages {
				t.Errorf("%d records of pages; want %d", got, site.pages)
			}
			t.Logf("peak in flight %d, handlers %d", site.peak.Load(), site.handlerPeak.Load())
		})
	}
}

// TestE2ERedisRobotsFetchedOnce: three processes of one Redis crawl, robots.txt
// obeyed, fetch the host's robots.txt once between them (one process
// fetches it, the others read its answer from Redis), and still every page
// exactly once.
func TestE2ERedisRobotsFetchedOnce(t *testing.T) {
	redisURL := redistest.URL(t)
	site := newPaddedSite(t, 300, 5*time.Millisecond, 4<<10)
	procs := startShared(t, 3, site, redisURL, redistest.Name(t), "--workers", "4", "--per-host", "4")
	for i, p := range procs {
		if code := p.wait(t, 60*time.Second); code != 0 {
			t.Fatalf("process %d exited %d; stderr:\n%s", i, code, p.stderr.String())
		}
	}
	if n := site.hitsOf("/robots.txt"); n != 1 {
		t.Errorf("robots.txt fetched %d times by 3 processes; want once for the whole crawl", n)
	}
	for i := range site.pages {
		if n := site.hitsOf(fmt.Sprintf("/p/%d", i)); n != 1 {
			t.Errorf("page %d fetched %d times; want exactly once across processes", i, n)
		}
	}
}
