package disk

import (
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// faultAround is how many pages the kernel maps, at most, for each page
// faulted in (fault-around maps cached neighbours too: 64 KiB by default).
const faultAround = 16

// trimPeriod is the longest time between two trims of a store in use.
const trimPeriod = 50 * time.Millisecond

// touchedTx notes that about n bytes of the store were read or written
// through its memory map, in transaction tx, and trims the map once
// Config.TrimEvery is reached or trimPeriod has passed.
//
// bbolt reads the store through a shared, read-only memory map. Every page
// it touches stays in the process's resident set until the kernel needs the
// memory, so a large seen set would count against the RSS bound although
// the pages are only cache. MADV_DONTNEED on a shared file mapping drops
// the process's mappings of those pages and nothing else: they stay in the
// page cache and the next access maps them again (a minor fault). The
// caller is inside a transaction and must not open another one (a read
// transaction waiting behind a remap would deadlock with its own).
func (d *Disk) touchedTx(tx *bolt.Tx, n int64) {
	if d.trimDue(n) {
		d.trim(tx)
	}
}

func (d *Disk) trimDue(n int64) bool {
	if d.cfg.TrimEvery < 0 {
		return false
	}
	now := time.Now().UnixNano()
	if atomic.AddInt64(&d.trimmed, n*faultAround) < d.cfg.TrimEvery && now-atomic.LoadInt64(&d.lastTrim) < int64(trimPeriod) {
		return false
	}
	atomic.StoreInt64(&d.trimmed, 0)
	atomic.StoreInt64(&d.lastTrim, now)
	return true
}

// trim releases the map. The transaction tx holds the map in place: a read
// transaction holds bbolt's mmap lock, and only the writer moves the map,
// during its commit.
func (d *Disk) trim(tx *bolt.Tx) {
	info := d.db.Info()
	size := tx.Size()
	if info.Data == 0 || size <= 0 {
		return
	}
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, info.Data, uintptr(size), unix.MADV_DONTNEED)
	// Random access: no read-ahead. Set again each time because bbolt maps
	// the file anew when it grows.
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, info.Data, uintptr(size), unix.MADV_RANDOM)
}

// trimAll trims the map now. Called by the committer after each commit, which
// is not trimmed as it goes: bbolt touches every page it replaces again when
// it frees it at the end of the commit, so pages released earlier in the
// commit would only be mapped again.
func (d *Disk) trimAll() {
	if d.cfg.TrimEvery < 0 {
		return
	}
	atomic.StoreInt64(&d.trimmed, 0)
	atomic.StoreInt64(&d.lastTrim, time.Now().UnixNano())
	_ = d.db.View(func(tx *bolt.Tx) error {
		d.trim(tx)
		return nil
	})
}
