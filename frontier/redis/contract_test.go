package redis

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/frontiertest"
	"github.com/trawlhq/trawl/internal/redistest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	redistest.Stop()
	os.Exit(code)
}

// open returns a Frontier of a fresh crawl on the test Redis, dropped and
// closed when t ends.
func open(t *testing.T, cfg Config) *Frontier {
	t.Helper()
	url := redistest.URL(t)
	if cfg.Name == "" {
		cfg.Name = redistest.Name(t)
	}
	ctx := context.Background()
	f, err := Open(ctx, url, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if g, err := Open(ctx, url, Config{Name: cfg.Name}); err == nil {
			g.Drop(ctx)
			g.Close()
		}
		f.Close()
	})
	return f
}

// abandon stops f the way a process that dies does: its leases are not
// handed back and no longer extended.
func abandon(f *Frontier) {
	f.mu.Lock()
	f.held = map[string]held{}
	f.mu.Unlock()
	f.Close()
}

// contractVisibility is the contract suites' visibility timeout: short, so
// that after Reopen the leases of the "dead" frontier come back soon, and
// long enough that a live frontier starved of CPU (-race on a loaded
// machine) keeps its leases: it must stall for 4/5 of it to lose one, and
// the limit tests then see a lease twice (seen at 300 ms).
const contractVisibility = time.Second

func TestContract(t *testing.T) {
	// A short visibility timeout: after Reopen, leases of the "dead"
	// frontier come back within it.
	cfg := Config{Policy: frontier.HostPolicy{MaxInFlight: 2}, VisibilityTimeout: contractVisibility}
	frontiertest.RunWithOptions(t, frontiertest.Options{
		Open: func(t *testing.T) frontier.Frontier {
			return open(t, cfg)
		},
		Reopen: func(t *testing.T, old frontier.Frontier) frontier.Frontier {
			o := old.(*Frontier)
			abandon(o)
			c := cfg
			c.Name = o.Name()
			return open(t, c)
		},
	})
}

func TestContractPriority(t *testing.T) {
	cfg := Config{Policy: frontier.HostPolicy{MaxInFlight: 2}, VisibilityTimeout: contractVisibility, Priority: true}
	frontiertest.RunWithOptions(t, frontiertest.Options{
		Open: func(t *testing.T) frontier.Frontier {
			return open(t, cfg)
		},
		Reopen: func(t *testing.T, old frontier.Frontier) frontier.Frontier {
			o := old.(*Frontier)
			abandon(o)
			c := cfg
			c.Name = o.Name()
			return open(t, c)
		},
		Priority: true,
	})
}
