package crawler

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/pipeline"
)

// trapSite is an infinite link trap: /trap/N links to /trap/N+1 and to
// /trap/N/x (another branch), forever.
func trapSite(t *testing.T) *site {
	return newSite(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/trap/") {
			http.NotFound(w, r)
			return
		}
		rest := strings.TrimPrefix(r.URL.Path, "/trap/")
		n, _ := strconv.Atoi(strings.SplitN(rest, "/", 2)[0])
		html(w, "/trap/"+strconv.Itoa(n+1), r.URL.Path+"/x")
	})
}

// TestDepth: a link trap is bounded by MaxDepth; the depth recorded is the
// number of links followed from the seed.
func TestDepth(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxDepth int
		pages    int // d+1 new pages at depth d: (d+1)(d+2)/2 down to depth d
	}{
		{"seeds only", SeedsOnly, 1},
		{"depth 1", 1, 3},
		{"depth 4", 4, 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := trapSite(t)
			r := crawl(t, Config{MaxDepth: tc.maxDepth, IgnoreRobots: true}, s.URL+"/trap/0")
			if got := len(s.pageHits()); got != tc.pages {
				t.Errorf("%d pages fetched, want %d", got, tc.pages)
			}
			maxSeen := 0
			for _, rec := range r.col.records() {
				maxSeen = max(maxSeen, rec.Depth)
				if rec.Depth > 0 && rec.Referrer == "" {
					t.Errorf("%s at depth %d has no referrer", rec.URL, rec.Depth)
				}
			}
			if want := max(tc.maxDepth, 0); maxSeen != want {
				t.Errorf("deepest record %d, want %d", maxSeen, want)
			}
		})
	}
}

// TestMaxPages: exactly MaxPages records, and no more requests than that,
// with many workers racing for the last ones.
func TestMaxPages(t *testing.T) {
	for _, max := range []int{1, 37, 100} {
		t.Run(strconv.Itoa(max), func(t *testing.T) {
			s := fanSite(t, 1000, 0, "")
			r := crawl(t, Config{MaxPages: max, Workers: 64, PerHost: 16}, s.URL+"/p/0")
			if got := len(r.col.records()); got != max {
				t.Errorf("%d records, want %d", got, max)
			}
			if got := len(s.pageHits()); got != max {
				t.Errorf("%d pages requested, want %d", got, max)
			}
			if st := r.c.Stats(); st.Pages != int64(max) {
				t.Errorf("Stats.Pages %d, want %d", st.Pages, max)
			}
		})
	}
}

// TestScope: links out of scope are listed in records but never fetched.
func TestScope(t *testing.T) {
	other := newSite(t, func(w http.ResponseWriter, r *http.Request) { html(w) })
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			html(w, "/keep/1", "/skip/1", "/keep/"+strings.Repeat("x", 300), otherURL+"/x", "ftp://x/", "/keep/nf")
		default:
			html(w)
		}
	})
	for _, tc := range []struct {
		name  string
		cfg   Config
		want  []string // paths fetched on s
		other int      // pages fetched on the other host
	}{
		{"default: the seed's host", Config{}, []string{"/", "/keep/1", "/skip/1", "/keep/" + strings.Repeat("x", 300), "/keep/nf"}, 0},
		{"exclude and max length", Config{Exclude: []*regexp.Regexp{regexp.MustCompile(`/skip/`)}, MaxURLLength: 100},
			[]string{"/", "/keep/1", "/keep/nf"}, 0},
		{"include (seed exempt)", Config{Include: []*regexp.Regexp{regexp.MustCompile(`/keep/\d`)}}, []string{"/", "/keep/1"}, 0},
		{"allow another domain", Config{AllowDomains: []string{"localhost"}, MaxURLLength: 100},
			[]string{"/", "/keep/1", "/skip/1", "/keep/nf"}, 1},
		{"allow all but deny it", Config{AllowDomains: []string{"*"}, DenyDomains: []string{"*.localhost"}, MaxURLLength: 100},
			[]string{"/", "/keep/1", "/skip/1", "/keep/nf"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(other.pageHits())
			r := crawl(t, tc.cfg, s.URL+"/")
			hits := s.pageHits()
			s.mu.Lock()
			clear(s.hits)
			s.mu.Unlock()
			if len(hits) != len(tc.want) {
				t.Errorf("fetched %v, want %v", hits, tc.want)
			}
			for _, p := range tc.want {
				if hits[p] != 1 {
					t.Errorf("%s fetched %d times, want 1", p, hits[p])
				}
			}
			if got := len(other.pageHits()) - before; got != tc.other {
				t.Errorf("other host: %d pages, want %d", got, tc.other)
			}
			seed := r.col.byURL(t)[s.URL+"/"]
			if len(seed.Links) != 5 {
				t.Errorf("seed record lists %d links, want all 5 http links (in scope or not)", len(seed.Links))
			}
		})
	}
}

func TestScopeCheck(t *testing.T) {
	st, err := Config{
		AllowDomains: []string{"*.example.com", "Other.ORG"},
		DenyDomains:  []string{"bad.example.com"},
		Exclude:      []*regexp.Regexp{regexp.MustCompile(`\.pdf$`)},
		MaxURLLength: 40,
	}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	sc := scope{s: st, hosts: map[string]struct{}{}}
	sc.addSeedHost("http://seed.net:8080/")
	for _, tc := range []struct {
		u    string
		seed bool
		want scopeVerdict
	}{
		{"http://seed.net:8080/a", false, inScope},
		{"https://seed.net/a", false, inScope}, // host, not port
		{"http://www.seed.net/", false, outHost},
		{"http://example.com/", false, inScope},
		{"http://a.b.example.com/", false, inScope},
		{"http://badexample.com/", false, outHost},
		{"http://bad.example.com/", false, outDenied},
		{"http://x.bad.example.com/", false, inScope}, // deny is exact, allow *.example.com
		{"http://other.org/", false, inScope},
		{"http://sub.other.org/", false, outHost},
		{"http://seed.net/f.pdf", false, outExcluded},
		{"http://seed.net/f.pdf", true, inScope},
		{"ftp://seed.net/", false, outScheme},
		{"http://seed.net/" + strings.Repeat("a", 40), false, outTooLong},
	} {
		if got := sc.check(tc.u, tc.seed); got != tc.want {
			t.Errorf("check(%q, seed=%v) = %q, want %q", tc.u, tc.seed, got, tc.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Workers: -1}, "Workers"},
		{Config{PerHost: -2}, "PerHost"},
		{Config{MaxPages: -1}, "MaxPages"},
		{Config{Delay: -time.Second}, "Delay"},
		{Config{AllowDomains: []string{"http://x.com/"}}, "AllowDomains"},
		{Config{DenyDomains: []string{""}}, "DenyDomains"},
		{Config{Include: []*regexp.Regexp{nil}}, "Include"},
		{Config{RobotsAgent: "2bot"}, "RobotsAgent"},
		{Config{Stages: []pipeline.Stage{nil}}, "Stages"},
	} {
		_, err := tc.cfg.resolve()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("resolve(%+v) = %v, want an error naming %s", tc.cfg, err, tc.want)
		}
	}
	pl, _ := pipeline.New(pipeline.Config{})
	if _, err := New(Config{Stages: []pipeline.Stage{pipeline.StageFunc(nil)}}, nil, nil, pl); err == nil || !strings.Contains(err.Error(), "Stages") {
		t.Errorf("New with Stages and a pipeline: %v, want an error naming Stages", err)
	}
	st, err := Config{}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if st.Workers != DefaultWorkers || st.PerHost != DefaultPerHost || st.Retries != DefaultRetries ||
		st.robotsAgent != "" || st.GracePeriod != DefaultGracePeriod {
		t.Errorf("zero Config resolved to %+v", st)
	}
	st, _ = Config{Retries: -1, GracePeriod: -1}.resolve()
	if st.Retries != 0 || st.GracePeriod != 0 {
		t.Errorf("negative counts: retries %d grace %v, want none", st.Retries, st.GracePeriod)
	}
}

// TestBadSeeds: a bad seed is an error naming it, and nothing is fetched.
func TestBadSeeds(t *testing.T) {
	s := fanSite(t, 3, 0, "")
	for _, bad := range []string{"not a url", "ftp://x.com/", "/relative", "http://"} {
		r := newRig(t, Config{}, sessionConfig())
		err := r.c.Run(t.Context(), s.URL+"/p/0", bad)
		if err == nil || !strings.Contains(err.Error(), strconv.Quote(bad)) {
			t.Errorf("Run with seed %q: %v, want an error naming it", bad, err)
		}
	}
	if n := len(s.pageHits()); n != 0 {
		t.Errorf("%d pages fetched despite a bad seed", n)
	}
	r := newRig(t, Config{}, sessionConfig())
	if err := r.c.Run(t.Context()); err != nil {
		t.Errorf("Run with no seeds on an empty frontier: %v", err)
	}
	if err := r.c.Run(t.Context()); err == nil {
		t.Error("second Run succeeded")
	}
}

// TestCancel: cancelling mid-crawl stops leasing, lets in-flight requests
// finish and be recorded, and returns ctx's error; nothing is fetched
// after Run returns.
func TestCancel(t *testing.T) {
	s := fanSite(t, 5000, 20*time.Millisecond, "")
	ctx, cancel := context.WithCancel(context.Background())
	var seen atomic.Int64
	stop := pipeline.StageFunc(func(context.Context, *pipeline.Page) error {
		if seen.Add(1) == 30 {
			cancel()
		}
		return nil
	})
	r := newRig(t, Config{Workers: 16, PerHost: 8}, sessionConfig(), stop)
	start := time.Now()
	err := r.c.Run(ctx, s.URL+"/p/0")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("Run took %v after cancel", el)
	}
	recs := len(r.col.records())
	hits := len(s.pageHits())
	if recs < 30 || recs > 30+8 {
		t.Errorf("%d records, want 30 plus at most the 8 in flight", recs)
	}
	if hits != recs {
		t.Errorf("%d pages requested but %d records: in-flight work lost", hits, recs)
	}
	time.Sleep(100 * time.Millisecond)
	if later := len(s.pageHits()); later != hits {
		t.Errorf("%d requests after Run returned", later-hits)
	}
	if st := r.c.Stats(); st.InFlight != 0 || st.Pages != int64(recs) {
		t.Errorf("stats after cancel: %+v", st)
	}
}

// TestCancelGraceExpires: requests still running when the grace period
// ends are aborted, yield no record, and Run returns promptly.
func TestCancelGraceExpires(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			html(w, "/hang1", "/hang2")
			return
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	r := newRig(t, Config{GracePeriod: 100 * time.Millisecond, IgnoreRobots: true}, sessionConfig())
	go func() {
		for s.inFlight.Load() < 2 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	err := r.c.Run(ctx, s.URL+"/")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("Run took %v; the grace period is 100ms", el)
	}
	recs := r.col.records()
	if len(recs) != 1 || recs[0].URL != s.URL+"/" {
		t.Errorf("records %v, want only the seed's", recs)
	}
}

// TestPipelineFailureStops: a stage error with FailOnStageError ends the
// crawl with an error naming the URL.
func TestPipelineFailureStops(t *testing.T) {
	s := fanSite(t, 100, 0, "")
	sess, _ := newRig(t, Config{}, sessionConfig()), 0
	failing := pipeline.StageFunc(func(_ context.Context, p *pipeline.Page) error {
		if strings.HasSuffix(p.URL, "/p/5") {
			return errors.New("disk full")
		}
		return nil
	})
	pipe, err := pipeline.New(pipeline.Config{Stages: []pipeline.Stage{failing}, FailOnStageError: true})
	if err != nil {
		t.Fatal(err)
	}
	f := newMemory(t)
	c, err := New(Config{Workers: 4}, sess.sess, f, pipe)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Run(t.Context(), s.URL+"/p/0")
	if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.Contains(err.Error(), "/p/5") {
		t.Fatalf("Run = %v, want the stage error naming /p/5", err)
	}
	if n := len(s.pageHits()); n >= 100 {
		t.Errorf("the crawl went on: %d pages", n)
	}
}

// TestStats: the final figures match what the server saw.
func TestStats(t *testing.T) {
	s := robotsSite(t, 200, "User-agent: *\nDisallow: /b\n")
	r := crawl(t, Config{}, s.URL+"/", s.URL+"/missing")
	st := r.c.Stats()
	if st.Pages != 7 || st.OK != 5 || st.Errors != 1 || st.ByStatus[200] != 5 || st.ByStatus[404] != 1 || st.ByStatus[0] != 1 {
		t.Errorf("stats %+v", st)
	}
	if st.RobotsDenied != 1 || st.Hosts != 1 || st.InFlight != 0 || st.Queued != 0 || st.Discovered != 7 {
		t.Errorf("stats %+v", st)
	}
	if st.Bytes <= 0 || st.Elapsed <= 0 || st.PagesPerSec <= 0 || st.ConnsOpened < 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestLeaseOutOfScope: a URL the frontier already held from another run
// (with another scope) is not fetched; its record says so.
func TestLeaseOutOfScope(t *testing.T) {
	s := robotsSite(t, 404, "")
	r := newRig(t, Config{Exclude: []*regexp.Regexp{regexp.MustCompile(`/b$`)}}, sessionConfig())
	f := newMemory(t)
	if _, err := f.Push(t.Context(), frontier.Entry{URL: s.URL + "/b", Depth: 1, Referrer: s.URL + "/"}); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Exclude: []*regexp.Regexp{regexp.MustCompile(`/b$`)}, MaxDepth: SeedsOnly}, r.sess, f, r.pipe)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(t.Context(), s.URL+"/"); err != nil {
		t.Fatal(err)
	}
	if n := s.count("/b"); n != 0 {
		t.Errorf("/b fetched %d times", n)
	}
	recs := r.col.byURL(t)
	if rec := recs[s.URL+"/b"]; !strings.Contains(rec.Error, "out of scope") {
		t.Errorf("/b record error %q, want out of scope", rec.Error)
	}
	if len(recs) != 2 {
		t.Errorf("%d records, want 2", len(recs))
	}
}
