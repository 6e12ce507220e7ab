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

func TestContract(t *testing.T) {
	// A short visibility timeout: after Reopen, leases of the "dead"
	// frontier come back within it.
	cfg := Config{Policy: frontier.HostPolicy{MaxInFlight: 2}, VisibilityTimeout: 300 * time.Millisecond}
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
	cfg := Config{Policy: frontier.HostPolicy{MaxInFlight: 2}, VisibilityTimeout: 300 * time.Millisecond, Priority: true}
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
