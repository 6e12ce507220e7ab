package crawler

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// fanSite serves /p/0 … /p/n-1; page i links to pages 2i+1 and 2i+2 (a
// binary tree, so many pages are queued at once) and each response takes
// `hold` to come back.
func fanSite(t *testing.T, n int, hold time.Duration, robots string) *site {
	return newSite(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			if robots == "" {
				http.NotFound(w, r)
				return
			}
			_, _ = w.Write([]byte(robots))
			return
		}
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/p/"))
		if err != nil || i < 0 || i >= n {
			http.NotFound(w, r)
			return
		}
		if hold > 0 {
			time.Sleep(hold) // the server is slow; this is not crawler politeness
		}
		var links []string
		for _, j := range []int{2*i + 1, 2*i + 2} {
			if j < n {
				links = append(links, "/p/"+strconv.Itoa(j))
			}
		}
		html(w, links...)
	})
}

// TestMaxInFlightPerHost: with many more workers than the per-host limit,
// the server never sees more than PerHost requests at once, and sees that
// many (the limit is reached, so the test can fail).
func TestMaxInFlightPerHost(t *testing.T) {
	for _, tc := range []struct {
		name         string
		workers      int
		perHost      int
		ignoreRobots bool
	}{
		{"1 per host, 200 workers", 200, 1, false},
		{"3 per host, 200 workers", 200, 3, false},
		{"4 per host, 1000 workers, no robots", 1000, 4, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 120
			s := fanSite(t, n, 3*time.Millisecond, "User-agent: *\nDisallow: /nothing\n")
			r := crawl(t, Config{Workers: tc.workers, PerHost: tc.perHost, IgnoreRobots: tc.ignoreRobots}, s.URL+"/p/0")
			if got := s.maxInFlight.Load(); got > int64(tc.perHost) {
				t.Errorf("server saw %d requests in flight, limit %d", got, tc.perHost)
			}
			if tc.perHost > 1 && s.maxInFlight.Load() < 2 {
				t.Errorf("server saw at most %d in flight: the crawl never used its parallelism", s.maxInFlight.Load())
			}
			hits := s.pageHits()
			if len(hits) != n {
				t.Errorf("%d distinct pages fetched, want %d", len(hits), n)
			}
			for p, k := range hits {
				if k != 1 {
					t.Errorf("%s fetched %d times", p, k)
				}
			}
			if got := len(r.col.records()); got != n {
				t.Errorf("%d records, want %d", got, n)
			}
		})
	}
}

// TestIntervals: request starts to one host are at least the configured
// interval apart (lower bound, 90%), from Delay, Rate and Crawl-delay.
func TestIntervals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    Config
		robots string
		want   time.Duration
	}{
		{"delay", Config{Delay: 300 * time.Millisecond}, "", 300 * time.Millisecond},
		{"delay, robots.txt included", Config{Delay: 300 * time.Millisecond}, "User-agent: *\nDisallow: /x\n", 300 * time.Millisecond},
		{"rate", Config{Rate: rate.Limit(4)}, "", 250 * time.Millisecond},
		{"crawl-delay", Config{}, "User-agent: *\nCrawl-delay: 0.3\n", 300 * time.Millisecond},
		{"crawl-delay beats a smaller delay", Config{Delay: 20 * time.Millisecond}, "User-agent: trawl\nCrawl-delay: 0.3\n", 300 * time.Millisecond},
		{"random delay adds to delay", Config{Delay: 250 * time.Millisecond, RandomDelay: 100 * time.Millisecond}, "", 250 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const n = 6
			s := fanSite(t, n, 0, tc.robots)
			cfg := tc.cfg
			cfg.Workers, cfg.PerHost = 100, 4
			start := time.Now()
			crawl(t, cfg, s.URL+"/p/0")
			// Crawl-delay is learnt from robots.txt, so it spaces the
			// pages; Delay and Rate also space robots.txt from the pages.
			starts, want := s.pageStarts(), n
			if tc.cfg.Delay >= tc.want || tc.robots == "" {
				starts, want = s.allStarts(), n+1
			}
			if len(starts) != want {
				t.Fatalf("%d requests, want %d", len(starts), want)
			}
			// Lower bounds only, on the mean gap. Arrival times at the
			// server carry the scheduling noise of the machine: on a
			// loaded 2-core box a request started on time can arrive
			// hundreds of ms late, right before the next one, so a single
			// gap says nothing about when the crawler started them (seen:
			// 0.5 ms between two requests started 300 ms apart, load
			// average 40). Delays only lengthen the span of the starts,
			// so the mean gap is a sound lower bound; the spacing of each
			// request is proven on a fake clock by internal/schedule's
			// tests and TestGateUsesClock.
			if g := minGap(starts); g < tc.want*7/10 {
				t.Logf("smallest gap between requests %v (want %v): late arrivals on a loaded machine", g, tc.want)
				s.mu.Lock()
				for _, h := range s.starts {
					t.Logf("%v %s", h.at.Sub(start), h.path)
				}
				s.mu.Unlock()
			}
			if mean := starts[len(starts)-1].Sub(starts[0]) / time.Duration(len(starts)-1); mean < tc.want*9/10 {
				t.Errorf("mean gap between requests %v, want >= %v", mean, tc.want)
			}
			if el := time.Since(start); el < tc.want*(n-1)*9/10 {
				t.Errorf("crawl took %v, want >= %v", el, tc.want*(n-1))
			}
		})
	}
}

// TestRetryHoldsNoSlot: a URL waiting for its Retry-After holds neither
// the only worker nor the host's only slot: other pages are fetched while
// it waits. Host-wide backoff is off: with it, the 503 pauses the whole
// host (TestHostBackoffRetryAfter).
func TestRetryHoldsNoSlot(t *testing.T) {
	first := true
	s := newSite(t, nil)
	s.handle = func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			html(w, "/slow", "/a", "/b", "/c")
		case "/slow":
			s.mu.Lock()
			again := first
			first = false
			s.mu.Unlock()
			if again {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			html(w)
		case "/a", "/b", "/c":
			html(w)
		default:
			http.NotFound(w, r)
		}
	}
	r := crawl(t, Config{Workers: 1, PerHost: 1, IgnoreRobots: true, HostBackoff: -1}, s.URL+"/")
	var order []string
	var slowAt []time.Time
	for _, h := range s.starts {
		order = append(order, h.path)
		if h.path == "/slow" {
			slowAt = append(slowAt, h.at)
		}
	}
	if len(slowAt) != 2 {
		t.Fatalf("/slow fetched %d times, want 2: %v", len(slowAt), order)
	}
	if g := slowAt[1].Sub(slowAt[0]); g < 900*time.Millisecond {
		t.Errorf("retry after %v, want >= 1s (Retry-After)", g)
	}
	if want := "/ /slow /a /b /c /slow"; strings.Join(order, " ") != want {
		t.Errorf("request order %v, want %s", order, want)
	}
	recs := r.col.byURL(t)
	if rec := recs[s.URL+"/slow"]; rec.Status != 200 || rec.Error != "" {
		t.Errorf("/slow record: status %d error %q", rec.Status, rec.Error)
	}
	if len(recs) != 5 {
		t.Errorf("%d records, want 5", len(recs))
	}
}

// TestPolitenessManyHosts: the per-host limit is per host, not global:
// two hosts with PerHost 2 are crawled with up to 2 requests each.
func TestPolitenessManyHosts(t *testing.T) {
	const n = 40
	a := fanSite(t, n, 3*time.Millisecond, "")
	b := fanSite(t, n, 3*time.Millisecond, "")
	// b is reached as "localhost", a as 127.0.0.1: two hosts.
	bURL := strings.Replace(b.URL, "127.0.0.1", "localhost", 1)
	r := crawl(t, Config{Workers: 64, PerHost: 2}, a.URL+"/p/0", bURL+"/p/0")
	for name, s := range map[string]*site{"a": a, "b": b} {
		if got := s.maxInFlight.Load(); got > 2 {
			t.Errorf("host %s: %d in flight, limit 2", name, got)
		}
		if got := len(s.pageHits()); got != n {
			t.Errorf("host %s: %d pages, want %d", name, got, n)
		}
	}
	if st := r.c.Stats(); st.Hosts != 2 || st.Pages != 2*n {
		t.Errorf("stats: hosts %d pages %d, want 2 and %d", st.Hosts, st.Pages, 2*n)
	}
}

// TestGateUsesClock: the politeness gate reads Config.Now and waits with
// the crawler's sleep, so a fake clock drives it without wall time: three
// requests to a host with a 10 s interval wait 0, 10 s and 10 s of fake
// time and start 10 s apart.
func TestGateUsesClock(t *testing.T) {
	fake := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st, err := Config{Delay: 10 * time.Second, Now: func() time.Time { return fake }}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	st.sleep = func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		fake = fake.Add(d)
		return nil
	}
	c := &Crawler{s: st}
	h := c.host("example.com")
	start := fake
	var starts []time.Duration
	for range 3 {
		if err := c.gate(t.Context(), h); err != nil {
			t.Fatal(err)
		}
		starts = append(starts, fake.Sub(start))
	}
	if want := []time.Duration{0, 10 * time.Second, 20 * time.Second}; !slices.Equal(starts, want) {
		t.Errorf("requests started at %v, want %v (waits %v)", starts, want, waits)
	}
}
