package disk_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/disk"
	"github.com/trawlhq/trawl/frontier/frontiertest"
)

// TestBeforeCommit: the hook runs before every commit that acknowledges a
// lease, so what a caller buffered before its Ack is out when Ack returns;
// commits of pushes alone do not call it.
func TestBeforeCommit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var (
		mu       sync.Mutex
		buffered []string // "records" written before an Ack, not yet flushed
		flushed  = map[string]bool{}
		calls    atomic.Int64
	)
	d, err := disk.Open(t.TempDir(), disk.Config{NoSync: true, BeforeCommit: func(func(), func(string, []byte) error) error {
		calls.Add(1)
		mu.Lock()
		defer mu.Unlock()
		for _, u := range buffered {
			flushed[u] = true
		}
		buffered = buffered[:0]
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	const n = 200
	for i := range n {
		if _, err := d.Push(ctx, frontier.Entry{URL: fmt.Sprintf("http://h%d.test/p", i%7)}, frontier.Entry{URL: fmt.Sprintf("http://h%d.test/%d", i%7, i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if c := calls.Load(); c != 0 {
		t.Fatalf("BeforeCommit called %d times for commits of pushes alone", c)
	}
	frontiertest.Work(ctx, t, d, 8, func(l *frontier.Lease) error {
		mu.Lock()
		buffered = append(buffered, l.URL)
		mu.Unlock()
		if err := d.Ack(ctx, l); err != nil {
			return err
		}
		mu.Lock()
		ok := flushed[l.URL]
		mu.Unlock()
		if !ok {
			return fmt.Errorf("Ack of %s returned before BeforeCommit flushed what was written for it", l.URL)
		}
		return nil
	})
	if len(flushed) != n+7 {
		t.Errorf("%d URLs flushed, want %d", len(flushed), n+7)
	}
	t.Logf("%d acknowledgements, %d calls of BeforeCommit", n+7, calls.Load())
}

// TestBeforeCommitError: an error of the hook fails the commit, and the
// Disk: the Ack returns it and so do later calls; the lease is not settled.
func TestBeforeCommitError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dir := t.TempDir()
	boom := errors.New("write pages.jsonl: no space left on device")
	d, err := disk.Open(dir, disk.Config{NoSync: true, BeforeCommit: func(func(), func(string, []byte) error) error { return boom }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Push(ctx, frontier.Entry{URL: "http://a.test/1"}, frontier.Entry{URL: "http://a.test/2"}); err != nil {
		t.Fatal(err)
	}
	l, err := d.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = d.Ack(ctx, l)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "before commit") {
		t.Fatalf("Ack = %v, want the hook's error", err)
	}
	if _, err := d.Push(ctx, frontier.Entry{URL: "http://a.test/3"}); !errors.Is(err, boom) {
		t.Errorf("Push after the failed commit = %v, want the hook's error", err)
	}
	d.Close()

	// Reopened without the hook: the lease was not settled, so both
	// entries are still to do.
	d, err = disk.Open(dir, disk.Config{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	st, err := d.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Queued != 2 {
		t.Errorf("after reopening: %d queued, want 2 (the failed Ack settled nothing)", st.Queued)
	}
}
