package redis

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/internal/redistest"
)

// TestPauseShared: a pause set by one process holds the host for every
// process of the crawl, on the scripts' clock (injected here: no sleeps).
func TestPauseShared(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	clock := func() time.Time { return time.UnixMilli(now.Load()) }
	name := redistest.Name(t)
	cfg := Config{Name: name, Now: clock, Policy: frontier.HostPolicy{MaxInFlight: 2}}
	a, b := open(t, cfg), open(t, cfg)
	ctx := ctxT(t, 10*time.Second)
	if _, err := a.Push(ctx, urls("pause.test", 3)...); err != nil {
		t.Fatal(err)
	}
	l, err := b.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.PauseHost(ctx, "pause.test", clock().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := b.Ack(ctx, l); err != nil { // a freed slot does not end the pause
		t.Fatal(err)
	}
	for _, f := range []*Frontier{a, b} {
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		if l, err := f.Next(short); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Next during the pause = %v, %v; want it to block", l, err)
		}
		cancel()
	}
	now.Add(time.Minute.Milliseconds())
	if l, err = b.Next(ctx); err != nil || l.URL != "http://pause.test/p/1" {
		t.Fatalf("Next after the pause = %v, %v; want the second URL", l, err)
	}
}
