package crawler

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier/memory"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// TestRetriesByReasonAndTopHosts: retries are split by cause, and the
// per-host figures add up to the crawl's.
func TestRetriesByReasonAndTopHosts(t *testing.T) {
	var n429, n503 atomic.Int64
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			html(w, "/busy", "/down", "/ok")
		case "/busy":
			if n429.Add(1) == 1 {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			html(w)
		case "/down":
			if n503.Add(1) <= 2 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			html(w)
		case "/ok":
			html(w)
		default:
			http.NotFound(w, r)
		}
	})
	start := time.Now()
	r := crawl(t, Config{IgnoreRobots: true, Retries: 3}, s.URL+"/")
	st := r.c.Stats()
	want := map[string]int64{RetryTimeout: 0, RetryConnection: 0, Retry429: 1, Retry5xx: 2, RetryHook: 0}
	if fmt.Sprint(st.RetriesByReason) != fmt.Sprint(want) || st.Retries != 3 {
		t.Errorf("RetriesByReason = %v (Retries %d); want %v", st.RetriesByReason, st.Retries, want)
	}

	key := strings.TrimPrefix(s.URL, "http://")
	top, rest := r.c.TopHosts(5)
	if len(top) != 1 || top[0].Host != key || rest.Hosts != 0 {
		t.Fatalf("TopHosts(5) = %+v, rest %+v; want the one host", top, rest)
	}
	h := top[0]
	if h.Requests != st.Requests || h.Retries != 3 || h.InFlight != 0 || h.Hosts != 1 {
		t.Errorf("host figures %+v; want Requests %d, Retries 3, nothing in flight", h, st.Requests)
	}
	if h.BackoffUntil.Before(start) {
		t.Errorf("BackoffUntil %v: not set by the retries", h.BackoffUntil)
	}
	if top, rest := r.c.TopHosts(0); len(top) != 0 || rest.Requests != h.Requests || rest.Hosts != 1 {
		t.Errorf("TopHosts(0) = %+v, rest %+v; want everything in rest", top, rest)
	}
}

// TestTopHostsOrder ranks hosts by requests, ties by name, and sums the rest.
func TestTopHostsOrder(t *testing.T) {
	r := newRig(t, Config{}, sessionConfig())
	for i, n := range []int64{5, 9, 1, 9, 3} {
		r.c.host(fmt.Sprintf("h%d.test", i)).requests.Add(n)
	}
	r.c.host("h4.test").backoffUntil.Store(time.Now().Add(time.Hour).UnixNano())
	top, rest := r.c.TopHosts(3)
	var got []string
	for _, h := range top {
		got = append(got, fmt.Sprintf("%s=%d", h.Host, h.Requests))
	}
	if g := strings.Join(got, " "); g != "h1.test=9 h3.test=9 h0.test=5" {
		t.Errorf("TopHosts(3) = %s", g)
	}
	if rest.Hosts != 2 || rest.Requests != 4 || rest.Backoff != 1 {
		t.Errorf("rest = %+v; want 2 hosts, 4 requests, 1 in backoff", rest)
	}
}

// BenchmarkTopHosts100k is the scrape-time cost of per-host metrics in a
// crawl that has met 100,000 hosts.
func BenchmarkTopHosts100k(b *testing.B) {
	sess, err := session.New(session.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	f := memory.New(memory.Config{})
	defer f.Close()
	pipe, _ := pipeline.New(pipeline.Config{})
	c, err := New(Config{}, sess, f, pipe)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 100_000 {
		c.host(fmt.Sprintf("h%d.test", i)).requests.Add(int64(i % 997))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		top, _ := c.TopHosts(20)
		if len(top) != 20 {
			b.Fatal(len(top))
		}
	}
}
