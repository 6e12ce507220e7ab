// Package crawler is trawl's crawl engine: it applies the rules that make a
// crawl correct and polite — scope, depth, robots.txt, per-host concurrency
// and pacing, redirects, retries — over three parts:
//
//   - a frontier.Frontier: the queue, seen set and per-host schedule;
//   - one session.Session: the pooled HTTP client every request goes
//     through, robots.txt and sitemaps included;
//   - one pipeline.Pipeline: link extraction, user stages and exporters.
//
// New takes the three; any of them may be nil, and the crawler then
// creates a default when Run starts and closes it when Run returns: a
// session with session.Config's defaults, a frontier/memory frontier with
// Config.HostPolicy as its default policy, and a pipeline running
// Config.Stages. A caller that only wants "crawl this site and give me my
// items" writes a Config with Stages and passes nil three times.
//
// # One home per setting
//
// Every setting lives in one place and is read from there. The session owns
// what concerns HTTP: the User-Agent (the crawler sends none of its own:
// pages, robots.txt and sitemaps carry the session's), the redirect limit
// (session.Config.MaxRedirects; ErrTooManyRedirects reports it), timeouts,
// default headers, cookies, and transport middleware
// (session.Config.WrapTransport, the crawl's transport hook). The crawler
// owns the crawl: scope, depth, politeness and robots handling. It gives
// the pipeline it builds its Normalizer, its robots product token
// (Config.RobotsAgent, by default the first product token of the session's
// User-Agent, RFC 9309 §2.2.1) and IgnoreRobots, and gives the frontier
// each host's policy (MaxInFlight = PerHost, the interval from Delay, Rate
// and Crawl-delay, Jitter = RandomDelay), so a caller never repeats them.
// A pipeline or frontier the caller builds is the caller's to configure;
// Config.HostPolicy is the default policy to give a frontier opened by hand.
//
// # Hooks
//
// Config has three hooks, each a func field documented with its goroutine,
// blocking and retry contract: Follow (per link: push it or not, seeing the
// page it came from and the link's tag, rel and anchor text),
// BeforeRequest (set or remove headers of one request, or veto it: the URL
// becomes an ErrVetoed record) and AfterResponse (with the session in
// hand, e.g. to log in again; ErrRetry fetches the URL again). Stages
// (package pipeline) see pages, never the network; AfterResponse may use
// the network.
//
// A fourth seam, Config.Renderer, replaces a fetched HTML page's body with
// the DOM a browser builds from it (package crawler/render, headless
// Chromium). The browser's own requests go out through FetchFunc: the
// session, robots.txt of their host, and per-host request slots that page
// and subresource requests share, so PerHost bounds both together.
//
// # The model
//
// Run pushes the seeds (depth 0) and starts Config.Workers goroutines — a
// fixed pool, never a goroutine per URL. Each worker loops:
//
//	lease := frontier.Next          // blocks until some host is ready
//	scope check                     // links were checked when pushed; this is for resumed crawls
//	robots.txt check                // fetched once per host, cached
//	BeforeRequest                   // headers, or a veto (a record)
//	politeness gate                 // see below
//	session.Do with CheckRedirect   // every hop: loop, scope, robots, gate (the session counts hops)
//	AfterResponse                   // may ask for a retry
//	retryable failure?  frontier.Retry(lease, backoff or Retry-After) and loop
//	Renderer, if set                // 2xx HTML rendered in a browser (crawler/render)
//	pipeline.Process(page)          // exactly one record per lease
//	push followable in-scope links  // depth+1, one batch, each passed by Follow
//	frontier.Ack(lease)             // not when the push failed
//
// Every lease ends in exactly one record (a success or an error naming the
// cause) followed by Ack, in a Retry, or, when the crawl stops, in a
// Release. Links are pushed before the Ack, and a page whose links could
// not be pushed is not acknowledged (the crawl stops), so the frontier
// cannot report ErrDone while a page's links are unpushed;
// the record is written before the Ack, so a crash after the write loses
// nothing and a crash before it re-fetches the URL (persistent frontiers).
// The body buffer goes back to the session's pool after Process returns:
// stages must not keep Page.Body.
//
// # Politeness
//
// Per-host limits are enforced by the frontier's schedule, which all
// workers share: the crawler gives each host a frontier.HostPolicy before
// its first URL is pushed — MaxInFlight = PerHost, Interval = the largest
// of Delay, 1/Rate and robots.txt Crawl-delay, Jitter = RandomDelay — so
// the limits hold with 1,000 workers as with 1, and a waiting URL holds no
// worker. Until its robots.txt is known a host is limited to one request
// in flight, so no burst precedes a Crawl-delay (a provisional policy: a
// frontier shared by several processes keeps the policy another process
// already set from the host's robots.txt). A per-host gate in the
// crawler (host.go) additionally spaces request starts by the interval,
// with time from Config.Now; it only ever waits when the frontier could not
// know (a Crawl-delay learnt
// after the host's first lease, redirect hops, which have no lease). A
// redirect hop to another in-scope host is spaced by that host's gate but
// is not counted against its MaxInFlight (it runs inside the lease of the
// URL that redirected).
//
// Politeness adapts (adapt.go): a 429 or 503, a connection reset or a
// timeout before the response head slows the whole host — its interval
// doubles (HostBackoff), a Retry-After pauses it (frontier.HostPauser, so
// no worker waits), and it recovers over the next eight responses — and
// with AutoThrottle each host's interval follows its latency. The floor
// (Delay, 1/Rate, Crawl-delay) always holds; Stats.SlowHosts lists the
// hosts held above it. With frontier/redis the pause and the interval are
// shared by every process of the crawl; with a frontier that cannot pause
// hosts, the gate keeps the pause, holding the workers whose leases wait.
//
// Scope is decided on host names (not ports): by default the seeds' hosts,
// plus AllowDomains, minus DenyDomains, then Include/Exclude and
// MaxURLLength. Seeds skip Include/Exclude. Out-of-scope links stay in the
// records' links but are never pushed. A resumed crawl should be given its
// seeds again (the frontier drops them as duplicates) so that the default
// scope is the same.
//
// # robots.txt (RFC 9309)
//
// Fetched through the same session with the session's User-Agent, once per
// host, keeping the host's request gap: concurrent workers of a host wait
// for the one fetch. Parsing and matching are package robots: at most
// MaxRobotsSize bytes are parsed; the group is chosen by the product token
// (RobotsAgent, default the session's User-Agent's first product token),
// matched exactly; the most specific Allow/Disallow rule wins, Allow on
// ties, comparing percent-encoded forms. 4xx means allow all; 429, 5xx and
// an unreachable server are retried like pages (Retries, backoff,
// Retry-After) and then mean disallow all. A disallowed URL becomes an
// error record (ErrRobots) and is acknowledged. When the host itself
// cannot be reached (its name does not resolve, it refuses connections)
// its URLs' records carry an *UnreachableError saying so instead. The
// rules are used for RobotsMaxAge (24 h), then fetched again; a refresh
// that finds robots.txt unreachable keeps the rules known.
//
// # Retries
//
// Connection errors, timeouts and statuses 429, 500, 502, 503 and 504 are
// retried Retries times, after an exponential backoff with jitter, or after
// the server's Retry-After (seconds or HTTP date, capped at MaxRetryAfter).
// The wait happens in the frontier (Retry with a not-before time), holding
// neither a worker nor a host slot. After the last attempt the URL gets one
// error record.
//
// # Recrawls
//
// With Config.Recrawl (a crawler/recrawl.Store), every 2xx page is
// remembered after its record is written and before its lease is
// acknowledged: validators, freshness, a body digest, title and links.
// A URL the store knows is fetched with If-None-Match and
// If-Modified-Since; a 304 becomes a record with NotModified set and the
// stored title and links, which are followed, so new pages behind
// unchanged ones are still found. Known pages answered 2xx get Known and
// Changed (by digest), known pages now 404 or 410 Gone (and are
// forgotten). Revisit queues every known URL at Run's start (a new pass),
// MaxAge and sitemap <lastmod> leave fresh pages unfetched (their stored
// links are still pushed; they get no record). A new pass over a
// persistent frontier starts with frontier.PassStarter.
//
// # Stopping
//
// Run returns when the frontier is exhausted and all workers are idle,
// after MaxPages records, or when ctx is cancelled: leasing stops at once,
// requests in flight get GracePeriod to finish and be recorded, unfinished
// leases go back to the frontier (frontier.Release: not counted as an
// attempt against Retries), and the pipeline is flushed.
//
// # Files
//
//   - config.go: Config, its defaults and validation, HostPolicy.
//   - crawler.go: Crawler, New (and the default parts), Run, the worker
//     loop, redirect checks, errors.
//   - hooks.go: Request, Response, ErrVetoed, ErrRetry and the calls of
//     Follow, BeforeRequest and AfterResponse.
//   - host.go: per-host state, the frontier policy and the politeness gate.
//   - adapt.go: adaptive politeness: host-wide backoff, pauses, AutoThrottle.
//   - robots.go: robots.txt fetching (single flight) and the host's rules;
//     parsing and matching are in package robots.
//   - scope.go: domain rules and the scope check.
//   - retry.go: what is retried, backoff and Retry-After.
//   - sitemap.go: sitemap discovery and parsing (XML, index, gzip, text).
//   - stats.go: live and final Stats (no I/O: Queued is cached),
//     per-host figures (TopHosts).
//   - query.go: the crawl's rules for code working beside it on the same
//     session (Follows, Allowed, HostPolicy, RetryDelay),
//     as package linkcheck does.
//   - revisit.go: recrawls (Config.Recrawl): conditional requests, 304s
//     answered from the store, digests, fresh pages, the known URLs of a
//     new pass.
//   - rendering.go: the Renderer seam (package crawler/render implements
//     it) and the subresource fetches it makes through the session, robots.txt
//     and the per-host request slots.
//
// Package crawler/metrics exports these figures, with the session's and
// the pipeline's, as Prometheus metrics.
package crawler
