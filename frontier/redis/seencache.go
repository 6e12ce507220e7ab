package redis

import "sync/atomic"

// DefaultSeenCache is the number of fingerprints a Frontier remembers as
// seen when Config.SeenCache is zero: 2 MiB.
const DefaultSeenCache = 1 << 18

// seenCache remembers fingerprints that are in the crawl's seen set in the
// current pass: URLs this Frontier pushed or leased. Push leaves them out
// instead of sending them for the script to drop; on a page of 20 links
// most are known, and each costs the script a SADD.
//
// It is a direct-mapped table of fixed size: a fingerprint whose slot is
// taken by another is forgotten (and then pushed, and dropped by Redis as
// before), so it can only miss, never claim a URL it was not given. A slot
// holds the fingerprint XOR a salt drawn from the pass number, so that a
// new pass forgets every entry at once (an entry of an earlier pass then
// matches another fingerprint with a chance of 2^-64).
//
// It is only trusted while the Frontier holds a lease: a pass starts only
// when nothing is leased (newPassScript), so the pass of the last lease
// granted is then the crawl's. Each lease reply carries the pass number.
type seenCache struct {
	slots []atomic.Uint64
	shift uint
	pass  atomic.Int64 // -1 until a lease tells
	salt  atomic.Uint64
}

// newSeenCache returns a cache of at least n slots (a power of two), or nil
// for n < 0.
func newSeenCache(n int) *seenCache {
	if n < 0 {
		return nil
	}
	if n == 0 {
		n = DefaultSeenCache
	}
	bits := uint(1)
	for 1<<bits < n {
		bits++
	}
	c := &seenCache{slots: make([]atomic.Uint64, 1<<bits), shift: 64 - bits}
	c.pass.Store(-1)
	return c
}

// slot spreads fingerprints over the table (they are xxhash values, but a
// multiplication costs nothing and keeps the index from any bit pattern).
func (c *seenCache) slot(fp uint64) *atomic.Uint64 {
	return &c.slots[(fp*0x9e3779b97f4a7c15)>>c.shift]
}

// setPass records the pass a lease was granted in; a new one forgets
// every entry.
func (c *seenCache) setPass(n int64) {
	if c.pass.Load() == n {
		return
	}
	// splitmix64 of the pass number: two passes never share a salt.
	z := uint64(n) + 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	c.salt.Store(z ^ z>>31)
	c.pass.Store(n)
}

// forget empties the cache (the crawl's keys were dropped: its pass number
// starts again from 0, and so would the salt).
func (c *seenCache) forget() {
	c.pass.Store(-1)
	for i := range c.slots {
		c.slots[i].Store(0)
	}
}

// known reports whether fp is remembered as seen in the current pass.
func (c *seenCache) known(fp uint64) bool {
	return c.pass.Load() >= 0 && c.slot(fp).Load() == fp^c.salt.Load()
}

// add remembers fp as seen in the current pass.
func (c *seenCache) add(fp uint64) {
	if c.pass.Load() >= 0 {
		c.slot(fp).Store(fp ^ c.salt.Load())
	}
}
