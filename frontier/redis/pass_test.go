package redis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/internal/redistest"
)

// drain leases and acks everything f has queued.
func drain(ctx context.Context, t *testing.T, f *Frontier) int {
	t.Helper()
	n := 0
	for {
		l, err := f.Next(ctx)
		if err == frontier.ErrDone {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Ack(ctx, l); err != nil {
			t.Fatal(err)
		}
		n++
	}
}

func mustNewPass(ctx context.Context, t *testing.T, f *Frontier, want bool, why string) {
	t.Helper()
	got, err := f.NewPass(ctx)
	if err != nil {
		t.Fatalf("NewPass (%s): %v", why, err)
	}
	if got != want {
		t.Fatalf("NewPass (%s) = %v; want %v", why, got, want)
	}
}

// TestNewPass: a pass starts only over a finished crawl with something
// pushed since the pass began; it forgets the seen URLs and the per-pass
// counts and keeps host policies, pauses and robots.txt answers.
func TestNewPass(t *testing.T) {
	name := redistest.Name(t)
	f := open(t, Config{Name: name, Policy: frontier.HostPolicy{MaxInFlight: 4}})
	other := open(t, Config{Name: name + "-other"})
	ctx := ctxT(t, 20*time.Second)

	mustNewPass(ctx, t, f, false, "empty crawl")
	if _, err := other.Push(ctx, urls("other.test", 3)...); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Push(ctx, urls("a.test", 5)...); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Push(ctx, urls("b.test", 5)...); err != nil {
		t.Fatal(err)
	}
	mustNewPass(ctx, t, f, false, "entries queued")
	// Leave one lease outstanding, then one delayed retry.
	for range 9 {
		l, err := f.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Ack(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	held, err := f.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustNewPass(ctx, t, f, false, "a lease outstanding")
	if err := f.Retry(ctx, held, time.Now().Add(200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.Stats(ctx); st.Delayed != 1 {
		t.Fatalf("Stats after Retry = %+v; want one delayed", st)
	}
	mustNewPass(ctx, t, f, false, "a retry delayed")
	if n := drain(ctx, t, f); n != 1 {
		t.Fatalf("drained %d; want the retried entry", n)
	}

	// State beside the queue that must survive.
	if err := f.SetHostPolicy(ctx, "a.test", frontier.HostPolicy{MaxInFlight: 1, Interval: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	hold := time.Now().Add(time.Hour)
	if err := f.PauseHost(ctx, "b.test", hold); err != nil {
		t.Fatal(err)
	}
	if err := f.StoreRobots(ctx, "http://a.test", 200, []byte("User-agent: *\n"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCounters(ctx, map[string]int64{"pages": 10}); err != nil {
		t.Fatal(err)
	}
	if err := f.IncrCounters(ctx, map[string]int64{"bytes": 99}); err != nil {
		t.Fatal(err)
	}
	c, err := f.Counters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c["acked"] != 10 || c["retried"] != 1 || c["hosts"] != 2 || c["pages"] != 10 {
		t.Fatalf("Counters before the new pass = %v", c)
	}
	if n, _, err := f.Pass(ctx); err != nil || n != 0 {
		t.Fatalf("Pass before any NewPass = %d, %v; want 0", n, err)
	}

	before := time.Now()
	mustNewPass(ctx, t, f, true, "finished crawl")
	mustNewPass(ctx, t, f, false, "a pass just started, nothing pushed")
	if n, started, err := f.Pass(ctx); err != nil || n != 1 || started.Before(before.Add(-time.Minute)) {
		t.Fatalf("Pass = %d, %v, %v; want 1, started now", n, started, err)
	}
	st, err := f.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st != (frontier.Stats{}) {
		t.Errorf("Stats after NewPass = %+v; want all zero", st)
	}
	c, err = f.Counters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != 0 {
		t.Errorf("Counters after NewPass = %v; want none (all per pass)", c)
	}
	// The other crawl is untouched.
	if st, _ := other.Stats(ctx); st.Seen != 3 || st.Queued != 3 {
		t.Errorf("another crawl's Stats after NewPass = %+v; want its 3 URLs queued", st)
	}
	if buckets := countKeys(ctx, t, f.client, f.prefix+"s:*"); buckets != 0 {
		t.Errorf("%d seen buckets left after NewPass", buckets)
	}

	// Kept: policy, pause, robots.txt.
	h, err := f.client.HGetAll(ctx, f.prefix+"h:a.test").Result()
	if err != nil {
		t.Fatal(err)
	}
	if h["pol"] != "1" || h["max"] != "1" || h["int"] != "10" {
		t.Errorf("host a.test's state after NewPass = %v; want its policy kept", h)
	}
	hb, err := f.client.HGet(ctx, f.prefix+"h:b.test", "hold").Int64()
	if err != nil || hb != hold.UnixMilli() {
		t.Errorf("host b.test's pause after NewPass = %d, %v; want %d", hb, err, hold.UnixMilli())
	}
	if st, _, ok, err := f.LoadRobots(ctx, "http://a.test"); !ok || err != nil || st != 200 {
		t.Errorf("robots.txt after NewPass = %d, %v, %v; want the stored answer", st, ok, err)
	}

	// The same URLs are new again, and the policy applies to them.
	if n, err := f.Push(ctx, urls("a.test", 5)...); err != nil || n != 5 {
		t.Fatalf("Push of the first pass's URLs after NewPass = %d, %v; want 5 added", n, err)
	}
	mustNewPass(ctx, t, f, false, "second pass running")
	l1, err := f.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := f.Counters(ctx); c["hosts"] != 1 {
		t.Errorf("hosts counter in the second pass = %d; want 1", c["hosts"])
	}
	if n := countLeases(ctx, t, f); n != 1 {
		t.Errorf("%d leases out for a host limited to 1", n)
	}
	if err := f.Ack(ctx, l1); err != nil {
		t.Fatal(err)
	}
	if n := drain(ctx, t, f); n != 4 {
		t.Fatalf("second pass drained %d more; want 4", n)
	}
	mustNewPass(ctx, t, f, true, "second pass finished")
	if n, _, _ := f.Pass(ctx); n != 2 {
		t.Errorf("Pass after the second NewPass = %d; want 2", n)
	}
}

func countKeys(ctx context.Context, t *testing.T, c goredis.UniversalClient, pattern string) int {
	t.Helper()
	n := 0
	iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		n++
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

func countLeases(ctx context.Context, t *testing.T, f *Frontier) int64 {
	t.Helper()
	n, err := f.client.ZCard(ctx, f.prefix+"leases").Result()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestNewPassConcurrent: processes that all find the crawl finished call
// NewPass at once; exactly one starts the pass, round after round.
func TestNewPassConcurrent(t *testing.T) {
	name := redistest.Name(t)
	const procs, callers, rounds = 4, 4, 10
	var fs []*Frontier
	for range procs {
		fs = append(fs, open(t, Config{Name: name}))
	}
	ctx := ctxT(t, 60*time.Second)
	for r := range rounds {
		if _, err := fs[r%procs].Push(ctx, urls(fmt.Sprintf("r%d.test", r%3), 20)...); err != nil {
			t.Fatal(err)
		}
		drain(ctx, t, fs[(r+1)%procs])
		var started atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, f := range fs {
			for range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					ok, err := f.NewPass(ctx)
					if err != nil {
						t.Error(err)
					}
					if ok {
						started.Add(1)
					}
				}()
			}
		}
		close(start)
		wg.Wait()
		if n := started.Load(); n != 1 {
			t.Fatalf("round %d: %d of %d callers started a pass; want exactly 1", r, n, procs*callers)
		}
		if n, _, _ := fs[0].Pass(ctx); n != int64(r+1) {
			t.Fatalf("round %d: Pass = %d; want %d", r, n, r+1)
		}
	}
}

// TestNewPassRacesPush: NewPass called while other processes push and
// lease never starts a pass over a running crawl, and never loses an
// entry: whatever was pushed is delivered.
func TestNewPassRacesPush(t *testing.T) {
	name := redistest.Name(t)
	a, b := open(t, Config{Name: name}), open(t, Config{Name: name})
	ctx := ctxT(t, 60*time.Second)
	const n = 300
	var pushed, delivered atomic.Int64
	var startedWhileRunning atomic.Int32
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			ok, err := b.NewPass(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				startedWhileRunning.Add(1)
			}
		}
	}()
	// The pushes keep the crawl running: each URL's lease is held until the
	// next URL is pushed.
	var prev *frontier.Lease
	for i := range n {
		added, err := a.Push(ctx, frontier.Entry{URL: fmt.Sprintf("http://race.test/%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		pushed.Add(int64(added))
		if prev != nil {
			if err := a.Ack(ctx, prev); err != nil {
				t.Fatal(err)
			}
		}
		l, err := a.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		delivered.Add(1)
		prev = l
	}
	close(stop)
	wg.Wait()
	if err := a.Ack(ctx, prev); err != nil {
		t.Fatal(err)
	}
	if startedWhileRunning.Load() != 0 {
		t.Errorf("NewPass started %d passes while the crawl was running", startedWhileRunning.Load())
	}
	if pushed.Load() != n || delivered.Load() != n {
		t.Errorf("pushed %d, delivered %d; want %d each", pushed.Load(), delivered.Load(), n)
	}
	mustNewPass(ctx, t, b, true, "finished")
}

// TestNewPassRetriedAfterLostReply: the script run again with the same
// token (a retry after a lost reply) reports the pass the first run
// started, and starts no other.
func TestNewPassRetriedAfterLostReply(t *testing.T) {
	f := open(t, Config{})
	ctx := ctxT(t, 10*time.Second)
	if _, err := f.Push(ctx, urls("lost.test", 3)...); err != nil {
		t.Fatal(err)
	}
	drain(ctx, t, f)
	args := f.args("tok-lost", 60)
	first, err := newPassScript.Run(ctx, f.client, f.hosts, args...).Int64()
	if err != nil || first != 1 {
		t.Fatalf("first run = %d, %v; want pass 1", first, err)
	}
	if _, err := f.Push(ctx, urls("lost.test", 3)...); err != nil {
		t.Fatal(err)
	}
	drain(ctx, t, f)
	again, err := newPassScript.Run(ctx, f.client, f.hosts, args...).Int64()
	if err != nil || again != 1 {
		t.Fatalf("retried run = %d, %v; want pass 1 again", again, err)
	}
	if st, _ := f.Stats(ctx); st.Seen != 3 {
		t.Errorf("Stats.Seen after the retried run = %d; want 3 (no second pass started)", st.Seen)
	}
}

func TestNewPassClosed(t *testing.T) {
	f := open(t, Config{})
	f.Close()
	if _, err := f.NewPass(context.Background()); err != frontier.ErrClosed {
		t.Errorf("NewPass after Close = %v; want ErrClosed", err)
	}
}

// BenchmarkNewPass measures NewPass over a finished crawl of 100k and 1M
// seen URLs (the seen buckets are filled directly, as Push fills them,
// before each run), and reports the script's time as the Redis server's
// CPU time during the call ("redis-cpu-ms").
//
//	go test -run '^$' -bench NewPass -benchtime 3x ./frontier/redis/
func BenchmarkNewPass(b *testing.B) {
	seens := []int{100_000, 1_000_000}
	if v := os.Getenv("NEWPASS_SEEN"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		seens = []int{n}
	}
	for _, seen := range seens {
		b.Run(fmt.Sprintf("seen=%d", seen), func(b *testing.B) {
			url := redistest.URL(b)
			ctx := context.Background()
			f, err := Open(ctx, url, Config{Name: redistest.Name(b)})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { f.Drop(ctx); f.Close() }()
			for range b.N {
				b.StopTimer()
				fillSeen(ctx, b, f, seen)
				cpu0 := redisCPU(ctx, b, f.client)
				b.StartTimer()
				ok, err := f.NewPass(ctx)
				if err != nil || !ok {
					b.Fatalf("NewPass = %v, %v", ok, err)
				}
				b.StopTimer()
				b.ReportMetric(float64(redisCPU(ctx, b, f.client)-cpu0)/float64(time.Millisecond), "redis-cpu-ms")
				b.StartTimer()
			}
		})
	}
}

// fillSeen adds n random fingerprints to f's seen buckets and sets
// Stats.Seen, as a finished crawl of n URLs leaves them.
func fillSeen(ctx context.Context, b *testing.B, f *Frontier, n int) {
	const batch = 10_000
	for i := 0; i < n; i += batch {
		_, err := f.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for range min(batch, n-i) {
				bucket, member := seenKey(rand.Uint64())
				p.SAdd(ctx, f.prefix+"s:"+bucket, member)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := f.client.HSet(ctx, f.prefix+"stats", "seen", n).Err(); err != nil {
		b.Fatal(err)
	}
}

// redisCPU returns the CPU time the Redis server has used (INFO cpu).
func redisCPU(ctx context.Context, b *testing.B, c goredis.UniversalClient) time.Duration {
	info, err := c.Info(ctx, "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, f := range []string{"used_cpu_user", "used_cpu_sys"} {
		x, err := strconv.ParseFloat(infoField(info, f), 64)
		if err != nil {
			b.Fatal(err)
		}
		total += x
	}
	return time.Duration(total * float64(time.Second))
}

// TestPassStarted: the first pass's start is recorded by the first call and
// read by later ones, from any process; a new pass's is when it started.
func TestPassStarted(t *testing.T) {
	name := redistest.Name(t)
	clock := time.UnixMilli(1_800_000_000_000)
	f := open(t, Config{Name: name, Now: func() time.Time { return clock }})
	other := open(t, Config{Name: name, Now: func() time.Time { return clock.Add(time.Hour) }})
	ctx := ctxT(t, 20*time.Second)
	first, err := f.PassStarted(ctx)
	if err != nil || !first.Equal(clock) {
		t.Fatalf("PassStarted = %v, %v; want %v (recorded by the first call)", first, err, clock)
	}
	if got, err := other.PassStarted(ctx); err != nil || !got.Equal(clock) {
		t.Fatalf("PassStarted from another process = %v, %v; want the recorded %v", got, err, clock)
	}
	if _, err := f.Push(ctx, urls("a.test", 2)...); err != nil {
		t.Fatal(err)
	}
	drain(ctx, t, f)
	clock = clock.Add(time.Minute)
	mustNewPass(ctx, t, f, true, "finished crawl")
	if got, err := other.PassStarted(ctx); err != nil || !got.Equal(clock) {
		t.Fatalf("PassStarted after NewPass = %v, %v; want %v", got, err, clock)
	}
}
