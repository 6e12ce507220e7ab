package crawler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trawlhq/trawl/crawler/recrawl"
	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/memory"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// gatedStore is a recrawl store whose Range yields the first known URL,
// then waits for gate (or a timeout) before the others, and can fail
// after them.
type gatedStore struct {
	recrawl.Memory
	gate     chan struct{}
	rangeErr error
}

func (s *gatedStore) Range(ctx context.Context, fn func(u string, depth int) error) error {
	first := true
	err := s.Memory.Range(ctx, func(u string, depth int) error {
		if !first {
			select {
			case <-s.gate:
			case <-time.After(5 * time.Second):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		first = false
		return fn(u, depth)
	})
	if err == nil {
		err = s.rangeErr
	}
	return err
}

// doneSignal is a frontier that closes drained the first time Next
// returns ErrDone.
type doneSignal struct {
	frontier.Frontier
	once    sync.Once
	drained chan struct{}
}

func (d *doneSignal) Next(ctx context.Context) (*frontier.Lease, error) {
	l, err := d.Frontier.Next(ctx)
	if errors.Is(err, frontier.ErrDone) {
		d.once.Do(func() { close(d.drained) })
	}
	return l, err
}

// knownRig is a crawler over a gated store and a frontier that signals
// when it runs dry.
func knownRig(t *testing.T, store *gatedStore) (*Crawler, *collector) {
	t.Helper()
	sess, err := session.New(sessionConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sess.Close() })
	f := &doneSignal{Frontier: memory.New(memory.Config{}), drained: make(chan struct{})}
	t.Cleanup(func() { _ = f.Close() })
	store.gate = f.drained
	col := &collector{}
	pipe, err := pipeline.New(pipeline.Config{Stages: []pipeline.Stage{col}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pipe.Close() })
	c, err := New(Config{IgnoreRobots: true, Recrawl: store, Revisit: true, Workers: 4}, sess, f, pipe)
	if err != nil {
		t.Fatal(err)
	}
	return c, col
}

// TestRecrawlKnownPushedWhileCrawling: the workers start while the known
// URLs are still being queued; a frontier drained before the last of them
// is pushed does not end the crawl. The store's Range here holds back
// every known URL but one until the frontier has run dry.
func TestRecrawlKnownPushedWhileCrawling(t *testing.T) {
	vs := newVersionedSite(t)
	vs.set("/")
	const n = 30
	store := &gatedStore{}
	for i := range n {
		p := fmt.Sprintf("/unlinked/%d", i)
		vs.set(p)
		// Known from an earlier pass, linked from nowhere now.
		if err := store.Save(context.Background(), &recrawl.Page{URL: vs.URL + p, Status: 200, Depth: 1}); err != nil {
			t.Fatal(err)
		}
	}
	c, col := knownRig(t, store)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.Run(ctx, vs.URL+"/"); err != nil {
		t.Fatal(err)
	}
	recs := col.byURL(t)
	for i := range n {
		u := fmt.Sprintf("%s/unlinked/%d", vs.URL, i)
		if r, ok := recs[u]; !ok || r.Status != 200 {
			t.Errorf("%s: %+v (present %v): the crawl ended before the known URLs were all queued", u, r, ok)
		}
	}
}

// TestRecrawlKnownPushError: a store failing while its URLs are queued
// ends Run with the error, naming it, and does not hang.
func TestRecrawlKnownPushError(t *testing.T) {
	vs := newVersionedSite(t)
	vs.set("/")
	store := &gatedStore{rangeErr: errors.New("pages.db: page 7: checksum mismatch")}
	for i := range 5 {
		if err := store.Save(context.Background(), &recrawl.Page{URL: fmt.Sprintf("%s/k%d", vs.URL, i), Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := knownRig(t, store)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := c.Run(ctx, vs.URL+"/")
	if err == nil || !strings.Contains(err.Error(), "push known URLs") || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("Run = %v, want the store's error while pushing known URLs", err)
	}
}
