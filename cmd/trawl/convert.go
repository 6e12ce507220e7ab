package main

import (
	"context"
	"io"
	"log/slog"
	"strings"

	"golang.org/x/time/rate"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// This file turns the CLI's Config into the library's values. The CLI uses 0
// for "none" where the library uses a negative value (0 there means its
// default), so those are mapped here.

// noneIfZero maps the CLI's "0 = none" to the library's "negative = none".
func noneIfZero[T ~int | ~int64](v T) T {
	if v == 0 {
		return -1
	}
	return v
}

// sessionConfig is the session every worker shares. The session is the one
// home of the User-Agent: --user-agent sets Config.UserAgent, and a
// -H 'User-Agent: ...' is a default header, which the session sends (and
// reports as its agent) in its place; the flags clear each other, so the
// last one given wins.
func sessionConfig(c *Config) session.Config {
	header, _ := parseHeaders(c.Header) // Validate checked them
	if len(header) == 0 {
		header = nil
	}
	return session.Config{
		ConnectorConfig: session.ConnectorConfig{Limit: c.Workers},
		Header:          header,
		UserAgent:       c.UserAgent,
		Timeouts: session.Timeouts{
			Total:       noneIfZero(c.Timeout),
			SockConnect: noneIfZero(c.ConnectTimeout),
			SockRead:    noneIfZero(c.ReadTimeout),
		},
		MaxRedirects: noneIfZero(c.MaxRedirects),
		MaxBodySize:  noneIfZero(int64(c.MaxBody)),
	}
}

// crawlerConfig is the crawl engine's configuration, without its Stages
// (see pipelineStages).
func crawlerConfig(c *Config, logger *slog.Logger) (crawler.Config, error) {
	include, err := compileAll("include", c.Include)
	if err != nil {
		return crawler.Config{}, &usageError{err}
	}
	exclude, err := compileAll("exclude", c.Exclude)
	if err != nil {
		return crawler.Config{}, &usageError{err}
	}
	// --depth: seeds are 0 and -1 is unlimited; the crawler's MaxDepth is 0
	// for unlimited and SeedsOnly for the seeds alone.
	depth := c.Depth
	switch {
	case depth < 0:
		depth = 0
	case depth == 0:
		depth = crawler.SeedsOnly
	}
	return crawler.Config{
		Workers:      c.Workers,
		PerHost:      c.PerHost,
		Rate:         rate.Limit(c.Rate),
		Delay:        c.Delay,
		RandomDelay:  c.RandomDelay,
		HostBackoff:  noneIfZero(c.HostBackoff),
		MaxHostDelay: c.MaxHostDelay,
		AutoThrottle: c.AutoThrottle,
		MaxDepth:     depth,
		MaxPages:     c.MaxPages,
		AllowDomains: c.AllowDomain,
		DenyDomains:  c.DenyDomain,
		Include:      include,
		Exclude:      exclude,
		MaxURLLength: noneIfZero(c.MaxURLLength),
		IgnoreRobots: c.IgnoreRobots,
		Sitemaps:     c.Sitemaps,
		Retries:      noneIfZero(c.Retries),
		GracePeriod:  noneIfZero(c.GracePeriod),
		Logger:       logger,

		TargetConcurrency: c.AutoThrottleTarget,
	}, nil
}

// pipelineStages are the stages of the pipeline the crawler builds: the
// log, the --select stage, if any, then the exporter writing records to
// out. The crawler gives that pipeline its normalizer, robots product
// token and --ignore-robots.
func pipelineStages(c *Config, out io.Writer, logger *slog.Logger) ([]pipeline.Stage, pipeline.Exporter, error) {
	stages := []pipeline.Stage{pipeline.Named("log", logPages(logger))}
	fields, err := parseSelects(c.Select)
	if err != nil {
		return nil, nil, &usageError{err}
	}
	if len(fields) > 0 {
		sel, err := pipeline.Select(fields)
		if err != nil {
			return nil, nil, usagef("--select: %s", strings.TrimPrefix(err.Error(), "pipeline: select "))
		}
		stages = append(stages, sel)
	}
	var ex pipeline.Exporter
	switch c.Format {
	case "csv":
		// A crawl with a state (--state, --redis) can be recrawled: its
		// rows say not_modified, changed and gone, in every pass, so that
		// a pass resumed with or without --recrawl keeps one header.
		ex = pipeline.NewCSVWith(out, pipeline.CSVOptions{
			DataColumns: selectNames(c.Select),
			Recrawl:     c.State != "" || c.Redis != "",
		})
	default:
		ex = pipeline.NewJSONL(out)
	}
	return append(stages, ex), ex, nil
}

// logPages logs every page at debug level (-v) and failed pages at warn.
func logPages(logger *slog.Logger) pipeline.Stage {
	return pipeline.StageFunc(func(ctx context.Context, p *pipeline.Page) error {
		level := slog.LevelDebug
		if p.Err != nil {
			level = slog.LevelWarn
		}
		if !logger.Enabled(ctx, level) {
			return nil
		}
		attrs := []slog.Attr{
			slog.String("url", p.URL), slog.String("host", frontier.HostKey(p.URL)), slog.Int("status", p.Status),
			slog.Int("depth", p.Depth), slog.Int64("elapsed_ms", p.Elapsed.Milliseconds()),
			slog.Int("attempt", p.Attempt+1), slog.Int("bytes", len(p.Body)),
		}
		if p.FinalURL != "" && p.FinalURL != p.URL {
			attrs = append(attrs, slog.String("final_url", p.FinalURL))
		}
		msg := "fetched"
		if p.Err != nil {
			msg = "failed"
			attrs = append(attrs, slog.String("err", p.Err.Error()))
		}
		logger.LogAttrs(ctx, level, msg, attrs...)
		return nil
	})
}

// selectNames are the --select field names in the order given.
func selectNames(specs []string) []string {
	var names []string
	for _, s := range specs {
		name, _, _ := strings.Cut(s, "=")
		names = append(names, strings.TrimSpace(name))
	}
	return names
}
