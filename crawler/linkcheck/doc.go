// Package linkcheck finds the broken links of a web site: it is a crawler
// configuration (the crawl of the site's pages), a pipeline stage (the
// references of every page) and a pool of checkers (every other URL the
// pages reference), plus writers of the outcome (JSONL, text, JUnit XML and
// a self-contained HTML report).
//
// # The model
//
// Checker.Run crawls the site as crawler.Run does, through the session and
// frontier it is given, with the same rules (scope, depth, robots.txt,
// politeness, retries). Its pipeline stage sees every record of the crawl:
//
//   - the page itself becomes a target of kind "page" whose outcome is the
//     record's (status, error, redirect);
//   - an HTML page is scanned once for its references, each with its tag,
//     attribute, text and line: a/area/iframe/frame links, meta refresh,
//     and assets (img src and srcset, source, video src and poster, audio,
//     track, script src, link href for stylesheet, icon, preload,
//     modulepreload and manifest, object data, embed src); and for its
//     anchors (ids and <a name>s), kept as 64-bit fingerprints;
//   - each reference is resolved (honouring <base href>) and added as a
//     source of its target, one target per distinct URL: a link the crawl
//     follows (crawler.Crawler.Follows) waits for its page's record; every
//     other URL is handed, once, to the checker pool; a link with a
//     #fragment also makes a target of kind "fragment".
//
// The pool is a fixed number of goroutines (Config.Checkers) fed by
// per-host queues, never a goroutine per URL. A check obeys the target
// host's robots.txt (crawler.Crawler.Allowed: fetched once per host through
// the same session; a disallowed target is skipped, with the rule; a host
// whose robots.txt cannot be fetched at all is checked anyway and the check
// reports why it is unreachable), keeps the host's limits (PerHost checks
// in flight, starts spaced by Delay, Rate and Crawl-delay:
// crawler.Crawler.HostPolicy), sends HEAD, and GET when HEAD answers 400 or
// more (405, 501 and servers that answer HEAD wrongly). Connection errors,
// timeouts and statuses 429, 500, 502, 503 and 504 are retried by the
// crawl's rules (crawler.Crawler.RetryDelay: Retries, backoff,
// Retry-After); a retry waits on a timer, holding no goroutine. Redirects
// are followed by the session (its MaxRedirects), and a redirect back to a
// URL of the chain is a loop.
//
// When the crawl is over, the targets it was to fetch but did not (it
// stopped at MaxPages; a persistent frontier had fetched them in an
// earlier run) are checked by the pool, and fragments are decided: a
// fragment of a page the crawl fetched as HTML is OK when it indicates a
// part of it by the HTML standard's rules (fragmentOK); fragments of
// other URLs are not checked and not reported.
//
// # What is broken
//
// A status of 400 or more after retries (unless in Config.Accept), a
// request that failed (DNS, connection, TLS, timeout), a redirect loop or
// a chain longer than the limit, a redirect ending broken, an href that is
// not a URL, a fragment that names nothing. Skipped targets (robots.txt,
// an interrupted check) are listed with the reason and are not broken.
// mailto:, tel:, javascript:, data: and other non-http(s) references are
// not checked; URLs matching the crawl's Exclude expressions are neither
// crawled nor checked.
//
// # Memory
//
// The checker keeps one entry per distinct target, with at most
// Config.MaxSources sources (the others are counted), one fingerprint per
// page anchor, and a few fields per page for the report: memory grows with
// the number of distinct targets and pages, not with the number of
// references.
//
// # Files
//
//   - linkcheck.go: Config, Checker, Target, Source, the stage and the
//     targets' bookkeeping.
//   - refs.go: the reference scanner (jumps from '<' to '<'; fuzzed
//     against golang.org/x/net/html's Tokenizer in refs_tokenizer_test.go).
//   - fragment.go: anchor sets and the indicated-part rules.
//   - check.go: the checker pool and the HTTP check.
//   - state.go: Save and Restore (a check resumed with --state; Finish
//     completes one whose crawl is over).
//   - report.go: Report, WriteJSONL, WriteText, WriteJUnit.
//   - html.go, report.html.tmpl: WriteHTML.
package linkcheck
