package schedule

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
)

const sec = int64(time.Second)

// t0 is the fake clock's start: times in these tests are t0 + seconds.
const t0 = 1_000_000 * sec

type rec struct {
	name string
	h    Host[*rec]
}

func newRec(name string) *rec {
	r := &rec{name: name}
	r.h.Value = r
	return r
}

// fixed returns a Rand that always draws f.
func fixed(f float64) func() float64 { return func() float64 { return f } }

// top returns the name of the host at the top and its ready time in
// seconds after t0, or "" when the schedule is empty.
func top(s *Schedule[*rec]) (string, int64) {
	h, at := s.Peek()
	if h == nil {
		return "", 0
	}
	return h.Value.name, (at - t0) / sec
}

// check verifies the heap invariant and every host's position.
func check(t *testing.T, s *Schedule[*rec]) {
	t.Helper()
	for i, h := range s.heap {
		if int(h.pos) != i+1 {
			t.Fatalf("host %s at index %d has pos %d", h.Value.name, i, h.pos)
		}
		if i > 0 && less(h, s.heap[(i-1)/2]) {
			t.Fatalf("heap order broken at %d (%s)", i, h.Value.name)
		}
	}
}

func TestReadyLongestFirst(t *testing.T) {
	var s Schedule[*rec]
	a, b, c := newRec("a"), newRec("b"), newRec("c")
	s.Update(&a.h, true, t0+1*sec)
	s.Update(&b.h, true, t0+1*sec) // same time: after a
	s.Update(&c.h, true, t0)       // earlier: first
	var got []string
	for s.Len() > 0 {
		n, _ := top(&s)
		got = append(got, n)
		h, _ := s.Peek()
		s.Update(h, false, t0+2*sec)
		check(t, &s)
	}
	if fmt.Sprint(got) != "[c a b]" {
		t.Errorf("order %v; want [c a b]", got)
	}
	if a.h.Scheduled() || s.Len() != 0 {
		t.Error("hosts still scheduled after removal")
	}
	if h, at := s.Peek(); h != nil || at != 0 {
		t.Errorf("Peek of empty schedule = %v, %d", h, at)
	}
}

func TestLeaseSpacesAndRequeues(t *testing.T) {
	s := Schedule[*rec]{Rand: fixed(0.5)}
	a, b := newRec("a"), newRec("b")
	p := frontier.HostPolicy{Interval: 10 * time.Second, Jitter: 4 * time.Second}
	s.Update(&a.h, true, t0)
	s.Update(&b.h, true, t0)
	// a leased at t0+1 with more to lease: next allowed at 1 + 10 + 0.5*4.
	s.Lease(&a.h, p, t0+1*sec, true)
	if got := (a.h.NextAllowed() - t0) / sec; got != 13 {
		t.Errorf("next allowed %d; want 13", got)
	}
	if n, at := top(&s); n != "b" || at != 0 {
		t.Errorf("top %s at %d; want b at 0 (a waits for its gap)", n, at)
	}
	// b leased without a gap is ready again at once, and a is not ready
	// before 13: b comes first.
	s.Lease(&b.h, frontier.HostPolicy{}, t0+2*sec, true)
	if n, at := top(&s); n != "b" || at != 2 {
		t.Errorf("top %s at %d; want b at 2", n, at)
	}
	// A lease that leaves the host not eligible takes it out.
	s.Lease(&b.h, frontier.HostPolicy{}, t0+3*sec, false)
	if b.h.Scheduled() {
		t.Error("b scheduled after a lease that left it ineligible")
	}
	if n, at := top(&s); n != "a" || at != 13 {
		t.Errorf("top %s at %d; want a at 13", n, at)
	}
	check(t, &s)
}

func TestRequeueAfterLeaseGoesLast(t *testing.T) {
	var s Schedule[*rec]
	hs := []*rec{newRec("a"), newRec("b"), newRec("c")}
	for _, r := range hs {
		s.Update(&r.h, true, t0)
	}
	// Leasing with no gap puts the host behind the others ready now:
	// hosts take turns.
	var got []string
	for i := range 6 {
		h, _ := s.Peek()
		got = append(got, h.Value.name)
		s.Lease(h, frontier.HostPolicy{}, t0+int64(i+1)*sec, true)
	}
	if fmt.Sprint(got) != "[a b c a b c]" {
		t.Errorf("order %v; want [a b c a b c]", got)
	}
}

func TestUpdateKeepsPlace(t *testing.T) {
	var s Schedule[*rec]
	a, b := newRec("a"), newRec("b")
	s.Update(&a.h, true, t0)
	s.Update(&b.h, true, t0+1*sec)
	// A host already in keeps its place when updated later.
	s.Update(&a.h, true, t0+5*sec)
	if n, at := top(&s); n != "a" || at != 0 {
		t.Errorf("top %s at %d; want a at 0", n, at)
	}
	// Leaving and coming back puts it at the back.
	s.Update(&a.h, false, t0+5*sec)
	s.Update(&a.h, true, t0+5*sec)
	if n, _ := top(&s); n != "b" {
		t.Errorf("top %s; want b", n)
	}
	check(t, &s)
}

// TestSetPolicy is the contract's rule: a new policy counts from the start
// of the host's most recent lease, with jitter of the new policy.
func TestSetPolicy(t *testing.T) {
	tests := []struct {
		name     string
		lease    frontier.HostPolicy // policy of the lease
		set      frontier.HostPolicy // policy set after it
		draw     float64
		wantNext int64 // seconds after t0; the lease started at t0+1
	}{
		{"interval learnt", frontier.HostPolicy{}, frontier.HostPolicy{Interval: 10 * time.Second}, 0.5, 11},
		{"jitter learnt", frontier.HostPolicy{}, frontier.HostPolicy{Jitter: 10 * time.Second}, 0.5, 6},
		{"interval and jitter learnt", frontier.HostPolicy{}, frontier.HostPolicy{Interval: 2 * time.Second, Jitter: 10 * time.Second}, 0.25, 5},
		{"jitter grows", frontier.HostPolicy{Jitter: 2 * time.Second}, frontier.HostPolicy{Jitter: 20 * time.Second}, 0.5, 11},
		{"jitter dropped", frontier.HostPolicy{Jitter: 20 * time.Second}, frontier.HostPolicy{Interval: 3 * time.Second}, 0.5, 4},
		{"interval shortened", frontier.HostPolicy{Interval: time.Hour}, frontier.HostPolicy{Interval: 2 * time.Second}, 0.5, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			draws := 0
			s := Schedule[*rec]{Rand: func() float64 { draws++; return tc.draw }}
			a := newRec("a")
			s.Update(&a.h, true, t0)
			s.Lease(&a.h, tc.lease, t0+1*sec, true)
			s.SetPolicy(&a.h, tc.set, true, t0+2*sec)
			if got := (a.h.NextAllowed() - t0) / sec; got != tc.wantNext {
				t.Errorf("next allowed %d; want %d", got, tc.wantNext)
			}
			if n, at := top(&s); n != "a" || at != tc.wantNext {
				t.Errorf("top %s at %d; want a at %d", n, at, tc.wantNext)
			}
			// Setting the same policy again draws nothing new.
			before := draws
			s.SetPolicy(&a.h, tc.set, true, t0+3*sec)
			if draws != before {
				t.Errorf("second SetPolicy drew again")
			}
			if got := (a.h.NextAllowed() - t0) / sec; got != tc.wantNext {
				t.Errorf("next allowed after setting it again %d; want %d", got, tc.wantNext)
			}
			check(t, &s)
		})
	}
}

func TestSetPolicyBeforeFirstLease(t *testing.T) {
	var s Schedule[*rec]
	a := newRec("a")
	s.SetPolicy(&a.h, frontier.HostPolicy{Interval: time.Hour, Jitter: time.Hour}, false, t0)
	if a.h.NextAllowed() != 0 || a.h.Scheduled() {
		t.Errorf("next allowed %d, scheduled %v; want 0, false: no lease to count from", a.h.NextAllowed(), a.h.Scheduled())
	}
	s.SetPolicy(&a.h, frontier.HostPolicy{Interval: time.Hour}, true, t0)
	if n, at := top(&s); n != "a" || at != 0 {
		t.Errorf("top %s at %d; want a ready at once", n, at)
	}
}

// TestJitterUniform checks that the jitter of a gap is spread over
// [0, Jitter) whichever policy it was drawn under.
func TestJitterUniform(t *testing.T) {
	var s Schedule[*rec]
	const n = 4000
	jit := 100 * time.Second
	var buckets [10]int
	for range n {
		a := newRec("a")
		s.Update(&a.h, true, t0)
		s.Lease(&a.h, frontier.HostPolicy{}, t0, false)
		s.SetPolicy(&a.h, frontier.HostPolicy{Jitter: jit}, false, t0)
		j := a.h.NextAllowed() - t0
		if j < 0 || j >= int64(jit) {
			t.Fatalf("jitter %v outside [0, %v)", time.Duration(j), jit)
		}
		buckets[j/int64(jit/10)]++
	}
	// Each tenth holds 400 on average; 300 is more than 5 sigma below.
	for i, c := range buckets {
		if c < 300 {
			t.Errorf("jitter tenth %d drew %d of %d; want about %d", i, c, n, n/10)
		}
	}
}

func TestJitterBounds(t *testing.T) {
	for _, tc := range []struct {
		draw float64
		j    time.Duration
		want int64
	}{
		{0, time.Second, 0},
		{-1, time.Second, 0},
		{0.5, 0, 0},
		{0.5, 10, 5},
		{0.9999999999999999, 3, 2},
		{0.9999999999999999, 1 << 62, 1<<62 - 1 - 511}, // float64 rounding, still below j
		{0.9, 1, 0},
	} {
		if got := jitter(tc.draw, tc.j); got != tc.want {
			t.Errorf("jitter(%v, %d) = %d; want %d", tc.draw, tc.j, got, tc.want)
		}
	}
}

// TestRandomOps drives a schedule with random operations and checks the
// heap and its membership against a plain model.
func TestRandomOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s Schedule[*rec]
	hs := make([]*rec, 50)
	for i := range hs {
		hs[i] = newRec(fmt.Sprint(i))
	}
	in := map[*rec]bool{}
	now := t0
	for range 20000 {
		now += int64(rng.IntN(3)) * sec
		r := hs[rng.IntN(len(hs))]
		el := rng.IntN(3) > 0
		switch rng.IntN(3) {
		case 0:
			s.Update(&r.h, el, now)
		case 1:
			p := frontier.HostPolicy{Interval: time.Duration(rng.IntN(5)) * time.Second, Jitter: time.Duration(rng.IntN(3)) * time.Second}
			s.Lease(&r.h, p, now, el)
		case 2:
			p := frontier.HostPolicy{Interval: time.Duration(rng.IntN(5)) * time.Second}
			s.SetPolicy(&r.h, p, el, now)
		}
		in[r] = el
		check(t, &s)
		if r.h.Scheduled() != el {
			t.Fatalf("host %s scheduled %v; want %v", r.name, r.h.Scheduled(), el)
		}
	}
	n := 0
	for _, el := range in {
		if el {
			n++
		}
	}
	if s.Len() != n {
		t.Errorf("Len %d; want %d", s.Len(), n)
	}
}

// BenchmarkLease measures one lease of the host at the top of a schedule of
// hosts hosts, each with more to lease: the frontier's hot path.
func BenchmarkLease(b *testing.B) {
	for _, hosts := range []int{100, 10_000, 100_000} {
		b.Run(fmt.Sprintf("hosts=%d", hosts), func(b *testing.B) {
			var s Schedule[*rec]
			for i := range hosts {
				r := newRec(fmt.Sprint(i))
				s.Update(&r.h, true, t0)
			}
			p := frontier.HostPolicy{Interval: time.Millisecond, Jitter: time.Millisecond}
			now := t0
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				now += 1000
				h, _ := s.Peek()
				s.Lease(h, p, now, true)
			}
		})
	}
}

// BenchmarkUpdate measures a host leaving and re-entering the schedule (a
// host whose only slot is taken and freed).
func BenchmarkUpdate(b *testing.B) {
	const hosts = 10_000
	var s Schedule[*rec]
	rs := make([]*rec, hosts)
	for i := range rs {
		rs[i] = newRec(fmt.Sprint(i))
		s.Update(&rs[i].h, true, t0)
	}
	now := t0
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		now += 1000
		r := rs[i%hosts]
		s.Update(&r.h, false, now)
		s.Update(&r.h, true, now)
	}
}

func TestHold(t *testing.T) {
	s := Schedule[*rec]{Rand: fixed(0)}
	a, b := newRec("a"), newRec("b")
	p := frontier.HostPolicy{Interval: 1 * time.Second}
	s.Update(&a.h, true, t0)
	s.Update(&b.h, true, t0)
	s.Lease(&a.h, p, t0, true) // a next at t0+1

	s.Hold(&a.h, t0+5*sec, true, t0)
	if got := a.h.NextAllowed(); got != t0+5*sec {
		t.Fatalf("next allowed after hold = %ds, want 5", (got-t0)/sec)
	}
	if name, at := top(&s); name != "b" || at != 0 {
		t.Fatalf("top = %s at %d, want b at 0", name, at)
	}
	// An earlier hold does not shorten it; a policy change does not undo it.
	s.Hold(&a.h, t0+2*sec, true, t0)
	s.SetPolicy(&a.h, frontier.HostPolicy{}, true, t0)
	if got := a.h.NextAllowed(); got != t0+5*sec {
		t.Fatalf("next allowed after shorter hold and policy = %ds, want 5", (got-t0)/sec)
	}
	s.Update(&b.h, false, t0)
	if name, at := top(&s); name != "a" || at != 5 {
		t.Fatalf("top = %s at %d, want a at 5", name, at)
	}
	// Once past, the hold no longer counts: the next lease spaces as usual.
	s.Lease(&a.h, p, t0+5*sec, true)
	if got := a.h.NextAllowed(); got != t0+6*sec {
		t.Fatalf("next allowed after the hold = %ds, want 6", (got-t0)/sec)
	}
	// A hold on a host never leased counts too.
	c := newRec("c")
	s.Hold(&c.h, t0+9*sec, true, t0)
	check(t, &s)
	for s.Len() > 0 {
		h, at := s.Peek()
		if h.Value.name == "c" && at != t0+9*sec {
			t.Fatalf("c ready at %d, want 9", (at-t0)/sec)
		}
		s.Update(h, false, t0)
	}
}
