package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trawlhq/trawl/internal/redistest"
)

// checkSite is a small site with known breakages: a missing page linked
// from two pages, a missing fragment, a missing image, a 410 on another
// host (localhost), plus what must not be reported: a valid fragment,
// mailto:, a 301 to a good page.
type checkSite struct {
	site, off *httptest.Server
	clean     bool // serve the site without breakage

	mu   sync.Mutex
	hits map[string]int
}

func newCheckSite(t *testing.T, clean bool) *checkSite {
	t.Helper()
	s := &checkSite{clean: clean, hits: map[string]int{}}
	s.off = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			fmt.Fprint(w, "ok")
		case "/gone":
			http.Error(w, "gone", http.StatusGone)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.off.Close)
	s.site = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.site.Close)
	return s
}

// offURL is the other host's URL: "localhost" is another host name than
// the site's 127.0.0.1.
func (s *checkSite) offURL(path string) string {
	return "http://localhost:" + s.off.URL[strings.LastIndexByte(s.off.URL, ':')+1:] + path
}

func (s *checkSite) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	s.mu.Unlock()
	html := func(body string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	}
	switch r.URL.Path {
	case "/":
		if s.clean {
			html("<title>Home</title>\n<a href=\"/a#x\">A</a>\n<a href=\"/moved\">Moved</a>\n<a href=\"mailto:x@example.com\">Mail</a>\n<a href=\"" + s.offURL("/ok") + "\">Elsewhere</a>\n")
			return
		}
		html("<title>Home</title>\n<a href=\"/a#x\">A</a>\n<a href=\"/missing\">Missing</a>\n<a href=\"/a#nope\">Nope</a>\n" +
			"<img src=\"/broken.png\" alt=\"Logo\">\n<a href=\"mailto:x@example.com\">Mail</a>\n<a href=\"/moved\">Moved</a>\n" +
			"<a href=\"" + s.offURL("/gone") + "\">Gone</a>\n<a href=\"" + s.offURL("/ok") + "\">Elsewhere</a>\n")
	case "/a":
		if s.clean {
			html("<title>A</title>\n<h1 id=\"x\">A</h1>\n<a href=\"/\">Home</a>\n")
			return
		}
		html("<title>A</title>\n<h1 id=\"x\">A</h1>\n<a href=\"/\">Home</a>\n<a href=\"/missing\">Missing again</a>\n")
	case "/moved":
		http.Redirect(w, r, "/a", http.StatusMovedPermanently)
	default:
		http.NotFound(w, r)
	}
}

// checkLine is one line of trawl check's jsonl output.
type checkLine struct {
	URL       string   `json:"url"`
	OK        bool     `json:"ok"`
	Status    int      `json:"status"`
	Error     string   `json:"error"`
	Skipped   string   `json:"skipped"`
	Kind      string   `json:"kind"`
	Redirects []string `json:"redirects"`
	Sources   []struct {
		Page string `json:"page"`
		Tag  string `json:"tag"`
		Attr string `json:"attr"`
		Text string `json:"text"`
		Line int    `json:"line"`
	} `json:"sources"`
}

// checkLines parses jsonl output, checking that every object has exactly
// the documented fields, in order.
func checkLines(t *testing.T, jsonl string) []checkLine {
	t.Helper()
	var out []checkLine
	for _, rec := range records(t, jsonl) {
		keys := make([]string, 0, len(rec))
		for k := range rec {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if got := strings.Join(keys, ","); got != "error,kind,ok,redirects,skipped,sources,status,url" {
			t.Fatalf("jsonl keys %s", got)
		}
		b, _ := json.Marshal(rec)
		var l checkLine
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	for _, line := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		if line != "" && !strings.HasPrefix(line, `{"url":`) || strings.Contains(line, `"sources":null`) || strings.Contains(line, `"redirects":null`) {
			t.Fatalf("jsonl line not in the documented order or with null lists: %s", line)
		}
	}
	return out
}

func brokenURLs(lines []checkLine) []string {
	var urls []string
	for _, l := range lines {
		if !l.OK && l.Skipped == "" {
			urls = append(urls, l.URL)
		}
	}
	sort.Strings(urls)
	return urls
}

func TestE2ECheckJSONL(t *testing.T) {
	t.Parallel()
	s := newCheckSite(t, false)
	dir := t.TempDir()
	out := filepath.Join(dir, "check.jsonl")
	r := trawl(t, "check", s.site.URL+"/", "--format", "jsonl", "-o", out, "--report", filepath.Join(dir, "r.html"))
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (broken links); stderr: %s", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout with -o: %q", r.stdout)
	}
	if !strings.Contains(r.stderr, "4 broken") {
		t.Errorf("stderr lacks the summary: %s", r.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := checkLines(t, string(data))
	want := []string{s.site.URL + "/a#nope", s.site.URL + "/broken.png", s.site.URL + "/missing", s.offURL("/gone")}
	sort.Strings(want)
	if got := brokenURLs(lines); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("broken %v, want %v", got, want)
	}
	for _, l := range lines {
		switch l.URL {
		case s.site.URL + "/missing":
			if l.Kind != "page" || l.Status != 404 || len(l.Sources) != 2 ||
				l.Sources[0].Page != s.site.URL+"/" || l.Sources[0].Line != 3 || l.Sources[0].Text != "Missing" || l.Sources[0].Tag != "a" || l.Sources[0].Attr != "href" ||
				l.Sources[1].Page != s.site.URL+"/a" || l.Sources[1].Line != 4 || l.Sources[1].Text != "Missing again" {
				t.Errorf("/missing: %+v", l)
			}
		case s.site.URL + "/broken.png":
			if l.Kind != "asset" || l.Status != 404 || len(l.Sources) != 1 || l.Sources[0].Tag != "img" || l.Sources[0].Text != "Logo" {
				t.Errorf("/broken.png: %+v", l)
			}
		case s.offURL("/gone"):
			if l.Kind != "link" || l.Status != 410 {
				t.Errorf("/gone: %+v", l)
			}
		case s.site.URL + "/a#nope":
			if l.Kind != "fragment" || !strings.Contains(l.Error, `"nope"`) {
				t.Errorf("/a#nope: %+v", l)
			}
		}
	}

	// --all lists the OK targets too: the redirect, the other host's page,
	// the valid fragment; never mailto:.
	r = trawl(t, "check", s.site.URL+"/", "--format", "jsonl", "--all", "-q")
	all := checkLines(t, r.stdout)
	ok := map[string]checkLine{}
	for _, l := range all {
		if l.OK {
			ok[l.URL] = l
		}
		if strings.Contains(l.URL, "mailto") {
			t.Errorf("mailto: checked: %+v", l)
		}
	}
	for _, u := range []string{s.site.URL + "/", s.site.URL + "/a", s.site.URL + "/a#x", s.site.URL + "/moved", s.offURL("/ok")} {
		if _, found := ok[u]; !found {
			t.Errorf("--all: %s not listed OK", u)
		}
	}
	if m := ok[s.site.URL+"/moved"]; fmt.Sprint(m.Redirects) != "["+s.site.URL+"/a]" {
		t.Errorf("/moved redirects = %v", m.Redirects)
	}
}

func TestE2ECheckTextAndJUnit(t *testing.T) {
	t.Parallel()
	s := newCheckSite(t, false)
	r := trawl(t, "check", s.site.URL+"/")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr: %s", r.code, r.stderr)
	}
	// Grouped by page: the home page's broken links under its URL, in line order.
	home := "\n" + s.site.URL + "/\n"
	i := strings.Index(r.stdout, home)
	if i < 0 {
		t.Fatalf("no group for the home page:\n%s", r.stdout)
	}
	group := r.stdout[i+len(home):]
	group = group[:strings.Index(group, "\n\n")]
	wantLines := []string{
		`  line 3  <a href> "Missing"  ` + s.site.URL + `/missing  404`,
		`  line 4  <a href> "Nope"  ` + s.site.URL + `/a#nope  no element with id or name "nope" on the page`,
		`  line 5  <img src> "Logo"  ` + s.site.URL + `/broken.png  404`,
		`  line 8  <a href> "Gone"  ` + s.offURL("/gone") + `  410`,
	}
	if group != strings.Join(wantLines, "\n") {
		t.Errorf("home page group:\n%s\nwant:\n%s", group, strings.Join(wantLines, "\n"))
	}
	if !strings.Contains(r.stdout, "4 broken, 0 skipped") {
		t.Errorf("no totals line:\n%s", r.stdout)
	}

	r = trawl(t, "check", s.site.URL+"/", "--format", "junit", "-q")
	if r.code != 1 {
		t.Fatalf("junit: exit %d", r.code)
	}
	var suites struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(r.stdout), &suites); err != nil {
		t.Fatalf("junit output is not XML: %v\n%s", err, r.stdout)
	}
	if len(suites.Suites) != 1 || suites.Suites[0].Failures != 4 || suites.Suites[0].Tests != 4 {
		t.Errorf("junit: %+v", suites)
	}
}

func TestE2ECheckCleanSiteAndUsage(t *testing.T) {
	t.Parallel()
	s := newCheckSite(t, true)
	arc := filepath.Join(t.TempDir(), "arc")
	r := trawl(t, "check", s.site.URL+"/", "--format", "jsonl", "--warc", arc)
	if r.code != 0 || r.stdout != "" {
		t.Errorf("clean site: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	if st, err := os.Stat(arc + "-00000.warc.gz"); err != nil || st.Size() == 0 {
		t.Errorf("--warc: no archive of the check: %v", err)
	}
	for _, c := range []struct {
		args []string
		has  string
	}{
		{[]string{"--accept", "abc"}, `--accept: "abc" is not an HTTP status`},
		{[]string{"--format", "csv"}, "--format: must be one of text, jsonl, junit"},
		{[]string{"--max-sources", "-2"}, "--max-sources"},
		{[]string{"--frobnicate"}, "check: unknown flag: --frobnicate"},
	} {
		r := trawl(t, append([]string{"check", s.site.URL + "/"}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.has) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", c.args, r.code, r.stderr, c.has)
		}
	}
	if r := trawl(t, "check"); r.code != 2 || !strings.Contains(r.stderr, "check: no URL given") {
		t.Errorf("no URL: exit %d, %q", r.code, r.stderr)
	}
}

// TestE2ECheckStateResume stops a check after one page, resumes it, and
// checks that the second run reports the broken links found by the first
// (the checker's state is kept in the --state directory) and that a run of
// a finished check reports them again without fetching anything.
func TestE2ECheckStateResume(t *testing.T) {
	t.Parallel()
	s := newCheckSite(t, false)
	state := filepath.Join(t.TempDir(), "state")
	args := []string{"check", s.site.URL + "/", "--state", state, "--format", "jsonl", "-q", "--workers", "1"}
	r := trawl(t, append(args, "--max-pages", "1")...)
	if r.code != 1 {
		t.Fatalf("first run: exit %d, stderr %s", r.code, r.stderr)
	}
	first := brokenURLs(checkLines(t, r.stdout))
	// The first run crawled only the home page: /missing was checked at the
	// end (HEAD) and its fragment could not be.
	r = trawl(t, args...)
	if r.code != 1 {
		t.Fatalf("second run: exit %d, stderr %s", r.code, r.stderr)
	}
	lines := checkLines(t, r.stdout)
	want := []string{s.site.URL + "/a#nope", s.site.URL + "/broken.png", s.site.URL + "/missing", s.offURL("/gone")}
	sort.Strings(want)
	if got := brokenURLs(lines); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("resumed run: broken %v, want %v (first run: %v)", got, want, first)
	}
	for _, l := range lines {
		if l.URL == s.site.URL+"/missing" && len(l.Sources) != 2 {
			t.Errorf("/missing sources after resume: %+v (want the home page's from run 1 and /a's from run 2)", l.Sources)
		}
	}
	s.mu.Lock()
	homeHits := s.hits["/"]
	s.mu.Unlock()

	r = trawl(t, args...)
	if r.code != 1 {
		t.Fatalf("finished run: exit %d, stderr %s", r.code, r.stderr)
	}
	if got := brokenURLs(checkLines(t, r.stdout)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("finished run: broken %v, want %v", got, want)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hits["/"] != homeHits {
		t.Errorf("the finished check fetched the home page again")
	}
}

// jsonlBroken returns the broken targets of a jsonl file.
func jsonlBroken(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return brokenURLs(checkLines(t, string(bytes.TrimSpace(data))+"\n"))
}

// TestE2ECheckRedis runs a check whose crawl lives in Redis: one process
// finds the same broken links as without Redis.
func TestE2ECheckRedis(t *testing.T) {
	t.Parallel()
	redisURL := redistest.URL(t)
	s := newCheckSite(t, false)
	r := trawl(t, "check", s.site.URL+"/", "--redis", redisURL, "--redis-prefix", redistest.Name(t), "--format", "jsonl", "-q")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr %s", r.code, r.stderr)
	}
	want := []string{s.site.URL + "/a#nope", s.site.URL + "/broken.png", s.site.URL + "/missing", s.offURL("/gone")}
	sort.Strings(want)
	if got := brokenURLs(checkLines(t, r.stdout)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("broken %v, want %v", got, want)
	}
}

// TestE2ECheckSIGINT interrupts a check: exit 130, and the report of what
// was checked is still written, saying it was interrupted.
func TestE2ECheckSIGINT(t *testing.T) {
	t.Parallel()
	s := newSite(t, 500, 100*time.Millisecond)
	cmd := trawlCommand(context.Background(), "check", s.url(0), "--per-host", "4", "--workers", "4", "--format", "jsonl", "--all")
	cmd.Dir = t.TempDir()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for s.hitCount("/p/2") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the check fetched nothing in 30s; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, cmd, 30*time.Second); code != 130 {
		t.Fatalf("exit %d, want 130; stderr:\n%s", code, stderr.String())
	}
	lines := checkLines(t, stdout.String())
	if len(lines) == 0 {
		t.Fatal("no report after the interrupt")
	}
	if !strings.Contains(stderr.String(), "check interrupted:") {
		t.Errorf("no summary saying the check was interrupted; stderr:\n%s", stderr.String())
	}
}
