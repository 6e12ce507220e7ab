//go:build !linux

package disk

import bolt "go.etcd.io/bbolt"

// touchedTx is a no-op where the store's memory map is not trimmed.
func (d *Disk) touchedTx(*bolt.Tx, int64) {}

// trimAll is a no-op where the store's memory map is not trimmed.
func (d *Disk) trimAll() {}
