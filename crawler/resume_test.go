package crawler

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier/disk"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// TestResumeDoesNotCountAbortedAttempt: a request cut short by the end of
// the grace period is handed back to a persistent frontier without
// spending a retry, so the resumed crawl still has its retries for it. With
// Retries 1, /flaky hangs in the first run (aborted) and answers 503 then
// 200 in the second: it must be retried once and recorded with 200.
func TestResumeDoesNotCountAbortedAttempt(t *testing.T) {
	var resumed atomic.Bool
	var flaky atomic.Int64
	release := make(chan struct{})
	defer close(release)
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			html(w, "/flaky")
		case "/flaky":
			if !resumed.Load() {
				select { // hang until the grace period aborts it
				case <-release:
				case <-r.Context().Done():
				}
				return
			}
			if flaky.Add(1) == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			html(w)
		default:
			http.NotFound(w, r)
		}
	})
	dir := t.TempDir()
	cfg := Config{GracePeriod: 50 * time.Millisecond, IgnoreRobots: true, Retries: 1, RetryBackoff: time.Millisecond}

	run := func(ctx context.Context, seeds ...string) (*collector, error) {
		t.Helper()
		f, err := disk.Open(dir, disk.Config{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sess, err := session.New(sessionConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		col := &collector{}
		pipe, err := pipeline.New(pipeline.Config{Stages: []pipeline.Stage{col}})
		if err != nil {
			t.Fatal(err)
		}
		defer pipe.Close()
		c, err := New(cfg, sess, f, pipe)
		if err != nil {
			t.Fatal(err)
		}
		return col, c.Run(ctx, seeds...)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first, firstCancel := context.WithCancel(ctx)
	go func() {
		for s.count("/flaky") == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		firstCancel()
	}()
	col, err := run(first, s.URL+"/")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first Run = %v; want context.Canceled", err)
	}
	if recs := col.byURL(t); len(recs) != 1 {
		t.Fatalf("first run recorded %v; want only the seed", recs)
	}

	resumed.Store(true)
	col, err = run(ctx)
	if err != nil {
		t.Fatalf("resumed Run: %v", err)
	}
	recs := col.byURL(t)
	r, ok := recs[s.URL+"/flaky"]
	if !ok || len(recs) != 1 {
		t.Fatalf("resumed run recorded %v; want /flaky only", recs)
	}
	if r.Status != http.StatusOK || r.Error != "" {
		t.Errorf("/flaky recorded with status %d, error %q; want 200 after one retry (the aborted request must not count as an attempt)", r.Status, r.Error)
	}
	if n := flaky.Load(); n != 2 {
		t.Errorf("/flaky requested %d times after resume; want 2 (503, then 200)", n)
	}
}
