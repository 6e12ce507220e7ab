//go:build !linux

package bolttrim

import bolt "go.etcd.io/bbolt"

// trim is a no-op where the store's memory map is not trimmed.
func (t *Trimmer) trim(*bolt.Tx) {}
