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
const trimPeriod = 100 * time.Millisecond

// touched notes that about n bytes of the store were read or written
// through its memory map and trims the map once Config.TrimEvery is
// reached or trimPeriod has passed.
//
// bbolt reads the store through a shared, read-only memory map. Every page
// it touches stays in the process's resident set until the kernel needs the
// memory, so a large seen set would count against the RSS bound although
// the pages are only cache. MADV_DONTNEED on a shared file mapping drops
// the process's mappings of those pages and nothing else: they stay in the
// page cache and the next access maps them again (a minor fault). It runs
// inside a read transaction, which holds bbolt's mmap lock, so the map
// cannot move meanwhile.
func (d *Disk) touched(n int64) {
	if d.cfg.TrimEvery < 0 {
		return
	}
	now := time.Now().UnixNano()
	if atomic.AddInt64(&d.trimmed, n*faultAround) < d.cfg.TrimEvery && now-atomic.LoadInt64(&d.lastTrim) < int64(trimPeriod) {
		return
	}
	atomic.StoreInt64(&d.trimmed, 0)
	atomic.StoreInt64(&d.lastTrim, now)
	_ = d.view(func(tx *bolt.Tx) error {
		info := d.db.Info()
		size := tx.Size()
		if info.Data == 0 || size <= 0 {
			return nil
		}
		_, _, _ = unix.Syscall(unix.SYS_MADVISE, info.Data, uintptr(size), unix.MADV_DONTNEED)
		// Random access: no read-ahead. Set again each time because bbolt
		// maps the file anew when it grows.
		_, _, _ = unix.Syscall(unix.SYS_MADVISE, info.Data, uintptr(size), unix.MADV_RANDOM)
		return nil
	})
}
