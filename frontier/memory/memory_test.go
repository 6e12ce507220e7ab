package memory

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
)

func TestSeenSet(t *testing.T) {
	var s seenSet
	r := rand.New(rand.NewPCG(1, 2))
	want := map[uint64]bool{}
	vals := []uint64{0, 1, ^uint64(0)}
	for range 100_000 {
		vals = append(vals, r.Uint64()&0xFFFFFF) // force collisions and clustering
	}
	for _, v := range vals {
		if got := s.add(v); got == want[v] {
			t.Fatalf("add(%d) = %v; already member: %v", v, got, want[v])
		}
		want[v] = true
	}
	if s.len() != len(want) {
		t.Fatalf("len = %d; want %d", s.len(), len(want))
	}
	for v := range want {
		if !s.has(v) {
			t.Fatalf("has(%d) = false after add", v)
		}
	}
	for range 10_000 {
		v := r.Uint64() | 1<<40
		if s.has(v) {
			t.Fatalf("has(%d) = true; never added", v)
		}
	}
}

func TestDefaultMaxInFlight(t *testing.T) {
	m := New(Config{})
	defer m.Close()
	ctx := context.Background()
	var es []frontier.Entry
	for i := range 20 {
		es = append(es, frontier.Entry{URL: fmt.Sprintf("http://a.test/%d", i)})
	}
	if _, err := m.Push(ctx, es...); err != nil {
		t.Fatal(err)
	}
	for range frontier.DefaultMaxInFlight {
		if _, err := m.Next(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if l, err := m.Next(tctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("lease %d = %v, %v; want the host limit of %d to block it", frontier.DefaultMaxInFlight+1, l, err, frontier.DefaultMaxInFlight)
	}
}

func TestPriority(t *testing.T) {
	tests := []struct {
		name     string
		priority bool
		want     string
	}{
		{"priority", true, "[b d c a e]"},
		{"fifo", false, "[a b c d e]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := New(Config{Priority: tc.priority})
			defer m.Close()
			ctx := context.Background()
			prios := map[string]int{"a": 1, "b": 5, "c": 3, "d": 5, "e": -2}
			for _, k := range []string{"a", "b", "c", "d", "e"} {
				if _, err := m.Push(ctx, frontier.Entry{URL: "http://p.test/" + k, Priority: prios[k]}); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			for {
				l, err := m.Next(ctx)
				if errors.Is(err, frontier.ErrDone) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, strings.TrimPrefix(l.URL, "http://p.test/"))
				if err := m.Ack(ctx, l); err != nil {
					t.Fatal(err)
				}
			}
			if fmt.Sprint(got) != tc.want {
				t.Errorf("order %v; want %s", got, tc.want)
			}
		})
	}
}

func TestPushRejectsHostless(t *testing.T) {
	m := New(Config{})
	defer m.Close()
	ctx := context.Background()
	n, err := m.Push(ctx, frontier.Entry{URL: "http://ok.test/"}, frontier.Entry{URL: "relative/path"})
	if err == nil || !strings.Contains(err.Error(), `"relative/path"`) {
		t.Fatalf("Push = %d, %v; want an error naming the URL", n, err)
	}
	if st, _ := m.Stats(ctx); n != 0 || st.Seen != 0 || st.Queued != 0 {
		t.Errorf("Push added %d, Stats %+v; want nothing added by a rejected call", n, st)
	}
}

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestFakeClock(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := New(Config{Now: clk.Now, Policy: frontier.HostPolicy{Interval: time.Hour}})
	defer m.Close()
	ctx := context.Background()
	if _, err := m.Push(ctx, frontier.Entry{URL: "http://c.test/1"}, frontier.Entry{URL: "http://c.test/2"}, frontier.Entry{URL: "http://c.test/3"}); err != nil {
		t.Fatal(err)
	}
	l, err := m.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	blocked := func() bool {
		tctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
		defer cancel()
		_, err := m.Next(tctx)
		return errors.Is(err, context.DeadlineExceeded)
	}
	if !blocked() {
		t.Fatal("second lease granted before the interval passed")
	}
	clk.Add(59 * time.Minute)
	if !blocked() {
		t.Fatal("second lease granted a minute before the interval passed")
	}
	clk.Add(time.Minute)
	l2, err := m.Next(ctx)
	if err != nil || l2.URL != "http://c.test/2" {
		t.Fatalf("Next after the interval = %v, %v", l2, err)
	}
	// Retry with a notBefore on the fake clock.
	if err := m.Retry(ctx, l, clk.Now().Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour)
	l3, err := m.Next(ctx)
	if err != nil || l3.URL != "http://c.test/3" {
		t.Fatalf("Next = %v, %v; want c.test/3 (the retry is not due)", l3, err)
	}
	clk.Add(time.Hour)
	if !blocked() {
		t.Fatal("retry leased before its notBefore")
	}
	clk.Add(time.Hour)
	l4, err := m.Next(ctx)
	if err != nil || l4.URL != "http://c.test/1" || l4.Attempt != 1 {
		t.Fatalf("Next = %+v, %v; want the retry of c.test/1, attempt 1", l4, err)
	}
}

func TestIdleHostsForgotten(t *testing.T) {
	m := New(Config{})
	defer m.Close()
	ctx := context.Background()
	var es []frontier.Entry
	for i := range 2 * sweepMin {
		es = append(es, frontier.Entry{URL: fmt.Sprintf("http://h%d.test/", i)})
	}
	if _, err := m.Push(ctx, es...); err != nil {
		t.Fatal(err)
	}
	if err := m.SetHostPolicy(ctx, "h7.test", frontier.HostPolicy{MaxInFlight: 1}); err != nil {
		t.Fatal(err)
	}
	for {
		l, err := m.Next(ctx)
		if errors.Is(err, frontier.ErrDone) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Ack(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	// Idle hosts are swept once they are many; the host with a policy of
	// its own is kept.
	if len(m.hosts) > sweepMin || m.hosts["h7.test"] == nil {
		t.Errorf("%d hosts kept after the crawl (h7.test kept: %v); want at most %d, h7.test among them", len(m.hosts), m.hosts["h7.test"] != nil, sweepMin)
	}
	// Its policy still applies to URLs that arrive later.
	if _, err := m.Push(ctx, frontier.Entry{URL: "http://h7.test/a"}, frontier.Entry{URL: "http://h7.test/b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Next(ctx); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if _, err := m.Next(tctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second lease of h7.test = %v; its MaxInFlight of 1 should block it", err)
	}
}
