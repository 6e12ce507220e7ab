// Package schedule is the per-host politeness schedule of the in-process
// frontier backends, frontier/memory and frontier/disk: when each host may
// next be leased from, and which ready host goes first. Keeping it in one
// place keeps the two backends' schedules the same.
//
// A Schedule is a binary min-heap of the hosts that are eligible (the
// backend decides: a queued entry and a free slot), keyed by the time each
// is ready: the later of its next-allowed time and the time it became
// eligible, ties broken by the order in which hosts became eligible. The
// host that has been ready longest is at the top; peeking at it is O(1),
// and adding, moving or removing a host is O(log hosts).
//
// A host's next-allowed time is the start of its most recent lease plus the
// policy's Interval plus a jitter: the policy's Jitter times a fraction
// drawn uniformly from [0, 1) for that lease. When the host's policy changes
// (frontier.Frontier.SetHostPolicy), the next-allowed time is recomputed
// from the same lease start with the new Interval and Jitter and the same
// fraction (drawn then if the lease had no Jitter): the gap is uniform in
// [Interval, Interval+Jitter) of the policy in force, as frontier.HostPolicy
// says, and setting a policy twice changes nothing.
//
// A host may also be held back (Hold, for frontier.HostPauser): its
// next-allowed time is then never earlier than the hold, whatever its
// leases and policy say, until the hold has passed.
//
// Times are Unix nanoseconds given by the caller, which owns the clock, so
// tests need not sleep. A Schedule is not safe for concurrent use: the
// backends call it under their own lock.
package schedule

import (
	"math/rand/v2"
	"time"

	"github.com/trawlhq/trawl/frontier"
)

// Host is one host's place in a Schedule. The zero value is a host never
// leased and not scheduled. A Host belongs to at most one Schedule.
type Host[T any] struct {
	// Value is the backend's record of the host, returned by Peek.
	Value T

	last    int64   // start of the most recent lease
	draw    float64 // the jitter fraction of that lease, in [0, 1); < 0 until drawn
	next    int64   // next-allowed time: max(last + Interval + draw*Jitter, hold); 0 before the first lease and hold
	hold    int64   // no lease before this time (Hold); 0 for none
	entered int64   // when it last became eligible
	ready   int64   // heap key: max(next, entered)
	order   uint64  // heap tie-break: the Schedule's count when it became eligible
	pos     int32   // 1 + index in the heap; 0 when not in it
	leased  bool    // a lease started: last and draw are set
}

// Scheduled reports whether h is in its Schedule (eligible).
func (h *Host[T]) Scheduled() bool { return h.pos > 0 }

// NextAllowed returns the earliest start of h's next lease, in Unix
// nanoseconds; 0 before its first lease.
func (h *Host[T]) NextAllowed() int64 { return h.next }

// Schedule is the ready-host heap. The zero value is an empty schedule
// drawing jitter from math/rand/v2.
type Schedule[T any] struct {
	// Rand returns a uniformly random number in [0, 1). Nil means
	// math/rand/v2's Float64.
	Rand func() float64

	heap  []*Host[T]
	order uint64
}

// Len returns the number of hosts in the schedule.
func (s *Schedule[T]) Len() int { return len(s.heap) }

// Peek returns the host that is ready first (the one ready longest, when
// several are) and the time it is ready at; nil and 0 when the schedule is
// empty.
func (s *Schedule[T]) Peek() (*Host[T], int64) {
	if len(s.heap) == 0 {
		return nil, 0
	}
	h := s.heap[0]
	return h, h.ready
}

// Update puts h in the schedule, keeps it there or takes it out, as
// eligible says, after its state changed at now. A host entering is ready
// at its next-allowed time or now, whichever is later, and goes after the
// hosts ready at the same time; a host already in keeps its place among
// them, moving only if its next-allowed time changed.
func (s *Schedule[T]) Update(h *Host[T], eligible bool, now int64) {
	switch {
	case eligible && h.pos == 0:
		s.enter(h, now)
		s.heap = append(s.heap, h)
		h.pos = int32(len(s.heap))
		s.up(len(s.heap) - 1)
	case !eligible && h.pos > 0:
		s.remove(int(h.pos) - 1)
	case eligible:
		if r := max(h.next, h.entered); r != h.ready {
			h.ready = r
			s.fix(int(h.pos) - 1)
		}
	}
}

// Lease records that a lease of h starts at now under policy p: h's
// next-allowed time becomes now + p.Interval + jitter. h, if still
// eligible, is ready again from now on, so hosts that were ready before it
// go first.
func (s *Schedule[T]) Lease(h *Host[T], p frontier.HostPolicy, now int64, eligible bool) {
	h.leased, h.last, h.draw = true, now, -1
	if p.Jitter > 0 {
		h.draw = s.rand()
	}
	h.next = max(now+int64(p.Interval)+jitter(h.draw, p.Jitter), h.hold)
	switch {
	case eligible && h.pos > 0:
		s.enter(h, now)
		s.fix(int(h.pos) - 1)
	default:
		s.Update(h, eligible, now)
	}
}

// SetPolicy applies a new policy p to h at now: its next-allowed time is
// recomputed from the start of its most recent lease, so a Crawl-delay
// learnt while that lease is out spaces it from the next one (and a shorter
// one lets the next come sooner). Then it is updated as by Update.
func (s *Schedule[T]) SetPolicy(h *Host[T], p frontier.HostPolicy, eligible bool, now int64) {
	if h.leased {
		if h.draw < 0 && p.Jitter > 0 {
			h.draw = s.rand()
		}
		h.next = max(h.last+int64(p.Interval)+jitter(h.draw, p.Jitter), h.hold)
	}
	s.Update(h, eligible, now)
}

// Hold keeps h from being leased before until (Unix nanoseconds), then
// updates it as by Update. A hold never shortens an earlier, later one:
// the host waits for whichever ends last.
func (s *Schedule[T]) Hold(h *Host[T], until int64, eligible bool, now int64) {
	if until > h.hold {
		h.hold = until
	}
	h.next = max(h.next, h.hold)
	s.Update(h, eligible, now)
}

// jitter returns the share draw of j, in [0, j).
func jitter(draw float64, j time.Duration) int64 {
	if j <= 0 || draw <= 0 {
		return 0
	}
	return min(int64(draw*float64(j)), int64(j)-1)
}

func (s *Schedule[T]) rand() float64 {
	if s.Rand != nil {
		return s.Rand()
	}
	return rand.Float64()
}

// enter makes h eligible from now, after every host that already is.
func (s *Schedule[T]) enter(h *Host[T], now int64) {
	h.entered = now
	h.ready = max(h.next, now)
	s.order++
	h.order = s.order
}

func less[T any](a, b *Host[T]) bool {
	if a.ready != b.ready {
		return a.ready < b.ready
	}
	return a.order < b.order
}

// remove takes the host at index i out of the heap.
func (s *Schedule[T]) remove(i int) {
	hh := s.heap
	n := len(hh) - 1
	gone := hh[i]
	if i != n {
		hh[i] = hh[n]
		hh[i].pos = int32(i + 1)
	}
	hh[n] = nil
	s.heap = hh[:n]
	if i != n {
		s.fix(i)
	}
	gone.pos = 0
}

// fix restores the heap after the key of the host at index i changed.
func (s *Schedule[T]) fix(i int) {
	if !s.down(i) {
		s.up(i)
	}
}

func (s *Schedule[T]) up(i int) {
	hh := s.heap
	for i > 0 {
		p := (i - 1) / 2
		if !less(hh[i], hh[p]) {
			break
		}
		hh[i], hh[p] = hh[p], hh[i]
		hh[i].pos, hh[p].pos = int32(i+1), int32(p+1)
		i = p
	}
}

func (s *Schedule[T]) down(i0 int) bool {
	hh := s.heap
	i, n := i0, len(hh)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && less(hh[r], hh[l]) {
			c = r
		}
		if !less(hh[c], hh[i]) {
			break
		}
		hh[i], hh[c] = hh[c], hh[i]
		hh[i].pos, hh[c].pos = int32(i+1), int32(c+1)
		i = c
	}
	return i > i0
}
