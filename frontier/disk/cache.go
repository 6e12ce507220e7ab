package disk

// fpCache is a fixed-size, direct-mapped set of fingerprints known to be in
// the store's seen set. A fingerprint evicts whichever one shared its slot;
// a miss only means the store must be asked. It is not safe for concurrent
// use (Disk guards it with pushMu).
type fpCache struct {
	slots []uint64
	mask  uint64
}

// newFPCache returns a cache of at least n slots (rounded up to a power of
// two); n == 0 means DefaultSeenCache and n < 0 no cache.
func newFPCache(n int) fpCache {
	if n == 0 {
		n = DefaultSeenCache
	}
	if n < 0 {
		return fpCache{}
	}
	size := 1
	for size < n {
		size <<= 1
	}
	return fpCache{slots: make([]uint64, size), mask: uint64(size - 1)}
}

// slot spreads the fingerprint's bits (xxhash is already uniform; the mix
// guards against a fingerprint function with weak low bits).
func (c *fpCache) slot(fp uint64) uint64 { return (fp ^ fp>>29) & c.mask }

func (c *fpCache) has(fp uint64) bool {
	return c.slots != nil && fp != 0 && c.slots[c.slot(fp)] == fp
}

func (c *fpCache) add(fp uint64) {
	if c.slots != nil && fp != 0 {
		c.slots[c.slot(fp)] = fp
	}
}

// reset empties the cache.
func (c *fpCache) reset() { clear(c.slots) }
