package redis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/trawlhq/trawl/crawler/recrawl"
	"github.com/trawlhq/trawl/crawler/recrawl/recrawltest"
	"github.com/trawlhq/trawl/internal/redistest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	redistest.Stop()
	os.Exit(code)
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// open returns a Store of the crawl name on a client of its own (as a
// process would have), whose pages are dropped when t ends.
func open(t *testing.T, name string) *Store {
	t.Helper()
	s := New(redistest.Client(t), Config{Name: name})
	t.Cleanup(func() {
		New(redistest.Client(t), Config{Name: name}).Drop(context.Background())
		s.Close()
	})
	return s
}

func TestContract(t *testing.T) {
	recrawltest.Run(t, recrawltest.Options{
		Open: func(t *testing.T) recrawl.Store { return open(t, redistest.Name(t)) },
		// A new client on the same server, as a new process.
		Reopen: func(t *testing.T, old recrawl.Store) recrawl.Store {
			o := old.(*Store)
			o.Close()
			return open(t, o.Name())
		},
	})
}

// TestShared: what one process saves, another loads and ranges over; a
// crawl of another name sees none of it.
func TestShared(t *testing.T) {
	name := redistest.Name(t)
	a, b := open(t, name), open(t, name)
	other := open(t, name+"-other")
	ctx := ctxT(t, 10*time.Second)
	p := recrawltest.Sample("http://shared.test/", 1)
	if err := a.Save(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := b.Load(ctx, p.URL)
	if err != nil {
		t.Fatal(err)
	}
	if d := recrawltest.Equal(got, p); d != "" {
		t.Errorf("Load from another process: %s", d)
	}
	if got, err := other.Load(ctx, p.URL); got != nil || err != nil {
		t.Errorf("another crawl loads %v, %v; want nothing", got, err)
	}
	if n, err := b.Len(ctx); n != 1 || err != nil {
		t.Errorf("Len = %d, %v; want 1", n, err)
	}
	if err := b.Delete(ctx, p.URL); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Load(ctx, p.URL); got != nil || err != nil {
		t.Errorf("Load after another process deleted = %v, %v; want nothing", got, err)
	}
}

// TestKey: the pages of crawl NAME are one hash under the frontier's hash
// tag, "trawl:{NAME}:pages", holding Page.AppendBinary.
func TestKey(t *testing.T) {
	name := redistest.Name(t)
	s := open(t, name)
	ctx := ctxT(t, 10*time.Second)
	p := recrawltest.Sample("http://key.test/", 2)
	if err := s.Save(ctx, p); err != nil {
		t.Fatal(err)
	}
	want, err := p.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := redistest.Client(t).HGet(ctx, "trawl:{"+name+"}:pages", p.URL).Bytes()
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("HGET trawl:{%s}:pages %s = %q, %v; want the page's encoding", name, p.URL, got, err)
	}
}

// TestDamaged: a value that does not decode is an error naming its URL,
// from Load and Range, never a panic.
func TestDamaged(t *testing.T) {
	name := redistest.Name(t)
	s := open(t, name)
	ctx := ctxT(t, 10*time.Second)
	good, err := recrawltest.Sample("http://damaged.test/", 3).AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"", "\x00", "\x01", string(good[:len(good)-1]), string(good) + "x", "\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"} {
		if err := redistest.Client(t).HSet(ctx, "trawl:{"+name+"}:pages", "http://damaged.test/x", v).Err(); err != nil {
			t.Fatal(err)
		}
		if p, err := s.Load(ctx, "http://damaged.test/x"); err == nil || !strings.Contains(err.Error(), "recrawl/redis: load http://damaged.test/x") {
			t.Errorf("Load of %q = %v, %v; want an error naming the URL", v, p, err)
		}
		if _, err := recrawl.DecodeDepth([]byte(v)); err == nil {
			continue // the depth decodes: Range need not fail
		}
		if err := s.Range(ctx, func(string, int) error { return nil }); err == nil || !strings.Contains(err.Error(), "http://damaged.test/x") {
			t.Errorf("Range over %q = %v; want an error naming the URL", v, err)
		}
	}
}

func TestClosedAndBadName(t *testing.T) {
	ctx := ctxT(t, 10*time.Second)
	s := open(t, redistest.Name(t))
	s.Close()
	s.Close()
	if _, err := s.Load(ctx, "http://x.test/"); !errors.Is(err, recrawl.ErrClosed) {
		t.Errorf("Load after Close = %v; want ErrClosed", err)
	}
	if err := s.Save(ctx, &recrawl.Page{URL: "http://x.test/"}); !errors.Is(err, recrawl.ErrClosed) {
		t.Errorf("Save after Close = %v; want ErrClosed", err)
	}
	bad := New(redistest.Client(t), Config{Name: "a{b}"})
	if err := bad.Save(ctx, &recrawl.Page{URL: "http://x.test/"}); err == nil || !strings.Contains(err.Error(), `bad crawl name "a{b}"`) {
		t.Errorf("Save with a bad name = %v; want an error naming it", err)
	}
	if _, err := Open(ctx, redistest.URL(t), Config{Name: "a b"}); err == nil {
		t.Error("Open with a bad name succeeded")
	}
	if _, err := Open(ctx, "http://user:secret@127.0.0.1:1", Config{}); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("Open of a bad URL = %v; want an error without the password", err)
	}
}

// TestRedisRestart: saves made while Redis is down wait for it, and are
// there once it is back (appendonly yes); the outage is logged once and
// its end too. With MaxOutage, an operation gives up.
func TestRedisRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a redis-server")
	}
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	logs := &redistest.LogBuffer{}
	ctx := ctxT(t, 30*time.Second)
	s, err := Open(ctx, srv.URL(), Config{Name: "restart", Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Save(ctx, recrawltest.Sample("http://restart.test/0", 0)); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	errs := make(chan error, 1)
	go func() {
		errs <- s.Save(ctx, recrawltest.Sample("http://restart.test/1", 1))
	}()
	// The save is retrying: the outage is logged.
	for !strings.Contains(logs.String(), "Redis unavailable, retrying") {
		select {
		case err := <-errs:
			t.Fatalf("Save with Redis down returned %v; want it to wait", err)
		case <-ctx.Done():
			t.Fatal("no outage logged")
		case <-time.After(10 * time.Millisecond):
		}
	}
	srv.Restart(t)
	if err := <-errs; err != nil {
		t.Fatalf("Save across the restart: %v", err)
	}
	for i := range 2 {
		u := fmt.Sprintf("http://restart.test/%d", i)
		got, err := s.Load(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if d := recrawltest.Equal(got, recrawltest.Sample(u, i)); d != "" {
			t.Errorf("after the restart, %s: %s", u, d)
		}
	}
	if out := logs.String(); strings.Count(out, "Redis unavailable") != 1 || !strings.Contains(out, "Redis reachable again") {
		t.Errorf("log: want one outage line and one recovery line:\n%s", out)
	}

	srv.Kill()
	short, err := Open(ctx, srv.URL(), Config{Name: "restart", MaxOutage: 200 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		short.Close()
		t.Fatal("Open with Redis down succeeded")
	}
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr, MaxRetries: -1})
	defer c.Close()
	short = New(c, Config{Name: "restart", MaxOutage: 200 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if _, err := short.Load(ctx, "http://restart.test/0"); err == nil || !strings.Contains(err.Error(), "recrawl/redis: load http://restart.test/0: Redis unavailable for") {
		t.Errorf("Load with Redis down and MaxOutage = %v; want it to give up naming the operation", err)
	}
}

// TestCluster: the store works on a Redis Cluster through a ClusterClient
// (one hash, in the crawl's hash-tag slot).
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node Redis Cluster")
	}
	addrs := redistest.StartCluster(t, 3)
	ctx := ctxT(t, 30*time.Second)
	s, err := Open(ctx, "redis://"+addrs[0]+"?addr="+addrs[1]+"&addr="+addrs[2], Config{Name: "cluster"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := map[string]int{}
	for i := range 300 {
		p := recrawltest.Sample(fmt.Sprintf("http://h%d.cluster.test/%d", i%7, i), i)
		want[p.URL] = p.Depth
		if err := s.Save(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]int{}
	if err := s.Range(ctx, func(u string, d int) error { got[u] = d; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("Range on the cluster saw %d pages; want %d", len(got), len(want))
	}
	for u, d := range want {
		if got[u] != d {
			t.Errorf("%s: depth %d; want %d", u, got[u], d)
		}
	}
}
