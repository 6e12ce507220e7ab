// Package frontiertest is the contract test suite every frontier.Frontier
// backend runs. A backend's test calls Run (or RunWithOptions when it
// persists state) with a function that opens a fresh, empty frontier whose
// default HostPolicy is MaxInFlight=2, Interval=0, Jitter=0.
//
//	func TestContract(t *testing.T) {
//		frontiertest.Run(t, func(t *testing.T) frontier.Frontier {
//			return memory.New(memory.Config{Policy: frontier.HostPolicy{MaxInFlight: 2}})
//		})
//	}
//
// Backends that implement frontier.HostPauser or frontier.PassStarter are
// checked against those contracts too (pass.go holds the PassStarter part);
// for the others those tests are skipped.
//
// The suite closes every frontier it opens. It uses real time: politeness
// gaps are asserted as lower bounds only (90% of the configured interval),
// so it passes on a loaded machine; it runs in a few seconds.
package frontiertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
)

// Options configures RunWithOptions.
type Options struct {
	// Open returns a fresh, empty frontier whose default HostPolicy is
	// MaxInFlight=2, Interval=0, Jitter=0. Required.
	Open func(t *testing.T) frontier.Frontier
	// Reopen closes old (as a process that dies would: without settling its
	// leases) and returns a frontier opened on the same persistent state.
	// Nil for backends that do not persist: the persistence tests are
	// skipped.
	Reopen func(t *testing.T, old frontier.Frontier) frontier.Frontier
	// URLs is the number of URLs the concurrency test pushes and drains.
	// Zero means 2000.
	URLs int
	// Priority says that Open's frontiers order each host's queue by
	// Entry.Priority (higher first, push order within one priority); false
	// says they ignore it (push order). The Priority test checks the one
	// that is declared.
	Priority bool
}

// Run runs the contract suite against the frontiers open returns.
func Run(t *testing.T, open func(t *testing.T) frontier.Frontier) {
	t.Helper()
	RunWithOptions(t, Options{Open: open})
}

// RunWithOptions runs the contract suite with the given options.
func RunWithOptions(t *testing.T, o Options) {
	t.Helper()
	if o.Open == nil {
		t.Fatal("frontiertest: Options.Open is nil")
	}
	if o.URLs == 0 {
		o.URLs = 2000
	}
	s := &suite{o: o}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"PushDedup", s.testPushDedup},
		{"PushEmpty", s.testPushEmpty},
		{"LeaseFields", s.testLeaseFields},
		{"FIFOPerHost", s.testFIFOPerHost},
		{"Priority", s.testPriority},
		{"MaxInFlight", s.testMaxInFlight},
		{"MaxInFlightConcurrent", s.testMaxInFlightConcurrent},
		{"Interval", s.testInterval},
		{"Jitter", s.testJitter},
		{"SetHostPolicy", s.testSetHostPolicy},
		{"SetHostPolicyInterval", s.testSetHostPolicyInterval},
		{"SetHostPolicyJitter", s.testSetHostPolicyJitter},
		{"SetHostPolicyShorter", s.testSetHostPolicyShorter},
		{"PauseHost", s.testPauseHost},
		{"FairnessReadyOrder", s.testFairnessReadyOrder},
		{"FairnessNoHeadOfLine", s.testFairnessNoHeadOfLine},
		{"ManyWaitersStaggered", s.testManyWaitersStaggered},
		{"BreadthFirstAcrossHosts", s.testBreadthFirst},
		{"DoneOnEmpty", s.testDoneOnEmpty},
		{"BlocksWhileLeased", s.testBlocksWhileLeased},
		{"PushWakesBlockedNext", s.testPushWakesBlockedNext},
		{"ContextCancel", s.testContextCancel},
		{"UnknownLease", s.testUnknownLease},
		{"AckLease", s.testAckLease},
		{"AckLeaseInterval", s.testAckLeaseInterval},
		{"Retry", s.testRetry},
		{"RetryHoldsNoSlot", s.testRetryHoldsNoSlot},
		{"RetryNotDone", s.testRetryNotDone},
		{"Release", s.testRelease},
		{"ReleaseHead", s.testReleaseHead},
		{"Stats", s.testStats},
		{"Close", s.testClose},
		{"CloseWakesNext", s.testCloseWakesNext},
		{"Concurrent", s.testConcurrent},
		{"ReopenKeepsQueueAndSeen", s.testReopen},
		{"ReopenRequeuesLeases", s.testReopenLeases},
		{"ReopenAfterRelease", s.testReopenRelease},
		{"NewPassFresh", s.testNewPassFresh},
		{"NewPass", s.testNewPass},
		{"NewPassKeepsPause", s.testNewPassKeepsPause},
		{"NewPassBusy", s.testNewPassBusy},
		{"NewPassConcurrent", s.testNewPassConcurrent},
		{"NewPassReopen", s.testNewPassReopen},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.fn)
	}
}

type suite struct{ o Options }

// Work leases from f with n goroutines, as a crawler's workers would, until
// f is done (Next returns frontier.ErrDone), and calls handle with each
// lease; handle settles it. A Next error other than ErrDone, or an error
// handle returns, fails t and stops that goroutine. Work returns when every
// goroutine has.
func Work(ctx context.Context, t testing.TB, f frontier.Frontier, n int, handle func(*frontier.Lease) error) {
	t.Helper()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				l, err := f.Next(ctx)
				if errors.Is(err, frontier.ErrDone) {
					return
				}
				if err != nil {
					t.Errorf("Next: %v", err)
					return
				}
				if err := handle(l); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// open returns a fresh frontier that is closed when the test ends.
func (s *suite) open(t *testing.T) frontier.Frontier {
	t.Helper()
	f := s.o.Open(t)
	if f == nil {
		t.Fatal("Open returned nil")
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// waitTimeout bounds every wait that is expected to succeed: generous,
// so that only a hang fails.
const waitTimeout = 10 * time.Second

// blockCheck is how long a Next that must block is watched.
const blockCheck = 80 * time.Millisecond

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

func u(host string, i int) string { return fmt.Sprintf("http://%s/p/%d", host, i) }

func entries(urls ...string) []frontier.Entry {
	es := make([]frontier.Entry, len(urls))
	for i, s := range urls {
		es[i] = frontier.Entry{URL: s}
	}
	return es
}

func hostURLs(host string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = u(host, i)
	}
	return out
}

func push(t *testing.T, f frontier.Frontier, es ...frontier.Entry) int {
	t.Helper()
	n, err := f.Push(ctxT(t), es...)
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	return n
}

func next(t *testing.T, f frontier.Frontier) *frontier.Lease {
	t.Helper()
	l, err := f.Next(ctxT(t))
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	if l == nil {
		t.Fatal("Next returned a nil lease and no error")
	}
	return l
}

func ack(t *testing.T, f frontier.Frontier, l *frontier.Lease) {
	t.Helper()
	if err := f.Ack(ctxT(t), l); err != nil {
		t.Fatalf("Ack(%s): %v", l.URL, err)
	}
}

func stats(t *testing.T, f frontier.Frontier) frontier.Stats {
	t.Helper()
	st, err := f.Stats(ctxT(t))
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return st
}

// mustBlock checks that Next does not return within blockCheck.
func mustBlock(t *testing.T, f frontier.Frontier) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), blockCheck)
	defer cancel()
	l, err := f.Next(ctx)
	if err == nil {
		t.Fatalf("Next returned lease %s; want it to block", l.URL)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next = %v; want it to block until the context deadline", err)
	}
}

// asyncNext runs Next in a goroutine and delivers its result.
type nextResult struct {
	l   *frontier.Lease
	err error
}

func asyncNext(ctx context.Context, f frontier.Frontier) <-chan nextResult {
	ch := make(chan nextResult, 1)
	go func() {
		l, err := f.Next(ctx)
		ch <- nextResult{l, err}
	}()
	return ch
}

func receive(t *testing.T, ch <-chan nextResult) nextResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(waitTimeout):
		t.Fatal("blocked Next did not return")
		return nextResult{}
	}
}

func notYet(t *testing.T, ch <-chan nextResult) {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("Next returned early with %v; want it to keep blocking", r.err)
		}
		t.Fatalf("Next returned lease %s early; want it to keep blocking", r.l.URL)
	case <-time.After(blockCheck):
	}
}

func (s *suite) testPushDedup(t *testing.T) {
	f := s.open(t)
	a, b, c := u("a.test", 1), u("a.test", 2), u("b.test", 1)
	if n := push(t, f, entries(a, b, a, a)...); n != 2 {
		t.Errorf("Push(a, b, a, a) added %d; want 2", n)
	}
	if n := push(t, f, entries(a, c, b, c)...); n != 1 {
		t.Errorf("Push(a, c, b, c) added %d; want 1", n)
	}
	if n := push(t, f, entries(a)...); n != 0 {
		t.Errorf("Push(a) again added %d; want 0", n)
	}
	st := stats(t, f)
	if st.Seen != 3 || st.Queued != 3 {
		t.Errorf("Stats = %+v; want Seen 3, Queued 3", st)
	}
	// A URL already delivered and acknowledged stays seen.
	got := map[string]int{}
	for range 3 {
		l := next(t, f)
		got[l.URL]++
		ack(t, f, l)
	}
	if got[a] != 1 || got[b] != 1 || got[c] != 1 {
		t.Errorf("delivered %v; want a, b, c once each", got)
	}
	if n := push(t, f, entries(a, b, c)...); n != 0 {
		t.Errorf("Push of acknowledged URLs added %d; want 0", n)
	}
	if _, err := f.Next(ctxT(t)); !errors.Is(err, frontier.ErrDone) {
		t.Errorf("Next after draining = %v; want ErrDone", err)
	}
}

func (s *suite) testPushEmpty(t *testing.T) {
	f := s.open(t)
	n, err := f.Push(ctxT(t))
	if err != nil || n != 0 {
		t.Errorf("Push() = %d, %v; want 0, nil", n, err)
	}
	if st := stats(t, f); st.Queued != 0 || st.Seen != 0 {
		t.Errorf("Stats after empty Push = %+v; want zero", st)
	}
}

func (s *suite) testLeaseFields(t *testing.T) {
	f := s.open(t)
	e1 := frontier.Entry{URL: "http://fields.test:8080/a?b=c", Depth: 3, Referrer: "http://r.test/x", Priority: 7}
	e2 := frontier.Entry{URL: "https://other.test/", Depth: 1}
	push(t, f, e1, e2)
	got := map[string]*frontier.Lease{}
	for range 2 {
		l := next(t, f)
		got[l.URL] = l
	}
	l1, l2 := got[e1.URL], got[e2.URL]
	if l1 == nil || l2 == nil {
		t.Fatalf("leases %v; want one for each pushed URL", got)
	}
	if l1.Entry != e1 {
		t.Errorf("lease entry = %+v; want %+v", l1.Entry, e1)
	}
	if l2.Entry != e2 {
		t.Errorf("lease entry = %+v; want %+v", l2.Entry, e2)
	}
	if l1.Host != "fields.test:8080" || l2.Host != "other.test" {
		t.Errorf("hosts = %q, %q; want fields.test:8080, other.test", l1.Host, l2.Host)
	}
	if l1.Host != frontier.HostKey(e1.URL) {
		t.Errorf("Host %q != HostKey %q", l1.Host, frontier.HostKey(e1.URL))
	}
	if l1.Attempt != 0 || l2.Attempt != 0 {
		t.Errorf("attempts = %d, %d; want 0", l1.Attempt, l2.Attempt)
	}
	if l1.ID == "" || l2.ID == "" || l1.ID == l2.ID {
		t.Errorf("lease IDs %q, %q; want distinct and non-empty", l1.ID, l2.ID)
	}
	ack(t, f, l1)
	ack(t, f, l2)
}

func (s *suite) testFIFOPerHost(t *testing.T) {
	f := s.open(t)
	// Two hosts, pushed interleaved across several calls.
	var want = map[string][]string{}
	for i := range 12 {
		a, b := u("fifo-a.test", i), u("fifo-b.test", i)
		want["fifo-a.test"] = append(want["fifo-a.test"], a)
		want["fifo-b.test"] = append(want["fifo-b.test"], b)
		push(t, f, entries(a, b)...)
	}
	got := map[string][]string{}
	for range 24 {
		l := next(t, f)
		got[l.Host] = append(got[l.Host], l.URL)
		ack(t, f, l)
	}
	for h, w := range want {
		if fmt.Sprint(got[h]) != fmt.Sprint(w) {
			t.Errorf("host %s order:\n got %v\nwant %v", h, got[h], w)
		}
	}
}

// testPriority pushes entries of mixed priorities to two hosts, in two
// calls, and drains them one at a time: each host's leases come out by
// priority then push order (or in push order when the frontier ignores
// priorities), and the priority comes back with every lease.
func (s *suite) testPriority(t *testing.T) {
	f := s.open(t)
	prios := []int{0, 5, -3, 5, 2, 0, -3, 9}
	var pushed []frontier.Entry
	for _, h := range []string{"prio-a.test", "prio-b.test"} {
		for i, p := range prios {
			pushed = append(pushed, frontier.Entry{URL: u(h, i), Priority: p})
		}
	}
	push(t, f, pushed[:5]...)
	push(t, f, pushed[5:]...)
	want := map[string][]frontier.Entry{}
	for _, e := range pushed {
		h := frontier.HostKey(e.URL)
		want[h] = append(want[h], e)
	}
	for h := range want {
		if s.o.Priority {
			sortStable(want[h], func(a, b frontier.Entry) bool { return a.Priority > b.Priority })
		}
	}
	got := map[string][]frontier.Entry{}
	for range len(pushed) {
		l := next(t, f)
		got[l.Host] = append(got[l.Host], l.Entry)
		ack(t, f, l)
	}
	for h, w := range want {
		if fmt.Sprint(got[h]) != fmt.Sprint(w) {
			t.Errorf("host %s order (priority %v):\n got %v\nwant %v", h, s.o.Priority, got[h], w)
		}
	}
}

// sortStable sorts es by less, keeping the order of equal elements.
func sortStable(es []frontier.Entry, less func(a, b frontier.Entry) bool) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && less(es[j], es[j-1]); j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

func (s *suite) testMaxInFlight(t *testing.T) {
	f := s.open(t)
	push(t, f, entries(hostURLs("mif.test", 5)...)...)
	l1, l2 := next(t, f), next(t, f)
	// Default MaxInFlight is 2: a third lease of the host must wait.
	mustBlock(t, f)
	ch := asyncNext(ctxT(t), f)
	notYet(t, ch)
	ack(t, f, l1)
	r := receive(t, ch)
	if r.err != nil {
		t.Fatalf("Next after Ack: %v", r.err)
	}
	if r.l.URL != u("mif.test", 2) {
		t.Errorf("third lease %s; want %s", r.l.URL, u("mif.test", 2))
	}
	// Another host is not held up by the full one.
	push(t, f, entries(u("mif-other.test", 0))...)
	if l := next(t, f); l.Host != "mif-other.test" {
		t.Errorf("lease %s; want the other host's URL", l.URL)
	} else {
		ack(t, f, l)
	}
	ack(t, f, l2)
	ack(t, f, r.l)
}

func (s *suite) testMaxInFlightConcurrent(t *testing.T) {
	f := s.open(t)
	hosts := []string{"c1.test", "c2.test", "c3.test"}
	per := 40
	var all []string
	for _, h := range hosts {
		all = append(all, hostURLs(h, per)...)
	}
	push(t, f, entries(all...)...)
	limits := map[string]int64{"c1.test": 2, "c2.test": 1, "c3.test": 3}
	if err := f.SetHostPolicy(ctxT(t), "c2.test", frontier.HostPolicy{MaxInFlight: 1}); err != nil {
		t.Fatal(err)
	}
	if err := f.SetHostPolicy(ctxT(t), "c3.test", frontier.HostPolicy{MaxInFlight: 3}); err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		inflight = map[string]int64{}
		peak     = map[string]int64{}
		total    atomic.Int64
	)
	ctx := ctxT(t)
	Work(ctx, t, f, 16, func(l *frontier.Lease) error {
		mu.Lock()
		inflight[l.Host]++
		if inflight[l.Host] > peak[l.Host] {
			peak[l.Host] = inflight[l.Host]
		}
		mu.Unlock()
		total.Add(1)
		// Hold the lease briefly so that other workers pile up on it.
		time.Sleep(time.Millisecond)
		mu.Lock()
		inflight[l.Host]--
		mu.Unlock()
		return f.Ack(ctx, l)
	})
	if got := total.Load(); got != int64(len(all)) {
		t.Errorf("delivered %d leases; want %d", got, len(all))
	}
	for h, lim := range limits {
		if peak[h] > lim {
			t.Errorf("host %s had %d leases in flight; limit %d", h, peak[h], lim)
		}
		if peak[h] == 0 {
			t.Errorf("host %s never leased", h)
		}
	}
}

// gaps leases n URLs of one host in turn, acknowledging each at once, and
// returns, for each lease after the first, the time from the call of the
// Next that got the lease before it to the return of the Next that got it.
// A lease is granted between its Next's call and return, so that span is
// at least the time between the two grants: a frontier that spaces its
// grants by an interval never shows a span below it, however late a Next
// returns on a loaded machine (measured from return to return, a late
// return made the next gap look short).
func gaps(t *testing.T, f frontier.Frontier, host string, n int) []time.Duration {
	t.Helper()
	var out []time.Duration
	var prevCall time.Time
	for i := range n {
		call := time.Now()
		l := next(t, f)
		ret := time.Now()
		if l.Host != host {
			t.Fatalf("lease %s; want host %s", l.URL, host)
		}
		if i > 0 {
			out = append(out, ret.Sub(prevCall))
		}
		prevCall = call
		ack(t, f, l)
	}
	return out
}

func (s *suite) testInterval(t *testing.T) {
	f := s.open(t)
	const iv = 50 * time.Millisecond
	if err := f.SetHostPolicy(ctxT(t), "iv.test", frontier.HostPolicy{Interval: iv, MaxInFlight: 1}); err != nil {
		t.Fatal(err)
	}
	push(t, f, entries(hostURLs("iv.test", 4)...)...)
	for i, g := range gaps(t, f, "iv.test", 4) {
		if g < iv*9/10 {
			t.Errorf("gap %d = %v; want >= %v", i, g, iv)
		}
	}
}

func (s *suite) testJitter(t *testing.T) {
	f := s.open(t)
	const iv, jit = 10 * time.Millisecond, 100 * time.Millisecond
	if err := f.SetHostPolicy(ctxT(t), "jit.test", frontier.HostPolicy{Interval: iv, Jitter: jit}); err != nil {
		t.Fatal(err)
	}
	const n = 10
	push(t, f, entries(hostURLs("jit.test", n)...)...)
	start := time.Now()
	gs := gaps(t, f, "jit.test", n)
	elapsed := time.Since(start)
	for i, g := range gs {
		if g < iv*9/10 {
			t.Errorf("gap %d = %v; want >= %v", i, g, iv)
		}
	}
	// Jitter is drawn from [0, Jitter): the nine draws sum to at least one
	// Jitter except with probability 1/9! (Irwin-Hall), and the whole run
	// stays under the worst case plus generous slack for a loaded machine
	// (a shared Redis under the race detector, beside other test
	// packages). This bound only catches a jitter far out of range.
	if least := (n-1)*iv + jit; elapsed < least {
		t.Errorf("%d leases took %v; with jitter want >= %v", n, elapsed, least)
	}
	if limit := (n-1)*(iv+jit) + 5*time.Second; elapsed > limit {
		t.Errorf("%d leases took %v; want < %v", n, elapsed, limit)
	}
}

func (s *suite) testSetHostPolicy(t *testing.T) {
	f := s.open(t)
	ctx := ctxT(t)
	push(t, f, entries(hostURLs("pol.test", 6)...)...)
	if err := f.SetHostPolicy(ctx, "pol.test", frontier.HostPolicy{MaxInFlight: 1}); err != nil {
		t.Fatal(err)
	}
	l1 := next(t, f)
	mustBlock(t, f) // limit 1 now, not the default 2
	// Raising the limit lets a blocked Next through without an Ack.
	ch := asyncNext(ctx, f)
	notYet(t, ch)
	if err := f.SetHostPolicy(ctx, "pol.test", frontier.HostPolicy{MaxInFlight: 3}); err != nil {
		t.Fatal(err)
	}
	r := receive(t, ch)
	if r.err != nil {
		t.Fatalf("Next after raising MaxInFlight: %v", r.err)
	}
	l3 := next(t, f)
	mustBlock(t, f) // three out
	for _, l := range []*frontier.Lease{l1, r.l, l3} {
		ack(t, f, l)
	}
	// A policy for a host that has nothing queued is fine and is used
	// when its URLs arrive.
	if err := f.SetHostPolicy(ctx, "later.test", frontier.HostPolicy{MaxInFlight: 1}); err != nil {
		t.Fatal(err)
	}
	push(t, f, entries(hostURLs("later.test", 2)...)...)
	// Three more of pol.test (limit 3) and one of later.test (limit 1),
	// then nothing.
	var held []*frontier.Lease
	for range 4 {
		held = append(held, next(t, f))
	}
	mustBlock(t, f)
	laterOut := 0
	for _, l := range held {
		if l.Host == "later.test" {
			laterOut++
		}
	}
	if laterOut != 1 {
		t.Errorf("later.test had %d leases out at once; its policy allows 1", laterOut)
	}
}

func (s *suite) testSetHostPolicyInterval(t *testing.T) {
	f := s.open(t)
	const iv = 100 * time.Millisecond
	push(t, f, entries(hostURLs("cd.test", 3)...)...)
	// The first lease is made under the default policy (no interval); a
	// Crawl-delay learnt while it is out must space it from the next one.
	l1 := next(t, f)
	t1 := time.Now()
	if err := f.SetHostPolicy(ctxT(t), "cd.test", frontier.HostPolicy{Interval: iv, MaxInFlight: 1}); err != nil {
		t.Fatal(err)
	}
	ack(t, f, l1)
	l2 := next(t, f)
	t2 := time.Now()
	ack(t, f, l2)
	l3 := next(t, f)
	t3 := time.Now()
	ack(t, f, l3)
	if g := t2.Sub(t1); g < iv*9/10 {
		t.Errorf("gap between first and second lease = %v; want >= %v", g, iv)
	}
	if g := t3.Sub(t2); g < iv*9/10 {
		t.Errorf("gap between second and third lease = %v; want >= %v", g, iv)
	}
}

func (s *suite) testSetHostPolicyJitter(t *testing.T) {
	f := s.open(t)
	push(t, f, entries(hostURLs("cj.test", 2)...)...)
	// The first lease is made under the default policy (no jitter); a
	// policy with a jitter learnt while it is out spaces it from the next
	// one by a draw from [0, Jitter) of the new policy. With a Jitter of a
	// day, the gap is shorter than the wait below with probability 1e-6.
	l1 := next(t, f)
	if err := f.SetHostPolicy(ctxT(t), "cj.test", frontier.HostPolicy{Jitter: 24 * time.Hour, MaxInFlight: 1}); err != nil {
		t.Fatal(err)
	}
	ack(t, f, l1)
	mustBlock(t, f)
}

func (s *suite) testSetHostPolicyShorter(t *testing.T) {
	f := s.open(t)
	ctx := ctxT(t)
	if err := f.SetHostPolicy(ctx, "cs.test", frontier.HostPolicy{Interval: 24 * time.Hour, MaxInFlight: 1}); err != nil {
		t.Fatal(err)
	}
	push(t, f, entries(hostURLs("cs.test", 2)...)...)
	ack(t, f, next(t, f))
	ch := asyncNext(ctx, f)
	notYet(t, ch)
	// A shorter interval counts from the same lease: the blocked Next gets
	// the second URL now, not in a day.
	if err := f.SetHostPolicy(ctx, "cs.test", frontier.HostPolicy{Interval: time.Millisecond, MaxInFlight: 1}); err != nil {
		t.Fatal(err)
	}
	r := receive(t, ch)
	if r.err != nil {
		t.Fatalf("Next after shortening the interval: %v", r.err)
	}
	ack(t, f, r.l)
}

// testPauseHost checks frontier.HostPauser, for backends that implement
// it: a paused host waits while another is leased, an earlier pause or a
// new policy does not shorten it, and it resumes once the pause has passed.
func (s *suite) testPauseHost(t *testing.T) {
	f := s.open(t)
	p, ok := f.(frontier.HostPauser)
	if !ok {
		t.Skipf("%T does not implement frontier.HostPauser", f)
	}
	ctx := ctxT(t)
	push(t, f, entries(hostURLs("ph.test", 2)...)...)
	ack(t, f, next(t, f))
	const hold = 300 * time.Millisecond
	start := time.Now()
	if err := p.PauseHost(ctx, "ph.test", start.Add(hold)); err != nil {
		t.Fatal(err)
	}
	if err := p.PauseHost(ctx, "ph.test", start.Add(time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	// Neither an earlier pause nor a new policy shortens it.
	if err := f.SetHostPolicy(ctx, "ph.test", frontier.HostPolicy{MaxInFlight: 2}); err != nil {
		t.Fatal(err)
	}
	push(t, f, entries(hostURLs("other.test", 1)...)...)
	// Two leases: other.test first unless the pause ran out meanwhile (a
	// loaded machine), and ph.test never before the pause's end.
	for range 2 {
		l := next(t, f)
		waited := time.Since(start)
		if l.Host == "ph.test" && waited < hold*9/10 {
			t.Errorf("paused host leased after %v; want >= %v", waited, hold)
		}
		ack(t, f, l)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.PauseHost(ctx, "ph.test", time.Now()); !errors.Is(err, frontier.ErrClosed) {
		t.Errorf("PauseHost after Close = %v; want ErrClosed", err)
	}
}

// pause separates events in time so that backends with coarse clocks
// (milliseconds) order them unambiguously.
func pause() { time.Sleep(5 * time.Millisecond) }

func (s *suite) testFairnessReadyOrder(t *testing.T) {
	f := s.open(t)
	push(t, f, entries(hostURLs("fa.test", 3)...)...)
	pause()
	push(t, f, entries(hostURLs("fb.test", 2)...)...)
	pause()
	push(t, f, entries(hostURLs("fc.test", 2)...)...)
	pause()
	// fa has been ready longest; leasing from it makes it ready again only
	// now, after fb and fc, so hosts take turns.
	want := []string{
		u("fa.test", 0), u("fb.test", 0), u("fc.test", 0),
		u("fa.test", 1), u("fb.test", 1), u("fc.test", 1),
		u("fa.test", 2),
	}
	var got []string
	for range want {
		l := next(t, f)
		got = append(got, l.URL)
		ack(t, f, l)
		pause()
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("lease order:\n got %v\nwant %v", got, want)
	}
}

func (s *suite) testFairnessNoHeadOfLine(t *testing.T) {
	f := s.open(t)
	if err := f.SetHostPolicy(ctxT(t), "slow.test", frontier.HostPolicy{Interval: 400 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	push(t, f, entries(hostURLs("slow.test", 2)...)...)
	pause()
	push(t, f, entries(hostURLs("fast.test", 4)...)...)
	var got []string
	for range 6 {
		l := next(t, f)
		got = append(got, l.Host)
		ack(t, f, l)
	}
	// The slow host's second URL waits for its interval; the fast host's
	// four are served meanwhile.
	want := "[slow.test fast.test fast.test fast.test fast.test slow.test]"
	if fmt.Sprint(got) != want {
		t.Errorf("hosts in lease order = %v; want %s", got, want)
	}
}

// testManyWaitersStaggered has more workers than ready entries while hosts
// become ready at different times: every blocked Next must be woken in
// time for some entry, not only the first.
func (s *suite) testManyWaitersStaggered(t *testing.T) {
	f := s.open(t)
	ctx := ctxT(t)
	ivs := []time.Duration{30 * time.Millisecond, 50 * time.Millisecond, 70 * time.Millisecond}
	var all []string
	for i, iv := range ivs {
		h := fmt.Sprintf("st%d.test", i)
		if err := f.SetHostPolicy(ctx, h, frontier.HostPolicy{Interval: iv, MaxInFlight: 1}); err != nil {
			t.Fatal(err)
		}
		all = append(all, hostURLs(h, 3)...)
	}
	push(t, f, entries(all...)...)
	var got atomic.Int64
	Work(ctx, t, f, 6, func(l *frontier.Lease) error {
		got.Add(1)
		return f.Ack(ctx, l)
	})
	if n := got.Load(); n != int64(len(all)) {
		t.Errorf("delivered %d; want %d", n, len(all))
	}
}

// testBreadthFirst pushes many hosts at once: every host is served once
// before any host is served twice.
func (s *suite) testBreadthFirst(t *testing.T) {
	f := s.open(t)
	const hosts = 300
	var all []string
	for i := range hosts {
		all = append(all, hostURLs(fmt.Sprintf("bf%d.test", i), 2)...)
	}
	push(t, f, entries(all...)...)
	pause()
	seen := map[string]bool{}
	for i := range hosts {
		l := next(t, f)
		if seen[l.Host] {
			t.Fatalf("lease %d: host %s served twice before %d other hosts were served once", i, l.Host, hosts-len(seen))
		}
		seen[l.Host] = true
		ack(t, f, l)
	}
}

func (s *suite) testDoneOnEmpty(t *testing.T) {
	f := s.open(t)
	if _, err := f.Next(ctxT(t)); !errors.Is(err, frontier.ErrDone) {
		t.Fatalf("Next on empty frontier = %v; want ErrDone", err)
	}
	// ErrDone is not final: pushing more makes Next serve again.
	push(t, f, entries(u("again.test", 1))...)
	l := next(t, f)
	ack(t, f, l)
	if _, err := f.Next(ctxT(t)); !errors.Is(err, frontier.ErrDone) {
		t.Fatalf("Next after draining = %v; want ErrDone", err)
	}
}

func (s *suite) testBlocksWhileLeased(t *testing.T) {
	f := s.open(t)
	push(t, f, entries(u("bl.test", 1), u("bl2.test", 1))...)
	l1, l2 := next(t, f), next(t, f)
	ch1 := asyncNext(ctxT(t), f)
	ch2 := asyncNext(ctxT(t), f)
	notYet(t, ch1)
	ack(t, f, l1)
	notYet(t, ch1) // one lease still out
	ack(t, f, l2)
	for _, ch := range []<-chan nextResult{ch1, ch2} {
		if r := receive(t, ch); !errors.Is(r.err, frontier.ErrDone) {
			t.Errorf("blocked Next after the last Ack = %v, %v; want ErrDone", r.l, r.err)
		}
	}
}

func (s *suite) testPushWakesBlockedNext(t *testing.T) {
	f := s.open(t)
	push(t, f, entries(u("pw.test", 1))...)
	l := next(t, f)
	ch := asyncNext(ctxT(t), f)
	notYet(t, ch)
	// The worker holding the lease discovers a link on another host.
	push(t, f, entries(u("pw-new.test", 1))...)
	r := receive(t, ch)
	if r.err != nil || r.l.URL != u("pw-new.test", 1) {
		t.Fatalf("blocked Next after Push = %v, %v; want the pushed URL", r.l, r.err)
	}
	ack(t, f, r.l)
	ack(t, f, l)
}

func (s *suite) testContextCancel(t *testing.T) {
	f := s.open(t)
	// Already-cancelled context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	push(t, f, entries(u("cc.test", 1), u("cc.test", 2))...)
	if _, err := f.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next with cancelled ctx = %v; want context.Canceled", err)
	}
	// Cancelled while blocked.
	l1 := next(t, f)
	l2 := next(t, f)
	ctx, cancel = context.WithCancel(context.Background())
	ch := asyncNext(ctx, f)
	notYet(t, ch)
	cancel()
	if r := receive(t, ch); !errors.Is(r.err, context.Canceled) {
		t.Errorf("Next cancelled while blocked = %v, %v; want context.Canceled", r.l, r.err)
	}
	// The frontier is still usable and lost nothing.
	ack(t, f, l1)
	ack(t, f, l2)
	if _, err := f.Next(ctxT(t)); !errors.Is(err, frontier.ErrDone) {
		t.Errorf("Next = %v; want ErrDone", err)
	}
}

func (s *suite) testUnknownLease(t *testing.T) {
	f := s.open(t)
	ctx := ctxT(t)
	push(t, f, entries(u("ul.test", 1), u("ul.test", 2), u("ul2.test", 1))...)
	la, lb, lc := next(t, f), next(t, f), next(t, f)
	later := time.Now().Add(time.Hour)
	ack(t, f, la)
	if err := f.Ack(ctx, la); !errors.Is(err, frontier.ErrUnknownLease) {
		t.Errorf("second Ack = %v; want ErrUnknownLease", err)
	}
	if err := f.Retry(ctx, la, later); !errors.Is(err, frontier.ErrUnknownLease) {
		t.Errorf("Retry after Ack = %v; want ErrUnknownLease", err)
	}
	if err := f.Retry(ctx, lb, time.Now()); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	if err := f.Ack(ctx, lb); !errors.Is(err, frontier.ErrUnknownLease) {
		t.Errorf("Ack after Retry = %v; want ErrUnknownLease", err)
	}
	if err := f.Retry(ctx, lb, later); !errors.Is(err, frontier.ErrUnknownLease) {
		t.Errorf("second Retry = %v; want ErrUnknownLease", err)
	}
	if err := f.Release(ctx, la); !errors.Is(err, frontier.ErrUnknownLease) {
		t.Errorf("Release after Ack = %v; want ErrUnknownLease", err)
	}
	if err := f.Release(ctx, lb); !errors.Is(err, frontier.ErrUnknownLease) {
		t.Errorf("Release after Retry = %v; want ErrUnknownLease", err)
	}
	bogus := []*frontier.Lease{
		{Entry: frontier.Entry{URL: u("ul.test", 9)}, Host: "ul.test", ID: "no-such-lease"},
		{Entry: lc.Entry, Host: lc.Host, ID: ""},
		{Entry: lc.Entry, Host: lc.Host, ID: lc.ID + "x"},
	}
	for _, l := range bogus {
		if err := f.Ack(ctx, l); !errors.Is(err, frontier.ErrUnknownLease) {
			t.Errorf("Ack(ID %q) = %v; want ErrUnknownLease", l.ID, err)
		}
		if err := f.Retry(ctx, l, later); !errors.Is(err, frontier.ErrUnknownLease) {
			t.Errorf("Retry(ID %q) = %v; want ErrUnknownLease", l.ID, err)
		}
		if err := f.Release(ctx, l); !errors.Is(err, frontier.ErrUnknownLease) {
			t.Errorf("Release(ID %q) = %v; want ErrUnknownLease", l.ID, err)
		}
	}
	// The genuine lease is unaffected by the bogus ones.
	if st := stats(t, f); st.Leased != 1 {
		t.Errorf("Leased = %d; want 1", st.Leased)
	}
	ack(t, f, lc)
}

// ackLeaser returns f as a frontier.AckLeaser, or skips t.
func ackLeaser(t *testing.T, f frontier.Frontier) frontier.AckLeaser {
	t.Helper()
	al, ok := f.(frontier.AckLeaser)
	if !ok {
		t.Skip("the frontier is not a frontier.AckLeaser")
	}
	return al
}

// ackLease calls AckLease and fails t on an error, or unless it leased
// want ("" for nothing).
func ackLease(t *testing.T, al frontier.AckLeaser, l *frontier.Lease, want string) *frontier.Lease {
	t.Helper()
	n, err := al.AckLease(ctxT(t), l)
	switch {
	case err != nil:
		t.Fatalf("AckLease(%s): %v", l.URL, err)
	case want == "" && n != nil:
		t.Fatalf("AckLease(%s) leased %s; want nothing", l.URL, n.URL)
	case want != "" && (n == nil || n.URL != want):
		t.Fatalf("AckLease(%s) = %v; want a lease of %s", l.URL, n, want)
	}
	return n
}

// testAckLease: AckLease acknowledges, then leases what Next would give now
// (FIFO, within the host's MaxInFlight), or nothing without waiting; an
// unknown lease is an error and leases nothing.
func (s *suite) testAckLease(t *testing.T) {
	f := s.open(t)
	al := ackLeaser(t, f)
	ctx := ctxT(t)
	push(t, f, entries(hostURLs("al.test", 4)...)...)
	l0, l1 := next(t, f), next(t, f)
	// Two in flight, the default MaxInFlight: the ack frees the slot the
	// lease takes.
	l2 := ackLease(t, al, l0, u("al.test", 2))
	if n, err := al.AckLease(ctx, l0); !errors.Is(err, frontier.ErrUnknownLease) || n != nil {
		t.Errorf("second AckLease = %v, %v; want nil, ErrUnknownLease", n, err)
	}
	if st := stats(t, f); st.Leased != 2 || st.Queued != 1 {
		t.Errorf("after an unknown lease's AckLease: Leased %d, Queued %d; want 2, 1", st.Leased, st.Queued)
	}
	l3 := ackLease(t, al, l1, u("al.test", 3))
	// Nothing queued: nothing leased, at once.
	start := time.Now()
	ackLease(t, al, l2, "")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("AckLease with nothing ready took %v; it must not wait", d)
	}
	if st := stats(t, f); st.Leased != 1 || st.Queued != 0 {
		t.Errorf("Leased %d, Queued %d; want 1, 0", st.Leased, st.Queued)
	}
	ackLease(t, al, l3, "")
	if _, err := f.Next(ctx); !errors.Is(err, frontier.ErrDone) {
		t.Errorf("Next after the last AckLease = %v; want ErrDone", err)
	}
	f.Close()
	if n, err := al.AckLease(ctx, l3); !errors.Is(err, frontier.ErrClosed) || n != nil {
		t.Errorf("AckLease after Close = %v, %v; want nil, ErrClosed", n, err)
	}
}

// testAckLeaseInterval: AckLease keeps a host's interval; the URL it did
// not lease is Next's once the interval has passed.
func (s *suite) testAckLeaseInterval(t *testing.T) {
	f := s.open(t)
	al := ackLeaser(t, f)
	const iv = 100 * time.Millisecond
	if err := f.SetHostPolicy(ctxT(t), "ali.test", frontier.HostPolicy{Interval: iv, MaxInFlight: 1}); err != nil {
		t.Fatal(err)
	}
	push(t, f, entries(hostURLs("ali.test", 2)...)...)
	l0 := next(t, f)
	t0 := time.Now()
	push(t, f, entries(u("ali-other.test", 0))...)
	// The other host is ready; ali.test is not, for iv.
	lo := ackLease(t, al, l0, u("ali-other.test", 0))
	ackLease(t, al, lo, "")
	l1 := next(t, f)
	if g := time.Since(t0); l1.URL != u("ali.test", 1) || g < iv*9/10 {
		t.Errorf("Next after AckLease = %s after %v; want %s after >= %v", l1.URL, g, u("ali.test", 1), iv)
	}
	ack(t, f, l1)
}

func (s *suite) testRetry(t *testing.T) {
	f := s.open(t)
	ctx := ctxT(t)
	e := frontier.Entry{URL: u("rt.test", 1), Depth: 2, Referrer: "http://ref.test/", Priority: 1}
	push(t, f, e)
	l := next(t, f)
	before := stats(t, f)
	const wait = 150 * time.Millisecond
	notBefore := time.Now().Add(wait)
	if err := f.Retry(ctx, l, notBefore); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	st := stats(t, f)
	if st.Leased != 0 || st.Queued != 1 || st.Delayed != 1 || st.Seen != before.Seen {
		t.Errorf("Stats after Retry = %+v; want Leased 0, Queued 1, Delayed 1, Seen %d", st, before.Seen)
	}
	// A waiting retry is not deduplicated away and does not count as new.
	if n := push(t, f, e); n != 0 {
		t.Errorf("Push of a URL waiting for retry added %d; want 0", n)
	}
	l2 := next(t, f)
	if now := time.Now(); now.Before(notBefore.Add(-wait / 10)) {
		t.Errorf("retry leased %v before its notBefore", notBefore.Sub(now))
	}
	if l2.Entry != e {
		t.Errorf("retried entry = %+v; want %+v", l2.Entry, e)
	}
	if l2.Attempt != 1 {
		t.Errorf("Attempt = %d; want 1", l2.Attempt)
	}
	if l2.ID == "" {
		t.Error("retried lease has an empty ID")
	}
	// A notBefore in the past is due at once.
	if err := f.Retry(ctx, l2, time.Now().Add(-time.Minute)); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	l3 := next(t, f)
	if l3.Attempt != 2 || l3.URL != e.URL {
		t.Errorf("lease %s attempt %d; want %s attempt 2", l3.URL, l3.Attempt, e.URL)
	}
	ack(t, f, l3)
	if st := stats(t, f); st.Seen != before.Seen || st.Queued != 0 || st.Leased != 0 || st.Delayed != 0 {
		t.Errorf("Stats after Ack = %+v; want Seen %d and nothing queued", st, before.Seen)
	}
	if _, err := f.Next(ctx); !errors.Is(err, frontier.ErrDone) {
		t.Errorf("Next = %v; want ErrDone", err)
	}
}

func (s *suite) testRetryHoldsNoSlot(t *testing.T) {
	f := s.open(t)
	ctx := ctxT(t)
	if err := f.SetHostPolicy(ctx, "rs.test", frontier.HostPolicy{MaxInFlight: 1}); err != nil {
		t.Fatal(err)
	}
	push(t, f, entries(hostURLs("rs.test", 2)...)...)
	l1 := next(t, f)
	if err := f.Retry(ctx, l1, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The host's only slot is free again: the second URL is served now.
	l2 := next(t, f)
	if l2.URL != u("rs.test", 1) {
		t.Fatalf("lease %s; want %s", l2.URL, u("rs.test", 1))
	}
	ack(t, f, l2)
}

func (s *suite) testRetryNotDone(t *testing.T) {
	f := s.open(t)
	ctx := ctxT(t)
	push(t, f, entries(u("rnd.test", 1))...)
	l := next(t, f)
	if err := f.Retry(ctx, l, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Nothing leased, nothing ready, but a retry waits: not done.
	mustBlock(t, f)
	if st := stats(t, f); st.Hosts != 1 {
		t.Errorf("Hosts = %d; want 1 (the host with a delayed retry)", st.Hosts)
	}
}

func (s *suite) testRelease(t *testing.T) {
	f := s.open(t)
	ctx := ctxT(t)
	if err := f.SetHostPolicy(ctx, "rel.test", frontier.HostPolicy{MaxInFlight: 1}); err != nil {
		t.Fatal(err)
	}
	e := frontier.Entry{URL: u("rel.test", 0), Depth: 2, Referrer: "http://ref.test/", Priority: 1}
	push(t, f, e, frontier.Entry{URL: u("rel.test", 1)})
	l := next(t, f)
	if l.URL != e.URL {
		t.Fatalf("lease %s; want %s", l.URL, e.URL)
	}
	before := stats(t, f)
	if err := f.Release(ctx, l); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if st := stats(t, f); st.Leased != 0 || st.Queued != 2 || st.Delayed != 0 || st.Seen != before.Seen {
		t.Errorf("Stats after Release = %+v; want Leased 0, Queued 2, Delayed 0, Seen %d", st, before.Seen)
	}
	// A released URL is not new.
	if n := push(t, f, e); n != 0 {
		t.Errorf("Push of a released URL added %d; want 0", n)
	}
	for _, err := range []error{f.Release(ctx, l), f.Ack(ctx, l), f.Retry(ctx, l, time.Now())} {
		if !errors.Is(err, frontier.ErrUnknownLease) {
			t.Errorf("settling a released lease = %v; want ErrUnknownLease", err)
		}
	}
	// The host's only slot is free and the entry is first on its host, at
	// once, with the same attempt.
	l2 := next(t, f)
	if l2.Entry != e || l2.Attempt != 0 {
		t.Errorf("lease after Release = %+v attempt %d; want %+v attempt 0", l2.Entry, l2.Attempt, e)
	}
	if l2.ID == "" {
		t.Error("lease after Release has an empty ID")
	}
	// The old lease does not settle the new one.
	if err := f.Ack(ctx, l); !errors.Is(err, frontier.ErrUnknownLease) {
		t.Errorf("Ack of the released lease after the entry was leased again = %v; want ErrUnknownLease", err)
	}
	if st := stats(t, f); st.Leased != 1 {
		t.Errorf("Leased = %d; want 1", st.Leased)
	}
	// A retried entry released keeps its attempt. (Where a retried entry
	// goes in its host's queue is the backend's choice.)
	if err := f.Retry(ctx, l2, time.Now()); err != nil {
		t.Fatal(err)
	}
	l3 := next(t, f)
	otherDone := false
	if l3.URL != e.URL {
		ack(t, f, l3)
		otherDone = true
		l3 = next(t, f)
	}
	if l3.URL != e.URL || l3.Attempt != 1 {
		t.Fatalf("lease %s attempt %d; want %s attempt 1", l3.URL, l3.Attempt, e.URL)
	}
	if err := f.Release(ctx, l3); err != nil {
		t.Fatal(err)
	}
	l4 := next(t, f)
	if l4.URL != e.URL || l4.Attempt != 1 {
		t.Errorf("lease %s attempt %d; want %s attempt 1", l4.URL, l4.Attempt, e.URL)
	}
	ack(t, f, l4)
	if !otherDone {
		ack(t, f, next(t, f))
	}
	if _, err := f.Next(ctx); !errors.Is(err, frontier.ErrDone) {
		t.Errorf("Next = %v; want ErrDone", err)
	}
}

func (s *suite) testReleaseHead(t *testing.T) {
	f := s.open(t)
	ctx := ctxT(t)
	push(t, f, entries(hostURLs("rh.test", 4)...)...)
	l0, l1 := next(t, f), next(t, f)
	// Released entries go before the ones never leased, in push order
	// when released in reverse.
	for _, l := range []*frontier.Lease{l1, l0} {
		if err := f.Release(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for range 4 {
		l := next(t, f)
		got = append(got, l.URL)
		ack(t, f, l)
	}
	if want := hostURLs("rh.test", 4); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("order after Release:\n got %v\nwant %v", got, want)
	}
}

func (s *suite) testStats(t *testing.T) {
	f := s.open(t)
	if st := stats(t, f); st != (frontier.Stats{}) {
		t.Errorf("Stats of empty frontier = %+v; want zero", st)
	}
	push(t, f, entries(append(hostURLs("s1.test", 3), hostURLs("s2.test", 2)...)...)...)
	push(t, f, entries(hostURLs("s3.test", 1)...)...)
	want := frontier.Stats{Queued: 6, Seen: 6, Hosts: 3}
	if st := stats(t, f); st != want {
		t.Errorf("Stats = %+v; want %+v", st, want)
	}
	var ls []*frontier.Lease
	for range 3 {
		ls = append(ls, next(t, f))
	}
	want = frontier.Stats{Queued: 3, Leased: 3, Seen: 6, Hosts: 3}
	if st := stats(t, f); st != want {
		t.Errorf("Stats with 3 leases = %+v; want %+v", st, want)
	}
	if err := f.Retry(ctxT(t), ls[0], time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	want = frontier.Stats{Queued: 4, Leased: 2, Seen: 6, Hosts: 3, Delayed: 1}
	if st := stats(t, f); st != want {
		t.Errorf("Stats after Retry = %+v; want %+v", st, want)
	}
	for _, l := range ls[1:] {
		ack(t, f, l)
	}
	for range 3 {
		ack(t, f, next(t, f))
	}
	mustBlock(t, f)
	// Only the delayed retry remains, on one host.
	want = frontier.Stats{Queued: 1, Seen: 6, Hosts: 1, Delayed: 1}
	if st := stats(t, f); st != want {
		t.Errorf("Stats with only a delayed retry = %+v; want %+v", st, want)
	}
}

func (s *suite) testClose(t *testing.T) {
	f := s.open(t)
	ctx := ctxT(t)
	push(t, f, entries(u("cl.test", 1), u("cl.test", 2))...)
	l := next(t, f)
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close = %v; want nil", err)
	}
	if _, err := f.Push(ctx, entries(u("cl.test", 3))...); !errors.Is(err, frontier.ErrClosed) {
		t.Errorf("Push after Close = %v; want ErrClosed", err)
	}
	if _, err := f.Next(ctx); !errors.Is(err, frontier.ErrClosed) {
		t.Errorf("Next after Close = %v; want ErrClosed", err)
	}
	if err := f.Ack(ctx, l); !errors.Is(err, frontier.ErrClosed) {
		t.Errorf("Ack after Close = %v; want ErrClosed", err)
	}
	if err := f.Retry(ctx, l, time.Now()); !errors.Is(err, frontier.ErrClosed) {
		t.Errorf("Retry after Close = %v; want ErrClosed", err)
	}
	if err := f.Release(ctx, l); !errors.Is(err, frontier.ErrClosed) {
		t.Errorf("Release after Close = %v; want ErrClosed", err)
	}
	if err := f.SetHostPolicy(ctx, "cl.test", frontier.HostPolicy{}); !errors.Is(err, frontier.ErrClosed) {
		t.Errorf("SetHostPolicy after Close = %v; want ErrClosed", err)
	}
	if _, err := f.Stats(ctx); !errors.Is(err, frontier.ErrClosed) {
		t.Errorf("Stats after Close = %v; want ErrClosed", err)
	}
}

func (s *suite) testCloseWakesNext(t *testing.T) {
	f := s.open(t)
	push(t, f, entries(u("cw.test", 1))...)
	next(t, f)
	var chs []<-chan nextResult
	for range 3 {
		chs = append(chs, asyncNext(ctxT(t), f))
	}
	notYet(t, chs[0])
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, ch := range chs {
		if r := receive(t, ch); !errors.Is(r.err, frontier.ErrClosed) {
			t.Errorf("blocked Next after Close = %v, %v; want ErrClosed", r.l, r.err)
		}
	}
}

// testConcurrent runs workers that lease, discover links (with many
// duplicates), sometimes retry, and acknowledge; every URL must be
// acknowledged exactly once and no host may exceed its limit.
func (s *suite) testConcurrent(t *testing.T) {
	f := s.open(t)
	ctx := ctxT(t)
	const hosts, workers = 25, 8
	m := s.o.URLs
	urlOf := func(i int) string { return u(fmt.Sprintf("h%d.conc.test", i%hosts), i) }
	// Seeds: the first 50 URLs. Leasing URL i discovers 2i+1 and 2i+2 (and,
	// as a duplicate, i/2), so the set grows to exactly m URLs.
	var seeds []string
	for i := range 50 {
		seeds = append(seeds, urlOf(i))
	}
	index := map[string]int{}
	for i := range m {
		index[urlOf(i)] = i
	}
	if n := push(t, f, entries(seeds...)...); n != len(seeds) {
		t.Fatalf("Push added %d; want %d", n, len(seeds))
	}
	acked := make([]atomic.Int32, m)
	var (
		mu       sync.Mutex
		inflight = map[string]int{}
		over     []string
		added    atomic.Int64
	)
	added.Store(int64(len(seeds)))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				l, err := f.Next(ctx)
				if errors.Is(err, frontier.ErrDone) {
					return
				}
				if err != nil {
					t.Errorf("Next: %v", err)
					return
				}
				mu.Lock()
				inflight[l.Host]++
				if inflight[l.Host] > 2 {
					over = append(over, l.Host)
				}
				mu.Unlock()
				i, ok := index[l.URL]
				if !ok {
					t.Errorf("leased unknown URL %s", l.URL)
					return
				}
				var found []frontier.Entry
				for _, j := range []int{2*i + 1, 2*i + 2, i / 2} {
					if j < m {
						found = append(found, frontier.Entry{URL: urlOf(j), Depth: l.Depth + 1, Referrer: l.URL})
					}
				}
				k, err := f.Push(ctx, found...)
				if err != nil {
					t.Errorf("Push: %v", err)
					return
				}
				added.Add(int64(k))
				mu.Lock()
				inflight[l.Host]--
				mu.Unlock()
				if l.Attempt == 0 && (i+w+n)%7 == 0 {
					if err := f.Retry(ctx, l, time.Now()); err != nil {
						t.Errorf("Retry: %v", err)
						return
					}
					continue
				}
				acked[i].Add(1)
				if err := f.Ack(ctx, l); err != nil {
					t.Errorf("Ack: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := added.Load(); got != int64(m) {
		t.Errorf("Push calls added %d URLs in all; want %d", got, m)
	}
	bad := 0
	for i := range acked {
		if n := acked[i].Load(); n != 1 {
			if bad < 5 {
				t.Errorf("URL %s acknowledged %d times; want 1", urlOf(i), n)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%d URLs not acknowledged exactly once", bad)
	}
	if len(over) > 0 {
		t.Errorf("hosts over their limit of 2: %v", over[:min(len(over), 5)])
	}
	if st := stats(t, f); st.Seen != int64(m) || st.Queued != 0 || st.Leased != 0 || st.Hosts != 0 {
		t.Errorf("Stats after the run = %+v; want Seen %d and nothing left", st, m)
	}
}

func (s *suite) testReopen(t *testing.T) {
	if s.o.Reopen == nil {
		t.Skip("backend does not persist (Options.Reopen is nil)")
	}
	f := s.open(t)
	ctx := ctxT(t)
	all := append(hostURLs("ro1.test", 3), hostURLs("ro2.test", 2)...)
	es := entries(all...)
	es[1].Depth, es[1].Referrer, es[1].Priority = 4, "http://ref.test/", 2
	push(t, f, es...)
	// Settle one URL: done, gone for good. Retry another: queued again.
	l := next(t, f)
	done := l.URL
	ack(t, f, l)
	l = next(t, f)
	retried := l.URL
	if err := f.Retry(ctx, l, time.Now()); err != nil {
		t.Fatal(err)
	}
	f = s.o.Reopen(t, f)
	t.Cleanup(func() { f.Close() })
	st := stats(t, f)
	if st.Seen != 5 || st.Queued != 4 || st.Leased != 0 {
		t.Errorf("Stats after reopen = %+v; want Seen 5, Queued 4, Leased 0", st)
	}
	if n := push(t, f, entries(append(all, u("ro3.test", 0))...)...); n != 1 {
		t.Errorf("Push after reopen added %d; want 1 (only the new URL)", n)
	}
	got := map[string]*frontier.Lease{}
	for {
		l, err := f.Next(ctx)
		if errors.Is(err, frontier.ErrDone) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if got[l.URL] != nil {
			t.Errorf("URL %s delivered twice after reopen", l.URL)
		}
		got[l.URL] = l
		ack(t, f, l)
	}
	if got[done] != nil {
		t.Errorf("acknowledged URL %s delivered again after reopen", done)
	}
	for _, e := range append(es, entries(u("ro3.test", 0))...) {
		if e.URL == done {
			continue
		}
		l := got[e.URL]
		if l == nil {
			t.Errorf("URL %s lost across reopen", e.URL)
			continue
		}
		if l.Entry != e {
			t.Errorf("entry after reopen = %+v; want %+v", l.Entry, e)
		}
	}
	if l := got[retried]; l != nil && l.Attempt < 1 {
		t.Errorf("retried URL %s has Attempt %d after reopen; want >= 1", retried, l.Attempt)
	}
}

func (s *suite) testReopenLeases(t *testing.T) {
	if s.o.Reopen == nil {
		t.Skip("backend does not persist (Options.Reopen is nil)")
	}
	f := s.open(t)
	ctx := ctxT(t)
	all := append(hostURLs("rl1.test", 2), hostURLs("rl2.test", 2)...)
	push(t, f, entries(all...)...)
	// Lease everything and settle nothing: the process "dies".
	leased := map[string]bool{}
	for range all {
		leased[next(t, f).URL] = true
	}
	f = s.o.Reopen(t, f)
	t.Cleanup(func() { f.Close() })
	got := map[string]int{}
	for {
		l, err := f.Next(ctx)
		if errors.Is(err, frontier.ErrDone) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		got[l.URL]++
		ack(t, f, l)
	}
	for _, s := range all {
		if got[s] != 1 {
			t.Errorf("URL %s leased at reopen was delivered %d times after; want 1", s, got[s])
		}
	}
	if st := stats(t, f); st.Seen != int64(len(all)) || st.Queued != 0 || st.Leased != 0 {
		t.Errorf("Stats = %+v; want Seen %d and nothing left", st, len(all))
	}
}

func (s *suite) testReopenRelease(t *testing.T) {
	if s.o.Reopen == nil {
		t.Skip("backend does not persist (Options.Reopen is nil)")
	}
	f := s.open(t)
	ctx := ctxT(t)
	push(t, f, entries(hostURLs("rr.test", 2)...)...)
	l0 := next(t, f)
	if err := f.Release(ctx, l0); err != nil {
		t.Fatal(err)
	}
	f = s.o.Reopen(t, f)
	t.Cleanup(func() { f.Close() })
	got := map[string]int{}
	for {
		l, err := f.Next(ctx)
		if errors.Is(err, frontier.ErrDone) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if l.Attempt != 0 {
			t.Errorf("URL %s has Attempt %d after Release and reopen; want 0", l.URL, l.Attempt)
		}
		got[l.URL]++
		ack(t, f, l)
	}
	for _, s := range hostURLs("rr.test", 2) {
		if got[s] != 1 {
			t.Errorf("URL %s delivered %d times after reopen; want 1", s, got[s])
		}
	}
}
