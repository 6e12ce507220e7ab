package main

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/trawlhq/trawl/crawler"
)

func TestConvert(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	tests := []struct {
		name  string
		mod   func(c *Config)
		check func(t *testing.T, c *Config)
	}{
		{"defaults", func(c *Config) {}, func(t *testing.T, c *Config) {
			s := sessionConfig(c)
			// Per-host concurrency has one home, the crawler's PerHost
			// (the frontier's MaxInFlight); the User-Agent one, the
			// session's default.
			if s.ConnectorConfig.Limit != 64 || s.ConnectorConfig.LimitPerHost != 0 || s.MaxBodySize != 10<<20 ||
				s.Timeouts.Total != 30*time.Second || s.MaxRedirects != 10 || s.UserAgent != "" {
				t.Fatalf("session config %+v", s)
			}
			cc, err := crawlerConfig(c, logger)
			if err != nil || cc.MaxDepth != 0 || cc.Retries != 2 || cc.Workers != 64 || cc.PerHost != 8 {
				t.Fatalf("crawler config %+v, %v", cc, err)
			}
		}},
		{"zero means none", func(c *Config) {
			c.MaxBody, c.Timeout, c.ReadTimeout, c.Retries, c.MaxRedirects, c.GracePeriod = 0, 0, 0, 0, 0, 0
		}, func(t *testing.T, c *Config) {
			s := sessionConfig(c)
			if s.MaxBodySize != -1 || s.Timeouts.Total != -1 || s.Timeouts.SockRead != -1 || s.MaxRedirects != -1 {
				t.Fatalf("session config %+v", s)
			}
			cc, _ := crawlerConfig(c, logger)
			if cc.Retries != -1 || cc.GracePeriod != -1 {
				t.Fatalf("crawler config %+v", cc)
			}
		}},
		{"depth 0 is seeds only", func(c *Config) { c.Depth = 0 }, func(t *testing.T, c *Config) {
			if cc, _ := crawlerConfig(c, logger); cc.MaxDepth != crawler.SeedsOnly {
				t.Fatalf("MaxDepth %d", cc.MaxDepth)
			}
		}},
		{"depth 3", func(c *Config) { c.Depth = 3 }, func(t *testing.T, c *Config) {
			if cc, _ := crawlerConfig(c, logger); cc.MaxDepth != 3 {
				t.Fatalf("MaxDepth %d", cc.MaxDepth)
			}
		}},
		{"headers, user agent, regexes", func(c *Config) {
			c.Header = []string{"X-A: 1", "x-a: 2"}
			c.UserAgent = "me/1"
			c.Include = []string{"^https://"}
		}, func(t *testing.T, c *Config) {
			s := sessionConfig(c)
			if got := s.Header.Values("X-A"); len(got) != 2 || s.UserAgent != "me/1" {
				t.Fatalf("headers %v, UA %q", s.Header, s.UserAgent)
			}
			cc, _ := crawlerConfig(c, logger)
			if len(cc.Include) != 1 || !cc.Include[0].MatchString("https://x/") {
				t.Fatalf("crawler config %+v", cc)
			}
		}},
		{"pipeline: select then csv columns", func(c *Config) {
			c.Select = []string{"b=h2", "a=h1@title"}
			c.Format = "csv"
		}, func(t *testing.T, c *Config) {
			stages, ex, err := pipelineStages(c, io.Discard, logger)
			if err != nil || len(stages) != 3 || stages[2] != ex {
				t.Fatalf("pipeline stages %+v, %v", stages, err)
			}
			if got := selectNames(c.Select); len(got) != 2 || got[0] != "b" || got[1] != "a" {
				t.Fatalf("select names %q", got)
			}
		}},
		{"host policy", func(c *Config) { c.Rate = 4; c.Delay = 100 * time.Millisecond; c.RandomDelay = time.Second }, func(t *testing.T, c *Config) {
			p := hostPolicy(c)
			if p.Interval != 250*time.Millisecond || p.Jitter != time.Second || p.MaxInFlight != 8 {
				t.Fatalf("policy %+v", p)
			}
			// Computed once, by the crawler.
			if cc, _ := crawlerConfig(c, logger); p != cc.HostPolicy() {
				t.Fatalf("frontier policy %+v, crawler's %+v", p, cc.HostPolicy())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.mod(&c)
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			tt.check(t, &c)
		})
	}
}
