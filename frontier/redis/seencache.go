package redis

import (
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
)

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
// holds the fingerprint XOR a salt drawn from the crawl's epoch: its pass
// number and the generation of its keys (a random token stored with the
// pass number, made anew when the keys were dropped or lost, as by a Redis
// restart without persistence). A new epoch forgets every entry at once;
// an entry of an earlier one then matches another fingerprint with a
// chance of 2^-64.
//
// Each lease reply carries the epoch. The cache is trusted only while the
// Frontier holds a lease that cannot have expired (Frontier.holding): a
// pass starts only when nothing is leased (newPassScript), so the epoch of
// the last lease granted is then the crawl's. Every use reads the salt
// once (view) and keeps to it, so that entries added across a change of
// epoch are dead, not misfiled.
type seenCache struct {
	slots []atomic.Uint64
	shift uint
	epoch atomic.Uint64 // hash of pass and generation; meaningful when valid
	valid atomic.Bool   // false until a lease tells the epoch, and after forget
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
	return &seenCache{slots: make([]atomic.Uint64, 1<<bits), shift: 64 - bits}
}

// slot spreads fingerprints over the table (they are xxhash values, but a
// multiplication costs nothing and keeps the index from any bit pattern).
func (c *seenCache) slot(fp uint64) *atomic.Uint64 {
	return &c.slots[(fp*0x9e3779b97f4a7c15)>>c.shift]
}

// mix is splitmix64's finalizer, a bijection: two epochs never share a
// salt.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// setEpoch records the epoch a lease was granted in (pass number and key
// generation) and returns its salt; a new epoch forgets every entry.
func (c *seenCache) setEpoch(pass int64, gen string) uint64 {
	e := xxhash.Sum64String(gen) ^ mix(uint64(pass)+0x9e3779b97f4a7c15)
	if c.valid.Load() && c.epoch.Load() == e {
		return c.salt.Load()
	}
	salt := mix(e)
	c.salt.Store(salt)
	c.epoch.Store(e)
	c.valid.Store(true)
	return salt
}

// view returns the salt of the current epoch, or false when none is known.
func (c *seenCache) view() (salt uint64, ok bool) {
	if !c.valid.Load() {
		return 0, false
	}
	return c.salt.Load(), true
}

// forget empties the cache: the crawl's keys were dropped, or Redis was
// unreachable (it may have restarted or failed over, and lost some).
func (c *seenCache) forget() {
	c.valid.Store(false)
	for i := range c.slots {
		c.slots[i].Store(0)
	}
}

// known reports whether fp is remembered under salt.
func (c *seenCache) known(fp, salt uint64) bool {
	return c.slot(fp).Load() == fp^salt
}

// add remembers fp under salt.
func (c *seenCache) add(fp, salt uint64) {
	c.slot(fp).Store(fp ^ salt)
}
