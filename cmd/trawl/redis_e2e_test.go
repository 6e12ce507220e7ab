package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/trawlhq/trawl/internal/redistest"
)

// wideSite is an httptest site of pages /p/0 .. /p/N-1 for the shared-crawl
// tests. Page i links to pages 4i+1 .. 4i+4 (so the crawl fans out fast)
// and, as duplicates, to i/2 and 0. It counts fetches per path and the
// most requests it ever had in flight at once.
//
// A request is in flight from the moment its handler starts until its
// response is handed to the connection in one write (with Content-Length):
// a client cannot see a response complete, and so cannot start a request
// because of it, before then. The handler's own tail after that write is
// counted apart (handlerPeak): a client cannot observe it, and another
// process's request on another connection may arrive during it.
type wideSite struct {
	*httptest.Server
	pages   int
	latency time.Duration
	pad     int // filler bytes per page, so responses are larger than the server's buffers

	mu          sync.Mutex
	hits        map[string]int
	inflight    atomic.Int64
	peak        atomic.Int64
	handlers    atomic.Int64
	handlerPeak atomic.Int64
	pageHits    atomic.Int64
}

func newWideSite(t *testing.T, pages int, latency time.Duration) *wideSite {
	t.Helper()
	return newPaddedSite(t, pages, latency, 0)
}

// newPaddedSite is newWideSite with pad filler bytes per page.
func newPaddedSite(t *testing.T, pages int, latency time.Duration, pad int) *wideSite {
	t.Helper()
	s := &wideSite{pages: pages, latency: latency, pad: pad, hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// raise adds one to c and keeps peak at the largest value c reached.
func raise(c, peak *atomic.Int64) {
	n := c.Add(1)
	for {
		p := peak.Load()
		if n <= p || peak.CompareAndSwap(p, n) {
			return
		}
	}
}

func (s *wideSite) serve(w http.ResponseWriter, r *http.Request) {
	raise(&s.handlers, &s.handlerPeak)
	defer s.handlers.Add(-1)
	raise(&s.inflight, &s.peak)
	sent := false
	defer func() {
		if !sent {
			s.inflight.Add(-1)
		}
	}()
	s.mu.Lock()
	s.hits[r.URL.Path]++
	s.mu.Unlock()
	var i int
	if _, err := fmt.Sscanf(r.URL.Path, "/p/%d", &i); err != nil || i < 0 || i >= s.pages {
		http.NotFound(w, r) // robots.txt too: everything allowed
		return
	}
	s.pageHits.Add(1)
	if s.latency > 0 {
		select {
		case <-time.After(s.latency):
		case <-r.Context().Done():
			return
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "<!doctype html><title>Page %d</title><body>", i)
	for _, c := range []int{4*i + 1, 4*i + 2, 4*i + 3, 4*i + 4, i / 2, 0} {
		if c < s.pages {
			fmt.Fprintf(&b, `<a href="/p/%d">%d</a> `, c, c)
		}
	}
	for range s.pad / 64 {
		b.WriteString("<p>filler filler filler filler filler filler filler filler</p>\n")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	s.inflight.Add(-1)
	sent = true
	w.Write(b.Bytes())
}

func (s *wideSite) hitsOf(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// crawlProc is one trawl process of a shared crawl.
type crawlProc struct {
	cmd    *exec.Cmd
	out    string // records file
	stderr *syncBuffer
	done   chan struct{}
	code   int
}

// startShared starts n trawl processes on one Redis crawl of site.
func startShared(t *testing.T, n int, site *wideSite, redisURL, name string, extra ...string) []*crawlProc {
	t.Helper()
	dir := t.TempDir()
	var procs []*crawlProc
	for i := range n {
		p := &crawlProc{out: filepath.Join(dir, fmt.Sprintf("out%d.jsonl", i)), stderr: &syncBuffer{}, done: make(chan struct{})}
		args := append([]string{"crawl", site.URL + "/p/0", "--redis", redisURL, "--redis-prefix", name,
			"--workers", "8", "--per-host", "6", "--log-level", "warn", "-o", p.out}, extra...)
		p.cmd = exec.Command(trawlBin, args...)
		p.cmd.Dir = dir
		p.cmd.Stderr = p.stderr
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			err := p.cmd.Wait()
			p.code = 0
			if ee, ok := err.(*exec.ExitError); ok {
				p.code = ee.ExitCode()
			} else if err != nil {
				p.code = -1
			}
			close(p.done)
		}()
		t.Cleanup(func() {
			p.cmd.Process.Kill()
			<-p.done
		})
		procs = append(procs, p)
	}
	return procs
}

// wait waits for p to exit, bounded.
func (p *crawlProc) wait(t *testing.T, bound time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(bound):
		t.Fatalf("trawl %v did not finish within %v; stderr:\n%s", p.cmd.Args, bound, p.stderr.String())
		return -1
	}
}

// exported reads the URLs in a records file. A process killed mid-write
// may leave a partial last line: it is not a record and is skipped.
func exported(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r struct {
			URL    string `json:"url"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			continue
		}
		if r.Status == 200 {
			urls = append(urls, r.URL)
		}
	}
	return urls
}

// waitFor polls cond until it holds or the bound passes.
func waitFor(t *testing.T, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkAllExported checks that every page of site is among the records
// of procs at least once (exactly once when exact) and returns how many
// records each process wrote.
func checkAllExported(t *testing.T, site *wideSite, procs []*crawlProc, exact bool) []int {
	t.Helper()
	count := map[string]int{}
	var per []int
	for _, p := range procs {
		us := exported(t, p.out)
		per = append(per, len(us))
		for _, u := range us {
			count[u]++
		}
	}
	missing := 0
	for i := range site.pages {
		u := fmt.Sprintf("%s/p/%d", site.URL, i)
		switch c := count[u]; {
		case c == 0:
			if missing < 5 {
				t.Errorf("page %d never exported", i)
			}
			missing++
		case exact && c != 1:
			t.Errorf("page %d exported %d times; want once", i, c)
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d pages never exported (records per process: %v)", missing, site.pages, per)
	}
	return per
}

// TestE2ERedisSharedCrawl: three processes share one crawl of a 3,000-page
// site: every page is fetched exactly once, the per-host limit holds
// across processes, and each process did part of the work.
func TestE2ERedisSharedCrawl(t *testing.T) {
	redisURL := redistest.URL(t)
	name := redistest.Name(t)
	site := newWideSite(t, 3000, time.Millisecond)
	procs := startShared(t, 3, site, redisURL, name)
	for i, p := range procs {
		if code := p.wait(t, 50*time.Second); code != 0 {
			t.Fatalf("process %d exited %d; stderr:\n%s", i, code, p.stderr.String())
		}
	}
	for i := range site.pages {
		if n := site.hitsOf(fmt.Sprintf("/p/%d", i)); n != 1 {
			t.Errorf("page %d fetched %d times; want exactly once across processes", i, n)
		}
	}
	if peak := site.peak.Load(); peak > 6 {
		t.Errorf("server saw %d requests in flight; --per-host 6 must hold across processes", peak)
	}
	per := checkAllExported(t, site, procs, true)
	for i, n := range per {
		if n == 0 {
			t.Errorf("process %d exported nothing (records per process %v); want the crawl shared", i, per)
		}
	}
	t.Logf("records per process: %v, server peak in flight %d", per, site.peak.Load())
	checkCrawlTotals(t, procs, redisURL, name, site.pages)
}

// checkCrawlTotals checks that each process's summary line gives its own
// pages and the crawl's totals, that the last process to finish saw all
// the pages of the crawl, and that 'trawl status' reports the finished
// crawl.
func checkCrawlTotals(t *testing.T, procs []*crawlProc, redisURL, name string, pages int) {
	t.Helper()
	own, most := 0, 0
	for i, p := range procs {
		var n, nproc, total, ok, errs, queued, hosts int
		var line string
		for _, l := range strings.Split(p.stderr.String(), "\n") {
			if strings.HasPrefix(l, "trawl: done: ") {
				line = l
			}
		}
		if _, err := fmt.Sscanf(line, "trawl: done: %d pages", &n); err != nil {
			t.Fatalf("process %d: no summary line in stderr:\n%s", i, p.stderr.String())
		}
		j := strings.Index(line, "; crawl (")
		if j < 0 {
			t.Fatalf("process %d: summary %q has no crawl totals", i, line)
		}
		if _, err := fmt.Sscanf(line[j:], "; crawl (%d processes): %d pages (%d ok, %d errors), %d queued, %d hosts",
			&nproc, &total, &ok, &errs, &queued, &hosts); err != nil {
			t.Fatalf("process %d: summary %q: %v", i, line, err)
		}
		if total < n || nproc < 1 || nproc > len(procs) || queued != 0 || hosts != 1 {
			t.Errorf("process %d: summary %q: crawl totals inconsistent with its own %d pages", i, line, n)
		}
		own += n
		most = max(most, total)
	}
	if own != pages || most != pages {
		t.Errorf("processes wrote %d pages in all and the last saw a crawl total of %d; want %d both", own, most, pages)
	}
	r := trawl(t, "status", "--redis", redisURL, "--redis-prefix", name)
	want := fmt.Sprintf("pages      %d (%d ok, 0 errors) from %d processes", pages, pages, len(procs))
	if r.code != 0 || !strings.Contains(r.stdout, ": finished") || !strings.Contains(r.stdout, want) {
		t.Errorf("trawl status: exit %d, stdout:\n%s\nwant \"finished\" and %q; stderr: %s", r.code, r.stdout, want, r.stderr)
	}
}

// TestE2ERedisKilledProcess: one of three processes is SIGKILLed mid-crawl;
// the others finish the crawl, taking over its leases after
// --redis-lease-timeout, and every page is exported at least once.
func TestE2ERedisKilledProcess(t *testing.T) {
	redisURL := redistest.URL(t)
	name := redistest.Name(t)
	site := newWideSite(t, 1500, time.Millisecond)
	procs := startShared(t, 3, site, redisURL, name, "--redis-lease-timeout", "1s")
	waitFor(t, 30*time.Second, "the crawl to get going", func() bool { return site.pageHits.Load() >= 400 })
	if err := procs[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	procs[0].wait(t, 10*time.Second)
	for i, p := range procs[1:] {
		if code := p.wait(t, 50*time.Second); code != 0 {
			t.Fatalf("surviving process %d exited %d; stderr:\n%s", i+1, code, p.stderr.String())
		}
	}
	checkAllExported(t, site, procs, false)
	c := redistest.Client(t)
	expired, _ := c.HGet(context.Background(), "trawl:{"+name+"}:counters", "expired").Int()
	t.Logf("leases of the killed process re-queued after the timeout: %d", expired)
}

// TestE2ERedisRestart: Redis (persistent) is killed and restarted
// mid-crawl; the processes log the outage, retry, resume when Redis is
// back, and the crawl completes with every page exported.
func TestE2ERedisRestart(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	site := newWideSite(t, 1500, time.Millisecond)
	procs := startShared(t, 2, site, srv.URL(), redistest.Name(t), "--redis-lease-timeout", "2s")
	waitFor(t, 30*time.Second, "the crawl to get going", func() bool { return site.pageHits.Load() >= 400 })
	srv.Kill()
	before := site.pageHits.Load()
	time.Sleep(time.Second)
	srv.Restart(t)
	for i, p := range procs {
		if code := p.wait(t, 50*time.Second); code != 0 {
			t.Fatalf("process %d exited %d; stderr:\n%s", i, code, p.stderr.String())
		}
	}
	if before >= int64(site.pages) {
		t.Fatalf("the crawl finished before Redis was killed (%d pages); the test proves nothing", before)
	}
	checkAllExported(t, site, procs, false)
	logged := false
	for _, p := range procs {
		logged = logged || strings.Contains(p.stderr.String(), "Redis unavailable, retrying")
	}
	if !logged {
		t.Errorf("no process logged the outage; stderr of the first:\n%s", procs[0].stderr.String())
	}
}

// TestE2ERedisBadURLAndPassword: a Redis that cannot be reached or refuses
// the password is a usage error: exit 2 with one clear line.
func TestE2ERedisBadURLAndPassword(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{Password: "right"})
	tests := []struct {
		name, url, want string
	}{
		{"bad scheme", "http://" + srv.Addr, "--redis: bad Redis URL"},
		{"unreachable", "redis://127.0.0.1:1/0", "--redis: cannot reach Redis at 127.0.0.1:1"},
		{"wrong password", "redis://:wrong@" + srv.Addr + "/0", "--redis: " + srv.Addr + " refused the credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, trawlBin, "crawl", "http://127.0.0.1:9/", "--redis", tc.url)
			cmd.Dir = t.TempDir()
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 2 {
				t.Fatalf("err = %v; want exit status 2; stderr:\n%s", err, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr = %q; want it to contain %q", stderr.String(), tc.want)
			}
			if strings.Contains(stderr.String(), "wrong@") {
				t.Errorf("stderr leaks the password: %q", stderr.String())
			}
		})
	}
}

// TestE2ERedisEvictingPolicy: a Redis with maxmemory-policy allkeys-lru
// could silently evict the crawl's queue and seen set: trawl refuses it
// with one line naming the policy, exit status 2, before fetching anything.
func TestE2ERedisEvictingPolicy(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{MaxmemoryPolicy: "allkeys-lru"})
	site := newWideSite(t, 10, 0)
	r := trawl(t, "crawl", site.URL+"/p/0", "--redis", srv.URL(), "-o", filepath.Join(t.TempDir(), "out.jsonl"))
	if r.code != 2 {
		t.Fatalf("exit %d; want 2; stderr:\n%s", r.code, r.stderr)
	}
	if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "maxmemory-policy allkeys-lru") {
		t.Errorf("stderr = %q; want one line naming maxmemory-policy allkeys-lru", r.stderr)
	}
	if n := site.pageHits.Load(); n != 0 {
		t.Errorf("%d pages fetched; want none", n)
	}
}

// TestE2EStatusUsage: trawl status needs --redis (exit 2, one line), and
// reports a name nothing was pushed under as empty.
func TestE2EStatusUsage(t *testing.T) {
	if r := trawl(t, "status"); r.code != 2 || !strings.Contains(r.stderr, "--redis URL is required") {
		t.Errorf("trawl status: exit %d, stderr %q; want 2 and a line asking for --redis", r.code, r.stderr)
	}
	if r := trawl(t, "status", "--redis", "http://x"); r.code != 2 || !strings.Contains(r.stderr, "bad Redis URL") {
		t.Errorf("trawl status --redis http://x: exit %d, stderr %q; want 2 and a line naming the URL", r.code, r.stderr)
	}
	r := trawl(t, "status", "--redis", redistest.URL(t), "--redis-prefix", redistest.Name(t))
	if r.code != 0 || !strings.Contains(r.stdout, ": empty") {
		t.Errorf("status of an unknown crawl: exit %d, stdout %q; want it reported empty", r.code, r.stdout)
	}
}
