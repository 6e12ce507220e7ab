package metrics_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/crawler/metrics"
	"github.com/trawlhq/trawl/crawler/recrawl"
	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/memory"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// rig is one crawl wired to a registry.
type rig struct {
	sess *session.Session
	fr   frontier.Frontier
	pl   *pipeline.Pipeline
	cr   *crawler.Crawler
	reg  *prometheus.Registry
	col  *metrics.Collector
	out  *bytes.Buffer
}

func newRig(t testing.TB, ccfg crawler.Config, scfg session.Config, mcfg metrics.Config, stages ...pipeline.Stage) *rig {
	t.Helper()
	r := &rig{reg: prometheus.NewRegistry(), out: &bytes.Buffer{}}
	lat := metrics.NewLatency(nil)
	scfg.Traces = append(scfg.Traces, lat.Trace())
	var err error
	if r.sess, err = session.New(scfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.sess.Close() })
	r.fr = memory.New(memory.Config{})
	t.Cleanup(func() { r.fr.Close() })
	stages = append(stages, pipeline.NewJSONL(&lockedWriter{w: r.out}))
	if r.pl, err = pipeline.New(pipeline.Config{Stages: stages}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.pl.Close() })
	if ccfg.RetryBackoff == 0 {
		ccfg.RetryBackoff = time.Millisecond
	}
	if r.cr, err = crawler.New(ccfg, r.sess, r.fr, r.pl); err != nil {
		t.Fatal(err)
	}
	mcfg.Crawler = r.cr
	if r.col, err = metrics.New(mcfg); err != nil {
		t.Fatal(err)
	}
	r.reg.MustRegister(r.col, lat)
	return r
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// gather returns the registry's families by name.
func gather(t testing.TB, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// value returns the value of the series of family name whose labels
// include want (name=value pairs), summing when several match.
func value(mfs map[string]*dto.MetricFamily, name string, want ...string) float64 {
	mf := mfs[name]
	if mf == nil {
		return -1
	}
	sum := 0.0
	for _, m := range mf.Metric {
		ok := true
		for i := 0; i+1 < len(want); i += 2 {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == want[i] && lp.GetValue() == want[i+1] {
					found = true
				}
			}
			ok = ok && found
		}
		if !ok {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

// testSite serves 20 linked pages, a redirect, a 404, a page that fails
// with 503 twice before answering, a page robots.txt disallows, and counts
// every request it receives.
type testSite struct {
	*httptest.Server
	requests atomic.Int64
	flaky    atomic.Int64
}

func newTestSite(t testing.TB) *testSite {
	s := &testSite{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		switch p := r.URL.Path; {
		case p == "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nDisallow: /private\n")
		case p == "/":
			var b strings.Builder
			for i := range 20 {
				fmt.Fprintf(&b, `<a href="/p%d">p</a>`, i)
			}
			b.WriteString(`<a href="/old">old</a><a href="/missing">m</a><a href="/flaky">f</a><a href="/private/x">x</a>`)
			fmt.Fprint(w, "<html><body>"+b.String()+"</body></html>")
		case p == "/old":
			http.Redirect(w, r, "/p0", http.StatusMovedPermanently)
		case p == "/missing":
			http.NotFound(w, r)
		case p == "/flaky":
			if s.flaky.Add(1) <= 2 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			fmt.Fprint(w, "<html>ok</html>")
		default:
			fmt.Fprint(w, "<html><body><a href=\"/\">home</a></body></html>")
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// failStage fails on every page whose URL ends in /p3.
type failStage struct{}

func (failStage) String() string { return "fail" }
func (failStage) Process(_ context.Context, p *pipeline.Page) error {
	if strings.HasSuffix(p.URL, "/p3") {
		return fmt.Errorf("no p3")
	}
	return nil
}

func TestCrawlCountersMatchServerAndOutput(t *testing.T) {
	site := newTestSite(t)
	r := newRig(t, crawler.Config{Workers: 4}, session.Config{}, metrics.Config{}, failStage{})
	if err := r.cr.Run(context.Background(), site.URL+"/"); err != nil {
		t.Fatal(err)
	}
	mfs := gather(t, r.reg)
	records := int64(strings.Count(r.out.String(), "\n"))
	st := r.cr.Stats()

	checks := []struct {
		name string
		got  float64
		want int64
	}{
		{"sum of trawl_requests_total = server's requests", value(mfs, "trawl_requests_total"), site.requests.Load()},
		{"trawl_pages_exported_total = records written", value(mfs, "trawl_pages_exported_total"), records},
		{"trawl_pages_total = Stats.Pages", value(mfs, "trawl_pages_total"), st.Pages},
		{"trawl_page_errors_total = Stats.Errors", value(mfs, "trawl_page_errors_total"), st.Errors},
		{"503 responses", value(mfs, "trawl_requests_total", "code", "503"), 2},
		{"404 responses", value(mfs, "trawl_requests_total", "code", "404"), 1},
		{"301 responses", value(mfs, "trawl_requests_total", "code", "301"), 1},
		{"retries for 5xx", value(mfs, "trawl_retries_total", "reason", "5xx"), 2},
		{"retries for timeouts", value(mfs, "trawl_retries_total", "reason", "timeout"), 0},
		{"robots denied", value(mfs, "trawl_robots_denied_total"), 1},
		{"stage errors of stage fail", value(mfs, "trawl_stage_errors_total", "stage", "fail"), 1},
		{"header timings, one per wire request", value(mfs, "trawl_request_duration_seconds", "phase", "headers"), site.requests.Load()},
		{"host requests of the one host", value(mfs, "trawl_host_requests_total", "host", strings.TrimPrefix(site.URL, "http://")), st.Requests + 1},
		{"frontier queued at the end", value(mfs, "trawl_frontier_queued"), 0},
	}
	for _, c := range checks {
		if int64(c.got) != c.want {
			t.Errorf("%s: got %v, want %d", c.name, c.got, c.want)
		}
	}
	if value(mfs, "trawl_connections_opened_total") < 1 {
		t.Error("no connection counted")
	}
	if records == 0 || st.Pages != records {
		t.Errorf("records %d, pages %d", records, st.Pages)
	}
}

// TestHostCardinality crawls a page linking to 100,000 distinct hosts and
// checks that no metric family has more than 200 series.
func TestHostCardinality(t *testing.T) {
	const nHosts = 100_000
	var page bytes.Buffer
	page.WriteString("<html><body>")
	var port string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && r.Host == "seed.test:"+port {
			w.Write(page.Bytes())
			return
		}
		fmt.Fprint(w, "<html>leaf</html>")
	}))
	defer srv.Close()
	_, port, _ = net.SplitHostPort(srv.Listener.Addr().String())
	for i := range 5 {
		fmt.Fprintf(&page, `<a href="/s%d">s</a>`, i)
	}
	for i := range nHosts {
		fmt.Fprintf(&page, `<a href="http://h%d.test:%s/">x</a>`, i, port)
	}
	page.WriteString("</body></html>")

	scfg := session.Config{ConnectorConfig: session.ConnectorConfig{Resolver: loopback{}}, MaxBodySize: -1}
	r := newRig(t, crawler.Config{Workers: 8, AllowDomains: []string{"*.test"}, IgnoreRobots: true, MaxDepth: 1, MaxPages: 50},
		scfg, metrics.Config{})
	if err := r.cr.Run(context.Background(), "http://seed.test:"+port+"/"); err != nil {
		t.Fatal(err)
	}
	if st := r.cr.Stats(); st.Hosts < nHosts {
		t.Fatalf("the crawl met %d hosts; want %d", st.Hosts, nHosts)
	}
	mfs := gather(t, r.reg)
	for name, mf := range mfs {
		if n := len(mf.Metric); n > 200 {
			t.Errorf("%s has %d series; want at most 200", name, n)
		}
	}
	if n := len(mfs["trawl_host_requests_total"].Metric); n != metrics.DefaultHosts+1 {
		t.Errorf("trawl_host_requests_total has %d series; want %d (top hosts + other)", n, metrics.DefaultHosts+1)
	}
	// The seed host has the most requests (the seed and its own links; the
	// other hosts one each): it is labelled.
	if v := value(mfs, "trawl_host_requests_total", "host", "seed.test:"+port); v < 2 {
		t.Errorf("seed host requests = %v; want at least 2", v)
	}
	total := value(mfs, "trawl_host_requests_total")
	if want := value(mfs, "trawl_requests_total"); total != want {
		t.Errorf("per-host requests sum to %v; want trawl_requests_total %v", total, want)
	}
}

// loopback resolves every name to 127.0.0.1.
type loopback struct{}

func (loopback) LookupIPAddr(context.Context, string) ([]net.IPAddr, error) {
	return []net.IPAddr{{IP: net.IPv4(127, 0, 0, 1)}}, nil
}

// countingFrontier counts Stats calls.
type countingFrontier struct {
	frontier.Frontier
	calls atomic.Int64
}

func (c *countingFrontier) Stats(ctx context.Context) (frontier.Stats, error) {
	c.calls.Add(1)
	return c.Frontier.Stats(ctx)
}

func TestFrontierReadsAreRateLimited(t *testing.T) {
	sess, err := session.New(session.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	fr := &countingFrontier{Frontier: memory.New(memory.Config{})}
	defer fr.Close()
	pl, _ := pipeline.New(pipeline.Config{})
	cr, err := crawler.New(crawler.Config{}, sess, fr, pl)
	if err != nil {
		t.Fatal(err)
	}
	if err := cr.Run(context.Background()); err != nil { // nothing to crawl: sets the parts up and returns
		t.Fatal(err)
	}
	fr.calls.Store(0) // Run's own reads
	now := time.Unix(1000, 0)
	col, err := metrics.New(metrics.Config{Crawler: cr, FrontierInterval: 5 * time.Second, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(col)
	for range 10 {
		if v := value(gather(t, reg), "trawl_frontier_queued"); v != 0 {
			t.Fatalf("queued = %v; want 0", v)
		}
	}
	if n := fr.calls.Load(); n != 1 {
		t.Errorf("10 scrapes within the interval read the frontier %d times; want 1", n)
	}
	fr.Push(context.Background(), frontier.Entry{URL: "http://a.test/"})
	now = now.Add(5 * time.Second)
	if v := value(gather(t, reg), "trawl_frontier_queued"); v != 1 {
		t.Errorf("queued after the interval = %v; want 1", v)
	}
	if n := fr.calls.Load(); n != 2 {
		t.Errorf("frontier reads after the interval = %d; want 2", n)
	}
}

func TestCodeLabel(t *testing.T) {
	for code, want := range map[int]string{200: "200", 404: "404", 429: "429", 218: "2xx", 599: "5xx", 0: "error", 999: "error"} {
		if got := metrics.CodeLabel(code); got != want {
			t.Errorf("CodeLabel(%d) = %q; want %q", code, got, want)
		}
	}
}

func TestNewNeedsCrawler(t *testing.T) {
	if _, err := metrics.New(metrics.Config{}); err == nil {
		t.Error("New without a crawler: no error")
	}
}

// BenchmarkLatencyTrace is the per-request cost of the timing hooks.
func BenchmarkLatencyTrace(b *testing.B) {
	tr := metrics.NewLatency(nil).Trace()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tr.ResponseHeaders(session.TraceResponse{StatusCode: 200, Elapsed: 3 * time.Millisecond})
			tr.RequestEnd(session.TraceRequestEnd{StatusCode: 200, Elapsed: 5 * time.Millisecond})
		}
	})
}

// BenchmarkSessionGet is one round trip through a session without and with
// the Latency trace: the difference is what metrics cost per request.
func BenchmarkSessionGet(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 2048)) }))
	defer srv.Close()
	for _, tc := range []struct {
		name   string
		traces []*session.Trace
	}{{"plain", nil}, {"metrics", []*session.Trace{metrics.NewLatency(nil).Trace()}}} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := session.New(session.Config{Traces: tc.traces})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				resp, err := s.Get(ctx, srv.URL)
				if err != nil {
					b.Fatal(err)
				}
				resp.Release()
			}
		})
	}
}

// TestSlowedHostMetrics: a host that answered 429 with Retry-After is
// exported as slowed, with its interval, the reason and the time left of
// its pause; the other host is not.
func TestSlowedHostMetrics(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer slow.Close()
	fast := newTestSite(t)
	const backoff = 250 * time.Millisecond
	r := newRig(t, crawler.Config{IgnoreRobots: true, HostBackoff: backoff, Retries: -1, MaxDepth: -1},
		session.Config{}, metrics.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.cr.Run(ctx, slow.URL+"/p", fast.URL+"/"); err != nil {
		t.Fatalf("Run: %v", err)
	}
	mfs := gather(t, r.reg)
	slowHost := strings.TrimPrefix(slow.URL, "http://")
	fastHost := strings.TrimPrefix(fast.URL, "http://")
	if got := value(mfs, "trawl_hosts_slowed"); got != 1 {
		t.Errorf("trawl_hosts_slowed = %v, want 1", got)
	}
	if got := value(mfs, "trawl_host_interval_seconds", "host", slowHost, "reason", "429"); got < backoff.Seconds() {
		t.Errorf("trawl_host_interval_seconds{host=%q,reason=429} = %v, want >= %v", slowHost, got, backoff.Seconds())
	}
	if got := value(mfs, "trawl_host_paused_seconds", "host", slowHost); got <= 0 || got > 30 {
		t.Errorf("trawl_host_paused_seconds{host=%q} = %v, want in (0, 30]", slowHost, got)
	}
	if got := value(mfs, "trawl_host_interval_seconds", "host", fastHost); got > 0 {
		t.Errorf("the fast host is exported as slowed: interval %v", got)
	}
	if got := value(mfs, "trawl_recrawl_pages_total"); got != -1 {
		t.Errorf("trawl_recrawl_pages_total = %v without a recrawl store, want no series", got)
	}
}

// TestRecrawlMetrics: the outcomes of a second pass over a site are counted
// per outcome, as the server answered them.
func TestRecrawlMetrics(t *testing.T) {
	var pass atomic.Int64
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := ""
		switch r.URL.Path {
		case "/":
			body = `<a href="/same1">a</a><a href="/same2">b</a><a href="/changes">c</a><a href="/plain">d</a><a href="/goes">e</a>`
		case "/same1", "/same2":
		case "/changes":
			body = fmt.Sprintf("version %d", pass.Load())
		case "/plain": // no validators: fetched in full, unchanged
			fmt.Fprint(w, "<html>plain</html>")
			return
		case "/goes":
			if pass.Load() > 1 {
				http.Error(w, "gone", http.StatusGone)
				return
			}
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("ETag", fmt.Sprintf(`"%x"`, len(r.URL.Path)*1000+len(body)+int(pass.Load())*btoi(r.URL.Path == "/changes")))
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader("<html>"+body+"</html>"))
	}))
	defer site.Close()
	store := new(recrawl.Memory)
	run := func() map[string]*dto.MetricFamily {
		pass.Add(1)
		r := newRig(t, crawler.Config{IgnoreRobots: true, Recrawl: store}, session.Config{}, metrics.Config{})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := r.cr.Run(ctx, site.URL+"/"); err != nil {
			t.Fatalf("Run: %v", err)
		}
		return gather(t, r.reg)
	}
	first := run()
	if got := value(first, "trawl_recrawl_pages_total", "outcome", "not_modified"); got != 0 {
		t.Errorf("pass 1: %v URLs not modified, want a series at 0", got)
	}
	second := run()
	for outcome, want := range map[string]float64{"not_modified": 3, "changed": 1, "unchanged": 1, "gone": 1, "fresh": 0} {
		if got := value(second, "trawl_recrawl_pages_total", "outcome", outcome); got != want {
			t.Errorf("pass 2: trawl_recrawl_pages_total{outcome=%q} = %v, want %v", outcome, got, want)
		}
	}
	if got := value(second, "trawl_recrawl_store_errors_total"); got != 0 {
		t.Errorf("trawl_recrawl_store_errors_total = %v, want 0", got)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
