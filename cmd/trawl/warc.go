package main

import (
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

// stateWarcDigest prefixes the keys of the WARC payload digests kept in the
// --state directory's store (disk.SaveState), one key per digest.
const stateWarcDigest = "warc/digest/"

// addWarcFlags registers the flags of a crawl archived as WARC.
func addWarcFlags(fs *pflag.FlagSet, c *Config) {
	fs.StringVar(&c.Warc, "warc", c.Warc, "also archive every HTTP exchange as WARC in `PREFIX`-00000.warc.gz, PREFIX-00001.warc.gz...")
	fs.Var(&c.WarcMaxSize, "warc-max-size", "start the next WARC file when one reaches this size")
	fs.BoolVar(&c.WarcCDX, "warc-cdx", c.WarcCDX, "also write the CDXJ index of the WARC files to PREFIX.cdxj (pywb, replayweb.page)")
	fs.IntVar(&c.WarcLevel, "warc-level", c.WarcLevel, "gzip `LEVEL` of the WARC files: 1 (fastest) to 9 (smallest), or -2 (Huffman only: about 3x less CPU, files about 1.7x larger)")
}

// validateWarc checks the warc keys.
func (c *Config) validateWarc() error {
	if c.WarcMaxSize <= 0 {
		return invalid("warc_max_size", "must be a positive size, got %d", c.WarcMaxSize)
	}
	if c.WarcLevel != warc.HuffmanOnly && (c.WarcLevel < 1 || c.WarcLevel > 9) {
		return invalid("warc_level", "must be 1 to 9, or -2 (Huffman only), got %d", c.WarcLevel)
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

	mu     sync.Mutex
	err    error
	cancel context.CancelFunc // stops the crawl on a write error; set by setCancel
}

// openArchive opens the WARC set of --warc. A resumed set continues in a
// new file after a torn record is cut (warc.Open). The digest index that
// turns repeated payloads into revisit records lives with the frontier: in
// the --state directory, in Redis, or in memory.
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
	w, err := warc.Open(warc.Config{
		Prefix:  cfg.Warc,
		MaxSize: int64(cfg.WarcMaxSize),
		CDX:     cfg.WarcCDX,
		Level:   cfg.WarcLevel,
		Info: []warc.Field{
			{Name: "software", Value: "trawl " + versionString()},
			{Name: "hostname", Value: host},
			{Name: "isPartOf", Value: name},
			{Name: "seeds", Value: strings.Join(seeds, " ")},
			{Name: "http-header-user-agent", Value: userAgent(cfg)},
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
		si := newStateIndex(f)
		a.index, a.closer = si, si.close
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
	return a, nil
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
		a.err = fmt.Errorf("--warc: %w (recording %s)", err, u)
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

// stateIndex keeps the digest index in the --state directory's store, so
// that a resumed crawl writes revisits of what earlier runs archived. A
// store waits for the store's next commit; so that the workers do not wait
// for it, stores are handed to a few goroutines of the index (the commits
// group them with the crawl's own). A digest queued when the process is
// killed is lost, which costs only the deduplication of its payload.
type stateIndex struct {
	d       *disk.Disk
	pending chan digestCapture
	wg      sync.WaitGroup
}

type digestCapture struct {
	digest string
	c      warc.Capture
}

// stateIndexSavers is how many stores wait for a commit at once.
const stateIndexSavers = 4

var _ warc.Index = (*stateIndex)(nil)

func newStateIndex(d *disk.Disk) *stateIndex {
	s := &stateIndex{d: d, pending: make(chan digestCapture, 1024)}
	for range stateIndexSavers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for p := range s.pending {
				b, _ := p.c.MarshalText()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_ = s.d.SaveState(ctx, stateWarcDigest+p.digest, b)
				cancel()
			}
		}()
	}
	return s
}

func (s *stateIndex) Lookup(ctx context.Context, digest string) (warc.Capture, bool, error) {
	b, err := s.d.LoadState(ctx, stateWarcDigest+digest)
	if err != nil || b == nil {
		return warc.Capture{}, false, err
	}
	var c warc.Capture
	if err := c.UnmarshalText(b); err != nil {
		return warc.Capture{}, false, err
	}
	return c, true, nil
}

// Store queues the digest; a later capture of the same payload (two
// fetched at once) may replace an earlier one, and both records exist.
func (s *stateIndex) Store(ctx context.Context, digest string, c warc.Capture) error {
	select {
	case s.pending <- digestCapture{digest, c}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close saves the queued digests; call it before the frontier closes and
// after the last Store.
func (s *stateIndex) close() {
	close(s.pending)
	s.wg.Wait()
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
