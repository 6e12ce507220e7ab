package frontiertest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
)

// The frontier.PassStarter part of the suite: run for backends that
// implement it, skipped for the others.

// passStarter returns f as a frontier.PassStarter, skipping the test when
// the backend does not implement it.
func passStarter(t *testing.T, f frontier.Frontier) frontier.PassStarter {
	t.Helper()
	p, ok := f.(frontier.PassStarter)
	if !ok {
		t.Skipf("%T does not implement frontier.PassStarter", f)
	}
	return p
}

func newPass(t *testing.T, f frontier.Frontier) bool {
	t.Helper()
	started, err := passStarter(t, f).NewPass(ctxT(t))
	if err != nil {
		t.Fatalf("NewPass: %v", err)
	}
	return started
}

// drain leases and acknowledges everything f has, one lease at a time, and
// returns the URLs in lease order.
func drain(t *testing.T, f frontier.Frontier) []string {
	t.Helper()
	var got []string
	for {
		l, err := f.Next(ctxT(t))
		if errors.Is(err, frontier.ErrDone) {
			return got
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		got = append(got, l.URL)
		ack(t, f, l)
	}
}

// sameSet reports whether got and want hold the same URLs, each once.
func sameSet(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	n := map[string]int{}
	for _, u := range want {
		n[u]++
	}
	for _, u := range got {
		n[u]--
		if n[u] < 0 {
			return false
		}
	}
	return true
}

func (s *suite) testNewPassFresh(t *testing.T) {
	f := s.open(t)
	if newPass(t, f) {
		t.Error("NewPass on a fresh frontier = true; want false (nothing pushed this pass)")
	}
	if st := stats(t, f); st != (frontier.Stats{}) {
		t.Errorf("Stats after NewPass on a fresh frontier = %+v; want zero", st)
	}
	// Pushing and crawling work as usual after it.
	urls := hostURLs("npf.test", 3)
	if n := push(t, f, entries(urls...)...); n != 3 {
		t.Errorf("Push added %d; want 3", n)
	}
	if got := drain(t, f); !sameSet(got, urls) {
		t.Errorf("leased %v; want %v", got, urls)
	}
}

// testNewPass finishes a crawl, starts a new pass and crawls the same URLs
// again: the seen set is forgotten, host policies and pauses are kept.
func (s *suite) testNewPass(t *testing.T) {
	f := s.open(t)
	ctx := ctxT(t)
	passStarter(t, f)
	// npp.test has a policy of its own: one lease at a time.
	if err := f.SetHostPolicy(ctx, "npp.test", frontier.HostPolicy{MaxInFlight: 1}); err != nil {
		t.Fatal(err)
	}
	urls := append(hostURLs("npp.test", 3), hostURLs("np2.test", 4)...)
	if n := push(t, f, entries(urls...)...); n != len(urls) {
		t.Fatalf("Push added %d; want %d", n, len(urls))
	}
	if got := drain(t, f); !sameSet(got, urls) {
		t.Fatalf("first pass leased %v; want %v", got, urls)
	}
	if st := stats(t, f); st.Seen != int64(len(urls)) {
		t.Fatalf("Stats.Seen after the first pass = %d; want %d", st.Seen, len(urls))
	}
	if !newPass(t, f) {
		t.Fatal("NewPass after a finished crawl = false; want true")
	}
	if st := stats(t, f); st != (frontier.Stats{}) {
		t.Errorf("Stats after NewPass = %+v; want zero (Seen forgotten, nothing queued)", st)
	}
	if newPass(t, f) {
		t.Error("second NewPass right after one that started a pass = true; want false")
	}
	if _, err := f.Next(ctx); !errors.Is(err, frontier.ErrDone) {
		t.Errorf("Next after NewPass = %v; want ErrDone", err)
	}
	// The same URLs are new again, once.
	if n := push(t, f, entries(urls...)...); n != len(urls) {
		t.Errorf("Push of the first pass's URLs after NewPass added %d; want %d", n, len(urls))
	}
	if n := push(t, f, entries(urls...)...); n != 0 {
		t.Errorf("second Push of the same URLs in the new pass added %d; want 0", n)
	}
	if st := stats(t, f); st.Seen != int64(len(urls)) || st.Queued != int64(len(urls)) {
		t.Errorf("Stats after pushing again = %+v; want Seen %d, Queued %d", st, len(urls), len(urls))
	}
	if newPass(t, f) {
		t.Error("NewPass with URLs queued = true; want false")
	}
	// The host policy survived: npp.test is leased one at a time.
	var held []*frontier.Lease
	for {
		l := next(t, f)
		if l.Host == "npp.test" {
			held = append(held, l)
			break
		}
		ack(t, f, l)
	}
	for {
		ctx2, cancel := context.WithTimeout(context.Background(), blockCheck)
		l, err := f.Next(ctx2)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if l.Host == "npp.test" {
			t.Fatalf("second lease of npp.test (%s) while one is out: its policy (MaxInFlight 1) was lost by NewPass", l.URL)
		}
		ack(t, f, l)
	}
	ack(t, f, held[0])
	rest := drain(t, f)
	if len(rest) != 2 {
		t.Errorf("after the held lease, leased %v; want the 2 other npp.test URLs", rest)
	}
	if st := stats(t, f); st.Seen != int64(len(urls)) || st.Queued != 0 || st.Leased != 0 {
		t.Errorf("Stats after the second pass = %+v; want Seen %d, nothing left", st, len(urls))
	}
	// A third pass, for a frontier that had passes before.
	if !newPass(t, f) {
		t.Error("NewPass after the second pass = false; want true")
	}
	if n := push(t, f, entries(urls[:2]...)...); n != 2 {
		t.Errorf("Push in the third pass added %d; want 2", n)
	}
	if got := drain(t, f); !sameSet(got, urls[:2]) {
		t.Errorf("third pass leased %v; want %v", got, urls[:2])
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := passStarter(t, f).NewPass(ctx); !errors.Is(err, frontier.ErrClosed) {
		t.Errorf("NewPass after Close = %v; want ErrClosed", err)
	}
}

// testNewPassKeepsPause checks that a host paused before NewPass stays
// paused after it (for backends that implement frontier.HostPauser).
func (s *suite) testNewPassKeepsPause(t *testing.T) {
	f := s.open(t)
	passStarter(t, f)
	p, ok := f.(frontier.HostPauser)
	if !ok {
		t.Skipf("%T does not implement frontier.HostPauser", f)
	}
	ctx := ctxT(t)
	push(t, f, entries(u("npph.test", 0))...)
	drain(t, f)
	const hold = 300 * time.Millisecond
	start := time.Now()
	if err := p.PauseHost(ctx, "npph.test", start.Add(hold)); err != nil {
		t.Fatal(err)
	}
	if !newPass(t, f) {
		t.Fatal("NewPass after a finished crawl = false; want true")
	}
	push(t, f, entries(u("npph.test", 0))...)
	l := next(t, f)
	if waited := time.Since(start); waited < hold*9/10 {
		t.Errorf("paused host leased %v after the pause began; want >= %v (the pause was lost by NewPass)", waited, hold)
	}
	ack(t, f, l)
}

// testNewPassBusy calls NewPass while the crawl is not finished: with a URL
// queued, leased, or waiting for a retry. It must report false and change
// nothing.
func (s *suite) testNewPassBusy(t *testing.T) {
	f := s.open(t)
	ctx := ctxT(t)
	passStarter(t, f)
	a, b := u("npb.test", 0), u("npb.test", 1)
	push(t, f, entries(a, b)...)
	unchanged := func(when string, want frontier.Stats) {
		t.Helper()
		if newPass(t, f) {
			t.Errorf("NewPass %s = true; want false", when)
		}
		if st := stats(t, f); st != want {
			t.Errorf("Stats after NewPass %s = %+v; want %+v (unchanged)", when, st, want)
		}
		if n := push(t, f, entries(a, b)...); n != 0 {
			t.Errorf("Push of seen URLs after NewPass %s added %d; want 0 (seen set kept)", when, n)
		}
	}
	unchanged("with URLs queued", frontier.Stats{Queued: 2, Seen: 2, Hosts: 1})
	l1 := next(t, f)
	l2 := next(t, f)
	unchanged("with URLs leased", frontier.Stats{Leased: 2, Seen: 2, Hosts: 1})
	ack(t, f, l1)
	unchanged("with one URL leased", frontier.Stats{Leased: 1, Seen: 2, Hosts: 1})
	if err := f.Retry(ctx, l2, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	unchanged("with a retry waiting", frontier.Stats{Queued: 1, Delayed: 1, Seen: 2, Hosts: 1})
}

// testNewPassConcurrent calls NewPass from many goroutines on a finished
// crawl: exactly one starts the pass.
func (s *suite) testNewPassConcurrent(t *testing.T) {
	f := s.open(t)
	ps := passStarter(t, f)
	ctx := ctxT(t)
	urls := hostURLs("npc.test", 5)
	for round := range 3 {
		if n := push(t, f, entries(urls...)...); n != len(urls) {
			t.Fatalf("round %d: Push added %d; want %d", round, n, len(urls))
		}
		drain(t, f)
		const callers = 8
		var wg sync.WaitGroup
		results := make(chan bool, callers)
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				started, err := ps.NewPass(ctx)
				if err != nil {
					t.Errorf("NewPass: %v", err)
				}
				results <- started
			}()
		}
		wg.Wait()
		close(results)
		n := 0
		for r := range results {
			if r {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("round %d: %d of %d concurrent NewPass calls started a pass; want exactly 1", round, n, callers)
		}
		if st := stats(t, f); st.Seen != 0 {
			t.Fatalf("round %d: Stats.Seen after NewPass = %d; want 0", round, st.Seen)
		}
	}
}

// testNewPassReopen checks that passes persist: a finished crawl is still
// finished after reopening, a new pass survives reopening, and pushes made
// in the new pass persist.
func (s *suite) testNewPassReopen(t *testing.T) {
	if s.o.Reopen == nil {
		t.Skip("backend does not persist (Options.Reopen is nil)")
	}
	f := s.open(t)
	passStarter(t, f)
	urls := append(hostURLs("npr1.test", 3), hostURLs("npr2.test", 3)...)
	push(t, f, entries(urls...)...)
	drain(t, f)
	// The process ends after the crawl; the next one starts a new pass.
	reopen := func() {
		t.Helper()
		f = s.o.Reopen(t, f)
		t.Cleanup(func() { f.Close() })
	}
	reopen()
	if st := stats(t, f); st.Seen != int64(len(urls)) || st.Queued != 0 {
		t.Fatalf("Stats after reopening a finished crawl = %+v; want Seen %d, nothing queued", st, len(urls))
	}
	if !newPass(t, f) {
		t.Fatal("NewPass after reopening a finished crawl = false; want true")
	}
	// Killed right after NewPass: the pass was started for good.
	reopen()
	if st := stats(t, f); st != (frontier.Stats{}) {
		t.Errorf("Stats after NewPass and reopen = %+v; want zero (seen stays forgotten)", st)
	}
	if newPass(t, f) {
		t.Error("NewPass after reopening a pass just started = true; want false (nothing pushed yet)")
	}
	// Push part of the pass, crawl some of it, and reopen.
	if n := push(t, f, entries(urls[:4]...)...); n != 4 {
		t.Errorf("Push in the new pass after reopen added %d; want 4", n)
	}
	first := next(t, f)
	ack(t, f, first)
	reopen()
	if st := stats(t, f); st.Seen != 4 || st.Queued != 3 {
		t.Errorf("Stats after pushing 4 URLs, crawling 1 and reopening = %+v; want Seen 4, Queued 3", st)
	}
	if newPass(t, f) {
		t.Error("NewPass with the pass in progress after reopen = true; want false")
	}
	if n := push(t, f, entries(urls...)...); n != len(urls)-4 {
		t.Errorf("Push of all URLs after reopen added %d; want %d (the pass's seen set persisted)", n, len(urls)-4)
	}
	got := drain(t, f)
	want := []string{}
	for _, x := range urls {
		if x != first.URL {
			want = append(want, x)
		}
	}
	if !sameSet(got, want) {
		t.Errorf("rest of the pass leased %v; want %v", got, want)
	}
	if !newPass(t, f) {
		t.Error("NewPass after the resumed pass finished = false; want true")
	}
}
