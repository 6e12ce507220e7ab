//go:build !linux

package bolttrim

import bolt "go.etcd.io/bbolt"

// trim is a no-op where the store's memory map is not trimmed.
func (t *Trimmer) trim(*bolt.Tx) {}

// residentNow is unknown where the map is not trimmed.
func residentNow() (int64, bool) { return 0, false }
