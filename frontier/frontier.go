// Package frontier defines the URL frontier: the queue of URLs a crawl has
// still to fetch, the set of URLs it has already seen, and the per-host
// schedule that keeps the crawl polite.
//
// The Frontier interface is implemented by three backends, each in a
// subpackage named for it: frontier/memory (in-process), frontier/disk (an
// embedded persistent store that survives kill -9) and frontier/redis (one
// crawl shared by many processes). All of them pass the one contract test
// suite in frontier/frontiertest.
//
// The frontier never fetches anything: it hands out leases on URLs and is
// told, through Ack, Retry and Release, what became of them.
//
// Files: frontier.go holds the interface and its contract; normalize.go the
// URL normalizer shared by the crawler and the pipeline; fingerprint.go the
// fingerprint used for deduplication.
package frontier

import (
	"context"
	"errors"
	"time"
)

// Errors returned by every backend. Callers branch on them with errors.Is.
var (
	// ErrDone is returned by Next when the frontier is exhausted: nothing is
	// queued, nothing is leased and nothing waits for a retry. It is final
	// until more URLs are pushed.
	ErrDone = errors.New("frontier: done")
	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("frontier: closed")
	// ErrUnknownLease is returned by Ack, Retry and Release for a lease the
	// frontier does not hold: already settled (acknowledged, retried or
	// released), or expired and re-queued.
	ErrUnknownLease = errors.New("frontier: unknown lease")
)

// Entry is one URL to crawl.
type Entry struct {
	// URL is the absolute, normalized URL (see Normalizer). The frontier
	// deduplicates on Fingerprint(URL) and does not normalize it again.
	URL string
	// Depth is the number of links followed from a seed; seeds are 0.
	Depth int
	// Referrer is the URL of the page the link was found on; "" for seeds.
	Referrer string
	// Priority orders entries within one host's queue when the backend is
	// configured for priorities: higher first. Ignored (FIFO, breadth-first)
	// otherwise.
	Priority int
}

// Lease is a URL handed out by Next. The URL stays leased, and counts
// against its host's concurrency limit, until the lease is passed to Ack,
// Retry or Release. A lease that is never settled (the process died) is
// given out again by backends that persist state: on restart (disk) or
// after the visibility timeout (redis).
type Lease struct {
	Entry
	// Host is the host key the URL is scheduled under (see HostKey).
	Host string
	// ID identifies the lease within its backend. Opaque to callers.
	ID string
	// Attempt is 0 on the first lease of the URL and is incremented by
	// Retry, not by Release. (frontier/redis also counts a lease that
	// expired unsettled.)
	Attempt int
}

// DefaultMaxInFlight is the per-host concurrency limit backends use when
// their configured HostPolicy leaves MaxInFlight zero.
const DefaultMaxInFlight = 8

// HostPolicy is the politeness schedule of one host.
type HostPolicy struct {
	// MaxInFlight is the most leases of this host outstanding at once.
	// Zero means the backend's default.
	MaxInFlight int
	// Interval is the least time between the starts of two leases of this
	// host (from the rate, the configured delay or robots.txt Crawl-delay).
	// Zero means no spacing.
	Interval time.Duration
	// Jitter adds a uniformly random extra wait in [0, Jitter) to every
	// interval. Zero means none.
	Jitter time.Duration
	// Provisional marks a policy set before the host's rules are known
	// (the crawler's one request at a time until it has read the host's
	// robots.txt). A backend shared by several processes (redis) ignores a
	// provisional policy for a host that already has one, so that a
	// process meeting the host late does not undo what another learnt
	// (its Crawl-delay, its full concurrency). Backends of one process
	// apply it like any other. False: a policy that always applies.
	Provisional bool
}

// HostPauser is implemented by backends that can hold a whole host back,
// as a server asks with 429 or 503 and Retry-After. The crawler uses it when
// the frontier has it, and otherwise waits out the pause in the worker
// holding the lease. frontier/memory, frontier/disk and frontier/redis
// implement it.
//
// Contract (frontiertest.Run checks it for backends that implement it):
//
//   - PauseHost keeps every entry of host from being leased before until;
//     leases already out are not affected. A pause never shortens one in
//     force: the host waits for whichever ends last.
//   - Once until has passed the host's schedule is as before: the next lease
//     is spaced by the host's policy as usual.
//   - It is safe for concurrent use; after Close it returns ErrClosed.
type HostPauser interface {
	PauseHost(ctx context.Context, host string, until time.Time) error
}

// RobotsStore is implemented by backends shared by several processes
// (frontier/redis), so that one host's robots.txt is fetched once for the
// whole crawl instead of once per process. The crawler uses it when the
// frontier has it; it stores only answers that decide the host's rules (a
// status and a body), never a failed fetch.
//
// Contract:
//
//   - LoadRobots returns the answer stored for host by any process (ok
//     true), as long as it is younger than the maxAge it was stored with.
//   - ClaimRobots reports whether the caller may fetch host's robots.txt
//     now: true for exactly one caller until ttl passes or an answer is
//     stored; the others wait and LoadRobots again.
//   - All methods are safe for concurrent use; an error means the caller
//     fetches robots.txt itself, as without a store.
type RobotsStore interface {
	LoadRobots(ctx context.Context, host string) (status int, body []byte, ok bool, err error)
	ClaimRobots(ctx context.Context, host string, ttl time.Duration) (bool, error)
	StoreRobots(ctx context.Context, host string, status int, body []byte, maxAge time.Duration) error
}

// PassStarter is implemented by backends that can start a new pass over a
// finished crawl (an incremental recrawl, see crawler/recrawl): the URLs a
// pass has seen may then be pushed and fetched again. frontier/memory,
// frontier/disk and frontier/redis implement it.
//
// Contract (frontiertest.Run checks it for backends that implement it):
//
//   - NewPass starts a new pass only when the crawl is finished: nothing
//     queued, leased or delayed, and at least one URL pushed since the
//     current pass began. It then forgets every fingerprint seen (Push
//     adds them again; Stats.Seen is 0) and zeroes what the backend counts
//     per pass (pages acknowledged, for a resumed crawl's page budget),
//     and reports true.
//   - Otherwise it changes nothing and reports false without error: a pass
//     is in progress (to be resumed), or one was just started (by another
//     process, for a shared backend) and nothing pushed yet. So every
//     process of a shared crawl may call it at start: exactly one of those
//     that find the crawl finished starts the pass.
//   - Host policies, pauses and other state kept beside the queue (the
//     backend's key/value state, stored robots.txt answers) survive it.
//   - It is safe for concurrent use with every other method, and is meant
//     to be called before the pass's first Push; after Close it returns
//     ErrClosed.
type PassStarter interface {
	NewPass(ctx context.Context) (started bool, err error)
}

// PassInfo is implemented by a frontier that knows when its current pass
// began: the first pass when the frontier was created, each later one when
// NewPass started it. A crawler with a recrawl store tells by it a page
// fetched earlier in this same pass, by a run that was stopped before the
// page's lease was settled (its record may be lost). The zero time means
// unknown (a frontier written before it kept the time).
type PassInfo interface {
	PassStarted(ctx context.Context) (time.Time, error)
}

// AckLeaser is implemented by a frontier that can acknowledge a lease and
// lease the next ready entry in one call: for a frontier shared over the
// network (frontier/redis), one round trip a URL instead of two. A crawler
// worker that is done with a page and wants the next one calls it instead
// of Ack and Next.
//
// Contract (frontiertest checks it):
//   - AckLease(ctx, l) is Ack(ctx, l) followed, when the ack succeeded, by
//     an attempt to lease an entry that is ready now, under the same rules
//     as Next (host limits and intervals, priorities, expired leases and
//     due retries).
//   - It returns the new lease, or nil when nothing is ready now, or when
//     the backend leaves what is ready to others (frontier/redis does so
//     when its ack freed a slot and other processes share the crawl). The
//     caller then waits in Next, which also tells when the frontier is
//     done. It never waits itself.
//   - An error is the ack's, as Ack would return it (ErrUnknownLease,
//     ErrClosed, ...), and nothing was leased; or, rarely, the lease's
//     (the ack then took effect).
type AckLeaser interface {
	AckLease(ctx context.Context, l *Lease) (*Lease, error)
}

// Stats is a snapshot of a frontier's size.
type Stats struct {
	Queued  int64 // entries waiting to be leased, including delayed retries
	Leased  int64 // leases outstanding
	Seen    int64 // distinct fingerprints ever pushed
	Hosts   int64 // hosts with queued or leased entries
	Delayed int64 // entries waiting for a retry time (part of Queued)
}

// Frontier is the queue, seen set and per-host schedule of a crawl.
//
// Contract, which every implementation must honour and which
// frontiertest.Run checks:
//
//   - Push adds each entry whose fingerprint has not been pushed before
//     and returns how many it added. Duplicates, within one call or across
//     calls (and, for persistent backends, across restarts), are dropped
//     silently. Push is batched: one call may carry many entries and
//     backends should write them at once.
//   - Next blocks until some entry is ready and returns a lease on it. An
//     entry is ready when its host has fewer than MaxInFlight leases
//     outstanding, the host's next-allowed time has passed, and the entry's
//     own not-before time (from Retry) has passed. Leasing an entry sets the
//     host's next-allowed time to now + Interval (+ jitter). Within a host,
//     entries come out in push order (or priority order when configured).
//     Among ready hosts, the one that has been ready longest goes first;
//     finding it must not scan every host.
//   - Next returns ErrDone when nothing is queued, leased or delayed, and
//     ctx.Err() when ctx ends first. While leases are outstanding it keeps
//     waiting, because settling them may push more entries.
//   - Ack settles a lease: the URL is done and its host slot is free.
//   - Retry settles a lease by putting the entry back on its host's queue,
//     not to be leased before notBefore, with Attempt incremented. The
//     waiting entry holds no host slot. It is not a new URL: Seen does not
//     change and it is not deduplicated away.
//   - Release settles a lease whose work was abandoned, not failed (the
//     crawl is shutting down): the entry goes back to the head of its
//     host's queue, ready at once (subject to the host's schedule like any
//     entry), with Attempt unchanged, holding no host slot. The host's
//     next-allowed time is not rolled back: the request may have been sent.
//     Like Retry, it is not a new URL.
//   - Ack, Retry and Release of a lease the frontier does not hold return
//     ErrUnknownLease.
//   - SetHostPolicy replaces one host's policy (robots.txt Crawl-delay,
//     say); it takes effect for the next lease of that host. A new Interval
//     counts from the start of the host's most recent lease: the host's
//     next-allowed time becomes that start + Interval + a jitter in
//     [0, Jitter) of the new policy, so a Crawl-delay (or a jitter) learnt
//     while the first URL of a host is leased already spaces the first and
//     second requests. Hosts without a policy of their own use the
//     backend's default policy.
//   - All methods are safe for concurrent use. After Close every method
//     returns ErrClosed and blocked calls to Next return ErrClosed. Close is
//     idempotent.
type Frontier interface {
	Push(ctx context.Context, entries ...Entry) (added int, err error)
	Next(ctx context.Context) (*Lease, error)
	Ack(ctx context.Context, l *Lease) error
	Retry(ctx context.Context, l *Lease, notBefore time.Time) error
	Release(ctx context.Context, l *Lease) error
	SetHostPolicy(ctx context.Context, host string, p HostPolicy) error
	Stats(ctx context.Context) (Stats, error)
	Close() error
}
