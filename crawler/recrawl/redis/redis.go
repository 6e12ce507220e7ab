// Package redis is a recrawl.Store kept in Redis, for crawls shared by
// several processes through frontier/redis (trawl crawl --redis): every
// process of a crawl sees the validators and links the others saved, and
// they outlive the processes.
//
// The pages of a crawl are one Redis hash, "trawl:{NAME}:pages", next to
// the crawl's frontier keys (the same Cluster hash tag, so a Cluster keeps
// a crawl on one slot): field the page's URL, value its encoding
// (recrawl.Page.AppendBinary; links front-coded). Save is HSET, Load
// HGET, Delete HDEL, Range HSCAN in batches. Every command is a single
// idempotent one, so an operation that fails because Redis is unreachable
// or restarting is retried with backoff (logged once per outage, then
// every 10 s) until it succeeds, its ctx ends or Config.MaxOutage passes,
// as frontier/redis does.
//
// Memory per URL: a page with a 58-byte URL, 20 same-site links (site
// navigation and related items), a title, an ETag and a Last-Modified
// costs about 490 bytes of Redis memory (growth of used_memory after
// saving 100,000 such pages, Redis 7.0, jemalloc: BenchmarkMemoryPerURL),
// of which 335 are the encoded page and 58 the URL, the rest the hash
// entry's overhead and allocator rounding. One string key per URL, the
// alternative, costs about 520. A million such pages take about 0.5 GB
// besides the frontier's keys; pages with more or longer links take more.
//
// Keys are deleted with the crawl's (frontier/redis.DropCrawl); a new pass
// (frontier/redis NewPass) keeps them: they are what the pass revalidates.
package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/trawlhq/trawl/crawler/recrawl"
	"github.com/trawlhq/trawl/internal/redisfault"
)

// DefaultName is the crawl name used when Config.Name is empty; it is
// frontier/redis's.
const DefaultName = "default"

// rangeBatch is how many fields one HSCAN call asks for.
const rangeBatch = 1000

const (
	backoffMin    = 50 * time.Millisecond
	backoffMax    = 2 * time.Second
	outageLogEach = 10 * time.Second
)

// Config configures a Store. The zero value is usable.
type Config struct {
	// Name is the crawl name, as given to frontier/redis (Config.Name):
	// the pages live under "trawl:{Name}:". Empty means DefaultName. It
	// must not contain '{', '}' or whitespace.
	Name string
	// MaxOutage is how long one operation keeps retrying while Redis is
	// unreachable before it fails. Zero means until its ctx ends.
	MaxOutage time.Duration
	// Logger receives outage and recovery lines. Nil means slog.Default().
	Logger *slog.Logger
}

// Store is a recrawl.Store in Redis. It is safe for concurrent use, and
// any number of Stores in any number of processes may share one crawl
// (the same Redis and Name).
type Store struct {
	client goredis.UniversalClient
	owned  bool // Close closes client
	key    string
	cfg    Config
	log    *slog.Logger
	err    error // a bad Config: every method returns it

	done      chan struct{} // closed by Close
	closeOnce sync.Once
	retry     *redisfault.Retrier // runs every operation through outages
}

var _ recrawl.Store = (*Store)(nil)

// New returns a Store of the crawl cfg.Name on client, which stays the
// caller's (Close does not close it). client may be a
// *goredis.ClusterClient. New does not connect; a Name that is not valid
// makes every method fail with an error that names it (Open reports it at
// once).
func New(client goredis.UniversalClient, cfg Config) *Store {
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	s := &Store{
		client: client,
		key:    "trawl:{" + cfg.Name + "}:pages",
		cfg:    cfg,
		log:    cfg.Logger,
		done:   make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.retry = &redisfault.Retrier{Component: "recrawl/redis", Crawl: cfg.Name, MaxOutage: cfg.MaxOutage,
		Log: s.log, Done: s.done, Closed: recrawl.ErrClosed}
	switch {
	case client == nil:
		s.err = errors.New("recrawl/redis: nil client")
	case strings.ContainsAny(cfg.Name, "{} \t\r\n"):
		s.err = fmt.Errorf("recrawl/redis: bad crawl name %q: it must not contain braces or whitespace", cfg.Name)
	}
	return s
}

// Open connects to the Redis at rawURL, in the forms frontier/redis.Open
// takes ("redis://[user:password@]host:port/db", "rediss://", "unix://",
// a Cluster as "redis://host1:port1?addr=host2:port2"), and returns a
// Store that owns the connection. It fails at once when the URL or
// cfg.Name is malformed or Redis does not answer.
func Open(ctx context.Context, rawURL string, cfg Config) (*Store, error) {
	client, err := newClient(rawURL)
	if err != nil {
		return nil, err
	}
	s := New(client, cfg)
	s.owned = true
	if s.err != nil {
		client.Close()
		return nil, s.err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("recrawl/redis: cannot reach Redis at %s: %w", redact(rawURL), err)
	}
	return s, nil
}

// newClient returns a client for rawURL that does not retry on its own:
// the Store does, with backoff and a log line.
func newClient(rawURL string) (goredis.UniversalClient, error) {
	if u, err := url.Parse(rawURL); err == nil && u.Query().Has("addr") {
		o, err := goredis.ParseClusterURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("recrawl/redis: bad Redis URL %q: %w", redact(rawURL), err)
		}
		o.MaxRetries = -1
		return goredis.NewClusterClient(o), nil
	}
	o, err := goredis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("recrawl/redis: bad Redis URL %q: %w", redact(rawURL), err)
	}
	o.MaxRetries = -1
	return goredis.NewClient(o), nil
}

// Name returns the crawl name.
func (s *Store) Name() string { return s.cfg.Name }

// Load implements recrawl.Store. A stored value that does not decode (a
// damaged or foreign field) is an error naming the URL, not a panic.
func (s *Store) Load(ctx context.Context, url string) (*recrawl.Page, error) {
	var b []byte
	err := s.do(ctx, "load "+url, func(ctx context.Context) error {
		var err error
		b, err = s.client.HGet(ctx, s.key, url).Bytes()
		if errors.Is(err, goredis.Nil) {
			b, err = nil, nil
		}
		return err
	})
	if err != nil || b == nil {
		return nil, err
	}
	p := &recrawl.Page{URL: url}
	if err := p.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("recrawl/redis: load %s: %w", url, err)
	}
	return p, nil
}

// Save implements recrawl.Store: once it returns, every process of the
// crawl loads p; it survives a crash of Redis as far as Redis's
// persistence does (appendonly yes keeps it).
func (s *Store) Save(ctx context.Context, p *recrawl.Page) error {
	b, err := p.AppendBinary(nil)
	if err != nil {
		return fmt.Errorf("recrawl/redis: save: %w", err)
	}
	return s.do(ctx, "save "+p.URL, func(ctx context.Context) error {
		return s.client.HSet(ctx, s.key, p.URL, b).Err()
	})
}

// Delete implements recrawl.Store.
func (s *Store) Delete(ctx context.Context, url string) error {
	return s.do(ctx, "delete "+url, func(ctx context.Context) error {
		return s.client.HDel(ctx, s.key, url).Err()
	})
}

// Range implements recrawl.Store with HSCAN, rangeBatch fields a call; fn
// is called between calls, never while one is out. HSCAN's guarantee
// applies: a page saved before Range starts and not deleted during it is
// given at least once; one given twice is possible when the hash is
// resized during Range (pages saved or deleted meanwhile), and the
// frontier's seen set drops the second. A field whose value does not
// decode stops Range with an error naming its URL.
//
// HSCAN sends each page's whole value (about 410 bytes a page of
// BenchmarkRange's, 1.5 µs of Redis CPU). A Lua HSCAN returning only each
// value's depth prefix was measured too: 83 bytes a page, but 2.6 µs of
// Redis CPU, the resource a Redis crawl shares; Range runs once a pass.
func (s *Store) Range(ctx context.Context, fn func(url string, depth int) error) error {
	var cursor uint64
	for {
		var kv []string
		var next uint64
		err := s.do(ctx, "range", func(ctx context.Context) error {
			var err error
			kv, next, err = s.client.HScan(ctx, s.key, cursor, "", rangeBatch).Result()
			return err
		})
		if err != nil {
			return err
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if err := ctx.Err(); err != nil {
				return err
			}
			depth, err := recrawl.DecodeDepth([]byte(kv[i+1]))
			if err != nil {
				return fmt.Errorf("recrawl/redis: range: %s: %w", kv[i], err)
			}
			if err := fn(kv[i], depth); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// Len returns the number of pages saved. It implements recrawl.Lener.
func (s *Store) Len(ctx context.Context) (int64, error) {
	var n int64
	err := s.do(ctx, "len", func(ctx context.Context) error {
		var err error
		n, err = s.client.HLen(ctx, s.key).Result()
		return err
	})
	return n, err
}

// Drop deletes every page of the crawl (UNLINK: Redis frees them in the
// background).
func (s *Store) Drop(ctx context.Context) error {
	return s.do(ctx, "drop", func(ctx context.Context) error {
		return s.client.Unlink(ctx, s.key).Err()
	})
}

// Close makes every later call return recrawl.ErrClosed and stops calls
// retrying through an outage; it closes the client when the Store owns it
// (Open). It is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		if s.owned {
			s.client.Close()
		}
	})
	return nil
}

func (s *Store) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// do runs fn until it succeeds, fails for a reason other than Redis being
// unavailable, ctx ends, the Store is closed or Config.MaxOutage passes.
// Every operation of the Store is idempotent, so a retry after a lost
// reply is exact.
func (s *Store) do(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	if s.err != nil {
		return s.err
	}
	_, err := s.retry.Do(ctx, op, fn)
	return err
}

// redact hides the password of a Redis URL for error messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	return u.Redacted()
}
