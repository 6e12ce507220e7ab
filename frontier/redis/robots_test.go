package redis

import (
	"testing"
	"time"

	"github.com/trawlhq/trawl/internal/redistest"
)

// TestRobotsStore: one claim at a time per host, the stored answer is seen
// by every process of the crawl (and not by another crawl), a store ends
// the claim, and an answer expires with its max age.
func TestRobotsStore(t *testing.T) {
	name := redistest.Name(t)
	a, b := open(t, Config{Name: name}), open(t, Config{Name: name})
	other := open(t, Config{Name: name + "-other"})
	ctx := ctxT(t, 10*time.Second)
	const host = "http://robots.test"

	if _, _, ok, err := a.LoadRobots(ctx, host); ok || err != nil {
		t.Fatalf("LoadRobots before any store = %v, %v; want nothing", ok, err)
	}
	if ok, err := a.ClaimRobots(ctx, host, time.Minute); !ok || err != nil {
		t.Fatalf("first claim = %v, %v; want it granted", ok, err)
	}
	if ok, err := b.ClaimRobots(ctx, host, time.Minute); ok || err != nil {
		t.Fatalf("second claim = %v, %v; want it refused while the first holds", ok, err)
	}
	body := []byte("User-agent: *\nDisallow: /private\n")
	if err := a.StoreRobots(ctx, host, 200, body, time.Hour); err != nil {
		t.Fatal(err)
	}
	if st, got, ok, err := b.LoadRobots(ctx, host); !ok || err != nil || st != 200 || string(got) != string(body) {
		t.Fatalf("LoadRobots from another process = %d %q %v %v; want the stored answer", st, got, ok, err)
	}
	if _, _, ok, _ := other.LoadRobots(ctx, host); ok {
		t.Error("another crawl sees this crawl's robots.txt")
	}
	if ok, err := b.ClaimRobots(ctx, host, time.Minute); !ok || err != nil {
		t.Errorf("claim after the store = %v, %v; want it granted (the store ended the first)", ok, err)
	}
	if err := a.StoreRobots(ctx, "http://short.test", 404, nil, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if st, got, ok, _ := b.LoadRobots(ctx, "http://short.test"); !ok || st != 404 || len(got) != 0 {
		t.Errorf("LoadRobots of a 404 with no body = %d %q %v; want 404, empty, stored", st, got, ok)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, _, ok, _ := b.LoadRobots(ctx, "http://short.test"); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an answer stored with a max age of 50ms was still there after 5s")
		}
		time.Sleep(20 * time.Millisecond) // polling Redis's own expiry, not a politeness wait
	}
}
