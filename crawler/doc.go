// Package crawler is trawl's crawl engine: it applies the rules that make a
// crawl correct and polite — scope, depth, robots.txt, per-host concurrency
// and pacing, redirects, retries — over three parts it is given:
//
//   - a frontier.Frontier: the queue, seen set and per-host schedule;
//   - one session.Session: the pooled HTTP client every request goes
//     through, robots.txt and sitemaps included;
//   - one pipeline.Pipeline: link extraction, user stages and exporters.
//
// # The model
//
// Run pushes the seeds (depth 0) and starts Config.Workers goroutines — a
// fixed pool, never a goroutine per URL. Each worker loops:
//
//	lease := frontier.Next          // blocks until some host is ready
//	scope check                     // links were checked when pushed; this is for resumed crawls
//	robots.txt check                // fetched once per host, cached
//	politeness gate                 // see below
//	session.Do with CheckRedirect   // every hop: loop, MaxRedirects, scope, robots, gate
//	retryable failure?  frontier.Retry(lease, backoff or Retry-After) and loop
//	pipeline.Process(page)          // exactly one record per lease
//	push followable in-scope links  // depth+1, one batch
//	frontier.Ack(lease)
//
// Every lease ends in exactly one record (a success or an error naming the
// cause) followed by Ack, in a Retry, or, when the crawl stops, in a
// Release. Links are pushed before the Ack,
// so the frontier cannot report ErrDone while a page's links are unpushed;
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
// in flight, so no burst precedes a Crawl-delay. A per-host gate in the
// crawler (host.go) additionally spaces request starts by the interval; it
// only ever waits when the frontier could not know (a Crawl-delay learnt
// after the host's first lease, redirect hops, which have no lease). A
// redirect hop to another in-scope host is spaced by that host's gate but
// is not counted against its MaxInFlight (it runs inside the lease of the
// URL that redirected).
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
// Fetched through the same session with the crawler's User-Agent, once per
// host, keeping the host's request gap: concurrent workers of a host wait
// for the one fetch. At most
// MaxRobotsSize bytes are parsed (github.com/temoto/robotstxt). The group is
// chosen by the product token (RobotsAgent, default the first word of
// UserAgent); the longest matching Allow/Disallow rule wins. 4xx means allow
// all; 429, 5xx and an unreachable server are retried like pages (Retries,
// backoff, Retry-After) and then mean disallow all. A disallowed URL
// becomes an error record (ErrRobots) and is acknowledged.
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
//   - config.go: Config, its defaults and validation.
//   - crawler.go: Crawler, Run, the worker loop, redirect checks, errors.
//   - host.go: per-host state, the frontier policy and the politeness gate.
//   - robots.go: robots.txt fetching (single flight), parsing and rules.
//   - scope.go: domain rules and the scope check.
//   - retry.go: what is retried, backoff and Retry-After.
//   - sitemap.go: sitemap discovery and parsing (XML, index, gzip, text).
//   - stats.go: live and final Stats.
//   - query.go: the crawl's rules for code working beside it on the same
//     session (Follows, Allowed, HostPolicy, RetryDelay, RequestHeader),
//     as package linkcheck does.
package crawler
