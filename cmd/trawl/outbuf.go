package main

import (
	"errors"
	"io"
	"os"
	"sync"
	"time"
)

// Output buffering. Writing each record in a system call of its own cost
// 5% of a recrawl pass of 304s, so records gather in an outBuffer and go
// to the file in one write: when outBufferSize is reached, every
// outFlushEvery, at the end, and, with --state, before every commit that
// marks pages done (disk.Config.BeforeCommit). A record is thus in the
// file before its page counts as done, as when each was written at once: a
// kill loses no page, and fetches again at most those in progress. When the
// records go to a file, each such commit also saves where the file ends, and
// a resumed run cuts off what lies beyond (records of pages not marked done,
// fetched again): then Ack need not wait for the commit (openDiskFrontier). A Redis
// crawl settles its pages in Redis, with no commit to hook: its records
// are written one by one, as before.
const (
	outBufferSize = 64 << 10
	outFlushEvery = time.Second
)

// outBuffer buffers whole records (one Write call each, as the pipeline's
// exporters make them) for w. It is safe for concurrent use. An error of w
// is sticky: every later Write and Flush returns it.
type outBuffer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
	err error

	// file, when set, is the records file under w (path is its absolute
	// path) and end where it ends after the last write out: commit
	// reports it, also once the file is closed. sync makes commit fsync
	// the file (--state-sync: the records are on disk before the commit
	// that marks their pages done).
	file   *os.File
	path   string
	end    int64
	sync   bool
	synced bool // nothing written since the last fsync

	stop chan struct{}
	done chan struct{}
}

// newOutBuffer returns a buffer for w that writes itself out every
// outFlushEvery until Close.
func newOutBuffer(w io.Writer) *outBuffer {
	b := &outBuffer{w: w, buf: make([]byte, 0, outBufferSize), stop: make(chan struct{}), done: make(chan struct{})}
	go b.flusher()
	return b
}

func (b *outBuffer) flusher() {
	defer close(b.done)
	every(outFlushEvery, b.stop, func() bool {
		_ = b.Flush() // an error is sticky: the next record's Write returns it
		return true
	})
}

// every calls fn every d until stop is closed or fn returns false (the
// background flushes and saves of a crawl).
func every(d time.Duration, stop <-chan struct{}, fn func() bool) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if !fn() {
				return
			}
		}
	}
}

// Write buffers p, writing the buffer out first when p would overflow it.
func (b *outBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return 0, b.err
	}
	if len(b.buf)+len(p) > outBufferSize {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > outBufferSize {
			if _, err := b.w.Write(p); err != nil {
				b.err = err
				return 0, err
			}
			return len(p), nil
		}
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// Flush writes out what is buffered.
func (b *outBuffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked()
}

func (b *outBuffer) flushLocked() error {
	if b.err != nil {
		return b.err
	}
	if len(b.buf) == 0 {
		return nil
	}
	n, err := b.w.Write(b.buf)
	if err == nil && n < len(b.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		b.err = err
		return err
	}
	b.buf = b.buf[:0]
	b.synced = false
	if b.file != nil {
		if b.end, err = b.file.Seek(0, io.SeekCurrent); err != nil {
			b.err = err
			return err
		}
	}
	return nil
}

// setFile notes that w writes to the regular file f, at path, for
// commit, which fsyncs it when sync is set.
func (b *outBuffer) setFile(f *os.File, path string, sync bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	end, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	b.file, b.path, b.end, b.sync = f, path, end, sync
	return nil
}

// commit is a commit's write out (lateFlush): holding the lock every Write
// takes, it calls gather (disk.Config.BeforeCommit's: the acknowledgements
// sent so far join the commit, and their records are buffered), then
// before (the WARC records), then writes out what is buffered, and returns
// where the records file ends then; ok is false when the records do not
// go to a file.
func (b *outBuffer) commit(gather func(), before func() error) (end int64, ok bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	gather()
	if before != nil {
		if err := before(); err != nil {
			return 0, false, err
		}
	}
	if err := b.flushLocked(); err != nil {
		return 0, false, err
	}
	if b.file == nil {
		return 0, false, nil
	}
	if b.sync && !b.synced {
		if err := b.file.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
			b.err = err
			return 0, false, err
		}
		b.synced = true
	}
	return b.end, true, nil
}

// Close stops the periodic flushes and writes out what is buffered (and
// fsyncs the records file when sync is set); it does not close w.
func (b *outBuffer) Close() error {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	<-b.done
	// With sync, the last records are fsynced too: the commits that mark
	// their pages done come after the file is closed.
	_, _, err := b.commit(func() {}, nil)
	return err
}

// lateFlush is a BeforeCommit for the state directory, which is opened
// before the output: it flushes the outBuffer set later, if any.
type lateFlush struct {
	mu  sync.Mutex
	out *outBuffer
	arc *archive
}

func (l *lateFlush) set(b *outBuffer) {
	l.mu.Lock()
	l.out = b
	l.mu.Unlock()
}

// setArchive adds the WARC records buffered (--warc with --state).
func (l *lateFlush) setArchive(a *archive) {
	l.mu.Lock()
	l.arc = a
	l.mu.Unlock()
}

// flush is the disk.Config.BeforeCommit: it writes out the WARC records
// and the records buffered, for the acknowledgements the commit gathers,
// and saves where the records file ends (when there is one) in the commit.
func (l *lateFlush) flush(gather func(), save func(string, []byte) error) error {
	l.mu.Lock()
	b, a := l.out, l.arc
	l.mu.Unlock()
	var arcCommit func() error
	if a != nil {
		arcCommit = a.commit
	}
	if b == nil {
		gather()
		if arcCommit != nil {
			return arcCommit()
		}
		return nil
	}
	end, ok, err := b.commit(gather, arcCommit)
	if err != nil || !ok {
		return err
	}
	return saveOutputEnd(save, b.path, end)
}
