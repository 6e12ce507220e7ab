package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConsoleKeepsLogsAndStatusApart(t *testing.T) {
	var buf strings.Builder
	c := newConsole(&buf)
	c.SetStatus("10 pages")
	c.Write([]byte("log line\n"))
	c.SetStatus("9 pages")
	c.ClearStatus()
	got := buf.String()
	want := "\r10 pages" + // status drawn
		"\r        \r" + "log line\n" + "\r10 pages" + // erased, log, redrawn
		"\r9 pages " + "\r9 pages" + // shorter status padded over the old one
		"\r       \r" // erased
	if got != want {
		t.Fatalf("console wrote\n%q\nwant\n%q", got, want)
	}
	// After the status is cleared, logs pass through untouched.
	buf.Reset()
	c.Write([]byte("plain\n"))
	if buf.String() != "plain\n" {
		t.Fatalf("wrote %q", buf.String())
	}
}

func TestConsoleThrough(t *testing.T) {
	var screen strings.Builder // stdout and stderr on one terminal
	c := newConsole(&screen)
	out := c.Through(&screen)
	c.SetStatus("3 pages")
	out.Write([]byte("{\"url\":\"x\"}\n"))
	want := "\r3 pages" + "\r       \r" + "{\"url\":\"x\"}\n" + "\r3 pages"
	if screen.String() != want {
		t.Fatalf("screen\n%q\nwant\n%q", screen.String(), want)
	}
}

func TestRunProgressStopsAndClears(t *testing.T) {
	var mu sync.Mutex
	var buf strings.Builder
	c := newConsole(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var calls int
	go func() {
		runProgress(ctx, c, func() crawlStats { calls++; return crawlStats{Pages: int64(calls), Hosts: 1} }, time.Millisecond)
		close(done)
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	out := buf.String()
	if !strings.Contains(out, "1 pages  0.0/s  queued 0  in flight 0  errors 0  hosts 1") {
		t.Fatalf("no status line in %q", out)
	}
	if !strings.HasSuffix(out, "\r") || strings.Contains(out[strings.LastIndexByte(out[:len(out)-1], '\r'):], "pages") {
		t.Fatalf("status line not erased at the end: %q", out)
	}
}

func TestSummaryAndStatsFile(t *testing.T) {
	s := crawlStats{Pages: 12, OK: 10, Errors: 1, ByStatus: map[int]int64{200: 10, 404: 1, 0: 1},
		Bytes: 3 << 20, Elapsed: 1500 * time.Millisecond, PagesPerSec: 8, ConnsOpened: 2, ConnsReused: 10}
	got := summaryLine(s, "done")
	want := "trawl: done: 12 pages (10 ok, 1 errors) [0: 1, 200: 10, 404: 1] in 1.5s, 8.0 pages/s, 3.0 MiB, connections 2 opened / 10 reused"
	if got != want {
		t.Fatalf("summary\n%q\nwant\n%q", got, want)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "stats.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := writeStatsFile(f, crawlStats{Pages: 1}, false); err != nil { // a first, longer write is replaced
		t.Fatal(err)
	}
	if err := writeStatsFile(f, s, true); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	var st statsJSON
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if st.Pages != 12 || st.ByStatus["404"] != 1 || st.ElapsedS != 1.5 || st.PagesPerS != 8 || !st.Interrupted || st.Bytes != 3<<20 {
		t.Fatalf("stats file %s", raw)
	}
}

func TestStatsJSONHasNoNaN(t *testing.T) {
	st := crawlStats{PagesPerSec: math.NaN()}.json(false)
	if _, err := json.Marshal(st); err != nil || st.PagesPerS != 0 {
		t.Fatalf("NaN rate: %v, %v", st.PagesPerS, err)
	}
}

func TestHumanBytes(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"}, {5 << 30, "5.0 GiB"}} {
		if got := humanBytes(tt.n); got != tt.want {
			t.Errorf("humanBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
