package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trawlhq/trawl/internal/redistest"
	"github.com/trawlhq/trawl/internal/revisitsite"
)

// revisitServer serves a revisitsite.Site on loopback and logs, per path,
// the conditional headers of every request it receives.
type revisitServer struct {
	*revisitsite.Site
	*httptest.Server
	latency time.Duration

	mu   sync.Mutex
	seen map[string][]condHeaders
}

// condHeaders are the validators a request sent back.
type condHeaders struct{ ifNoneMatch, ifModifiedSince string }

func newRevisitServer(t *testing.T, c revisitsite.Config, latency time.Duration) *revisitServer {
	t.Helper()
	site, err := revisitsite.New(c)
	if err != nil {
		t.Fatal(err)
	}
	s := &revisitServer{Site: site, latency: latency, seen: map[string][]condHeaders{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/__") {
			s.mu.Lock()
			s.seen[r.URL.Path] = append(s.seen[r.URL.Path],
				condHeaders{r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")})
			s.mu.Unlock()
			if s.latency > 0 {
				select {
				case <-time.After(s.latency):
				case <-r.Context().Done():
					return
				}
			}
		}
		site.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// reset starts a new pass's counts: the site's Stats and the request log.
func (s *revisitServer) reset() {
	s.Site.Reset()
	s.mu.Lock()
	clear(s.seen)
	s.mu.Unlock()
}

// requests returns the conditional headers of the requests for path since
// the last reset.
func (s *revisitServer) requests(path string) []condHeaders {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen[path])
}

// validatorsSent returns the ETag and Last-Modified the site sends for
// each page now.
func (s *revisitServer) validatorsSent() map[string]revisitsite.PageInfo {
	out := map[string]revisitsite.PageInfo{}
	for _, p := range s.Paths() {
		info, _ := s.Page(p)
		out[p] = info
	}
	return out
}

// recrawlRun runs one pass of 'trawl crawl' and returns its records by
// path. args come after the common ones.
func recrawlRun(t *testing.T, s *revisitServer, out string, args ...string) map[string]map[string]any {
	t.Helper()
	base := []string{"crawl", s.URL + "/", "--quiet", "--ignore-robots", "--workers", "4", "--per-host", "4", "-o", out}
	r := trawl(t, append(base, args...)...)
	if r.code != 0 {
		t.Fatalf("trawl %v: exit %d, stderr:\n%s", args, r.code, r.stderr)
	}
	return recordsByPath(t, s.URL, out)
}

// storeFlags are the flags that keep a crawl's state in backend: "redis"
// (a test Redis, a prefix of its own) or "state" (a directory in dir).
func storeFlags(t *testing.T, backend, dir string) []string {
	t.Helper()
	if backend == "redis" {
		return []string{"--redis", redistest.URL(t), "--redis-prefix", redistest.Name(t)}
	}
	return []string{"--state", filepath.Join(dir, "state")}
}

// recordsByPath reads a JSONL output and returns the records by URL path,
// failing on a URL recorded twice.
func recordsByPath(t *testing.T, base, out string) map[string]map[string]any {
	t.Helper()
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]map[string]any{}
	for _, rec := range records(t, string(raw)) {
		u := fmt.Sprint(rec["url"])
		path := strings.TrimPrefix(u, base)
		if _, dup := byPath[path]; dup {
			t.Errorf("%s recorded twice", u)
		}
		byPath[path] = rec
	}
	return byPath
}

// linksOf returns the sorted links of a record.
func linksOf(rec map[string]any) []string {
	var out []string
	if ls, ok := rec["links"].([]any); ok {
		for _, l := range ls {
			out = append(out, fmt.Sprint(l))
		}
	}
	sort.Strings(out)
	return out
}

// recrawlSections are the kinds of server a recrawl meets, one section
// each.
var recrawlSections = []revisitsite.Section{
	{Prefix: "/both/", Pages: 8, Validators: revisitsite.ETagAndLastModified},
	{Prefix: "/etag/", Pages: 8, Validators: revisitsite.StrongETag},
	{Prefix: "/weak/", Pages: 8, Validators: revisitsite.WeakETag},
	{Prefix: "/lm/", Pages: 8, Validators: revisitsite.LastModified},
	{Prefix: "/none/", Pages: 8, Validators: revisitsite.NoValidators},
	{Prefix: "/nostore/", Pages: 8, Validators: revisitsite.ETagAndLastModified, CacheControl: "no-store"},
	{Prefix: "/ignore/", Pages: 8, Validators: revisitsite.IgnoreConditionals},
}

// sectionOf returns the section prefix of a path ("/both/" for "/").
func sectionOf(path string) string {
	if path == "/" {
		return recrawlSections[0].Prefix
	}
	return path[:strings.IndexByte(path[1:], '/')+2]
}

// TestE2ERecrawlValidators: a second pass sends back, per page, exactly the
// validators the server sent (ETag only, Last-Modified only, both; a weak
// ETag with its W/), nothing for pages without validators or with
// no-store; a 304 record carries the stored title and links; a server that
// ignores conditionals still works (200, changed:false).
func TestE2ERecrawlValidators(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"state", "redis"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s := newRevisitServer(t, revisitsite.Config{Sections: recrawlSections, Size: 2048, Links: 5}, 0)
			dir := t.TempDir()
			store := storeFlags(t, backend, dir)
			p1 := recrawlRun(t, s, filepath.Join(dir, "p1.jsonl"), store...)
			sent := s.validatorsSent()
			if len(p1) != len(sent) {
				t.Fatalf("pass 1: %d records; want the site's %d pages", len(p1), len(sent))
			}

			s.reset()
			p2 := recrawlRun(t, s, filepath.Join(dir, "p2.jsonl"), append(store, "--recrawl")...)
			for path, info := range sent {
				sec := sectionOf(path)
				reqs := s.requests(path)
				if len(reqs) != 1 {
					t.Errorf("%s: %d requests in pass 2; want 1", path, len(reqs))
					continue
				}
				got := reqs[0]
				want := condHeaders{info.ETag, info.LastModified}
				if sec == "/nostore/" {
					want = condHeaders{} // not stored: nothing to send back
				}
				if got != want {
					t.Errorf("%s (%s): sent back If-None-Match %q, If-Modified-Since %q; want %q, %q",
						path, sec, got.ifNoneMatch, got.ifModifiedSince, want.ifNoneMatch, want.ifModifiedSince)
				}
				rec := p2[path]
				if rec == nil {
					t.Errorf("%s: no record in pass 2", path)
					continue
				}
				wantStatus, notMod, changed := 304.0, true, any(false)
				switch sec {
				case "/none/", "/ignore/":
					wantStatus, notMod = 200, false
				case "/nostore/":
					wantStatus, notMod, changed = 200, false, nil // new to the crawl each pass
				}
				if rec["status"] != wantStatus || (rec["not_modified"] == true) != notMod || rec["changed"] != changed {
					t.Errorf("%s (%s): status %v, not_modified %v, changed %v; want %v, %v, %v",
						path, sec, rec["status"], rec["not_modified"], rec["changed"], wantStatus, notMod, changed)
				}
				if rec["title"] != info.Title || rec["title"] != p1[path]["title"] {
					t.Errorf("%s: title %q in pass 2; want %q", path, rec["title"], info.Title)
				}
				if !slices.Equal(linksOf(rec), linksOf(p1[path])) {
					t.Errorf("%s: links in pass 2\n %v\nwant those of pass 1\n %v", path, linksOf(rec), linksOf(p1[path]))
				}
			}
			if len(p2) != len(sent) {
				t.Errorf("pass 2: %d records; want %d", len(p2), len(sent))
			}
			st := s.Stats()
			var bodies []string
			for _, p := range st.Paths200 {
				if sec := sectionOf(p); sec != "/none/" && sec != "/nostore/" && sec != "/ignore/" {
					bodies = append(bodies, p)
				}
			}
			if len(bodies) > 0 {
				t.Errorf("pass 2 fetched bodies of pages with validators: %v", bodies)
			}
			t.Logf("pass 2: %d requests, %d 304, %d 200, %d body bytes", st.Requests, st.NotModified, st.OK, st.BodyBytes)
		})
	}
}

// TestE2ERecrawlChanges: after 1% of the pages change, one removed (410),
// another removed (404) and a page added behind a changed one, a recrawl
// fetches exactly the changed bodies, marks exactly them changed:true,
// reaches the new page through unchanged (304) pages, and reports the
// removed pages gone.
func TestE2ERecrawlChanges(t *testing.T) {
	t.Parallel()
	s := newRevisitServer(t, revisitsite.Config{Sections: []revisitsite.Section{{Pages: 600}}, Size: 4096, Seed: 3}, 0)
	dir := t.TempDir()
	state := []string{"--state", filepath.Join(dir, "state")}
	p1 := recrawlRun(t, s, filepath.Join(dir, "p1.jsonl"), state...)
	if len(p1) != 601 {
		t.Fatalf("pass 1: %d records; want 601", len(p1))
	}

	s.reset()
	changed := s.ChangeFraction(0.01, 7)
	if len(changed) != 6 {
		t.Fatalf("ChangeFraction: %d pages", len(changed))
	}
	gone := map[string]int{}
	for _, p := range s.Paths()[1:] {
		if len(gone) == 2 {
			break
		}
		if !slices.Contains(changed, p) {
			gone[p] = 404 + 6*len(gone) // 404, then 410
		}
	}
	for p, status := range gone {
		if err := s.Remove(p, status); err != nil {
			t.Fatal(err)
		}
	}
	added, err := s.AddPage(changed[0])
	if err != nil {
		t.Fatal(err)
	}
	wantChanged := s.Stats().Changed // the changed pages, the new page and its parent (changed[0])
	wantBodies := slices.Clone(wantChanged)

	p3 := recrawlRun(t, s, filepath.Join(dir, "p3.jsonl"), append(state, "--recrawl")...)
	st := s.Stats()
	if !slices.Equal(st.Paths200, wantBodies) || st.OK != int64(len(wantBodies)) {
		t.Errorf("pass 3 fetched %d bodies of %v; want exactly %v", st.OK, st.Paths200, wantBodies)
	}
	var flagged []string
	for path, rec := range p3 {
		if rec["changed"] == true {
			flagged = append(flagged, path)
		}
	}
	sort.Strings(flagged)
	wantFlagged := slices.DeleteFunc(slices.Clone(wantChanged), func(p string) bool { return p == added })
	if !slices.Equal(flagged, wantFlagged) {
		t.Errorf("records with changed:true: %v; want %v", flagged, wantFlagged)
	}
	if rec := p3[added]; rec == nil || rec["status"] != 200.0 || rec["changed"] != nil {
		t.Errorf("new page %s: record %v; want status 200 and no changed field (new to the crawl)", added, rec)
	}
	for p, status := range gone {
		if rec := p3[p]; rec == nil || rec["status"] != float64(status) || rec["gone"] != true {
			t.Errorf("removed page %s (%d): record %v; want gone:true", p, status, rec)
		}
	}
	notMod := 0
	for path, rec := range p3 {
		if rec["not_modified"] != true {
			continue
		}
		notMod++
		if rec["status"] != 304.0 || rec["changed"] != false || rec["title"] != p1[path]["title"] ||
			!slices.Equal(linksOf(rec), linksOf(p1[path])) {
			t.Errorf("%s: 304 record %v; want status 304, changed false, the title and links of pass 1", path, rec)
		}
	}
	if want := 601 - len(changed) - len(gone); notMod != want {
		t.Errorf("%d not_modified records; want %d", notMod, want)
	}
	if len(p3) != 602 {
		t.Errorf("pass 3: %d records; want 602 (every page, the new one, the removed ones)", len(p3))
	}

	// Removed pages are forgotten: the next pass does not ask for them
	// conditionally (they are still linked, so they are requested).
	s.reset()
	p4 := recrawlRun(t, s, filepath.Join(dir, "p4.jsonl"), append(state, "--recrawl")...)
	for p := range gone {
		for _, h := range s.requests(p) {
			if h != (condHeaders{}) {
				t.Errorf("removed page %s requested with validators %v", p, h)
			}
		}
		if rec := p4[p]; rec == nil || rec["gone"] == true {
			t.Errorf("removed page %s in the pass after: %v; want a record, not gone again", p, rec)
		}
	}
	if st := s.Stats(); st.OK != 0 {
		t.Errorf("unchanged pass fetched %d bodies: %v", st.OK, st.Paths200)
	}
}

// TestE2ERecrawlMaxAge: --max-age leaves pages fetched more recently than
// that unfetched, except those the server says are stale (no-cache,
// max-age=0); their stored links are still followed.
func TestE2ERecrawlMaxAge(t *testing.T) {
	t.Parallel()
	s := newRevisitServer(t, revisitsite.Config{Sections: []revisitsite.Section{
		{Prefix: "/p/", Pages: 30},
		{Prefix: "/nc/", Pages: 10, CacheControl: "no-cache"},
		{Prefix: "/ma/", Pages: 10, CacheControl: "max-age=0"},
		{Prefix: "/fresh/", Pages: 10, CacheControl: "max-age=86400"},
	}, Size: 1024, Links: 4}, 0)
	dir := t.TempDir()
	state := []string{"--state", filepath.Join(dir, "state")}
	recrawlRun(t, s, filepath.Join(dir, "p1.jsonl"), state...)

	s.reset()
	p2 := recrawlRun(t, s, filepath.Join(dir, "p2.jsonl"), append(state, "--recrawl", "--max-age", "1h")...)
	for _, path := range s.Paths() {
		stale := strings.HasPrefix(path, "/nc/") || strings.HasPrefix(path, "/ma/")
		n := len(s.requests(path))
		if stale && (n != 1 || p2[path] == nil || p2[path]["status"] != 304.0) {
			t.Errorf("%s (stale by its server): %d requests, record %v; want one conditional request, 304", path, n, p2[path])
		}
		if !stale && (n != 0 || p2[path] != nil) {
			t.Errorf("%s (fetched less than --max-age ago): %d requests, record %v; want none", path, n, p2[path])
		}
	}

	// Every page was fetched more than 1ns ago: every page is revalidated,
	// the ones the server says are fresh (max-age=86400) too.
	s.reset()
	p3 := recrawlRun(t, s, filepath.Join(dir, "p3.jsonl"), append(state, "--recrawl", "--max-age", "1ns")...)
	for _, path := range s.Paths() {
		if n := len(s.requests(path)); n != 1 || p3[path] == nil {
			t.Errorf("%s: %d requests with --max-age 1ns, record %v; want 1", path, n, p3[path])
		}
	}
	if st := s.Stats(); st.NotModified != int64(len(s.Paths())) {
		t.Errorf("--max-age 1ns: %d 304s; want %d", st.NotModified, len(s.Paths()))
	}
}

// TestE2ERecrawlKillResume kills the binary with SIGKILL during a --recrawl
// pass (5% of the pages changed) and resumes until the pass completes:
// every page has a record, each changed page a changed:true one, and the
// next pass revalidates every page with the validators the server sends
// now (0 bodies fetched). With --redis, a rerun takes over the killed
// process's leases after --redis-lease-timeout.
func TestE2ERecrawlKillResume(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"state", "redis"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			testRecrawlKillResume(t, backend)
		})
	}
}

func testRecrawlKillResume(t *testing.T, backend string) {
	const pages, workers = 2000, 8
	s := newRevisitServer(t, revisitsite.Config{Sections: []revisitsite.Section{{Pages: pages}}, Size: 2048, Seed: 5},
		time.Millisecond)
	dir := t.TempDir()
	store := storeFlags(t, backend, dir)
	if backend == "redis" {
		store = append(store, "--redis-lease-timeout", "1s")
	}
	args := func(out string, extra ...string) []string {
		a := append([]string{"crawl", s.URL + "/", "--quiet", "--ignore-robots", "--workers", fmt.Sprint(workers),
			"--per-host", fmt.Sprint(workers), "-o", out}, store...)
		return append(a, extra...)
	}
	if r := trawl(t, args(filepath.Join(dir, "p1.jsonl"))...); r.code != 0 {
		t.Fatalf("pass 1: exit %d: %s", r.code, r.stderr)
	}
	changed := s.ChangeFraction(0.05, 11)
	s.reset()

	// With --state a resumed run appends to the output of the pass; with
	// --redis every process writes its own.
	var outs []string
	rng := rand.New(rand.NewPCG(5, 5))
	kills := 0
	for run := 0; ; run++ {
		if run == 12 {
			t.Fatalf("recrawl not finished after %d runs", run)
		}
		out := filepath.Join(dir, "p2.jsonl")
		if backend == "redis" {
			out = filepath.Join(dir, fmt.Sprintf("p2-%d.jsonl", run))
		}
		if !slices.Contains(outs, out) {
			outs = append(outs, out)
		}
		wait := time.Duration(50+rng.IntN(300)) * time.Millisecond
		if !runOrKill(t, dir, args(out, "--recrawl"), wait, run < 5) {
			break
		}
		kills++
	}
	if kills == 0 {
		t.Fatal("the recrawl finished before the first kill: nothing was resumed")
	}
	var recs []map[string]any
	for _, out := range outs {
		raw, err := os.ReadFile(out)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		recs = append(recs, records(t, string(raw))...)
	}
	byURL := map[string][]map[string]any{}
	for _, r := range recs {
		byURL[fmt.Sprint(r["url"])] = append(byURL[fmt.Sprint(r["url"])], r)
	}
	for _, path := range s.Paths() {
		rs := byURL[s.URL+path]
		if len(rs) == 0 {
			t.Errorf("%s: no record after %d kills", path, kills)
			continue
		}
		isChanged := slices.Contains(changed, path)
		ok := false
		for _, r := range rs {
			// A changed page must have its 200 record with changed:true
			// (a resumed run may add a 304 one); an unchanged one a 304.
			if isChanged && r["status"] == 200.0 && r["changed"] == true || !isChanged && r["status"] == 304.0 {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s (changed %v): records %v", path, isChanged, rs)
		}
	}
	if dups := len(recs) - len(byURL); dups > kills*workers {
		t.Errorf("%d duplicate records after %d kills; want at most %d", dups, kills, kills*workers)
	}
	t.Logf("%s: %d kills, %d records, %d duplicates, %d bodies fetched for %d changed pages",
		backend, kills, len(recs), len(recs)-len(byURL), s.Stats().OK, len(changed))

	// The validators survived: the next pass revalidates every page with
	// what the server sends now, and fetches no body.
	s.reset()
	sent := s.validatorsSent()
	if r := trawl(t, args(filepath.Join(dir, "p3.jsonl"), "--recrawl")...); r.code != 0 {
		t.Fatalf("pass 3: exit %d: %s", r.code, r.stderr)
	}
	for path, info := range sent {
		reqs := s.requests(path)
		if len(reqs) != 1 || reqs[0] != (condHeaders{info.ETag, info.LastModified}) {
			t.Errorf("%s: pass 3 requests %v; want one with %q, %q", path, reqs, info.ETag, info.LastModified)
		}
	}
	if st := s.Stats(); st.OK != 0 || st.NotModified != int64(len(sent)) {
		t.Errorf("pass 3: %d bodies (%v), %d 304s; want 0 and %d", st.OK, st.Paths200[:min(5, len(st.Paths200))], st.NotModified, len(sent))
	}
}

// TestE2ERecrawlFollowsStoredLinks: a page the store does not hold
// (no-store), linked only from pages that answer 304, is still reached:
// the 304 records' links, taken from the store, are followed.
func TestE2ERecrawlFollowsStoredLinks(t *testing.T) {
	t.Parallel()
	s := newRevisitServer(t, revisitsite.Config{Sections: []revisitsite.Section{
		{Prefix: "/p/", Pages: 30},
		{Prefix: "/ns/", Pages: 1, CacheControl: "no-store"}, // linked by /p/29.html's "Next"
	}, Size: 1024, Links: 3}, 0)
	dir := t.TempDir()
	state := []string{"--state", filepath.Join(dir, "state")}
	recrawlRun(t, s, filepath.Join(dir, "p1.jsonl"), state...)
	s.reset()
	p2 := recrawlRun(t, s, filepath.Join(dir, "p2.jsonl"), append(state, "--recrawl")...)
	for _, path := range s.Paths() {
		if path == "/ns/0.html" {
			continue
		}
		if rec := p2[path]; rec == nil || rec["status"] != 304.0 {
			t.Fatalf("%s: record %v; want a 304 (the test needs every linking page unchanged)", path, rec)
		}
	}
	reqs := s.requests("/ns/0.html")
	if rec := p2["/ns/0.html"]; len(reqs) != 1 || reqs[0] != (condHeaders{}) || rec == nil || rec["status"] != 200.0 {
		t.Errorf("the no-store page linked only from 304 pages: requests %v, record %v; want one unconditional request, a 200", reqs, rec)
	}
}

// TestE2ERecrawlSelect: with --select, a 304's record carries the fields
// the page's last full response gave; changed pages get theirs anew; and
// other selectors make the next pass fetch every known page in full (no
// conditional request), after which 304s carry the new fields.
func TestE2ERecrawlSelect(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"state", "redis"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s := newRevisitServer(t, revisitsite.Config{Sections: []revisitsite.Section{{Pages: 200}}, Size: 2048, Links: 5, Seed: 5}, 0)
			dir := t.TempDir()
			store := storeFlags(t, backend, dir)
			both := []string{"--select", "heading=h1", "--select", "rev=p.revision"}
			run := func(name string, args ...string) map[string]map[string]any {
				t.Helper()
				s.reset()
				return recrawlRun(t, s, filepath.Join(dir, name+".jsonl"), append(slices.Clone(store), args...)...)
			}
			data := func(rec map[string]any) string { return fmt.Sprint(rec["data"]) }

			p1 := run("p1", both...)
			if len(p1) != 201 || !strings.Contains(data(p1["/"]), "Revision 0.") {
				t.Fatalf("pass 1: %d records, home data %s", len(p1), data(p1["/"]))
			}
			changed := s.ChangeFraction(0.05, 3)
			p2 := run("p2", append([]string{"--recrawl"}, both...)...)
			if st := s.Stats(); st.OK != int64(len(changed)) || st.Conditional != 201 {
				t.Errorf("pass 2: %d bodies, %d conditional requests; want %d and 201", st.OK, st.Conditional, len(changed))
			}
			for path, rec := range p2 {
				if slices.Contains(changed, path) {
					if rec["changed"] != true || !strings.Contains(data(rec), "Revision 1.") {
						t.Errorf("pass 2: changed %s: %v", path, rec)
					}
					continue
				}
				if rec["not_modified"] != true || data(rec) != data(p1[path]) {
					t.Errorf("pass 2: %s: not_modified %v, data %s; want a 304 with pass 1's data %s", path, rec["not_modified"], data(rec), data(p1[path]))
				}
			}

			// Other selectors: every known page in full, once.
			one := []string{"--select", "heading=h1"}
			p3 := run("p3", append([]string{"--recrawl"}, one...)...)
			if st := s.Stats(); st.Conditional != 0 || st.OK != 201 {
				t.Errorf("pass 3 (other --select): %d conditional requests, %d bodies; want 0 and 201", st.Conditional, st.OK)
			}
			p4 := run("p4", append([]string{"--recrawl"}, one...)...)
			if st := s.Stats(); st.OK != 0 || st.Conditional != 201 {
				t.Errorf("pass 4: %d bodies, %d conditional requests; want 0 and 201", st.OK, st.Conditional)
			}
			for path, rec := range p4 {
				if rec["not_modified"] != true || data(rec) != data(p3[path]) || strings.Contains(data(rec), "rev") {
					t.Errorf("pass 4: %s: %v; want a 304 with pass 3's data %s", path, rec, data(p3[path]))
				}
			}
		})
	}
}
