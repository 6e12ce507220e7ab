// Package disk is a persistent recrawl.Store kept in one bbolt file (the
// CLI puts it at <state dir>/pages.db, beside the frontier's frontier.db).
//
// Each page is one key, its URL, whose value is the page's encoding
// (recrawl.Page.AppendBinary). Saves and deletes are group-committed by one
// committer goroutine: a call hands its write to the committer and waits;
// the committer writes every write waiting at that moment in one
// transaction and then wakes their callers. So concurrent crawl workers
// share transactions (one per batch, not one per page), and a Save that
// returned is durable:
//
//   - without Config.Sync, once written to the OS: it survives the process
//     being killed (kill -9, an OOM kill, a crash of trawl), not a power
//     loss or kernel crash;
//   - with Config.Sync, once fsynced.
//
// Load and Range read in their own read transactions; Range reads in
// chunks and calls its function outside of any transaction, so a long Range
// holds up neither writers nor the file's growth.
//
// The file's pages are kept out of the process's resident set as they are
// read and written (internal/bolttrim, as frontier/disk does): a store of
// millions of pages stays in the page cache, not in the crawl's memory.
//
// A damaged file is reported as an error wrapping ErrCorrupt, never a
// panic; a file held by another process as ErrLocked.
package disk

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/trawlhq/trawl/crawler/recrawl"
	"github.com/trawlhq/trawl/internal/boltfile"
	"github.com/trawlhq/trawl/internal/bolttrim"
	"github.com/trawlhq/trawl/internal/groupcommit"
)

// Errors for a file that cannot be used. Callers branch on them with
// errors.Is; the error returned reads "recrawl/disk: PATH: " followed by
// the sentinel's text and the cause.
var (
	// ErrLocked means another process has the file open.
	ErrLocked = errors.New("locked by another process")
	// ErrCorrupt means the file is damaged: not readable as a bbolt file,
	// or a record in it does not decode.
	ErrCorrupt = errors.New("corrupt page store")
	// ErrForeign means the file is a bbolt file of another kind (the
	// frontier's frontier.db, say). Open does not modify it.
	ErrForeign = errors.New("not a trawl page store")
	// ErrIncompatible means the file was written by a trawl with another
	// format of this store.
	ErrIncompatible = errors.New("incompatible page store format")
)

// FormatVersion is the format of the file this package writes and reads.
const FormatVersion = 1

// Defaults for zero Config fields.
const (
	// DefaultLockTimeout is how long Open waits for another process to
	// close the file before failing with ErrLocked.
	DefaultLockTimeout = time.Second
	// DefaultMaxBatch is the most writes committed in one transaction.
	DefaultMaxBatch = 512
)

// rangeChunk is how many pages Range reads in one read transaction.
const rangeChunk = 1024

// File layout: two buckets.
//
//	meta   "magic" -> "trawl-pages"; "format" -> uint32 FormatVersion;
//	       "pages" -> uint64 number of pages
//	pages  URL -> recrawl.Page.AppendBinary (the page without its URL)
var (
	bucketMeta  = []byte("meta")
	bucketPages = []byte("pages")
	keyMagic    = []byte("magic")
	keyFormat   = []byte("format")
	keyCount    = []byte("pages")
	magic       = []byte("trawl-pages")
)

// Config configures a Store. The zero value is usable.
type Config struct {
	// Sync fsyncs the file after each commit, so that a Save that returned
	// survives a power loss or an OS crash. False: a commit is written to
	// the OS, not fsynced; it survives the process being killed.
	Sync bool
	// LockTimeout is how long Open waits for a file another process has
	// open. Zero means DefaultLockTimeout; negative means fail at once.
	LockTimeout time.Duration
	// MaxBatch is the most writes (saves and deletes) committed in one
	// transaction. Zero means DefaultMaxBatch.
	MaxBatch int
	// TrimEvery is how many bytes of file pages the process may keep
	// resident (shared with a frontier/disk of the same process) before
	// the file's memory map is released to the page cache (Linux; the
	// kernel keeps the pages cached). Zero means 32 MiB; negative means
	// never trim.
	TrimEvery int64
}

// Store is a recrawl.Store in a bbolt file. It is safe for concurrent use.
// Only one Store (in one process) may have a file open.
type Store struct {
	path     string
	db       *bolt.DB
	maxBatch int

	ops       chan *op
	quit      chan struct{} // closed by Close: the committer drains and returns
	committed chan struct{} // closed when the committer has returned
	closeOnce sync.Once
	closeErr  error

	mu     sync.Mutex
	closed bool
	failed error // sticky: the file proved damaged

	trimmer bolttrim.Trimmer // keeps the file's map out of the resident set

	count   atomic.Int64 // pages in the file, as committed
	commits atomic.Int64 // transactions committed (for tests and benchmarks)
}

var _ recrawl.Store = (*Store)(nil)

// op is one write for the committer.
type op struct {
	key   []byte
	value []byte // nil: delete
	done  chan error
}

// Open opens the page store at path, creating the file when it does not
// exist (its directory must). It fails with an error wrapping ErrLocked,
// ErrCorrupt, ErrForeign or ErrIncompatible when the file cannot be used,
// and never modifies a file it refuses.
func Open(path string, cfg Config) (*Store, error) {
	if path == "" {
		return nil, errors.New("recrawl/disk: empty path")
	}
	timeout := cfg.LockTimeout
	switch {
	case timeout == 0:
		timeout = DefaultLockTimeout
	case timeout < 0:
		timeout = time.Nanosecond
	}
	db, err := boltfile.Open(path, timeout)
	if err != nil {
		switch {
		case errors.Is(err, berrors.ErrTimeout):
			return nil, fmt.Errorf("recrawl/disk: %s: %w", path, ErrLocked)
		case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum),
			errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, boltfile.ErrPanic):
			return nil, fmt.Errorf("recrawl/disk: %s: %w: %v", path, ErrCorrupt, err)
		}
		return nil, fmt.Errorf("recrawl/disk: %s: %w", path, err)
	}
	db.NoSync = !cfg.Sync
	s := &Store{
		path:      path,
		db:        db,
		maxBatch:  cfg.MaxBatch,
		ops:       make(chan *op, 256),
		quit:      make(chan struct{}),
		committed: make(chan struct{}),
	}
	if s.maxBatch <= 0 {
		s.maxBatch = DefaultMaxBatch
	}
	s.trimmer.DB, s.trimmer.Every = db, cfg.TrimEvery
	if s.trimmer.Every == 0 {
		s.trimmer.Every = bolttrim.DefaultEvery
	}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	go s.commitLoop()
	return s, nil
}

// corrupt wraps a cause as the error of a damaged file.
func (s *Store) corrupt(format string, args ...any) error {
	return fmt.Errorf("recrawl/disk: %s: %w: %s", s.path, ErrCorrupt, fmt.Sprintf(format, args...))
}

// view runs fn in a read transaction; a panic of bbolt (a damaged page)
// becomes ErrCorrupt. So does a memory fault: bbolt reads the file through
// a memory map, and a page number beyond the end of a file cut short
// faults (SIGBUS), which SetPanicOnFault turns into a panic.
func (s *Store) view(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = s.corrupt("%v", r)
		}
	}()
	err = s.db.View(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		err = recrawl.ErrClosed // closed since the caller checked
	}
	return err
}

// update runs fn in a write transaction; a panic becomes ErrCorrupt.
func (s *Store) update(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = s.corrupt("%v", r)
		}
	}()
	return s.db.Update(fn)
}

// init checks the file's identity and format, or initialises an empty one.
func (s *Store) init() error {
	fresh := false
	err := s.view(func(tx *bolt.Tx) error {
		// A file cut short (a copy, a full disk): bbolt would read pages
		// past its end.
		fi, err := os.Stat(s.path)
		if err != nil {
			return fmt.Errorf("recrawl/disk: %s: %w", s.path, err)
		}
		if tx.Size() > fi.Size() {
			return s.corrupt("the file is %d bytes, its header says %d: cut short", fi.Size(), tx.Size())
		}
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			empty := true
			_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
			if !empty {
				return fmt.Errorf("recrawl/disk: %s: %w: a bbolt file of another kind", s.path, ErrForeign)
			}
			fresh = true
			return nil
		}
		if !bytes.Equal(meta.Get(keyMagic), magic) {
			return fmt.Errorf("recrawl/disk: %s: %w: a bbolt file of another kind", s.path, ErrForeign)
		}
		v := meta.Get(keyFormat)
		if len(v) != 4 {
			return s.corrupt("format version missing")
		}
		if f := binary.BigEndian.Uint32(v); f != FormatVersion {
			return fmt.Errorf("recrawl/disk: %s: %w: format %d, this trawl reads format %d", s.path, ErrIncompatible, f, FormatVersion)
		}
		if tx.Bucket(bucketPages) == nil {
			return s.corrupt("bucket %q missing", bucketPages)
		}
		c := meta.Get(keyCount)
		if len(c) != 8 {
			return s.corrupt("page count missing")
		}
		s.count.Store(int64(binary.BigEndian.Uint64(c)))
		return nil
	})
	if err != nil || !fresh {
		return err
	}
	err = s.update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bucketPages); err != nil {
			return err
		}
		if err := meta.Put(keyMagic, magic); err != nil {
			return err
		}
		if err := meta.Put(keyFormat, binary.BigEndian.AppendUint32(nil, FormatVersion)); err != nil {
			return err
		}
		return meta.Put(keyCount, binary.BigEndian.AppendUint64(nil, 0))
	})
	if err != nil {
		return fmt.Errorf("recrawl/disk: %s: initialise: %w", s.path, err)
	}
	return nil
}

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// Len returns the number of pages in the store, as committed. It
// implements recrawl.Lener.
func (s *Store) Len(context.Context) (int64, error) {
	if err := s.usable(); err != nil {
		return 0, err
	}
	return s.count.Load(), nil
}

// usable returns the error every call returns after Close or once the file
// proved damaged.
func (s *Store) usable() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return recrawl.ErrClosed
	}
	return s.failed
}

// Load implements recrawl.Store. A record that does not decode is an error
// wrapping ErrCorrupt that names the URL.
func (s *Store) Load(ctx context.Context, url string) (*recrawl.Page, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	var p *recrawl.Page
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketPages).Get([]byte(url))
		s.trimmer.Touched(tx, 4096)
		if v == nil {
			return nil
		}
		p = &recrawl.Page{URL: url}
		if err := p.UnmarshalBinary(v); err != nil {
			p = nil
			return s.corrupt("page %q: %v", url, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Save implements recrawl.Store: it returns once p is committed (see the
// package comment for what survives what). A page that cannot be stored (a
// URL longer than bbolt's key limit of 32 KiB, a page beyond the encoding's
// limits) is an error, and nothing is written.
func (s *Store) Save(ctx context.Context, p *recrawl.Page) error {
	if err := s.checkKey(p.URL); err != nil {
		return err
	}
	v, err := p.AppendBinary(nil)
	if err != nil {
		return err
	}
	if len(v) > bolt.MaxValueSize {
		return fmt.Errorf("recrawl/disk: save %s: record of %d bytes, more than %d", p.URL, len(v), bolt.MaxValueSize)
	}
	return s.submit(ctx, &op{key: []byte(p.URL), value: v})
}

// Delete implements recrawl.Store: it returns once the deletion is
// committed.
func (s *Store) Delete(ctx context.Context, url string) error {
	if url == "" || len(url) > bolt.MaxKeySize {
		return s.usable() // never stored
	}
	return s.submit(ctx, &op{key: []byte(url)})
}

func (s *Store) checkKey(url string) error {
	if url == "" {
		return errors.New("recrawl/disk: save: empty URL")
	}
	if len(url) > bolt.MaxKeySize {
		return fmt.Errorf("recrawl/disk: save: URL of %d bytes, more than %d", len(url), bolt.MaxKeySize)
	}
	return nil
}

// Range implements recrawl.Store. It reads the pages in URL order, in
// chunks of a read transaction each, and calls fn outside the
// transactions (fn may Save, Delete or Load). A record whose depth does
// not decode is an error wrapping ErrCorrupt that names the URL.
func (s *Store) Range(ctx context.Context, fn func(url string, depth int) error) error {
	type rec struct {
		url   string
		depth int
	}
	var (
		buf   = make([]rec, 0, rangeChunk)
		after []byte // last key of the previous chunk
	)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.usable(); err != nil {
			return err
		}
		buf = buf[:0]
		more := false
		err := s.view(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketPages).Cursor()
			var k, v []byte
			if after == nil {
				k, v = c.First()
			} else {
				k, v = c.Seek(after)
				if k != nil && bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for ; k != nil; k, v = c.Next() {
				if len(buf) == rangeChunk {
					more = true
					break
				}
				d, err := recrawl.DecodeDepth(v)
				if err != nil {
					return s.corrupt("page %q: %v", k, err)
				}
				buf = append(buf, rec{string(k), d})
				s.trimmer.Touched(tx, int64(len(k)+len(v)))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range buf {
			if err := fn(r.url, r.depth); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
		after = []byte(buf[len(buf)-1].url)
	}
}

// Close commits the writes already handed to the committer, waits for it to
// exit and closes the file. Later calls return recrawl.ErrClosed. Close is
// idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.quit)
		<-s.committed
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

// submit hands o to the committer and waits for its commit.
func (s *Store) submit(ctx context.Context, o *op) error {
	if err := s.usable(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	o.done = make(chan error, 1)
	select {
	case s.ops <- o:
	case <-s.quit:
		return recrawl.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return groupcommit.Wait(ctx, o.done, s.committed, recrawl.ErrClosed)
}

// commitLoop is the committer: it takes every write waiting, up to
// maxBatch, commits them in one transaction and wakes their callers. It
// drains s.ops when Close closes s.quit.
func (s *Store) commitLoop() {
	defer close(s.committed)
	batch := make([]*op, 0, s.maxBatch)
	for {
		select {
		case o := <-s.ops:
			batch = append(batch[:0], o)
		case <-s.quit:
			s.drain(batch[:0])
			return
		}
		// Group commit: whatever queued up while the previous batch was
		// committing goes into this one, without waiting for more. One
		// yield first lets savers already running hand in their writes:
		// on a busy machine it turns batches of one or two into batches
		// of most of the savers, for no added latency when none runs.
		runtime.Gosched()
	gather:
		for len(batch) < s.maxBatch {
			select {
			case o := <-s.ops:
				batch = append(batch, o)
			default:
				break gather
			}
		}
		s.commit(batch)
		clear(batch)
	}
}

// drain commits what is left in s.ops once Close has closed s.quit.
func (s *Store) drain(batch []*op) {
	for {
		select {
		case o := <-s.ops:
			batch = append(batch, o)
			if len(batch) == s.maxBatch {
				s.commit(batch)
				batch = batch[:0]
			}
			continue
		default:
		}
		break
	}
	if len(batch) > 0 {
		s.commit(batch)
	}
}

// commit writes one batch in one transaction and wakes its callers. Writes
// to the same URL keep their order (the last one wins).
func (s *Store) commit(batch []*op) {
	err := s.usable()
	if err != nil && !errors.Is(err, recrawl.ErrClosed) {
		s.finish(batch, err)
		return
	}
	// Keys in order: the B+tree is walked once, left to right.
	sort.SliceStable(batch, func(i, j int) bool { return bytes.Compare(batch[i].key, batch[j].key) < 0 })
	var n int64
	err = s.update(func(tx *bolt.Tx) error {
		n = 0
		pages := tx.Bucket(bucketPages)
		meta := tx.Bucket(bucketMeta)
		c := meta.Get(keyCount)
		if len(c) != 8 {
			return s.corrupt("page count missing")
		}
		count := int64(binary.BigEndian.Uint64(c))
		for _, o := range batch {
			had := pages.Get(o.key) != nil
			switch {
			case o.value != nil:
				if err := pages.Put(o.key, o.value); err != nil {
					return err
				}
				if !had {
					count++
				}
			case had:
				if err := pages.Delete(o.key); err != nil {
					return err
				}
				count--
			}
		}
		n = count
		return meta.Put(keyCount, binary.BigEndian.AppendUint64(nil, uint64(max(count, 0))))
	})
	if err != nil {
		if errors.Is(err, ErrCorrupt) {
			s.mu.Lock()
			if s.failed == nil {
				s.failed = err
			}
			s.mu.Unlock()
		} else {
			err = fmt.Errorf("recrawl/disk: %s: commit: %w", s.path, err)
		}
		s.finish(batch, err)
		return
	}
	s.count.Store(n)
	s.commits.Add(1)
	s.finish(batch, nil)
	var written int64
	for _, o := range batch {
		written += int64(len(o.key) + len(o.value))
	}
	s.trimmer.Committed(written)
}

func (s *Store) finish(batch []*op, err error) {
	for _, o := range batch {
		o.done <- err
	}
}
