package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trawlhq/trawl/internal/redistest"
	"github.com/trawlhq/trawl/internal/warciotest"
	"github.com/trawlhq/trawl/session/warc"
)

// warcRec is a record of a WARC set read back.
type warcRec struct {
	*warc.Record
	file  string
	block []byte
}

// readWarcSet reads every record of the set prefix names, failing on any
// record that does not parse.
func readWarcSet(t *testing.T, prefix string) ([]warcRec, []string) {
	t.Helper()
	files, _ := filepath.Glob(prefix + "-*.warc.gz")
	sort.Strings(files)
	var out []warcRec
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		r := warc.NewReader(f)
		for {
			rec, _, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			b, _ := io.ReadAll(rec.Block)
			out = append(out, warcRec{rec, filepath.Base(name), b})
		}
		f.Close()
	}
	return out, files
}

// checkAgainstWarcio compares the set with what warcio.js reads and
// indexes.
func checkAgainstWarcio(t *testing.T, prefix string, recs []warcRec, files []string) {
	t.Helper()
	theirs := warciotest.Records(t, files...)
	if len(theirs) != len(recs) {
		t.Fatalf("warcio.js read %d records, we read %d", len(theirs), len(recs))
	}
	for i, w := range theirs {
		if w.ID != recs[i].ID || w.PayloadDigest != recs[i].Get("WARC-Payload-Digest") {
			t.Errorf("record %d: warcio.js %s %s, we %s %s", i, w.ID, w.PayloadDigest, recs[i].ID, recs[i].Get("WARC-Payload-Digest"))
		}
		if w.Type == warc.TypeResponse && w.RawPayloadSHA1 != w.PayloadDigest {
			t.Errorf("response %s: payload hashes to %s, digest says %s", w.URI, w.RawPayloadSHA1, w.PayloadDigest)
		}
	}
	b, err := os.ReadFile(prefix + ".cdxj")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSuffix(string(b), "\n"), strings.Join(warciotest.CDXJ(t, files...), "\n"); got != want {
		t.Errorf("CDXJ index differs from warcio.js's:\nours:\n%.2000s\nwarcio.js:\n%.2000s", got, want)
	}
}

// TestE2EWarc crawls a site with --warc --warc-cdx: every page and
// robots.txt is archived with its request, and warcio.js agrees with the
// files and the index.
func TestE2EWarc(t *testing.T) {
	t.Parallel()
	s := newSite(t, 40, 0)
	dir := t.TempDir()
	prefix := filepath.Join(dir, "arc", "site")
	os.Mkdir(filepath.Join(dir, "arc"), 0o755)
	r := trawl(t, "crawl", s.url(0), "--quiet", "--warc", prefix, "--warc-cdx", "-o", filepath.Join(dir, "out.jsonl"))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	recs, files := readWarcSet(t, prefix)
	resp := map[string]int{}
	reqs := map[string]string{} // Concurrent-To -> URI
	for _, rec := range recs {
		switch rec.Type {
		case warc.TypeResponse:
			resp[rec.Get("WARC-Target-URI")]++
		case warc.TypeRequest:
			reqs[rec.Get("WARC-Concurrent-To")] = rec.Get("WARC-Target-URI")
		}
	}
	for i := range 40 {
		if resp[s.url(i)] != 1 {
			t.Errorf("%s: %d response records, want 1", s.url(i), resp[s.url(i)])
		}
	}
	if resp[s.URL+"/robots.txt"] != 1 {
		t.Errorf("robots.txt: %d response records, want 1", resp[s.URL+"/robots.txt"])
	}
	for _, rec := range recs {
		if rec.Type == warc.TypeResponse && reqs[rec.ID] != rec.Get("WARC-Target-URI") {
			t.Errorf("response %s has no request record", rec.Get("WARC-Target-URI"))
		}
	}
	if recs[0].Type != warc.TypeWarcinfo {
		t.Errorf("first record is %s, want warcinfo", recs[0].Type)
	}
	if block := recs[0].block; !bytes.Contains(block, []byte("software: trawl ")) || !bytes.Contains(block, []byte("isPartOf: site")) {
		t.Errorf("warcinfo block lacks software or isPartOf: %q", block)
	}
	checkAgainstWarcio(t, prefix, recs, files)
}

func TestE2EWarcBadFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--warc-cdx"}, "--warc-cdx: needs warc"},
		{[]string{"--warc", filepath.Join(dir, "missing", "x")}, "--warc: "},
		{[]string{"--warc", filepath.Join(dir, "x"), "--warc-max-size", "0"}, "--warc-max-size: must be a positive size"},
		{[]string{"--warc", dir + "/"}, "--warc: "},
		{[]string{"--warc", filepath.Join(dir, "x"), "--warc-level", "-1"}, "--warc-level: must be 0 (stored) to 9"},
	} {
		r := trawl(t, append([]string{"crawl", "http://127.0.0.1:1/"}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// TestE2EWarcCrashResume kills a --warc --state crawl with SIGKILL several
// times (once also leaving half a record at the end of the last file, as a
// kill in the middle of a write would) and resumes it until it completes.
// Every page must be archived, every record must be readable (by us and by
// warcio.js), the index must match warcio.js's, and the pages archived
// twice must stay within the work in flight per kill. A page fetched again
// is a revisit when the killed run had stored its digest, and a revisit
// must refer to a record of the archive.
func TestE2EWarcCrashResume(t *testing.T) {
	t.Parallel()
	const pages, workers = 600, 8
	// 5 ms a page: the crawl lasts at least 600/8 × 5 ms = 375 ms, so the
	// first run is killed (the archive got fast enough to finish a 1 ms
	// site before the first kill, which left the test without one).
	s := newSite(t, pages, 5*time.Millisecond)
	dir := t.TempDir()
	prefix := filepath.Join(dir, "arc")
	args := []string{"crawl", s.url(0), "--quiet", "--ignore-robots", "--workers", fmt.Sprint(workers),
		"--per-host", fmt.Sprint(workers), "--state", filepath.Join(dir, "state"), "-o", filepath.Join(dir, "out.jsonl"),
		"--warc", prefix, "--warc-cdx", "--warc-level", "-2"}
	rng := rand.New(rand.NewPCG(7, 7))
	kills, torn := 0, false
	for run := 0; ; run++ {
		if run == 10 {
			t.Fatalf("crawl not finished after %d runs", run)
		}
		wait := time.Duration(30+rng.IntN(170)) * time.Millisecond
		if !runOrKill(t, dir, args, wait, run < 5) {
			break
		}
		kills++
		if run >= 1 && !torn {
			torn = tearLast(t, prefix)
		}
	}
	if kills == 0 {
		t.Fatal("the crawl finished before the first kill: nothing was resumed")
	}
	recs, files := readWarcSet(t, prefix)
	ids := map[string]bool{}
	captures := map[string]int{}
	for _, rec := range recs {
		ids[rec.ID] = true
		if rec.Type == warc.TypeResponse || rec.Type == warc.TypeRevisit {
			captures[rec.Get("WARC-Target-URI")]++
		}
	}
	dups := 0
	for i := range pages {
		n := captures[s.url(i)]
		if n == 0 {
			t.Errorf("page %s missing from the archive after %d kills", s.url(i), kills)
		}
		dups += max(n-1, 0)
	}
	if bound := kills * workers; dups > bound {
		t.Errorf("%d pages archived twice after %d kills; want at most %d (workers per kill)", dups, kills, bound)
	}
	revisits := 0
	for _, rec := range recs {
		if rec.Type == warc.TypeRevisit {
			revisits++
		}
		if rec.Type == warc.TypeRevisit && !ids[rec.Get("WARC-Refers-To")] {
			t.Errorf("revisit of %s refers to %s, which is not in the archive", rec.Get("WARC-Target-URI"), rec.Get("WARC-Refers-To"))
		}
	}
	t.Logf("%d kills (a torn record added: %v), %d files, %d records, %d pages archived twice, %d revisits",
		kills, torn, len(files), len(recs), dups, revisits)
	checkAgainstWarcio(t, prefix, recs, files)
}

// tearLast appends the first half of the last file's last record to it: a
// record torn by a kill during its write. It reports false when there is no
// record yet (a kill before the first file was written).
func tearLast(t *testing.T, prefix string) bool {
	t.Helper()
	files, _ := filepath.Glob(prefix + "-*.warc.gz")
	sort.Strings(files)
	if len(files) == 0 {
		return false
	}
	name := files[len(files)-1]
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	r := warc.NewReader(f)
	var last warc.Location
	for {
		_, loc, err := r.Next()
		if err != nil {
			break
		}
		last = loc
	}
	f.Close()
	if last.Length == 0 {
		return false
	}
	b, _ := os.ReadFile(name)
	member := b[last.Offset : last.Offset+last.Length]
	appendFile(t, name, string(member[:len(member)/2]))
	return true
}

// TestE2EWarcStateDedup: with --state the payload digests survive the run,
// so a later run that meets an archived payload again writes a revisit of
// the earlier run's record (in memory, it would write the payload again).
func TestE2EWarcStateDedup(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "the same payload everywhere")
	}))
	defer srv.Close()
	dir := t.TempDir()
	prefix := filepath.Join(dir, "arc")
	common := []string{"--quiet", "--ignore-robots", "--state", filepath.Join(dir, "state"), "--warc", prefix, "-o", filepath.Join(dir, "out.jsonl")}
	if r := trawl(t, append([]string{"crawl", srv.URL + "/a"}, common...)...); r.code != 0 {
		t.Fatalf("run 1: exit %d: %s", r.code, r.stderr)
	}
	// A new seed extends the finished crawl.
	if r := trawl(t, append([]string{"crawl", srv.URL + "/a", srv.URL + "/b"}, common...)...); r.code != 0 {
		t.Fatalf("run 2: exit %d: %s", r.code, r.stderr)
	}
	recs, files := readWarcSet(t, prefix)
	var first, second *warcRec
	for i := range recs {
		switch recs[i].Get("WARC-Target-URI") {
		case srv.URL + "/a":
			if recs[i].Type == warc.TypeResponse {
				first = &recs[i]
			}
		case srv.URL + "/b":
			if recs[i].Type != warc.TypeRequest {
				second = &recs[i]
			}
		}
	}
	if len(files) != 2 || first == nil || second == nil {
		t.Fatalf("%d files, /a response %v, /b record %v; want 2 files and both", len(files), first != nil, second != nil)
	}
	if second.Type != warc.TypeRevisit || second.Get("WARC-Refers-To") != first.ID || second.file == first.file {
		t.Errorf("/b: %s record in %s referring to %q; want a revisit of /a's %s in %s", second.Type, second.file,
			second.Get("WARC-Refers-To"), first.ID, first.file)
	}
}

// TestE2EWarcRedisDedup: with --redis the payload digests are shared by the
// processes of the crawl: a process that meets a payload another process
// archived writes a revisit of that process's record, in its own archive.
func TestE2EWarcRedisDedup(t *testing.T) {
	t.Parallel()
	redisURL, name := redistest.URL(t), redistest.Name(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "the same payload everywhere")
	}))
	defer srv.Close()
	dir := t.TempDir()
	common := []string{"--quiet", "--ignore-robots", "--redis", redisURL, "--redis-prefix", name}
	if r := trawl(t, append([]string{"crawl", srv.URL + "/a", "--warc", filepath.Join(dir, "one"), "-o", filepath.Join(dir, "one.jsonl")}, common...)...); r.code != 0 {
		t.Fatalf("process 1: exit %d: %s", r.code, r.stderr)
	}
	if r := trawl(t, append([]string{"crawl", srv.URL + "/b", "--warc", filepath.Join(dir, "two"), "-o", filepath.Join(dir, "two.jsonl")}, common...)...); r.code != 0 {
		t.Fatalf("process 2: exit %d: %s", r.code, r.stderr)
	}
	one, _ := readWarcSet(t, filepath.Join(dir, "one"))
	two, _ := readWarcSet(t, filepath.Join(dir, "two"))
	var first, second *warcRec
	for i := range one {
		if one[i].Type == warc.TypeResponse {
			first = &one[i]
		}
	}
	for i := range two {
		if two[i].Get("WARC-Target-URI") == srv.URL+"/b" && two[i].Type != warc.TypeRequest {
			second = &two[i]
		}
	}
	if first == nil || second == nil {
		t.Fatalf("process 1 response %v, process 2 /b record %v; want both", first != nil, second != nil)
	}
	if second.Type != warc.TypeRevisit || second.Get("WARC-Refers-To") != first.ID || second.Get("WARC-Refers-To-Target-URI") != srv.URL+"/a" {
		t.Errorf("/b: %s record referring to %q; want a revisit of process 1's /a %s", second.Type, second.Get("WARC-Refers-To"), first.ID)
	}
	// the index lives under the crawl's prefix, in its hash slot
	if n, err := redistest.Client(t).HLen(t.Context(), "trawl:{"+name+"}:warc:digests").Result(); err != nil || n != 1 {
		t.Errorf("digest hash has %d fields (%v), want 1", n, err)
	}
}
