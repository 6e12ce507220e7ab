package main

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/trawlhq/trawl/crawler/render"
)

// addRenderFlags registers the flags of rendering pages in a browser.
func addRenderFlags(fs *pflag.FlagSet, c *Config) {
	fs.BoolVar(&c.Render, "render", c.Render, "render HTML pages in headless Chromium before extraction (same as --render-when always)")
	fs.StringVar(&c.RenderWhen, "render-when", c.RenderWhen, "`WHEN` to render: never, always, or auto (only pages that look built by scripts)")
	fs.StringVar(&c.Browser, "browser", c.Browser, "Chromium executable `PATH` (default: chromium, chromium-browser or google-chrome on PATH)")
	fs.IntVar(&c.RenderTabs, "render-tabs", c.RenderTabs, "render at most `N` pages at once (browser tabs)")
	fs.StringVar(&c.RenderWait, "render-wait", c.RenderWait, "after the load event, wait for the network to be idle this `long`, or for a CSS selector to match (e.g. '#products li')")
	fs.DurationVar(&c.RenderTimeout, "render-timeout", c.RenderTimeout, "give up rendering a page after this long (it is then exported as served)")
	fs.StringVar(&c.RenderBlock, "render-block", c.RenderBlock, "resource `TYPES` the browser does not load, comma-separated (image,font,media,stylesheet,script,...; none = load all)")
	fs.StringVar(&c.RenderMarker, "render-marker", c.RenderMarker, "with --render-when auto, render the pages whose served HTML matches `REGEX`")
}

// renderWhen is the effective render_when: --render means always.
func (c *Config) renderWhen() string {
	if c.Render && (c.RenderWhen == "" || c.RenderWhen == "never") {
		return "always"
	}
	if c.RenderWhen == "" {
		return "never"
	}
	return c.RenderWhen
}

// validateRender checks the render keys.
func (c *Config) validateRender() error {
	switch w := c.renderWhen(); w {
	case "never", "always", "auto":
	default:
		return invalid("render_when", "must be one of never, always, auto, got %q", w)
	}
	if c.RenderTabs < 0 {
		return invalid("render_tabs", "must be at least 1, got %d", c.RenderTabs)
	}
	if c.RenderTimeout < 0 {
		return invalid("render_timeout", "must not be negative, got %s", c.RenderTimeout)
	}
	if _, _, err := parseRenderWait(c.RenderWait); err != nil {
		return invalid("render_wait", "%v", err)
	}
	if _, err := renderBlock(c.RenderBlock); err != nil {
		return invalid("render_block", "%v", err)
	}
	if c.RenderMarker != "" {
		if _, err := regexp.Compile(c.RenderMarker); err != nil {
			return invalid("render_marker", "%q: %v", c.RenderMarker, err)
		}
		if c.renderWhen() != "auto" {
			return invalid("render_marker", "needs render_when: auto (--render-when auto)")
		}
	}
	return nil
}

// parseRenderWait reads --render-wait: a duration of network idle, or a
// CSS selector. "" means the default idle time.
func parseRenderWait(s string) (time.Duration, string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, "", nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return 0, "", fmt.Errorf("%q: must not be negative", s)
		}
		if d == 0 {
			d = -1 // read the DOM at the load event
		}
		return d, "", nil
	}
	if s[0] >= '0' && s[0] <= '9' {
		return 0, "", fmt.Errorf("%q is neither a duration (500ms, 2s) nor a CSS selector", s)
	}
	return 0, s, nil
}

// renderBlock reads --render-block: "" is the default list, "none" blocks
// nothing.
func renderBlock(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return nil, nil
	case "none":
		return []string{}, nil
	}
	var out []string
	for _, t := range strings.Split(s, ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		ok := false
		for _, known := range render.ResourceTypes {
			ok = ok || t == known
		}
		if !ok {
			return nil, fmt.Errorf("unknown resource type %q (one of %s, or none)", t, strings.Join(render.ResourceTypes, ","))
		}
		out = append(out, t)
	}
	return out, nil
}

// openRenderer starts the browser when the configuration asks for
// rendering; nil means no rendering. No browser found is a usage error
// naming what to install.
func openRenderer(cfg *Config, logger *slog.Logger) (*render.Renderer, error) {
	when := cfg.renderWhen()
	if when == "never" {
		return nil, nil
	}
	idle, sel, _ := parseRenderWait(cfg.RenderWait)
	block, _ := renderBlock(cfg.RenderBlock)
	rc := render.Config{
		Browser:      cfg.Browser,
		Tabs:         cfg.RenderTabs,
		Auto:         when == "auto",
		Idle:         idle,
		WaitSelector: sel,
		Timeout:      cfg.RenderTimeout,
		Block:        block,
		Logger:       logger,
	}
	if cfg.RenderMarker != "" {
		rc.Marker = regexp.MustCompile(cfg.RenderMarker) // validated
	}
	if cfg.Browser != "" {
		if _, err := render.FindBrowser(cfg.Browser); err != nil {
			return nil, usagef("--browser %s: not found or not executable", cfg.Browser)
		}
	}
	r, err := render.New(rc)
	if errors.Is(err, render.ErrNoBrowser) {
		return nil, usagef("--render: no Chromium found on PATH: install it (Debian: apt-get install chromium) or pass --browser PATH")
	}
	if err != nil {
		if cfg.Browser != "" {
			return nil, usagef("--browser %s: %v", cfg.Browser, err)
		}
		return nil, err
	}
	return r, nil
}
