package memory

// hostHeap is the ready schedule: a binary min-heap of hosts by readyAt,
// then by the order in which they became ready. Each host knows its index,
// so that it can be moved or removed in O(log n).
type hostHeap []*host

func hostLess(a, b *host) bool {
	if a.readyAt != b.readyAt {
		return a.readyAt < b.readyAt
	}
	return a.order < b.order
}

func (hh *hostHeap) push(h *host) {
	*hh = append(*hh, h)
	h.heapIdx = len(*hh) - 1
	hh.up(h.heapIdx)
}

// remove takes the host at index i out of the heap.
func (hh *hostHeap) remove(i int) {
	s := *hh
	n := len(s) - 1
	gone := s[i]
	if i != n {
		s[i] = s[n]
		s[i].heapIdx = i
	}
	s[n] = nil
	*hh = s[:n]
	if i != n {
		hh.fix(i)
	}
	gone.heapIdx = -1
}

// fix restores the heap after the key of the host at index i changed.
func (hh *hostHeap) fix(i int) {
	if !hh.down(i) {
		hh.up(i)
	}
}

func (hh hostHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !hostLess(hh[i], hh[p]) {
			break
		}
		hh.swap(i, p)
		i = p
	}
}

func (hh hostHeap) down(i0 int) bool {
	i, n := i0, len(hh)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && hostLess(hh[r], hh[l]) {
			c = r
		}
		if !hostLess(hh[c], hh[i]) {
			break
		}
		hh.swap(i, c)
		i = c
	}
	return i > i0
}

func (hh hostHeap) swap(i, j int) {
	hh[i], hh[j] = hh[j], hh[i]
	hh[i].heapIdx = i
	hh[j].heapIdx = j
}

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
