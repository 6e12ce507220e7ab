package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/spf13/pflag"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/disk"
	"github.com/trawlhq/trawl/frontier/redis"
	"github.com/trawlhq/trawl/session/warc"
)

// DefaultWarcMaxSize is the size at which a WARC file is closed: 1 GiB.
const DefaultWarcMaxSize = Size(warc.DefaultMaxSize)

// DefaultWarcLevel is the --warc-level of a crawl: 0, stored. Every record
// is still its own gzip member (a .warc.gz that every reader indexes and
// seeks), the size of the exchanges as received. Compressing costs more
// CPU than the rest of the archive: at level 1, a 16 KiB HTML page takes
// about 50 us more and its record is about 3 times smaller; pages that
// servers send compressed (gzip, br) hardly shrink again.
const DefaultWarcLevel = 0

// warcBuffer is how many bytes of records a crawl that cannot resume holds
// before writing them, in one write: a write per exchange cost about as
// much CPU as the two SHA-1 digests of a stored record.
const warcBuffer = 256 << 10

// warcFlushEvery bounds how long a record stays only in that buffer.
const warcFlushEvery = time.Second

// stateWarcDigests is the file of the --state directory that logs the WARC
// payload digests archived, beside the frontier's store.
const stateWarcDigests = "warc-digests"

// addWarcFlags registers the flags of a crawl archived as WARC.
func addWarcFlags(fs *pflag.FlagSet, c *Config) {
	fs.StringVar(&c.Warc, "warc", c.Warc, "also archive every HTTP exchange as WARC in `PREFIX`-00000.warc.gz, PREFIX-00001.warc.gz...")
	fs.Var(&c.WarcMaxSize, "warc-max-size", "start the next WARC file when one reaches this size")
	fs.BoolVar(&c.WarcCDX, "warc-cdx", c.WarcCDX, "also write the CDXJ index of the WARC files to PREFIX.cdxj (pywb, replayweb.page)")
	fs.IntVar(&c.WarcLevel, "warc-level", c.WarcLevel, "gzip `LEVEL` of the WARC files: 0 (stored: still .warc.gz, the size of the exchanges, the least CPU), 1 (fastest compression: HTML about 3x smaller, 2-3x the archive's CPU) to 9 (smallest), or -2 (Huffman only)")
}

// validateWarc checks the warc keys.
func (c *Config) validateWarc() error {
	if c.WarcMaxSize <= 0 {
		return invalid("warc_max_size", "must be a positive size, got %d", c.WarcMaxSize)
	}
	if c.WarcLevel != warc.HuffmanOnly && (c.WarcLevel < 0 || c.WarcLevel > 9) {
		return invalid("warc_level", "must be 0 (stored) to 9, or -2 (Huffman only), got %d", c.WarcLevel)
	}
	if c.WarcCDX && c.Warc == "" {
		return invalid("warc_cdx", "needs warc (--warc PREFIX)")
	}
	if c.Warc != "" && (strings.HasSuffix(c.Warc, "/") || filepath.Base(c.Warc) == ".") {
		return invalid("warc", "%q: want a file name prefix such as crawls/site, not a directory", c.Warc)
	}
	return nil
}

// archive is the WARC side of a crawl: the writer, its middleware and the
// first error that stopped it.
type archive struct {
	w      *warc.Writer
	index  warc.Index
	closer func() // closes what the index opened

	stopFlush chan struct{} // closed to stop the flusher; nil without one
	flushWG   sync.WaitGroup
	digests   *stateIndex // with --state: its log lines wait for commit

	mu     sync.Mutex
	err    error
	cancel context.CancelFunc // stops the crawl on a write error; set by setCancel
}

// openArchive opens the WARC set of --warc. A resumed set continues in a
// new file after a torn record is cut (warc.Open). The digest index that
// turns repeated payloads into revisit records lives with the frontier: in
// the --state directory, in Redis, or in memory. The writer holds up to
// warcBuffer bytes of records, written when the buffer fills, every
// warcFlushEvery and at the end; with --state also in every commit of the
// frontier that marks pages done (beforeCommit), so that a kill loses none
// of the pages it acknowledged, and the state's digest log gets a line
// only once its record is out. A --redis crawl writes every exchange's
// records before the crawler sees the page: its acknowledgements have no
// commit to flush in.
func openArchive(cfg *Config, fr frontier.Frontier, seeds []string, logger *slog.Logger) (*archive, error) {
	if cfg.Warc == "" {
		return nil, nil
	}
	host, _ := os.Hostname()
	name := filepath.Base(cfg.Warc)
	if rf, ok := fr.(*redis.Frontier); ok {
		name = rf.Name()
	}
	robots := "obey"
	if cfg.IgnoreRobots {
		robots = "ignore"
	}
	buffer := warcBuffer
	if cfg.Redis != "" {
		buffer = 0
	}
	w, err := warc.Open(warc.Config{
		Prefix:  cfg.Warc,
		MaxSize: int64(cfg.WarcMaxSize),
		CDX:     cfg.WarcCDX,
		Level:   warcLevel(cfg.WarcLevel),
		Buffer:  buffer,
		Info: []warc.Field{
			{Name: "software", Value: "trawl " + versionString()},
			{Name: "hostname", Value: host},
			{Name: "isPartOf", Value: name},
			{Name: "seeds", Value: strings.Join(seeds, " ")},
			{Name: "robots", Value: robots},
			{Name: "settings", Value: fmt.Sprintf("depth=%d max-pages=%d workers=%d per-host=%d rate=%g delay=%s max-body=%d max-redirects=%d",
				cfg.Depth, cfg.MaxPages, cfg.Workers, cfg.PerHost, cfg.Rate, cfg.Delay, cfg.MaxBody, cfg.MaxRedirects)},
		},
	})
	if err != nil {
		return nil, usagef("--warc: %s", strings.TrimPrefix(err.Error(), "warc: "))
	}
	if file, cut := w.Repaired(); cut > 0 {
		logger.Warn("warc: removed a record torn by the previous run's stop", "file", file, "bytes", cut)
	}
	a := &archive{w: w, closer: func() {}}
	switch f := fr.(type) {
	case *disk.Disk:
		si, err := openStateIndex(filepath.Join(f.Dir(), stateWarcDigests))
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("--state: %w", err)
		}
		a.index, a.closer, a.digests = si, si.close, si
	case *redis.Frontier:
		client, err := redisClient(cfg.Redis)
		if err != nil {
			w.Close()
			return nil, usagef("--redis: %v", err)
		}
		a.index = &redisIndex{client: client, key: "trawl:{" + f.Name() + "}:warc:digests"}
		a.closer = func() { client.Close() }
	default:
		a.index = &warc.MemoryIndex{}
	}
	if buffer > 0 {
		a.stopFlush = make(chan struct{})
		a.flushWG.Add(1)
		go a.flusher()
	}
	return a, nil
}

// flusher writes the buffered records out every warcFlushEvery.
func (a *archive) flusher() {
	defer a.flushWG.Done()
	every(warcFlushEvery, a.stopFlush, func() bool {
		if err := a.w.Flush(); err != nil {
			a.fail("", err)
			return false
		}
		return true
	})
}

// flush writes the buffered records out, when the process is about to exit
// without closing the archive.
func (a *archive) flush() {
	if a != nil {
		_ = a.w.Flush()
	}
}

// commit writes the buffered records out before a commit of the frontier
// marks their pages done (disk.Config.BeforeCommit, with --state), then the
// digest log lines of the records written: lines taken before the flush
// are of records it wrote, so no line reaches the log before its record.
func (a *archive) commit() error {
	lines := a.digests.take()
	if err := a.w.Flush(); err != nil {
		a.fail("", err)
		return fmt.Errorf("--warc: %w", err)
	}
	if err := a.digests.write(lines); err != nil {
		return fmt.Errorf("--state: digest log: %w", err)
	}
	return nil
}

// wrap is the session's Config.WrapTransport.
func (a *archive) wrap(next http.RoundTripper) http.RoundTripper {
	return &warc.Transport{Next: next, Writer: a.w, Index: a.index, OnError: a.fail}
}

// fail records the first write error and stops the crawl: an archive that
// misses exchanges is not one.
func (a *archive) fail(u string, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err == nil {
		if u != "" {
			err = fmt.Errorf("%w (recording %s)", err, u)
		}
		a.err = fmt.Errorf("--warc: %w", err)
		if a.cancel != nil {
			a.cancel()
		}
	}
}

func (a *archive) setCancel(c context.CancelFunc) {
	a.mu.Lock()
	a.cancel = c
	a.mu.Unlock()
}

// close closes the writer (sorting the CDXJ index) and returns the error
// that stopped the archive, if any.
func (a *archive) close() error {
	if a == nil {
		return nil
	}
	if a.stopFlush != nil {
		close(a.stopFlush)
		a.flushWG.Wait()
		a.stopFlush = nil
	}
	err := a.w.Close()
	a.closer()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	if err != nil {
		return fmt.Errorf("--warc: %w", err)
	}
	return nil
}

// stateIndex is the digest index of a --state crawl: in memory, and logged
// to a file of the state directory (one "digest capture" line per payload)
// that the next run reads back, so that a resumed crawl writes revisits of
// what earlier runs archived. Lines wait in memory until the records they
// point to are written out (archive.commit, close), so a line never
// outlives its record; a kill loses at most the lines still waiting, which
// costs only their deduplication. (Keeping the digests in the frontier's
// store cost more than the archive itself: one random B+tree insert per
// page in the commits the crawl's acknowledgements wait for.)
type stateIndex struct {
	warc.MemoryIndex
	mu      sync.Mutex
	f       *os.File
	pending []byte // lines whose records may still be buffered
}

var _ warc.Index = (*stateIndex)(nil)

// openStateIndex loads the log at path (cutting a line torn by a kill) and
// opens it for appending.
func openStateIndex(path string) (*stateIndex, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	s := &stateIndex{f: f}
	br := bufio.NewReaderSize(f, 64<<10)
	var good int64
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			break // EOF; a line without its newline is torn
		}
		good += int64(len(line))
		digest, text, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		var c warc.Capture
		if ok && c.UnmarshalText([]byte(text)) == nil {
			_ = s.MemoryIndex.Store(context.Background(), digest, c)
		}
	}
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// Store implements warc.Index.
func (s *stateIndex) Store(ctx context.Context, digest string, c warc.Capture) error {
	if err := s.MemoryIndex.Store(ctx, digest, c); err != nil {
		return err
	}
	b, _ := c.MarshalText()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = append(s.pending, digest...)
	s.pending = append(s.pending, ' ')
	s.pending = append(s.pending, b...)
	s.pending = append(s.pending, '\n')
	return nil
}

// take returns the lines waiting, and forgets them.
func (s *stateIndex) take() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.pending
	s.pending = nil
	return b
}

// write appends lines taken (whose records are written) to the log.
func (s *stateIndex) write(lines []byte) error {
	if len(lines) == 0 {
		return nil
	}
	_, err := s.f.Write(lines)
	return err
}

// close writes the waiting lines out (the writer is closed: their records
// are written) and closes the log.
func (s *stateIndex) close() {
	_ = s.write(s.take())
	_ = s.f.Close()
}

// redisIndex keeps the digest index in one Redis hash next to the crawl's
// frontier keys (same "trawl:{name}:" prefix and hash tag), shared by every
// process of the crawl.
type redisIndex struct {
	client goredis.UniversalClient
	key    string
}

var _ warc.Index = (*redisIndex)(nil)

func (r *redisIndex) Lookup(ctx context.Context, digest string) (warc.Capture, bool, error) {
	v, err := r.client.HGet(ctx, r.key, digest).Result()
	if errors.Is(err, goredis.Nil) {
		return warc.Capture{}, false, nil
	}
	if err != nil {
		return warc.Capture{}, false, err
	}
	var c warc.Capture
	if err := c.UnmarshalText([]byte(v)); err != nil {
		return warc.Capture{}, false, err
	}
	return c, true, nil
}

func (r *redisIndex) Store(ctx context.Context, digest string, c warc.Capture) error {
	b, _ := c.MarshalText()
	return r.client.HSetNX(ctx, r.key, digest, b).Err()
}

// redisClient opens a client of the --redis URL (a cluster when it has
// addr= parameters, as frontier/redis reads it).
func redisClient(raw string) (goredis.UniversalClient, error) {
	if u, err := url.Parse(raw); err == nil && u.Query().Has("addr") {
		o, err := goredis.ParseClusterURL(raw)
		if err != nil {
			return nil, err
		}
		return goredis.NewClusterClient(o), nil
	}
	o, err := goredis.ParseURL(raw)
	if err != nil {
		return nil, err
	}
	return goredis.NewClient(o), nil
}

// warcLevel maps --warc-level to the writer's level: 0 is stored (the
// library's zero means its default, level 1).
func warcLevel(l int) int {
	if l == 0 {
		return warc.Store
	}
	return l
}
