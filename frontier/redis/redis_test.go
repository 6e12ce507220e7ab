package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/frontiertest"
	"github.com/trawlhq/trawl/internal/redistest"
)

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func urls(host string, n int) []frontier.Entry {
	es := make([]frontier.Entry, n)
	for i := range es {
		es[i] = frontier.Entry{URL: fmt.Sprintf("http://%s/p/%d", host, i)}
	}
	return es
}

// TestSharedCrawl runs three Frontiers on one crawl, as three processes
// would: every URL is delivered exactly once across them, links pushed by
// one are leased by the others, and no host ever has more leases out than
// its limit, counted over all three.
func TestSharedCrawl(t *testing.T) {
	sharedCrawl(t, open)
}

// sharedCrawl is TestSharedCrawl on the frontiers opener returns.
func sharedCrawl(t *testing.T, opener func(t *testing.T, cfg Config) *Frontier) {
	name := redistest.Name(t)
	const procs, workers, hosts, m = 3, 4, 6, 600
	limits := map[string]int{}
	var fs []*Frontier
	for range procs {
		fs = append(fs, opener(t, Config{Name: name, Policy: frontier.HostPolicy{MaxInFlight: 2}}))
	}
	ctx := ctxT(t, 30*time.Second)
	urlOf := func(i int) string { return fmt.Sprintf("http://h%d.shared.test/p/%d", i%hosts, i) }
	for h := range hosts {
		host := fmt.Sprintf("h%d.shared.test", h)
		limits[host] = 2
		if h%3 == 0 {
			limits[host] = 1
			if err := fs[h%procs].SetHostPolicy(ctx, host, frontier.HostPolicy{MaxInFlight: 1}); err != nil {
				t.Fatal(err)
			}
		}
	}
	index := map[string]int{}
	for i := range m {
		index[urlOf(i)] = i
	}
	if _, err := fs[0].Push(ctx, frontier.Entry{URL: urlOf(0)}); err != nil {
		t.Fatal(err)
	}
	delivered := make([]atomic.Int32, m)
	var mu sync.Mutex
	inflight, peak := map[string]int{}, map[string]int{}
	byProc := make([]atomic.Int64, procs)
	var wg sync.WaitGroup
	for p, f := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			frontiertest.Work(ctx, t, f, workers, func(l *frontier.Lease) error {
				mu.Lock()
				inflight[l.Host]++
				peak[l.Host] = max(peak[l.Host], inflight[l.Host])
				mu.Unlock()
				i := index[l.URL]
				delivered[i].Add(1)
				byProc[p].Add(1)
				var found []frontier.Entry
				for _, j := range []int{2*i + 1, 2*i + 2, i / 2} {
					if j < m {
						found = append(found, frontier.Entry{URL: urlOf(j), Depth: l.Depth + 1, Referrer: l.URL})
					}
				}
				if _, err := f.Push(ctx, found...); err != nil {
					return fmt.Errorf("Push: %w", err)
				}
				time.Sleep(time.Millisecond) // hold the lease: let workers pile up on hosts
				mu.Lock()
				inflight[l.Host]--
				mu.Unlock()
				return f.Ack(ctx, l)
			})
		}()
	}
	wg.Wait()
	for i := range delivered {
		if n := delivered[i].Load(); n != 1 {
			t.Errorf("URL %s delivered %d times; want 1", urlOf(i), n)
		}
	}
	for h, lim := range limits {
		if peak[h] > lim {
			t.Errorf("host %s had %d leases out across processes; limit %d", h, peak[h], lim)
		}
	}
	for p := range byProc {
		if byProc[p].Load() == 0 {
			t.Errorf("process %d leased nothing; want the crawl shared", p)
		}
	}
	st, err := fs[1].Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (frontier.Stats{Seen: m}); st != want {
		t.Errorf("Stats = %+v; want %+v", st, want)
	}
}

// TestVisibilityTimeout checks that the leases of a process that dies come
// back to the others after the timeout, with Attempt incremented, while a
// live process keeps a lease it holds for longer than the timeout.
func TestVisibilityTimeout(t *testing.T) {
	name := redistest.Name(t)
	const vis = 300 * time.Millisecond
	cfg := Config{Name: name, VisibilityTimeout: vis, Policy: frontier.HostPolicy{MaxInFlight: 4}}
	dead, live, other := open(t, cfg), open(t, cfg), open(t, cfg)
	ctx := ctxT(t, 20*time.Second)
	if _, err := dead.Push(ctx, urls("vt.test", 3)...); err != nil {
		t.Fatal(err)
	}
	lDead, err := dead.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lLive, err := live.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	abandon(dead)
	start := time.Now()
	got := map[string]*frontier.Lease{}
	for range 2 {
		l, err := other.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got[l.URL] = l
	}
	l := got[lDead.URL]
	if l == nil {
		t.Fatalf("leases %v; want the dead process's URL %s back", got, lDead.URL)
	}
	if waited := time.Since(start); waited < vis*9/10 {
		t.Errorf("dead lease came back after %v; want >= the visibility timeout %v", waited, vis)
	}
	if l.Attempt != 1 {
		t.Errorf("re-queued lease Attempt = %d; want 1", l.Attempt)
	}
	if got[lLive.URL] != nil {
		t.Errorf("live process's lease %s was handed out again", lLive.URL)
	}
	// The live process held its lease for more than three timeouts.
	time.Sleep(3 * vis)
	if err := live.Ack(ctx, lLive); err != nil {
		t.Errorf("Ack of a lease kept alive by the heartbeat: %v", err)
	}
	// The dead process's Ack would now be refused (its lease is gone).
	for _, l := range got {
		if err := other.Ack(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := other.Next(ctx); !errors.Is(err, frontier.ErrDone) {
		t.Errorf("Next = %v; want ErrDone", err)
	}
	if c, err := other.Counters(ctx); err != nil || c["expired"] != 1 || c["acked"] != 3 {
		t.Errorf("Counters = %v, %v; want expired 1, acked 3", c, err)
	}
}

// TestCloseHandsBackLeases: leases outstanding at Close go straight back
// to the queue for the other processes, without waiting for the timeout.
func TestCloseHandsBackLeases(t *testing.T) {
	name := redistest.Name(t)
	cfg := Config{Name: name, VisibilityTimeout: time.Hour}
	a, b := open(t, cfg), open(t, cfg)
	ctx := ctxT(t, 10*time.Second)
	if _, err := a.Push(ctx, urls("cb.test", 2)...); err != nil {
		t.Fatal(err)
	}
	l1, err := a.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	got := map[string]int{}
	for range 2 {
		l, err := b.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got[l.URL] = l.Attempt
		if err := b.Ack(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if a, ok := got[l1.URL]; !ok || a != 0 {
		t.Errorf("handed-back lease: got %v; want %s with Attempt 0", got, l1.URL)
	}
}

// TestInjectedClock drives the schedule with Config.Now: the interval is
// measured on the injected clock, not the server's.
func TestInjectedClock(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	clock := func() time.Time { return time.UnixMilli(now.Load()) }
	f := open(t, Config{Now: clock, Policy: frontier.HostPolicy{Interval: time.Hour, MaxInFlight: 1}})
	ctx := ctxT(t, 10*time.Second)
	if _, err := f.Push(ctx, urls("clock.test", 2)...); err != nil {
		t.Fatal(err)
	}
	l, err := f.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Ack(ctx, l); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	if l, err := f.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next within the interval = %v, %v; want it to block", l, err)
	}
	cancel()
	now.Add(time.Hour.Milliseconds())
	l, err = f.Next(ctx)
	if err != nil {
		t.Fatalf("Next after the clock passed the interval: %v", err)
	}
	if l.URL != "http://clock.test/p/1" {
		t.Errorf("lease %s; want the second URL", l.URL)
	}
}

// TestCounters: counters from several processes add up.
func TestCounters(t *testing.T) {
	name := redistest.Name(t)
	a, b := open(t, Config{Name: name}), open(t, Config{Name: name})
	ctx := ctxT(t, 5*time.Second)
	if err := a.IncrCounters(ctx, map[string]int64{"pages": 3, "errors": 1}); err != nil {
		t.Fatal(err)
	}
	if err := b.IncrCounters(ctx, map[string]int64{"pages": 4, "bytes": 100}); err != nil {
		t.Fatal(err)
	}
	got, err := a.Counters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"pages": 7, "errors": 1, "bytes": 100}
	delete(got, "acked")
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Counters = %v; want %v", got, want)
	}
}

// TestSetCounters: each Frontier's own counters are absolute (a repeated
// call is exact) and Counters sums them over the crawl's Frontiers, with
// the hosts ever pushed.
func TestSetCounters(t *testing.T) {
	name := redistest.Name(t)
	a, b := open(t, Config{Name: name}), open(t, Config{Name: name})
	ctx := ctxT(t, 5*time.Second)
	if _, err := a.Push(ctx, frontier.Entry{URL: "http://h1.test/"}, frontier.Entry{URL: "http://h2.test/"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Push(ctx, frontier.Entry{URL: "http://h2.test/x"}, frontier.Entry{URL: "http://h3.test/"}); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		f    *Frontier
		vals map[string]int64
	}{
		{a, map[string]int64{"pages": 3, "errors": 1}},
		{a, map[string]int64{"pages": 5, "errors": 1}}, // replaces a's values
		{a, map[string]int64{"pages": 5, "errors": 1}}, // a retry changes nothing
		{b, map[string]int64{"pages": 4}},
	} {
		if err := step.f.SetCounters(ctx, step.vals); err != nil {
			t.Fatal(err)
		}
	}
	got, err := b.Counters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"pages": 9, "errors": 1, "processes": 2, "hosts": 3}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Counters = %v; want %v", got, want)
	}
}

// TestPushIdempotent: a Push script replayed with the same token (a retry
// after a lost reply) reports the first result and adds nothing.
func TestPushIdempotent(t *testing.T) {
	f := open(t, Config{})
	ctx := ctxT(t, 5*time.Second)
	e := frontier.Entry{URL: "http://idem.test/a"}
	b, m := seenKey(frontier.Fingerprint(e.URL))
	args := f.args("token-1", 60, b, m, "idem.test", encodeEntry(0, e))
	for i := range 2 {
		n, err := pushScript.Run(ctx, f.client, f.hosts, args...).Int64()
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("run %d added %d; want 1 both times", i, n)
		}
	}
	st, err := f.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Queued != 1 || st.Seen != 1 {
		t.Errorf("Stats = %+v; want one entry", st)
	}
}

// TestPushBadEntries: bad URLs are named in the error; the good ones in
// the same call are pushed.
func TestPushBadEntries(t *testing.T) {
	f := open(t, Config{})
	ctx := ctxT(t, 5*time.Second)
	n, err := f.Push(ctx,
		frontier.Entry{URL: "http://good.test/1"},
		frontier.Entry{URL: ""},
		frontier.Entry{URL: "no-host"},
		frontier.Entry{URL: "http://good.test/2\nx"},
		frontier.Entry{URL: "http://good.test/3"},
	)
	if n != 2 {
		t.Errorf("added %d; want 2", n)
	}
	if err == nil || !strings.Contains(err.Error(), `"no-host"`) || !strings.Contains(err.Error(), "empty URL") {
		t.Errorf("err = %v; want it to name the bad entries", err)
	}
}

// TestPushReferrerLineBreaks: a referrer's line breaks are dropped (an entry
// is stored as lines), the rest of it kept; one without them is kept whole.
func TestPushReferrerLineBreaks(t *testing.T) {
	f := open(t, Config{})
	ctx := ctxT(t, 5*time.Second)
	want := map[string]string{
		"http://ref.test/1": "http://from.test/ab",
		"http://ref.test/2": "http://from.test/plain",
	}
	if _, err := f.Push(ctx,
		frontier.Entry{URL: "http://ref.test/1", Referrer: "http://from.test/a\r\nb"},
		frontier.Entry{URL: "http://ref.test/2", Referrer: "http://from.test/plain"},
	); err != nil {
		t.Fatal(err)
	}
	for range want {
		l, err := f.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if l.Referrer != want[l.URL] {
			t.Errorf("%s: Referrer %q; want %q", l.URL, l.Referrer, want[l.URL])
		}
		if err := f.Ack(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDrop: Drop removes every key of the crawl and none of another.
func TestDrop(t *testing.T) {
	a, b := open(t, Config{}), open(t, Config{})
	ctx := ctxT(t, 5*time.Second)
	for _, f := range []*Frontier{a, b} {
		if _, err := f.Push(ctx, urls("drop.test", 5)...); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	c := redistest.Client(t)
	if keys := c.Keys(ctx, "trawl:{"+a.Name()+"}:*").Val(); len(keys) != 0 {
		t.Errorf("keys left after Drop: %v", keys)
	}
	if st, _ := b.Stats(ctx); st.Queued != 5 {
		t.Errorf("other crawl's Stats = %+v; want its 5 entries", st)
	}
}

// TestOpenErrors: a malformed URL, an unreachable Redis and a wrong
// password each fail Open at once with a line that says which.
func TestOpenErrors(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{Password: "s3cret"})
	ctx := ctxT(t, 30*time.Second)
	tests := []struct {
		name, url, want string
	}{
		{"malformed", "postgres://x", "bad Redis URL"},
		{"unreachable", "redis://127.0.0.1:1/0", "cannot reach Redis at 127.0.0.1:1"},
		{"wrong password", "redis://:nope@" + srv.Addr + "/0", "refused the credentials"},
		{"no password", "redis://" + srv.Addr + "/0", "refused the credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Open(ctx, tc.url, Config{})
			if err == nil {
				f.Close()
				t.Fatal("Open succeeded; want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v; want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "nope") {
				t.Errorf("err = %v; it leaks the password", err)
			}
		})
	}
	f, err := Open(ctx, srv.URL(), Config{})
	if err != nil {
		t.Fatalf("Open with the right password: %v", err)
	}
	f.Close()
}

// TestProvisionalPolicy: a provisional policy (a process that has not
// read the host's robots.txt yet) applies to a host without a policy, and
// leaves alone the policy another process set.
func TestProvisionalPolicy(t *testing.T) {
	name := redistest.Name(t)
	a, b := open(t, Config{Name: name}), open(t, Config{Name: name})
	ctx := ctxT(t, 10*time.Second)
	if err := a.SetHostPolicy(ctx, "known.test", frontier.HostPolicy{MaxInFlight: 3}); err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"known.test", "new.test"} {
		if err := b.SetHostPolicy(ctx, host, frontier.HostPolicy{MaxInFlight: 1, Provisional: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		host string
		max  int
	}{{"known.test", 3}, {"new.test", 1}} {
		var es []frontier.Entry
		for i := range 4 {
			es = append(es, frontier.Entry{URL: fmt.Sprintf("http://%s/%d", tc.host, i)})
		}
		if _, err := a.Push(ctx, es...); err != nil {
			t.Fatal(err)
		}
		var leases []*frontier.Lease
		for range tc.max {
			l, err := b.Next(ctx)
			if err != nil {
				t.Fatalf("%s: Next: %v", tc.host, err)
			}
			leases = append(leases, l)
		}
		short, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
		l, err := b.Next(short)
		cancel()
		if err == nil {
			t.Errorf("%s: lease %d (%s) granted; want at most %d in flight", tc.host, tc.max+1, l.URL, tc.max)
			leases = append(leases, l)
		}
		for _, l := range leases {
			if err := b.Ack(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		for {
			l, err := b.Next(ctx)
			if err != nil {
				break // done
			}
			b.Ack(ctx, l)
		}
	}
}

// TestEvictionPolicy: a Redis that may evict keys without an expiry is
// refused with an error naming the policy; noeviction and volatile-* are
// accepted.
func TestEvictionPolicy(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	for _, tc := range []struct {
		policy string
		refuse bool
	}{
		{"allkeys-lru", true},
		{"allkeys-random", true},
		{"volatile-lru", false},
		{"noeviction", false},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			srv := redistest.Start(t, redistest.Options{MaxmemoryPolicy: tc.policy})
			f, err := Open(ctx, srv.URL(), Config{})
			if !tc.refuse {
				if err != nil {
					t.Fatalf("Open: %v; want %s accepted", err, tc.policy)
				}
				f.Close()
				return
			}
			if err == nil {
				f.Close()
				t.Fatalf("Open succeeded on maxmemory-policy %s; want it refused", tc.policy)
			}
			if !errors.Is(err, ErrEvictionPolicy) || !strings.Contains(err.Error(), "maxmemory-policy "+tc.policy) ||
				strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %q; want one line naming maxmemory-policy %s", err, tc.policy)
			}
		})
	}
}

// TestRedisRestart kills Redis (persistent: appendonly) while workers
// crawl, and starts it again: operations retry with a log line, the crawl
// resumes, and every URL is acknowledged.
func TestRedisRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a redis-server")
	}
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	logs := &redistest.LogBuffer{}
	cfg := Config{
		Name:              redistest.Name(t),
		VisibilityTimeout: time.Second, // leases whose Next reply was lost come back soon
		Logger:            slog.New(slog.NewTextHandler(logs, nil)),
	}
	ctx := ctxT(t, 40*time.Second)
	f, err := Open(ctx, srv.URL(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const m, hosts = 400, 4
	urlOf := func(i int) string { return fmt.Sprintf("http://h%d.restart.test/p/%d", i%hosts, i) }
	index := map[string]int{}
	for i := range m {
		index[urlOf(i)] = i
	}
	if _, err := f.Push(ctx, frontier.Entry{URL: urlOf(0)}); err != nil {
		t.Fatal(err)
	}
	acked := make([]atomic.Int32, m)
	var total atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		frontiertest.Work(ctx, t, f, 4, func(l *frontier.Lease) error {
			i := index[l.URL]
			var found []frontier.Entry
			for _, j := range []int{2*i + 1, 2*i + 2} {
				if j < m {
					found = append(found, frontier.Entry{URL: urlOf(j)})
				}
			}
			if _, err := f.Push(ctx, found...); err != nil {
				return fmt.Errorf("Push: %w", err)
			}
			time.Sleep(2 * time.Millisecond) // a fetch
			if err := f.Ack(ctx, l); err != nil && !errors.Is(err, frontier.ErrUnknownLease) {
				return fmt.Errorf("Ack: %w", err)
			}
			acked[i].Add(1)
			total.Add(1)
			return nil
		})
	}()
	// Kill Redis a quarter of the way through, keep it down a moment.
	for total.Load() < m/4 {
		time.Sleep(5 * time.Millisecond)
	}
	srv.Kill()
	time.Sleep(700 * time.Millisecond)
	srv.Restart(t)
	wg.Wait()
	for i := range acked {
		if acked[i].Load() < 1 {
			t.Errorf("URL %s never acknowledged: lost across the restart", urlOf(i))
		}
	}
	st, err := f.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Seen != m || st.Queued != 0 || st.Leased != 0 {
		t.Errorf("Stats = %+v; want Seen %d and nothing left", st, m)
	}
	out := logs.String()
	for _, want := range []string{"Redis unavailable, retrying", "Redis reachable again"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// TestMaxOutage: with Redis gone for good, an operation gives up after
// MaxOutage with an error that says so.
func TestMaxOutage(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := ctxT(t, 20*time.Second)
	f, err := Open(ctx, srv.URL(), Config{MaxOutage: 300 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	srv.Kill()
	_, err = f.Push(ctx, urls("gone.test", 1)...)
	if err == nil || !strings.Contains(err.Error(), "Redis unavailable for") {
		t.Errorf("Push with Redis gone = %v; want an outage error", err)
	}
}

func TestEntryRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		attempt int
		e       frontier.Entry
	}{
		{"seed", 0, frontier.Entry{URL: "http://a.test/"}},
		{"full", 3, frontier.Entry{URL: "https://a.test:8443/x?y=z", Depth: 5, Referrer: "http://r.test/", Priority: -2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, e, err := decodeEntry(encodeEntry(tc.attempt, tc.e))
			if err != nil || a != tc.attempt || e != tc.e {
				t.Errorf("round trip = %d, %+v, %v; want %d, %+v", a, e, err, tc.attempt, tc.e)
			}
		})
	}
	if _, _, err := decodeEntry("1\nx"); err == nil {
		t.Error("decodeEntry of a malformed entry succeeded")
	}
}

func FuzzEntryRoundTrip(f *testing.F) {
	f.Add(0, 0, 0, "http://a.test/", "")
	f.Add(7, 2, -1, "https://b.test:1/x?y", "http://r.test/")
	f.Fuzz(func(t *testing.T, attempt, depth, prio int, u, ref string) {
		if attempt < 0 || strings.ContainsAny(u, "\r\n") || strings.ContainsAny(ref, "\r\n") {
			t.Skip()
		}
		e := frontier.Entry{URL: u, Depth: depth, Priority: prio, Referrer: ref}
		a, got, err := decodeEntry(encodeEntry(attempt, e))
		if err != nil || a != attempt || got != e {
			t.Errorf("round trip of %+v = %d, %+v, %v", e, a, got, err)
		}
	})
}

func usedMemory(ctx context.Context, c *goredis.Client) (int64, error) {
	s, err := c.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(s, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			var n int64
			_, err := fmt.Sscan(v, &n)
			return n, err
		}
	}
	return 0, errors.New("no used_memory in INFO memory")
}

// BenchmarkPush pushes b.N distinct URLs (50 hosts) in batches of 100 and
// reports the Redis memory they take: the used_memory delta per URL with
// the queues holding every URL, and the seen set alone (MEMORY USAGE of
// its buckets) per URL. For the figure in docs/benchmarks.md:
// -benchtime=1000000x.
func BenchmarkPush(b *testing.B) {
	srv := redistest.Start(b, redistest.Options{})
	ctx := context.Background()
	f, err := Open(ctx, srv.URL(), Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr})
	defer c.Close()
	before, err := usedMemory(ctx, c)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	batch := make([]frontier.Entry, 0, 100)
	for i := 0; i < b.N; i++ {
		batch = append(batch, frontier.Entry{URL: fmt.Sprintf("https://h%d.bench.test/articles/%d/page.html", i%50, i), Depth: 2})
		if len(batch) == cap(batch) || i == b.N-1 {
			if _, err := f.Push(ctx, batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	b.StopTimer()
	after, _ := usedMemory(ctx, c)
	b.ReportMetric(float64(after-before)/float64(b.N), "redis-B/queued-url")
	var seen int64
	p := c.Pipeline()
	var cmds []*goredis.IntCmd
	for bucket := 0; bucket < 1<<seenBucketBits; bucket++ {
		cmds = append(cmds, p.MemoryUsage(ctx, f.prefix+"s:"+strconv.FormatUint(uint64(bucket), 16)))
	}
	p.Exec(ctx)
	for _, cmd := range cmds {
		seen += cmd.Val()
	}
	b.ReportMetric(float64(seen)/float64(b.N), "seen-B/url")
}

// BenchmarkLeaseCycle measures one Next + Ack round on a queue of one
// host, with 8 goroutines leasing at once (MaxInFlight 4).
func BenchmarkLeaseCycle(b *testing.B) {
	srv := redistest.Start(b, redistest.Options{})
	ctx := context.Background()
	f, err := Open(ctx, srv.URL(), Config{Policy: frontier.HostPolicy{MaxInFlight: 4}})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var es []frontier.Entry
	for i := 0; i < b.N; i++ {
		es = append(es, frontier.Entry{URL: fmt.Sprintf("http://cycle.test/p/%d", i)})
	}
	if _, err := f.Push(ctx, es...); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				l, err := f.Next(ctx)
				if err != nil {
					return
				}
				if err := f.Ack(ctx, l); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
