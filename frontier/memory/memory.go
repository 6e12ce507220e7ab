// Package memory is the in-process frontier.Frontier: per-host queues, a
// ready-host schedule ordered by next-allowed time, a heap of delayed
// retries and an exact seen set of 64-bit fingerprints, all behind one
// mutex. Nothing survives the process; use frontier/disk for that.
//
// Costs: Push and Next are O(log hosts) (no operation scans the hosts); the
// seen set costs 11 to 22 bytes per URL; a queued URL costs its URL string
// plus 56 bytes. Hosts with nothing queued or leased and no policy of their
// own are dropped from the host table once they are the majority of it.
//
// A retried entry, once its notBefore has passed, goes to the front of its
// host's queue (in priority mode, to its place by priority and push order).
//
// Files: memory.go holds the Frontier methods and the waiting; heap.go the
// delayed-retry heap; queue.go the per-host queue (FIFO ring or priority
// heap); seen.go the fingerprint set. The ready-host schedule (next-allowed
// times, jitter) is internal/schedule's, shared with frontier/disk.
package memory

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/internal/schedule"
)

// Config configures a Memory frontier. The zero value is usable.
type Config struct {
	// Policy is the default per-host policy, for hosts without one set by
	// SetHostPolicy. Zero MaxInFlight means frontier.DefaultMaxInFlight;
	// zero Interval and Jitter mean no spacing.
	Policy frontier.HostPolicy
	// Priority orders each host's queue by Entry.Priority, higher first,
	// then by push order. False means FIFO (breadth-first).
	Priority bool
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

// Memory is an in-memory frontier. It is safe for concurrent use.
type Memory struct {
	priority bool
	now      func() time.Time
	def      frontier.HostPolicy // MaxInFlight resolved

	mu      sync.Mutex
	closed  bool
	seen    seenSet
	hosts   map[string]*host
	ready   schedule.Schedule[*host] // hosts with a queued entry and a free slot
	delayed delayedHeap              // retries waiting for their notBefore
	leases  []leaseSlot              // outstanding leases; a lease ID names a slot and its generation
	free    []uint32                 // indexes of unused slots in leases
	nLeased int
	waiters []*waiter // blocked Next calls, oldest first

	seq     uint64 // push order
	queued  int64  // including delayed
	nDelay  int64
	active  int64    // hosts with queued, delayed or leased entries
	idle    int64    // hosts in the table that are not active
	sweepAt int64    // idle count that triggers the next sweep
	keys    []string // Push's scratch space for host keys
}

var (
	_ frontier.Frontier    = (*Memory)(nil)
	_ frontier.HostPauser  = (*Memory)(nil)
	_ frontier.PassStarter = (*Memory)(nil)
)

// host is one host's queue and schedule.
type host struct {
	name     string
	q        hostQueue
	policy   frontier.HostPolicy // MaxInFlight resolved
	custom   bool                // policy set by SetHostPolicy: keep the host when idle
	inflight int
	delayed  int
	sched    schedule.Host[*host] // its place in Memory.ready; Value is h
}

func (h *host) isActive() bool { return h.q.len()+h.delayed+h.inflight > 0 }

// eligible reports whether h belongs in the ready schedule.
func (h *host) eligible() bool { return h.q.len() > 0 && h.inflight < h.policy.MaxInFlight }

// leaseSlot holds an outstanding lease. Slots are reused; gen tells a
// stale lease ID from the current one.
type leaseSlot struct {
	h   *host // nil when the slot is free
	e   entry
	gen uint32
}

type leaseRec struct {
	h *host
	e entry
}

type waiter struct {
	ch       chan struct{} // buffered: one wake-up
	signaled bool          // set under Memory.mu when removed from waiters to wake
}

// New returns an empty Memory frontier.
func New(cfg Config) *Memory {
	m := &Memory{
		priority: cfg.Priority,
		now:      cfg.Now,
		def:      cfg.Policy,
		hosts:    make(map[string]*host),
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.def.MaxInFlight <= 0 {
		m.def.MaxInFlight = frontier.DefaultMaxInFlight
	}
	return m
}

func (m *Memory) nowNS() int64 { return m.now().UnixNano() }

// Push adds the entries not seen before. An entry whose URL has no host is
// an error naming the URL, and then nothing of the call is added.
func (m *Memory) Push(ctx context.Context, entries ...frontier.Entry) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, frontier.ErrClosed
	}
	if len(entries) == 0 {
		return 0, nil
	}
	keys := m.keys[:0]
	for i := range entries {
		hk := frontier.HostKey(entries[i].URL)
		if hk == "" {
			return 0, fmt.Errorf("frontier: push %q: URL has no host", entries[i].URL)
		}
		keys = append(keys, hk)
	}
	defer func() { clear(keys); m.keys = keys[:0] }()
	now := m.nowNS()
	added := 0
	var last *host
	for i := range entries {
		e := &entries[i]
		if !m.seen.add(frontier.Fingerprint(e.URL)) {
			continue
		}
		hk := keys[i]
		h := last
		if h == nil || h.name != hk {
			h = m.host(hk)
			last = h
		}
		if !h.isActive() {
			m.active++
			m.idle--
		}
		m.seq++
		qe := entry{url: e.URL, ref: e.Referrer, prio: e.Priority, seq: m.seq, depth: int32(e.Depth)}
		if m.priority {
			h.q.heapPush(qe)
		} else {
			h.q.pushBack(qe)
		}
		m.queued++
		added++
		m.schedule(h, now)
	}
	if added > 0 {
		m.wake(added)
	}
	return added, nil
}

// host returns the host named hk, creating it.
func (m *Memory) host(hk string) *host {
	h := m.hosts[hk]
	if h == nil {
		h = &host{name: strings.Clone(hk), policy: m.def}
		h.sched.Value = h
		m.hosts[h.name] = h
		m.idle++
	}
	return h
}

// sweepMin is the least number of idle hosts that triggers a sweep.
const sweepMin = 4096

// sweep drops idle hosts that carry nothing worth keeping (no policy of
// their own, no pending spacing) once they are the majority of a large host
// table. It bounds memory on crawls of many hosts; keeping a few idle hosts
// saves recreating them when their next URL arrives. Its scan is paid for by
// the hosts that went idle since the last one.
func (m *Memory) sweep() {
	if m.idle < max(m.sweepAt, sweepMin) || m.idle*2 < int64(len(m.hosts)) {
		return
	}
	now := m.nowNS()
	for k, h := range m.hosts {
		if !h.isActive() && !h.custom && h.sched.NextAllowed() <= now {
			delete(m.hosts, k)
			m.idle--
		}
	}
	// Hosts kept (with policies, or still spacing) do not trigger another
	// scan until the idle hosts have doubled.
	m.sweepAt = 2 * m.idle
}

// schedule puts h into, moves it within, or takes it out of the ready
// schedule according to its state.
func (m *Memory) schedule(h *host, now int64) {
	m.ready.Update(&h.sched, h.eligible(), now)
}

// Next returns a lease on the entry that has been ready longest, waiting
// for one as the contract says.
func (m *Memory) Next(ctx context.Context) (*frontier.Lease, error) {
	var w *waiter
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return nil, frontier.ErrClosed
		}
		now := m.nowNS()
		m.promote(now)
		top, readyAt := m.ready.Peek()
		if top != nil && readyAt <= now {
			l := m.lease(top.Value, now)
			if m.ready.Len() > 0 || len(m.delayed) > 0 {
				// More is ready, or will be: pass the baton to a waiter,
				// which takes it or sets its timer for it.
				m.wake(1)
			}
			m.mu.Unlock()
			return l, nil
		}
		if m.queued == 0 && m.nLeased == 0 {
			m.mu.Unlock()
			return nil, frontier.ErrDone
		}
		var wakeAt int64
		if top != nil {
			wakeAt = readyAt
		}
		if len(m.delayed) > 0 && (wakeAt == 0 || m.delayed[0].notBefore < wakeAt) {
			wakeAt = m.delayed[0].notBefore
		}
		if w == nil {
			w = &waiter{ch: make(chan struct{}, 1)}
		}
		w.signaled = false
		m.waiters = append(m.waiters, w)
		m.mu.Unlock()

		var tc <-chan time.Time
		if wakeAt != 0 {
			d := time.Duration(wakeAt - now)
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			tc = timer.C
		}
		select {
		case <-w.ch:
			continue
		case <-tc:
		case <-ctx.Done():
		}
		// Woken by the timer or ctx: leave the queue of waiters, passing
		// on a wake-up that raced in.
		m.mu.Lock()
		if w.signaled {
			<-w.ch
		} else {
			m.removeWaiter(w)
		}
		if ctx.Err() != nil {
			// This waiter may have been the one timing the next ready
			// entry: hand that job on.
			m.wake(1)
		}
		m.mu.Unlock()
	}
}

// lease takes the first entry of h, the host at the top of the ready
// schedule.
func (m *Memory) lease(h *host, now int64) *frontier.Lease {
	var e entry
	if m.priority {
		e = h.q.heapPop()
	} else {
		e = h.q.popFront()
	}
	m.queued--
	h.inflight++
	m.ready.Lease(&h.sched, h.policy, now, h.eligible())
	var idx uint32
	if n := len(m.free); n > 0 {
		idx = m.free[n-1]
		m.free = m.free[:n-1]
	} else {
		idx = uint32(len(m.leases))
		m.leases = append(m.leases, leaseSlot{})
	}
	slot := &m.leases[idx]
	slot.h, slot.e = h, e
	slot.gen++
	m.nLeased++
	return &frontier.Lease{
		Entry:   frontier.Entry{URL: e.url, Depth: int(e.depth), Referrer: e.ref, Priority: e.prio},
		Host:    h.name,
		ID:      strconv.FormatUint(uint64(slot.gen)<<32|uint64(idx), 36),
		Attempt: int(e.attempt),
	}
}

// promote moves the retries that are due onto their hosts' queues.
func (m *Memory) promote(now int64) {
	for len(m.delayed) > 0 && m.delayed[0].notBefore <= now {
		d := m.delayed.pop()
		d.h.delayed--
		m.nDelay--
		m.requeue(d.h, d.e, now)
	}
}

// requeue puts a retried entry back on its host's queue.
func (m *Memory) requeue(h *host, e entry, now int64) {
	if m.priority {
		h.q.heapPush(e)
	} else {
		h.q.pushFront(e)
	}
	m.schedule(h, now)
}

// settle removes the lease l and frees its host slot.
func (m *Memory) settle(l *frontier.Lease) (leaseRec, error) {
	if m.closed {
		return leaseRec{}, frontier.ErrClosed
	}
	if l == nil {
		return leaseRec{}, frontier.ErrUnknownLease
	}
	id, err := strconv.ParseUint(l.ID, 36, 64)
	if err != nil {
		return leaseRec{}, frontier.ErrUnknownLease
	}
	idx, gen := id&(1<<32-1), uint32(id>>32)
	if idx >= uint64(len(m.leases)) || m.leases[idx].h == nil || m.leases[idx].gen != gen {
		return leaseRec{}, frontier.ErrUnknownLease
	}
	slot := &m.leases[idx]
	rec := leaseRec{h: slot.h, e: slot.e}
	slot.h, slot.e = nil, entry{}
	m.free = append(m.free, uint32(idx))
	m.nLeased--
	rec.h.inflight--
	return rec, nil
}

// Ack settles l: its URL is done and its host slot free.
func (m *Memory) Ack(ctx context.Context, l *frontier.Lease) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, err := m.settle(l)
	if err != nil {
		return err
	}
	h := rec.h
	if h.eligible() {
		m.schedule(h, m.nowNS()) // the freed slot makes it ready
	}
	if !h.isActive() {
		m.active--
		m.idle++
		m.sweep()
	}
	if m.queued == 0 && m.nLeased == 0 {
		m.wake(len(m.waiters)) // all of them return ErrDone
	} else {
		m.wake(1)
	}
	return nil
}

// Retry settles l by queueing its entry again, not before notBefore.
func (m *Memory) Retry(ctx context.Context, l *frontier.Lease, notBefore time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, err := m.settle(l)
	if err != nil {
		return err
	}
	h, e := rec.h, rec.e
	e.attempt++
	m.queued++
	now := m.nowNS()
	if nb := notBefore.UnixNano(); nb > now {
		h.delayed++
		m.nDelay++
		m.delayed.push(delayedEntry{notBefore: nb, h: h, e: e})
		m.schedule(h, now) // the freed slot may make the host ready
	} else {
		m.requeue(h, e, now)
	}
	m.wake(2) // the retried entry and the freed slot
	return nil
}

// Release settles l by putting its entry back at the head of its host's
// queue (in priority mode, at its place by priority and push order) with
// its Attempt unchanged.
func (m *Memory) Release(ctx context.Context, l *frontier.Lease) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, err := m.settle(l)
	if err != nil {
		return err
	}
	m.queued++
	m.requeue(rec.h, rec.e, m.nowNS())
	m.wake(1)
	return nil
}

// SetHostPolicy replaces the policy of host. A new Interval counts from the
// start of the host's most recent lease.
func (m *Memory) SetHostPolicy(ctx context.Context, hostKey string, p frontier.HostPolicy) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return frontier.ErrClosed
	}
	if p.MaxInFlight <= 0 {
		p.MaxInFlight = m.def.MaxInFlight
	}
	h := m.host(hostKey)
	h.policy, h.custom = p, true
	m.ready.SetPolicy(&h.sched, p, h.eligible(), m.nowNS())
	m.wake(len(m.waiters))
	return nil
}

// PauseHost implements frontier.HostPauser: no entry of host is leased
// before until.
func (m *Memory) PauseHost(ctx context.Context, hostKey string, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return frontier.ErrClosed
	}
	h := m.host(hostKey)
	m.ready.Hold(&h.sched, until.UnixNano(), h.eligible(), m.nowNS())
	m.wake(len(m.waiters))
	return nil
}

// NewPass implements frontier.PassStarter: when nothing is queued, leased
// or delayed and something was pushed since the current pass began, it
// forgets the seen set and reports true. Host policies and pauses stay.
func (m *Memory) NewPass(ctx context.Context) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false, frontier.ErrClosed
	}
	// The seen set is empty exactly when nothing was pushed since the pass
	// began: it is emptied only here.
	if m.queued != 0 || m.nLeased != 0 || m.seen.len() == 0 {
		return false, nil
	}
	m.seen = seenSet{}
	return true, nil
}

// Stats returns the frontier's current size.
func (m *Memory) Stats(ctx context.Context) (frontier.Stats, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return frontier.Stats{}, frontier.ErrClosed
	}
	return frontier.Stats{
		Queued:  m.queued,
		Leased:  int64(m.nLeased),
		Seen:    int64(m.seen.len()),
		Hosts:   m.active,
		Delayed: m.nDelay,
	}, nil
}

// Close releases the frontier's memory and wakes blocked calls to Next,
// which return frontier.ErrClosed, as does every later call. It is
// idempotent.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	m.wake(len(m.waiters))
	m.seen = seenSet{}
	m.hosts, m.leases, m.free = nil, nil, nil
	m.ready, m.delayed = schedule.Schedule[*host]{}, nil
	return nil
}

// wake wakes up to n blocked calls to Next, oldest first.
func (m *Memory) wake(n int) {
	for ; n > 0 && len(m.waiters) > 0; n-- {
		w := m.waiters[0]
		m.waiters[0] = nil
		m.waiters = m.waiters[1:]
		w.signaled = true
		w.ch <- struct{}{}
	}
	if len(m.waiters) == 0 {
		m.waiters = nil // let the backing array go
	}
}

func (m *Memory) removeWaiter(w *waiter) {
	for i, x := range m.waiters {
		if x == w {
			copy(m.waiters[i:], m.waiters[i+1:])
			m.waiters[len(m.waiters)-1] = nil
			m.waiters = m.waiters[:len(m.waiters)-1]
			return
		}
	}
}
