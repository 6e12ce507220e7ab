package linkcheck_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/crawler/linkcheck"
	"github.com/trawlhq/trawl/frontier/memory"
	"github.com/trawlhq/trawl/session"
)

// world is a site with a known set of breakages and the hosts it links to.
// The site is http://127.0.0.1:PORT; the other hosts are names the
// session's resolver maps to loopback servers (or fails to resolve).
type world struct {
	site, off, tlsSrv *httptest.Server
	refusedAddr       string
	index, about      string // the pages' HTML

	mu   sync.Mutex
	hits map[string][]string // "host path" -> methods, in order
}

// hit records a request and returns how many came before it for the path.
func (w *world) hit(r *http.Request) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := hostname(r.Host) + " " + r.URL.Path
	n := len(w.hits[k])
	w.hits[k] = append(w.hits[k], r.Method)
	return n
}

func (w *world) methods(host, path string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.hits[host+" "+path]...)
}

func hostname(hostport string) string {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	return h
}

// resolver maps the test names to loopback.
type resolver struct{}

func (resolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	switch host {
	case "offsite.test", "blocked.test", "refused.test", "tls.test":
		return []net.IPAddr{{IP: net.IPv4(127, 0, 0, 1)}}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{hits: map[string][]string{}}
	w.off = httptest.NewServer(http.HandlerFunc(w.serveOff))
	t.Cleanup(w.off.Close)
	w.tlsSrv = httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		fmt.Fprint(rw, "never reached: the certificate is not trusted")
	}))
	w.tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake errors are the point
	w.tlsSrv.StartTLS()
	t.Cleanup(w.tlsSrv.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.refusedAddr = l.Addr().String()
	l.Close() // nothing listens there any more: connection refused
	w.site = httptest.NewServer(http.HandlerFunc(w.serveSite))
	t.Cleanup(w.site.Close)

	off := "http://offsite.test:" + port(w.off.URL)
	w.index = strings.Join([]string{
		`<!doctype html>`,
		`<html><head><title>Home</title>`,
		`<link rel="stylesheet" href="/css/missing.css">`,
		`<link rel="icon" href="/favicon.ico">`,
		`<script src="/js/missing.js"></script>`,
		`</head><body>`,
		`<a href="/about">About us</a>`,
		`<a href="/missing">Missing page</a>`,
		`<a href="/about#team">Team</a>`,
		`<a href="/about#history">History</a>`,
		`<a href="/about#nope">Nope</a>`,
		`<a href="/about#caf%C3%A9">Café</a>`,
		`<a href="#top">Top</a> <a href="#">Empty</a> <a href="#main">Main</a>`,
		`<a href="mailto:someone@example.com">Mail</a> <a href="javascript:void(0)">JS</a>`,
		`<a href="/moved">Moved</a>`,
		`<a href="/out">Out</a>`,
		`<a href="/excluded/x">Excluded</a>`,
		`<a href="` + off + `/ok">OK</a>`,
		`<a href="` + off + `/gone">Gone</a>`,
		`<a href="` + off + `/flaky">Flaky</a>`,
		`<a href="` + off + `/always429">Busy</a>`,
		`<a href="` + off + `/head405">Head 405</a>`,
		`<a href="` + off + `/headlies">Head lies</a>`,
		`<a href="` + off + `/loop1">Loop</a>`,
		`<a href="` + off + `/chain/0">Chain</a>`,
		`<a href="` + off + `/redir-broken">Redirect to nowhere</a>`,
		`<a href="` + off + `/redir-ok">Redirect OK</a>`,
		`<a href="` + off + `/forbidden">Forbidden</a>`,
		`<a href="` + off + `/err500">Server error</a>`,
		`<a href="` + off + `/slow">Slow</a>`,
		`<a href="http://nxdomain.test/">No such host</a>`,
		`<a href="http://refused.test:` + port("http://"+w.refusedAddr) + `/">Refused</a>`,
		`<a href="https://tls.test:` + port(w.tlsSrv.URL) + `/">Bad certificate</a>`,
		`<a href="http://blocked.test:` + port(w.off.URL) + `/private">Private</a>`,
		`<img src="/img/missing.png" alt="Logo">`,
		`<img src="/img/ok.png" srcset="/img/ok.png 1x, /img/missing2x.png 2x" alt="Photo">`,
		`<main id="main"></main>`,
		`</body></html>`,
	}, "\n")
	w.about = strings.Join([]string{
		`<!doctype html><title>About</title>`,
		`<h2 id="team">Team</h2>`,
		`<a name="history"></a><p id="café">Café</p>`,
		`<a href="/missing">Missing
		again</a>`,
		`<a href="` + off + `/gone"><img src="/img/ok.png" alt="Gone too"></a>`,
		`<a href="/">Home</a>`,
	}, "\n")
	return w
}

func port(u string) string {
	i := strings.LastIndexByte(u, ':')
	return u[i+1:]
}

func (w *world) serveSite(rw http.ResponseWriter, r *http.Request) {
	w.hit(r)
	switch r.URL.Path {
	case "/robots.txt":
		fmt.Fprint(rw, "User-agent: *\nDisallow:\n")
	case "/":
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(rw, w.index)
	case "/about":
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(rw, w.about)
	case "/moved":
		http.Redirect(rw, r, "/about", http.StatusMovedPermanently)
	case "/out":
		http.Redirect(rw, r, "http://offsite.test:"+port(w.off.URL)+"/landing", http.StatusMovedPermanently)
	case "/img/ok.png", "/favicon.ico":
		rw.Header().Set("Content-Type", "image/png")
		fmt.Fprint(rw, "\x89PNG")
	default:
		http.NotFound(rw, r)
	}
}

func (w *world) serveOff(rw http.ResponseWriter, r *http.Request) {
	n := w.hit(r)
	if hostname(r.Host) == "blocked.test" {
		if r.URL.Path == "/robots.txt" {
			fmt.Fprint(rw, "User-agent: *\nDisallow: /private\n")
			return
		}
		fmt.Fprint(rw, "fetched against robots.txt")
		return
	}
	switch p := r.URL.Path; {
	case p == "/robots.txt":
		fmt.Fprint(rw, "User-agent: *\nAllow: /\n")
	case p == "/ok", p == "/landing", p == "/landing2":
		fmt.Fprint(rw, "ok")
	case p == "/gone":
		http.Error(rw, "gone", http.StatusGone)
	case p == "/flaky":
		if n == 0 {
			rw.Header().Set("Retry-After", "1")
			http.Error(rw, "slow down", http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(rw, "ok now")
	case p == "/always429":
		rw.Header().Set("Retry-After", "0")
		http.Error(rw, "slow down", http.StatusTooManyRequests)
	case p == "/head405":
		if r.Method == http.MethodHead {
			http.Error(rw, "no HEAD here", http.StatusMethodNotAllowed)
			return
		}
		fmt.Fprint(rw, "ok by GET")
	case p == "/headlies":
		if r.Method == http.MethodHead {
			http.NotFound(rw, r)
			return
		}
		fmt.Fprint(rw, "ok by GET")
	case p == "/loop1":
		http.Redirect(rw, r, "/loop2", http.StatusFound)
	case p == "/loop2":
		http.Redirect(rw, r, "/loop1", http.StatusFound)
	case strings.HasPrefix(p, "/chain/"):
		var i int
		fmt.Sscanf(p, "/chain/%d", &i)
		http.Redirect(rw, r, fmt.Sprintf("/chain/%d", i+1), http.StatusFound)
	case p == "/redir-broken":
		http.Redirect(rw, r, "/nowhere", http.StatusFound)
	case p == "/redir-ok":
		http.Redirect(rw, r, "/landing2", http.StatusMovedPermanently)
	case p == "/forbidden":
		http.Error(rw, "forbidden", http.StatusForbidden)
	case p == "/err500":
		http.Error(rw, "oops", http.StatusInternalServerError)
	case p == "/slow":
		<-r.Context().Done() // answers after the client gave up
	default:
		http.NotFound(rw, r)
	}
}

// lineOf returns the line of the first occurrence of snippet in doc.
func lineOf(t *testing.T, doc, snippet string) int {
	t.Helper()
	i := strings.Index(doc, snippet)
	if i < 0 {
		t.Fatalf("%q not in the page", snippet)
	}
	return strings.Count(doc[:i], "\n") + 1
}

// newChecker builds a checker for the world with fast retries.
func newChecker(t *testing.T, cfg linkcheck.Config) *linkcheck.Checker {
	t.Helper()
	sess, err := session.New(session.Config{
		ConnectorConfig: session.ConnectorConfig{Resolver: resolver{}, LimitPerHost: 4},
		Timeouts:        session.Timeouts{SockRead: 300 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	front := memory.New(memory.Config{})
	t.Cleanup(func() { front.Close() })
	if cfg.Crawl.Workers == 0 {
		cfg.Crawl.Workers = 4
	}
	cfg.Crawl.PerHost = 4
	cfg.Crawl.Retries = 1
	cfg.Crawl.RetryBackoff = time.Millisecond
	cfg.Crawl.MaxBackoff = time.Millisecond
	c, err := linkcheck.New(cfg, sess, front)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type want struct {
	kind    linkcheck.Kind
	status  int
	errHas  string
	sources []linkcheck.Source
}

// TestBrokenLinksExactly checks the world: every broken target with all
// its sources, nothing else broken, the skipped one skipped, and the cases
// that must not be reported OK.
func TestBrokenLinksExactly(t *testing.T) {
	w := newWorld(t)
	c := newChecker(t, linkcheck.Config{
		Accept: []int{403},
		Crawl:  crawler.Config{Exclude: []*regexp.Regexp{regexp.MustCompile(`/excluded/`)}},
	})
	rep, err := c.Run(context.Background(), w.site.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	site := w.site.URL
	off := "http://offsite.test:" + port(w.off.URL)
	home := site + "/"
	src := func(tag, attr, text, snippet string) linkcheck.Source {
		return linkcheck.Source{Page: home, Tag: tag, Attr: attr, Text: text, Line: lineOf(t, w.index, snippet)}
	}
	aboutSrc := func(tag, attr, text, snippet string) linkcheck.Source {
		return linkcheck.Source{Page: site + "/about", Tag: tag, Attr: attr, Text: text, Line: lineOf(t, w.about, snippet)}
	}
	wantBroken := map[string]want{
		site + "/missing": {linkcheck.KindPage, 404, "status 404", []linkcheck.Source{
			src("a", "href", "Missing page", `href="/missing"`),
			aboutSrc("a", "href", "Missing again", `href="/missing"`),
		}},
		site + "/about#nope":        {linkcheck.KindFragment, 200, `no element with id or name "nope"`, []linkcheck.Source{src("a", "href", "Nope", `#nope`)}},
		site + "/css/missing.css":   {linkcheck.KindAsset, 404, "status 404", []linkcheck.Source{src("link", "href", "", `missing.css`)}},
		site + "/js/missing.js":     {linkcheck.KindAsset, 404, "status 404", []linkcheck.Source{src("script", "src", "", `missing.js`)}},
		site + "/img/missing.png":   {linkcheck.KindAsset, 404, "status 404", []linkcheck.Source{src("img", "src", "Logo", `missing.png`)}},
		site + "/img/missing2x.png": {linkcheck.KindAsset, 404, "status 404", []linkcheck.Source{src("img", "srcset", "Photo", `missing2x.png`)}},
		off + "/gone":               {linkcheck.KindLink, 410, "status 410", []linkcheck.Source{src("a", "href", "Gone", `/gone"`), aboutSrc("a", "href", "Gone too", `/gone"`)}},
		off + "/always429":          {linkcheck.KindLink, 429, "status 429", []linkcheck.Source{src("a", "href", "Busy", `/always429`)}},
		off + "/loop1":              {linkcheck.KindLink, 0, "redirect loop", []linkcheck.Source{src("a", "href", "Loop", `/loop1`)}},
		off + "/chain/0":            {linkcheck.KindLink, 0, "too many redirects", []linkcheck.Source{src("a", "href", "Chain", `/chain/0`)}},
		off + "/redir-broken":       {linkcheck.KindLink, 404, "after redirects to " + off + "/nowhere", []linkcheck.Source{src("a", "href", "Redirect to nowhere", `/redir-broken`)}},
		off + "/err500":             {linkcheck.KindLink, 500, "status 500", []linkcheck.Source{src("a", "href", "Server error", `/err500`)}},
		off + "/slow":               {linkcheck.KindLink, 0, "timeout", []linkcheck.Source{src("a", "href", "Slow", `/slow`)}},
		"http://nxdomain.test/":     {linkcheck.KindLink, 0, "no such host", []linkcheck.Source{src("a", "href", "No such host", `nxdomain.test`)}},
		"http://" + "refused.test:" + port("http://"+w.refusedAddr) + "/": {linkcheck.KindLink, 0, "refused", []linkcheck.Source{src("a", "href", "Refused", `refused.test`)}},
		"https://tls.test:" + port(w.tlsSrv.URL) + "/":                    {linkcheck.KindLink, 0, "certificate", []linkcheck.Source{src("a", "href", "Bad certificate", `tls.test`)}},
	}
	got := map[string]*linkcheck.Target{}
	for _, tg := range rep.Broken() {
		got[tg.URL] = tg
	}
	for u, wt := range wantBroken {
		tg := got[u]
		if tg == nil {
			t.Errorf("%s: not reported broken", u)
			continue
		}
		if tg.Kind != wt.kind || tg.Status != wt.status || !strings.Contains(tg.Error, wt.errHas) {
			t.Errorf("%s: kind %s status %d error %q; want kind %s status %d error containing %q",
				u, tg.Kind, tg.Status, tg.Error, wt.kind, wt.status, wt.errHas)
		}
		gs, ws := sortSources(tg.Sources), sortSources(wt.sources)
		if fmt.Sprint(gs) != fmt.Sprint(ws) {
			t.Errorf("%s: sources\n got %+v\nwant %+v", u, gs, ws)
		}
	}
	for u, tg := range got {
		if _, ok := wantBroken[u]; !ok {
			t.Errorf("false positive: %s reported broken (%s %d %q)", u, tg.Kind, tg.Status, tg.Error)
		}
	}

	// Skipped: robots.txt of the target host, with the reason; never fetched.
	skipped := rep.Skipped()
	if len(skipped) != 1 || skipped[0].URL != "http://blocked.test:"+port(w.off.URL)+"/private" ||
		!strings.Contains(skipped[0].Skipped, "robots") {
		t.Errorf("skipped = %+v, want only blocked.test/private, by robots.txt", skipped)
	}
	if m := w.methods("blocked.test", "/private"); len(m) != 0 {
		t.Errorf("blocked.test/private fetched against robots.txt: %v", m)
	}

	// Must not be reported, and must be OK.
	byURL := map[string]*linkcheck.Target{}
	for _, tg := range rep.Targets {
		byURL[tg.URL] = tg
	}
	for _, u := range []string{
		site + "/about", site + "/about#team", site + "/about#history", site + "/about#caf%C3%A9", site + "/#main",
		site + "/moved", site + "/out", site + "/img/ok.png", site + "/favicon.ico",
		off + "/ok", off + "/flaky", off + "/head405", off + "/headlies", off + "/redir-ok", off + "/forbidden",
	} {
		tg := byURL[u]
		if tg == nil || !tg.OK {
			t.Errorf("%s: want OK, got %+v", u, tg)
		}
	}
	if tg := byURL[site+"/moved"]; tg != nil && (len(tg.Redirects) != 1 || tg.Redirects[0] != site+"/about") {
		t.Errorf("/moved redirects = %v, want [%s/about]", tg.Redirects, site)
	}
	if tg := byURL[off+"/redir-ok"]; tg != nil && fmt.Sprint(tg.Redirects) != "["+off+"/landing2]" {
		t.Errorf("/redir-ok redirects = %v", tg.Redirects)
	}
	for u := range byURL {
		if strings.Contains(u, "mailto") || strings.Contains(u, "javascript") || strings.Contains(u, "excluded") ||
			strings.HasSuffix(u, "#top") || strings.HasSuffix(u, "#") {
			t.Errorf("%s should not be a target", u)
		}
	}
	if m := w.methods("127.0.0.1", "/excluded/x"); len(m) != 0 {
		t.Errorf("excluded URL requested: %v", m)
	}

	// HEAD first; GET only when HEAD fails; one check per target however
	// many pages link to it.
	for _, c := range []struct {
		path string
		want string
	}{
		{"/ok", "[HEAD]"},
		{"/gone", "[HEAD GET]"}, // two pages link to it
		{"/head405", "[HEAD GET]"},
		{"/flaky", "[HEAD HEAD]"}, // 429, Retry-After: 1, then 200
		{"/always429", "[HEAD HEAD GET GET]"},
	} {
		if got := fmt.Sprint(w.methods("offsite.test", c.path)); got != c.want {
			t.Errorf("%s requests: %s, want %s", c.path, got, c.want)
		}
	}
	if stats := c.Stats(); stats.Broken != int64(len(wantBroken)) || stats.Skipped != 1 {
		t.Errorf("stats = %+v, want %d broken, 1 skipped", stats, len(wantBroken))
	}
}

func sortSources(s []linkcheck.Source) []linkcheck.Source {
	s = append([]linkcheck.Source(nil), s...)
	sort.Slice(s, func(i, j int) bool {
		if s[i].Page != s[j].Page {
			return s[i].Page < s[j].Page
		}
		return s[i].Line < s[j].Line
	})
	return s
}

// TestCleanSite finds nothing broken on a site without breakage.
func TestCleanSite(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			fmt.Fprint(rw, `<a href="/a#x">A</a><img src="/i.png" srcset="/i.png 2x"><a href="mailto:a@b.c">m</a>`)
		case "/a":
			fmt.Fprint(rw, `<h1 id="x">A</h1><a href="/">home</a><a href="#top">top</a>`)
		case "/i.png":
			rw.Header().Set("Content-Type", "image/png")
		default:
			http.NotFound(rw, r)
		}
	}))
	defer site.Close()
	c := newChecker(t, linkcheck.Config{})
	rep, err := c.Run(context.Background(), site.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	if b := rep.Broken(); len(b) != 0 {
		t.Errorf("broken on a clean site: %+v", b[0])
	}
	if len(rep.Targets) != 4 || len(rep.Pages) != 2 {
		t.Errorf("%d targets, %d pages; want 4 (/, /a, /a#x, /i.png), 2", len(rep.Targets), len(rep.Pages))
	}
}

// TestInterrupted returns the report with what was not checked skipped.
func TestInterrupted(t *testing.T) {
	block := make(chan struct{})
	site := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			rw.Header().Set("Content-Type", "text/html")
			fmt.Fprint(rw, `<img src="/slow.png">`)
		case "/slow.png":
			<-block
		}
	}))
	defer site.Close()
	defer close(block)
	c := newChecker(t, linkcheck.Config{Crawl: crawler.Config{GracePeriod: -1}})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for c.Stats().Pages == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	rep, err := c.Run(ctx, site.URL+"/")
	if !errors.Is(err, context.Canceled) || rep == nil || !rep.Interrupted {
		t.Fatalf("Run = %v, %v; want the report and context.Canceled", rep, err)
	}
}

// TestOffSiteLimitsAndDedup checks 40 distinct assets of another host,
// each referenced from two pages: each is checked once, with at most
// PerHost requests in flight to that host, by a fixed pool.
func TestOffSiteLimitsAndDedup(t *testing.T) {
	var inFlight, maxInFlight atomic.Int64
	var mu sync.Mutex
	hits := map[string]int{}
	off := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(rw, r)
			return
		}
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
		}
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		time.Sleep(5 * time.Millisecond) // hold the request so that they overlap
	}))
	defer off.Close()
	var imgs strings.Builder
	for i := range 40 {
		fmt.Fprintf(&imgs, "<img src=\"http://offsite.test:%s/i/%d.png\">\n", port(off.URL), i)
	}
	site := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/":
			fmt.Fprint(rw, `<a href="/b">b</a>`+imgs.String())
		case "/b":
			fmt.Fprint(rw, imgs.String())
		}
	}))
	defer site.Close()
	c := newChecker(t, linkcheck.Config{Checkers: 16, KeepOKSources: true}) // PerHost is 4
	rep, err := c.Run(context.Background(), site.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Broken()) != 0 || len(rep.Targets) != 42 {
		t.Fatalf("%d targets, %d broken; want 42, 0", len(rep.Targets), len(rep.Broken()))
	}
	for _, tg := range rep.Targets {
		if tg.Kind == linkcheck.KindAsset && len(tg.Sources) != 2 {
			t.Errorf("%s: %d sources, want 2", tg.URL, len(tg.Sources))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for p, n := range hits {
		if n != 1 {
			t.Errorf("%s requested %d times", p, n)
		}
	}
	if len(hits) != 40 {
		t.Errorf("%d assets requested, want 40", len(hits))
	}
	if m := maxInFlight.Load(); m > 4 {
		t.Errorf("at most %d requests in flight to the other host; want at most 4 (PerHost)", m)
	}
}

// TestMaxSources caps the listed sources and counts the others.
func TestMaxSources(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html")
		if r.URL.Path == "/" {
			fmt.Fprint(rw, strings.Repeat("<a href=\"/gone\">x</a>\n", 7))
			return
		}
		http.NotFound(rw, r)
	}))
	defer site.Close()
	c := newChecker(t, linkcheck.Config{MaxSources: 3})
	rep, err := c.Run(context.Background(), site.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	b := rep.Broken()
	if len(b) != 1 || len(b[0].Sources) != 3 || b[0].MoreSources != 4 || b[0].References() != 7 {
		t.Fatalf("broken = %+v; want /gone with 3 sources and 4 more", b)
	}
}
