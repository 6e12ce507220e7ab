package revisitsite

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time for the site.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestSite(t *testing.T, c Config) (*Site, *httptest.Server, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	if c.Now == nil {
		c.Now = clk.now
	}
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv, clk
}

type reply struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, base, path string, h map[string]string) reply {
	t.Helper()
	return do(t, "GET", base+path, h)
}

func do(t *testing.T, method, url string, h map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, string(b)}
}

var hrefRE = regexp.MustCompile(`href="([^"#]*)`)

// TestReachable checks that every page is reachable from "/" by following
// links, that bodies are about Size bytes and have their title, and that
// GET is deterministic.
func TestReachable(t *testing.T) {
	s, srv, _ := newTestSite(t, Config{Sections: []Section{{Pages: 300}, {Prefix: "/q/", Pages: 50}}, Seed: 7})
	seen := map[string]bool{"/": true}
	queue := []string{"/"}
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		r := get(t, srv.URL, path, nil)
		if r.status != 200 {
			t.Fatalf("%s: status %d", path, r.status)
		}
		if want := "<title>" + titleOf(path) + "</title>"; !strings.Contains(r.body, want) {
			t.Fatalf("%s: no %s", path, want)
		}
		if path != "/" && (len(r.body) < DefaultSize-1024 || len(r.body) > DefaultSize+1024) {
			t.Errorf("%s: %d bytes; want about %d", path, len(r.body), DefaultSize)
		}
		if again := get(t, srv.URL, path, nil); again.body != r.body {
			t.Fatalf("%s: two GETs gave different bodies", path)
		}
		links := hrefRE.FindAllStringSubmatch(r.body, -1)
		if path != "/" && len(links) < DefaultLinks {
			t.Errorf("%s: %d links; want at least %d", path, len(links), DefaultLinks)
		}
		for _, m := range links {
			if !seen[m[1]] {
				seen[m[1]] = true
				queue = append(queue, m[1])
			}
		}
	}
	if got, want := len(seen), 1+300+50; got != want {
		t.Errorf("%d pages reachable from /; want %d", got, want)
	}
	for _, p := range s.Paths() {
		if !seen[p] {
			t.Errorf("%s not reachable", p)
		}
	}
}

// TestConditionalResponses checks the headers and bodies of 200 and 304
// answers for each kind of validators.
func TestConditionalResponses(t *testing.T) {
	secs := []Section{
		{Prefix: "/both/", Pages: 3, Validators: ETagAndLastModified, CacheControl: "max-age=60", Expires: time.Hour},
		{Prefix: "/etag/", Pages: 3, Validators: StrongETag},
		{Prefix: "/weak/", Pages: 3, Validators: WeakETag, CacheControl: "no-cache"},
		{Prefix: "/lm/", Pages: 3, Validators: LastModified},
		{Prefix: "/none/", Pages: 3, Validators: NoValidators, CacheControl: "no-store"},
		{Prefix: "/ignore/", Pages: 3, Validators: IgnoreConditionals},
	}
	s, srv, clk := newTestSite(t, Config{Sections: secs})
	for _, sec := range secs {
		t.Run(strings.Trim(sec.Prefix, "/"), func(t *testing.T) {
			path := sec.Prefix + "1.html"
			first := get(t, srv.URL, path, nil)
			if first.status != 200 || first.body == "" {
				t.Fatalf("first GET: %d, %d bytes", first.status, len(first.body))
			}
			etag, lm := first.header.Get("ETag"), first.header.Get("Last-Modified")
			if sec.Validators.etag() != (etag != "") || sec.Validators.lastModified() != (lm != "") {
				t.Fatalf("validators %v sent ETag %q, Last-Modified %q", sec.Validators, etag, lm)
			}
			if sec.Validators == WeakETag && !strings.HasPrefix(etag, `W/"`) {
				t.Errorf("weak ETag %q has no W/", etag)
			}
			if sec.Validators == StrongETag && !strings.HasPrefix(etag, `"`) {
				t.Errorf("strong ETag %q", etag)
			}
			if got := first.header.Get("Cache-Control"); got != sec.CacheControl {
				t.Errorf("Cache-Control %q; want %q", got, sec.CacheControl)
			}
			if date := first.header.Get("Date"); date != clk.now().Format(http.TimeFormat) {
				t.Errorf("Date %q; want the site's clock", date)
			}
			if exp := first.header.Get("Expires"); (sec.Expires != 0) != (exp != "") ||
				exp != "" && exp != clk.now().Add(sec.Expires).Format(http.TimeFormat) {
				t.Errorf("Expires %q with Section.Expires %v", exp, sec.Expires)
			}
			info, _ := s.Page(path)
			if info.ETag != etag || info.LastModified != lm {
				t.Errorf("Page says ETag %q, Last-Modified %q; the answer %q, %q", info.ETag, info.LastModified, etag, lm)
			}

			cond := map[string]string{}
			if etag != "" {
				cond["If-None-Match"] = etag
			}
			if lm != "" {
				cond["If-Modified-Since"] = lm
			}
			again := get(t, srv.URL, path, cond)
			wantStatus := 304
			if sec.Validators == IgnoreConditionals || len(cond) == 0 {
				wantStatus = 200
			}
			if again.status != wantStatus {
				t.Fatalf("revalidation %v: status %d; want %d", cond, again.status, wantStatus)
			}
			if wantStatus == 304 {
				if again.body != "" {
					t.Errorf("304 with a body of %d bytes", len(again.body))
				}
				for _, k := range []string{"ETag", "Last-Modified", "Cache-Control", "Expires", "Date"} {
					if (first.header.Get(k) != "") != (again.header.Get(k) != "") {
						t.Errorf("304 header %s %q; the 200 had %q", k, again.header.Get(k), first.header.Get(k))
					}
				}
				if again.header.Get("ETag") != etag || again.header.Get("Last-Modified") != lm {
					t.Errorf("304 validators %q %q; want %q %q", again.header.Get("ETag"), again.header.Get("Last-Modified"), etag, lm)
				}
			} else if again.body != first.body {
				t.Error("the 200 of an unchanged page has another body")
			}

			// A change: new body and validators; the old ones get a 200.
			clk.add(time.Minute)
			if err := s.Change(path); err != nil {
				t.Fatal(err)
			}
			changed := get(t, srv.URL, path, cond)
			if changed.status != 200 || changed.body == first.body {
				t.Fatalf("after Change, revalidation: status %d, body changed %v", changed.status, changed.body != first.body)
			}
			if etag != "" && changed.header.Get("ETag") == etag {
				t.Errorf("ETag %q unchanged after Change", etag)
			}
			if lm != "" && changed.header.Get("Last-Modified") != clk.now().Format(http.TimeFormat) {
				t.Errorf("Last-Modified %q after Change; want the clock's %q", changed.header.Get("Last-Modified"), clk.now().Format(http.TimeFormat))
			}
		})
	}
}

// TestChangeWithinASecond checks that two changes in the same second still
// give two Last-Modified values, so If-Modified-Since sees the second.
func TestChangeWithinASecond(t *testing.T) {
	s, srv, _ := newTestSite(t, Config{Sections: []Section{{Pages: 2, Validators: LastModified}}})
	const path = "/p/0.html"
	s.Change(path)
	lm1 := get(t, srv.URL, path, nil).header.Get("Last-Modified")
	s.Change(path)
	r := get(t, srv.URL, path, map[string]string{"If-Modified-Since": lm1})
	if r.status != 200 || r.header.Get("Last-Modified") == lm1 {
		t.Errorf("second change in the same second: status %d, Last-Modified %q (was %q)", r.status, r.header.Get("Last-Modified"), lm1)
	}
}

// TestRemove checks that a removed page answers its status whatever the
// preconditions (RFC 9110 §13.2.1) and leaves the sitemap.
func TestRemove(t *testing.T) {
	s, srv, _ := newTestSite(t, Config{Sections: []Section{{Pages: 5}}})
	first := get(t, srv.URL, "/p/2.html", nil)
	for _, status := range []int{410, 404} {
		if err := s.Remove("/p/2.html", status); err != nil {
			t.Fatal(err)
		}
		for _, h := range []map[string]string{nil, {"If-None-Match": first.header.Get("ETag")}, {"If-None-Match": "*"},
			{"If-Modified-Since": first.header.Get("Last-Modified")}} {
			if r := get(t, srv.URL, "/p/2.html", h); r.status != status {
				t.Errorf("removed with %d, request %v: status %d", status, h, r.status)
			}
		}
	}
	if err := s.Remove("/p/3.html", 500); err == nil {
		t.Error("Remove with status 500 accepted")
	}
	if err := s.Remove("/nope", 404); err == nil {
		t.Error("Remove of an unknown path accepted")
	}
	if err := s.Change("/p/2.html"); err == nil {
		t.Error("Change of a removed page accepted")
	}
	locs := sitemapLocs(t, srv.URL)
	if slices.Contains(locs, srv.URL+"/p/2.html") || len(locs) != 5 {
		t.Errorf("sitemap after Remove: %v", locs)
	}
}

type sitemapURL struct {
	Loc     string `xml:"loc"`
	Lastmod string `xml:"lastmod"`
}

func sitemap(t *testing.T, base string) []sitemapURL {
	t.Helper()
	r := get(t, base, "/sitemap.xml", nil)
	var doc struct {
		URLs []sitemapURL `xml:"url"`
	}
	if err := xml.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatalf("sitemap: %v", err)
	}
	return doc.URLs
}

func sitemapLocs(t *testing.T, base string) []string {
	var locs []string
	for _, u := range sitemap(t, base) {
		locs = append(locs, u.Loc)
	}
	return locs
}

// TestAddPage checks that a page added is linked from its parent, which
// changes, and appears in the sitemap with its lastmod.
func TestAddPage(t *testing.T) {
	s, srv, clk := newTestSite(t, Config{Sections: []Section{{Pages: 10}}})
	before := get(t, srv.URL, "/p/4.html", nil)
	clk.add(time.Hour)
	path, err := s.AddPage("/p/4.html")
	if err != nil {
		t.Fatal(err)
	}
	if path != "/p/10.html" {
		t.Errorf("new page %s; want /p/10.html", path)
	}
	r := get(t, srv.URL, "/p/4.html", map[string]string{"If-None-Match": before.header.Get("ETag")})
	if r.status != 200 || !strings.Contains(r.body, `href="`+path) {
		t.Fatalf("parent after AddPage: status %d, links to %s: %v", r.status, path, strings.Contains(r.body, path))
	}
	if n := get(t, srv.URL, path, nil); n.status != 200 || !strings.Contains(n.body, "<title>Page p/10</title>") {
		t.Errorf("new page: status %d", n.status)
	}
	want := clk.now().Format(time.RFC3339)
	found := false
	for _, u := range sitemap(t, srv.URL) {
		if u.Loc == srv.URL+path {
			found = true
			if u.Lastmod != want {
				t.Errorf("lastmod of the new page %s; want %s", u.Lastmod, want)
			}
		}
		if u.Loc == srv.URL+"/p/4.html" && u.Lastmod != want {
			t.Errorf("lastmod of the parent %s; want %s", u.Lastmod, want)
		}
	}
	if !found {
		t.Error("new page not in the sitemap")
	}
	if st := s.Stats(); !slices.Equal(st.Changed, []string{path, "/p/4.html"}) {
		t.Errorf("Stats.Changed %v", st.Changed)
	}
}

// TestChangeFraction checks the number of pages changed, that the choice
// depends on the seed only, and that exactly those pages change.
func TestChangeFraction(t *testing.T) {
	mk := func() (*Site, *httptest.Server) {
		s, srv, _ := newTestSite(t, Config{Sections: []Section{{Pages: 1000}}, Size: 512})
		return s, srv
	}
	s1, srv := mk()
	s2, _ := mk()
	a, b := s1.ChangeFraction(0.01, 3), s2.ChangeFraction(0.01, 3)
	if len(a) != 10 || !slices.Equal(a, b) {
		t.Fatalf("ChangeFraction(0.01, 3) on two equal sites: %v and %v; want the same 10", a, b)
	}
	if c := s2.ChangeFraction(0.01, 4); slices.Equal(a, c) {
		t.Error("seed 4 chose the same pages as seed 3")
	}
	if st := s1.Stats(); !slices.Equal(st.Changed, a) {
		t.Errorf("Stats.Changed %v; want %v", st.Changed, a)
	}
	for _, p := range s1.Paths() {
		info, _ := s1.Page(p)
		if want := slices.Contains(a, p); (info.Version == 1) != want {
			t.Errorf("%s: version %d, changed %v", p, info.Version, want)
		}
	}
	if got := s1.ChangeFraction(2, 1); len(got) != 1000 {
		t.Errorf("fraction 2 changed %d pages; want all 1000", len(got))
	}
	_ = srv
}

// TestStats checks the counters and the control paths, which are not
// counted themselves.
func TestStats(t *testing.T) {
	_, srv, _ := newTestSite(t, Config{Sections: []Section{{Pages: 20}}, Size: 1000})
	control := func(method, path string) reply { return do(t, method, srv.URL+path, nil) }
	stats := func() Stats {
		var st Stats
		if err := json.Unmarshal([]byte(control("GET", "/__stats").body), &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	a := get(t, srv.URL, "/p/1.html", nil)
	get(t, srv.URL, "/p/1.html", map[string]string{"If-None-Match": a.header.Get("ETag")})
	get(t, srv.URL, "/p/2.html", map[string]string{"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
	get(t, srv.URL, "/missing", nil)
	do(t, "HEAD", srv.URL+"/p/3.html", nil)
	st := stats()
	want := Stats{Requests: 5, OK: 3, NotModified: 1, Other: 1, Conditional: 2,
		BodyBytes: int64(len(a.body)) + int64(len(get(t, srv.URL, "/p/2.html", nil).body)) + int64(len("not found\n")),
		Paths200:  []string{"/p/1.html", "/p/2.html", "/p/3.html"}, Changed: []string{}}
	if fmt.Sprint(st) != fmt.Sprint(want) {
		t.Errorf("stats\n %+v\nwant\n %+v", st, want)
	}

	if r := control("POST", "/__reset"); r.status != 204 {
		t.Fatalf("reset: %d", r.status)
	}
	var changed struct{ Changed []string }
	r := control("POST", "/__change?fraction=0.1&seed=1")
	if err := json.Unmarshal([]byte(r.body), &changed); err != nil || len(changed.Changed) != 2 {
		t.Fatalf("/__change: %d %s", r.status, r.body)
	}
	r = control("POST", "/__change?path=/p/5.html&path=/p/5.html")
	if r.status != 200 || !strings.Contains(r.body, `["/p/5.html"]`) {
		t.Errorf("/__change?path: %d %s", r.status, r.body)
	}
	if r := control("POST", "/__remove?path=/p/6.html&status=410"); r.status != 204 {
		t.Errorf("/__remove: %d %s", r.status, r.body)
	}
	if r := control("POST", "/__add?from=/p/7.html"); r.status != 200 || !strings.Contains(r.body, `"/p/20.html"`) {
		t.Errorf("/__add: %d %s", r.status, r.body)
	}
	for _, bad := range []string{"/__change?fraction=x", "/__change?path=/nope", "/__remove?path=/p/1.html&status=500",
		"/__remove?path=/p/1.html&status=x", "/__add?from=/nope", "/__nothing"} {
		if r := control("POST", bad); r.status < 400 {
			t.Errorf("POST %s: status %d", bad, r.status)
		}
	}
	if r := control("GET", "/__reset"); r.status != 405 {
		t.Errorf("GET /__reset: %d", r.status)
	}
	st = stats()
	if st.Requests != 0 || len(st.Paths200) != 0 {
		t.Errorf("control requests counted: %+v", st)
	}
	if len(st.Changed) != 2+1+2 {
		t.Errorf("changed %v; want 5 paths", st.Changed)
	}
	if r := get(t, srv.URL, "/p/6.html", nil); r.status != 410 {
		t.Errorf("removed page: %d", r.status)
	}
}

func TestNewErrors(t *testing.T) {
	for _, c := range []Config{
		{Sections: []Section{{Prefix: "p/"}}},
		{Sections: []Section{{Prefix: "/"}}},
		{Sections: []Section{{Prefix: "/__x/"}}},
		{Sections: []Section{{Prefix: "/a/"}, {Prefix: "/a/"}}},
		{Sections: []Section{{Pages: -1}}},
		{Sections: []Section{{Validators: 99}}},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	if _, err := ParseValidators("weak"); err != nil {
		t.Error(err)
	}
	if _, err := ParseValidators("strong"); err == nil {
		t.Error("ParseValidators(strong) accepted")
	}
}
