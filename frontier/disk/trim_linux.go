package disk

import (
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// touched notes that about n bytes of the store were read or written
// through its memory map and trims the map once Config.TrimEvery is
// reached.
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
	if atomic.AddInt64(&d.trimmed, n) < d.cfg.TrimEvery {
		return
	}
	atomic.StoreInt64(&d.trimmed, 0)
	_ = d.view(func(tx *bolt.Tx) error {
		info := d.db.Info()
		size := tx.Size()
		if info.Data == 0 || size <= 0 {
			return nil
		}
		_, _, _ = unix.Syscall(unix.SYS_MADVISE, info.Data, uintptr(size), unix.MADV_DONTNEED)
		return nil
	})
}
