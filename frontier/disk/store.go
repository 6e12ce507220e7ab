package disk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/trawlhq/trawl/frontier"
)

// On-disk layout, one bbolt file (frontier.db) with these buckets:
//
//	meta   "magic" -> "trawl-frontier"; "format" -> uint32 FormatVersion;
//	       "seq" -> uint64 last sequence number used; "seen" -> uint64 count;
//	       "acked" -> uint64 leases acknowledged in the current pass
//	       (absent: none); NewPass empties seen and seenlog and zeroes both
//	       counts in one transaction
//	seen   fingerprint (8 bytes, big-endian) -> 0x01: the merged seen set
//	seenlog  sequence number (8 bytes) -> fingerprints (8 bytes each) of the
//	       entries one commit pushed, not yet merged into seen (merge.go)
//	queue  host 0x00 seq (8 bytes) -> entry; one contiguous run per host,
//	       in push order; a leased entry stays until Ack or Retry
//	delay  notBefore (8 bytes, unix ns) seq (8 bytes) -> entry
//	hosts  host -> uvarint entries in queue, uvarint entries in delay
//	state  key -> value (SaveState)
//
// An entry is: uvarint attempt, varint depth, varint priority, uvarint
// len(URL), URL, uvarint len(referrer), referrer.
var (
	bucketMeta  = []byte("meta")
	bucketSeen  = []byte("seen")
	bucketLog   = []byte("seenlog")
	bucketQueue = []byte("queue")
	bucketDelay = []byte("delay")
	bucketHosts = []byte("hosts")
	bucketState = []byte("state")

	keyMagic  = []byte("magic")
	keyFormat = []byte("format")
	keySeq    = []byte("seq")
	keySeen   = []byte("seen")
	keyAcked  = []byte("acked")
	keyPass   = []byte("pass-started") // UnixNano when the current pass began

	magic = []byte("trawl-frontier")

	// seenMark is the value of every seen key (bbolt reads an empty value
	// back as nil, like a missing key).
	seenMark = []byte{1}
)

const pageSize = 4096

// view runs fn in a read transaction; a panic of the store (a damaged page)
// becomes ErrCorrupt. So does a memory fault: bbolt reads the file through
// a memory map, and a damaged page number beyond the map faults, which
// SetPanicOnFault turns into a panic.
func (d *Disk) view(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: %v", ErrCorrupt, d.dir, r)
		}
	}()
	return d.db.View(fn)
}

func (d *Disk) update(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: %v", ErrCorrupt, d.dir, r)
		}
	}()
	return d.db.Update(fn)
}

// load checks the store's identity and version, initialises a fresh one and
// rebuilds the in-RAM schedule. It returns the last sequence number.
func (d *Disk) load(existed bool) (uint64, error) {
	now := d.now()
	fresh := false
	var format uint32
	err := d.view(func(tx *bolt.Tx) error {
		if err := checkSize(tx); err != nil {
			return fmt.Errorf("%w: %s", ErrCorrupt, err)
		}
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			empty := true
			_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
			if !empty {
				return fmt.Errorf("%w: %s/%s is a bbolt store of another program", ErrForeign, d.dir, dbFile)
			}
			fresh = true
			return nil
		}
		if !bytes.Equal(meta.Get(keyMagic), magic) {
			return fmt.Errorf("%w: %s/%s is a bbolt store of another program", ErrForeign, d.dir, dbFile)
		}
		v := meta.Get(keyFormat)
		if len(v) != 4 {
			return fmt.Errorf("%w: %s: format version missing", ErrCorrupt, d.dir)
		}
		format = binary.BigEndian.Uint32(v)
		if format != FormatVersion && format != 1 {
			return fmt.Errorf("%w: %s has state format %d, this trawl reads formats 1 and %d", ErrIncompatible, d.dir, format, FormatVersion)
		}
		for _, b := range [][]byte{bucketSeen, bucketQueue, bucketDelay, bucketHosts, bucketState, bucketLog} {
			if bytes.Equal(b, bucketLog) && format == 1 {
				continue // added by format 2
			}
			if tx.Bucket(b) == nil {
				return fmt.Errorf("%w: %s: bucket %q missing", ErrCorrupt, d.dir, b)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if fresh {
		err := d.update(func(tx *bolt.Tx) error {
			meta, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return err
			}
			for _, b := range [][]byte{bucketSeen, bucketQueue, bucketDelay, bucketHosts, bucketState, bucketLog} {
				if _, err := tx.CreateBucket(b); err != nil {
					return err
				}
			}
			if err := meta.Put(keyMagic, magic); err != nil {
				return err
			}
			if err := meta.Put(keyFormat, binary.BigEndian.AppendUint32(nil, FormatVersion)); err != nil {
				return err
			}
			if err := meta.Put(keySeq, u64(0)); err != nil {
				return err
			}
			if err := meta.Put(keyPass, u64(uint64(now.UnixNano()))); err != nil {
				return err
			}
			return meta.Put(keySeen, u64(0))
		})
		if err != nil {
			return 0, fmt.Errorf("frontier/disk: initialise %s: %w", d.dir, err)
		}
		d.passStarted = now
		return 0, nil
	}

	if format == 1 {
		// Format 1 had no seen log: add it. An older trawl then refuses
		// the directory rather than miss the log's fingerprints.
		err := d.update(func(tx *bolt.Tx) error {
			if _, err := tx.CreateBucketIfNotExists(bucketLog); err != nil {
				return err
			}
			return tx.Bucket(bucketMeta).Put(keyFormat, binary.BigEndian.AppendUint32(nil, FormatVersion))
		})
		if err != nil {
			return 0, fmt.Errorf("frontier/disk: upgrade %s to format %d: %w", d.dir, FormatVersion, err)
		}
	}

	var seq uint64
	err = d.view(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		sv, nv := meta.Get(keySeq), meta.Get(keySeen)
		if len(sv) != 8 || len(nv) != 8 {
			return fmt.Errorf("%w: %s: counters missing", ErrCorrupt, d.dir)
		}
		seq = binary.BigEndian.Uint64(sv)
		d.seen = int64(binary.BigEndian.Uint64(nv))
		if av := meta.Get(keyAcked); av != nil {
			if len(av) != 8 {
				return fmt.Errorf("%w: %s: acknowledgement counter", ErrCorrupt, d.dir)
			}
			d.acked = int64(binary.BigEndian.Uint64(av))
		}
		if pv := meta.Get(keyPass); len(pv) == 8 {
			d.passStarted = time.Unix(0, int64(binary.BigEndian.Uint64(pv)))
		}
		err := tx.Bucket(bucketHosts).ForEach(func(k, v []byte) error {
			q, n := binary.Uvarint(v)
			if n <= 0 {
				return fmt.Errorf("%w: %s: host record %q", ErrCorrupt, d.dir, k)
			}
			dl, m := binary.Uvarint(v[n:])
			if m <= 0 {
				return fmt.Errorf("%w: %s: host record %q", ErrCorrupt, d.dir, k)
			}
			h := d.host(string(k))
			h.queued, h.delayed = int64(q), int64(dl)
			d.queued += h.queued
			d.delayed += h.delayed
			d.reschedule(h, now)
			return nil
		})
		if err != nil {
			return err
		}
		if k, _ := tx.Bucket(bucketDelay).Cursor().First(); k != nil {
			if len(k) != 16 {
				return fmt.Errorf("%w: %s: retry key", ErrCorrupt, d.dir)
			}
			d.nextDue = time.Unix(0, int64(binary.BigEndian.Uint64(k)))
		}
		if err := d.loadLog(tx); err != nil {
			return err
		}
		stateKey, _ := tx.Bucket(bucketState).Cursor().First()
		d.resumed = d.seen > 0 || stateKey != nil
		return nil
	})
	if err == nil && d.delayed > 0 && d.nextDue.IsZero() {
		err = fmt.Errorf("%w: %s: retry counters without retries", ErrCorrupt, d.dir)
	}
	return seq, err
}

// readHead reads the first queue entry of host at or after cursor.
func (d *Disk) readHead(name string, cursor uint64) (seq uint64, e frontier.Entry, attempt int, err error) {
	prefix := append([]byte(name), 0)
	err = d.view(func(tx *bolt.Tx) error {
		d.trimmer.Touched(tx, pageSize)
		k, v := tx.Bucket(bucketQueue).Cursor().Seek(queueKey(name, cursor))
		if k == nil || !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+8 {
			return errInconsistent(name, cursor)
		}
		seq = binary.BigEndian.Uint64(k[len(prefix):])
		var derr error
		e, attempt, derr = decodeEntry(v)
		if derr != nil {
			return fmt.Errorf("%w: %s: queue entry of %q: %v", ErrCorrupt, d.dir, name, derr)
		}
		return nil
	})
	return seq, e, attempt, err
}

// readEntry reads the queue entry of host with sequence number seq.
func (d *Disk) readEntry(name string, seq uint64) (e frontier.Entry, attempt int, err error) {
	err = d.view(func(tx *bolt.Tx) error {
		d.trimmer.Touched(tx, pageSize)
		v := tx.Bucket(bucketQueue).Get(queueKey(name, seq))
		if v == nil {
			return fmt.Errorf("%w: queue of host %q has no entry %d although a lease of it was released", ErrCorrupt, name, seq)
		}
		var derr error
		e, attempt, derr = decodeEntry(v)
		if derr != nil {
			return fmt.Errorf("%w: %s: queue entry of %q: %v", ErrCorrupt, d.dir, name, derr)
		}
		return nil
	})
	return e, attempt, err
}

// checkSize refuses a file shorter than its header says (a file cut short,
// by a copy or a full disk): bbolt would read pages past its end, and the
// map trimming (trim_linux.go) would release memory past the map, which may
// be the Go heap's.
func checkSize(tx *bolt.Tx) error {
	fi, err := os.Stat(tx.DB().Path())
	if err != nil {
		return err
	}
	if tx.Size() > fi.Size() {
		return fmt.Errorf("%s is %d bytes, its header says %d: cut short", tx.DB().Path(), fi.Size(), tx.Size())
	}
	return nil
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func queueKey(host string, seq uint64) []byte {
	k := make([]byte, 0, len(host)+9)
	k = append(k, host...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

func delayKey(notBefore time.Time, seq uint64) []byte {
	k := make([]byte, 0, 16)
	ns := notBefore.UnixNano()
	if ns < 0 {
		ns = 0
	}
	k = binary.BigEndian.AppendUint64(k, uint64(ns))
	return binary.BigEndian.AppendUint64(k, seq)
}

func encodeEntry(buf []byte, e frontier.Entry, attempt int) []byte {
	buf = binary.AppendUvarint(buf, uint64(attempt))
	buf = binary.AppendVarint(buf, int64(e.Depth))
	buf = binary.AppendVarint(buf, int64(e.Priority))
	buf = binary.AppendUvarint(buf, uint64(len(e.URL)))
	buf = append(buf, e.URL...)
	buf = binary.AppendUvarint(buf, uint64(len(e.Referrer)))
	return append(buf, e.Referrer...)
}

var errShort = errors.New("truncated entry")

func decodeEntry(b []byte) (e frontier.Entry, attempt int, err error) {
	a, n := binary.Uvarint(b)
	if n <= 0 {
		return e, 0, errShort
	}
	b = b[n:]
	depth, n := binary.Varint(b)
	if n <= 0 {
		return e, 0, errShort
	}
	b = b[n:]
	prio, n := binary.Varint(b)
	if n <= 0 {
		return e, 0, errShort
	}
	b = b[n:]
	str := func() (string, bool) {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return "", false
		}
		s := string(b[n : n+int(l)])
		b = b[n+int(l):]
		return s, true
	}
	u, ok := str()
	if !ok {
		return e, 0, errShort
	}
	r, ok := str()
	if !ok {
		return e, 0, errShort
	}
	return frontier.Entry{URL: u, Depth: int(depth), Priority: int(prio), Referrer: r}, int(a), nil
}

// opKind names what an op does in the committer.
type opKind int

const (
	opPush opKind = iota
	opAck
	opRetry
	opPromote
	opState
	opSync
	opNewPass
)

// op is one operation for the committer. Fields are set by the caller
// before it is sent and by the committer before done receives.
type op struct {
	kind      opKind
	entries   []frontier.Entry // push: entries deduplicated by Push
	fps       []uint64         // push: their fingerprints
	lease     *lease           // ack, retry
	notBefore time.Time        // retry; promote: now
	key       string           // state
	value     []byte           // state
	done      chan error
	sent      bool      // set by the caller once the committer has it
	async     bool      // ack: returned to the caller before its commit
	at        time.Time // push: when Push was called
	applied   bool      // push: committed and applied (under d.mu)
	started   bool      // new pass: a pass was started

	pushed []string  // push: host of each entry
	moved  []string  // promote: host of each entry queued again
	next   time.Time // promote: earliest remaining retry time
}

// weight is what o counts against Config.MaxBatch: one per entry pushed,
// one for anything else.
func (o *op) weight() int { return max(1, len(o.entries)) }

type hostDelta struct{ queued, delayed int64 }

// commitLoop is the committer: it gathers ops into batches, commits each in
// one transaction, then applies their effects to the in-RAM schedule and
// releases the callers. It drains d.ops when Close closes d.quit.
func (d *Disk) commitLoop(seq uint64) {
	defer close(d.committed)
	batch := make([]*op, 0, d.cfg.MaxBatch)
	for {
		first := d.carry
		d.carry = nil
		if first == nil {
			select {
			case first = <-d.ops:
			case <-d.quit:
				d.drain(batch, seq)
				return
			default:
				// Idle: merge the seen log meanwhile, or wait.
				if d.mergePending() {
					d.mergeStep()
					continue
				}
				select {
				case first = <-d.ops:
				case <-d.quit:
					d.drain(batch, seq)
					return
				}
			}
		}
		batch = append(batch[:0], first)
		weight := first.weight()
		var deadline <-chan time.Time
		var timer *time.Timer
		if d.cfg.CommitInterval > 0 {
			timer = time.NewTimer(d.cfg.CommitInterval)
			deadline = timer.C
		}
	gather:
		for weight < d.cfg.MaxBatch {
			if deadline == nil {
				select {
				case o := <-d.ops:
					batch = append(batch, o)
					weight += o.weight()
				default:
					break gather
				}
				continue
			}
			select {
			case o := <-d.ops:
				batch = append(batch, o)
				weight += o.weight()
			case <-deadline:
				break gather
			case <-d.hurry:
				break gather
			case <-d.quit:
				break gather
			}
		}
		if timer != nil {
			timer.Stop()
		}
		seq = d.commitOps(batch, seq)
		clear(batch)
		batch = batch[:0]
		// Busy: one merge chunk per commit.
		if d.mergePending() {
			d.mergeStep()
		}
	}
}

// drain commits what is left in d.ops when Close has closed d.quit. A merge
// under way is left for the next Open: its fingerprints are still in the
// seen log.
func (d *Disk) drain(batch []*op, seq uint64) {
	for {
		if d.carry != nil {
			batch = append(batch, d.carry)
			d.carry = nil
		}
		select {
		case o := <-d.ops:
			batch = append(batch, o)
			if len(batch) >= d.cfg.MaxBatch {
				seq = d.commitOps(batch, seq)
				batch = batch[:0]
			}
			continue
		default:
		}
		if len(batch) == 0 {
			return
		}
		// A commit may take in late ops, or carry a NewPass: look again.
		seq = d.commitOps(batch, seq)
		batch = batch[:0]
	}
}

// mergePending reports whether the seen log has merge work to do. Called by
// the committer.
func (d *Disk) mergePending() bool {
	if d.merge.fps == nil && d.merge.logged < d.cfg.SeenLog {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.failed == nil
}

// commitOps commits batch in order: each NewPass in it on its own, the ops
// between them as one transaction each. It returns the new last sequence
// number.
func (d *Disk) commitOps(batch []*op, seq uint64) uint64 {
	start := 0
	for i, o := range batch {
		if o.kind != opNewPass {
			continue
		}
		if i > start {
			seq = d.commit(batch[start:i], seq)
		}
		d.newPass(o)
		start = i + 1
	}
	if start < len(batch) {
		seq = d.commit(batch[start:], seq)
	}
	return seq
}

// newPass starts a new pass when the crawl is finished (see NewPass).
// Called by the committer, so that no commit or merge runs meanwhile; it
// holds pushMu throughout, so that no Push deduplicates against the seen
// set being forgotten.
func (d *Disk) newPass(o *op) {
	d.pushMu.Lock()
	defer d.pushMu.Unlock()
	d.mu.Lock()
	err := d.failed
	// With pushMu held, no Push can add to pendingN or seen; with nothing
	// leased or delayed, nothing else changes these counts.
	finished := d.queued == 0 && d.pendingN == 0 && d.delayed == 0 && d.leased == 0 && d.ackQueued == 0 && d.seen > 0
	d.mu.Unlock()
	if err != nil || !finished {
		o.done <- err
		return
	}
	started := d.now()
	err = d.update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketSeen, bucketLog} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Delete(keyAcked); err != nil {
			return err
		}
		if err := meta.Put(keyPass, u64(uint64(started.UnixNano()))); err != nil {
			return err
		}
		return meta.Put(keySeen, u64(0))
	})
	if err != nil {
		o.done <- d.fail(err)
		return
	}
	d.trimmer.Check()
	d.unmerged = make(map[uint64]struct{})
	d.cache.reset()
	d.merge = merger{}
	d.mu.Lock()
	d.seen, d.acked = 0, 0
	d.passStarted = started
	d.mu.Unlock()
	o.started = true
	o.done <- nil
}

// commit writes one batch and applies it. It returns the new last sequence
// number.
func (d *Disk) commit(batch []*op, seq uint64) uint64 {
	d.mu.Lock()
	failed := d.failed
	d.mu.Unlock()
	if failed != nil {
		for _, o := range batch {
			if o.done != nil {
				o.done <- failed
			}
		}
		return seq
	}
	newSeq := seq
	err := d.update(func(tx *bolt.Tx) error {
		var err error
		if batch, err = d.beforeCommit(tx, batch); err != nil {
			return err
		}
		newSeq = seq
		meta := tx.Bucket(bucketMeta)
		seenLog := tx.Bucket(bucketLog)
		var logged []byte // fingerprints pushed by this commit
		queue := tx.Bucket(bucketQueue)
		// Queue keys are appended at the end of each host's run: split
		// pages unevenly so that they stay full.
		queue.FillPercent = 0.9
		delay := tx.Bucket(bucketDelay)
		hosts := tx.Bucket(bucketHosts)
		state := tx.Bucket(bucketState)
		seenN := binary.BigEndian.Uint64(meta.Get(keySeen))
		var ackedN uint64
		if av := meta.Get(keyAcked); len(av) == 8 {
			ackedN = binary.BigEndian.Uint64(av)
		}
		acks := 0
		deltas := make(map[string]*hostDelta)
		delta := func(h string) *hostDelta {
			hd := deltas[h]
			if hd == nil {
				hd = &hostDelta{}
				deltas[h] = hd
			}
			return hd
		}
		// bbolt keeps the key and value slices until the commit: every Put
		// gets its own.
		for _, o := range batch {
			o.moved = o.moved[:0]
			switch o.kind {
			case opPush:
				for i, e := range o.entries {
					logged = binary.BigEndian.AppendUint64(logged, o.fps[i])
					newSeq++
					if err := queue.Put(queueKey(o.pushed[i], newSeq), encodeEntry(nil, e, 0)); err != nil {
						return err
					}
					delta(o.pushed[i]).queued++
					seenN++
				}
			case opAck:
				ls := o.lease
				if err := queue.Delete(queueKey(ls.h.name, ls.seq)); err != nil {
					return err
				}
				delta(ls.h.name).queued--
				acks++
			case opRetry:
				ls := o.lease
				if err := queue.Delete(queueKey(ls.h.name, ls.seq)); err != nil {
					return err
				}
				newSeq++
				buf := encodeEntry(nil, ls.entry, ls.attempt+1)
				if err := delay.Put(delayKey(o.notBefore, newSeq), buf); err != nil {
					return err
				}
				hd := delta(ls.h.name)
				hd.queued--
				hd.delayed++
			case opPromote:
				c := delay.Cursor()
				var keys [][]byte
				var vals [][]byte
				for k, v := c.First(); k != nil && len(keys) < d.cfg.MaxBatch; k, v = c.Next() {
					if len(k) != 16 {
						return fmt.Errorf("%w: %s: retry key", ErrCorrupt, d.dir)
					}
					if int64(binary.BigEndian.Uint64(k)) > o.notBefore.UnixNano() {
						break
					}
					keys = append(keys, append([]byte(nil), k...))
					vals = append(vals, append([]byte(nil), v...))
				}
				for i, k := range keys {
					e, _, err := decodeEntry(vals[i])
					if err != nil {
						return fmt.Errorf("%w: %s: retry entry: %v", ErrCorrupt, d.dir, err)
					}
					if err := delay.Delete(k); err != nil {
						return err
					}
					h := frontier.HostKey(e.URL)
					newSeq++
					if err := queue.Put(queueKey(h, newSeq), vals[i]); err != nil {
						return err
					}
					hd := delta(h)
					hd.queued++
					hd.delayed--
					o.moved = append(o.moved, h)
				}
				o.next = time.Time{}
				if k, _ := delay.Cursor().First(); k != nil {
					o.next = time.Unix(0, int64(binary.BigEndian.Uint64(k)))
				}
			case opState:
				if err := state.Put([]byte(o.key), o.value); err != nil {
					return err
				}
			}
		}
		for name, hd := range deltas {
			if hd.queued == 0 && hd.delayed == 0 {
				continue
			}
			var q, dl uint64
			if v := hosts.Get([]byte(name)); v != nil {
				var n int
				q, n = binary.Uvarint(v)
				if n > 0 {
					dl, _ = binary.Uvarint(v[n:])
				}
			}
			nq, nd := int64(q)+hd.queued, int64(dl)+hd.delayed
			if nq < 0 || nd < 0 {
				return fmt.Errorf("%w: %s: counters of host %q below zero", ErrCorrupt, d.dir, name)
			}
			if nq == 0 && nd == 0 {
				if err := hosts.Delete([]byte(name)); err != nil {
					return err
				}
				continue
			}
			v := binary.AppendUvarint(nil, uint64(nq))
			v = binary.AppendUvarint(v, uint64(nd))
			if err := hosts.Put([]byte(name), v); err != nil {
				return err
			}
		}
		if err := meta.Put(keySeq, u64(newSeq)); err != nil {
			return err
		}
		if len(logged) > 0 {
			// Keyed by the last sequence number used: unique, and in
			// commit order.
			if err := seenLog.Put(u64(newSeq), logged); err != nil {
				return err
			}
		}
		if acks > 0 {
			if err := meta.Put(keyAcked, u64(ackedN+uint64(acks))); err != nil {
				return err
			}
		}
		return meta.Put(keySeen, u64(seenN))
	})
	if err != nil {
		err = d.fail(err)
		d.mu.Lock()
		for _, o := range batch {
			if o.kind == opPromote {
				d.promoting = false
			}
		}
		d.mu.Unlock()
		for _, o := range batch {
			if o.done != nil {
				o.done <- err
			}
		}
		return seq
	}
	// The commit mapped every page it read or replaced (bbolt reads through
	// its memory map, also to free the pages it replaces): give them back
	// once about TrimEvery of them may be mapped (counting two pages an
	// operation), or 50 ms have passed. Trimming after every commit cost
	// two system calls a commit: 6% of a recrawl pass of 304s.
	d.trimmer.Committed(int64(len(batch)) * 2 * pageSize)
	// The pushed fingerprints are in the seen log now; they stay in
	// d.unmerged until a merge puts them in the seen set.
	for _, o := range batch {
		d.merge.logged += len(o.fps)
	}
	d.mu.Lock()
	now := d.now()
	for _, o := range batch {
		switch o.kind {
		case opPush:
			for _, name := range o.pushed {
				h := d.host(name)
				h.pending--
				d.pendingN--
				h.queued++
				d.queued++
				// Ready since the push, not since the commit.
				d.reschedule(h, o.at)
			}
			o.applied = true
			// pushWait may keep o a while: keep only what it reads.
			o.entries, o.fps, o.pushed = nil, nil, nil
		case opAck:
			// Released by Ack already.
			d.ackQueued--
			if o.async {
				d.unacked--
			}
		case opRetry:
			h := o.lease.h
			h.delayed++
			d.delayed++
			if d.nextDue.IsZero() || o.notBefore.Before(d.nextDue) {
				d.nextDue = o.notBefore
			}
			d.release(o.lease, now)
		case opPromote:
			for _, name := range o.moved {
				h := d.host(name)
				h.delayed--
				d.delayed--
				h.queued++
				d.queued++
				d.reschedule(h, now)
			}
			d.nextDue = o.next
			d.promoting = false
		}
	}
	d.prunePushWait()
	d.broadcast()
	d.mu.Unlock()
	for _, o := range batch {
		if o.done != nil {
			o.done <- nil
		}
	}
	return newSeq
}

// beforeCommit calls Config.BeforeCommit for a batch that acknowledges
// leases, and returns the batch with the ops its gather took in. It runs
// inside the commit's transaction, so that an error rolls the commit back.
//
// gather is what lines the hook's output up with the commit: a caller
// writes its output for a lease before it sends the Ack, so when the hook
// calls gather under the lock that orders its writes and writes its buffer
// out after, every Ack taken in has its output written out, and what is
// written out belongs to leases whose Ack is in the batch or was not yet
// sent — at most one per caller, whose next output waits for the lock.
// Only the committer receives from d.ops, so the len(d.ops) queued ones
// are there to take; they are few (pushes wait once maxPendingBatches are
// pending; acks beyond AckWindow wait), and a NewPass among them is carried
// to the next batch, as it needs a commit of its own.
func (d *Disk) beforeCommit(tx *bolt.Tx, batch []*op) ([]*op, error) {
	if d.cfg.BeforeCommit == nil || !slices.ContainsFunc(batch, func(o *op) bool { return o.kind == opAck }) {
		return batch, nil
	}
	gathered := false
	gather := func() {
		if gathered {
			return
		}
		gathered = true
		// batch may be part of the committer's (commitOps passes the ops
		// before a NewPass): cap it so that appending copies it rather
		// than overwriting the ops after it.
		batch = batch[:len(batch):len(batch)]
		for n := len(d.ops); n > 0 && d.carry == nil; n-- {
			o := <-d.ops
			if o.kind == opNewPass {
				d.carry = o
				break
			}
			batch = append(batch, o)
		}
	}
	state := tx.Bucket(bucketState)
	save := func(key string, value []byte) error {
		if key == "" {
			return errors.New("frontier/disk: empty state key")
		}
		return state.Put([]byte(key), append([]byte(nil), value...))
	}
	if err := d.cfg.BeforeCommit(gather, save); err != nil {
		return batch, fmt.Errorf("before commit: %w", err)
	}
	return batch, nil
}

// promote moves the retries that are due to the end of their hosts'
// queues. Started by Next with d.promoting set.
func (d *Disk) promote(now time.Time) {
	o := &op{kind: opPromote, notBefore: now, done: make(chan error, 1)}
	select {
	case d.ops <- o:
	case <-d.quit:
		return
	}
	select {
	case <-o.done:
	case <-d.committed:
	}
}

// fail makes the error of a commit sticky: every later call returns it. It
// returns the error as callers see it.
func (d *Disk) fail(err error) error {
	if !errors.Is(err, ErrCorrupt) {
		err = fmt.Errorf("frontier/disk: commit: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failed == nil {
		d.failed = err
	}
	d.broadcast()
	return err
}
