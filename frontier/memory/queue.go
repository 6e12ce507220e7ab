package memory

// entry is one queued URL, stored without pointers of its own beyond the two
// strings (the referrer usually shares the parent's URL string).
type entry struct {
	url     string
	ref     string
	prio    int
	seq     uint64 // push order; orders equal priorities
	depth   int32
	attempt int32
}

// hostQueue is one host's queue: a ring buffer in FIFO mode, a binary heap
// (highest priority, then lowest seq, first) in priority mode.
type hostQueue struct {
	buf  []entry
	head int
	n    int
}

func (q *hostQueue) len() int { return q.n }

// pushBack appends e (FIFO mode).
func (q *hostQueue) pushBack(e entry) {
	if q.n == len(q.buf) {
		q.resize()
	}
	q.buf[(q.head+q.n)%len(q.buf)] = e
	q.n++
}

// pushFront prepends e (FIFO mode): a retried entry goes before the URLs
// pushed after it.
func (q *hostQueue) pushFront(e entry) {
	if q.n == len(q.buf) {
		q.resize()
	}
	q.head = (q.head - 1 + len(q.buf)) % len(q.buf)
	q.buf[q.head] = e
	q.n++
}

// popFront removes the first entry (FIFO mode).
func (q *hostQueue) popFront() entry {
	e := q.buf[q.head]
	q.buf[q.head] = entry{}
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	q.shrink()
	return e
}

func (q *hostQueue) resize() {
	size := 2 * len(q.buf)
	if size == 0 {
		size = 4
	}
	buf := make([]entry, size)
	for i := range q.n {
		buf[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = buf, 0
}

// shrink releases a large buffer once the queue is empty, so that a host
// that once had many URLs does not keep their slots.
func (q *hostQueue) shrink() {
	if q.n == 0 {
		q.head = 0
		if len(q.buf) > 64 {
			q.buf = nil
		}
	}
}

// Priority mode: buf[:n] is a heap, head is 0.

func prioLess(a, b *entry) bool {
	if a.prio != b.prio {
		return a.prio > b.prio
	}
	return a.seq < b.seq
}

func (q *hostQueue) heapPush(e entry) {
	q.buf = append(q.buf[:q.n], e)
	q.n++
	i := q.n - 1
	for i > 0 {
		p := (i - 1) / 2
		if !prioLess(&q.buf[i], &q.buf[p]) {
			break
		}
		q.buf[i], q.buf[p] = q.buf[p], q.buf[i]
		i = p
	}
}

func (q *hostQueue) heapPop() entry {
	e := q.buf[0]
	q.n--
	q.buf[0] = q.buf[q.n]
	q.buf[q.n] = entry{}
	i := 0
	for {
		l := 2*i + 1
		if l >= q.n {
			break
		}
		c := l
		if r := l + 1; r < q.n && prioLess(&q.buf[r], &q.buf[l]) {
			c = r
		}
		if !prioLess(&q.buf[c], &q.buf[i]) {
			break
		}
		q.buf[i], q.buf[c] = q.buf[c], q.buf[i]
		i = c
	}
	q.shrink()
	return e
}
