// Package session sends HTTP requests over ONE pooled, keep-alive connection pool
// shared by every request of an application: the Go counterpart of Python aiohttp's
// ClientSession. A Session owns (or shares) a Connector — the connection pool with
// its total and per-host limits, the DNS cache and the TLS settings — plus a cookie
// jar, default headers, timeouts and a redirect policy.
//
// Don't create a session per request: one session per application performs all
// requests, and connection reuse plus keep-alive speed up the whole crawl. A Session
// is safe for concurrent use by any number of goroutines.
//
//	s, err := session.New(session.Config{ConnectorConfig: session.ConnectorConfig{LimitPerHost: 4}})
//	...
//	defer s.Close()
//	resp, err := s.Get(ctx, "https://example.com/")
//	if err != nil { ... }          // always an *Error naming the URL, the operation and the cause
//	defer resp.Release()           // optional: recycles the body buffer
//	text, err := resp.Text()       // body decoded to UTF-8 from its charset
//
// Do reads the whole body (decompressed, capped) before it returns, so the connection
// is back in the pool when the caller gets the Response. A non-2xx status is a
// response, not an error, unless RaiseForStatus is on.
//
// # aiohttp to session
//
//	| aiohttp ClientSession / TCPConnector   | session                                                          |
//	|----------------------------------------|------------------------------------------------------------------|
//	| connector=TCPConnector(...)            | Config.ConnectorConfig (own connector) or Config.Connector       |
//	|   limit                                | ConnectorConfig.Limit (total requests holding a connection;      |
//	|                                        | idle connections do not count, as in aiohttp); default 100       |
//	|   limit_per_host                       | ConnectorConfig.LimitPerHost (bounds in-flight requests AND open |
//	|                                        | connections per host; keeps that many idle conns per host)       |
//	|   keepalive_timeout                    | ConnectorConfig.KeepAliveTimeout; default 15 s                   |
//	|   force_close                          | ConnectorConfig.ForceClose                                       |
//	|   use_dns_cache, ttl_dns_cache         | ConnectorConfig.NoDNSCache, DNSCacheTTL (default 10 s), Resolver |
//	|   ssl                                  | ConnectorConfig.InsecureSkipVerify, RootCAs, Certificates,       |
//	|                                        | TLSConfig                                                        |
//	|   local_addr                           | ConnectorConfig.LocalAddr                                        |
//	|   family                               | ConnectorConfig.Family (FamilyAny, FamilyIPv4, FamilyIPv6)       |
//	| connector_owner                        | Config.ConnectorOwner (a shared Connector is not closed by       |
//	|                                        | Session.Close unless set); a session's own connector is closed   |
//	| cookies                                | Config.Cookies (with Domain: into the jar; without: every host)  |
//	| cookie_jar                             | one net/http/cookiejar (public suffix list) shared by all        |
//	|                                        | requests, Config.CookieJar, Config.NoCookies; Session.Jar,       |
//	|                                        | ExportCookies / ImportCookies (JSON)                             |
//	| headers                                | Config.Header (Request.Header overrides key by key),             |
//	|                                        | Config.UserAgent                                                 |
//	| skip_auto_headers                      | Config.SkipAutoHeaders ("User-Agent", "Accept-Encoding")         |
//	| auth                                   | Config.Auth (basic), dropped once a redirect leaves the origin   |
//	| json_serialize                         | Config.JSONEncode, used by PostJSON                              |
//	| version                                | ConnectorConfig.Version (HTTP11, HTTP2 = h2 over TLS via ALPN;   |
//	|                                        | a burst to a new origin waits for its first connection, then     |
//	|                                        | multiplexes over it)                                             |
//	| timeout=ClientTimeout(total, connect,  | Config.Timeouts{Total, Connect, SockConnect, SockRead};          |
//	|   sock_connect, sock_read)             | Request.Timeout overrides per request                            |
//	| raise_for_status                       | Config.RaiseForStatus, Request.RaiseForStatus -> *StatusError    |
//	| auto_decompress                        | on by default (gzip, deflate, br, zstd); Config.NoDecompress     |
//	| requote_redirect_url                   | on by default; Config.NoRequoteRedirectURL                       |
//	| trust_env                              | Config.TrustEnv (HTTP_PROXY, HTTPS_PROXY, NO_PROXY); Config.Proxy |
//	| trace_configs                          | Config.Traces ([]*Trace; net/http/httptrace underneath)          |
//	| max_redirects, allow_redirects         | Config.MaxRedirects (negative: do not follow), CheckRedirect,    |
//	|                                        | Request.CheckRedirect                                            |
//	| read_bufsize / response size           | Config.MaxBodySize, Request.MaxBodySize (cap after decompression)|
//
// Notes on the mapping:
//
//   - Limits are enforced by the connector with semaphores, per host first, then in
//     total, so that a request waiting for a busy host holds no total slot. A request
//     holds its slots until its body has been read. net/http's Transport is tuned to
//     match: MaxConnsPerHost = LimitPerHost and MaxIdleConnsPerHost = LimitPerHost
//     (Limit when 0) — Go's default of 2 idle connections per host would close
//     connections under concurrency and defeat keep-alive.
//   - Timeouts.Connect covers the wait for a pool slot plus DNS, TCP and TLS, as
//     aiohttp's connect does; SockConnect covers DNS and TCP of one dial; SockRead is
//     the idle time waiting for the response head or between two body reads. A
//     timeout error is an *Error whose Timeout() is true and whose cause is a
//     *TimeoutError naming which timeout fired.
//   - The session decodes bodies itself (the transport's own gzip is off) so that
//     MaxBodySize holds after decompression: a gzip bomb stops at the cap, with
//     bounded memory, and Response.Truncated set.
//   - The DNS cache also merges concurrent lookups of one name: a burst of dials
//     to a new host resolves it once. Resolver and Now are injectable for tests.
//   - Proxies (Config.Proxy, or the environment with TrustEnv) are chosen per
//     request, so sessions sharing a Connector may use different proxies; https
//     goes through a CONNECT tunnel that is kept alive like any connection.
//   - Counters (Session.Stats) are live and atomic: requests written to the wire
//     (redirect hops included), connections dialed, requests sent on a reused
//     connection, body bytes read off the wire, response heads (by status:
//     Session.StatusCounts) and requests that got no response.
//
// Every row is proven on the wire (server-side counts) by a test of this package,
// over plain HTTP and TLS where it matters (TestLimitPerHostConcurrent, TestDNSCache,
// TestTimeouts, TestGzipBombStopsAtCap, TestTraceOrderAndCounters, ...).
//
// # Files
//
//	session.go    Config, Session, Request, Response, Stats; New, Do, Get, Head, Post*, Close
//	do.go         the request loop: redirects, auth confinement, cookies, body reading
//	connector.go  Connector: transport, limits, dialer, DNS cache
//	decode.go     gzip / deflate / br / zstd decoding
//	redirect.go   Location resolution and requoting
//	cookies.go    the exportable cookie jar
//	trace.go      Trace hooks
//	watchdog.go   the timer behind the connect and sock-read timeouts
//	errors.go     Error, StatusError, TimeoutError, sentinels
//	response.go   Response.Text and Release, the body buffer pool
package session
