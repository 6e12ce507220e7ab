package crawler

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/memory"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// site is an httptest server that measures, from the server's side, what
// the crawler did: hits per path, request start times, requests in flight.
type site struct {
	*httptest.Server
	t *testing.T

	inFlight, maxInFlight atomic.Int64

	mu     sync.Mutex
	hits   map[string]int
	starts []hit // every request, in arrival order

	// handle serves a request; nil paths 404. Set before the first request.
	handle func(w http.ResponseWriter, r *http.Request)
}

type hit struct {
	path string
	at   time.Time
}

// newSite starts a site whose requests are served by handle.
func newSite(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) *site {
	t.Helper()
	s := &site{t: t, hits: map[string]int{}, handle: handle}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *site) serve(w http.ResponseWriter, r *http.Request) {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		m := s.maxInFlight.Load()
		if n <= m || s.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	p := r.URL.RequestURI()
	s.mu.Lock()
	s.hits[p]++
	s.starts = append(s.starts, hit{p, time.Now()})
	s.mu.Unlock()
	s.handle(w, r)
}

// count returns the hits of one path (with query).
func (s *site) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// pageHits returns the hits of every path but /robots.txt.
func (s *site) pageHits() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]int{}
	for p, n := range s.hits {
		if p != "/robots.txt" {
			m[p] = n
		}
	}
	return m
}

// pageStarts returns the start times of requests other than robots.txt.
func (s *site) pageStarts() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ts []time.Time
	for _, h := range s.starts {
		if h.path != "/robots.txt" {
			ts = append(ts, h.at)
		}
	}
	return ts
}

// allStarts returns the start times of every request, robots.txt included.
func (s *site) allStarts() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ts []time.Time
	for _, h := range s.starts {
		ts = append(ts, h.at)
	}
	return ts
}

// html writes an HTML page linking to hrefs.
func html(w http.ResponseWriter, hrefs ...string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	b.WriteString("<!doctype html><html><head><title>t</title></head><body>")
	for _, h := range hrefs {
		fmt.Fprintf(&b, "<a href=%q>x</a>", h)
	}
	b.WriteString("</body></html>")
	_, _ = w.Write([]byte(b.String()))
}

// collector is a pipeline stage keeping every record (or, when countOnly,
// only counting them).
type collector struct {
	countOnly bool
	n         atomic.Int64
	mu        sync.Mutex
	recs      []pipeline.Record
}

func (c *collector) Process(_ context.Context, p *pipeline.Page) error {
	c.n.Add(1)
	if c.countOnly {
		return nil
	}
	r := p.Record()
	c.mu.Lock()
	c.recs = append(c.recs, r)
	c.mu.Unlock()
	return nil
}

// count returns the number of records.
func (c *collector) count() int { return int(c.n.Load()) }

// records returns the records so far, sorted by URL.
func (c *collector) records() []pipeline.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]pipeline.Record(nil), c.recs...)
	sort.Slice(out, func(i, j int) bool { return out[i].URL < out[j].URL })
	return out
}

// byURL returns the records keyed by URL; it fails the test on a URL with
// two records.
func (c *collector) byURL(t *testing.T) map[string]pipeline.Record {
	t.Helper()
	m := map[string]pipeline.Record{}
	for _, r := range c.records() {
		if _, dup := m[r.URL]; dup {
			t.Errorf("two records for %s", r.URL)
		}
		m[r.URL] = r
	}
	return m
}

// rig is one crawler wired to a fresh session, memory frontier and
// pipeline whose only stage is a collector.
type rig struct {
	c    *Crawler
	col  *collector
	sess *session.Session
	pipe *pipeline.Pipeline
}

// sessionConfig is the tests' session: short timeouts, no per-host
// connection limit beyond the crawler's.
func sessionConfig() session.Config {
	return session.Config{Timeouts: session.Timeouts{Total: 10 * time.Second}}
}

func newRig(t *testing.T, cfg Config, sc session.Config, stages ...pipeline.Stage) *rig {
	t.Helper()
	f := memory.New(memory.Config{})
	t.Cleanup(func() { _ = f.Close() })
	return newRigFrontier(t, cfg, sc, f, stages...)
}

// newRigFrontier is newRig on the frontier f (closed by the caller).
func newRigFrontier(t *testing.T, cfg Config, sc session.Config, f frontier.Frontier, stages ...pipeline.Stage) *rig {
	t.Helper()
	sess, err := session.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sess.Close() })
	col := &collector{}
	pipe, err := pipeline.New(pipeline.Config{Stages: append(stages, col)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pipe.Close() })
	if cfg.RetryBackoff == 0 {
		cfg.RetryBackoff = 10 * time.Millisecond
	}
	if cfg.HostBackoff == 0 {
		cfg.HostBackoff = 10 * time.Millisecond
	}
	c, err := New(cfg, sess, f, pipe)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{c: c, col: col, sess: sess, pipe: pipe}
}

// crawl runs a crawl with a 60 s safety timeout and fails on an error.
func crawl(t *testing.T, cfg Config, seeds ...string) *rig {
	t.Helper()
	return crawlSession(t, cfg, sessionConfig(), seeds...)
}

// crawlSession is crawl with a session configured by sc.
func crawlSession(t *testing.T, cfg Config, sc session.Config, seeds ...string) *rig {
	t.Helper()
	r := newRig(t, cfg, sc)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := r.c.Run(ctx, seeds...); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return r
}

// minGap returns the smallest gap between consecutive times.
func minGap(ts []time.Time) time.Duration {
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	min := time.Duration(1<<63 - 1)
	for i := 1; i < len(ts); i++ {
		if g := ts[i].Sub(ts[i-1]); g < min {
			min = g
		}
	}
	return min
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func newMemory(t *testing.T) *memory.Memory {
	f := memory.New(memory.Config{})
	t.Cleanup(func() { _ = f.Close() })
	return f
}
