// Package boltfile opens the bbolt files of a crawl's state (frontier/disk,
// crawler/recrawl/disk) the way both need: the map freelist, a lock
// timeout, and a damaged file reported as an error, never a panic.
package boltfile

import (
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrPanic wraps a panic or memory fault of bbolt while it opened a file:
// the file is damaged.
var ErrPanic = errors.New("store panicked")

// Open opens the bbolt file at path, waiting up to timeout for another
// process that has it open. A panic or memory fault while bbolt reads the
// file (a damaged header or page) is returned as an error wrapping
// ErrPanic.
func Open(path string, timeout time.Duration) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: %v", ErrPanic, r)
		}
	}()
	return bolt.Open(path, 0o644, &bolt.Options{
		Timeout:      timeout,
		FreelistType: bolt.FreelistMapType,
	})
}
