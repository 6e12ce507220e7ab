package crawler

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawlhq/trawl/crawler/recrawl"
	"github.com/trawlhq/trawl/frontier/memory"
	"github.com/trawlhq/trawl/pipeline"
)

// versionedSite serves pages with validators and honours conditional
// requests through http.ServeContent (RFC 9110 §13.2 evaluation).
type versionedSite struct {
	*site
	mu      sync.Mutex
	pages   map[string]*vpage
	conds   map[string]string // path -> the If-None-Match of its last request
	bodies  map[string]int    // path -> 200 responses with a body
	headers map[string]string // path -> extra Cache-Control
}

type vpage struct {
	version int
	links   []string
	gone    int // 404 or 410 when set
}

func newVersionedSite(t *testing.T) *versionedSite {
	vs := &versionedSite{pages: map[string]*vpage{}, conds: map[string]string{}, bodies: map[string]int{}, headers: map[string]string{}}
	vs.site = newSite(t, vs.handle)
	return vs
}

func (vs *versionedSite) set(path string, links ...string) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	p := vs.pages[path]
	if p == nil {
		p = &vpage{}
		vs.pages[path] = p
	}
	p.version++
	p.links = links
	p.gone = 0
}

func (vs *versionedSite) remove(path string, status int) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	vs.pages[path].gone = status
}

func (vs *versionedSite) reset() {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	clear(vs.conds)
	clear(vs.bodies)
}

func (vs *versionedSite) handle(w http.ResponseWriter, r *http.Request) {
	vs.mu.Lock()
	p := vs.pages[r.URL.Path]
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		vs.conds[r.URL.Path] = inm
	}
	if p == nil || p.gone != 0 {
		vs.mu.Unlock()
		status := http.StatusNotFound
		if p != nil {
			status = p.gone
		}
		http.Error(w, "gone", status)
		return
	}
	version, links := p.version, append([]string(nil), p.links...)
	cc := vs.headers[r.URL.Path]
	vs.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html><title>%s v%d</title>", r.URL.Path, version)
	for _, l := range links {
		fmt.Fprintf(&b, "<a href=%q>x</a>", l)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("ETag", fmt.Sprintf(`"%s-%d"`, strings.Trim(r.URL.Path, "/"), version))
	if cc != "" {
		w.Header().Set("Cache-Control", cc)
	}
	modified := time.Date(2026, 1, 1, 0, 0, version, 0, time.UTC)
	rec := &statusRecorder{ResponseWriter: w}
	http.ServeContent(rec, r, "", modified, strings.NewReader(b.String()))
	if rec.status == http.StatusOK {
		vs.mu.Lock()
		vs.bodies[r.URL.Path]++
		vs.mu.Unlock()
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// pass runs one crawl pass over the site with store, on a fresh frontier.
func recrawlPass(t *testing.T, cfg Config, seed string, stages ...pipeline.Stage) (*rig, map[string]pipeline.Record) {
	t.Helper()
	r := newRig(t, cfg, sessionConfig(), stages...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := r.c.Run(ctx, seed); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return r, r.col.byURL(t)
}

func TestRecrawl(t *testing.T) {
	vs := newVersionedSite(t)
	vs.set("/", "/a", "/b", "/c", "/ns")
	vs.set("/a", "/d")
	vs.set("/b")
	vs.set("/c")
	vs.set("/d")
	vs.set("/ns")
	vs.headers["/ns"] = "no-store"
	store := new(recrawl.Memory)
	cfg := Config{IgnoreRobots: true, Recrawl: store, Revisit: true}
	u := func(p string) string { return vs.URL + p }

	_, recs := recrawlPass(t, cfg, u("/"))
	if len(recs) != 6 {
		t.Fatalf("pass 1: %d records, want 6: %v", len(recs), recs)
	}
	for _, r := range recs {
		if r.Status != 200 || r.NotModified || r.Changed != nil || r.Gone {
			t.Errorf("pass 1: %s: status %d not_modified %v changed %v gone %v; want a plain 200", r.URL, r.Status, r.NotModified, r.Changed, r.Gone)
		}
	}
	if n, err := store.Len(context.Background()); err != nil || n != 5 {
		t.Errorf("store holds %d pages (%v), want 5 (the no-store page not kept)", n, err)
	}

	// Change /b; /d now links a new page /e (reached only through the
	// unchanged /a); /c is gone.
	vs.set("/b")
	vs.set("/d", "/e")
	vs.set("/e")
	vs.remove("/c", http.StatusGone)
	vs.reset()
	r2, recs := recrawlPass(t, cfg, u("/"))
	want := map[string]string{
		"/": "304", "/a": "304", "/b": "changed", "/c": "gone", "/d": "changed", "/e": "new", "/ns": "new",
	}
	if len(recs) != len(want) {
		t.Errorf("pass 2: %d records, want %d", len(recs), len(want))
	}
	for path, what := range want {
		r, ok := recs[u(path)]
		if !ok {
			t.Errorf("pass 2: no record for %s", path)
			continue
		}
		got := "new"
		switch {
		case r.NotModified && r.Status == 304:
			got = "304"
		case r.Gone && r.Status == 410:
			got = "gone"
		case r.Changed != nil && *r.Changed:
			got = "changed"
		case r.Changed != nil:
			got = "unchanged"
		}
		if got != what {
			t.Errorf("pass 2: %s is %s (status %d, not_modified %v, changed %v, gone %v), want %s",
				path, got, r.Status, r.NotModified, r.Changed, r.Gone, what)
		}
	}
	// A 304 record carries the stored title and links.
	if r := recs[u("/a")]; r.Title != "/a v1" || len(r.Links) != 1 || r.Links[0] != u("/d") || r.Changed == nil || *r.Changed {
		t.Errorf("pass 2: /a record = title %q links %v changed %v; want the stored title and links, changed false", r.Title, r.Links, r.Changed)
	}
	vs.mu.Lock()
	for _, path := range []string{"/", "/a", "/b", "/d"} {
		if vs.conds[path] == "" {
			t.Errorf("pass 2: %s was not requested with If-None-Match", path)
		}
	}
	if c := vs.conds["/ns"]; c != "" {
		t.Errorf("pass 2: the no-store page was requested with If-None-Match %q", c)
	}
	if vs.bodies["/"] != 0 || vs.bodies["/a"] != 0 {
		t.Errorf("pass 2: bodies sent for unchanged pages: %v", vs.bodies)
	}
	vs.mu.Unlock()
	st := r2.c.Stats()
	if st.NotModified != 2 || st.Changed != 2 || st.Gone != 1 {
		t.Errorf("pass 2 stats: not_modified %d changed %d gone %d; want 2, 2, 1", st.NotModified, st.Changed, st.Gone)
	}
	if p, _ := store.Load(context.Background(), u("/c")); p != nil {
		t.Errorf("the gone page is still stored")
	}

	// Pass 3 with MaxAge: everything known was fetched just now, so only
	// the no-store page (unknown) and a page whose server says max-age=0
	// are fetched.
	vs.set("/b")
	vs.headers["/b"] = "max-age=0"
	vs.reset()
	cfg.MaxAge = time.Hour
	r3, recs := recrawlPass(t, cfg, u("/"))
	if len(recs) != 0 {
		// /b was stored without max-age=0 in pass 2: it is fresh by MaxAge too.
		for _, r := range recs {
			// /ns is not stored (no-store) and /c was forgotten when it
			// was gone, but / still links both.
			if !strings.HasSuffix(r.URL, "/ns") && !strings.HasSuffix(r.URL, "/c") {
				t.Errorf("pass 3: fresh page %s fetched", r.URL)
			}
		}
	}
	if st := r3.c.Stats(); st.Fresh != 5 {
		t.Errorf("pass 3: %d pages left fresh, want 5 (/, /a, /b, /d, /e)", st.Fresh)
	}
	if _, ok := recs[u("/ns")]; !ok {
		t.Errorf("pass 3: the no-store page, linked from a fresh page, was not reached")
	}

	// Pass 4 without MaxAge: /b changed and now says max-age=0; pass 5 with
	// MaxAge fetches it again because its server says it is stale.
	cfg.MaxAge = 0
	vs.reset()
	_, recs = recrawlPass(t, cfg, u("/"))
	if r := recs[u("/b")]; r.Changed == nil || !*r.Changed {
		t.Errorf("pass 4: /b changed = %v, want true", r.Changed)
	}
	cfg.MaxAge = time.Hour
	vs.reset()
	_, recs = recrawlPass(t, cfg, u("/"))
	if r, ok := recs[u("/b")]; !ok || !r.NotModified {
		t.Errorf("pass 5: /b (max-age=0) not revalidated despite MaxAge: %+v", r)
	}
	if _, ok := recs[u("/a")]; ok {
		t.Errorf("pass 5: /a fetched though fresh")
	}
}

// TestRecrawlNoRevisit: without Revisit a known URL no longer linked is
// not fetched; with it, it is (and found gone).
func TestRecrawlRevisitUnlinked(t *testing.T) {
	vs := newVersionedSite(t)
	vs.set("/", "/old")
	vs.set("/old")
	store := new(recrawl.Memory)
	u := func(p string) string { return vs.URL + p }
	recrawlPass(t, Config{IgnoreRobots: true, Recrawl: store}, u("/"))
	vs.set("/")
	vs.remove("/old", http.StatusNotFound)
	_, recs := recrawlPass(t, Config{IgnoreRobots: true, Recrawl: store}, u("/"))
	if _, ok := recs[u("/old")]; ok {
		t.Errorf("without Revisit the unlinked known page was fetched")
	}
	_, recs = recrawlPass(t, Config{IgnoreRobots: true, Recrawl: store, Revisit: true}, u("/"))
	if r, ok := recs[u("/old")]; !ok || !r.Gone || r.Status != 404 {
		t.Errorf("with Revisit the unlinked known page: %+v (present %v), want gone 404", r, ok)
	}
}

// TestRecrawlSitemapLastmod: a sitemap read after the last fetch whose
// <lastmod> is not newer leaves the page unfetched; a newer one fetches it.
func TestRecrawlSitemapLastmod(t *testing.T) {
	vs := newVersionedSite(t)
	vs.set("/", "/a", "/b")
	vs.set("/a")
	vs.set("/b")
	var mu sync.Mutex
	lastmod := map[string]string{}
	inner := vs.site.handle
	vs.site.handle = func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/sitemap.xml" {
			inner(w, r)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprint(w, `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
		for _, p := range []string{"/a", "/b"} {
			fmt.Fprintf(w, "<url><loc>%s%s</loc><lastmod>%s</lastmod></url>", vs.URL, p, lastmod[p])
		}
		fmt.Fprint(w, "</urlset>")
	}
	mu.Lock()
	lastmod["/a"], lastmod["/b"] = "2020-01-01", "2020-01-01"
	mu.Unlock()
	store := new(recrawl.Memory)
	u := func(p string) string { return vs.URL + p }
	// One request at a time: the sitemap (queued right after the seed,
	// before the known URLs) is read before /a and /b are leased.
	cfg := Config{IgnoreRobots: true, Recrawl: store, Revisit: true, Sitemaps: true, PerHost: 1}
	recrawlPass(t, cfg, u("/"))
	// Pass 2 reads the sitemap again (it is not stored): /a's lastmod is
	// old, /b's is in the future of its last fetch.
	mu.Lock()
	lastmod["/b"] = time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	mu.Unlock()
	vs.reset()
	r, recs := recrawlPass(t, cfg, u("/"))
	if _, ok := recs[u("/a")]; ok {
		t.Errorf("/a fetched though the sitemap's lastmod is older than its last fetch")
	}
	if _, ok := recs[u("/b")]; !ok {
		t.Errorf("/b not fetched though the sitemap's lastmod is newer than its last fetch")
	}
	if r.c.Stats().Fresh < 1 {
		t.Errorf("Stats.Fresh = %d, want >= 1", r.c.Stats().Fresh)
	}
}

// TestRecrawlBeforeRequestSeesConditionals: the hook sees the conditional
// headers and may drop them.
func TestRecrawlBeforeRequestSeesConditionals(t *testing.T) {
	vs := newVersionedSite(t)
	vs.set("/")
	store := new(recrawl.Memory)
	u := vs.URL + "/"
	recrawlPass(t, Config{IgnoreRobots: true, Recrawl: store}, u)
	var seen string
	_, recs := recrawlPass(t, Config{IgnoreRobots: true, Recrawl: store, BeforeRequest: func(_ context.Context, r *Request) error {
		seen = r.Header.Get("If-None-Match")
		r.Header.Del("If-None-Match")
		r.Header.Del("If-Modified-Since")
		return nil
	}}, u)
	if seen != `"-1"` {
		t.Errorf("BeforeRequest saw If-None-Match %q, want %q", seen, `"-1"`)
	}
	if r := recs[u]; r.Status != 200 || r.NotModified || r.Changed == nil || *r.Changed {
		t.Errorf("unconditional refetch of an unchanged page: status %d not_modified %v changed %v; want 200, false, false", r.Status, r.NotModified, r.Changed)
	}
}

var _ = memory.New

// TestRecrawlFollowSeesStoredLinks: on a 304 the Follow hook gets the
// stored links as the page's fetch gave them (tag, attribute, rel, anchor
// text), so a rule that reads them follows the same links in every pass
// and the crawl still reaches the pages behind unchanged ones.
func TestRecrawlFollowSeesStoredLinks(t *testing.T) {
	pages := map[string]string{
		"/":      `<a href="/keep" rel="author">Keep  me</a> <a href="/skip">Skip me</a> <iframe src="/frame"></iframe>`,
		"/keep":  `<map><area href="/deep" alt="Deeper"></map>`,
		"/skip":  ``,
		"/frame": ``,
		"/deep":  ``,
	}
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("ETag", `"`+strings.Trim(r.URL.Path, "/")+`-1"`)
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader("<!doctype html><title>t</title>"+body))
	})
	type call struct{ from, url, tag, attr, rel, text string }
	var mu sync.Mutex
	var calls []call
	follow := func(from *pipeline.Page, l pipeline.Link) bool {
		mu.Lock()
		calls = append(calls, call{strings.TrimPrefix(from.URL, s.URL), strings.TrimPrefix(l.URL, s.URL), l.Tag, l.Attr, l.Rel, l.Text})
		mu.Unlock()
		return l.Tag == "a" && l.Text != "Skip me" || l.Tag == "iframe" || l.Tag == "area" && l.Text == "Deeper"
	}
	store := new(recrawl.Memory)
	pass := func() ([]call, map[string]pipeline.Record) {
		calls = nil
		_, recs := recrawlPass(t, Config{IgnoreRobots: true, Recrawl: store, Follow: follow}, s.URL+"/")
		mu.Lock()
		defer mu.Unlock()
		out := slices.Clone(calls)
		slices.SortFunc(out, func(a, b call) int { return strings.Compare(a.from+" "+a.url, b.from+" "+b.url) })
		return out, recs
	}
	first, recs1 := pass()
	want := []call{
		{"/", "/frame", "iframe", "src", "", ""},
		{"/", "/keep", "a", "href", "author", "Keep me"},
		{"/", "/skip", "a", "href", "", "Skip me"},
		{"/keep", "/deep", "area", "href", "", "Deeper"},
	}
	if !slices.Equal(first, want) {
		t.Fatalf("pass 1: Follow calls %+v, want %+v", first, want)
	}
	second, recs2 := pass()
	if !slices.Equal(second, first) {
		t.Errorf("pass 2: Follow calls %+v, want those of pass 1 %+v", second, first)
	}
	for _, recs := range []map[string]pipeline.Record{recs1, recs2} {
		if _, ok := recs[s.URL+"/skip"]; ok {
			t.Errorf("/skip was fetched")
		}
	}
	for _, p := range []string{"/", "/keep", "/frame", "/deep"} {
		if r, ok := recs2[s.URL+p]; !ok || !r.NotModified {
			t.Errorf("pass 2: %s: %+v (present %v), want a 304 record", p, r, ok)
		}
	}

	// Without a Follow rule nothing reads anchor texts: they are not
	// stored (they would nearly double a page), the rest of the link is.
	bare := new(recrawl.Memory)
	recrawlPass(t, Config{IgnoreRobots: true, Recrawl: bare}, s.URL+"/")
	p, err := bare.Load(context.Background(), s.URL+"/")
	if err != nil || p == nil {
		t.Fatalf("Load: %v, %v", p, err)
	}
	if len(p.Links) != 3 || p.Links[0].Text != "" || p.Links[0].Tag != "a" || p.Links[0].Rel != "author" || p.Links[2].Tag != "iframe" {
		t.Errorf("stored links without Follow: %+v, want tag and rel without text", p.Links)
	}
}

// TestRecrawlData: a 304's record carries the data the page's last full
// response gave the stages; a pass with another DataVersion fetches known
// pages in full (no conditional request) so that its stages see them.
func TestRecrawlData(t *testing.T) {
	pages := map[string]string{
		"/":  `<h1>Home</h1><a href="/a">a</a><a href="/b">b</a>`,
		"/a": `<h1>Page A</h1><span class=price>1.50</span>`,
		"/b": `<h1>Page B</h1><span class=price>2.50</span><span class=price>3</span>`,
	}
	var mu sync.Mutex
	conds := 0
	ignore := false // answer 200 whatever the request's validators
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("If-None-Match") != "" {
			mu.Lock()
			conds++
			if ignore {
				r.Header.Del("If-None-Match")
			}
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("ETag", `"`+strings.Trim(r.URL.Path, "/")+`"`)
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader("<!doctype html><title>t</title>"+body))
	})
	store := new(recrawl.Memory)
	pass := func(version string, fields map[string]string) (map[string]pipeline.Record, int) {
		t.Helper()
		sel, err := pipeline.Select(fields)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		conds = 0
		mu.Unlock()
		_, recs := recrawlPass(t, Config{IgnoreRobots: true, Recrawl: store, DataVersion: version}, s.URL+"/", sel)
		mu.Lock()
		defer mu.Unlock()
		return recs, conds
	}
	v1 := map[string]string{"heading": "h1", "price": ".price"}
	want1 := map[string]map[string][]string{
		"/":  {"heading": {"Home"}, "price": {}},
		"/a": {"heading": {"Page A"}, "price": {"1.50"}},
		"/b": {"heading": {"Page B"}, "price": {"2.50", "3"}},
	}
	check := func(name string, recs map[string]pipeline.Record, notModified bool, want map[string]map[string][]string) {
		t.Helper()
		for p, w := range want {
			r, ok := recs[s.URL+p]
			if !ok {
				t.Errorf("%s: no record of %s", name, p)
				continue
			}
			if r.NotModified != notModified {
				t.Errorf("%s: %s not_modified %v, want %v", name, p, r.NotModified, notModified)
			}
			if fmt.Sprint(r.Data) != fmt.Sprint(w) {
				t.Errorf("%s: %s data %v, want %v", name, p, r.Data, w)
			}
		}
	}
	recs, _ := pass("v1", v1)
	check("pass 1", recs, false, want1)
	recs, n := pass("v1", v1)
	if n != 3 {
		t.Errorf("pass 2: %d conditional requests, want 3", n)
	}
	check("pass 2 (304s)", recs, true, want1)

	// Another extraction: full fetches, the new data, stored for the next pass.
	v2 := map[string]string{"price": ".price"}
	want2 := map[string]map[string][]string{"/": {"price": {}}, "/a": {"price": {"1.50"}}, "/b": {"price": {"2.50", "3"}}}
	recs, n = pass("v2", v2)
	if n != 0 {
		t.Errorf("pass 3 (new DataVersion): %d conditional requests, want none", n)
	}
	check("pass 3", recs, false, want2)
	recs, n = pass("v2", v2)
	if n != 3 {
		t.Errorf("pass 4: %d conditional requests, want 3", n)
	}
	check("pass 4 (304s)", recs, true, want2)

	// No extraction at all: conditional requests, records without data.
	_, recs = recrawlPass(t, Config{IgnoreRobots: true, Recrawl: store}, s.URL+"/")
	check("pass 5 (no stages)", recs, true, map[string]map[string][]string{"/a": {}, "/b": {}})

	// No extraction, and a server that sends the same bodies again: the
	// data stored from them still holds, and the next pass with v2 is
	// conditional and gets it back.
	mu.Lock()
	ignore = true
	mu.Unlock()
	_, recs = recrawlPass(t, Config{IgnoreRobots: true, Recrawl: store}, s.URL+"/")
	check("pass 6 (no stages, 200s)", recs, false, map[string]map[string][]string{"/a": {}, "/b": {}})
	mu.Lock()
	ignore = false
	mu.Unlock()
	recs, n = pass("v2", v2)
	if n != 3 {
		t.Errorf("pass 7: %d conditional requests, want 3", n)
	}
	check("pass 7 (304s)", recs, true, want2)
}

// passFrontier is a memory frontier whose pass began at start
// (frontier.PassInfo).
type passFrontier struct {
	*memory.Memory
	start time.Time
}

func (f passFrontier) PassStarted(context.Context) (time.Time, error) { return f.start, nil }

// TestRecrawlFetchedThisPass: a page stored earlier in the frontier's
// current pass is leased again only after a stop lost its record, so it is
// fetched in full, and a change that fetch found is reported again; stored
// before the pass, it is asked for conditionally.
func TestRecrawlFetchedThisPass(t *testing.T) {
	vs := newVersionedSite(t)
	vs.set("/", "/a", "/b")
	vs.set("/a")
	vs.set("/b")
	store := new(recrawl.Memory)
	u := func(p string) string { return vs.URL + p }
	run := func(passStart time.Time) map[string]pipeline.Record {
		t.Helper()
		vs.reset()
		f := passFrontier{memory.New(memory.Config{}), passStart}
		defer f.Close()
		r := newRigFrontier(t, Config{IgnoreRobots: true, Recrawl: store, Revisit: true}, sessionConfig(), f)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := r.c.Run(ctx, u("/")); err != nil {
			t.Fatal(err)
		}
		return r.col.byURL(t)
	}
	run(time.Now()) // pass 1
	pass2 := time.Now()
	vs.set("/b")
	recs := run(pass2)
	if r := recs[u("/b")]; r.Status != 200 || r.Changed == nil || !*r.Changed {
		t.Fatalf("pass 2: /b status %d changed %v; want 200, changed", r.Status, r.Changed)
	}
	if p, _ := store.Load(context.Background(), u("/b")); p == nil || !p.Changed {
		t.Fatalf("pass 2: stored /b %+v; want Changed", p)
	}

	// Pass 2 again, as a run resumed after a kill that lost its records:
	// /b was stored in this pass, so it is fetched in full and its change
	// reported again; / and /a (304s, not rewritten) are asked for
	// conditionally, as the lost records were.
	recs = run(pass2)
	if r := recs[u("/b")]; r.Status != 200 || r.NotModified || r.Changed == nil || !*r.Changed {
		t.Errorf("pass 2 resumed: /b status %d not_modified %v changed %v; want 200, changed", r.Status, r.NotModified, r.Changed)
	}
	for _, path := range []string{"/", "/a"} {
		if r := recs[u(path)]; r.Status != 304 || !r.NotModified {
			t.Errorf("pass 2 resumed: %s status %d not_modified %v; want 304", path, r.Status, r.NotModified)
		}
	}
	vs.mu.Lock()
	_, condB := vs.conds["/b"]
	conds, bodies := len(vs.conds), vs.bodies["/b"]
	vs.mu.Unlock()
	if condB || conds != 2 || bodies != 1 {
		t.Errorf("pass 2 resumed: /b conditional %v, %d conditional requests, /b bodies %d; want false, 2, 1", condB, conds, bodies)
	}

	// Pass 3: stored before it, so asked for conditionally; /b's change
	// was pass 2's.
	recs = run(time.Now())
	for _, path := range []string{"/", "/a", "/b"} {
		if r := recs[u(path)]; r.Status != 304 || !r.NotModified {
			t.Errorf("pass 3: %s status %d not_modified %v; want 304", path, r.Status, r.NotModified)
		}
	}
}

// loadCounter is a recrawl.Store that counts Loads. It hides the Len of the
// store it wraps: it is not a recrawl.Lener.
type loadCounter struct {
	recrawl.Store
	loads atomic.Int64
}

func (s *loadCounter) Load(ctx context.Context, u string) (*recrawl.Page, error) {
	s.loads.Add(1)
	return s.Store.Load(ctx, u)
}

// lenLoadCounter is a loadCounter that is a recrawl.Lener.
type lenLoadCounter struct{ *loadCounter }

func (s lenLoadCounter) Len(ctx context.Context) (int64, error) {
	return s.Store.(recrawl.Lener).Len(ctx)
}

// TestRecrawlEmptyStoreNotAsked: a crawl that starts with an empty store
// (recrawl.Lener says so) does not look its URLs up in it; a store that
// cannot tell is asked for every URL; a store that holds pages is asked,
// and its pages are asked for conditionally.
func TestRecrawlEmptyStoreNotAsked(t *testing.T) {
	vs := newVersionedSite(t)
	vs.set("/", "/a", "/b")
	vs.set("/a", "/c")
	vs.set("/b")
	vs.set("/c")
	u := func(p string) string { return vs.URL + p }
	for _, tc := range []struct {
		name       string
		lener      bool
		firstLoads int64
	}{
		{"lener", true, 0},
		{"not a lener", false, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lc := &loadCounter{Store: new(recrawl.Memory)}
			var store recrawl.Store = lc
			if tc.lener {
				store = lenLoadCounter{lc}
			}
			cfg := Config{IgnoreRobots: true, Recrawl: store, Revisit: true}
			vs.reset()
			_, recs := recrawlPass(t, cfg, u("/"))
			if len(recs) != 4 {
				t.Fatalf("pass 1: %d records, want 4", len(recs))
			}
			for _, r := range recs {
				if r.Status != 200 || r.NotModified || r.Changed != nil {
					t.Errorf("pass 1: %s status %d not_modified %v changed %v; want a new page's 200", r.URL, r.Status, r.NotModified, r.Changed)
				}
			}
			if n := lc.loads.Load(); n != tc.firstLoads {
				t.Errorf("pass 1 looked %d URLs up; want %d", n, tc.firstLoads)
			}
			lc.loads.Store(0)
			vs.reset()
			_, recs = recrawlPass(t, cfg, u("/"))
			for _, p := range []string{"/", "/a", "/b", "/c"} {
				if r := recs[u(p)]; r.Status != 304 || !r.NotModified {
					t.Errorf("pass 2: %s status %d not_modified %v; want 304", p, r.Status, r.NotModified)
				}
			}
			if n := lc.loads.Load(); n != 4 {
				t.Errorf("pass 2 looked %d URLs up; want 4", n)
			}
		})
	}
}
