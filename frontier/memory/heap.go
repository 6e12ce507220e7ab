package memory

// delayedEntry is a retried entry waiting for its notBefore.
type delayedEntry struct {
	notBefore int64
	h         *host
	e         entry
}

// delayedHeap is a min-heap of delayed retries by notBefore, then push
// order.
type delayedHeap []delayedEntry

func delayedLess(a, b *delayedEntry) bool {
	if a.notBefore != b.notBefore {
		return a.notBefore < b.notBefore
	}
	return a.e.seq < b.e.seq
}

func (dh *delayedHeap) push(d delayedEntry) {
	*dh = append(*dh, d)
	s := *dh
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !delayedLess(&s[i], &s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (dh *delayedHeap) pop() delayedEntry {
	s := *dh
	d := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s[n] = delayedEntry{}
	s = s[:n]
	*dh = s
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && delayedLess(&s[r], &s[l]) {
			c = r
		}
		if !delayedLess(&s[c], &s[i]) {
			break
		}
		s[i], s[c] = s[c], s[i]
		i = c
	}
	return d
}
