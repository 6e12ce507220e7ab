package redis

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/internal/redistest"
)

func TestSeenCacheTable(t *testing.T) {
	c := newSeenCache(8)
	if len(c.slots) != 8 {
		t.Fatalf("%d slots; want 8", len(c.slots))
	}
	if _, ok := c.view(); ok {
		t.Error("a view before any epoch")
	}
	s0 := c.setEpoch(0, "g1")
	c.add(42, s0)
	if !c.known(42, s0) || c.known(43, s0) {
		t.Errorf("known(42) %v, known(43) %v; want true, false", c.known(42, s0), c.known(43, s0))
	}
	if s, ok := c.view(); !ok || s != s0 || c.setEpoch(0, "g1") != s0 {
		t.Error("the same epoch changed its salt")
	}
	for _, e := range []struct {
		pass int64
		gen  string
	}{{1, "g1"}, {0, "g2"}} {
		if s := c.setEpoch(e.pass, e.gen); c.known(42, s) {
			t.Errorf("an entry of pass 0, generation g1 known in pass %d, generation %s", e.pass, e.gen)
		}
	}
	s1 := c.setEpoch(1, "g1")
	c.add(42, s1)
	c.forget()
	if _, ok := c.view(); ok {
		t.Error("a view after forget")
	}
	if c.known(42, c.setEpoch(1, "g1")) {
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

// TestSeenCacheDropByOther: the crawl's keys dropped by another process
// (or lost by Redis) make a new generation: what this Frontier remembers
// is unknown once it leases in it.
func TestSeenCacheDropByOther(t *testing.T) {
	a := open(t, Config{})
	b := open(t, Config{Name: a.cfg.Name})
	ctx := ctxT(t, 10*time.Second)
	es := urls("drop.test", 3)
	if _, err := a.Push(ctx, es[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Next(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := a.Push(ctx, es[1], es[2]); err != nil || n != 2 {
		t.Fatalf("Push = %d, %v; want 2", n, err)
	}
	if err := b.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Push(ctx, es[0]); err != nil {
		t.Fatal(err)
	}
	if l, err := a.Next(ctx); err != nil || l.URL != es[0].URL {
		t.Fatalf("Next after the drop = %v, %v; want %s", l, err, es[0].URL)
	}
	if n, err := a.Push(ctx, es[1], es[2]); err != nil || n != 2 {
		t.Errorf("Push after another process's Drop = %d, %v; want 2 (the dropped crawl's URLs are new)", n, err)
	}
}

// TestSeenCacheStaleLease: a Frontier whose lease expired (it stalled past
// the visibility timeout) does not trust its cache: the crawl may have
// moved to a new pass without it. That holds too when a later lease was
// granted and settled: the expired one is all it holds.
func TestSeenCacheStaleLease(t *testing.T) {
	for _, later := range []bool{false, true} {
		t.Run(map[bool]string{false: "expired", true: "expired after a later lease"}[later], func(t *testing.T) {
			var mu sync.Mutex
			now := time.Unix(1_800_000_000, 0)
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			const vis = 10 * time.Second
			a := open(t, Config{Now: clock, VisibilityTimeout: vis})
			b := open(t, Config{Name: a.cfg.Name, Now: clock, VisibilityTimeout: vis})
			ctx := ctxT(t, 10*time.Second)
			es := urls("stale.test", 2)
			if _, err := a.Push(ctx, es[0]); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Next(ctx); err != nil {
				t.Fatal(err)
			}
			if n, err := a.Push(ctx, es[1]); err != nil || n != 1 {
				t.Fatalf("Push = %d, %v; want 1", n, err)
			}
			mu.Lock()
			now = now.Add(2 * vis) // a stalls; its lease expires
			mu.Unlock()
			if later {
				l, err := a.Next(ctx) // the expired entry again, or es[1]
				if err != nil {
					t.Fatal(err)
				}
				if err := a.Ack(ctx, l); err != nil {
					t.Fatal(err)
				}
			}
			for {
				l, err := b.Next(ctx)
				if err == frontier.ErrDone {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := b.Ack(ctx, l); err != nil {
					t.Fatal(err)
				}
			}
			if started, err := b.NewPass(ctx); err != nil || !started {
				t.Fatalf("NewPass = %v, %v", started, err)
			}
			if n, err := a.Push(ctx, es[1]); err != nil || n != 1 {
				t.Errorf("Push in the new pass, holding only an expired lease = %d, %v; want 1", n, err)
			}
		})
	}
}

// TestSeenCacheOutage: a Push that has to wait for Redis (here restarted
// without persistence, so it lost the crawl) sends the URLs it had left
// out as known too.
func TestSeenCacheOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a redis-server")
	}
	s := redistest.Start(t, redistest.Options{})
	ctx := ctxT(t, 20*time.Second)
	f, err := Open(ctx, s.URL(), Config{Name: redistest.Name(t), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	es := urls("outage.test", 3)
	if _, err := f.Push(ctx, es[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Next(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Push(ctx, es[1]); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	go func() { time.Sleep(2 * time.Second); s.Restart(t) }()
	if n, err := f.Push(ctx, es[1], es[2]); err != nil || n != 2 {
		t.Errorf("Push across the outage = %d, %v; want 2 (Redis lost es[1])", n, err)
	}
}
