package memory

// seenSet is an open-addressing hash set of 64-bit fingerprints with linear
// probing. Slots hold the fingerprint itself (0 marks an empty slot; the
// fingerprint 0 is tracked by a flag), so the set costs 8 bytes per slot and
// between 10.7 and 21.3 bytes per member at its load factor of 3/4 — a Go
// map[uint64]struct{} needs about twice that.
type seenSet struct {
	slots   []uint64
	shift   uint // 64 - log2(len(slots))
	n       int  // members, not counting zero
	hasZero bool
}

const seenMinSlots = 1 << 10

// add inserts fp and reports whether it was new.
func (s *seenSet) add(fp uint64) bool {
	if fp == 0 {
		if s.hasZero {
			return false
		}
		s.hasZero = true
		return true
	}
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := s.slot(fp); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case fp:
			return false
		case 0:
			s.slots[i] = fp
			s.n++
			return true
		}
	}
}

// has reports whether fp is a member.
func (s *seenSet) has(fp uint64) bool {
	if fp == 0 {
		return s.hasZero
	}
	if len(s.slots) == 0 {
		return false
	}
	mask := uint64(len(s.slots) - 1)
	for i := s.slot(fp); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case fp:
			return true
		case 0:
			return false
		}
	}
}

// len returns the number of members.
func (s *seenSet) len() int {
	if s.hasZero {
		return s.n + 1
	}
	return s.n
}

// slot spreads fp over the table (Fibonacci hashing), so that the set stays
// well distributed even for fingerprints that are not uniformly random.
func (s *seenSet) slot(fp uint64) uint64 {
	return (fp * 0x9E3779B97F4A7C15) >> s.shift
}

func (s *seenSet) grow() {
	size := 2 * len(s.slots)
	if size < seenMinSlots {
		size = seenMinSlots
	}
	old := s.slots
	s.slots = make([]uint64, size)
	s.shift = uint(64 - log2(size))
	mask := uint64(size - 1)
	for _, fp := range old {
		if fp == 0 {
			continue
		}
		i := s.slot(fp)
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = fp
	}
}

func log2(n int) int {
	l := 0
	for n > 1 {
		n >>= 1
		l++
	}
	return l
}
