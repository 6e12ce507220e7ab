package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/disk"
	"github.com/trawlhq/trawl/session"
)

// Keys of what the CLI keeps in the state directory besides the frontier.
const (
	stateCookies = "cookies"    // the session's cookie jar (session.ExportCookies)
	stateRuns    = "cli/runs"   // JSON runsState: what earlier runs did
	stateOutput  = "cli/output" // JSON outputEnd: where the records file ends at the last commit
	cookieSaving = 5 * time.Second
)

// addStateFlags registers the flag of a resumable crawl.
func addStateFlags(fs *pflag.FlagSet, c *Config) {
	fs.StringVar(&c.State, "state", c.State, "keep the crawl's queue, seen URLs and cookies in `DIR`: rerun the same command to resume after a stop or a crash")
	fs.BoolVar(&c.StateSync, "state-sync", c.StateSync, "fsync the --state directory (and the -o file) at every commit, so they also survive a power loss or OS crash (slower)")
}

// validateState checks the state key.
func (c *Config) validateState() error {
	if c.State != "" && c.Redis != "" {
		return invalid("state", "cannot be used with redis: a Redis crawl keeps its state in Redis")
	}
	if c.StateSync && c.State == "" {
		return invalid("state_sync", "needs state (--state DIR)")
	}
	return nil
}

// openDiskFrontier opens (or creates) the --state directory. A directory
// that is not a usable trawl state (foreign, corrupt, from another version)
// is a usage error (exit 2); one locked by a running trawl is exit 1.
// beforeCommit (disk.Config.BeforeCommit) writes out the records buffered
// for the pages a commit marks done.
func openDiskFrontier(cfg *Config, beforeCommit func(gather func(), save func(string, []byte) error) error) (frontier.Frontier, func() error, error) {
	dc := disk.Config{
		Policy: hostPolicy(cfg),
		// A worker's Ack returns once the page is recorded as done, so a
		// kill fetches again only the pages in progress (at most
		// --workers).
		CommitInterval: stateCommitInterval,
		// What is committed is in the OS: it survives kill -9, an OOM kill
		// or a crash of trawl. --state-sync adds an fsync per commit for
		// power losses and OS crashes.
		NoSync:       !cfg.StateSync,
		BeforeCommit: beforeCommit,
	}
	if beforeCommit != nil && outputCutBack(cfg) {
		// ... unless the records file can be cut back to where it ended
		// at the last commit (resume.openOutput): then what a worker
		// wrote for a page whose Ack was not committed is removed after
		// a kill, and Ack need not wait for the disk. Commits then gather
		// longer, and a kill still fetches again at most --workers pages.
		dc.AckWindow, dc.CommitInterval = stateAckWindow, stateLazyCommitInterval
	}
	d, err := disk.Open(cfg.State, dc)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "frontier/disk: ")
		if errors.Is(err, disk.ErrLocked) {
			return nil, nil, fmt.Errorf("--state: %s; wait for it to finish or stop it", msg)
		}
		// ErrCorrupt, ErrForeign, ErrIncompatible, or a path that cannot
		// be created: the directory given is the problem.
		return nil, nil, usagef("--state: %s", msg)
	}
	return d, d.Close, nil
}

// runsState is what the CLI remembers of earlier runs in a state directory.
type runsState struct {
	Runs int `json:"runs"` // runs started
}

// resume is how a crawl starts given its frontier: fresh, or resumed from a
// --state directory.
type resume struct {
	d        *disk.Disk // nil without --state
	resumed  bool       // the state directory holds an earlier run
	newPass  bool       // --recrawl started a new pass over a finished crawl
	finished bool       // ... which completed: nothing is left to do
	runs     runsState
	logger   *slog.Logger

	stop    chan struct{} // ends the cookie saver
	saverWG sync.WaitGroup
	last    []byte // cookies last saved

	outFile *os.File // the records file, when it is a regular file (openOutput)
	outPath string   // its absolute path
}

// resumeCrawl inspects the frontier. For a resumed --state directory it
// pushes the seeds again (the frontier drops those it has seen) and reports
// a crawl that has nothing left as finished, saying so.
func resumeCrawl(ctx context.Context, cfg *Config, fr frontier.Frontier, seeds []string, logger *slog.Logger, stderr io.Writer) (*resume, error) {
	r := &resume{logger: logger}
	d, ok := fr.(*disk.Disk)
	if !ok {
		return r, nil
	}
	r.d = d
	r.resumed = d.Resumed()
	if b, err := d.LoadState(ctx, stateRuns); err != nil {
		return nil, fmt.Errorf("--state: %w", err)
	} else if b != nil {
		_ = json.Unmarshal(b, &r.runs)
	}
	if !r.resumed {
		return r, nil
	}
	es := make([]frontier.Entry, len(seeds))
	for i, s := range seeds {
		es[i] = frontier.Entry{URL: s}
	}
	added, err := d.Push(ctx, es...)
	if err != nil {
		return nil, fmt.Errorf("--state: %w", err)
	}
	st, err := d.Stats(ctx)
	if err != nil {
		return nil, fmt.Errorf("--state: %w", err)
	}
	// Every record written was acknowledged once: earlier runs' records
	// count against --max-pages, also those of runs that were killed.
	done := d.Acked()
	if st.Queued == 0 && st.Leased == 0 && cfg.Recrawl {
		started, err := startPass(ctx, d, logger)
		if err != nil {
			return nil, fmt.Errorf("--state: %w", err)
		}
		if started {
			// A new pass is a new crawl over the same state: a fresh
			// output, the whole --max-pages budget.
			r.resumed = false
			r.newPass = true
			return r, nil
		}
	}
	if st.Queued == 0 && st.Leased == 0 {
		r.finished = true
		if !cfg.Quiet {
			fmt.Fprintf(stderr, "trawl: the crawl in %s has already finished (%d URLs seen, %d pages written in %d runs): nothing to do; use --recrawl to start a new pass (conditional requests), or a new --state directory to crawl afresh\n",
				cfg.State, st.Seen, done, r.runs.Runs)
		}
		return r, nil
	}
	if cfg.MaxPages > 0 {
		if done >= int64(cfg.MaxPages) {
			r.finished = true
			if !cfg.Quiet {
				fmt.Fprintf(stderr, "trawl: the crawl in %s has already written %d pages in %d runs, --max-pages is %d: nothing to do; raise --max-pages to go on (%d URLs queued)\n",
					cfg.State, done, r.runs.Runs, cfg.MaxPages, st.Queued)
			}
			return r, nil
		}
		cfg.MaxPages -= int(done)
	}
	logger.Info("resuming crawl", "state", cfg.State, "queued", st.Queued, "seen", st.Seen,
		"pages_written", done, "new_seeds", added, "earlier_runs", r.runs.Runs)
	return r, nil
}

// openOutput opens the records file. A resumed crawl appends to it after
// cutting off the records of pages that the kill left not done (beyond
// where the file ended at the last commit, see lateFlush) and a record torn
// by the kill; a CSV file keeps its one header. With --state, a records
// file that is a regular file is noted in r (outFile) for lateFlush.
func (r *resume) openOutput(ctx context.Context, cfg *Config, stdout io.Writer) (io.Writer, func() error, error) {
	if !r.resumed || cfg.Output == "" || cfg.Output == "-" {
		w, closeFn, err := openOutput(cfg.Output, stdout)
		if err == nil && r.d != nil {
			if f, ok := w.(*os.File); ok && w != stdout {
				err = r.noteOutput(ctx, f, cfg.Output, 0)
			}
		}
		if err != nil && closeFn != nil {
			closeFn()
		}
		return w, closeFn, err
	}
	f, err := os.OpenFile(cfg.Output, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, usagef("--output: %v", unwrapPath(err))
	}
	if err := r.cutOutput(ctx, f, cfg.Output); err != nil {
		f.Close()
		return nil, nil, err
	}
	size, cut, err := repairTail(f, cfg.Format == "csv")
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("--output: repairing %s: %w", cfg.Output, err)
	}
	if cut > 0 {
		r.logger.Warn("output: removed a record torn by the previous run's stop; its URL is fetched again",
			"file", cfg.Output, "bytes", cut)
	}
	if err := r.noteOutput(ctx, f, cfg.Output, size); err != nil {
		f.Close()
		return nil, nil, err
	}
	if _, err := f.Seek(size, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("--output: %w", err)
	}
	var once sync.Once
	var closeErr error
	closeFn := func() error {
		once.Do(func() { closeErr = f.Close() })
		return closeErr
	}
	var w io.Writer = f
	if cfg.Format == "csv" && size > 0 {
		w = &skipHeader{w: f}
	}
	return w, closeFn, nil
}

// cutOutput truncates the records file f of a resumed crawl to where it
// ended at the last commit that marked pages done, when the state directory
// saved that for this file: the records beyond are of pages the kill left
// not done, which this run fetches again.
func (r *resume) cutOutput(ctx context.Context, f *os.File, name string) error {
	b, err := r.d.LoadState(ctx, stateOutput)
	if err != nil || b == nil {
		return err
	}
	var oe outputEnd
	if json.Unmarshal(b, &oe) != nil {
		return nil // not ours to judge: the tail repair still runs
	}
	abs, st, ok := regularFile(f, name)
	if !ok || abs != oe.File || st.Size() == oe.End || oe.End < 0 {
		return nil
	}
	if st.Size() < oe.End {
		// The file lost what the commits saw written: a power loss or an
		// OS crash without --state-sync, or a file changed by hand.
		r.logger.Warn("output: the records file is shorter than at the last commit; records of pages marked done are missing from it (use --state-sync to keep them through a power loss)",
			"file", name, "bytes", st.Size(), "want_at_least", oe.End)
		return nil
	}
	if err := f.Truncate(oe.End); err != nil {
		return fmt.Errorf("--output: cutting %s back to the last commit: %w", name, err)
	}
	r.logger.Warn("output: removed the records of pages the previous run's stop left not done; they are fetched again",
		"file", name, "bytes", st.Size()-oe.End)
	return nil
}

// regularFile returns the absolute path of the file f opened as name, and
// its FileInfo; ok is false when f is not a regular file (a pipe, a
// device), which cannot be cut back.
func regularFile(f *os.File, name string) (abs string, st os.FileInfo, ok bool) {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return "", nil, false
	}
	if abs, err = filepath.Abs(name); err != nil {
		return "", nil, false
	}
	return abs, st, true
}

// noteOutput notes the records file f (opened as name), which ends at end,
// for lateFlush when it is a regular file, and saves that end in the state
// directory (so a kill before the first commit cuts back to it).
func (r *resume) noteOutput(ctx context.Context, f *os.File, name string, end int64) error {
	abs, _, ok := regularFile(f, name)
	if !ok {
		return nil
	}
	err := saveOutputEnd(func(k string, v []byte) error { return r.d.SaveState(ctx, k, v) }, abs, end)
	if err != nil {
		return fmt.Errorf("--state: %w", err)
	}
	r.outFile, r.outPath = f, abs
	return nil
}

// repairTail truncates f after its last complete record and returns the new
// size and how many bytes were cut. A record ends at a newline; in CSV, at a
// newline outside a quoted field (cells may hold newlines).
func repairTail(f *os.File, csv bool) (size, cut int64, err error) {
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	end := st.Size()
	var keep int64
	if csv {
		keep, err = lastCSVRecordEnd(f)
	} else {
		keep, err = lastNewlineEnd(f, end)
	}
	if err != nil {
		return 0, 0, err
	}
	if keep < end {
		if err := f.Truncate(keep); err != nil {
			return 0, 0, err
		}
	}
	return keep, end - keep, nil
}

// lastNewlineEnd returns the offset just after the last '\n' in the first
// end bytes of f (0 when there is none), reading backwards.
func lastNewlineEnd(f *os.File, end int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for pos := end; pos > 0; {
		n := int64(len(buf))
		if pos < n {
			n = pos
		}
		pos -= n
		if _, err := f.ReadAt(buf[:n], pos); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return pos + int64(i) + 1, nil
		}
	}
	return 0, nil
}

// lastCSVRecordEnd scans f and returns the offset just after the last
// newline that is outside quotes.
func lastCSVRecordEnd(f *os.File) (int64, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	var off, keep int64
	quoted := false
	for {
		b, err := br.ReadByte()
		if errors.Is(err, io.EOF) {
			return keep, nil
		}
		if err != nil {
			return 0, err
		}
		off++
		switch b {
		case '"':
			quoted = !quoted // "" inside a quoted field toggles twice
		case '\n':
			if !quoted {
				keep = off
			}
		}
	}
}

// skipHeader drops the header line of the CSV exporter's first write: the
// resumed file has one already. The exporter writes the header together
// with the first record in one Write (or alone, at Close, when there was
// no record).
type skipHeader struct {
	w       io.Writer
	skipped bool
}

func (s *skipHeader) Write(p []byte) (int, error) {
	if s.skipped {
		return s.w.Write(p)
	}
	s.skipped = true
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		return len(p), nil
	}
	n, err := s.w.Write(p[i+1:])
	return n + i + 1, err
}

// restoreSession loads the cookie jar of the earlier runs and keeps saving
// it while the crawl runs (a kill loses at most the last few seconds of
// cookies). It also counts the run.
func (r *resume) restoreSession(ctx context.Context, s *session.Session) error {
	if r.d == nil {
		return nil
	}
	r.runs.Runs++
	if b, err := json.Marshal(r.runs); err == nil {
		if err := r.d.SaveState(ctx, stateRuns, b); err != nil {
			return fmt.Errorf("--state: %w", err)
		}
	}
	if s.Jar() == nil {
		return nil
	}
	if b, err := r.d.LoadState(ctx, stateCookies); err != nil {
		return fmt.Errorf("--state: %w", err)
	} else if len(b) > 0 {
		if err := s.ImportCookies(b); err != nil {
			r.logger.Warn("state: cookies of the earlier run not restored", "err", err)
		}
		r.last = b
	}
	r.stop = make(chan struct{})
	r.saverWG.Add(1)
	go func() {
		defer r.saverWG.Done()
		every(cookieSaving, r.stop, func() bool {
			r.saveCookies(s)
			return true
		})
	}()
	return nil
}

func (r *resume) saveCookies(s *session.Session) {
	b, err := s.ExportCookies()
	if err != nil || bytes.Equal(b, r.last) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.d.SaveState(ctx, stateCookies, b); err != nil {
		r.logger.Warn("state: saving cookies", "err", err)
		return
	}
	r.last = b
}

// summary is what the summary line adds for a resumed --state crawl: the
// pages of every run so far.
func (r *resume) summary() string {
	if r.d == nil || !r.resumed {
		return ""
	}
	return fmt.Sprintf("; %d pages in %d runs in all", r.d.Acked(), r.runs.Runs)
}

// finish saves the cookies before the frontier is closed.
func (r *resume) finish(s *session.Session) {
	if r.d == nil {
		return
	}
	if r.stop != nil {
		close(r.stop)
		r.saverWG.Wait()
		r.saveCookies(s)
	}
}

// stateCommitInterval is how long the disk frontier gathers writes into one
// commit. Acknowledgements wait for their commit, so the interval is
// latency every page pays, while a shorter one means more, smaller commits
// (CPU). Measured on a 20,000-page site, 16 workers, load 2.7 (a first
// pass / a recrawl pass of 304s): 2 ms 4.6 s / 3.9 s, 500 us 3.5–4.0 s /
// 2.4 s, 200 us 3.6 s / 1.5–1.8 s, none 3.8–4.1 s / 1.9–2.1 s.
const stateCommitInterval = 200 * time.Microsecond

// With a records file to cut back (outputCutBack), acknowledgements do not
// wait for their commit: up to stateAckWindow may be uncommitted, and a
// commit gathers for stateLazyCommitInterval (a caller that does wait, or
// a worker waiting for links pushed, ends the gathering; see
// disk.Config.CommitInterval). frontier/disk/bench_crawl.sh (20,000 pages,
// 16 workers, records to a file), 2026-11-29 16:41, three rounds each:
// --state at 93% of the memory frontier's speed against 85% before,
// --state --state-sync 5.2-5.8 s against 7.6-9.1 s.
const (
	stateAckWindow          = 256
	stateLazyCommitInterval = 5 * time.Millisecond
)

// outputCutBack reports whether the crawl's records go to a file that a
// resumed run can cut back to where it ended at the last commit: -o names a
// regular file (or one to create), and no --warc (whose files are not cut
// back).
func outputCutBack(cfg *Config) bool {
	if cfg.Output == "" || cfg.Output == "-" || cfg.Warc != "" {
		return false
	}
	st, err := os.Stat(cfg.Output)
	return errors.Is(err, os.ErrNotExist) || err == nil && st.Mode().IsRegular()
}

// outputEnd is where the records file ended when a commit marked the
// pages whose records it holds done (stateOutput).
type outputEnd struct {
	File string `json:"file"` // absolute path
	End  int64  `json:"end"`
}

func saveOutputEnd(save func(string, []byte) error, file string, end int64) error {
	b, err := json.Marshal(outputEnd{File: file, End: end})
	if err != nil {
		return err
	}
	return save(stateOutput, b)
}
