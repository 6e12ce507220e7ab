// Package metrics exports the figures of a crawl as Prometheus metrics.
//
// Two prometheus.Collectors, registered on a registry the caller passes
// (never the global default one), so that an embedding program serves them
// on its own /metrics:
//
//   - Latency times requests through a session.Trace given to
//     session.Config.Traces of the session given to crawler.New (a session
//     the crawler creates itself has no traces):
//     trawl_request_duration_seconds, a histogram
//     with phase="headers" (per hop, from its start to the response head)
//     and phase="body" (per request, from Do to the end of the body,
//     redirects included). It observes two lock-free histograms per request
//     and allocates nothing.
//   - Collector reads, at scrape time, the live counters the crawler and
//     its session, pipeline and frontier (reached through the Crawler) keep
//     anyway: Crawler.Stats and TopHosts, Session.Stats and
//     StatusCounts, Pipeline.Stats and StageErrors, Frontier.Stats. It adds no work per request: the numbers it exports
//     are the very counters behind crawler.Stats, so a --stats file or a
//     summary line agrees with /metrics.
//
// # Metrics
//
// Counters (cumulative since the crawl started):
//
//	trawl_requests_total{code}          requests sent, redirect hops and robots.txt included: by status
//	                                    (exact for common codes, else "1xx".."5xx"), "error" when no response came
//	trawl_retries_total{reason}         attempts rescheduled: timeout, connection, 429, 5xx, hook (AfterResponse asked)
//	trawl_robots_denied_total           URLs robots.txt disallowed
//	trawl_response_bytes_total          body bytes read off the wire (before decompression)
//	trawl_pages_total                   records produced (successes and errors)
//	trawl_page_errors_total             records with an error
//	trawl_pages_exported_total          records the pipeline's exporters wrote
//	trawl_stage_errors_total{stage}     pipeline stage errors, by stage name
//	trawl_connections_opened_total      connections dialed
//	trawl_connections_reused_total      requests sent on a kept-alive connection
//	trawl_host_requests_total{host}     fetch attempts per host (top hosts + "other")
//	trawl_host_retries_total{host}      retries per host (top hosts + "other")
//	trawl_recrawl_pages_total{outcome}  URLs known from an earlier pass (--recrawl): not_modified (304),
//	                                    unchanged, changed (2xx, by body digest), gone (404/410), fresh (not fetched)
//	trawl_recrawl_store_errors_total    failed reads and writes of the recrawl store
//	                                    (both only for a crawl with a recrawl store: crawler.Config.Recrawl)
//
// Gauges:
//
//	trawl_frontier_queued               URLs waiting in the frontier, delayed retries included
//	trawl_frontier_delayed              of them, URLs waiting for a retry time
//	trawl_frontier_in_flight            leases outstanding
//	trawl_frontier_seen                 distinct URLs ever pushed
//	trawl_hosts_active                  hosts with queued or leased URLs (frontier)
//	trawl_hosts_waiting                 hosts waiting in backoff: a retry time set for one of their URLs is ahead
//	trawl_hosts_seen                    hosts the crawl has met
//	trawl_workers_busy                  this process's workers working on a lease
//	trawl_host_in_flight{host}          leases of the host being worked on (top hosts + "other")
//	trawl_host_backoff_seconds{host}    time until the host's latest retry time (top hosts; "other": the largest)
//	trawl_hosts_slowed                  hosts adaptive politeness holds above their floor interval or pauses
//	trawl_host_interval_seconds{host,reason}
//	                                    a slowed host's least gap between request starts, and why: 429, 503,
//	                                    reset, timeout or latency (--auto-throttle); the 20 slowest hosts
//	trawl_host_paused_seconds{host}     time until a host paused by Retry-After gets requests again (slowed hosts)
//
// The frontier gauges describe the whole crawl: with the Redis frontier
// they are read from Redis, shared by every process, at most once per
// Config.FrontierInterval whatever the scrape rate. The other figures are
// this process's own; several processes of one crawl tell theirs apart by
// a label the caller adds (prometheus.WrapRegistererWith, the CLI's
// process label).
//
// # Bounded cardinality
//
// Per-host series exist only for the Config.Hosts hosts with the most
// requests at scrape time, plus host="other" summing the rest, so a crawl
// of a million hosts exports at most Hosts+1 series per per-host family.
// The slowed hosts' families (interval, paused) hold the 20 slowest hosts
// at most, none when Hosts is negative; trawl_hosts_slowed counts them all.
// trawl_requests_total has at most one series per common status, five
// classes and "error". A host that enters the top list starts a series
// with its whole count, and "other" drops by as much: sum the host series
// with "other" (as the shipped dashboard does) rather than rating "other"
// alone across a change of the top list.
//
// # Files
//
//   - collector.go: Collector, Config, the scrape.
//   - latency.go: Latency, the request timing trace.
package metrics
