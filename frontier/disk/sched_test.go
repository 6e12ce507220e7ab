package disk_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/disk"
)

// TestIdleHostKeepsSpacing: a host with nothing left whose default-policy
// interval has not passed is not forgotten, so a URL of it pushed later
// still waits for the interval (frontier/memory keeps such hosts too).
func TestIdleHostKeepsSpacing(t *testing.T) {
	d := open(t, t.TempDir(), disk.Config{NoSync: true, Policy: frontier.HostPolicy{Interval: time.Hour}})
	ctx := ctxT(t)
	if _, err := d.Push(ctx, frontier.Entry{URL: "http://idle.test/1"}); err != nil {
		t.Fatal(err)
	}
	if n := drainAll(ctx, t, d); n != 1 {
		t.Fatalf("drained %d; want 1", n)
	}
	if _, err := d.Push(ctx, frontier.Entry{URL: "http://idle.test/2"}); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 80*time.Millisecond)
	defer cancel()
	if l, err := d.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Next = %v, %v; want it to wait for the host's interval", l, err)
	}
}
