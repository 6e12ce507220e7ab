package disk

import (
	"container/heap"
	"fmt"
	"strconv"
	"time"

	"github.com/trawlhq/trawl/frontier"
)

// host is the in-RAM schedule of one host: a few counters, never its URLs.
type host struct {
	name      string
	queued    int64         // entries on the host's disk queue, not leased
	delayed   int64         // entries in the retry area
	pending   int64         // entries pushed, not yet committed
	leased    int           // outstanding leases
	cursor    uint64        // the next lease reads the first queue key >= (name, cursor)
	lastLease time.Time     // start of the latest lease; zero before the first
	jitter    time.Duration // random extra gap drawn at the latest lease
	readyAt   time.Time     // when it became (or becomes) ready; the heap key
	order     uint64        // tie-break: FIFO among equal readyAt
	policy    *frontier.HostPolicy
	idx       int // index in Disk.sched, -1 when not in it
}

// hostHeap orders schedulable hosts (a queued entry and a free slot) by the
// time they are ready, so the one ready longest is at the top.
type hostHeap []*host

func (h hostHeap) Len() int { return len(h) }
func (h hostHeap) Less(i, j int) bool {
	if !h[i].readyAt.Equal(h[j].readyAt) {
		return h[i].readyAt.Before(h[j].readyAt)
	}
	return h[i].order < h[j].order
}
func (h hostHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx = i
	h[j].idx = j
}
func (h *hostHeap) Push(x any) {
	e := x.(*host)
	e.idx = len(*h)
	*h = append(*h, e)
}
func (h *hostHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.idx = -1
	return e
}

// host returns the record of name, creating it. Called with d.mu held.
func (d *Disk) host(name string) *host {
	h, ok := d.hosts[name]
	if !ok {
		h = &host{name: name, idx: -1}
		d.hosts[name] = h
	}
	return h
}

func (d *Disk) policyOf(h *host) frontier.HostPolicy {
	p := d.policy
	if h.policy != nil {
		p = *h.policy
		if p.MaxInFlight <= 0 {
			p.MaxInFlight = d.policy.MaxInFlight
		}
	}
	return p
}

// nextAllowed is the earliest start of h's next lease under its current
// policy, so that a policy changed while a lease is out (a Crawl-delay
// learnt from robots.txt) spaces the next lease from that one.
func (d *Disk) nextAllowed(h *host, p frontier.HostPolicy) time.Time {
	if h.lastLease.IsZero() || (p.Interval <= 0 && p.Jitter <= 0) {
		return time.Time{}
	}
	return h.lastLease.Add(p.Interval + min(h.jitter, p.Jitter))
}

// reschedule puts h in, or takes it out of, the schedule after its counters
// or policy changed. A host entering the schedule is ready at its
// next-allowed time or now, whichever is later; a host already in it is
// held back to its next-allowed time. Called with d.mu held.
func (d *Disk) reschedule(h *host, now time.Time) {
	p := d.policyOf(h)
	eligible := h.queued > 0 && h.leased < p.MaxInFlight
	switch {
	case eligible && h.idx < 0:
		h.readyAt = now
		if na := d.nextAllowed(h, p); na.After(now) {
			h.readyAt = na
		}
		d.order++
		h.order = d.order
		heap.Push(&d.sched, h)
	case eligible:
		if na := d.nextAllowed(h, p); na.After(h.readyAt) {
			h.readyAt = na
			heap.Fix(&d.sched, h.idx)
		}
	case !eligible && h.idx >= 0:
		heap.Remove(&d.sched, h.idx)
	}
	if !eligible && h.queued == 0 && h.leased == 0 && h.delayed == 0 && h.pending == 0 && h.policy == nil {
		delete(d.hosts, h.name)
	}
}

// leaseLocked leases the head entry of the host at the top of the schedule,
// which is ready. Called with d.mu held.
func (d *Disk) leaseLocked(now time.Time) (*frontier.Lease, error) {
	h := d.sched[0]
	seq, e, attempt, err := d.readHead(h.name, h.cursor)
	if err != nil {
		d.failed = err
		d.broadcast()
		return nil, err
	}
	// The lease starts now, after the read: politeness gaps are measured
	// between the moments leases are handed out.
	now = d.now()
	heap.Remove(&d.sched, h.idx)
	h.cursor = seq + 1
	h.queued--
	d.queued--
	h.leased++
	d.leased++
	h.lastLease = now
	h.jitter = 0
	if p := d.policyOf(h); p.Jitter > 0 {
		h.jitter = time.Duration(d.rng.Int64N(int64(p.Jitter)))
	}
	d.reschedule(h, now)
	d.leases[seq] = &lease{h: h, seq: seq, entry: e, attempt: attempt}
	return &frontier.Lease{
		Entry:   e,
		Host:    h.name,
		ID:      strconv.FormatUint(seq, 36),
		Attempt: attempt,
	}, nil
}

// release frees the slot of a settled lease. Called with d.mu held.
func (d *Disk) release(ls *lease, now time.Time) {
	delete(d.leases, ls.seq)
	ls.h.leased--
	d.leased--
	d.reschedule(ls.h, now)
}

func errInconsistent(host string, cursor uint64) error {
	return fmt.Errorf("%w: queue of host %q has no entry at or after %d although its counter says so", ErrCorrupt, host, cursor)
}
