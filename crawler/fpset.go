package crawler

import "slices"

// fpSet is a set of 64-bit fingerprints in a sorted slice with an index of
// their top bits: about 10 bytes a fingerprint, and a lookup reads the
// index and a run of a few neighbours instead of binary-searching the
// whole slice (a cache miss a step: 4% of a recrawl pass of 304s, which
// looks up every stored link).
type fpSet struct {
	fps   []uint64 // sorted, distinct
	shift uint     // 64 - bits of the index
	start []uint32 // start[i]: first fingerprint whose top bits are >= i; one more entry at the end
}

// newFPSet returns the set of fps, which it sorts in place and keeps.
func newFPSet(fps []uint64) fpSet {
	slices.Sort(fps)
	fps = slices.Compact(fps)
	if len(fps) == 0 {
		return fpSet{}
	}
	// About two fingerprints a slot: 2^bits >= len/2, at most 2^24 slots.
	bits := uint(1)
	for bits < 24 && 1<<bits < len(fps)/2 {
		bits++
	}
	s := fpSet{fps: fps, shift: 64 - bits, start: make([]uint32, 1<<bits+1)}
	j := 0
	for i := range 1 << bits {
		for j < len(fps) && fps[j]>>s.shift < uint64(i) {
			j++
		}
		s.start[i] = uint32(j)
	}
	s.start[1<<bits] = uint32(len(fps))
	return s
}

// len returns the number of fingerprints.
func (s *fpSet) len() int { return len(s.fps) }

// has reports whether fp is in the set.
func (s *fpSet) has(fp uint64) bool {
	if len(s.fps) == 0 {
		return false
	}
	i := fp >> s.shift
	for _, v := range s.fps[s.start[i]:s.start[i+1]] {
		if v >= fp {
			return v == fp
		}
	}
	return false
}
