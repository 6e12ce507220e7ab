package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// trawlBin is the real binary, built once by TestMain.
var trawlBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "trawl-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	trawlBin = filepath.Join(dir, "trawl")
	args := []string{"build", "-o", trawlBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building trawl:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// site is an httptest web site of pages /p/0 .. /p/N-1. Page i links to
// pages 2i+1 and 2i+2 (a binary tree, so depth is log2) and to an external
// host that must never be fetched.
type site struct {
	*httptest.Server
	pages   int
	latency time.Duration // per page; the handler returns early when the client goes away

	mu       sync.Mutex
	hits     map[string]int
	headers  []http.Header
	inflight atomic.Int64
}

func newSite(t *testing.T, pages int, latency time.Duration) *site {
	t.Helper()
	s := &site{pages: pages, latency: latency, hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *site) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	s.headers = append(s.headers, r.Header.Clone())
	s.mu.Unlock()
	if r.URL.Path == "/robots.txt" {
		http.NotFound(w, r)
		return
	}
	if s.latency > 0 {
		select {
		case <-time.After(s.latency):
		case <-r.Context().Done():
			return
		}
	}
	var i int
	if _, err := fmt.Sscanf(r.URL.Path, "/p/%d", &i); err != nil || i < 0 || i >= s.pages {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><html><head><title>Page %d</title></head><body><h1>Heading %d</h1>", i, i)
	for _, c := range []int{2*i + 1, 2*i + 2} {
		if c < s.pages {
			fmt.Fprintf(w, `<a href="/p/%d">page %d</a> `, c, c)
		}
	}
	fmt.Fprint(w, `<a href="http://elsewhere.invalid/x">out of scope</a></body></html>`)
}

func (s *site) url(i int) string { return fmt.Sprintf("%s/p/%d", s.URL, i) }

func (s *site) hitCount(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// trawlCommand is the binary with args. A race-enabled binary reports
// races with exit status 66 and skips the race runtime's 1s sleep at exit.
func trawlCommand(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, trawlBin, args...)
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0 exitcode=66")
	return cmd
}

// result is one finished run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

// trawl runs the binary to completion (bounded by a generous timeout).
func trawl(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := trawlCommand(ctx, args...)
	cmd.Dir = t.TempDir() // no ./config.yaml there
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running trawl %q: %v", args, err)
	}
	return result{code, out.String(), errb.String()}
}

// records parses JSON Lines, failing the test on any line that is not one
// complete JSON object.
func records(t *testing.T, jsonl string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(jsonl))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for n := 1; sc.Scan(); n++ {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %d is not a JSON object: %v: %q", n, err, sc.Text())
		}
		recs = append(recs, r)
	}
	if jsonl != "" && !strings.HasSuffix(jsonl, "\n") {
		t.Fatalf("output ends with a partial line: %q", jsonl[strings.LastIndexByte(jsonl, '\n')+1:])
	}
	return recs
}

// recordFields are the keys every record carries (the pipeline's format).
var recordFields = []string{"url", "final_url", "status", "depth", "referrer", "content_type", "title",
	"bytes", "truncated", "elapsed_ms", "fetched_at", "links", "data", "error"}

func urlsOf(recs []map[string]any) []string {
	var urls []string
	for _, r := range recs {
		urls = append(urls, fmt.Sprint(r["url"]))
	}
	sort.Strings(urls)
	return urls
}

func TestE2ECrawlJSONL(t *testing.T) {
	t.Parallel()
	s := newSite(t, 31, 0)
	r := trawl(t, "crawl", s.url(0), "--workers", "8")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	recs := records(t, r.stdout)
	if len(recs) != s.pages {
		t.Fatalf("%d records, want %d: %q", len(recs), s.pages, urlsOf(recs))
	}
	seen := map[string]bool{}
	for _, rec := range recs {
		for _, f := range recordFields {
			if _, ok := rec[f]; !ok {
				t.Fatalf("record lacks %q: %v", f, rec)
			}
		}
		u := rec["url"].(string)
		if seen[u] {
			t.Fatalf("url %s exported twice", u)
		}
		seen[u] = true
		var i int
		if _, err := fmt.Sscanf(strings.TrimPrefix(u, s.URL), "/p/%d", &i); err != nil {
			t.Fatalf("unexpected url %q", u)
		}
		if rec["status"].(float64) != 200 || rec["error"] != "" || rec["title"] != fmt.Sprintf("Page %d", i) {
			t.Fatalf("bad record for %s: %v", u, rec)
		}
		if _, err := time.Parse(time.RFC3339, rec["fetched_at"].(string)); err != nil {
			t.Fatalf("fetched_at: %v", err)
		}
		// Page i is at depth floor(log2(i+1)).
		depth := 0
		for n := i + 1; n > 1; n /= 2 {
			depth++
		}
		if int(rec["depth"].(float64)) != depth {
			t.Fatalf("%s: depth %v, want %d", u, rec["depth"], depth)
		}
		links := rec["links"].([]any)
		if len(links) == 0 || links[len(links)-1] != "http://elsewhere.invalid/x" {
			t.Fatalf("%s: links %v lack the out-of-scope link", u, links)
		}
	}
	for i := 0; i < s.pages; i++ {
		if n := s.hitCount(fmt.Sprintf("/p/%d", i)); n != 1 {
			t.Errorf("page %d fetched %d times", i, n)
		}
	}
	if !strings.Contains(r.stderr, fmt.Sprintf("trawl: done: %d pages (%d ok, 0 errors)", s.pages, s.pages)) {
		t.Fatalf("no summary on stderr:\n%s", r.stderr)
	}
}

func TestE2EStdoutOnlyRecords(t *testing.T) {
	t.Parallel()
	// Debug logging, forced progress and a summary all go to stderr; stdout
	// must still be pure JSON Lines.
	s := newSite(t, 15, 5*time.Millisecond)
	r := trawl(t, "crawl", s.url(0), "-v", "--progress", "--log-format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if n := len(records(t, r.stdout)); n != s.pages {
		t.Fatalf("%d records, want %d", n, s.pages)
	}
	if !strings.Contains(r.stderr, "trawl: done:") {
		t.Fatalf("no summary on stderr:\n%s", r.stderr)
	}
	if !regexp.MustCompile(`\r\d+ pages  [0-9.]+/s  queued \d+  in flight \d+  errors \d+  hosts \d+`).MatchString(r.stderr) {
		t.Fatalf("no progress line on stderr:\n%q", r.stderr)
	}
	if n := strings.Count(r.stderr, `"msg":"fetched"`); n != s.pages {
		t.Fatalf("-v logged %d fetched pages, want %d:\n%s", n, s.pages, r.stderr)
	}
}

func TestE2EQuietOutputFileAndStats(t *testing.T) {
	t.Parallel()
	s := newSite(t, 20, 0)
	dir := t.TempDir()
	out, stats := filepath.Join(dir, "pages.jsonl"), filepath.Join(dir, "stats.json")
	r := trawl(t, "crawl", s.url(0), "-q", "-o", out, "--stats", stats)
	if r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 0 and nothing printed", r.code, r.stdout, r.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(records(t, string(data))); n != s.pages {
		t.Fatalf("%d records in %s, want %d", n, out, s.pages)
	}
	raw, err := os.ReadFile(stats)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("stats file: %v\n%s", err, raw)
	}
	for _, k := range []string{"pages", "ok", "errors", "by_status", "bytes", "elapsed_s", "pages_per_s", "conns_opened", "conns_reused"} {
		if _, ok := st[k]; !ok {
			t.Errorf("stats lack %q: %s", k, raw)
		}
	}
	if st["pages"] != float64(s.pages) || st["ok"] != float64(s.pages) || st["errors"] != float64(0) {
		t.Errorf("stats pages/ok/errors = %v/%v/%v, want %d/%d/0", st["pages"], st["ok"], st["errors"], s.pages, s.pages)
	}
	if by, _ := st["by_status"].(map[string]any); by["200"] != float64(s.pages) {
		t.Errorf("by_status = %v, want 200: %d", st["by_status"], s.pages)
	}
	if b, _ := st["bytes"].(float64); b <= 0 {
		t.Errorf("bytes = %v", st["bytes"])
	}
	if c, _ := st["conns_opened"].(float64); c < 1 {
		t.Errorf("conns_opened = %v", st["conns_opened"])
	}
}

func TestE2ECSV(t *testing.T) {
	t.Parallel()
	s := newSite(t, 10, 0)
	out := filepath.Join(t.TempDir(), "pages.csv")
	r := trawl(t, "crawl", s.url(0), "--format", "csv", "-o", out, "--select", "h=h1")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("output is not valid CSV: %v", err)
	}
	if len(rows) != s.pages+1 {
		t.Fatalf("%d rows, want a header and %d records", len(rows), s.pages)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range []string{"url", "status", "title"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("header %q lacks %q", rows[0], h)
		}
	}
	for _, row := range rows[1:] {
		if row[col["status"]] != "200" || !strings.HasPrefix(row[col["url"]], s.URL+"/p/") {
			t.Fatalf("bad row %q", row)
		}
		if !strings.Contains(strings.Join(row, ","), "Heading ") {
			t.Fatalf("row %q lacks the selected h1", row)
		}
	}
}

func TestE2EScopeAndLimits(t *testing.T) {
	t.Parallel()
	s := newSite(t, 63, 0)
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"depth 0 is the seed only", []string{"--depth", "0"}, 1},
		{"depth 2", []string{"--depth", "2"}, 7},
		{"max pages", []string{"--max-pages", "5", "--workers", "1"}, 5},
		{"exclude", []string{"--exclude", `/p/[1-9][0-9]$`}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := trawl(t, append([]string{"crawl", s.url(0), "-q"}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			if recs := records(t, r.stdout); len(recs) != tt.want {
				t.Fatalf("%d records, want %d: %q", len(recs), tt.want, urlsOf(recs))
			}
		})
	}
}

func TestE2EHeadersCookiesAndSelect(t *testing.T) {
	t.Parallel()
	s := newSite(t, 3, 0)
	r := trawl(t, "crawl", s.url(0), "-q", "-H", "X-Test: yes", "--cookie", "token=abc",
		"--user-agent", "trawl-e2e/1", "--select", "heading=h1", "--select", "next=a@href")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	recs := records(t, r.stdout)
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	for _, rec := range recs {
		data, _ := rec["data"].(map[string]any)
		h, _ := data["heading"].([]any)
		if len(h) != 1 || !strings.HasPrefix(h[0].(string), "Heading ") {
			t.Fatalf("data.heading = %v in %v", data["heading"], rec)
		}
		if _, ok := data["next"]; !ok {
			t.Fatalf("data lacks next: %v", data)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.headers {
		if h.Get("X-Test") != "yes" || h.Get("User-Agent") != "trawl-e2e/1" {
			t.Fatalf("request headers %v lack X-Test or the user agent", h)
		}
		if !strings.Contains(h.Get("Cookie"), "token=abc") {
			t.Fatalf("request lacks the cookie: %v", h)
		}
	}
}

func TestE2EExitCodes(t *testing.T) {
	t.Parallel()
	s := newSite(t, 1, 0)
	dir := t.TempDir()
	badKey := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badKey, []byte("workers: 4\nsped: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badType := filepath.Join(dir, "type.yaml")
	if err := os.WriteFile(badType, []byte("per_host: lots\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string // the one line must contain it
	}{
		{"no command", nil, 2, "no command"},
		{"unknown command", []string{"crawll"}, 2, `unknown command "crawll"`},
		{"unknown flag", []string{"crawl", "--wrkers", "3", s.url(0)}, 2, "--wrkers"},
		{"bad flag value", []string{"crawl", "--workers", "x", s.url(0)}, 2, "--workers"},
		{"invalid flag value", []string{"crawl", "--per-host", "0", s.url(0)}, 2, "--per-host"},
		{"bad size", []string{"crawl", "--max-body", "12XB", s.url(0)}, 2, "--max-body"},
		{"bad URL", []string{"crawl", "htp://x.example/"}, 2, `"htp://x.example/"`},
		{"no URL", []string{"crawl"}, 2, "no URL"},
		{"unknown key", []string{"crawl", "-c", badKey, s.url(0)}, 2, `bad.yaml:2: unknown key "sped"`},
		{"bad type", []string{"crawl", "-c", badType, s.url(0)}, 2, `type.yaml:1: per_host`},
		{"output dir missing", []string{"crawl", "-o", filepath.Join(dir, "no", "x.jsonl"), s.url(0)}, 2, "--output"},
		{"ok", []string{"crawl", "-q", s.url(0)}, 0, ""},
		{"version", []string{"version"}, 0, ""},
		{"help", []string{"help"}, 0, ""},
		{"crawl help", []string{"crawl", "--help"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := trawl(t, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			if tt.code == 2 {
				lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
				last := lines[len(lines)-1]
				if !strings.Contains(last, tt.inStderr) || !strings.HasPrefix(last, "trawl: ") {
					t.Fatalf("stderr %q: want a 'trawl: ' line containing %q", r.stderr, tt.inStderr)
				}
				if r.stdout != "" && tt.name != "no command" {
					t.Fatalf("stdout not empty on a usage error: %q", r.stdout)
				}
			}
		})
	}
	if r := trawl(t, "version"); !strings.HasPrefix(r.stdout, "trawl ") {
		t.Errorf("version printed %q", r.stdout)
	}
	if r := trawl(t, "help"); !strings.Contains(r.stdout, "Examples:") {
		t.Errorf("help lacks examples: %q", r.stdout)
	}
	if r := trawl(t, "crawl", "--help"); !strings.Contains(r.stdout, "--max-body") || !strings.Contains(r.stdout, "Examples:") {
		t.Errorf("crawl --help lacks flags or examples: %q", r.stdout)
	}
}

// slowCrawl starts the binary on a slow site and waits until it has written
// at least minLines records.
func slowCrawl(t *testing.T, s *site, minLines int, args ...string) (*exec.Cmd, *syncBuffer, *syncBuffer) {
	t.Helper()
	cmd := trawlCommand(context.Background(), append([]string{"crawl", s.url(0)}, args...)...)
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
	for strings.Count(stdout.String(), "\n") < minLines {
		if time.Now().After(deadline) {
			t.Fatalf("no %d records after 30s; stderr:\n%s", minLines, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cmd, stdout, stderr
}

// waitExit waits for cmd with a generous bound and returns its exit code.
func waitExit(t *testing.T, cmd *exec.Cmd, bound time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(bound):
		cmd.Process.Kill()
		<-done
		t.Fatalf("trawl did not exit within %s of the signal", bound)
		return -1
	}
}

func TestE2ESIGINT(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			s := newSite(t, 500, 100*time.Millisecond)
			stats := filepath.Join(t.TempDir(), "stats.json")
			cmd, stdout, stderr := slowCrawl(t, s, 3, "--per-host", "4", "--workers", "4", "--stats", stats)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := waitExit(t, cmd, 30*time.Second); code != 130 {
				t.Fatalf("exit %d, want 130; stderr:\n%s", code, stderr.String())
			}
			recs := records(t, stdout.String())
			if len(recs) == 0 || len(recs) >= s.pages {
				t.Fatalf("%d records after an interrupt, want some but not all %d", len(recs), s.pages)
			}
			for _, rec := range recs {
				if rec["status"] != float64(200) {
					t.Fatalf("in-flight request not finished gracefully: %v", rec)
				}
			}
			if !strings.Contains(stderr.String(), "trawl: interrupted: ") {
				t.Fatalf("no summary after the interrupt; stderr:\n%s", stderr.String())
			}
			raw, err := os.ReadFile(stats)
			if err != nil {
				t.Fatal(err)
			}
			var st struct {
				Pages       int  `json:"pages"`
				Interrupted bool `json:"interrupted"`
			}
			if err := json.Unmarshal(raw, &st); err != nil || st.Pages != len(recs) || !st.Interrupted {
				t.Fatalf("stats %s (err %v): want pages %d, interrupted", raw, err, len(recs))
			}
		})
	}
}

func TestE2ESecondSIGINTExitsAtOnce(t *testing.T) {
	t.Parallel()
	// Pages take 40s and the grace period is a minute: only the second
	// interrupt can make trawl exit within the bound.
	s := newSite(t, 100, 0)
	slow := newSite(t, 100, 40*time.Second)
	// Seed both: the fast site produces records, the slow one holds workers.
	cmd := trawlCommand(context.Background(), "crawl", s.url(0), slow.url(0), "--grace-period", "1m", "--workers", "4", "--per-host", "2")
	cmd.Dir = t.TempDir()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(stdout.String(), "\n") < s.pages || slow.hitCount("/p/0") == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("fast site not crawled or slow site not reached; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	if code := waitExit(t, cmd, 20*time.Second); code != 130 {
		t.Fatalf("exit %d, want 130; stderr:\n%s", code, stderr.String())
	}
	if n := len(records(t, stdout.String())); n < s.pages {
		t.Fatalf("%d records, want at least the %d of the fast site", n, s.pages)
	}
	if !strings.Contains(stderr.String(), "exiting now") {
		t.Fatalf("stderr lacks the exit message:\n%s", stderr.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestE2EFatalErrorExit1(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/full"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI: /dev/full is needed for this test: %v", err)
		}
		t.Skip("no /dev/full on this system (CI fails instead)")
	}
	s := newSite(t, 3, 0)
	r := trawl(t, "crawl", s.url(0), "-o", "/dev/full")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 for an output that cannot be written; stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "no space left on device") || !strings.Contains(r.stderr, "trawl: failed:") {
		t.Fatalf("stderr lacks the cause or the summary:\n%s", r.stderr)
	}
}

func TestE2EConfigFileInWorkingDir(t *testing.T) {
	t.Parallel()
	s := newSite(t, 31, 0)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("max_pages: 2\nworkers: 1\nquiet: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) result {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := trawlCommand(ctx, append([]string{"crawl", s.url(0)}, args...)...)
		cmd.Dir = dir
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return result{code, out.String(), errb.String()}
	}
	r := run()
	if n := len(records(t, r.stdout)); r.code != 0 || n != 2 || r.stderr != "" {
		t.Fatalf("./config.yaml (max_pages 2, quiet): exit %d, %d records, stderr %q", r.code, n, r.stderr)
	}
	r = run("--max-pages", "3", "--quiet=false")
	if n := len(records(t, r.stdout)); r.code != 0 || n != 3 || !strings.Contains(r.stderr, "trawl: done: 3 pages") {
		t.Fatalf("flags over ./config.yaml: exit %d, %d records, stderr %q", r.code, n, r.stderr)
	}
}

func TestE2EAllowDomain(t *testing.T) {
	t.Parallel()
	// Scope is by host name, so the other site is the same server under
	// another name: localhost instead of 127.0.0.1.
	other := newSite(t, 1, 0)
	otherURL := strings.Replace(other.url(0), "127.0.0.1", "localhost", 1)
	main := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<a href="%s">other site</a>`, otherURL)
	}))
	defer main.Close()
	otherHost := "localhost"

	r := trawl(t, "crawl", main.URL+"/", "-q")
	if recs := records(t, r.stdout); r.code != 0 || len(recs) != 1 || other.hitCount("/p/0") != 0 {
		t.Fatalf("default scope: exit %d, records %q, other site hit %d times", r.code, urlsOf(recs), other.hitCount("/p/0"))
	}
	r = trawl(t, "crawl", main.URL+"/", "-q", "--allow-domain", otherHost)
	if recs := records(t, r.stdout); r.code != 0 || len(recs) != 2 || other.hitCount("/p/0") != 1 {
		t.Fatalf("--allow-domain %s: exit %d, records %q, other site hit %d times; stderr:\n%s",
			otherHost, r.code, urlsOf(recs), other.hitCount("/p/0"), r.stderr)
	}
}

// TestE2EUserAgentOneHome: --user-agent and -H 'User-Agent: ...' both set
// the one User-Agent, the last given wins, and it reaches the server on
// every request, robots.txt and sitemaps included. Its product token
// picks the robots.txt group and names the <meta name=TOKEN> and
// "TOKEN: noindex" X-Robots-Tag directives the crawl obeys: a noindex page
// is not exported and a nofollow page's links are not fetched. (Before the
// fix -H 'User-Agent' was replaced by the crawler's agent, and the CLI
// never gave the pipeline the token, so <meta name=trawl> was ignored.)
func TestE2EUserAgentOneHome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		args  []string
		agent string
	}{
		{"default", nil, "trawl/1.0 (+https://github.com/trawlhq/trawl)"},
		{"header", []string{"-H", "User-Agent: MyBot/2"}, "MyBot/2"},
		{"flag then header", []string{"--user-agent", "other/1", "-H", "User-Agent: MyBot/2"}, "MyBot/2"},
		{"header then flag", []string{"-H", "User-Agent: other/1", "--user-agent", "MyBot/3"}, "MyBot/3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			token := strings.ToLower(tc.agent[:strings.IndexAny(tc.agent, "/")])
			var mu sync.Mutex
			agents := map[string]string{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				agents[r.URL.Path] = r.UserAgent()
				mu.Unlock()
				self := "http://" + r.Host
				page := func(head, body string) {
					w.Header().Set("Content-Type", "text/html")
					fmt.Fprintf(w, "<html><head>%s</head><body>%s</body></html>", head, body)
				}
				switch r.URL.Path {
				case "/robots.txt":
					fmt.Fprintf(w, "User-agent: %s\nDisallow: /not-for-us\n\nUser-agent: *\nDisallow: /not-for-others\n\nSitemap: %s/sm.xml\n", token, self)
				case "/sm.xml":
					fmt.Fprintf(w, `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>%s/listed</loc></url></urlset>`, self)
				case "/":
					page("", `<a href="/meta">m</a><a href="/header">h</a><a href="/not-for-us">x</a><a href="/not-for-others">y</a>`)
				case "/meta":
					page(`<meta name="`+token+`" content="noindex, nofollow">`, `<a href="/hidden">h</a>`)
				case "/header":
					w.Header().Set("X-Robots-Tag", token+": noindex")
					page("", "")
				case "/listed", "/hidden", "/not-for-us", "/not-for-others":
					page("", "")
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			args := append([]string{"crawl", srv.URL + "/", "-q", "--sitemaps"}, tc.args...)
			r := trawl(t, args...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			got := map[string]bool{}
			for _, u := range urlsOf(records(t, r.stdout)) {
				got[strings.TrimPrefix(u, srv.URL)] = true
			}
			for _, p := range []string{"/", "/listed", "/not-for-others"} {
				if !got[p] {
					t.Errorf("%s not exported; records %v", p, got)
				}
			}
			for _, p := range []string{"/meta", "/header"} {
				if got[p] {
					t.Errorf("%s exported although it is noindex for %q", p, token)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if _, ok := agents["/hidden"]; ok {
				t.Error("the link of a nofollow page was fetched")
			}
			if _, ok := agents["/not-for-us"]; ok {
				t.Error("a URL robots.txt disallows for our product token was fetched")
			}
			for _, p := range []string{"/robots.txt", "/sm.xml", "/sitemap.xml", "/", "/meta", "/listed"} {
				if agents[p] != tc.agent {
					t.Errorf("%s requested with User-Agent %q, want %q", p, agents[p], tc.agent)
				}
			}
		})
	}
}

// runOrKill runs trawl with args in dir until it exits or wait passes;
// then, when kill is true, it kills it with SIGKILL (as a crash would) and
// reports true, else it waits for the exit. A run that exits with an error
// fails the test.
func runOrKill(t *testing.T, dir string, args []string, wait time.Duration, kill bool) (killed bool) {
	t.Helper()
	cmd := trawlCommand(t.Context(), args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("trawl %s: %v; stderr:\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return false
	case <-time.After(wait):
	}
	if !kill {
		if err := <-exited; err != nil {
			t.Fatalf("trawl %s: %v; stderr:\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return false
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
	return true
}
