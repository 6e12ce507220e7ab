// Package disk is a persistent frontier.Frontier kept in an embedded bbolt
// store inside one directory, so a crawl survives kill -9 and resumes where
// it stopped.
//
// What is on disk: every queued entry (per-host queues), the seen set (one
// key per fingerprint, plus a log of recent fingerprints merged into it in
// sorted batches), entries waiting for a retry time, per-host counters and
// a small key/value area for other components (SaveState, LoadState: crawl
// statistics, the session's cookie jar). What is in RAM: the scheduling
// index rebuilt at Open — one small record per host (counters, read
// cursor, next-allowed time, heap slot) — the outstanding leases, a
// fixed-size cache of fingerprints (Config.SeenCache), the fingerprints of
// the seen log (at most about twice Config.SeenLog) and at most a few
// batches of uncommitted entries, so memory does not grow with the number
// of queued or seen URLs.
//
// Writes are group-committed by one background committer, in call order,
// and fsynced unless Config.NoSync. Push deduplicates at once and returns
// without waiting for the commit; Retry, SaveState and Sync wait for it;
// Ack waits unless Config.AckWindow allows it not to. Hence, after kill -9:
//
//   - every entry pushed before an Ack, Retry, SaveState or Sync that
//     returned is still queued, or was acknowledged;
//   - every lease whose Ack returned is settled for good, except at most
//     AckWindow of the latest ones, which are leased again;
//   - leases handed out but not settled are queued again at Open (a leased
//     entry stays in its host's queue on disk until Ack or Retry removes
//     it), so they are leased again, first on their host.
//
// A caller that writes its output and pushes the links it found before it
// calls Ack (as the crawler does) therefore loses nothing, and sees at most
// one duplicate per lease outstanding at the kill plus AckWindow.
//
// NewPass (frontier.PassStarter) starts a new pass over a finished crawl,
// for an incremental recrawl: it forgets the seen set in one transaction,
// so a kill leaves the directory in the old pass or in the new one.
//
// Files: disk.go holds Config, Open and the Frontier methods; store.go the
// on-disk layout, encoding and the committer; merge.go the seen log and its
// merges; sched.go the in-RAM host records and leasing (their schedule is
// internal/schedule's, shared with frontier/memory); cache.go the fingerprint
// cache. The store's memory map is kept out of the resident set by
// internal/bolttrim.
package disk

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/internal/boltfile"
	"github.com/trawlhq/trawl/internal/bolttrim"
	"github.com/trawlhq/trawl/internal/groupcommit"
	"github.com/trawlhq/trawl/internal/schedule"
)

// Errors for a state directory that cannot be used. Callers branch on them
// with errors.Is (the CLI maps them to exit codes); the returned error also
// names the directory and the cause.
var (
	// ErrLocked means another process holds the directory open.
	ErrLocked = errors.New("frontier/disk: state directory in use")
	// ErrIncompatible means the directory was written by a trawl with a
	// different state format.
	ErrIncompatible = errors.New("frontier/disk: incompatible state format")
	// ErrCorrupt means the store is damaged: not readable as a trawl state
	// store, or inconsistent.
	ErrCorrupt = errors.New("frontier/disk: corrupt state")
	// ErrForeign means the directory holds files that are not a trawl state
	// store; Open refuses to write into it.
	ErrForeign = errors.New("frontier/disk: not a trawl state directory")
)

// FormatVersion is the on-disk format this package writes. Open also reads
// format 1 (and upgrades it); it refuses (ErrIncompatible) any other.
const FormatVersion = 2

// Defaults for zero Config fields.
const (
	// DefaultMaxBatch is the most operations committed in one transaction.
	DefaultMaxBatch = 256
	// DefaultLockTimeout is how long Open waits for another process to
	// release the directory before failing with ErrLocked.
	DefaultLockTimeout = time.Second
	// DefaultSeenCache is the default Config.SeenCache: 8 MiB.
	DefaultSeenCache = 1 << 20
	// DefaultSeenLog is the default Config.SeenLog.
	DefaultSeenLog = 1 << 18
	// DefaultTrimEvery is how many bytes of file pages the process may
	// keep resident before the map is trimmed (see Config.TrimEvery).
	DefaultTrimEvery = bolttrim.DefaultEvery
)

// maxPendingBatches bounds the entries pushed but not yet committed, in
// batches of Config.MaxBatch: beyond it, Push waits for the committer.
const maxPendingBatches = 4

// File names inside the state directory.
const (
	dbFile    = "frontier.db"
	ownerFile = "owner"
)

// Config configures a Disk frontier. The zero value is usable.
type Config struct {
	// Policy is the default per-host policy. Zero MaxInFlight means
	// frontier.DefaultMaxInFlight.
	Policy frontier.HostPolicy
	// Now returns the current time. Nil means time.Now. Timers still run on
	// the wall clock; Now decides what is due.
	Now func() time.Time
	// CommitInterval is how long the committer keeps gathering operations
	// into a batch after the first one arrives. Zero means no wait: a batch
	// is whatever queued up while the previous one was committing (natural
	// group commit), which gives the lowest latency. With an AckWindow a
	// long interval is cheap: a caller that waits for a commit (an Ack
	// beyond the window, Retry, SaveState, Sync, NewPass) ends the
	// gathering at once, as does a Next that waits for pushed entries.
	CommitInterval time.Duration
	// MaxBatch is the most operations in one commit, counting each pushed
	// entry as one (a longer Push is committed in several parts). Zero
	// means DefaultMaxBatch.
	MaxBatch int
	// NoSync skips the fsync after each commit. State then still survives
	// the process being killed (the data is in the OS) but not a power loss
	// or kernel crash, which may leave the store corrupt.
	NoSync bool
	// LockTimeout is how long Open waits for a directory locked by another
	// process. Zero means DefaultLockTimeout; negative means fail at once.
	LockTimeout time.Duration
	// AckWindow is how many acknowledgements may be uncommitted when Ack
	// returns. Zero means none: every Ack waits for its commit, and after a
	// kill at most the leases outstanding then are delivered again. A
	// window of n lets Ack return before the commit (workers do not wait
	// for the disk) at the price of up to n more URLs delivered again after
	// a kill; with BeforeCommit saving where the caller's output ends, the
	// caller can cut the output of those back at the next Open.
	AckWindow int
	// SeenCache is the number of fingerprints kept in RAM (8 bytes each) to
	// answer Push for URLs seen before without a lookup in the store. Zero
	// means DefaultSeenCache; negative means none.
	SeenCache int
	// SeenLog is how many fingerprints of new URLs are kept in the seen log
	// (appended at each commit, and held in RAM in a hash set: about 10
	// bytes each) before they are merged, in sorted order, into the seen
	// set's B+tree. A larger log means fewer, cheaper merges and more RAM.
	// Zero means DefaultSeenLog.
	SeenLog int
	// BeforeCommit, when set, is called by the committer at the start of
	// each commit that acknowledges leases (inside its write transaction,
	// with no lock of the Disk held: it must not call the Disk). A
	// caller that buffers what it writes for a lease before acknowledging
	// it (records of pages) writes the buffer out there, so that nothing
	// it wrote is lost once the lease is settled for good.
	//
	// gather, which the hook may call once, adds to the commit the
	// operations sent since its batch was gathered. A hook that calls it
	// holding the lock its callers take to write, and writes its buffer
	// out after, makes what it writes out line up with the commit: every
	// acknowledgement in the commit has its output written out, and of the
	// output written out, at most that of one lease per caller (whose Ack
	// came after gather) lacks a committed acknowledgement. save stores a
	// value in the state area (LoadState) in the same transaction: where
	// the output written out ends, say, so that after a kill the caller can
	// cut off the output of leases whose acknowledgement was not committed
	// (AckWindow's). An error fails the commit, and the Disk, as a failed
	// write of the store does.
	BeforeCommit func(gather func(), save func(key string, value []byte) error) error
	// TrimEvery bounds the store's pages kept in the resident set: once
	// the process's resident file pages have grown by more than this many
	// bytes (a budget shared with a crawler/recrawl/disk store of the same
	// process), the memory map is released to the page cache (Linux; the
	// kernel keeps the pages cached). A store smaller than that is never
	// trimmed. Zero means DefaultTrimEvery; negative means never trim.
	TrimEvery int64
}

// Disk is a persistent Frontier in a state directory. It is safe for
// concurrent use. Only one Disk (in one process) may have a directory open.
type Disk struct {
	dir    string
	cfg    Config
	now    func() time.Time
	db     *bolt.DB
	policy frontier.HostPolicy

	ops       chan *op
	carry     *op           // the committer's: a NewPass read while a commit took in late ops
	hurry     chan struct{} // a caller waits for a commit: stop gathering (see CommitInterval)
	quit      chan struct{} // closed by Close: the committer drains and returns
	committed chan struct{} // closed when the committer has returned
	closeOnce sync.Once

	// pushMu serialises deduplication: unmerged holds the fingerprints of
	// the entries pushed but not yet in the seen set's B+tree (not yet
	// committed, or in the seen log; see merge.go).
	pushMu   sync.Mutex
	unmerged map[uint64]struct{}
	cache    fpCache // fingerprints known to be in the seen set

	merge merger // the committer's own

	mu          sync.Mutex
	closed      bool
	failed      error // sticky: a commit failed; every later call returns it
	hosts       map[string]*host
	sched       schedule.Schedule[*host] // hosts with a queued entry and a free slot
	leases      map[uint64]*lease        // by sequence number
	leaseGen    uint64                   // leases handed out by this Disk
	queued      int64                    // entries on host queues not leased
	pendingN    int64                    // entries pushed, not yet committed
	unacked     int                      // acknowledgements returned, not yet committed (AckWindow)
	ackQueued   int64                    // acknowledgements released, not yet committed (any AckWindow)
	pushWait    []pushWait               // uncommitted pushes to unscheduled hosts, oldest first
	delayed     int64                    // entries waiting for a retry time
	leased      int64                    // outstanding leases, including ones being settled
	seen        int64
	acked       int64     // acknowledgements in this pass, over all runs
	passStarted time.Time // when the current pass began; zero if unknown
	nextDue     time.Time // earliest retry time; zero when none
	promoting   bool      // a promote op is in flight
	wake        chan struct{}
	resumed     bool
	bg          sync.WaitGroup // promote goroutines; Close waits for them

	testHookPromote func() // called by a promote goroutine as it starts; tests only

	trimmer bolttrim.Trimmer // keeps the store's map out of the resident set
}

// pushWait is an uncommitted push that makes an unscheduled host ready.
type pushWait struct {
	h *host
	o *op
}

// pushFirst reports whether Next must wait for a commit because a push not
// yet committed makes a host ready earlier than the top of the schedule.
// Called with d.mu held.
func (d *Disk) pushFirst() bool {
	d.prunePushWait()
	if len(d.pushWait) == 0 {
		return false
	}
	w := d.pushWait[0]
	_, readyAt := d.sched.Peek()
	return w.o.at.UnixNano() < readyAt && !w.h.sched.Scheduled() && w.h.leased < d.policyOf(w.h).MaxInFlight
}

// prunePushWait drops the committed pushes from the head of pushWait.
// Called with d.mu held.
func (d *Disk) prunePushWait() {
	n := 0
	for n < len(d.pushWait) && d.pushWait[n].o.applied {
		n++
	}
	if n == 0 {
		return
	}
	clear(d.pushWait[:n])
	d.pushWait = d.pushWait[n:]
	if len(d.pushWait) == 0 {
		d.pushWait = nil // let the backing array go
	}
}

// lease is the in-RAM record of an outstanding lease.
type lease struct {
	h        *host
	seq      uint64
	gen      uint64 // tells this lease from earlier ones of a released entry
	entry    frontier.Entry
	attempt  int
	settling bool
}

var (
	_ frontier.Frontier    = (*Disk)(nil)
	_ frontier.HostPauser  = (*Disk)(nil)
	_ frontier.PassStarter = (*Disk)(nil)
	_ frontier.PassInfo    = (*Disk)(nil)
)

// Open opens the state directory dir, creating it (and a fresh store) when it
// does not exist or is empty, and rebuilds the in-RAM schedule from it.
// Entries that were leased when the previous process stopped are queued
// again. It fails with an error wrapping ErrLocked, ErrIncompatible,
// ErrCorrupt or ErrForeign when the directory cannot be used, and never
// modifies a directory it refuses.
func Open(dir string, cfg Config) (*Disk, error) {
	if dir == "" {
		return nil, errors.New("frontier/disk: empty state directory")
	}
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, dbFile)
	_, statErr := os.Stat(path)
	existed := statErr == nil

	timeout := cfg.LockTimeout
	switch {
	case timeout == 0:
		timeout = DefaultLockTimeout
	case timeout < 0:
		timeout = time.Nanosecond
	}
	db, err := boltfile.Open(path, timeout)
	if err != nil {
		switch {
		case errors.Is(err, berrors.ErrTimeout):
			return nil, fmt.Errorf("%w: %s is locked by another trawl process%s", ErrLocked, dir, ownerInfo(dir))
		case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum),
			errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, boltfile.ErrPanic):
			return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
		}
		return nil, fmt.Errorf("frontier/disk: open %s: %w", path, err)
	}
	d := &Disk{
		dir:       dir,
		cfg:       cfg,
		now:       cfg.Now,
		db:        db,
		policy:    cfg.Policy,
		ops:       make(chan *op, 1024),
		hurry:     make(chan struct{}, 1),
		quit:      make(chan struct{}),
		committed: make(chan struct{}),
		hosts:     make(map[string]*host),
		leases:    make(map[uint64]*lease),
		unmerged:  make(map[uint64]struct{}),
		cache:     newFPCache(cfg.SeenCache),
		wake:      make(chan struct{}),
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.policy.MaxInFlight <= 0 {
		d.policy.MaxInFlight = frontier.DefaultMaxInFlight
	}
	if d.cfg.MaxBatch <= 0 {
		d.cfg.MaxBatch = DefaultMaxBatch
	}
	if d.cfg.TrimEvery == 0 {
		d.cfg.TrimEvery = DefaultTrimEvery
	}
	d.trimmer.DB, d.trimmer.Every = db, d.cfg.TrimEvery
	if d.cfg.SeenLog <= 0 {
		d.cfg.SeenLog = DefaultSeenLog
	}
	db.NoSync = cfg.NoSync
	seq, err := d.load(existed)
	if err != nil {
		db.Close()
		return nil, err
	}
	writeOwner(dir)
	go d.commitLoop(seq)
	return d, nil
}

// checkDir creates dir when missing and refuses one that holds anything but
// a trawl state store.
func checkDir(dir string) error {
	st, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("frontier/disk: create state directory: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("frontier/disk: state directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("%w: %s is not a directory", ErrForeign, dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("frontier/disk: state directory: %w", err)
	}
	hasDB := false
	var other []string
	for _, e := range ents {
		switch e.Name() {
		case dbFile:
			hasDB = true
		case ownerFile:
		default:
			other = append(other, e.Name())
		}
	}
	if !hasDB && len(other) > 0 {
		if len(other) > 3 {
			other = append(other[:3], "...")
		}
		return fmt.Errorf("%w: %s holds %s and no %s", ErrForeign, dir, strings.Join(other, ", "), dbFile)
	}
	return nil
}

// writeOwner records this process in the directory so that a second one can
// say who holds the lock. Best effort: the lock itself is the store's flock.
func writeOwner(dir string) {
	host, _ := os.Hostname()
	_ = os.WriteFile(filepath.Join(dir, ownerFile),
		fmt.Appendf(nil, "pid %d host %s since %s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339)), 0o644)
}

func ownerInfo(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		return ""
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 200 || s == "" {
		return ""
	}
	return " (" + s + ")"
}

// Dir returns the state directory.
func (d *Disk) Dir() string { return d.dir }

// Resumed reports whether Open found state from an earlier run (anything
// ever pushed or saved), as opposed to a fresh directory.
func (d *Disk) Resumed() bool { return d.resumed }

// Acked returns how many leases were acknowledged in this directory in the
// current pass (see NewPass), over all runs: those of earlier runs as
// committed (an acknowledgement lost to a kill is not counted, and its URL
// is leased again) and this run's so far. The CLI uses it to count
// --max-pages across resumed runs.
func (d *Disk) Acked() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.acked
}

// Push adds the entries whose fingerprints were never pushed to this
// directory, in order, and returns how many it added.
//
// Push deduplicates at once (against the store and the pushes not yet
// committed) and hands the new entries to the committer without waiting for
// the commit: they become leasable, and durable, when it lands. Commits are
// in call order, so entries pushed before an Ack, Retry, SaveState or Sync
// are durable when that call returns — the crawler pushes a page's links
// before it acknowledges the page, so a kill loses no link: the page is
// leased again. Use Sync to wait for pushes alone.
func (d *Disk) Push(ctx context.Context, entries ...frontier.Entry) (int, error) {
	if err := d.usable(); err != nil {
		return 0, err
	}
	if len(entries) == 0 {
		return 0, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	hostsOf := make([]string, len(entries))
	for i, e := range entries {
		if hostsOf[i] = frontier.HostKey(e.URL); hostsOf[i] == "" {
			return 0, fmt.Errorf("frontier/disk: push %q: URL has no host", e.URL)
		}
	}
	// A commit's cost grows with the hosts it appends to: a long push is
	// committed in parts of at most MaxBatch entries, in order.
	added := 0
	for len(entries) > 0 {
		n := min(len(entries), d.cfg.MaxBatch)
		k, err := d.push(ctx, entries[:n], hostsOf[:n])
		added += k
		if err != nil {
			return added, err
		}
		entries, hostsOf = entries[n:], hostsOf[n:]
	}
	return added, nil
}

// push deduplicates entries (whose host keys are hostsOf) and hands the new
// ones to the committer as one op.
func (d *Disk) push(ctx context.Context, entries []frontier.Entry, hostsOf []string) (int, error) {
	// Backpressure: entries wait in RAM until committed, so at most a few
	// batches' worth may be pending.
	for {
		d.mu.Lock()
		if d.closed {
			d.mu.Unlock()
			return 0, frontier.ErrClosed
		}
		if d.pendingN < int64(maxPendingBatches*d.cfg.MaxBatch) {
			d.mu.Unlock()
			break
		}
		wake := d.wake
		d.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	o := &op{kind: opPush}
	d.pushMu.Lock()
	// Most links found on a page were seen before: the fingerprint cache
	// answers for them, and only the rest is looked up in the store.
	var lookup []int
	for i, e := range entries {
		fp := frontier.Fingerprint(e.URL)
		if d.cache.has(fp) {
			continue
		}
		if _, ok := d.unmerged[fp]; ok {
			continue
		}
		lookup = append(lookup, i)
	}
	var err error
	if len(lookup) > 0 {
		err = d.view(func(tx *bolt.Tx) error {
			seen := tx.Bucket(bucketSeen)
			var key [8]byte
			for _, i := range lookup {
				e := entries[i]
				fp := frontier.Fingerprint(e.URL)
				if _, ok := d.unmerged[fp]; ok { // twice in this call
					continue
				}
				binary.BigEndian.PutUint64(key[:], fp)
				d.trimmer.Touched(tx, pageSize)
				if seen.Get(key[:]) != nil {
					d.cache.add(fp)
					continue
				}
				d.unmerged[fp] = struct{}{}
				o.entries = append(o.entries, e)
				o.fps = append(o.fps, fp)
				o.pushed = append(o.pushed, hostsOf[i])
			}
			return nil
		})
	}
	if err != nil {
		for _, fp := range o.fps {
			delete(d.unmerged, fp)
		}
		d.pushMu.Unlock()
		return 0, err
	}
	if len(o.entries) == 0 {
		d.pushMu.Unlock()
		return 0, nil
	}
	d.mu.Lock()
	o.at = d.now()
	for _, name := range o.pushed {
		h := d.host(name)
		if h.pending == 0 && !h.sched.Scheduled() {
			// Ready from now on once committed: Next must not let a host
			// that became ready later go first meanwhile.
			d.pushWait = append(d.pushWait, pushWait{h: h, o: o})
		}
		h.pending++
	}
	d.pendingN += int64(len(o.entries))
	d.seen += int64(len(o.entries))
	d.mu.Unlock()
	d.pushMu.Unlock()
	added := len(o.entries) // o belongs to the committer once sent
	// Not under pushMu: the committer takes it after each commit. The order
	// of different callers' pushes does not matter; one caller's calls
	// reach the committer in call order.
	select {
	case d.ops <- o:
	case <-d.quit:
		d.pushMu.Lock()
		for _, fp := range o.fps {
			delete(d.unmerged, fp)
		}
		d.pushMu.Unlock()
		return 0, frontier.ErrClosed
	}
	return added, nil
}

// Sync returns once everything pushed, acknowledged, retried or saved
// before the call is committed.
func (d *Disk) Sync(ctx context.Context) error {
	if err := d.usable(); err != nil {
		return err
	}
	return d.submit(ctx, &op{kind: opSync})
}

// Next returns a lease on the next ready entry, waiting for one. It returns
// frontier.ErrDone when nothing is queued, leased or delayed, ctx.Err() when
// ctx ends first, and frontier.ErrClosed after Close.
func (d *Disk) Next(ctx context.Context) (*frontier.Lease, error) {
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
		d.mu.Lock()
		if d.closed {
			d.mu.Unlock()
			return nil, frontier.ErrClosed
		}
		if d.failed != nil {
			err := d.failed
			d.mu.Unlock()
			return nil, err
		}
		now := d.now()
		if !d.nextDue.IsZero() && !d.nextDue.After(now) && !d.promoting {
			d.promoting = true
			d.bg.Add(1)
			go func() {
				defer d.bg.Done()
				if d.testHookPromote != nil {
					d.testHookPromote()
				}
				d.promote(now)
			}()
		}
		top, readyAt := d.sched.Peek()
		if top != nil && readyAt <= now.UnixNano() && !d.pushFirst() {
			l, err := d.leaseLocked(top.Value)
			d.mu.Unlock()
			if err != nil {
				return nil, err
			}
			return l, nil
		}
		if d.queued == 0 && d.leased == 0 && d.delayed == 0 && d.pendingN == 0 {
			d.mu.Unlock()
			return nil, frontier.ErrDone
		}
		wake := d.wake
		if d.pendingN > 0 {
			// Entries pushed but not committed may be what this Next
			// waits for.
			d.hurryCommit()
		}
		var until time.Time
		if top != nil {
			until = time.Unix(0, readyAt)
		}
		if !d.nextDue.IsZero() && !d.promoting && (until.IsZero() || d.nextDue.Before(until)) {
			until = d.nextDue
		}
		d.mu.Unlock()

		var tc <-chan time.Time
		if !until.IsZero() {
			wait := until.Sub(now)
			if wait < 0 {
				wait = 0
			}
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			tc = timer.C
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wake:
		case <-tc:
		}
	}
}

// Ack settles a lease: its entry is removed for good and its host slot is
// free at once. Ack returns once the removal is committed, unless fewer than
// Config.AckWindow earlier acknowledgements are still uncommitted: then it
// returns at once and the commit follows (in order, after every earlier
// Push). It returns frontier.ErrUnknownLease for a lease this Disk does not
// hold. An acknowledgement that never reaches the store (ctx ended, the
// process died) only means the URL is leased again after a restart.
func (d *Disk) Ack(ctx context.Context, l *frontier.Lease) error {
	ls, err := d.settle(l)
	if err != nil {
		return err
	}
	o := &op{kind: opAck, lease: ls}
	d.mu.Lock()
	d.release(ls, d.now())
	d.acked++
	d.ackQueued++
	o.async = d.unacked < d.cfg.AckWindow
	if o.async {
		d.unacked++
	}
	d.broadcast()
	d.mu.Unlock()
	if !o.async {
		return d.submit(ctx, o)
	}
	select {
	case d.ops <- o:
		return nil
	case <-d.quit:
		return frontier.ErrClosed
	}
}

// Retry settles a lease by moving its entry to the retry area, to be queued
// again on its host (at the end of the queue) once notBefore has passed,
// with Attempt incremented. It returns once that is committed.
func (d *Disk) Retry(ctx context.Context, l *frontier.Lease, notBefore time.Time) error {
	ls, err := d.settle(l)
	if err != nil {
		return err
	}
	o := &op{kind: opRetry, lease: ls, notBefore: notBefore}
	if err := d.submit(ctx, o); err != nil {
		if !o.sent {
			d.mu.Lock()
			ls.settling = false
			d.mu.Unlock()
		}
		return err
	}
	return nil
}

// Release settles a lease by handing its entry back: it is leased again
// first on its host, with its Attempt unchanged. Nothing is written: a
// leased entry keeps its place in the store until Ack or Retry removes it,
// so Release returns at once, and a released entry not leased again before
// a kill is queued again at Open like any other.
func (d *Disk) Release(ctx context.Context, l *frontier.Lease) error {
	ls, err := d.settle(l)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		// Closed since settle: the entry is queued again at Open.
		return frontier.ErrClosed
	}
	d.handBack(ls, d.now())
	d.broadcast()
	return nil
}

// settle marks the lease as being settled so that a second Ack, Retry or
// Release of it fails; its host slot is freed by the caller, or when the
// commit lands.
func (d *Disk) settle(l *frontier.Lease) (*lease, error) {
	if l == nil {
		return nil, frontier.ErrUnknownLease
	}
	seq, gen, ok := parseLeaseID(l.ID)
	if !ok {
		return nil, frontier.ErrUnknownLease
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, frontier.ErrClosed
	}
	if d.failed != nil {
		return nil, d.failed
	}
	ls, ok := d.leases[seq]
	if !ok || ls.gen != gen || ls.settling || ls.h.name != l.Host {
		return nil, frontier.ErrUnknownLease
	}
	ls.settling = true
	return ls, nil
}

// SetHostPolicy replaces the policy of host for its next lease. Policies are
// kept in RAM only: after a restart the crawler sets them again (from
// robots.txt).
func (d *Disk) SetHostPolicy(ctx context.Context, hostKey string, p frontier.HostPolicy) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return frontier.ErrClosed
	}
	h := d.host(hostKey)
	h.policy = &p
	rp := d.policyOf(h)
	d.sched.SetPolicy(&h.sched, rp, d.eligible(h, rp), d.now().UnixNano())
	d.broadcast()
	return nil
}

// PauseHost implements frontier.HostPauser: no entry of host is leased
// before until. Pauses are kept in RAM only, like policies.
func (d *Disk) PauseHost(ctx context.Context, hostKey string, until time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return frontier.ErrClosed
	}
	h := d.host(hostKey)
	d.sched.Hold(&h.sched, until.UnixNano(), d.eligible(h, d.policyOf(h)), d.now().UnixNano())
	d.broadcast()
	return nil
}

// NewPass implements frontier.PassStarter. When the crawl is finished
// (nothing queued, leased, delayed, or pushed or acknowledged and not yet
// committed) and something was pushed since the current pass began, it
// forgets the seen set — the seen buckets on disk, the fingerprint cache and
// the seen log's fingerprints in RAM — and zeroes the seen and acknowledged
// counts, in one transaction of the committer, and reports true: after a
// kill at any point the directory holds either the old pass or the new one.
// Otherwise it changes nothing and reports false. The state area (SaveState)
// and host policies and pauses are kept.
//
// It waits for the commit. Forgetting the seen set costs a walk over its
// pages (bbolt frees them): about a second per few million URLs seen.
func (d *Disk) NewPass(ctx context.Context) (bool, error) {
	if err := d.usable(); err != nil {
		return false, err
	}
	o := &op{kind: opNewPass}
	if err := d.submit(ctx, o); err != nil {
		return false, err
	}
	return o.started, nil
}

// PassStarted implements frontier.PassInfo: when the store was created,
// or when NewPass last started a pass. It is zero for a store written by a
// trawl that did not keep the time, until its next pass.
func (d *Disk) PassStarted(ctx context.Context) (time.Time, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return time.Time{}, frontier.ErrClosed
	}
	return d.passStarted, nil
}

// Stats returns the frontier's size.
func (d *Disk) Stats(ctx context.Context) (frontier.Stats, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return frontier.Stats{}, frontier.ErrClosed
	}
	var active int64
	for _, h := range d.hosts {
		if h.queued > 0 || h.leased > 0 || h.delayed > 0 || h.pending > 0 {
			active++
		}
	}
	return frontier.Stats{
		Queued:  d.queued + d.pendingN + d.delayed,
		Leased:  d.leased,
		Seen:    d.seen,
		Hosts:   active,
		Delayed: d.delayed,
	}, nil
}

// SaveState stores value under key in the directory's state area, for
// components other than the frontier (crawl statistics, cookies). It is
// committed in order with the frontier's own writes and returns once
// durable.
func (d *Disk) SaveState(ctx context.Context, key string, value []byte) error {
	if key == "" {
		return errors.New("frontier/disk: empty state key")
	}
	if err := d.usable(); err != nil {
		return err
	}
	return d.submit(ctx, &op{kind: opState, key: key, value: append([]byte(nil), value...)})
}

// LoadState returns the value SaveState stored under key, or nil and no
// error when there is none.
func (d *Disk) LoadState(ctx context.Context, key string) ([]byte, error) {
	if err := d.usable(); err != nil {
		return nil, err
	}
	var out []byte
	err := d.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketState).Get([]byte(key)); v != nil {
			out = append([]byte(nil), v...)
		}
		return nil
	})
	return out, err
}

// Close commits what is pending, waits for the Disk's goroutines (the
// committer, a promotion of due retries) to exit, releases the directory
// and makes every later call (and blocked Next) return frontier.ErrClosed.
// Outstanding leases are not settled: they are queued again at the next
// Open. Close is idempotent.
func (d *Disk) Close() error {
	var err error
	d.closeOnce.Do(func() {
		d.mu.Lock()
		d.closed = true
		d.broadcast()
		d.mu.Unlock()
		close(d.quit)
		<-d.committed
		d.bg.Wait()
		_ = os.Remove(filepath.Join(d.dir, ownerFile))
		err = d.db.Close()
	})
	return err
}

func (d *Disk) usable() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return frontier.ErrClosed
	}
	return d.failed
}

// submit hands o to the committer and waits for its commit.
func (d *Disk) submit(ctx context.Context, o *op) error {
	o.done = make(chan error, 1)
	select {
	case d.ops <- o:
		o.sent = true
	case <-d.quit:
		return frontier.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	if d.cfg.AckWindow > 0 {
		// Acknowledgements do not wait, so the committer gathers long:
		// this caller does wait.
		d.hurryCommit()
	}
	return groupcommit.Wait(ctx, o.done, d.committed, frontier.ErrClosed)
}

// hurryCommit ends the committer's gathering of the current batch.
func (d *Disk) hurryCommit() {
	select {
	case d.hurry <- struct{}{}:
	default:
	}
}

// broadcast wakes every blocked Next. Called with d.mu held.
func (d *Disk) broadcast() {
	close(d.wake)
	d.wake = make(chan struct{})
}
