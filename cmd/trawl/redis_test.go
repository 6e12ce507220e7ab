package main

import (
	"strings"
	"testing"
	"time"
)

func TestValidateRedis(t *testing.T) {
	tests := []struct {
		name    string
		set     func(c *Config)
		wantErr string // "" = valid
	}{
		{"off", func(c *Config) {}, ""},
		{"url", func(c *Config) { c.Redis = "redis://127.0.0.1:6379/0" }, ""},
		{"url with password and name", func(c *Config) {
			c.Redis, c.RedisPrefix = "redis://:pw@127.0.0.1:6379/2", "shop-2026"
		}, ""},
		{"tls url", func(c *Config) { c.Redis = "rediss://cache.internal:6380/0" }, ""},
		{"bad scheme", func(c *Config) { c.Redis = "http://127.0.0.1:6379" }, "redis: bad Redis URL"},
		{"password not echoed", func(c *Config) { c.Redis = "http://:hunter2@127.0.0.1:6379" }, "xxxxx"},
		{"prefix without redis", func(c *Config) { c.RedisPrefix = "x" }, "redis_prefix: needs redis"},
		{"prefix with braces", func(c *Config) {
			c.Redis, c.RedisPrefix = "redis://127.0.0.1:6379/0", "a{b}"
		}, "redis_prefix: \"a{b}\""},
		{"negative lease timeout", func(c *Config) { c.RedisLeaseTimeout = -time.Second }, "redis_lease_timeout"},
		{"tiny lease timeout", func(c *Config) { c.RedisLeaseTimeout = time.Millisecond }, "at least 300ms"},
		{"lease timeout", func(c *Config) { c.RedisLeaseTimeout = 2 * time.Second }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.set(&c)
			err := c.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v; want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate() = %v; want an error containing %q", err, tc.wantErr)
			case err != nil && strings.Contains(err.Error(), "hunter2"):
				t.Errorf("Validate() = %v; it leaks the password", err)
			}
		})
	}
}

func TestRedisFlags(t *testing.T) {
	a, err := parseCrawlArgs([]string{"--redis", "redis://127.0.0.1:6379/1", "--redis-prefix", "crawl-a",
		"--redis-lease-timeout", "5s", "https://example.com/"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.cfg.Redis != "redis://127.0.0.1:6379/1" || a.cfg.RedisPrefix != "crawl-a" || a.cfg.RedisLeaseTimeout != 5*time.Second {
		t.Errorf("config = %q, %q, %v; want the flags' values", a.cfg.Redis, a.cfg.RedisPrefix, a.cfg.RedisLeaseTimeout)
	}
	if _, err := parseCrawlArgs([]string{"--redis-prefix", "x", "https://example.com/"}, nil); err == nil ||
		!strings.Contains(err.Error(), "--redis-prefix: needs redis") {
		t.Errorf("--redis-prefix without --redis: err = %v; want it named", err)
	}
}
