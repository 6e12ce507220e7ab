package disk

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/internal/schedule"
)

// host is the in-RAM schedule of one host: a few counters, never its URLs.
type host struct {
	name     string
	queued   int64    // entries on the host's disk queue, not leased
	delayed  int64    // entries in the retry area
	pending  int64    // entries pushed, not yet committed
	leased   int      // outstanding leases
	cursor   uint64   // the next lease reads the first queue key >= (name, cursor)...
	released []uint64 // ...unless entries were released: their sequence numbers, ascending, leased first
	policy   *frontier.HostPolicy
	sched    schedule.Host[*host] // its place in Disk.sched; Value is h
}

// host returns the record of name, creating it. Called with d.mu held.
func (d *Disk) host(name string) *host {
	h, ok := d.hosts[name]
	if !ok {
		h = &host{name: name}
		h.sched.Value = h
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

// eligible reports whether h belongs in the schedule: a queued entry and a
// free slot.
func (d *Disk) eligible(h *host, p frontier.HostPolicy) bool {
	return h.queued > 0 && h.leased < p.MaxInFlight
}

// reschedule puts h in, moves it within, or takes it out of the schedule
// after its counters changed at now, and forgets a host that has nothing
// left: no entries, no policy of its own, no spacing still to keep. Called
// with d.mu held.
func (d *Disk) reschedule(h *host, now time.Time) {
	ns := now.UnixNano()
	eligible := d.eligible(h, d.policyOf(h))
	d.sched.Update(&h.sched, eligible, ns)
	if !eligible && h.queued == 0 && h.leased == 0 && h.delayed == 0 && h.pending == 0 &&
		h.policy == nil && h.sched.NextAllowed() <= ns {
		delete(d.hosts, h.name)
	}
}

// leaseLocked leases the head entry of h, the host at the top of the
// schedule, which is ready. Called with d.mu held.
func (d *Disk) leaseLocked(h *host) (*frontier.Lease, error) {
	var (
		seq     uint64
		e       frontier.Entry
		attempt int
		err     error
	)
	if len(h.released) > 0 {
		seq = h.released[0]
		e, attempt, err = d.readEntry(h.name, seq)
	} else {
		seq, e, attempt, err = d.readHead(h.name, h.cursor)
	}
	if err != nil {
		d.failed = err
		d.broadcast()
		return nil, err
	}
	if len(h.released) > 0 {
		h.released = h.released[1:]
		if len(h.released) == 0 {
			h.released = nil
		}
	} else {
		h.cursor = seq + 1
	}
	// The lease starts now, after the read: politeness gaps are measured
	// between the moments leases are handed out.
	now := d.now()
	h.queued--
	d.queued--
	h.leased++
	d.leased++
	p := d.policyOf(h)
	d.sched.Lease(&h.sched, p, now.UnixNano(), d.eligible(h, p))
	d.leaseGen++
	d.leases[seq] = &lease{h: h, seq: seq, gen: d.leaseGen, entry: e, attempt: attempt}
	return &frontier.Lease{
		Entry:   e,
		Host:    h.name,
		ID:      leaseID(seq, d.leaseGen),
		Attempt: attempt,
	}, nil
}

// leaseID names a lease: the entry's sequence number, which a released
// entry keeps, and the lease's generation, which tells its leases apart.
func leaseID(seq, gen uint64) string {
	return strconv.FormatUint(seq, 36) + "." + strconv.FormatUint(gen, 36)
}

// parseLeaseID is the inverse of leaseID.
func parseLeaseID(id string) (seq, gen uint64, ok bool) {
	s, g, found := strings.Cut(id, ".")
	if !found {
		return 0, 0, false
	}
	seq, err1 := strconv.ParseUint(s, 36, 64)
	gen, err2 := strconv.ParseUint(g, 36, 64)
	return seq, gen, err1 == nil && err2 == nil
}

// release frees the slot of a settled lease. Called with d.mu held.
func (d *Disk) release(ls *lease, now time.Time) {
	delete(d.leases, ls.seq)
	ls.h.leased--
	d.leased--
	d.reschedule(ls.h, now)
}

// handBack puts the entry of a settled lease back at the head of its host's
// queue, where it still is on disk. Called with d.mu held.
func (d *Disk) handBack(ls *lease, now time.Time) {
	h := ls.h
	i, _ := slices.BinarySearch(h.released, ls.seq)
	h.released = slices.Insert(h.released, i, ls.seq)
	h.queued++
	d.queued++
	d.release(ls, now)
}

func errInconsistent(host string, cursor uint64) error {
	return fmt.Errorf("%w: queue of host %q has no entry at or after %d although its counter says so", ErrCorrupt, host, cursor)
}
