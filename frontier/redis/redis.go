// Package redis is a frontier backend that keeps the whole frontier in Redis,
// so that many trawl processes, on one machine or many, share one crawl: one
// seen set, one queue per host, one politeness budget per host.
//
// Every state change is one Lua script run atomically by the server (see
// scripts.go), so the per-host concurrency limit and next-allowed time hold
// across processes, and no URL is lost or leased twice between them. A
// lease not settled within the visibility timeout (its process died) is put
// back at the head of its host's queue by whichever process next calls Next.
// A live process keeps its leases alive by extending them in the
// background, so a slow fetch is never handed out twice.
//
// Key layout, all under the prefix "trawl:{name}:" (the braces are a Redis
// Cluster hash tag: every key of a crawl, and so every key of each of its
// hosts, maps to one slot):
//
//	hosts       ZSET  host -> ms when it became (or becomes) ready; only hosts with queued entries and a free slot
//	q:<host>    LIST  the host's queued entries, FIFO (with Config.Priority: those of priority 0)
//	q:<host>|<p> LIST with Config.Priority: the host's queued entries of priority p != 0, FIFO
//	pq:<host>   ZSET  with Config.Priority: the priorities p != 0 with entries queued, scored -p
//	h:<host>    HASH  inflight, next (next-allowed ms), last (last lease ms), n (queued+leased+delayed), policy (pol, max, int, jit)
//	lease       HASH  lease id -> host "\n" entry
//	leases      ZSET  lease id -> deadline (ms)
//	delayed     ZSET  entries waiting for a retry time, scored by it
//	s:<bucket>  SET   seen fingerprints as 64-bit integers, 16384 buckets (Redis intsets: ~10 bytes per URL)
//	stats       HASH  queued, seen, hosts
//	counters    HASH  crawl counters shared by processes: acked, retried, expired, hosts (kept by
//	                  the scripts) and whatever IncrCounters adds
//	hostset     SET   every host ever pushed (for the hosts counter)
//	procs       HASH  "<frontier id>\n<counter>" -> value: each Frontier's own counters (SetCounters)
//	seq         STRING lease id sequence
//	pass        HASH  n (the pass number, 0 or absent before the first NewPass), started (ms)
//	tok:<token> STRING result of a Push that added entries, kept 2 minutes so a retried Push is exact
//	wake        pub/sub channel: published when entries are pushed or slots freed
//
// Passes (pass.go): NewPass starts a new pass over a finished crawl (an
// incremental recrawl). It deletes the seen buckets and what is counted per
// pass (stats, counters, procs, hostset) and keeps what describes the hosts
// (h:<host> policies and pauses, robots answers).
//
// Within a host, entries are leased in push order (FIFO, breadth-first),
// or, with Config.Priority, highest Entry.Priority first and in push order
// within one priority. Entry.Priority is kept and returned with the lease
// either way.
//
// Time: with Config.Now nil the scripts read the Redis server's clock (TIME),
// so processes on machines with skewed clocks still share one schedule. A
// non-nil Now is passed into every script instead (tests).
//
// Faults: an operation that fails because Redis is unreachable, restarting or
// loading its data is retried with exponential backoff (logged once per
// outage, then every 10 s) until it succeeds, ctx ends or Config.MaxOutage
// passes. Push is idempotent under retry: entries are deduplicated by the
// seen set in the same script that queues them, and an idempotency token
// keeps the added count exact for retries within two minutes. An Ack or
// Retry whose first attempt may have been applied treats "unknown lease" on
// a later attempt as success. A Next whose reply was lost leaves a lease no
// one holds: it is re-queued after the visibility timeout, so a URL may be
// delivered twice across an outage but is never lost.
package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/internal/redisfault"
)

// Defaults for zero Config fields.
const (
	// DefaultName is the crawl name used when Config.Name is empty.
	DefaultName = "default"
	// DefaultVisibilityTimeout is how long a lease may go unsettled and
	// unextended before another process may take it over.
	DefaultVisibilityTimeout = 30 * time.Second
	// DefaultPollInterval is the longest Next waits between checks when no
	// wake-up arrives.
	DefaultPollInterval = 250 * time.Millisecond
	// DefaultMaxInFlight is the per-host concurrency limit when
	// Config.Policy.MaxInFlight is zero (the frontier-wide default).
	DefaultMaxInFlight = 8
)

const (
	seenBucketBits = 14              // 16384 seen buckets
	pushChunk      = 500             // entries per Push script call
	tokenTTL       = 2 * time.Minute // how long a Push result is kept for retries
	releaseTimeout = 5 * time.Second // Close's budget for handing leases back
)

// Config configures a Frontier. The zero value is usable.
type Config struct {
	// Name is the crawl name: keys live under "trawl:{Name}:" so several
	// crawls can share one Redis. Processes that use the same Name share
	// one crawl. Empty means DefaultName. It must not contain '{', '}' or
	// whitespace.
	Name string
	// Policy is the default per-host policy for hosts without one set by
	// SetHostPolicy. Zero MaxInFlight means DefaultMaxInFlight. All
	// processes of a crawl should use the same Policy.
	Policy frontier.HostPolicy
	// VisibilityTimeout is how long a lease stays with a process that
	// stops extending it (it died or lost Redis) before the lease is
	// re-queued. A live process extends its leases every fifth of it, so
	// only a process stalled (or cut off from Redis) for more than four
	// fifths of it loses its leases; another process may then fetch those
	// URLs while the stalled one still does, which exceeds the per-host
	// limit for that time. Keep it well above any stall.
	// Zero means DefaultVisibilityTimeout.
	VisibilityTimeout time.Duration
	// PollInterval is the longest Next waits between checks when nothing
	// wakes it (pushes and acks of every process wake it through pub/sub).
	// Zero means DefaultPollInterval.
	PollInterval time.Duration
	// MaxOutage is how long one operation keeps retrying while Redis is
	// unreachable before it fails. Zero means until its ctx ends.
	MaxOutage time.Duration
	// Priority orders each host's queue by Entry.Priority, higher first,
	// then by push order. False means FIFO (breadth-first). All processes
	// of a crawl should use the same Priority.
	Priority bool
	// Now returns the current time. Nil means the Redis server's clock,
	// read inside each script (one clock for all processes).
	Now func() time.Time
	// Logger receives outage and recovery lines. Nil means slog.Default().
	Logger *slog.Logger
	// SeenCache is how many URL fingerprints this Frontier remembers as
	// seen in the current pass (those it pushed or leased), 8 bytes each:
	// Push leaves them out instead of sending them to Redis, which would
	// drop them. Zero means DefaultSeenCache; negative turns it off. The
	// cache is used only while this Frontier holds a lease (a new pass
	// cannot start then), so it never keeps a URL of a new pass out.
	SeenCache int
}

// Frontier is a frontier.Frontier kept in Redis. It is safe for concurrent
// use, and any number of Frontiers in any number of processes may share one
// crawl (the same Redis and Name).
type Frontier struct {
	client goredis.UniversalClient
	owned  bool // Close closes client
	prefix string
	id     string   // random; tags this Frontier's wake-ups
	hosts  []string // KEYS for the scripts: the crawl's hosts key
	cfg    Config
	log    *slog.Logger
	policy []any // default policy script arguments (max, interval ms, jitter ms)

	wake   chan struct{} // buffered 1: one waiter at a time is woken
	done   chan struct{} // closed by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	pubsub *goredis.PubSub

	mu     sync.Mutex
	closed bool
	held   map[string]held // leases this Frontier handed out and not yet settled

	retry *redisfault.Retrier // runs every operation through outages (faults.go)
	seen  *seenCache          // nil when Config.SeenCache < 0
	// skipped counts the entries Push left out as known (seenCache).
	skipped atomic.Int64
	// extended is when (UnixNano, f.now) the heartbeat last began a round
	// that extended every lease held then (see holding).
	extended atomic.Int64

	closeOnce sync.Once
}

type held struct {
	host, entry string
	at          int64 // when it was granted (UnixNano, f.now)
}

var _ frontier.Frontier = (*Frontier)(nil)

// Open connects to the Redis at rawURL and returns a Frontier that owns the
// connection. rawURL is "redis://[user:password@]host:port/db" ("rediss://"
// for TLS, "unix:///path" for a socket), or, for a Redis Cluster, the URL of
// one node with the others as addr parameters:
// "redis://[user:password@]host1:port1?addr=host2:port2&addr=host3:port3".
// It fails at once, with an error naming the address, when the URL is
// malformed, Redis cannot be reached or refuses the credentials.
func Open(ctx context.Context, rawURL string, cfg Config) (*Frontier, error) {
	client, err := newClient(rawURL)
	if err != nil {
		return nil, err
	}
	f, err := New(ctx, client, cfg)
	if err != nil {
		client.Close()
		return nil, err
	}
	f.owned = true
	return f, nil
}

// New returns a Frontier on client, which stays the caller's (Close does
// not close it). It checks that Redis answers first and fails with a clear
// error when it does not or refuses the credentials. client may be a
// *goredis.ClusterClient: every key of a crawl shares one hash tag.
func New(ctx context.Context, client goredis.UniversalClient, cfg Config) (*Frontier, error) {
	if client == nil {
		return nil, errors.New("frontier/redis: nil client")
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if strings.ContainsAny(cfg.Name, "{} \t\r\n") {
		return nil, fmt.Errorf("frontier/redis: bad crawl name %q: it must not contain braces or whitespace", cfg.Name)
	}
	if cfg.VisibilityTimeout <= 0 {
		cfg.VisibilityTimeout = DefaultVisibilityTimeout
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Policy.MaxInFlight <= 0 {
		cfg.Policy.MaxInFlight = DefaultMaxInFlight
	}
	if err := ping(ctx, client); err != nil {
		return nil, err
	}
	if err := checkEviction(ctx, client); err != nil {
		return nil, err
	}
	f := &Frontier{
		client: client,
		prefix: "trawl:{" + cfg.Name + "}:",
		id:     newToken(),
		cfg:    cfg,
		log:    cfg.Logger,
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		held:   make(map[string]held),
		seen:   newSeenCache(cfg.SeenCache),
	}
	if f.log == nil {
		f.log = slog.Default()
	}
	f.retry = &redisfault.Retrier{Component: "frontier/redis", Crawl: cfg.Name, MaxOutage: cfg.MaxOutage,
		Log: f.log, Done: f.done, Closed: frontier.ErrClosed}
	f.hosts = []string{f.prefix + "hosts"}
	f.policy = []any{cfg.Policy.MaxInFlight, cfg.Policy.Interval.Milliseconds(), cfg.Policy.Jitter.Milliseconds()}

	bg, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.pubsub = client.Subscribe(bg, f.prefix+"wake")
	f.wg.Add(2)
	go f.listen()
	go f.heartbeat(bg)
	return f, nil
}

// CheckURL reports whether Open would accept rawURL's form (it does not
// connect), with the same error Open returns.
func CheckURL(rawURL string) error {
	_, err := parseURL(rawURL)
	return err
}

// parseURL parses a single-node or cluster URL into client options.
func parseURL(rawURL string) (any, error) {
	var opts any
	var err error
	if u, perr := url.Parse(rawURL); perr == nil && u.Query().Has("addr") {
		opts, err = goredis.ParseClusterURL(rawURL)
	} else {
		opts, err = goredis.ParseURL(rawURL)
	}
	if err != nil {
		return nil, fmt.Errorf("frontier/redis: bad Redis URL %q: %w", redact(rawURL), err)
	}
	return opts, nil
}

// newClient returns a client for rawURL. Retries are left to the Frontier,
// which knows which operations are idempotent: the client must not repeat a
// script on its own.
func newClient(rawURL string) (goredis.UniversalClient, error) {
	opts, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	switch o := opts.(type) {
	case *goredis.ClusterOptions:
		o.MaxRetries = -1
		return goredis.NewClusterClient(o), nil
	default:
		o2 := o.(*goredis.Options)
		o2.MaxRetries = -1
		return goredis.NewClient(o2), nil
	}
}

// ping checks that Redis answers and accepts the credentials.
func ping(ctx context.Context, client goredis.UniversalClient) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := client.Ping(ctx).Err()
	if err == nil {
		return nil
	}
	addr := "redis"
	switch c := client.(type) {
	case *goredis.Client:
		addr = c.Options().Addr
	case *goredis.ClusterClient:
		addr = "cluster " + strings.Join(c.Options().Addrs, ",")
	}
	if isAuthError(err) {
		return fmt.Errorf("frontier/redis: %s refused the credentials (check the user and password in the URL): %w", addr, err)
	}
	return fmt.Errorf("frontier/redis: cannot reach Redis at %s: %w", addr, err)
}

// ErrEvictionPolicy is wrapped by the error New and Open return when Redis
// is configured to evict keys that have no expiry (maxmemory-policy
// allkeys-lru, allkeys-lfu or allkeys-random): under memory pressure it
// would silently drop queued URLs, the seen set or leases.
var ErrEvictionPolicy = errors.New("frontier/redis: maxmemory-policy evicts crawl state")

// checkEviction refuses a Redis (every master of a cluster) whose
// maxmemory-policy may evict keys without an expiry. noeviction is what a
// crawl wants; the volatile-* policies are accepted because they only
// evict keys with an expiry, and the only such keys of a crawl are Push's
// idempotency tokens: losing one can make the added count of a Push
// retried after a lost reply too low, never lose or duplicate a URL (the
// seen set decides). A Redis that hides its configuration (INFO denied by
// an ACL) is accepted: the check is a guard, not a requirement.
func checkEviction(ctx context.Context, client goredis.UniversalClient) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	check := func(ctx context.Context, c *goredis.Client) error {
		info, err := c.Info(ctx, "memory").Result()
		if err != nil {
			return nil
		}
		policy := infoField(info, "maxmemory_policy")
		if strings.HasPrefix(policy, "allkeys-") {
			return fmt.Errorf("%w: %s has maxmemory-policy %s, which can silently evict queued URLs and the seen set; set it to noeviction (CONFIG SET maxmemory-policy noeviction)",
				ErrEvictionPolicy, c.Options().Addr, policy)
		}
		return nil
	}
	switch c := client.(type) {
	case *goredis.ClusterClient:
		return c.ForEachMaster(ctx, check)
	case *goredis.Client:
		return check(ctx, c)
	}
	return nil
}

// infoField returns the value of one "name:value" line of an INFO reply.
func infoField(info, name string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}

func isAuthError(err error) bool {
	s := err.Error()
	for _, p := range []string{"NOAUTH", "WRONGPASS", "invalid password", "invalid username-password", "AUTH <password> called without"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// redact hides the password of a Redis URL for error messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	return u.Redacted()
}

// Name returns the crawl name.
func (f *Frontier) Name() string { return f.cfg.Name }

// args returns the common script arguments followed by extra.
func (f *Frontier) args(extra ...any) []any {
	now := int64(-1)
	if f.cfg.Now != nil {
		now = f.cfg.Now().UnixMilli()
	}
	a := make([]any, 0, 5+len(extra))
	mode := "|0"
	if f.cfg.Priority {
		mode = "|1"
	}
	a = append(a, f.prefix+"|"+f.id+mode, now)
	a = append(a, f.policy...)
	return append(a, extra...)
}

// holding reports whether this Frontier holds a lease that cannot have
// expired in Redis: granted, or extended by the heartbeat, within half the
// visibility timeout. A process stalled for longer may have lost its
// leases and the crawl may have moved to a new pass: the seen cache is not
// trusted then.
func (f *Frontier) holding() bool {
	since := f.now().UnixNano() - int64(f.cfg.VisibilityTimeout/2)
	ext := f.extended.Load()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, h := range f.held {
		// A lease granted before a full round of the heartbeat began was
		// extended by it.
		if max(h.at, ext) > since {
			return true
		}
	}
	return false
}

// now is the clock leases are timed by: Config.Now, or this process's
// (which may differ from Redis's by the clocks' skew, small beside half a
// visibility timeout).
func (f *Frontier) now() time.Time {
	if f.cfg.Now != nil {
		return f.cfg.Now()
	}
	return time.Now()
}

func (f *Frontier) isClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// signal wakes one waiting Next, if any.
func (f *Frontier) signal() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// listen turns pub/sub wake-ups from every process into local ones.
func (f *Frontier) listen() {
	defer f.wg.Done()
	for msg := range f.pubsub.Channel() {
		if msg.Payload != f.id { // this Frontier signals its own wake-ups
			f.signal()
		}
	}
}

// heartbeat extends the leases this Frontier holds every fifth of the
// visibility timeout, so that only a dead (or long stalled) process loses
// its leases.
func (f *Frontier) heartbeat(ctx context.Context) {
	defer f.wg.Done()
	every := f.cfg.VisibilityTimeout / 5
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := f.now().UnixNano() // before the ids: a lease granted later is not in this round
		f.mu.Lock()
		ids := make([]any, 0, len(f.held))
		for id := range f.held {
			ids = append(ids, id)
		}
		f.mu.Unlock()
		extended := true
		for len(ids) > 0 {
			n := min(len(ids), 1000)
			chunk := ids[:n]
			ids = ids[n:]
			cctx, cancel := context.WithTimeout(ctx, every)
			got, err := extendScript.Run(cctx, f.client, f.hosts, f.args(append([]any{f.cfg.VisibilityTimeout.Milliseconds()}, chunk...)...)...).Int64()
			cancel()
			if err != nil && ctx.Err() == nil {
				f.log.Warn("frontier/redis: cannot extend leases; they expire if Redis stays unreachable",
					"crawl", f.cfg.Name, "leases", len(chunk), "err", err)
			}
			// A lease not extended expired (or was settled meanwhile).
			extended = extended && err == nil && got == int64(n)
		}
		if extended && f.extended.Load() < start {
			f.extended.Store(start)
		}
	}
}

// encodeEntry is the stored form of an entry: attempt, depth, priority, URL
// and referrer, one per line (normalized URLs hold no newline).
func encodeEntry(attempt int, e frontier.Entry) string {
	var b strings.Builder
	b.Grow(len(e.URL) + len(e.Referrer) + 16)
	b.WriteString(strconv.Itoa(attempt))
	b.WriteByte('\n')
	b.WriteString(strconv.Itoa(e.Depth))
	b.WriteByte('\n')
	b.WriteString(strconv.Itoa(e.Priority))
	b.WriteByte('\n')
	b.WriteString(e.URL)
	b.WriteByte('\n')
	b.WriteString(e.Referrer)
	return b.String()
}

func decodeEntry(s string) (attempt int, e frontier.Entry, err error) {
	parts := strings.SplitN(s, "\n", 5)
	if len(parts) != 5 {
		return 0, e, fmt.Errorf("frontier/redis: malformed entry %q", s)
	}
	attempt, err1 := strconv.Atoi(parts[0])
	depth, err2 := strconv.Atoi(parts[1])
	prio, err3 := strconv.Atoi(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return 0, e, fmt.Errorf("frontier/redis: malformed entry %q: %w", s, err)
	}
	return attempt, frontier.Entry{URL: parts[3], Depth: depth, Priority: prio, Referrer: parts[4]}, nil
}

// seenKey returns the seen bucket and member of a fingerprint: the top
// bits pick one of 16384 sets, the member is the whole fingerprint as a
// signed 64-bit integer, which Redis stores in an 8-byte intset slot.
func seenKey(fp uint64) (bucket, member string) {
	return strconv.FormatUint(fp>>(64-seenBucketBits), 16), strconv.FormatInt(int64(fp), 10)
}

// genToken is a fresh random token, the crawl's key generation if the
// script finds none (seenCache): one per call, so that keys made anew
// never get the generation they had.
func genToken() string { return strconv.FormatUint(rand.Uint64(), 36) }

func newToken() string {
	return strconv.FormatUint(rand.Uint64(), 36) + strconv.FormatUint(rand.Uint64(), 36)
}

// Push implements frontier.Frontier. Entries with an empty URL, a URL
// without a host or with a line break are skipped and reported in the
// returned error (one line per entry, naming the URL); the others are
// pushed.
func (f *Frontier) Push(ctx context.Context, entries ...frontier.Entry) (int, error) {
	if f.isClosed() {
		return 0, frontier.ErrClosed
	}
	var bad []error
	added := 0
	args := make([]any, 0, 2+4*min(len(entries), pushChunk))
	// While this Frontier holds a lease, URLs it knows the crawl has seen
	// this pass are left out (seenCache), and those pushed become known,
	// all under the salt of the epoch read here.
	cache := f.seen
	var salt uint64
	if cache != nil {
		var ok bool
		if salt, ok = cache.view(); !ok || !f.holding() {
			cache = nil
		}
	}
	var fps []uint64
	var skipped []frontier.Entry // left out as known
	flush := func() error {
		if len(args) <= 2 {
			return nil
		}
		var n int64
		retried, err := f.do(ctx, "push", func(ctx context.Context) error {
			var err error
			n, err = pushScript.Run(ctx, f.client, f.hosts, f.args(args...)...).Int64()
			return err
		})
		if err != nil {
			return err
		}
		added += int(n)
		args = args[:0]
		if cache != nil && retried {
			// Redis was unreachable and may have lost what it had seen
			// (do forgot the cache): trust nothing it said before.
			cache = nil
		}
		if cache != nil {
			for _, fp := range fps {
				cache.add(fp, salt)
			}
		}
		fps = fps[:0]
		return nil
	}
	for _, e := range entries {
		host := frontier.HostKey(e.URL)
		switch {
		case e.URL == "":
			bad = append(bad, errors.New("frontier/redis: push: empty URL"))
			continue
		case host == "":
			bad = append(bad, fmt.Errorf("frontier/redis: push: URL %q has no host", e.URL))
			continue
		case strings.ContainsAny(e.URL, "\r\n"):
			bad = append(bad, fmt.Errorf("frontier/redis: push: URL %q contains a line break", e.URL))
			continue
		}
		fp := frontier.Fingerprint(e.URL)
		if cache != nil {
			if cache.known(fp, salt) {
				f.skipped.Add(1)
				skipped = append(skipped, e)
				continue
			}
			fps = append(fps, fp)
		}
		if strings.ContainsAny(e.Referrer, "\r\n") {
			e.Referrer = dropLineBreaks.Replace(e.Referrer)
		}
		if len(args) == 0 {
			args = append(args, newToken(), int64(tokenTTL/time.Second))
		}
		b, m := seenKey(fp)
		args = append(args, b, m, host, encodeEntry(0, e))
		if len(args) >= 2+4*pushChunk {
			if err := flush(); err != nil {
				return added, err
			}
		}
	}
	if err := flush(); err != nil {
		return added, err
	}
	if len(skipped) > 0 && cache == nil {
		// A flush had to be retried: what was left out as known goes to
		// Redis after all (the cache is forgotten, so nothing is left
		// out this time).
		n, err := f.Push(ctx, skipped...)
		added += n
		if err != nil {
			return added, err
		}
	}
	if added > 0 {
		f.signal()
	}
	return added, errors.Join(bad...)
}

// dropLineBreaks removes what would break an encoded entry's lines.
var dropLineBreaks = strings.NewReplacer("\r", "", "\n", "")

// Next implements frontier.Frontier. It waits for a wake-up (a push, ack or
// retry by any process), the moment the schedule says something becomes
// ready, or at most Config.PollInterval, whichever comes first.
func (f *Frontier) Next(ctx context.Context) (*frontier.Lease, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if f.isClosed() {
			return nil, frontier.ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var res []any
		_, err := f.do(ctx, "next", func(ctx context.Context) error {
			var err error
			res, err = nextScript.Run(ctx, f.client, f.hosts,
				f.args(f.cfg.VisibilityTimeout.Milliseconds(), rand.Float64(), genToken())...).Slice()
			return err
		})
		if err != nil {
			return nil, err
		}
		l, done, err := f.leaseReply(res)
		switch {
		case err != nil:
			return nil, err
		case l != nil:
			return l, nil
		case done:
			return nil, frontier.ErrDone
		}
		wait := f.cfg.PollInterval
		if len(res) > 1 {
			if ms, ok := res[1].(int64); ok && ms >= 0 {
				wait = min(wait, time.Duration(ms)*time.Millisecond)
			}
		}
		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-f.done:
			return nil, frontier.ErrClosed
		case <-f.wake:
		case <-timer.C:
		}
	}
}

// leaseReply reads a nextScript reply: a lease, or done (nothing queued,
// delayed or leased), or neither (nothing ready now).
func (f *Frontier) leaseReply(res []any) (l *frontier.Lease, done bool, err error) {
	if len(res) == 0 {
		return nil, false, fmt.Errorf("frontier/redis: next: empty reply")
	}
	switch status, _ := res[0].(int64); status {
	case 1:
		l, err := f.lease(res)
		if err != nil {
			return nil, false, err
		}
		if more, _ := res[4].(int64); more == 1 {
			f.signal() // another host is ready: let the next waiter take it
		}
		return l, false, nil
	case 2:
		f.signal() // every waiter should see it
		return nil, true, nil
	}
	return nil, false, nil
}

// lease turns a nextScript reply into a Lease and records it as held.
func (f *Frontier) lease(res []any) (*frontier.Lease, error) {
	if len(res) != 7 {
		return nil, fmt.Errorf("frontier/redis: next: malformed reply %v", res)
	}
	id, _ := res[1].(string)
	host, _ := res[2].(string)
	enc, _ := res[3].(string)
	attempt, e, err := decodeEntry(enc)
	if err != nil {
		return nil, err
	}
	if f.seen != nil {
		// Before the lease is held (holding): a Push that sees it held
		// uses this lease's epoch.
		pass, _ := res[5].(int64)
		gen, _ := res[6].(string)
		f.seen.add(frontier.Fingerprint(e.URL), f.seen.setEpoch(pass, gen))
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		// Closed while the script ran: hand the lease straight back.
		ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
		defer cancel()
		releaseScript.Run(ctx, f.client, f.hosts, f.args(id, host, enc)...)
		return nil, frontier.ErrClosed
	}
	f.held[id] = held{host: host, entry: enc, at: f.now().UnixNano()}
	f.mu.Unlock()
	return &frontier.Lease{Entry: e, Host: host, ID: id, Attempt: attempt}, nil
}

// settle runs an Ack, Retry or Release script for l.
func (f *Frontier) settle(ctx context.Context, op string, s *goredis.Script, l *frontier.Lease, extra ...any) error {
	if f.isClosed() {
		return frontier.ErrClosed
	}
	if l == nil {
		return fmt.Errorf("frontier/redis: %s: nil lease: %w", op, frontier.ErrUnknownLease)
	}
	h := f.heldOf(l)
	var n int64
	retried, err := f.do(ctx, op, func(ctx context.Context) error {
		var err error
		n, err = s.Run(ctx, f.client, f.hosts, f.args(append([]any{l.ID, h.host, h.entry}, extra...)...)...).Int64()
		return err
	})
	if err != nil {
		return err
	}
	f.mu.Lock()
	delete(f.held, l.ID)
	f.mu.Unlock()
	if n == 0 && !retried {
		return fmt.Errorf("frontier/redis: %s %s: %w", op, l.URL, frontier.ErrUnknownLease)
	}
	if s != ackScript || n == 2 {
		f.signal() // a slot or an entry became available (or the crawl ended)
	}
	return nil
}

// heldOf returns what the settling scripts compare l against.
func (f *Frontier) heldOf(l *frontier.Lease) held {
	f.mu.Lock()
	h, ok := f.held[l.ID]
	f.mu.Unlock()
	if !ok {
		// A lease from another Frontier of the same crawl (or forged):
		// rebuild it.
		h = held{host: l.Host, entry: encodeEntry(l.Attempt, l.Entry)}
	}
	return h
}

// Ack implements frontier.Frontier.
func (f *Frontier) Ack(ctx context.Context, l *frontier.Lease) error {
	return f.settle(ctx, "ack", ackScript, l)
}

// AckLease implements frontier.AckLeaser: one script acknowledges l and
// leases the next ready entry, one round trip instead of two.
func (f *Frontier) AckLease(ctx context.Context, l *frontier.Lease) (*frontier.Lease, error) {
	if f.isClosed() {
		return nil, frontier.ErrClosed
	}
	if l == nil {
		return nil, fmt.Errorf("frontier/redis: ack: nil lease: %w", frontier.ErrUnknownLease)
	}
	h := f.heldOf(l)
	var res []any
	retried, err := f.do(ctx, "ack", func(ctx context.Context) error {
		var err error
		res, err = ackLeaseScript.Run(ctx, f.client, f.hosts,
			f.args(l.ID, h.host, h.entry, f.cfg.VisibilityTimeout.Milliseconds(), rand.Float64(), genToken())...).Slice()
		return err
	})
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	delete(f.held, l.ID)
	f.mu.Unlock()
	if len(res) == 0 {
		return nil, fmt.Errorf("frontier/redis: ack %s: empty reply", l.URL)
	}
	switch a, _ := res[0].(int64); {
	case a == 0 && retried:
		// The call whose reply was lost acknowledged l; whatever it
		// leased is lost with the reply, and expires like any lease
		// whose holder went away.
		return nil, nil
	case a == 0:
		return nil, fmt.Errorf("frontier/redis: ack %s: %w", l.URL, frontier.ErrUnknownLease)
	case a == 2:
		f.signal() // a slot or an entry became available (or the crawl ended)
	}
	next, _, err := f.leaseReply(res[1:])
	return next, err
}

// Retry implements frontier.Frontier. notBefore is turned into a delay from
// this process's clock, so it holds on the server's clock too.
func (f *Frontier) Retry(ctx context.Context, l *frontier.Lease, notBefore time.Time) error {
	now := f.now()
	delay := notBefore.Sub(now).Milliseconds()
	if delay < 0 {
		delay = 0
	}
	if d := notBefore.Sub(now); d > 0 && delay == 0 {
		delay = 1 // a sub-millisecond wait still waits
	}
	return f.settle(ctx, "retry", retryScript, l, delay)
}

// Release implements frontier.Frontier: the entry goes back to the head of
// its host's queue with its attempt unchanged.
func (f *Frontier) Release(ctx context.Context, l *frontier.Lease) error {
	return f.settle(ctx, "release", releaseScript, l)
}

// SetHostPolicy implements frontier.Frontier. The policy is stored in Redis
// and applies to every process of the crawl. A provisional policy
// (p.Provisional) is ignored when the host already has a policy: a process
// that meets a host after another has read its robots.txt does not undo
// that process's Crawl-delay or concurrency.
func (f *Frontier) SetHostPolicy(ctx context.Context, host string, p frontier.HostPolicy) error {
	if f.isClosed() {
		return frontier.ErrClosed
	}
	if host == "" || strings.ContainsAny(host, "\r\n") {
		return fmt.Errorf("frontier/redis: set host policy: bad host %q", host)
	}
	_, err := f.do(ctx, "set host policy", func(ctx context.Context) error {
		provisional := 0
		if p.Provisional {
			provisional = 1
		}
		return policyScript.Run(ctx, f.client, f.hosts, f.args(host, max(p.MaxInFlight, 0),
			p.Interval.Milliseconds(), p.Jitter.Milliseconds(), rand.Float64(), provisional)...).Err()
	})
	if err == nil {
		f.signal()
	}
	return err
}

// Stats implements frontier.Frontier: the figures are the crawl's, across
// every process.
func (f *Frontier) Stats(ctx context.Context) (frontier.Stats, error) {
	if f.isClosed() {
		return frontier.Stats{}, frontier.ErrClosed
	}
	var st frontier.Stats
	_, err := f.do(ctx, "stats", func(ctx context.Context) error {
		var vals *goredis.SliceCmd
		var leased, delayed *goredis.IntCmd
		_, err := f.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			vals = p.HMGet(ctx, f.prefix+"stats", "queued", "seen", "hosts")
			leased = p.ZCard(ctx, f.prefix+"leases")
			delayed = p.ZCard(ctx, f.prefix+"delayed")
			return nil
		})
		if err != nil {
			return err
		}
		v := vals.Val()
		st = frontier.Stats{
			Queued:  toInt(v[0]),
			Seen:    toInt(v[1]),
			Hosts:   toInt(v[2]),
			Leased:  leased.Val(),
			Delayed: delayed.Val(),
		}
		return nil
	})
	return st, err
}

func toInt(v any) int64 {
	s, _ := v.(string)
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// IncrCounters adds deltas to the crawl's shared counters (pages, errors,
// bytes: whatever the caller counts), so that every process can read the
// totals of all of them with Counters.
func (f *Frontier) IncrCounters(ctx context.Context, deltas map[string]int64) error {
	if f.isClosed() {
		return frontier.ErrClosed
	}
	if len(deltas) == 0 {
		return nil
	}
	_, err := f.do(ctx, "incr counters", func(ctx context.Context) error {
		_, err := f.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			for k, v := range deltas {
				if v != 0 {
					p.HIncrBy(ctx, f.prefix+"counters", k, v)
				}
			}
			return nil
		})
		return err
	})
	return err
}

// SetCounters records vals as this Frontier's own counters (pages, errors:
// whatever the caller counts), replacing the values it set before. The
// values are absolute, so a call retried after a lost reply is exact.
// Counters adds them up over every Frontier of the crawl.
func (f *Frontier) SetCounters(ctx context.Context, vals map[string]int64) error {
	if f.isClosed() {
		return frontier.ErrClosed
	}
	if len(vals) == 0 {
		return nil
	}
	fields := make([]any, 0, 2*len(vals))
	for k, v := range vals {
		fields = append(fields, f.id+"\n"+k, v)
	}
	_, err := f.do(ctx, "set counters", func(ctx context.Context) error {
		return f.client.HSet(ctx, f.prefix+"procs", fields...).Err()
	})
	return err
}

// Counters returns the crawl's shared counters, summed over every process:
// those added with IncrCounters or set with SetCounters (summed over the
// Frontiers that set them; "processes" counts those Frontiers), and the
// frontier's own: "acked" (leases acknowledged), "retried" (leases
// retried), "expired" (leases re-queued after the visibility timeout
// because their process stopped answering) and "hosts" (distinct hosts
// pushed).
func (f *Frontier) Counters(ctx context.Context) (map[string]int64, error) {
	if f.isClosed() {
		return nil, frontier.ErrClosed
	}
	var out map[string]int64
	_, err := f.do(ctx, "counters", func(ctx context.Context) error {
		var shared, procs *goredis.MapStringStringCmd
		_, err := f.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			shared = p.HGetAll(ctx, f.prefix+"counters")
			procs = p.HGetAll(ctx, f.prefix+"procs")
			return nil
		})
		if err != nil {
			return err
		}
		out = map[string]int64{}
		for k, v := range shared.Val() {
			out[k], _ = strconv.ParseInt(v, 10, 64)
		}
		ids := map[string]bool{}
		for k, v := range procs.Val() {
			id, name, ok := strings.Cut(k, "\n")
			if !ok {
				continue
			}
			n, _ := strconv.ParseInt(v, 10, 64)
			out[name] += n
			ids[id] = true
		}
		if len(ids) > 0 {
			out["processes"] = int64(len(ids))
		}
		return nil
	})
	return out, err
}

// Drop deletes every key of the crawl from Redis: its queues, seen set,
// leases and counters. Other processes of the crawl see an empty frontier.
func (f *Frontier) Drop(ctx context.Context) error {
	if f.isClosed() {
		return frontier.ErrClosed
	}
	if f.seen != nil {
		// Before and after: a lease granted meanwhile may bring the old
		// epoch back.
		f.seen.forget()
		defer f.seen.forget()
	}
	return DropCrawl(ctx, f.client, f.cfg.Name)
}

// DropCrawl deletes every key of the crawl name from Redis.
func DropCrawl(ctx context.Context, client goredis.UniversalClient, name string) error {
	if name == "" {
		name = DefaultName
	}
	pattern := globEscape("trawl:{"+name+"}:") + "*"
	drop := func(ctx context.Context, c *goredis.Client) error {
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
			if len(keys) == 1000 {
				if err := c.Unlink(ctx, keys...).Err(); err != nil {
					return err
				}
				keys = keys[:0]
			}
		}
		if err := iter.Err(); err != nil {
			return err
		}
		if len(keys) > 0 {
			return c.Unlink(ctx, keys...).Err()
		}
		return nil
	}
	var err error
	switch c := client.(type) {
	case *goredis.ClusterClient:
		err = c.ForEachMaster(ctx, drop)
	case *goredis.Client:
		err = drop(ctx, c)
	default:
		return fmt.Errorf("frontier/redis: drop: unsupported client type %T", client)
	}
	if err != nil {
		return fmt.Errorf("frontier/redis: drop crawl %q: %w", name, err)
	}
	return nil
}

func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Close implements frontier.Frontier. Leases this Frontier still holds go
// back to the head of their queues at once (not after the visibility
// timeout), so other processes pick them up.
func (f *Frontier) Close() error {
	f.closeOnce.Do(func() {
		f.mu.Lock()
		f.closed = true
		outstanding := f.held
		f.held = map[string]held{}
		f.mu.Unlock()
		close(f.done)
		if len(outstanding) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
			args := make([]any, 0, 3*len(outstanding))
			for id, h := range outstanding {
				args = append(args, id, h.host, h.entry)
			}
			if err := releaseScript.Run(ctx, f.client, f.hosts, f.args(args...)...).Err(); err != nil {
				f.log.Warn("frontier/redis: close: cannot hand back leases; they are re-queued after the visibility timeout",
					"crawl", f.cfg.Name, "leases", len(outstanding), "timeout", f.cfg.VisibilityTimeout, "err", err)
			}
			cancel()
		}
		f.cancel()
		f.pubsub.Close()
		f.wg.Wait()
		if f.owned {
			f.client.Close()
		}
	})
	return nil
}
