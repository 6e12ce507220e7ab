package crawler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/trawlhq/trawl/pipeline"
)

// TestQueries checks the answers the crawler gives to code working beside
// it: which links it follows, what robots.txt allows on a host outside the
// scope (fetched once, its Crawl-delay in HostPolicy), and what is retried.
func TestQueries(t *testing.T) {
	other := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			fmt.Fprint(w, "User-agent: *\nDisallow: /private\nCrawl-delay: 2\n")
			return
		}
		fmt.Fprint(w, "ok")
	})
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<p>seed</p>") })
	r := newRig(t, Config{MaxDepth: 2, PerHost: 3, Delay: 100 * time.Millisecond, Retries: 2}, sessionConfig())
	if err := r.c.Run(context.Background(), s.URL+"/"); err != nil {
		t.Fatal(err)
	}
	c := r.c
	otherURL := "http://localhost:" + other.URL[len("http://127.0.0.1:"):]

	page := &pipeline.Page{URL: s.URL + "/", Depth: 1}
	for _, tc := range []struct {
		page *pipeline.Page
		link pipeline.Link
		want bool
	}{
		{page, pipeline.Link{URL: s.URL + "/a"}, true},
		{page, pipeline.Link{URL: s.URL + "/a", NoFollow: true}, false},
		{page, pipeline.Link{URL: otherURL + "/a"}, false},                                    // another host
		{&pipeline.Page{URL: s.URL + "/", Depth: 2}, pipeline.Link{URL: s.URL + "/a"}, false}, // MaxDepth
		{&pipeline.Page{URL: s.URL + "/", NoFollow: true}, pipeline.Link{URL: s.URL + "/a"}, false},
		{&pipeline.Page{URL: s.URL + "/", Err: errors.New("x")}, pipeline.Link{URL: s.URL + "/a"}, false},
	} {
		if got := c.Follows(tc.page, tc.link); got != tc.want {
			t.Errorf("Follows(depth %d, %+v) = %v, want %v", tc.page.Depth, tc.link, got, tc.want)
		}
	}

	ctx := context.Background()
	if p := c.HostPolicy(otherURL + "/"); p.Interval != 100*time.Millisecond || p.MaxInFlight != 3 {
		t.Errorf("HostPolicy before robots.txt = %+v", p)
	}
	if err := c.Allowed(ctx, otherURL+"/ok"); err != nil {
		t.Errorf("Allowed(/ok) = %v", err)
	}
	if err := c.Allowed(ctx, otherURL+"/private/x"); !errors.Is(err, ErrRobots) || errors.Is(err, ErrRobotsUnreachable) {
		t.Errorf("Allowed(/private/x) = %v, want ErrRobots", err)
	}
	if n := other.count("/robots.txt"); n != 1 {
		t.Errorf("robots.txt fetched %d times, want once", n)
	}
	if p := c.HostPolicy(otherURL + "/"); p.Interval != 2*time.Second {
		t.Errorf("HostPolicy after robots.txt = %+v, want its Crawl-delay", p)
	}
	// A host that refuses connections is named as unreachable, robots.txt
	// not blamed.
	var down *UnreachableError
	if err := c.Allowed(ctx, "http://127.0.0.1:1/x"); !errors.As(err, &down) || errors.Is(err, ErrRobots) {
		t.Errorf("Allowed(refusing host) = %v, want an *UnreachableError, not ErrRobots", err)
	}

	for _, tc := range []struct {
		attempt, status int
		h               http.Header
		want            time.Duration
		ok              bool
	}{
		{0, 503, http.Header{"Retry-After": {"3"}}, 3 * time.Second, true},
		{1, 429, http.Header{"Retry-After": {"1"}}, time.Second, true},
		{2, 429, http.Header{"Retry-After": {"1"}}, 0, false}, // Retries is 2
		{0, 404, nil, 0, false},
	} {
		d, ok := c.RetryDelay(tc.attempt, tc.status, tc.h, nil)
		if d != tc.want || ok != tc.ok {
			t.Errorf("RetryDelay(%d, %d) = %v, %v; want %v, %v", tc.attempt, tc.status, d, ok, tc.want, tc.ok)
		}
	}
}
