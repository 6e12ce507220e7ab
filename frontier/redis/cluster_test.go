package redis

import (
	"context"
	"errors"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/frontiertest"
	"github.com/trawlhq/trawl/internal/redistest"
)

// TestCluster runs the contract suite, and a crawl shared by three
// frontiers (each with its own client, as processes), on a three-master Redis Cluster through a ClusterClient:
// every script touches only the crawl's hash-tag slot, pub/sub wake-ups
// cross nodes, and Drop scans every master.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node Redis Cluster")
	}
	addrs := redistest.StartCluster(t, 3)
	newClient := func(t *testing.T) *goredis.ClusterClient {
		c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs, MaxRetries: -1})
		t.Cleanup(func() { c.Close() })
		return c
	}
	openOn := func(t *testing.T, cfg Config) *Frontier {
		t.Helper()
		c := newClient(t)
		f, err := New(context.Background(), c, cfg)
		if err != nil {
			t.Fatalf("New on cluster: %v", err)
		}
		t.Cleanup(func() {
			f.Drop(context.Background())
			f.Close()
		})
		return f
	}
	cfg := Config{Policy: frontier.HostPolicy{MaxInFlight: 2}, VisibilityTimeout: contractVisibility}
	t.Run("Contract", func(t *testing.T) {
		frontiertest.RunWithOptions(t, frontiertest.Options{
			URLs: 500,
			Open: func(t *testing.T) frontier.Frontier {
				c := cfg
				c.Name = redistest.Name(t)
				return openOn(t, c)
			},
			Reopen: func(t *testing.T, old frontier.Frontier) frontier.Frontier {
				o := old.(*Frontier)
				abandon(o)
				c := cfg
				c.Name = o.Name()
				return openOn(t, c)
			},
		})
	})
	t.Run("SharedCrawl", func(t *testing.T) {
		sharedCrawl(t, openOn)
	})
	t.Run("OpenURL", func(t *testing.T) {
		ctx := ctxT(t, 10*time.Second)
		f, err := Open(ctx, "redis://"+addrs[0]+"?addr="+addrs[1]+"&addr="+addrs[2], Config{Name: redistest.Name(t)})
		if err != nil {
			t.Fatalf("Open with a cluster URL: %v", err)
		}
		defer f.Close()
		defer f.Drop(context.Background())
		if _, ok := f.client.(*goredis.ClusterClient); !ok {
			t.Fatalf("client is %T; want a cluster client", f.client)
		}
		if _, err := f.Push(ctx, urls("url.cluster.test", 2)...); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			l, err := f.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Ack(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.Next(ctx); !errors.Is(err, frontier.ErrDone) {
			t.Errorf("Next = %v; want ErrDone", err)
		}
	})
	t.Run("Drop", func(t *testing.T) {
		f := openOn(t, Config{Name: redistest.Name(t)})
		ctx := ctxT(t, 10*time.Second)
		if _, err := f.Push(ctx, urls("drop.cluster.test", 10)...); err != nil {
			t.Fatal(err)
		}
		if err := f.Drop(ctx); err != nil {
			t.Fatal(err)
		}
		if st, err := f.Stats(ctx); err != nil || st != (frontier.Stats{}) {
			t.Errorf("Stats after Drop = %+v, %v; want zero", st, err)
		}
	})
}
