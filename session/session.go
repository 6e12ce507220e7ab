package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// Defaults used when the corresponding Config field is zero.
const (
	// DefaultMaxBodySize caps response bodies (after decompression): 10 MiB.
	DefaultMaxBodySize = 10 << 20
	// DefaultMaxRedirects is the longest redirect chain followed.
	DefaultMaxRedirects = 10
	// DefaultUserAgent is sent when neither Config.UserAgent nor a User-Agent header is set.
	DefaultUserAgent = "trawl/1.0 (+https://github.com/trawlhq/trawl)"
	// DefaultTotalTimeout bounds a whole request (aiohttp: 300 s).
	DefaultTotalTimeout = 5 * time.Minute
	// DefaultSockConnectTimeout bounds one TCP connect (aiohttp: 30 s).
	DefaultSockConnectTimeout = 30 * time.Second
)

// acceptEncoding is sent when decompression is on.
const acceptEncoding = "gzip, deflate, br, zstd"

// Timeouts bound a request (aiohttp's ClientTimeout). In Config.Timeouts, 0 means
// the field's default; in Request.Timeout, 0 means the session's value. In both, a
// negative value means no timeout.
type Timeouts struct {
	// Total bounds the whole request: queueing, connecting, every redirect hop and
	// the body read. Default DefaultTotalTimeout.
	Total time.Duration
	// Connect bounds, per hop, the wait for a free slot in the pool plus the
	// establishment of a connection (DNS, TCP and TLS). Default none.
	Connect time.Duration
	// SockConnect bounds one TCP connect (DNS included). Default DefaultSockConnectTimeout.
	SockConnect time.Duration
	// SockRead bounds the idle time waiting for the response head and between two
	// reads of the body. Default none.
	SockRead time.Duration
}

func pick(req, sess, def time.Duration) time.Duration {
	v := sess
	if v == 0 {
		v = def
	}
	if req != 0 {
		v = req
	}
	if v < 0 {
		return 0
	}
	return v
}

func (t Timeouts) merge(req *Timeouts) Timeouts {
	var r Timeouts
	if req != nil {
		r = *req
	}
	return Timeouts{
		Total:       pick(r.Total, t.Total, DefaultTotalTimeout),
		Connect:     pick(r.Connect, t.Connect, 0),
		SockConnect: pick(r.SockConnect, t.SockConnect, DefaultSockConnectTimeout),
		SockRead:    pick(r.SockRead, t.SockRead, 0),
	}
}

// BasicAuth holds HTTP basic-auth credentials.
type BasicAuth struct {
	User     string
	Password string
}

// Config configures a Session (aiohttp's ClientSession arguments). The zero value
// is usable: a connector of its own with default limits, a cookie jar, decompression
// on, a 10 MiB body cap, 10 redirects, default timeouts.
type Config struct {
	// Connector is a connector shared with other sessions. nil means the session
	// builds its own from ConnectorConfig and closes it on Close.
	Connector *Connector
	// ConnectorOwner makes Close also close a shared Connector (aiohttp's
	// connector_owner). Ignored when Connector is nil (the session owns its own).
	ConnectorOwner bool
	// ConnectorConfig configures the session's own connector when Connector is nil.
	ConnectorConfig ConnectorConfig

	// Header holds default headers sent with every request; a request's own
	// headers replace them key by key. nil means none.
	Header http.Header
	// UserAgent is the User-Agent sent when no header sets one. "" means DefaultUserAgent.
	// A User-Agent in Header wins over it (it is the more specific setting); a
	// request's own User-Agent header wins over both. The session is the one
	// home of the agent: a crawler sends no User-Agent of its own and derives its
	// robots.txt product token from Session.UserAgent.
	UserAgent string
	// SkipAutoHeaders names automatic headers to leave out: "User-Agent" and
	// "Accept-Encoding" (case-insensitive). Explicit headers are still sent.
	SkipAutoHeaders []string
	// Auth is sent as basic auth on every request, but never to another origin
	// (scheme, host, port) than the request's own after a redirect. nil means none.
	Auth *BasicAuth

	// Cookies are initial cookies. A cookie with a Domain goes into the jar for that
	// domain; one without is sent to every host (as aiohttp's shared cookies).
	Cookies []*http.Cookie
	// NoCookies turns cookie handling off: no jar, Set-Cookie ignored.
	NoCookies bool
	// CookieJar replaces the default jar (net/http/cookiejar with the public suffix
	// list). Export/ImportCookies work only with the default jar. nil means the default.
	CookieJar http.CookieJar

	// JSONEncode encodes PostJSON bodies. nil means encoding/json.Marshal.
	JSONEncode func(v any) ([]byte, error)

	// Timeouts are the session's timeouts; see Timeouts for what zero means.
	Timeouts Timeouts
	// RaiseForStatus makes a status >= 400 an error (*Error wrapping *StatusError).
	// Request.RaiseForStatus overrides it.
	RaiseForStatus bool
	// NoDecompress turns automatic decompression off: bodies are returned as the
	// server sent them and no Accept-Encoding is added.
	NoDecompress bool
	// NoRequoteRedirectURL sends redirect Location URLs with their percent-encoding
	// as the server wrote it. By default it is normalized (escapes of unreserved
	// characters decoded, hex digits upper-cased). In both cases bytes that cannot
	// appear in a request line (spaces, controls, non-ASCII) are escaped.
	NoRequoteRedirectURL bool
	// TrustEnv uses HTTP_PROXY, HTTPS_PROXY and NO_PROXY (read once, in New) to
	// choose a proxy when Proxy is nil. false means the environment is ignored.
	TrustEnv bool
	// Proxy chooses the proxy for each request (nil URL = direct). nil means
	// direct, or the environment's choice when TrustEnv.
	Proxy func(*http.Request) (*url.URL, error)
	// Traces are called on request and connection events. nil means none.
	Traces []*Trace
	// WrapTransport, when set, is called once by New with the round tripper that
	// sends requests on the connector's pooled connections, and the one it returns
	// is used for every request the session sends (each redirect hop, robots.txt
	// and sitemaps included). It is the place for transport middleware:
	// OpenTelemetry's otelhttp.NewTransport, recording raw exchanges, a test
	// transport. It is the transport hook of a crawl too: the crawler sends
	// every request through its session. nil means none.
	//
	// The contract, for the returned http.RoundTripper: it is called concurrently
	// from many goroutines; it runs after the request took its per-host and total
	// connection slots and before the session reads the body, so the limits hold
	// and the response body it sees (and must pass on) is the body as received on
	// the wire, still compressed (the session decompresses above it). The request
	// already carries the session's headers, cookies and auth; the middleware may
	// add or change headers, and it must return the response of next (or one of
	// its own) with a Body that the session will read and close. Errors it returns
	// are reported as the request's error (op "send").
	WrapTransport func(next http.RoundTripper) http.RoundTripper

	// MaxRedirects is the longest redirect chain followed. 0 means
	// DefaultMaxRedirects; negative means redirects are not followed (the 3xx
	// response is returned).
	MaxRedirects int
	// CheckRedirect, when set, is called before each redirect hop is followed, after
	// the max-redirects check and before Request.CheckRedirect. A non-nil error
	// stops the chain (Do returns an *Error with Op "redirect" wrapping it).
	CheckRedirect func(next *url.URL, via []*url.URL) error
	// MaxBodySize caps response bodies after decompression; the rest is discarded
	// and Response.Truncated set. 0 means DefaultMaxBodySize; negative means no cap.
	MaxBodySize int64
}

// Request is one HTTP request.
type Request struct {
	// Method is the HTTP method. "" means GET.
	Method string
	// URL is the absolute http or https URL.
	URL string
	// Header is merged over the session's default headers (key by key).
	Header http.Header
	// Body is the request body. nil means none.
	Body []byte
	// MaxBodySize caps the response body. 0 means the session's Config.MaxBodySize;
	// negative means no cap.
	MaxBodySize int64
	// Timeout overrides the session's timeouts field by field. nil means the session's.
	Timeout *Timeouts
	// RaiseForStatus overrides Config.RaiseForStatus. nil means the session's.
	RaiseForStatus *bool
	// CheckRedirect, when set, is called before each redirect hop is followed (after
	// the session's own max-redirects check and CheckRedirect). A non-nil error stops
	// the chain; Do returns an *Error (Op "redirect", URL = the refused hop) wrapping it.
	CheckRedirect func(next *url.URL, via []*url.URL) error
}

// Response is a complete response: its body has been read (up to the cap) and the
// connection returned to the pool.
type Response struct {
	// URL is the final URL, after redirects.
	URL        *url.URL
	StatusCode int
	Header     http.Header
	// Proto is "HTTP/1.1" or "HTTP/2.0".
	Proto string
	// Body is the body after decompression, at most the cap. It is pooled: see Release.
	Body []byte
	// Truncated reports that the body was longer than the cap.
	Truncated bool
	// Elapsed is the time from Do to the end of the body.
	Elapsed time.Duration
	// Redirects lists the URLs that answered with a redirect that was followed, in
	// order: Redirects[0] is the requested URL, and the chain is Redirects..., URL.
	// Empty when there was no redirect.
	Redirects []*url.URL
	// ConnReused reports that the final hop went over a pooled keep-alive connection.
	ConnReused bool

	buf *bytes.Buffer
}

// Stats are live counters of a session.
type Stats struct {
	// Requests counts requests written to the wire, redirect hops included.
	Requests int64
	// ConnsOpened counts connections dialed for this session's requests.
	ConnsOpened int64
	// ConnsReused counts requests sent over a pooled keep-alive connection.
	ConnsReused int64
	// BytesRead counts response body bytes read off the wire (before decompression).
	BytesRead int64
	// Responses counts response heads received, redirect hops included.
	Responses int64
	// Failed counts requests handed to the transport that got no response
	// (connection refused or reset, DNS, TLS, timeouts before the head).
	// Responses + Failed is every request the session tried to send.
	Failed int64
}

// StatusCounts counts response heads by status code, redirect hops
// included: the counts of Stats.Responses. It is safe for concurrent use.
type StatusCounts struct {
	codes [600]atomic.Int64 // 0..599
	other atomic.Int64      // codes outside 0..599
}

// Range calls fn for every status code counted at least once, in
// increasing order; codes outside 100..599 are reported as 0.
func (c *StatusCounts) Range(fn func(code int, n int64)) {
	if n := c.other.Load() + c.codes[0].Load(); n > 0 {
		fn(0, n)
	}
	for code := 1; code < len(c.codes); code++ {
		if n := c.codes[code].Load(); n > 0 {
			fn(code, n)
		}
	}
}

func (c *StatusCounts) add(code int) {
	if code > 0 && code < len(c.codes) {
		c.codes[code].Add(1)
		return
	}
	c.other.Add(1)
}

type counters struct {
	requests, connsOpened, connsReused, bytesRead atomic.Int64
	responses, failed                             atomic.Int64
	status                                        StatusCounts
}

// Session sends HTTP requests over one shared connection pool, cookie jar and set
// of defaults. Create one per application and share it: it is safe for concurrent
// use by any number of goroutines.
type Session struct {
	conn      *Connector
	ownsConn  bool
	jar       http.CookieJar
	recJar    *recordingJar
	shared    []*http.Cookie // initial cookies without a domain
	header    http.Header
	skipUA    bool
	skipAE    bool
	userAgent string
	auth      *BasicAuth
	encode    func(any) ([]byte, error)
	timeouts  Timeouts
	raise     bool
	decode    bool
	requote   bool
	proxy     func(*http.Request) (*url.URL, error)
	rt        http.RoundTripper // the connector's transport, wrapped by Config.WrapTransport
	traces    traces
	maxRedir  int
	checkRed  func(*url.URL, []*url.URL) error
	maxBody   int64

	stats  counters
	closed atomic.Bool
}

// New builds a Session from cfg. It returns an error naming the field when cfg is
// invalid (a negative limit, say).
func New(cfg Config) (*Session, error) {
	s := &Session{
		header:    canonicalHeader(cfg.Header),
		userAgent: cfg.UserAgent,
		auth:      cfg.Auth,
		encode:    cfg.JSONEncode,
		timeouts:  cfg.Timeouts,
		raise:     cfg.RaiseForStatus,
		decode:    !cfg.NoDecompress,
		requote:   !cfg.NoRequoteRedirectURL,
		proxy:     cfg.Proxy,
		maxRedir:  cfg.MaxRedirects,
		checkRed:  cfg.CheckRedirect,
		maxBody:   cfg.MaxBodySize,
	}
	for _, t := range cfg.Traces {
		if t != nil {
			s.traces = append(s.traces, t)
		}
	}
	if s.userAgent == "" {
		s.userAgent = DefaultUserAgent
	}
	if s.encode == nil {
		s.encode = json.Marshal
	}
	if s.maxRedir == 0 {
		s.maxRedir = DefaultMaxRedirects
	}
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxBodySize
	}
	for _, h := range cfg.SkipAutoHeaders {
		switch http.CanonicalHeaderKey(h) {
		case "User-Agent":
			s.skipUA = true
		case "Accept-Encoding":
			s.skipAE = true
		default:
			return nil, fmt.Errorf("session: Config.SkipAutoHeaders: %q is not an automatic header (User-Agent, Accept-Encoding)", h)
		}
	}
	if s.proxy == nil && cfg.TrustEnv {
		pf := httpproxy.FromEnvironment().ProxyFunc()
		s.proxy = func(r *http.Request) (*url.URL, error) { return pf(r.URL) }
	}
	if cfg.Connector != nil {
		s.conn = cfg.Connector
		s.ownsConn = cfg.ConnectorOwner
	} else {
		c, err := NewConnector(cfg.ConnectorConfig)
		if err != nil {
			return nil, err
		}
		s.conn = c
		s.ownsConn = true
	}
	s.rt = s.conn.transport
	if cfg.WrapTransport != nil {
		if s.rt = cfg.WrapTransport(s.conn.transport); s.rt == nil {
			if s.ownsConn {
				s.conn.Close()
			}
			return nil, fmt.Errorf("session: Config.WrapTransport returned a nil RoundTripper")
		}
	}
	if !cfg.NoCookies {
		if cfg.CookieJar != nil {
			s.jar = cfg.CookieJar
		} else {
			rj, err := newRecordingJar(cfg.ConnectorConfig.Now)
			if err != nil {
				return nil, err
			}
			s.jar, s.recJar = rj, rj
		}
		for i, c := range cfg.Cookies {
			if c == nil || c.Name == "" {
				return nil, fmt.Errorf("session: Config.Cookies[%d]: cookie without a name", i)
			}
			if c.Domain == "" {
				s.shared = append(s.shared, c)
				continue
			}
			host := strings.TrimPrefix(c.Domain, ".")
			scheme := "http"
			if c.Secure {
				scheme = "https"
			}
			s.jar.SetCookies(&url.URL{Scheme: scheme, Host: host, Path: "/"}, []*http.Cookie{c})
		}
	}
	return s, nil
}

// canonicalHeader copies h with canonical keys ("user-agent" becomes
// "User-Agent"), so that the default headers merge key by key.
func canonicalHeader(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, v := range h {
		ck := http.CanonicalHeaderKey(k)
		out[ck] = append(out[ck], v...)
	}
	return out
}

// Get sends a GET request.
func (s *Session) Get(ctx context.Context, url string) (*Response, error) {
	return s.Do(ctx, &Request{Method: http.MethodGet, URL: url})
}

// Head sends a HEAD request.
func (s *Session) Head(ctx context.Context, url string) (*Response, error) {
	return s.Do(ctx, &Request{Method: http.MethodHead, URL: url})
}

// PostJSON sends v, encoded by Config.JSONEncode, as an application/json POST body.
func (s *Session) PostJSON(ctx context.Context, url string, v any) (*Response, error) {
	body, err := s.encode(v)
	if err != nil {
		return nil, &Error{Op: "parse", URL: url, Err: fmt.Errorf("encode json body: %w", err)}
	}
	h := http.Header{"Content-Type": {"application/json"}}
	return s.Do(ctx, &Request{Method: http.MethodPost, URL: url, Header: h, Body: body})
}

// PostForm sends form as an application/x-www-form-urlencoded POST body.
func (s *Session) PostForm(ctx context.Context, url string, form url.Values) (*Response, error) {
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	return s.Do(ctx, &Request{Method: http.MethodPost, URL: url, Header: h, Body: []byte(form.Encode())})
}

// Stats returns the live counters.
func (s *Session) Stats() Stats {
	return Stats{
		Requests:    s.stats.requests.Load(),
		ConnsOpened: s.stats.connsOpened.Load(),
		ConnsReused: s.stats.connsReused.Load(),
		BytesRead:   s.stats.bytesRead.Load(),
		Responses:   s.stats.responses.Load(),
		Failed:      s.stats.failed.Load(),
	}
}

// StatusCounts returns the live counts of response heads by status code.
func (s *Session) StatusCounts() *StatusCounts { return &s.stats.status }

// UserAgent returns the User-Agent the session sends when a request sets none:
// Config.Header's User-Agent, else Config.UserAgent, else DefaultUserAgent; ""
// when SkipAutoHeaders leaves it out and no header sets one.
func (s *Session) UserAgent() string {
	if ua, ok := s.header["User-Agent"]; ok {
		if len(ua) == 0 {
			return ""
		}
		return ua[0]
	}
	if s.skipUA {
		return ""
	}
	return s.userAgent
}

// Jar returns the cookie jar, or nil when cookies are off.
func (s *Session) Jar() http.CookieJar { return s.jar }

// Connector returns the session's connector.
func (s *Session) Connector() *Connector { return s.conn }

// Close makes later requests fail with ErrClosed; requests in flight finish. When
// the session owns its connector (or Config.ConnectorOwner is set) it closes it too:
// idle connections now, the others as soon as the requests using them finish. Close
// is idempotent and does not block.
func (s *Session) Close() error {
	s.closed.Store(true)
	if s.ownsConn {
		return s.conn.Close()
	}
	return nil
}

// begin registers a request in flight; it fails when the session or its connector
// is closed.
func (s *Session) begin() bool {
	s.conn.inflight.Add(1)
	if s.closed.Load() || s.conn.closed.Load() {
		s.conn.end()
		return false
	}
	return true
}

// Do sends req, follows redirects, reads the body and returns the response. Every
// error is an *Error. A non-2xx status is not an error unless RaiseForStatus.
func (s *Session) Do(ctx context.Context, req *Request) (*Response, error) {
	if req == nil {
		return nil, &Error{Op: "parse", Err: errors.New("nil request")}
	}
	if ctx == nil {
		return nil, &Error{Op: "parse", URL: req.URL, Err: errors.New("nil context")}
	}
	if !s.begin() {
		return nil, &Error{Op: "closed", URL: req.URL, Err: ErrClosed}
	}
	defer s.conn.end()
	return s.do(ctx, req)
}
