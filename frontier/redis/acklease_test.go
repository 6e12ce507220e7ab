package redis

import (
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/internal/redistest"
)

// TestAckLeaseFair: an AckLease whose ack frees a slot another process
// waits for leases nothing; the waiter gets the slot. Alone on the crawl,
// the Frontier leases at once.
func TestAckLeaseFair(t *testing.T) {
	a := open(t, Config{Policy: frontier.HostPolicy{MaxInFlight: 1}})
	ctx := ctxT(t, 10*time.Second)
	if _, err := a.Push(ctx, urls("fair.test", 4)...); err != nil {
		t.Fatal(err)
	}
	l, err := a.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Alone: the freed slot's next URL comes with the ack.
	if l, err = a.AckLease(ctx, l); err != nil || l == nil {
		t.Fatalf("AckLease alone = %v, %v; want a lease", l, err)
	}
	b := open(t, Config{Name: a.cfg.Name, Policy: frontier.HostPolicy{MaxInFlight: 1}})
	got := make(chan *frontier.Lease, 1)
	go func() {
		l, err := b.Next(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	// b's wake-up subscription is made in the background as it opens.
	c := redistest.Client(t)
	for {
		m, err := c.PubSubNumSub(ctx, a.prefix+"wake").Result()
		if err != nil {
			t.Fatal(err)
		}
		if m[a.prefix+"wake"] >= 2 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("b never subscribed")
		}
		time.Sleep(time.Millisecond)
	}
	n, err := a.AckLease(ctx, l)
	if err != nil || n != nil {
		t.Fatalf("AckLease with another process waiting = %v, %v; want nothing leased", n, err)
	}
	select {
	case bl := <-got:
		if bl == nil || bl.URL != urls("fair.test", 4)[2].URL {
			t.Errorf("the waiting process got %v; want the third URL", bl)
		} else if err := b.Ack(ctx, bl); err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting process got nothing")
	}
}
