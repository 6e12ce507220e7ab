package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/crawler/metrics"
)

// crawlStats is what the status line, the summary and --stats report.
type crawlStats struct {
	Pages       int64
	OK          int64
	Errors      int64
	ByStatus    map[int]int64
	Bytes       int64
	InFlight    int64
	Queued      int64
	Hosts       int64
	ConnsOpened int64
	ConnsReused int64
	Elapsed     time.Duration
	PagesPerSec float64
	Requests    int64
	Retries     int64
	Robots      int64
	TooLong     int64
	Crawl       *crawlTotals // a Redis crawl's totals over all processes; nil otherwise

	SlowHosts   []crawler.HostDelay
	HostsSlowed int64

	// Incremental recrawl (with a recrawl store: --state, --redis).
	recrawling                                                  bool
	NotModified, Changed, Unchanged, Gone, Fresh, RecrawlErrors int64

	RetriesByReason map[string]int64
	RequestsByCode  map[string]int64 // every request sent (robots.txt, redirect hops): trawl_requests_total
	Exported        int64            // records written: trawl_pages_exported_total
}

// fromCrawl converts the crawl's live figures: the crawler's, and the
// session's and pipeline's counters that /metrics exports too.
func fromCrawl(cr *crawler.Crawler) crawlStats {
	st := fromCrawler(cr.Stats())
	st.recrawling = cr.Recrawling()
	if sess := cr.Session(); sess != nil { // nil until Run has set up its parts
		st.RequestsByCode = map[string]int64{"error": sess.Stats().Failed}
		sess.StatusCounts().Range(func(code int, n int64) { st.RequestsByCode[metrics.CodeLabel(code)] += n })
	}
	if pl := cr.Pipeline(); pl != nil {
		st.Exported = pl.Stats().Exported
	}
	return st
}

// fromCrawler converts the crawler's live figures.
func fromCrawler(s crawler.Stats) crawlStats {
	return crawlStats{
		RetriesByReason: s.RetriesByReason,
		Pages:           s.Pages, OK: s.OK, Errors: s.Errors, ByStatus: s.ByStatus, Bytes: s.Bytes,
		InFlight: s.InFlight, Queued: s.Queued, Hosts: s.Hosts,
		ConnsOpened: s.ConnsOpened, ConnsReused: s.ConnsReused,
		Elapsed: s.Elapsed, PagesPerSec: s.PagesPerSec,
		Requests: s.Requests, Retries: s.Retries, Robots: s.RobotsDenied,
		TooLong:   s.TooLong,
		SlowHosts: s.SlowHosts, HostsSlowed: s.HostsSlowed,

		NotModified: s.NotModified, Changed: s.Changed, Unchanged: s.Unchanged,
		Gone: s.Gone, Fresh: s.Fresh, RecrawlErrors: s.RecrawlErrors,
	}
}

// statsJSON is the --stats file.
type statsJSON struct {
	Pages       int64            `json:"pages"`
	OK          int64            `json:"ok"`
	Errors      int64            `json:"errors"`
	ByStatus    map[string]int64 `json:"by_status"`
	Bytes       int64            `json:"bytes"`
	ElapsedS    float64          `json:"elapsed_s"`
	PagesPerS   float64          `json:"pages_per_s"`
	ConnsOpened int64            `json:"conns_opened"`
	ConnsReused int64            `json:"conns_reused"`
	Requests    int64            `json:"requests"`
	Retries     int64            `json:"retries"`
	Robots      int64            `json:"robots_denied"`
	TooLong     int64            `json:"too_long"`
	Interrupted bool             `json:"interrupted"`
	Crawl       *crawlJSON       `json:"crawl,omitempty"` // a Redis crawl's totals over all its processes

	RetriesByReason map[string]int64 `json:"retries_by_reason"`
	RequestsByCode  map[string]int64 `json:"requests_by_code"`
	PagesExported   int64            `json:"pages_exported"`
	// SlowHosts: hosts adaptive politeness slows or pauses (--host-backoff,
	// --auto-throttle), slowest first; absent when none.
	SlowHosts []crawler.HostDelay `json:"slow_hosts,omitempty"`
	// HostsSlowed counts them all (slow_hosts lists the 20 slowest).
	HostsSlowed int64 `json:"hosts_slowed,omitempty"`
	// Recrawl: what the pass found of the pages earlier passes fetched
	// (present with --state or --redis).
	Recrawl *recrawlJSON `json:"recrawl,omitempty"`
}

// recrawlJSON is the "recrawl" object of the --stats file.
type recrawlJSON struct {
	NotModified int64 `json:"not_modified"` // 304 to a conditional request
	Unchanged   int64 `json:"unchanged"`    // 200 with the same body digest
	Changed     int64 `json:"changed"`      // 200 with another body
	Gone        int64 `json:"gone"`         // now 404 or 410
	Fresh       int64 `json:"fresh"`        // not fetched: --max-age or sitemap lastmod
	StoreErrors int64 `json:"store_errors"` // failed reads or writes of the store
}

// crawlJSON is the "crawl" object of the --stats file of a Redis crawl.
type crawlJSON struct {
	Processes int64 `json:"processes"`
	Pages     int64 `json:"pages"`
	OK        int64 `json:"ok"`
	Errors    int64 `json:"errors"`
	Queued    int64 `json:"queued"`
	Leased    int64 `json:"leased"`
	Seen      int64 `json:"seen"`
	Hosts     int64 `json:"hosts"`
}

func (s crawlStats) json(interrupted bool) statsJSON {
	by := make(map[string]int64, len(s.ByStatus))
	for code, n := range s.ByStatus {
		by[strconv.Itoa(code)] = n
	}
	var crawl *crawlJSON
	if t := s.Crawl; t != nil {
		crawl = &crawlJSON{Processes: t.Processes, Pages: t.Pages, OK: t.OK, Errors: t.Errors,
			Queued: t.Queued, Leased: t.Leased, Seen: t.Seen, Hosts: t.Hosts}
	}
	return statsJSON{
		Crawl: crawl,
		Pages: s.Pages, OK: s.OK, Errors: s.Errors, ByStatus: by, Bytes: s.Bytes,
		ElapsedS:  roundTo(s.Elapsed.Seconds(), 3),
		PagesPerS: roundTo(s.PagesPerSec, 2), ConnsOpened: s.ConnsOpened, ConnsReused: s.ConnsReused,
		Requests: s.Requests, Retries: s.Retries, Robots: s.Robots, TooLong: s.TooLong,
		Interrupted: interrupted,

		RetriesByReason: s.RetriesByReason, RequestsByCode: s.RequestsByCode, PagesExported: s.Exported,
		SlowHosts: s.SlowHosts, HostsSlowed: s.HostsSlowed,
		Recrawl: s.recrawlJSON(),
	}
}

func (s crawlStats) recrawlJSON() *recrawlJSON {
	if !s.recrawling {
		return nil
	}
	return &recrawlJSON{NotModified: s.NotModified, Unchanged: s.Unchanged, Changed: s.Changed,
		Gone: s.Gone, Fresh: s.Fresh, StoreErrors: s.RecrawlErrors}
}

func roundTo(f float64, digits int) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0 // JSON has no NaN; a rate over no time is 0
	}
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', digits, 64), 64)
	return v
}

// writeStatsFile writes the --stats JSON to f, replacing what it held.
func writeStatsFile(f *os.File, s crawlStats, interrupted bool) error {
	data, err := json.MarshalIndent(s.json(interrupted), "", "  ")
	if err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(append(data, '\n'), 0); err != nil {
		return err
	}
	return f.Sync()
}

// statusLine formats the live progress line.
func statusLine(s crawlStats) string {
	line := fmt.Sprintf("%d pages  %.1f/s  queued %d  in flight %d  errors %d  hosts %d",
		s.Pages, s.PagesPerSec, s.Queued, s.InFlight, s.Errors, s.Hosts)
	if t := s.Crawl; t != nil {
		line += fmt.Sprintf("  | crawl: %d pages  errors %d  processes %d", t.Pages, t.Errors, t.Processes)
	}
	return line
}

// summaryLine formats the final summary.
func summaryLine(s crawlStats, word string) string {
	codes := make([]int, 0, len(s.ByStatus))
	for c := range s.ByStatus {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var by []string
	for _, c := range codes {
		by = append(by, fmt.Sprintf("%d: %d", c, s.ByStatus[c]))
	}
	status := ""
	if len(by) > 0 {
		status = " [" + strings.Join(by, ", ") + "]"
	}
	line := fmt.Sprintf("trawl: %s: %d pages (%d ok, %d errors)%s in %s, %.1f pages/s, %s, connections %d opened / %d reused",
		word, s.Pages, s.OK, s.Errors, status, s.Elapsed.Round(time.Millisecond), s.PagesPerSec,
		humanBytes(s.Bytes), s.ConnsOpened, s.ConnsReused)
	line += recrawlSummary(s)
	if t := s.Crawl; t != nil {
		line += fmt.Sprintf("; crawl (%d processes): %d pages (%d ok, %d errors), %d queued, %d hosts",
			t.Processes, t.Pages, t.OK, t.Errors, t.Queued, t.Hosts)
	}
	return line
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// console is standard error shared by the logger and the live status line.
// Each Write (one log record) first erases the status line, then redraws it,
// so the two never mix. It is safe for concurrent use.
type console struct {
	mu     sync.Mutex
	w      io.Writer
	width  func() int // terminal width, 0 when unknown
	status string     // the status line on screen, "" when none
}

func newConsole(w io.Writer) *console {
	c := &console{w: w, width: func() int { return 0 }}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fd := int(f.Fd())
		c.width = func() int {
			w, _, err := term.GetSize(fd)
			if err != nil {
				return 0
			}
			return w
		}
	}
	return c
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.eraseLocked()
	n, err := c.w.Write(p)
	if c.status != "" {
		io.WriteString(c.w, "\r"+c.status)
	}
	return n, err
}

// Through returns a writer to w that erases the status line before each
// write and redraws it after: records printed to the same terminal as the
// status line then never land in the middle of it. Each Write reaches w in
// one Write call.
func (c *console) Through(w io.Writer) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.eraseLocked()
		n, err := w.Write(p)
		if c.status != "" {
			io.WriteString(c.w, "\r"+c.status)
		}
		return n, err
	})
}

// writerFunc adapts a function to io.Writer.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// SetStatus replaces the status line.
func (c *console) SetStatus(line string) {
	if w := c.width(); w > 1 && utf8.RuneCountInString(line) >= w {
		line = string([]rune(line)[:w-1])
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	pad := ""
	if n := len(c.status) - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	io.WriteString(c.w, "\r"+line+pad)
	if pad != "" {
		io.WriteString(c.w, "\r"+line)
	}
	c.status = line
}

// ClearStatus erases the status line.
func (c *console) ClearStatus() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.eraseLocked()
	c.status = ""
}

func (c *console) eraseLocked() {
	if c.status != "" {
		io.WriteString(c.w, "\r"+strings.Repeat(" ", len(c.status))+"\r")
	}
}

// progressInterval is how often the status line is redrawn.
const progressInterval = 250 * time.Millisecond

// runProgress redraws the status line from stats every interval until ctx
// ends, then erases it.
func runProgress(ctx context.Context, c *console, stats func() crawlStats, interval time.Duration) {
	runStatusLine(ctx, c, func() string { return statusLine(stats()) }, interval)
}

// runStatusLine redraws the status line from line() every interval until ctx
// ends, then erases it.
func runStatusLine(ctx context.Context, c *console, line func() string, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	defer c.ClearStatus()
	c.SetStatus(line())
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.SetStatus(line())
		}
	}
}
