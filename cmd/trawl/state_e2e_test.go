package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier/disk"
)

// TestE2EStateCrashResume kills the real binary with SIGKILL at random
// points of a crawl (several seeds, including moments when the frontier is
// committing: it commits continuously while links are pushed), adds a torn
// line as a kill in the middle of a write would, and resumes until the crawl
// completes. Every page must be in the output, every line must parse, and
// duplicates must stay within the bound: per kill, the records in flight.
func TestE2EStateCrashResume(t *testing.T) {
	t.Parallel()
	const pages, workers = 2000, 8
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			s := newSite(t, pages, time.Millisecond)
			dir := t.TempDir()
			state, out := filepath.Join(dir, "state"), filepath.Join(dir, "out.jsonl")
			args := []string{"crawl", s.url(0), "--quiet", "--ignore-robots", "--workers", fmt.Sprint(workers),
				"--per-host", fmt.Sprint(workers), "--state", state, "-o", out}
			rng := rand.New(rand.NewPCG(seed, seed))
			kills := 0
			for run := 0; ; run++ {
				if run == 12 {
					t.Fatalf("crawl not finished after %d runs", run)
				}
				// The first kill comes early (during the first commits),
				// later ones anywhere in a run; after 8, a run may finish.
				wait := time.Duration(30+rng.IntN(120)) * time.Millisecond
				if run > 0 {
					wait = time.Duration(100+rng.IntN(500)) * time.Millisecond
				}
				if !runOrKill(t, dir, args, wait, run < 8) {
					break
				}
				kills++
				if run == 1 {
					// A record cut short by the kill.
					appendFile(t, out, `{"url":"http://torn.example/","st`)
				}
			}
			if kills == 0 {
				t.Fatal("the crawl finished before the first kill: nothing was resumed")
			}
			count, n := urlCounts(t, out)
			dups := n - len(count)
			for i := range pages {
				if count[s.url(i)] == 0 {
					t.Errorf("page %s missing from the output after %d kills", s.url(i), kills)
				}
			}
			if len(count) != pages {
				t.Errorf("%d distinct URLs in the output; want %d", len(count), pages)
			}
			// Per kill: the records written whose Ack had not returned, at
			// most one per worker (Ack returns once committed).
			if bound := kills * workers; dups > bound {
				t.Errorf("%d duplicate records after %d kills; want at most %d (workers per kill)", dups, kills, bound)
			}
			t.Logf("seed %d: %d kills, %d records, %d duplicates", seed, kills, n, dups)

			// A finished crawl rerun does nothing and says so.
			raw, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			r := trawl(t, append(args[:len(args):len(args)], "--quiet=false")...)
			if r.code != 0 || !strings.Contains(r.stderr, "already finished") {
				t.Errorf("rerun of the finished crawl: exit %d, stderr %q; want 0 and 'already finished'", r.code, r.stderr)
			}
			if again, _ := os.ReadFile(out); !bytes.Equal(again, raw) {
				t.Error("rerun of the finished crawl changed the output")
			}
		})
	}
}

// urlCounts reads the JSONL records of the file at path and returns how
// many records each URL has, and how many records there are.
func urlCounts(t *testing.T, path string) (map[string]int, int) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs := records(t, string(raw))
	count := map[string]int{}
	for _, r := range recs {
		count[fmt.Sprint(r["url"])]++
	}
	return count, len(recs)
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// TestE2EStateCSVResume stops a CSV crawl after some pages, tears its last
// record, and resumes: the file keeps one header and parses as CSV.
func TestE2EStateCSVResume(t *testing.T) {
	t.Parallel()
	s := newSite(t, 60, 0)
	dir := t.TempDir()
	state, out := filepath.Join(dir, "state"), filepath.Join(dir, "out.csv")
	base := []string{"crawl", s.url(0), "--quiet", "--ignore-robots", "--format", "csv", "--state", state, "-o", out,
		"--workers", "2", "--per-host", "2"}
	if r := trawl(t, append(base, "--max-pages", "10")...); r.code != 0 {
		t.Fatalf("first run: exit %d: %s", r.code, r.stderr)
	}
	appendFile(t, out, "http://torn.example/,\"a cell\nwith a newline")
	if r := trawl(t, base...); r.code != 0 {
		t.Fatalf("resumed run: exit %d: %s", r.code, r.stderr)
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
	if len(rows) == 0 || rows[0][0] != "url" {
		t.Fatalf("first row %v; want the header", rows[:min(1, len(rows))])
	}
	seen := map[string]bool{}
	for _, row := range rows[1:] {
		if row[0] == "url" {
			t.Fatal("header written twice")
		}
		if strings.Contains(row[0], "torn.example") {
			t.Fatal("torn record kept")
		}
		seen[row[0]] = true
	}
	for i := range s.pages {
		if !seen[s.url(i)] {
			t.Errorf("page %s missing after resume", s.url(i))
		}
	}
}

// TestE2EStateCookies checks that the cookie jar survives a restart.
func TestE2EStateCookies(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var withCookie []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var i int
		if _, err := fmt.Sscanf(r.URL.Path, "/p/%d", &i); err != nil {
			http.NotFound(w, r)
			return
		}
		if i == 0 {
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s3cret", Path: "/", MaxAge: 3600})
		}
		if c, err := r.Cookie("sid"); err == nil && c.Value == "s3cret" {
			mu.Lock()
			withCookie = append(withCookie, r.URL.Path)
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<html><body><a href="/p/%d">next</a></body></html>`, i+1)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	base := []string{"crawl", srv.URL + "/p/0", "--quiet", "--ignore-robots", "--state", filepath.Join(dir, "state"),
		"-o", filepath.Join(dir, "out.jsonl"), "--workers", "1", "--per-host", "1", "--depth", "3"}
	if r := trawl(t, append(base, "--max-pages", "1")...); r.code != 0 {
		t.Fatalf("first run: exit %d: %s", r.code, r.stderr)
	}
	if r := trawl(t, base...); r.code != 0 {
		t.Fatalf("resumed run: exit %d: %s", r.code, r.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(withCookie, " ") != "/p/1 /p/2 /p/3" {
		t.Errorf("requests carrying the first run's cookie: %v; want /p/1 /p/2 /p/3", withCookie)
	}
}

// TestE2EStateBadDir checks the errors for a state directory that cannot be
// used: each a one-line message and its exit status, the directory left as
// it was.
func TestE2EStateBadDir(t *testing.T) {
	t.Parallel()
	s := newSite(t, 3, 0)
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt")
	os.Mkdir(corrupt, 0o755)
	os.WriteFile(filepath.Join(corrupt, "frontier.db"), bytes.Repeat([]byte("not bbolt"), 1000), 0o644)
	foreign := filepath.Join(dir, "foreign")
	os.Mkdir(foreign, 0o755)
	os.WriteFile(filepath.Join(foreign, "thesis.tex"), []byte("\\documentclass{book}"), 0o644)
	locked := filepath.Join(dir, "locked")
	d, err := disk.Open(locked, disk.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })

	tests := []struct {
		name, state string
		code        int
		inStderr    []string
	}{
		{"corrupt", corrupt, 2, []string{"--state", "corrupt", corrupt}},
		{"foreign", foreign, 2, []string{"--state", "not a trawl state directory", "thesis.tex"}},
		{"locked", locked, 1, []string{"--state", "locked by another trawl process", fmt.Sprintf("pid %d", os.Getpid())}},
		{"with redis", filepath.Join(dir, "x"), 2, []string{"--state", "redis"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshotDir(t, tc.state)
			out := filepath.Join(t.TempDir(), "out.jsonl")
			args := []string{"crawl", s.url(0), "--state", tc.state, "-o", out}
			if tc.name == "with redis" {
				args = append(args, "--redis", "redis://127.0.0.1:1/0")
			}
			r := trawl(t, args...)
			if r.code != tc.code {
				t.Fatalf("exit %d; want %d; stderr:\n%s", r.code, tc.code, r.stderr)
			}
			msg := strings.TrimSpace(r.stderr)
			if strings.Count(msg, "\n") > 0 {
				t.Errorf("want one line, got:\n%s", msg)
			}
			for _, want := range tc.inStderr {
				if !strings.Contains(msg, want) {
					t.Errorf("stderr %q does not contain %q", msg, want)
				}
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("the output file was created although the crawl did not start")
			}
			if after := snapshotDir(t, tc.state); after != before {
				t.Errorf("the state directory was modified:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func snapshotDir(t *testing.T, dir string) string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "missing"
	}
	var sb strings.Builder
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fmt.Fprintf(&sb, "%s:%d:%x ", e.Name(), len(b), b[:min(len(b), 32)])
	}
	return sb.String()
}

// TestE2EStateMaxPagesAcrossRuns checks that --max-pages counts the pages of
// every run of a --state crawl, also a killed one: a crawl killed halfway
// and resumed with the same command ends with exactly --max-pages distinct
// pages; a rerun then says there is nothing to do, and a larger
// --max-pages goes on from there.
func TestE2EStateMaxPagesAcrossRuns(t *testing.T) {
	t.Parallel()
	const workers, limit = 4, 120
	s := newSite(t, 1000, 2*time.Millisecond)
	dir := t.TempDir()
	state, out := filepath.Join(dir, "state"), filepath.Join(dir, "out.jsonl")
	args := func(max int) []string {
		return []string{"crawl", s.url(0), "--ignore-robots", "--workers", fmt.Sprint(workers),
			"--per-host", fmt.Sprint(workers), "--state", state, "-o", out, "--max-pages", fmt.Sprint(max)}
	}
	distinct := func() (map[string]int, int) { return urlCounts(t, out) }

	// Kill the first run once it has written some records.
	cmd := trawlCommand(t.Context(), append(args(limit), "--quiet")...)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, _ := os.ReadFile(out); bytes.Count(b, []byte("\n")) >= limit/3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first run wrote too few records in 30s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	count, n := distinct()
	if len(count) >= limit {
		t.Fatalf("the killed run wrote %d pages already; the site is too fast for this test", len(count))
	}

	if r := trawl(t, append(args(limit), "--quiet")...); r.code != 0 {
		t.Fatalf("resumed run: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	count, n = distinct()
	if len(count) != limit {
		t.Errorf("%d distinct pages after the resumed run; want --max-pages %d", len(count), limit)
	}
	if dups := n - len(count); dups > workers {
		t.Errorf("%d duplicate records after one kill; want at most %d", dups, workers)
	}

	r := trawl(t, args(limit)...)
	if r.code != 0 || !strings.Contains(r.stderr, "--max-pages is 120: nothing to do") {
		t.Errorf("rerun at the limit: exit %d, stderr %q; want 0 and 'nothing to do'", r.code, r.stderr)
	}
	if _, again := distinct(); again != n {
		t.Errorf("rerun at the limit wrote %d records", again-n)
	}

	r = trawl(t, args(limit+30)...)
	if r.code != 0 {
		t.Fatalf("run with a larger --max-pages: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if want := "done: 30 pages"; !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "150 pages in 3 runs in all") {
		t.Errorf("summary of the last run: %q; want %q and the pages of all runs", r.stderr, want)
	}
	if count, _ := distinct(); len(count) != limit+30 {
		t.Errorf("%d distinct pages after raising --max-pages to %d", len(count), limit+30)
	}
}
