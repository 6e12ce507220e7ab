package main

import (
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// newCrawlFlags returns the flag set of 'trawl crawl', every flag bound to a
// field of c (its current value is the flag's default) and -c/--config bound
// to configPath. To add a flag: add the Config field with its yaml key (the
// long flag name with "-" as "_") and one line here.
func newCrawlFlags(c *Config, configPath *string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("crawl", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringVarP(configPath, "config", "c", "", "read settings from `FILE` (default ./config.yaml if present)")

	// Output.
	fs.StringVarP(&c.Output, "output", "o", c.Output, "write records to `FILE` (default standard output)")
	fs.StringVar(&c.Format, "format", c.Format, "record `format`: jsonl or csv")
	fs.StringVar(&c.Stats, "stats", c.Stats, "write crawl statistics as JSON to `FILE` at the end")
	fs.BoolVar(&c.Progress, "progress", c.Progress, "show the live status line even when stderr is not a terminal")
	fs.BoolVarP(&c.Quiet, "quiet", "q", c.Quiet, "print only errors on stderr (no progress, no summary)")
	fs.BoolVarP(&c.Verbose, "verbose", "v", c.Verbose, "log every request (same as --log-level debug)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log `level`: debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log `format`: text or json")

	// Scope.
	fs.IntVar(&c.Depth, "depth", c.Depth, "follow links `N` deep (seeds are depth 0; -1 = unlimited)")
	fs.IntVar(&c.MaxPages, "max-pages", c.MaxPages, "stop after `N` pages (0 = unlimited)")
	fs.StringArrayVar(&c.AllowDomain, "allow-domain", c.AllowDomain, "also crawl `DOMAIN` (repeatable; *.example.com for subdomains)")
	fs.StringArrayVar(&c.DenyDomain, "deny-domain", c.DenyDomain, "never crawl `DOMAIN` (repeatable; *.example.com for subdomains)")
	fs.StringArrayVar(&c.Include, "include", c.Include, "crawl only URLs matching `REGEX` (repeatable)")
	fs.StringArrayVar(&c.Exclude, "exclude", c.Exclude, "do not crawl URLs matching `REGEX` (repeatable)")
	fs.IntVar(&c.MaxURLLength, "max-url-length", c.MaxURLLength, "skip URLs longer than `N` bytes (0 = no limit)")
	fs.BoolVar(&c.IgnoreRobots, "ignore-robots", c.IgnoreRobots, "ignore robots.txt")
	fs.BoolVar(&c.Sitemaps, "sitemaps", c.Sitemaps, "also seed from sitemaps (robots.txt Sitemap: lines, /sitemap.xml)")

	// Concurrency and politeness.
	fs.IntVar(&c.Workers, "workers", c.Workers, "`N` requests in flight in all")
	fs.IntVar(&c.PerHost, "per-host", c.PerHost, "`N` requests in flight per host")
	fs.Float64Var(&c.Rate, "rate", c.Rate, "at most `R` requests per second per host (0 = unlimited)")
	fs.DurationVar(&c.Delay, "delay", c.Delay, "least time between two requests to one host")
	fs.DurationVar(&c.RandomDelay, "random-delay", c.RandomDelay, "add a random extra delay up to this long per request")
	fs.DurationVar(&c.HostBackoff, "host-backoff", c.HostBackoff, "slow a host answering 429/503 (or resetting) to at least this delay, doubling per signal; Retry-After pauses it (0 = off)")
	fs.DurationVar(&c.MaxHostDelay, "max-host-delay", c.MaxHostDelay, "most delay --host-backoff and --auto-throttle set for a host")
	fs.BoolVar(&c.AutoThrottle, "auto-throttle", c.AutoThrottle, "per-host delay follows the response latency / --auto-throttle-target")
	fs.Float64Var(&c.AutoThrottleTarget, "auto-throttle-target", c.AutoThrottleTarget, "average requests in flight per host --auto-throttle aims for")
	fs.DurationVar(&c.GracePeriod, "grace-period", c.GracePeriod, "time in-flight requests get to finish after an interrupt")

	// HTTP.
	fs.Var(userAgentFlag{c}, "user-agent", "send `UA` as the User-Agent (default trawl's own; the last of --user-agent and -H 'User-Agent: UA' wins)")
	fs.VarP(&headerFlag{c: c}, "header", "H", "add header `'K: V'` to every request (repeatable)")
	fs.StringArrayVar(&c.Cookie, "cookie", c.Cookie, "send cookie `'k=v'` to the seeds' hosts (repeatable)")
	fs.DurationVar(&c.Timeout, "timeout", c.Timeout, "whole-request timeout (0 = none)")
	fs.DurationVar(&c.ConnectTimeout, "connect-timeout", c.ConnectTimeout, "connection timeout (0 = none)")
	fs.DurationVar(&c.ReadTimeout, "read-timeout", c.ReadTimeout, "longest wait between two reads of a body (0 = none)")
	fs.IntVar(&c.Retries, "retries", c.Retries, "retry a failed request `N` times (connection errors, timeouts, 429, 5xx)")
	fs.IntVar(&c.MaxRedirects, "max-redirects", c.MaxRedirects, "follow at most `N` redirects per request")
	fs.Var(&c.MaxBody, "max-body", "largest body kept, after decompression (0 = no cap)")

	// Extraction.
	fs.StringArrayVar(&c.Select, "select", c.Select, "extract `'name=CSS[@attr]'`: data.name gets the text (or attr) of the elements matching CSS (repeatable)")

	// Resumable crawl.
	addStateFlags(fs, c)

	// Distributed crawl.
	addRedisFlags(fs, c)

	// Incremental recrawl.
	addRecrawlFlags(fs, c)

	// Metrics.
	addMetricsFlags(fs, c)

	// Web archive.
	addWarcFlags(fs, c)

	// Rendering in a browser.
	addRenderFlags(fs, c)
	return fs
}

// userAgentFlag is --user-agent. It and -H 'User-Agent: UA' set the same
// thing, and pflag sets flags in command-line order, so each clears what
// the other set before it: the last one given wins.
type userAgentFlag struct{ c *Config }

func (f userAgentFlag) String() string { return f.c.UserAgent }
func (f userAgentFlag) Type() string   { return "string" }
func (f userAgentFlag) Set(v string) error {
	f.c.UserAgent = v
	f.c.Header = slices.DeleteFunc(f.c.Header, isUserAgentHeader)
	return nil
}

// headerFlag is -H/--header, a repeatable flag whose first use replaces
// the config file's list (as pflag's string arrays do).
type headerFlag struct {
	c       *Config
	changed bool
}

func (f *headerFlag) String() string { return "[" + strings.Join(f.c.Header, ",") + "]" }
func (f *headerFlag) Type() string   { return "stringArray" }
func (f *headerFlag) Set(v string) error {
	if !f.changed {
		f.c.Header, f.changed = nil, true
	}
	if isUserAgentHeader(v) {
		f.c.Header = slices.DeleteFunc(f.c.Header, isUserAgentHeader)
		f.c.UserAgent = ""
	}
	f.c.Header = append(f.c.Header, v)
	return nil
}

// isUserAgentHeader reports whether a "Name: value" header is User-Agent.
func isUserAgentHeader(h string) bool {
	name, _, _ := strings.Cut(h, ":")
	return strings.EqualFold(strings.TrimSpace(name), "User-Agent")
}

// flagName is the long flag of a Config key.
func flagName(key string) string { return strings.ReplaceAll(key, "_", "-") }
