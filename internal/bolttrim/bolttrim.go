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

// DefaultEvery is how many bytes of a store may be touched through its map
// between two trims, for callers that have no setting of their own.
const DefaultEvery = 8 << 20

// faultAround is how many pages the kernel maps, at most, for each page
// faulted in (fault-around maps cached neighbours too: 64 KiB by default).
const faultAround = 16

// period is the longest time between two trims of a store in use.
const period = 50 * time.Millisecond

// Trimmer trims one store's map. Set DB and Every before use; it is safe
// for concurrent use.
type Trimmer struct {
	// DB is the store.
	DB *bolt.DB
	// Every is how many bytes may be touched between trims; negative
	// means never trim.
	Every int64

	touched atomic.Int64 // bytes touched since the last trim (approximate)
	last    atomic.Int64 // unix ns of the last trim
}

// Touched notes that about n bytes of the store were read or written
// through its map in transaction tx, and trims the map once Every is
// reached or 50 ms have passed. The caller is inside tx and must not open
// another transaction meanwhile (a read transaction waiting behind a remap
// would deadlock with its own); tx holds the map in place.
func (t *Trimmer) Touched(tx *bolt.Tx, n int64) {
	if t.Every < 0 {
		return
	}
	now := time.Now().UnixNano()
	if t.touched.Add(n*faultAround) < t.Every && now-t.last.Load() < int64(period) {
		return
	}
	t.touched.Store(0)
	t.last.Store(now)
	t.trim(tx)
}

// Committed notes that a commit wrote about n bytes, and trims the map
// (All) once Every is reached or 50 ms have passed. Call it after the
// commit, outside any transaction.
func (t *Trimmer) Committed(n int64) {
	if t.Every < 0 {
		return
	}
	if t.touched.Add(n*faultAround) < t.Every && time.Now().UnixNano()-t.last.Load() < int64(period) {
		return
	}
	t.All()
}

// All trims the map now, in a read transaction of its own: after a commit
// (which is not trimmed as it goes: bbolt touches every page it replaces
// again when it frees it at the end of the commit) or a long read.
func (t *Trimmer) All() {
	if t.Every < 0 {
		return
	}
	t.touched.Store(0)
	t.last.Store(time.Now().UnixNano())
	_ = t.DB.View(func(tx *bolt.Tx) error {
		t.trim(tx)
		return nil
	})
}
