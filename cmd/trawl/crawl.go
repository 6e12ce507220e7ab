package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// exitNow ends the process at once; a second interrupt calls it. Tests that
// run Run in-process replace it.
var exitNow = os.Exit

// runCrawl is 'trawl crawl [flags] URL...'.
func runCrawl(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a, err := parseCrawlArgs(args, stdout)
	if err != nil {
		return err
	}
	if a.help {
		return nil
	}
	return crawl(ctx, a, stdout, stderr)
}

// crawl runs the crawl a describes (trawl crawl, trawl demo) to its end:
// records to the output, the live status line, the summary, the exit error.
func crawl(ctx context.Context, a *crawlArgs, stdout, stderr io.Writer) error {
	cfg := &a.cfg
	con := newConsole(stderr)
	logger := newLogger(con, cfg)
	if a.configFile != "" {
		logger.Debug("config file read", "file", a.configFile)
	}

	// Open everything that can fail on bad input before the first request.
	// The metrics server first (a busy port changes nothing), then the
	// frontier: with --state it locks the directory, and a resumed crawl
	// appends to its output (state.go).
	mx, err := startMetrics(cfg, logger)
	if err != nil {
		return err
	}
	defer mx.Close()
	flushOut := &lateFlush{}
	fr, closeFrontier, err := openFrontier(ctx, cfg, flushOut.flush)
	if err != nil {
		return err
	}
	defer closeFrontier()
	res, err := resumeCrawl(ctx, cfg, fr, a.seeds, logger, con)
	if err != nil {
		return err
	}
	if res.finished {
		return nil
	}
	out, closeOut, err := res.openOutput(ctx, cfg, stdout)
	if err != nil {
		return err
	}
	defer closeOut()
	var statsFile *os.File
	if cfg.Stats != "" {
		if statsFile, err = os.Create(cfg.Stats); err != nil {
			return usagef("--stats: %v", unwrapPath(err))
		}
		defer statsFile.Close()
	}

	store, closeStore, err := openRecrawlStore(cfg, fr)
	if err != nil {
		return err
	}
	defer closeStore()

	arc, err := openArchive(cfg, fr, a.seeds, logger)
	if err != nil {
		return err
	}
	if arc != nil && arc.digests != nil {
		flushOut.setArchive(arc) // written out in the commits that mark pages done
	}
	scfg := sessionConfig(cfg)
	scfg.Traces = append(scfg.Traces, mx.traces()...)
	if arc != nil {
		scfg.WrapTransport = arc.wrap
	}
	sess, err := session.New(scfg)
	if err != nil {
		arc.close()
		return &usageError{err}
	}
	defer sess.Close()
	if err := res.restoreSession(ctx, sess); err != nil {
		return err
	}
	if err := setCookies(sess, cfg, a.seeds); err != nil {
		return err
	}

	showProgress := !cfg.Quiet && (cfg.Progress || isTerminal(stderr))
	switch {
	case out == stdout && isTerminal(stdout):
		if showProgress {
			out = con.Through(stdout) // records and the status line share the terminal
		}
	case cfg.Redis == "":
		// Records in batches (outbuf.go); with --state, flushed before
		// the commit that marks their pages done.
		ob := newOutBuffer(out)
		defer ob.Close()
		if res.outFile != nil {
			if err := ob.setFile(res.outFile, res.outPath, cfg.StateSync); err != nil {
				return fmt.Errorf("--output: %w", err)
			}
		}
		flushOut.set(ob)
		out = ob
	}
	ccfg, err := crawlerConfig(cfg, logger)
	if err != nil {
		return err
	}
	if store != nil {
		ccfg.Recrawl = store
		ccfg.Revisit = cfg.Recrawl
		ccfg.MaxAge = cfg.MaxAge
		// A 304's record keeps the fields --select found in the page's
		// last full response; other selectors fetch known pages in full.
		if ccfg.DataVersion, err = selectVersion(cfg.Select); err != nil {
			return err
		}
	}
	// The crawler builds the pipeline from these stages, giving it its own
	// normalizer, robots product token and --ignore-robots, and closes it
	// (flushing the exporter) when Run returns.
	var exporter pipeline.Exporter
	if ccfg.Stages, exporter, err = pipelineStages(cfg, out, logger); err != nil {
		return err
	}
	rnd, err := openRenderer(cfg, logger)
	if err != nil {
		return err
	}
	if rnd != nil {
		defer rnd.Close()
		ccfg.Renderer = rnd
	}
	cr, err := crawler.New(ccfg, sess, fr, nil)
	if err != nil {
		return &usageError{err}
	}
	if err := mx.watch(cr); err != nil {
		return err
	}

	// The first SIGINT or SIGTERM cancels the crawl: no new requests,
	// in-flight ones finish within the grace period, the output is flushed.
	// A second one exits at once; every record already written is whole,
	// because exporters write each record in one Write.
	runCtx, sigs := watchSignals(ctx, logger, cfg.GracePeriod, func() {
		_ = exporter.Flush()
		arc.flush()
		con.ClearStatus()
		fmt.Fprintln(con, "trawl: interrupted again: exiting now")
	})
	defer sigs.Stop()
	if arc != nil {
		arc.setCancel(sigs.cancel) // a failed WARC write stops the crawl
	}

	// The status line, the summary and --stats read the counters /metrics
	// exports, so that they agree; a Redis crawl adds its totals over all
	// processes (shared is nil otherwise).
	shared := newSharedTotals(fr, logger)
	ownStats := func() crawlStats { return fromCrawl(cr) }
	statsNow := func() crawlStats {
		s := ownStats()
		s.Crawl = shared.last()
		return s
	}
	var progWG sync.WaitGroup
	progCtx, stopProgress := context.WithCancel(context.Background())
	if shared != nil {
		progWG.Add(1)
		go func() {
			defer progWG.Done()
			shared.run(progCtx, ownStats)
		}()
	}
	if showProgress {
		progWG.Add(1)
		go func() {
			defer progWG.Done()
			runProgress(progCtx, con, statsNow, progressInterval)
		}()
	}

	logger.Debug("crawl starting", "seeds", strings.Join(a.seeds, " "), "workers", cfg.Workers, "per_host", cfg.PerHost)
	runErr := cr.Run(runCtx, a.seeds...)
	stopProgress()
	progWG.Wait()
	var closeErr error
	if err := closeOut(); err != nil {
		closeErr = fmt.Errorf("output: %w", err)
	}
	if err := arc.close(); err != nil {
		// a failed WARC write cancelled the crawl: it is the error to report
		if runErr == nil || errors.Is(runErr, context.Canceled) {
			runErr = err
		} else if closeErr == nil {
			closeErr = err
		}
	}
	sigs.Stop()

	stopped := sigs.Interrupted() || (ctx.Err() != nil && errors.Is(runErr, ctx.Err()))
	if stopped && errors.Is(runErr, context.Canceled) {
		runErr = nil
	}
	if shared != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		shared.sync(sctx, ownStats())
		cancel()
	}
	final := statsNow()
	res.finish(sess)
	if statsFile != nil {
		if err := writeStatsFile(statsFile, final, stopped); err != nil {
			logger.Error("writing --stats file", "file", cfg.Stats, "err", err)
		}
	}
	if !cfg.Quiet {
		word := "done"
		switch {
		case runErr != nil || closeErr != nil:
			word = "failed"
		case stopped:
			word = "interrupted"
		}
		fmt.Fprintln(con, summaryLine(final, word)+res.summary())
	}
	mx.crawlDone()
	switch {
	case runErr != nil:
		return runErr
	case closeErr != nil:
		return closeErr
	case stopped:
		return errInterrupted
	}
	return nil
}

// newLogger returns the logger for stderr: -q shows errors only.
func newLogger(w io.Writer, cfg *Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // Validate checked it
	if cfg.Quiet {
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openOutput opens the records file: standard output for "" and "-".
func openOutput(path string, stdout io.Writer) (io.Writer, func() error, error) {
	if path == "" || path == "-" {
		return stdout, func() error { return nil }, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, nil, usagef("--output: %v", unwrapPath(err))
	}
	var once sync.Once
	var closeErr error
	return f, func() error {
		once.Do(func() { closeErr = f.Close() })
		return closeErr
	}, nil
}

// unwrapPath shortens "open x: no such file" to keep messages on one line
// without repeating the operation.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", pe.Path, pe.Err)
	}
	return err
}

// setCookies puts the --cookie cookies in the session's jar for every seed
// host.
func setCookies(s *session.Session, cfg *Config, seeds []string) error {
	cookies, err := parseCookies(cfg.Cookie)
	if err != nil || len(cookies) == 0 {
		return err
	}
	jar := s.Jar()
	if jar == nil {
		return usagef("--cookie: the session has no cookie jar")
	}
	for _, seed := range seeds {
		u, err := url.Parse(seed)
		if err != nil {
			return usagef("bad URL %q: %v", seed, err)
		}
		jar.SetCookies(&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/"}, cookies)
	}
	return nil
}
