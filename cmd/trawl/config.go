package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/crawler/render"
	"github.com/trawlhq/trawl/pipeline"
)

// Config is the whole configuration of a crawl: what config.yaml holds and
// what the crawl flags set. Every YAML key is spelled like its long flag with
// "-" turned into "_" (--per-host is per_host). The shipped config.yaml lists
// every key with its default; loading it yields DefaultConfig().
//
// The persistent frontiers register their keys and flags in their own files:
// state.go (state, --state) and redis.go (redis, redis_prefix,
// redis_lease_timeout); the web archive in warc.go (warc, warc_max_size,
// warc_cdx, warc_level).
type Config struct {
	// Output and logging.
	Output    string `yaml:"output"`     // records file; "" or "-" = standard output
	Format    string `yaml:"format"`     // jsonl or csv
	Stats     string `yaml:"stats"`      // JSON stats file written at the end; "" = none
	Progress  bool   `yaml:"progress"`   // live status line even when stderr is not a terminal
	Quiet     bool   `yaml:"quiet"`      // only errors on stderr: no progress, no summary
	Verbose   bool   `yaml:"verbose"`    // same as log_level: debug
	LogLevel  string `yaml:"log_level"`  // debug, info, warn or error
	LogFormat string `yaml:"log_format"` // text or json

	// Scope.
	Depth        int      `yaml:"depth"`        // links followed from a seed; -1 = unlimited
	MaxPages     int      `yaml:"max_pages"`    // pages fetched in all; 0 = unlimited
	AllowDomain  []string `yaml:"allow_domain"` // added to the seeds' hosts; "*.example.com" for subdomains
	DenyDomain   []string `yaml:"deny_domain"`  // never fetched, even when allowed
	Include      []string `yaml:"include"`      // regexes; when any is given a URL must match one
	Exclude      []string `yaml:"exclude"`      // regexes; a URL matching one is not fetched
	IgnoreRobots bool     `yaml:"ignore_robots"`
	Sitemaps     bool     `yaml:"sitemaps"`       // also seed from robots.txt Sitemap: lines and /sitemap.xml
	MaxURLLength int      `yaml:"max_url_length"` // longest URL fetched, in bytes; 0 = no limit

	// Concurrency and politeness.
	Workers     int           `yaml:"workers"`      // fetching goroutines
	PerHost     int           `yaml:"per_host"`     // requests in flight per host
	Rate        float64       `yaml:"rate"`         // requests per second per host; 0 = unlimited
	Delay       time.Duration `yaml:"delay"`        // least gap between requests to one host
	RandomDelay time.Duration `yaml:"random_delay"` // extra random gap in [0, random_delay)
	GracePeriod time.Duration `yaml:"grace_period"` // time in-flight requests get after an interrupt
	// Adaptive politeness (crawler/adapt.go).
	HostBackoff        time.Duration `yaml:"host_backoff"`         // a 429/503/reset slows the whole host to at least this; 0 = off
	MaxHostDelay       time.Duration `yaml:"max_host_delay"`       // ceiling of backoff and auto-throttle
	AutoThrottle       bool          `yaml:"auto_throttle"`        // per-host delay follows latency / auto_throttle_target
	AutoThrottleTarget float64       `yaml:"auto_throttle_target"` // average requests in flight per host auto-throttle aims for

	// HTTP.
	UserAgent      string        `yaml:"user_agent"` // "" = trawl's own
	Header         []string      `yaml:"header"`     // "Name: value" on every request
	Cookie         []string      `yaml:"cookie"`     // "name=value" sent to the seeds' hosts
	Timeout        time.Duration `yaml:"timeout"`    // whole request; 0 = none
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	ReadTimeout    time.Duration `yaml:"read_timeout"` // idle time between body reads; 0 = none
	Retries        int           `yaml:"retries"`
	MaxRedirects   int           `yaml:"max_redirects"`
	MaxBody        Size          `yaml:"max_body"` // body cap after decompression; 0 = no cap

	// Extraction.
	Select []string `yaml:"select"` // "name=CSS" or "name=CSS@attr"

	// Resumable crawl: the disk frontier (state.go).
	State     string `yaml:"state"`      // state directory; "" = the frontier lives in memory and a crawl cannot resume
	StateSync bool   `yaml:"state_sync"` // fsync every commit of the state: survives power loss, not only kill -9

	// Incremental recrawl (recrawl.go): with state or redis.
	Recrawl bool          `yaml:"recrawl"` // start a new pass over a finished crawl, with conditional requests
	MaxAge  time.Duration `yaml:"max_age"` // do not refetch pages younger than this unless stale; 0 = refetch all

	// Distributed crawl: the Redis frontier (redis.go).
	Redis             string        `yaml:"redis"`               // Redis URL; "" = the frontier lives in this process
	RedisPrefix       string        `yaml:"redis_prefix"`        // crawl name; processes with the same one share the crawl; "" = "default"
	RedisLeaseTimeout time.Duration `yaml:"redis_lease_timeout"` // a silent process's URLs are re-queued after this; 0 = 30s

	// Prometheus metrics (metrics.go).
	MetricsAddr  string `yaml:"metrics_addr"`  // serve /metrics and /healthz here; "" = no server; a bare port binds loopback
	MetricsHosts int    `yaml:"metrics_hosts"` // hosts with series of their own; 0 = none
	// Web archive (warc.go).
	Warc        string `yaml:"warc"`          // WARC file prefix; "" = no archive
	WarcMaxSize Size   `yaml:"warc_max_size"` // size at which the next WARC file starts
	WarcCDX     bool   `yaml:"warc_cdx"`      // also write PREFIX.cdxj
	WarcLevel   int    `yaml:"warc_level"`    // gzip level: 0 (stored, the default), 1 (fastest) to 9 (smallest), -2 (Huffman only)

	// Rendering in a headless browser (render.go).
	Render        bool          `yaml:"render"`         // same as render_when: always
	RenderWhen    string        `yaml:"render_when"`    // never, always or auto
	Browser       string        `yaml:"browser"`        // Chromium path; "" = found on PATH
	RenderTabs    int           `yaml:"render_tabs"`    // pages rendered at once
	RenderWait    string        `yaml:"render_wait"`    // network idle time, or a CSS selector; "" = 500ms idle
	RenderTimeout time.Duration `yaml:"render_timeout"` // cap per page
	RenderBlock   string        `yaml:"render_block"`   // resource types not loaded; "" = image,font,media; "none"
	RenderMarker  string        `yaml:"render_marker"`  // with render_when auto: render pages whose HTML matches

	// Link checking: trawl check (check.go).
	Accept      []string `yaml:"accept"`       // statuses that count as OK ("403", "999")
	NoFragments bool     `yaml:"no_fragments"` // do not check #fragments
	All         bool     `yaml:"all"`          // list the OK targets too (jsonl, junit)
	Report      string   `yaml:"report"`       // HTML report file; "" = none
	MaxSources  int      `yaml:"max_sources"`  // sources listed per target; 0 = 100, -1 = all

	// cmd is the subcommand the configuration is for ("check" allows other
	// formats); not a key.
	cmd string
}

// Defaults of the values that are not the zero value.
const (
	DefaultWorkers        = 64
	DefaultPerHost        = 8
	DefaultRetries        = 2
	DefaultMaxRedirects   = 10
	DefaultMaxURLLength   = crawler.DefaultMaxURLLength
	DefaultMaxBody        = Size(10 << 20)
	DefaultTimeout        = 30 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultReadTimeout    = 30 * time.Second
	DefaultGracePeriod    = 10 * time.Second
	DefaultHostBackoff    = crawler.DefaultHostBackoff
	DefaultMaxHostDelay   = crawler.DefaultMaxHostDelay
)

// DefaultConfig returns the configuration used when neither a config file nor
// a flag says otherwise.
func DefaultConfig() Config {
	return Config{
		Format:         "jsonl",
		LogLevel:       "info",
		LogFormat:      "text",
		Depth:          -1,
		Workers:        DefaultWorkers,
		PerHost:        DefaultPerHost,
		GracePeriod:    DefaultGracePeriod,
		Timeout:        DefaultTimeout,
		ConnectTimeout: DefaultConnectTimeout,
		ReadTimeout:    DefaultReadTimeout,
		Retries:        DefaultRetries,
		MaxRedirects:   DefaultMaxRedirects,
		MaxURLLength:   DefaultMaxURLLength,
		MaxBody:        DefaultMaxBody,
		MetricsHosts:   DefaultMetricsHosts,
		WarcMaxSize:    DefaultWarcMaxSize,
		WarcLevel:      DefaultWarcLevel,
		RenderWhen:     "never",
		RenderTabs:     render.DefaultTabs,
		RenderTimeout:  render.DefaultTimeout,

		HostBackoff:        DefaultHostBackoff,
		MaxHostDelay:       DefaultMaxHostDelay,
		AutoThrottleTarget: crawler.DefaultTargetConcurrency,
	}
}

// ConfigError is an invalid configuration value. Key is the YAML key; the
// CLI reports it as the flag when the value came from the command line.
type ConfigError struct {
	Key string
	Msg string
}

func (e *ConfigError) Error() string { return e.Key + ": " + e.Msg }

func invalid(key, format string, args ...any) error {
	return &ConfigError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks every value and returns the first problem as a one-line
// *ConfigError naming the key.
func (c *Config) Validate() error {
	oneOf := func(key, v string, allowed ...string) error {
		for _, a := range allowed {
			if v == a {
				return nil
			}
		}
		return invalid(key, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
	}
	atLeast := func(key string, v, min int) error {
		if v < min {
			return invalid(key, "must be at least %d, got %d", min, v)
		}
		return nil
	}
	nonNegative := func(key string, d time.Duration) error {
		if d < 0 {
			return invalid(key, "must not be negative, got %s", d)
		}
		return nil
	}
	checks := []error{
		c.validateFormat(oneOf),
		oneOf("log_level", strings.ToLower(c.LogLevel), "debug", "info", "warn", "error"),
		oneOf("log_format", c.LogFormat, "text", "json"),
		atLeast("depth", c.Depth, -1),
		atLeast("max_pages", c.MaxPages, 0),
		atLeast("workers", c.Workers, 1),
		atLeast("per_host", c.PerHost, 1),
		atLeast("retries", c.Retries, 0),
		atLeast("max_redirects", c.MaxRedirects, 0),
		atLeast("max_url_length", c.MaxURLLength, 0),
		nonNegative("delay", c.Delay),
		nonNegative("random_delay", c.RandomDelay),
		nonNegative("grace_period", c.GracePeriod),
		nonNegative("host_backoff", c.HostBackoff),
		nonNegative("timeout", c.Timeout),
		nonNegative("connect_timeout", c.ConnectTimeout),
		nonNegative("read_timeout", c.ReadTimeout),
		c.validateRedis(),
		c.validateState(),
		c.validateRecrawl(),
		c.validateMetrics(),
		c.validateWarc(),
		c.validateRender(),
		c.validateCheck(),
	}
	if c.Rate < 0 || c.Rate != c.Rate {
		checks = append(checks, invalid("rate", "must be a number of requests per second >= 0, got %v", c.Rate))
	}
	if c.MaxHostDelay <= 0 {
		checks = append(checks, invalid("max_host_delay", "must be positive, got %s", c.MaxHostDelay))
	}
	if !(c.AutoThrottleTarget > 0) || math.IsInf(c.AutoThrottleTarget, 0) {
		checks = append(checks, invalid("auto_throttle_target", "must be a number of requests > 0, got %v", c.AutoThrottleTarget))
	}
	if c.MaxBody < 0 {
		checks = append(checks, invalid("max_body", "must not be negative, got %d", c.MaxBody))
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	for _, list := range []struct {
		key  string
		vals []string
	}{{"allow_domain", c.AllowDomain}, {"deny_domain", c.DenyDomain}} {
		for _, d := range list.vals {
			if list.key == "allow_domain" && strings.TrimSpace(d) == "*" {
				continue // every host
			}
			if err := checkDomainPattern(d); err != nil {
				return invalid(list.key, "%q: %v", d, err)
			}
		}
	}
	if _, err := compileAll("include", c.Include); err != nil {
		return err
	}
	if _, err := compileAll("exclude", c.Exclude); err != nil {
		return err
	}
	if _, err := parseHeaders(c.Header); err != nil {
		return err
	}
	if _, err := parseCookies(c.Cookie); err != nil {
		return err
	}
	if _, err := parseSelects(c.Select); err != nil {
		return err
	}
	return nil
}

// checkDomainPattern accepts a host name, "example.com", or a host and its
// subdomains, "*.example.com" (the crawler's scope rules: no port, no path).
func checkDomainPattern(d string) error {
	h := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(d), "*."), ".")
	if h == "" || strings.ContainsAny(h, "/:*?#@ \t") {
		return errors.New("not a domain (want example.com or *.example.com)")
	}
	return nil
}

func compileAll(key string, exprs []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, e := range exprs {
		re, err := regexp.Compile(e)
		if err != nil {
			return nil, invalid(key, "bad regular expression %q: %v", e, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
		out = append(out, re)
	}
	return out, nil
}

// parseHeaders turns "Name: value" strings into a header.
func parseHeaders(hs []string) (http.Header, error) {
	h := http.Header{}
	for _, s := range hs {
		name, value, ok := strings.Cut(s, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") || strings.ContainsAny(value, "\r\n") {
			return nil, invalid("header", "%q: want 'Name: value'", s)
		}
		h.Add(name, strings.TrimSpace(value))
	}
	return h, nil
}

// parseCookies turns "name=value" strings into cookies.
func parseCookies(cs []string) ([]*http.Cookie, error) {
	var out []*http.Cookie
	for _, s := range cs {
		name, value, ok := strings.Cut(s, "=")
		name = strings.TrimSpace(name)
		c := &http.Cookie{Name: name, Value: strings.TrimSpace(value)}
		if !ok || name == "" || c.Valid() != nil {
			return nil, invalid("cookie", "%q: want 'name=value'", s)
		}
		out = append(out, c)
	}
	return out, nil
}

// parseSelects parses "name=CSS" and "name=CSS@attr" into the fields of a
// pipeline.Select stage, compiling them to catch bad selectors early.
func parseSelects(ss []string) (map[string]string, error) {
	fields := map[string]string{}
	for _, s := range ss {
		name, spec, ok := strings.Cut(s, "=")
		name, spec = strings.TrimSpace(name), strings.TrimSpace(spec)
		if !ok || name == "" || spec == "" {
			return nil, invalid("select", "%q: want 'name=CSS' or 'name=CSS@attr'", s)
		}
		if _, dup := fields[name]; dup {
			return nil, invalid("select", "%q: field %q given twice", s, name)
		}
		fields[name] = spec
	}
	if len(fields) > 0 {
		if _, err := pipeline.Select(fields); err != nil {
			return nil, invalid("select", "%s", strings.TrimPrefix(err.Error(), "pipeline: select "))
		}
	}
	return fields, nil
}

// loadConfigFile reads a YAML config over base. Every problem is one line
// naming the file, line and key. lines maps each key set to its line.
func loadConfigFile(path string, base Config) (cfg Config, lines map[string]int, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return base, nil, fmt.Errorf("--config: %w", err)
	}
	return decodeConfig(path, data, base)
}

// decodeConfig decodes YAML over base. Unknown keys, duplicate keys, wrong
// types and unparsable values are errors naming the key and its line.
func decodeConfig(name string, data []byte, base Config) (Config, map[string]int, error) {
	cfg := base
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return cfg, nil, nil // empty file: defaults
		}
		return base, nil, fmt.Errorf("%s: %s", name, oneLine(strings.TrimPrefix(err.Error(), "yaml: ")))
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return cfg, nil, nil // only comments
	}
	if root.Kind != yaml.MappingNode {
		return base, nil, fmt.Errorf("%s:%d: want a mapping of keys to values at the top level", name, root.Line)
	}
	fields := yamlFields()
	seen := map[string]int{}
	v := reflect.ValueOf(&cfg).Elem()
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, val := root.Content[i], root.Content[i+1]
		key := k.Value
		idx, ok := fields[key]
		if !ok {
			hint := ""
			if alt := strings.ReplaceAll(key, "-", "_"); alt != key {
				if _, ok := fields[alt]; ok {
					hint = fmt.Sprintf(" (did you mean %q?)", alt)
				}
			}
			return base, nil, fmt.Errorf("%s:%d: unknown key %q%s", name, k.Line, key, hint)
		}
		if prev, dup := seen[key]; dup {
			return base, nil, fmt.Errorf("%s:%d: key %q given twice (first on line %d)", name, k.Line, key, prev)
		}
		seen[key] = k.Line
		if err := decodeField(v.Field(idx), val); err != nil {
			return base, nil, fmt.Errorf("%s:%d: %s: %v", name, val.Line, key, err)
		}
	}
	return cfg, seen, nil
}

// yamlFields maps each YAML key of Config to its field index.
func yamlFields() map[string]int {
	t := reflect.TypeOf(Config{})
	m := make(map[string]int, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("yaml"); tag != "" && tag != "-" {
			m[strings.Split(tag, ",")[0]] = i
		}
	}
	return m
}

var (
	durationType = reflect.TypeOf(time.Duration(0))
	sizeType     = reflect.TypeOf(Size(0))
)

// decodeField decodes one value node into one Config field, with an error
// that says what was wanted.
func decodeField(f reflect.Value, n *yaml.Node) error {
	got := func() string {
		if n.Kind == yaml.ScalarNode {
			return fmt.Sprintf("%q", n.Value)
		}
		return map[yaml.Kind]string{yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list", yaml.AliasNode: "an alias"}[n.Kind]
	}
	switch f.Type() {
	case durationType:
		if n.Kind != yaml.ScalarNode {
			return fmt.Errorf("want a duration such as 500ms, 3s or 1m, got %s", got())
		}
		if n.Value == "0" {
			f.SetInt(0)
			return nil
		}
		d, err := time.ParseDuration(n.Value)
		if err != nil {
			return fmt.Errorf("want a duration such as 500ms, 3s or 1m, got %s", got())
		}
		f.SetInt(int64(d))
		return nil
	case sizeType:
		if n.Kind != yaml.ScalarNode {
			return fmt.Errorf("want a size such as 512KiB, 10MiB or 1GB, got %s", got())
		}
		s, err := ParseSize(n.Value)
		if err != nil {
			return err
		}
		f.SetInt(int64(s))
		return nil
	}
	switch f.Kind() {
	case reflect.Slice:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			f.SetZero()
			return nil
		}
		if n.Kind == yaml.ScalarNode {
			f.Set(reflect.ValueOf([]string{n.Value}))
			return nil
		}
		if n.Kind != yaml.SequenceNode {
			return fmt.Errorf("want a list of strings, got %s", got())
		}
		var out []string // nil for an empty list, as in DefaultConfig
		for _, e := range n.Content {
			if e.Kind != yaml.ScalarNode {
				return fmt.Errorf("want a list of strings, got an item that is not a string (line %d)", e.Line)
			}
			out = append(out, e.Value)
		}
		f.Set(reflect.ValueOf(out))
		return nil
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			return fmt.Errorf("want a string, got %s", got())
		}
		if n.Tag == "!!null" {
			f.SetString("")
			return nil
		}
		f.SetString(n.Value)
		return nil
	}
	want := map[reflect.Kind]string{reflect.Int: "an integer", reflect.Bool: "true or false", reflect.Float64: "a number"}[f.Kind()]
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want %s, got %s", want, got())
	}
	if err := n.Decode(f.Addr().Interface()); err != nil {
		return fmt.Errorf("want %s, got %s", want, got())
	}
	return nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
