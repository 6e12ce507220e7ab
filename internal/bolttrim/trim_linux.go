package bolttrim

import (
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// trim releases the map. tx holds it in place: a read transaction holds
// bbolt's mmap lock, and only the writer moves the map, during its commit.
func (t *Trimmer) trim(tx *bolt.Tx) {
	info := t.DB.Info()
	size := tx.Size()
	if info.Data == 0 || size <= 0 {
		return
	}
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, info.Data, uintptr(size), unix.MADV_DONTNEED)
	// Random access: no read-ahead. Set again each time because bbolt maps
	// the file anew when it grows.
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, info.Data, uintptr(size), unix.MADV_RANDOM)
}
