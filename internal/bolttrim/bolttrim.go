// Package bolttrim keeps the memory map of a bbolt store out of the
// process's resident set, for the stores of a crawl's state directory
// (frontier/disk, crawler/recrawl/disk), whose files grow with the crawl.
//
// bbolt reads its file through a shared, read-only memory map. Every page
// it touches stays in the process's resident set until the kernel needs the
// memory, so a store of many gigabytes would count against the crawl's
// memory bound although its pages are only cache. MADV_DONTNEED on a shared
// file mapping drops the process's mappings of those pages and nothing
// else: they stay in the page cache, and the next access maps them again (a
// minor fault). On systems other than Linux the Trimmer does nothing.
package bolttrim

import (
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DefaultEvery is the default budget: how many bytes of the stores' maps
// the process may keep resident, above the least it had resident in files
// at any look, before a store's map is trimmed.
const DefaultEvery = 32 << 20

// faultAround is how many pages the kernel maps, at most, for each page
// faulted in (fault-around maps cached neighbours too: 64 KiB by default).
const faultAround = 16

// checkPeriod is the longest time between two looks at the resident set by
// a store in use; a look costs one read of /proc/self/statm.
const checkPeriod = 10 * time.Millisecond

// Trimmer trims one store's map when the process's resident file pages
// exceed by more than Every the least it had at any look: a store smaller
// than that is never trimmed (trimming costs a fault for every page read
// again, a third of a crawl's time when done every few milliseconds). Set
// DB and Every before use; it is safe for concurrent use. Every Trimmer of
// a process measures the same resident set, so two stores share one
// budget.
type Trimmer struct {
	// DB is the store.
	DB *bolt.DB
	// Every is the budget in bytes; negative means never trim.
	Every int64

	touched atomic.Int64 // bytes that may have been mapped since the last look (estimate)
	last    atomic.Int64 // unix ns of the last look
}

// due reports whether n more bytes touched make it time to look at the
// resident set, and if so whether it is over budget.
func (t *Trimmer) due(n int64) bool {
	if t.Every < 0 {
		return false
	}
	now := time.Now().UnixNano()
	if t.touched.Add(n*faultAround) < t.Every/4 && now-t.last.Load() < int64(checkPeriod) {
		return false
	}
	t.touched.Store(0)
	t.last.Store(now)
	return t.over()
}

// over reports whether the process's resident file pages exceed the
// budget; true when they cannot be read (trim rather than grow).
func (t *Trimmer) over() bool {
	n, ok := residentNow()
	if !ok {
		return true
	}
	for {
		b := base.Load()
		if b >= 0 && b <= n {
			return n-b > t.Every
		}
		if base.CompareAndSwap(b, n) {
			return false
		}
	}
}

// base is the least the process had resident in files at any look (-1
// before the first): the binary's own pages and whatever stays mapped.
// The least, not the first, so that stores closed since do not count.
var base = func() *atomic.Int64 {
	var b atomic.Int64
	b.Store(-1)
	return &b
}()

// Touched notes that about n bytes of the store were read or written
// through its map in transaction tx, and trims the map when the process is
// over budget (looked at every Every/4 bytes or 10 ms). The caller is
// inside tx and must not open another transaction meanwhile (a read
// transaction waiting behind a remap would deadlock with its own); tx
// holds the map in place.
func (t *Trimmer) Touched(tx *bolt.Tx, n int64) {
	if t.due(n) {
		t.trim(tx)
	}
}

// Committed notes that a commit wrote about n bytes, and trims the map
// (All) when the process is over budget. Call it after the commit, outside
// any transaction.
func (t *Trimmer) Committed(n int64) {
	if t.due(n) {
		t.All()
	}
}

// Check trims the map now if the process is over budget: after a long read
// or a large commit. Call it outside any transaction.
func (t *Trimmer) Check() {
	if t.Every < 0 {
		return
	}
	t.touched.Store(0)
	t.last.Store(time.Now().UnixNano())
	if t.over() {
		t.All()
	}
}

// All trims the map now, whatever the budget, in a read transaction of its
// own. Call it outside any transaction.
func (t *Trimmer) All() {
	if t.Every < 0 {
		return
	}
	_ = t.DB.View(func(tx *bolt.Tx) error {
		t.trim(tx)
		return nil
	})
}
