package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/trawlhq/trawl/crawler/linkcheck"
	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// errBroken is returned by 'trawl check' when it found broken links: exit
// status 1, and no error line (the report says what is broken).
var errBroken = errors.New("broken links found")

var checkCommand = crawlingCommand{name: "check", usage: printCheckUsage, seeds: true,
	defaults: defaultCheckConfig, configFlags: addCheckFlags}

// defaultCheckConfig is DefaultConfig with check's output format.
func defaultCheckConfig() Config {
	c := DefaultConfig()
	c.Format = "text"
	c.cmd = "check"
	return c
}

// newCheckFlags returns the flag set of 'trawl check': the crawl's flags
// and check's own.
func newCheckFlags(c *Config, configPath *string) *pflag.FlagSet {
	fs := newCrawlFlags(c, configPath)
	addCheckFlags(c, fs)
	return fs
}

// addCheckFlags adjusts the crawl's flags for check and adds check's own.
func addCheckFlags(c *Config, fs *pflag.FlagSet) {
	f := fs.Lookup("format")
	f.Usage = "output `format`: text (a summary grouped by page), jsonl or junit"
	f.DefValue = "text"
	fs.Lookup("output").Usage = "write the output to `FILE` (default standard output)"
	_ = fs.MarkHidden("select") // extraction is crawl's business
	fs.Lookup("exclude").Usage = "neither crawl nor check URLs matching `REGEX` (repeatable)"

	fs.StringSliceVar(&c.Accept, "accept", c.Accept, "count these `STATUSES` as OK (comma-separated or repeated: --accept 403,999)")
	fs.BoolVar(&c.NoFragments, "no-fragments", c.NoFragments, "do not check that #fragments name an element of their page")
	fs.BoolVar(&c.All, "all", c.All, "list every target checked (jsonl, junit), not only broken and skipped ones")
	fs.StringVar(&c.Report, "report", c.Report, "write a self-contained HTML report to `FILE`")
	fs.IntVar(&c.MaxSources, "max-sources", c.MaxSources, "list at most `N` sources per target, count the others (0 = 100, -1 = all)")
}

// validateFormat checks the format key for the command.
func (c *Config) validateFormat(oneOf func(key, v string, allowed ...string) error) error {
	if c.cmd == "check" {
		return oneOf("format", c.Format, "text", "jsonl", "junit")
	}
	return oneOf("format", c.Format, "jsonl", "csv")
}

// validateCheck checks the keys of trawl check.
func (c *Config) validateCheck() error {
	if _, err := parseAccept(c.Accept); err != nil {
		return err
	}
	if c.MaxSources < -1 {
		return invalid("max_sources", "must be -1 (all), 0 (100) or a count, got %d", c.MaxSources)
	}
	return nil
}

// parseAccept parses the accept statuses.
func parseAccept(vals []string) ([]int, error) {
	var out []int
	for _, v := range vals {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 100 || n > 999 {
			return nil, invalid("accept", "%q is not an HTTP status (100 to 999)", v)
		}
		out = append(out, n)
	}
	return out, nil
}

// runCheck is 'trawl check [flags] URL...'.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a, err := parseCommandArgs(checkCommand, args, stdout)
	if err != nil {
		return err
	}
	if a.help {
		return nil
	}
	cfg := &a.cfg
	con := newConsole(stderr)
	logger := newLogger(con, cfg)

	// --metrics-addr serves the crawl's figures as for trawl crawl.
	mx, err := startMetrics(cfg, logger)
	if err != nil {
		return err
	}
	defer mx.Close()
	fr, closeFrontier, err := openFrontier(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer closeFrontier()
	res, err := resumeCheck(ctx, cfg, fr, a.seeds, logger)
	if err != nil {
		return err
	}
	// The outputs are written at the end, whole; open them first so that a
	// bad path fails before the first request.
	out, closeOut, err := openOutput(cfg.Output, stdout)
	if err != nil {
		return err
	}
	defer closeOut()
	var reportFile *os.File
	if cfg.Report != "" {
		if reportFile, err = os.Create(cfg.Report); err != nil {
			return usagef("--report: %v", unwrapPath(err))
		}
		defer reportFile.Close()
	}
	var statsFile *os.File
	if cfg.Stats != "" {
		if statsFile, err = os.Create(cfg.Stats); err != nil {
			return usagef("--stats: %v", unwrapPath(err))
		}
		defer statsFile.Close()
	}

	lcfg, err := checkConfig(cfg, logger)
	if err != nil {
		return err
	}
	// --warc archives the check's exchanges as it does a crawl's.
	arc, err := openArchive(cfg, fr, a.seeds, logger)
	if err != nil {
		return err
	}
	closeArc := sync.OnceValue(arc.close) // nil-safe
	defer closeArc()
	sess, err := newSession(ctx, cfg, res.resume, a.seeds, arc, mx)
	if err != nil {
		return err
	}
	defer sess.Close()
	// --render renders the site's pages before their references are taken.
	rnd, err := openRenderer(cfg, logger)
	if err != nil {
		return err
	}
	if rnd != nil {
		defer rnd.Close()
		lcfg.Crawl.Renderer = rnd
	}
	checker, err := linkcheck.New(lcfg, sess, fr)
	if err != nil {
		return &usageError{err}
	}
	if err := mx.watch(checker.Crawler()); err != nil {
		return err
	}
	if res.saved != nil {
		if err := checker.Restore(bytes.NewReader(res.saved)); err != nil {
			return usagef("--state: %v", err)
		}
	}
	defer res.finish(sess)
	checkCtx, cancelCheck := context.WithCancel(ctx)
	defer cancelCheck()
	if arc != nil {
		arc.setCancel(cancelCheck) // a failed WARC write stops the check
	}
	runCtx, sigs := watchSignals(checkCtx, logger, cfg.GracePeriod, func() {
		con.ClearStatus()
		fmt.Fprintln(con, "trawl: interrupted again: exiting now (no report written)")
	})
	stopSignals := sync.OnceFunc(sigs.Stop)
	defer stopSignals()

	var progWG sync.WaitGroup
	progCtx, stopProgress := context.WithCancel(context.Background())
	defer stopProgress()
	if !cfg.Quiet && (cfg.Progress || isTerminal(stderr)) {
		progWG.Add(1)
		go func() {
			defer progWG.Done()
			runStatusLine(progCtx, con, func() string { return checkStatusLine(checker) }, progressInterval)
		}()
	}
	var rep *linkcheck.Report
	var runErr error
	if res.finished {
		// Nothing left to crawl: finish what the earlier runs left
		// unchecked, if anything, and report.
		logger.Info("the crawl in the state directory has finished: reporting its check", "state", cfg.State)
		rep, runErr = checker.Finish(runCtx)
	} else {
		rep, runErr = checker.Run(runCtx, a.seeds...)
	}
	stopProgress()
	progWG.Wait()
	stopSignals()
	if err := closeArc(); err != nil {
		// a failed WARC write cancelled the check: it is the error to report
		return err
	}
	stopped := sigs.Interrupted() || (ctx.Err() != nil && errors.Is(runErr, ctx.Err()))
	if runErr != nil && !(stopped && errors.Is(runErr, context.Canceled)) {
		return runErr
	}
	if err := res.save(checker); err != nil {
		logger.Error("--state: saving the check", "err", err)
	}
	if statsFile != nil {
		if err := writeStatsFile(statsFile, fromCrawler(rep.Crawl), stopped); err != nil {
			logger.Error("writing --stats file", "file", cfg.Stats, "err", err)
		}
	}

	if err := writeCheckOutput(out, cfg, rep); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if err := closeOut(); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if reportFile != nil {
		if err := linkcheck.WriteHTML(reportFile, rep); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
		if err := reportFile.Close(); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
	}
	if !cfg.Quiet && (cfg.Format != "text" || out != stdout) {
		fmt.Fprintln(con, "trawl: "+rep.Summary())
	}
	mx.crawlDone()
	switch {
	case stopped:
		return errInterrupted
	case len(rep.Broken()) > 0:
		return errBroken
	}
	return nil
}

// writeCheckOutput writes the report in the --format asked for.
func writeCheckOutput(w io.Writer, cfg *Config, rep *linkcheck.Report) error {
	switch cfg.Format {
	case "jsonl":
		return linkcheck.WriteJSONL(w, rep, cfg.All)
	case "junit":
		return linkcheck.WriteJUnit(w, rep, cfg.All)
	}
	return linkcheck.WriteText(w, rep)
}

// checkConfig is the link checker's configuration.
func checkConfig(c *Config, logger *slog.Logger) (linkcheck.Config, error) {
	ccfg, err := crawlerConfig(c, logger)
	if err != nil {
		return linkcheck.Config{}, err
	}
	accept, err := parseAccept(c.Accept)
	if err != nil {
		return linkcheck.Config{}, &usageError{err}
	}
	ccfg.Stages = []pipeline.Stage{pipeline.Named("log", logPages(logger))}
	return linkcheck.Config{
		Crawl:       ccfg,
		Accept:      accept,
		NoFragments: c.NoFragments,
		MaxSources:  c.MaxSources,
		// Only --all lists the sources of OK targets.
		KeepOKSources: c.All,
	}, nil
}

// newSession opens the session of a check: the crawl's settings, the
// cookies of a resumed --state run, the --cookie cookies.
func newSession(ctx context.Context, cfg *Config, res *resume, seeds []string, arc *archive, mx *metricsServer) (*session.Session, error) {
	scfg := sessionConfig(cfg)
	if arc != nil {
		scfg.WrapTransport = arc.wrap
	}
	scfg.Traces = append(scfg.Traces, mx.traces()...)
	// The checks of the site's own assets run beside its crawl: the
	// connector's per-host limit keeps both together within --per-host.
	scfg.ConnectorConfig.LimitPerHost = cfg.PerHost
	sess, err := session.New(scfg)
	if err != nil {
		return nil, &usageError{err}
	}
	if err := res.restoreSession(ctx, sess); err != nil {
		sess.Close()
		return nil, err
	}
	if err := setCookies(sess, cfg, seeds); err != nil {
		sess.Close()
		return nil, err
	}
	return sess, nil
}

// checkStatusLine is the live progress line of a check.
func checkStatusLine(c *linkcheck.Checker) string {
	st := c.Stats()
	cs := c.Crawler().Stats()
	return fmt.Sprintf("%d pages  %.1f/s  %d targets  %d checked  %d broken  %d skipped  queued %d",
		st.Pages, cs.PagesPerSec, st.Targets, st.Checked, st.Broken, st.Skipped, cs.Queued)
}

// stateCheck is the key of the checker's state in a --state directory.
const stateCheck = "check/state"

// checkResume is how a check starts given its frontier: fresh, or resumed
// from a --state directory with the checker's state of the earlier runs.
type checkResume struct {
	*resume
	saved []byte // the checker's state saved by the earlier run, nil when none
}

// resumeCheck is resumeCrawl for a check. A finished crawl is not the end:
// its saved check is reported again.
func resumeCheck(ctx context.Context, cfg *Config, fr frontier.Frontier, seeds []string, logger *slog.Logger) (*checkResume, error) {
	r, err := resumeCrawl(ctx, cfg, fr, seeds, logger, io.Discard)
	if err != nil {
		return nil, err
	}
	cr := &checkResume{resume: r}
	if r.d == nil || !r.resumed {
		return cr, nil
	}
	if cr.saved, err = r.d.LoadState(ctx, stateCheck); err != nil {
		return nil, fmt.Errorf("--state: %w", err)
	}
	if cr.saved == nil && r.finished {
		return nil, usagef("--state: %s holds a finished crawl but no check (was it made by trawl crawl?): use a new directory", cfg.State)
	}
	if cr.saved == nil {
		logger.Warn("--state: no check saved by the earlier run (killed?): the report covers the pages crawled from now on", "state", cfg.State)
	}
	return cr, nil
}

// save keeps the checker's state in the --state directory.
func (r *checkResume) save(c *linkcheck.Checker) error {
	if r.d == nil {
		return nil
	}
	var b bytes.Buffer
	if err := c.Save(&b); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return r.d.SaveState(ctx, stateCheck, b.Bytes())
}
