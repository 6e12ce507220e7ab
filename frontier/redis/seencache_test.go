package redis

import (
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
)

func TestSeenCacheTable(t *testing.T) {
	c := newSeenCache(8)
	if len(c.slots) != 8 {
		t.Fatalf("%d slots; want 8", len(c.slots))
	}
	c.add(42)
	if c.known(42) {
		t.Error("known before a pass was set")
	}
	c.setPass(0)
	c.add(42)
	if !c.known(42) || c.known(43) {
		t.Errorf("known(42) %v, known(43) %v; want true, false", c.known(42), c.known(43))
	}
	c.setPass(1)
	if c.known(42) {
		t.Error("an entry of pass 0 known in pass 1")
	}
	c.add(42)
	c.forget()
	c.setPass(1)
	if c.known(42) {
		t.Error("known after forget")
	}
	if newSeenCache(-1) != nil {
		t.Error("newSeenCache(-1) is not nil")
	}
	if n := len(newSeenCache(0).slots); n != DefaultSeenCache {
		t.Errorf("default %d slots; want %d", n, DefaultSeenCache)
	}
}

// TestSeenCachePush: while a lease is held, URLs the Frontier pushed or
// leased in this pass are left out of Push; without a lease nothing is.
func TestSeenCachePush(t *testing.T) {
	f := open(t, Config{})
	ctx := ctxT(t, 10*time.Second)
	pushN := func(want int, es ...frontier.Entry) {
		t.Helper()
		if n, err := f.Push(ctx, es...); err != nil || n != want {
			t.Fatalf("Push = %d, %v; want %d", n, err, want)
		}
	}
	es := urls("sc.test", 4)
	pushN(4, es...)
	pushN(0, es...) // no lease held: all sent, all dropped by Redis
	if n := f.skipped.Load(); n != 0 {
		t.Fatalf("skipped %d without a lease; want 0", n)
	}
	l, err := f.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pushN(1, es[0], es[1], frontier.Entry{URL: "http://sc.test/new"})
	if n := f.skipped.Load(); n != 1 {
		t.Errorf("skipped %d; want 1 (the leased URL)", n)
	}
	pushN(0, es[1], frontier.Entry{URL: "http://sc.test/new"})
	if n := f.skipped.Load(); n != 3 {
		t.Errorf("skipped %d; want 3 (and the two just pushed)", n)
	}
	if err := f.Ack(ctx, l); err != nil {
		t.Fatal(err)
	}
	pushN(0, es[1])
	if n := f.skipped.Load(); n != 3 {
		t.Errorf("skipped %d with no lease held; want 3", n)
	}
	if st, _ := f.Stats(ctx); st.Seen != 5 || st.Queued != 4 {
		t.Errorf("Stats = %+v; want Seen 5, Queued 4", st)
	}
}

// TestSeenCacheNewPass: a pass started by another process makes what this
// Frontier remembers of the last one unknown, once it leases in the new
// pass: URLs of the old pass are pushed again, and added.
func TestSeenCacheNewPass(t *testing.T) {
	a := open(t, Config{})
	b := open(t, Config{Name: a.cfg.Name})
	ctx := ctxT(t, 10*time.Second)
	u1, u2 := frontier.Entry{URL: "http://np.test/1"}, frontier.Entry{URL: "http://np.test/2"}
	if _, err := a.Push(ctx, u1); err != nil {
		t.Fatal(err)
	}
	l, err := a.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := a.Push(ctx, u2); err != nil || n != 1 {
		t.Fatalf("Push(u2) = %d, %v; want 1", n, err)
	}
	for l != nil {
		if err := a.Ack(ctx, l); err != nil {
			t.Fatal(err)
		}
		if l, err = a.Next(ctx); err == frontier.ErrDone {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if started, err := b.NewPass(ctx); err != nil || !started {
		t.Fatalf("NewPass = %v, %v", started, err)
	}
	if _, err := b.Push(ctx, u1); err != nil {
		t.Fatal(err)
	}
	if l, err = a.Next(ctx); err != nil || l.URL != u1.URL {
		t.Fatalf("Next in the new pass = %v, %v; want %s", l, err, u1.URL)
	}
	if n, err := a.Push(ctx, u2); err != nil || n != 1 {
		t.Errorf("Push of a URL of the last pass in the new one = %d, %v; want 1 (added)", n, err)
	}
	if err := a.Ack(ctx, l); err != nil {
		t.Fatal(err)
	}
	if l, err = a.Next(ctx); err != nil || l.URL != u2.URL {
		t.Fatalf("Next = %v, %v; want %s", l, err, u2.URL)
	}
	a.Ack(ctx, l)
}
