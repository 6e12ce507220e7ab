package session

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults used when the corresponding ConnectorConfig field is zero.
const (
	// DefaultLimit is the default total number of simultaneous connections (aiohttp: 100).
	DefaultLimit = 100
	// DefaultKeepAliveTimeout is how long an idle keep-alive connection is kept (aiohttp: 15 s).
	DefaultKeepAliveTimeout = 15 * time.Second
	// DefaultDNSCacheTTL is how long a resolved host name is cached (aiohttp: 10 s).
	DefaultDNSCacheTTL = 10 * time.Second
)

// Family chooses the IP address family used to connect.
type Family int

const (
	// FamilyAny connects over IPv4 or IPv6, trying addresses in the resolver's order.
	FamilyAny Family = iota
	// FamilyIPv4 connects over IPv4 only.
	FamilyIPv4
	// FamilyIPv6 connects over IPv6 only.
	FamilyIPv6
)

// Version chooses the HTTP protocol version.
type Version int

const (
	// HTTP11 speaks HTTP/1.1 only (aiohttp's default).
	HTTP11 Version = iota
	// HTTP2 negotiates HTTP/2 over TLS (ALPN "h2") and falls back to HTTP/1.1 for
	// servers that do not offer it and for plain http:// URLs.
	HTTP2
)

// Resolver looks host names up. *net.Resolver implements it.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

var _ Resolver = (*net.Resolver)(nil)

// ConnectorConfig configures a Connector: the connection pool, dialer, DNS cache and
// TLS settings (aiohttp's TCPConnector). The zero value is usable.
type ConnectorConfig struct {
	// Limit is the total number of requests that may hold a connection at once,
	// over all hosts; more wait in a queue (see Trace.ConnectionQueuedStart). As in
	// aiohttp, idle keep-alive connections do not count: they are kept (up to
	// LimitPerHost, or Limit, per host) until KeepAliveTimeout. 0 means
	// DefaultLimit; negative is an error.
	Limit int
	// LimitPerHost is the number of requests that may hold a connection to one
	// host (scheme, host and port) at once, which also bounds the connections
	// opened to it; up to LimitPerHost idle keep-alive connections per host are kept
	// so that reuse works under concurrency. 0 means no per-host limit beyond Limit
	// (a host then holds at most Limit connections, idle ones included); negative is
	// an error. A crawler's per-host concurrency is its own PerHost (the frontier's
	// limit), not this.
	LimitPerHost int
	// KeepAliveTimeout is how long an idle keep-alive connection stays in the pool.
	// 0 means DefaultKeepAliveTimeout; negative is an error.
	KeepAliveTimeout time.Duration
	// ForceClose closes every connection after its request (no keep-alive).
	ForceClose bool
	// DNSCacheTTL is how long resolved addresses are cached. 0 means
	// DefaultDNSCacheTTL; negative is an error.
	DNSCacheTTL time.Duration
	// NoDNSCache turns the DNS cache off: every new connection resolves its host.
	NoDNSCache bool
	// Resolver resolves host names. nil means net.DefaultResolver.
	Resolver Resolver
	// InsecureSkipVerify turns TLS certificate verification off.
	InsecureSkipVerify bool
	// RootCAs are the certificate authorities trusted for servers. nil means the
	// system pool (or TLSConfig's).
	RootCAs *x509.CertPool
	// Certificates are client certificates offered to servers that ask. nil means none.
	Certificates []tls.Certificate
	// TLSConfig is the base TLS configuration; it is cloned, and the three fields
	// above are applied over it when set. nil means a default configuration.
	TLSConfig *tls.Config
	// LocalAddr is the local IP address connections are made from. "" means any.
	LocalAddr string
	// Family restricts the address family. The zero value is FamilyAny.
	Family Family
	// Version is the HTTP version spoken. The zero value is HTTP11.
	Version Version
	// DialContext opens TCP connections to an already resolved "ip:port". It must
	// honour ctx (the sock-connect timeout is its deadline). nil means a net.Dialer
	// bound to LocalAddr.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Now is the clock used by the DNS cache. nil means time.Now.
	Now func() time.Time
}

// Connector owns the connection pool, the connection limits and the DNS cache. One
// Connector may be shared by several sessions (Config.Connector); it is safe for
// concurrent use.
type Connector struct {
	cfg       ConnectorConfig
	transport *http.Transport
	total     chan struct{}
	perHost   int

	mu    sync.Mutex
	hosts map[string]*hostSlots
	// h2 first-connection gate (Version HTTP2 only): while the first connection
	// to an https origin is being made, other requests to it wait, so that a
	// burst shares one multiplexed connection instead of dialing one each.
	h2warm map[string]chan struct{}
	h2seen map[string]struct{}

	dns    dnsCache
	dialer net.Dialer

	closed   atomic.Bool
	opened   atomic.Int64
	inflight atomic.Int64 // requests in flight over all sessions
}

type hostSlots struct {
	sem  chan struct{}
	refs int
}

// NewConnector validates cfg and builds a Connector.
func NewConnector(cfg ConnectorConfig) (*Connector, error) {
	switch {
	case cfg.Limit < 0:
		return nil, fmt.Errorf("session: ConnectorConfig.Limit must not be negative (got %d)", cfg.Limit)
	case cfg.LimitPerHost < 0:
		return nil, fmt.Errorf("session: ConnectorConfig.LimitPerHost must not be negative (got %d)", cfg.LimitPerHost)
	case cfg.KeepAliveTimeout < 0:
		return nil, fmt.Errorf("session: ConnectorConfig.KeepAliveTimeout must not be negative (got %s)", cfg.KeepAliveTimeout)
	case cfg.DNSCacheTTL < 0:
		return nil, fmt.Errorf("session: ConnectorConfig.DNSCacheTTL must not be negative (got %s)", cfg.DNSCacheTTL)
	case cfg.Family < FamilyAny || cfg.Family > FamilyIPv6:
		return nil, fmt.Errorf("session: ConnectorConfig.Family: unknown family %d", cfg.Family)
	case cfg.Version < HTTP11 || cfg.Version > HTTP2:
		return nil, fmt.Errorf("session: ConnectorConfig.Version: unknown version %d", cfg.Version)
	}
	if cfg.Limit == 0 {
		cfg.Limit = DefaultLimit
	}
	if cfg.KeepAliveTimeout == 0 {
		cfg.KeepAliveTimeout = DefaultKeepAliveTimeout
	}
	if cfg.DNSCacheTTL == 0 {
		cfg.DNSCacheTTL = DefaultDNSCacheTTL
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Connector{
		cfg:     cfg,
		total:   make(chan struct{}, cfg.Limit),
		perHost: cfg.LimitPerHost,
		hosts:   make(map[string]*hostSlots),
		dns: dnsCache{
			ttl:      cfg.DNSCacheTTL,
			off:      cfg.NoDNSCache,
			now:      cfg.Now,
			resolver: cfg.Resolver,
			entries:  make(map[string]dnsEntry),
		},
	}
	if cfg.LocalAddr != "" {
		ip := net.ParseIP(cfg.LocalAddr)
		if ip == nil {
			return nil, fmt.Errorf("session: ConnectorConfig.LocalAddr: %q is not an IP address", cfg.LocalAddr)
		}
		c.dialer.LocalAddr = &net.TCPAddr{IP: ip}
	}
	var tlsCfg *tls.Config
	if cfg.TLSConfig != nil {
		tlsCfg = cfg.TLSConfig.Clone()
	} else {
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if cfg.InsecureSkipVerify {
		tlsCfg.InsecureSkipVerify = true
	}
	if cfg.RootCAs != nil {
		tlsCfg.RootCAs = cfg.RootCAs
	}
	if cfg.Certificates != nil {
		tlsCfg.Certificates = cfg.Certificates
	}
	// Without a per-host limit a host may still hold at most Limit
	// connections (busy, idle or being dialed): at most Limit requests are
	// in flight, and a cap keeps a request from dialing a new connection
	// while one about to be released would serve it, only for the surplus
	// to be closed later.
	perHostConns := cfg.LimitPerHost
	if perHostConns == 0 {
		perHostConns = cfg.Limit
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	if cfg.Version == HTTP2 {
		protocols.SetHTTP2(true)
		tlsCfg.NextProtos = nil // let the transport set ALPN
	}
	c.transport = &http.Transport{
		Proxy:                  c.proxy,
		DialContext:            c.dial,
		TLSClientConfig:        tlsCfg,
		MaxIdleConns:           0, // idle connections expire after KeepAliveTimeout
		MaxIdleConnsPerHost:    perHostConns,
		MaxConnsPerHost:        perHostConns,
		IdleConnTimeout:        cfg.KeepAliveTimeout,
		DisableKeepAlives:      cfg.ForceClose,
		DisableCompression:     true, // the session decodes bodies itself, under its size cap
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 1 << 20,
		Protocols:              protocols,
	}
	return c, nil
}

// Close closes the idle connections and refuses new requests through sessions built
// on this connector with ErrClosed; requests in flight finish. It is idempotent.
func (c *Connector) Close() error {
	c.closed.Store(true)
	if c.inflight.Load() == 0 {
		c.transport.CloseIdleConnections()
	}
	return nil
}

// end unregisters a request in flight; the last one out of a closed connector
// closes the connections that went idle.
func (c *Connector) end() {
	if c.inflight.Add(-1) == 0 && c.closed.Load() {
		c.transport.CloseIdleConnections()
	}
}

// ConnsOpened reports how many connections this connector has dialed, over all
// sessions that share it.
func (c *Connector) ConnsOpened() int64 { return c.opened.Load() }

// acquire takes a per-host slot (first, so that a request waiting for a busy host
// holds no total slot) and then a total slot. The returned release gives both back.
func (c *Connector) acquire(ctx context.Context, host string, tr traces) (release func(), err error) {
	var hs *hostSlots
	if c.perHost > 0 {
		c.mu.Lock()
		hs = c.hosts[host]
		if hs == nil {
			hs = &hostSlots{sem: make(chan struct{}, c.perHost)}
			c.hosts[host] = hs
		}
		hs.refs++
		c.mu.Unlock()
	}
	unref := func() {
		if hs == nil {
			return
		}
		c.mu.Lock()
		hs.refs--
		if hs.refs == 0 {
			delete(c.hosts, host)
		}
		c.mu.Unlock()
	}
	queued := false
	take := func(sem chan struct{}) error {
		select {
		case sem <- struct{}{}:
			return nil
		default:
		}
		if !queued {
			queued = true
			tr.queuedStart(host)
		}
		select {
		case sem <- struct{}{}:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	if hs != nil {
		if err := take(hs.sem); err != nil {
			tr.queuedEnd(host)
			unref()
			return nil, err
		}
	}
	if err := take(c.total); err != nil {
		tr.queuedEnd(host)
		if hs != nil {
			<-hs.sem
		}
		unref()
		return nil, err
	}
	if queued {
		tr.queuedEnd(host)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-c.total
			if hs != nil {
				<-hs.sem
			}
			unref()
		})
	}, nil
}

// maxH2Seen bounds the memory of origins whose first connection was made.
const maxH2Seen = 1 << 14

// h2Gate lets the first request to an https origin connect alone (see h2warm).
// The returned done must be called once that request has its connection or has
// failed to get one; either way, later requests then proceed concurrently.
func (c *Connector) h2Gate(ctx context.Context, key string) (done func(), err error) {
	for {
		c.mu.Lock()
		if _, ok := c.h2seen[key]; ok {
			c.mu.Unlock()
			return func() {}, nil
		}
		ch, warming := c.h2warm[key]
		if !warming {
			ch = make(chan struct{})
			if c.h2warm == nil {
				c.h2warm = make(map[string]chan struct{})
				c.h2seen = make(map[string]struct{})
			}
			c.h2warm[key] = ch
			c.mu.Unlock()
			var once sync.Once
			return func() {
				once.Do(func() {
					c.mu.Lock()
					delete(c.h2warm, key)
					if len(c.h2seen) >= maxH2Seen {
						clear(c.h2seen)
					}
					c.h2seen[key] = struct{}{}
					c.mu.Unlock()
					close(ch)
				})
			}, nil
		}
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// proxy is the transport's Proxy: it asks the session that sent the request.
func (c *Connector) proxy(r *http.Request) (*url.URL, error) {
	st := stateFrom(r.Context())
	if st == nil || st.proxy == nil {
		return nil, nil
	}
	return st.proxy(r)
}

// dial resolves addr's host through the DNS cache and connects to one of its
// addresses of the configured family, under the sock-connect timeout.
func (c *Connector) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	st := stateFrom(ctx)
	var tr traces
	if st != nil {
		tr = st.traces
		if d := st.sockConnect; d > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeoutCause(ctx, d, &TimeoutError{Which: "sock connect", After: d})
			defer cancel()
		}
	}
	tr.createStart(addr)
	conn, err := c.dialAddr(ctx, network, addr, tr)
	if err != nil && ctx.Err() != nil {
		var te *TimeoutError
		if cause := context.Cause(ctx); errors.As(cause, &te) {
			err = te
		}
	}
	if err != nil {
		tr.createEnd(TraceConnCreated{Host: addr, Err: err})
		return nil, err
	}
	c.opened.Add(1)
	if st != nil && st.stats != nil {
		st.stats.connsOpened.Add(1)
	}
	tr.createEnd(TraceConnCreated{Host: addr, RemoteAddr: conn.RemoteAddr()})
	return conn, nil
}

func (c *Connector) dialAddr(ctx context.Context, network, addr string, tr traces) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ips, err := c.dns.lookup(ctx, host, tr)
	if err != nil {
		return nil, err
	}
	var firstErr error
	tried := 0
	for _, ip := range ips {
		is4 := ip.IP.To4() != nil
		nw := "tcp6"
		if is4 {
			nw = "tcp4"
		}
		if (c.cfg.Family == FamilyIPv4 && !is4) || (c.cfg.Family == FamilyIPv6 && is4) {
			continue
		}
		if network == "tcp4" && !is4 || network == "tcp6" && is4 {
			continue
		}
		tried++
		target := net.JoinHostPort(ip.String(), port)
		var conn net.Conn
		if c.cfg.DialContext != nil {
			conn, err = c.cfg.DialContext(ctx, nw, target)
		} else {
			conn, err = c.dialer.DialContext(ctx, nw, target)
		}
		if err == nil {
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if tried == 0 {
		fam := map[Family]string{FamilyAny: "", FamilyIPv4: "IPv4 ", FamilyIPv6: "IPv6 "}[c.cfg.Family]
		return nil, fmt.Errorf("session: no %saddress for host %s", fam, host)
	}
	return nil, firstErr
}

// dnsCache caches lookups for ttl. Entries are swept when the map grows.
type dnsCache struct {
	ttl      time.Duration
	off      bool
	now      func() time.Time
	resolver Resolver

	mu      sync.Mutex
	entries map[string]dnsEntry
	calls   map[string]*dnsCall // lookups in progress, shared by concurrent dials
}

type dnsCall struct {
	done  chan struct{}
	addrs []net.IPAddr
	err   error
}

type dnsEntry struct {
	addrs   []net.IPAddr
	expires time.Time
}

const dnsSweepAt = 4096

func (d *dnsCache) lookup(ctx context.Context, host string, tr traces) ([]net.IPAddr, error) {
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil {
		return []net.IPAddr{{IP: ip}}, nil
	}
	key := strings.ToLower(host)
	if d.off {
		return d.resolve(ctx, host, tr)
	}
	d.mu.Lock()
	if e, ok := d.entries[key]; ok && d.now().Before(e.expires) {
		d.mu.Unlock()
		tr.dnsCacheHit(host)
		return e.addrs, nil
	}
	if c, ok := d.calls[key]; ok {
		// another dial is resolving this host: share its answer
		d.mu.Unlock()
		select {
		case <-c.done:
			return c.addrs, c.err
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	c := &dnsCall{done: make(chan struct{})}
	if d.calls == nil {
		d.calls = make(map[string]*dnsCall)
	}
	d.calls[key] = c
	d.mu.Unlock()

	c.addrs, c.err = d.resolve(ctx, host, tr)
	now := d.now()
	d.mu.Lock()
	delete(d.calls, key)
	if c.err == nil {
		if len(d.entries) >= dnsSweepAt {
			for k, e := range d.entries {
				if !now.Before(e.expires) {
					delete(d.entries, k)
				}
			}
		}
		d.entries[key] = dnsEntry{addrs: c.addrs, expires: now.Add(d.ttl)}
	}
	d.mu.Unlock()
	close(c.done)
	return c.addrs, c.err
}

func (d *dnsCache) resolve(ctx context.Context, host string, tr traces) ([]net.IPAddr, error) {
	tr.dnsStart(host)
	addrs, err := d.resolver.LookupIPAddr(ctx, host)
	if err == nil && len(addrs) == 0 {
		err = fmt.Errorf("session: no addresses for host %s", host)
	}
	tr.dnsEnd(TraceDNS{Host: host, Addrs: addrs, Err: err})
	return addrs, err
}

// reqState travels in the request context down to the connector's dial and proxy
// functions, which the transport calls without knowing the session.
type reqState struct {
	stats       *counters
	traces      traces
	sockConnect time.Duration
	proxy       func(*http.Request) (*url.URL, error)
}

type stateKey struct{}

func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey{}).(*reqState)
	return st
}
