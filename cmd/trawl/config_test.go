package main

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// shippedConfig is the documented config.yaml at the repository root.
const shippedConfig = "../../config.yaml"

func TestShippedConfigIsDefault(t *testing.T) {
	got, _, err := loadConfigFile(shippedConfig, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if want := DefaultConfig(); !reflect.DeepEqual(got, want) {
		t.Fatalf("config.yaml decodes to\n%+v\nwant DefaultConfig()\n%+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestKeysFlagsAndFile checks that every Config key has its flag and a line
// in the shipped config.yaml, and every flag its key.
func TestKeysFlagsAndFile(t *testing.T) {
	data, err := os.ReadFile(shippedConfig)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	var path string
	// The check command has the crawl's flags and its own.
	fs := newCheckFlags(&cfg, &path)
	keys := yamlFields()
	for key := range keys {
		if _, ok := doc[key]; !ok {
			t.Errorf("key %q missing from config.yaml", key)
		}
		if fs.Lookup(flagName(key)) == nil {
			t.Errorf("key %q has no flag --%s", key, flagName(key))
		}
	}
	for key := range doc {
		if _, ok := keys[key]; !ok {
			t.Errorf("config.yaml has key %q that Config lacks", key)
		}
	}
	fs.VisitAll(func(f *pflag.Flag) {
		if _, ok := keys[strings.ReplaceAll(f.Name, "-", "_")]; !ok && f.Name != "config" {
			t.Errorf("flag --%s has no config key", f.Name)
		}
	})
}

func TestDecodeConfig(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		check   func(c Config) bool
		wantErr string // substring; "" = success
	}{
		{"empty", "", func(c Config) bool { return reflect.DeepEqual(c, DefaultConfig()) }, ""},
		{"comments only", "# nothing\n", func(c Config) bool { return reflect.DeepEqual(c, DefaultConfig()) }, ""},
		{"values", "workers: 3\nper_host: 2\ndelay: 250ms\nmax_body: 1MiB\nrate: 1.5\nignore_robots: true\nformat: csv\n",
			func(c Config) bool {
				return c.Workers == 3 && c.PerHost == 2 && c.Delay == 250*time.Millisecond &&
					c.MaxBody == 1<<20 && c.Rate == 1.5 && c.IgnoreRobots && c.Format == "csv"
			}, ""},
		{"zero duration", "delay: 0\n", func(c Config) bool { return c.Delay == 0 }, ""},
		{"integer size", "max_body: 2048\n", func(c Config) bool { return c.MaxBody == 2048 }, ""},
		{"lists", "allow_domain: ['*.example.com', b.org]\nheader:\n  - 'X-A: 1'\n",
			func(c Config) bool {
				return reflect.DeepEqual(c.AllowDomain, []string{"*.example.com", "b.org"}) && len(c.Header) == 1
			}, ""},
		{"scalar as one-item list", "exclude: '/private/'\n", func(c Config) bool { return len(c.Exclude) == 1 }, ""},
		{"unknown key", "workers: 3\nworkerz: 4\n", nil, `test.yaml:2: unknown key "workerz"`},
		{"dashed key", "per-host: 4\n", nil, `unknown key "per-host" (did you mean "per_host"?)`},
		{"bad int", "workers: many\n", nil, `test.yaml:1: workers: want an integer, got "many"`},
		{"bad bool", "quiet: sometimes\n", nil, `test.yaml:1: quiet: want true or false`},
		{"bad duration", "\ndelay: 5 seconds\n", nil, `test.yaml:2: delay: want a duration`},
		{"integer duration", "delay: 5\n", nil, `delay: want a duration`},
		{"bad size", "max_body: 10 parsecs\n", nil, `test.yaml:1: max_body: size "10 parsecs": unknown unit`},
		{"list for int", "workers: [1, 2]\n", nil, `workers: want an integer, got a list`},
		{"mapping for list", "header: {a: b}\n", nil, `header: want a list of strings, got a mapping`},
		{"duplicate key", "workers: 1\nworkers: 2\n", nil, `test.yaml:2: key "workers" given twice (first on line 1)`},
		{"not a mapping", "- workers\n", nil, `test.yaml:1: want a mapping`},
		{"syntax error", "workers: [1\n", nil, `test.yaml`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := decodeConfig("test.yaml", []byte(tt.yaml), DefaultConfig())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Fatalf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(got) {
				t.Fatalf("unexpected config %+v", got)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(c *Config)
		wantErr string
	}{
		{"defaults", func(c *Config) {}, ""},
		{"workers", func(c *Config) { c.Workers = 0 }, "workers: must be at least 1, got 0"},
		{"per_host", func(c *Config) { c.PerHost = -2 }, "per_host: must be at least 1"},
		{"depth", func(c *Config) { c.Depth = -2 }, "depth: must be at least -1"},
		{"format", func(c *Config) { c.Format = "xml" }, `format: must be one of jsonl, csv, got "xml"`},
		{"log level", func(c *Config) { c.LogLevel = "loud" }, "log_level:"},
		{"log format", func(c *Config) { c.LogFormat = "xml" }, "log_format:"},
		{"rate", func(c *Config) { c.Rate = -1 }, "rate:"},
		{"delay", func(c *Config) { c.Delay = -time.Second }, "delay: must not be negative"},
		{"include", func(c *Config) { c.Include = []string{"("} }, `include: bad regular expression "("`},
		{"exclude", func(c *Config) { c.Exclude = []string{"[a"} }, `exclude: bad regular expression "[a"`},
		{"header", func(c *Config) { c.Header = []string{"NoColon"} }, `header: "NoColon": want 'Name: value'`},
		{"cookie", func(c *Config) { c.Cookie = []string{"novalue"} }, `cookie: "novalue": want 'name=value'`},
		{"select syntax", func(c *Config) { c.Select = []string{"h1"} }, `select: "h1": want 'name=CSS'`},
		{"select css", func(c *Config) { c.Select = []string{"t=h1[[["} }, `select: field "t"`},
		{"select twice", func(c *Config) { c.Select = []string{"t=h1", "t=h2"} }, `given twice`},
		{"allow domain", func(c *Config) { c.AllowDomain = []string{"http://x.com/"} }, `allow_domain: "http://x.com/"`},
		{"allow all", func(c *Config) { c.AllowDomain = []string{"*", "*.example.com", "localhost", "127.0.0.1"} }, ""},
		{"domain with port", func(c *Config) { c.AllowDomain = []string{"127.0.0.1:8080"} }, `allow_domain: "127.0.0.1:8080": not a domain`},
		{"deny all", func(c *Config) { c.DenyDomain = []string{"*"} }, `deny_domain: "*": not a domain`},
		{"max body", func(c *Config) { c.MaxBody = -1 }, "max_body:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.mod(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseCrawlArgs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	file := write("c.yaml", "workers: 5\nper_host: 3\ndepth: 2\nallow_domain: [a.example]\nformat: csv\n")
	badRegex := write("bad.yaml", "workers: 5\n\nexclude: ['(']\n")
	unknown := write("unknown.yaml", "workers: 5\nspeed: 9\n")
	seed := "https://Example.com:443/b#frag"

	tests := []struct {
		name    string
		args    []string
		check   func(a *crawlArgs) bool
		wantErr string // "" = success; otherwise a substring of the one-line error
	}{
		{"defaults", []string{seed}, func(a *crawlArgs) bool {
			want := DefaultConfig()
			return reflect.DeepEqual(a.cfg, want) && reflect.DeepEqual(a.seeds, []string{"https://example.com/b"})
		}, ""},
		{"short flags", []string{"-o", "x.jsonl", "-q", "-v", "-H", "A: 1", "-H", "B: 2", seed}, func(a *crawlArgs) bool {
			return a.cfg.Output == "x.jsonl" && a.cfg.Quiet && a.cfg.LogLevel == "debug" && len(a.cfg.Header) == 2
		}, ""},
		{"all kinds", []string{seed, "--workers", "7", "--per-host=2", "--rate", "0.5", "--delay", "1s",
			"--max-body", "512KiB", "--depth", "0", "--max-pages", "10", "--allow-domain", "*.x.org",
			"--allow-domain", "y.org", "--select", "title=h1", "--ignore-robots", "--sitemaps", "--timeout", "3s"},
			func(a *crawlArgs) bool {
				c := a.cfg
				return c.Workers == 7 && c.PerHost == 2 && c.Rate == 0.5 && c.Delay == time.Second &&
					c.MaxBody == 512<<10 && c.Depth == 0 && c.MaxPages == 10 &&
					reflect.DeepEqual(c.AllowDomain, []string{"*.x.org", "y.org"}) && len(c.Select) == 1 &&
					c.IgnoreRobots && c.Sitemaps && c.Timeout == 3*time.Second
			}, ""},
		{"file", []string{"-c", file, seed}, func(a *crawlArgs) bool {
			return a.cfg.Workers == 5 && a.cfg.PerHost == 3 && a.cfg.Depth == 2 && a.cfg.Format == "csv" && a.configFile == file
		}, ""},
		{"flags over file", []string{"--config", file, "--workers", "9", "--allow-domain", "b.example", seed},
			func(a *crawlArgs) bool {
				return a.cfg.Workers == 9 && a.cfg.PerHost == 3 &&
					reflect.DeepEqual(a.cfg.AllowDomain, []string{"b.example"})
			}, ""},
		{"two seeds deduplicated", []string{seed, "https://example.com/b", "http://other.test/"}, func(a *crawlArgs) bool {
			return reflect.DeepEqual(a.seeds, []string{"https://example.com/b", "http://other.test/"})
		}, ""},
		{"missing file", []string{"-c", filepath.Join(dir, "nope.yaml"), seed}, nil, "--config: "},
		{"unknown key", []string{"-c", unknown, seed}, nil, `unknown.yaml:2: unknown key "speed"`},
		{"bad value in file", []string{"-c", badRegex, seed}, nil, `bad.yaml:3: exclude: bad regular expression "("`},
		{"bad value fixed by flag", []string{"-c", badRegex, "--exclude", "x", seed}, func(a *crawlArgs) bool {
			return reflect.DeepEqual(a.cfg.Exclude, []string{"x"})
		}, ""},
		{"unknown flag", []string{"--wokers", "3", seed}, nil, "unknown flag: --wokers"},
		{"bad int flag", []string{"--workers", "lots", seed}, nil, `"--workers"`},
		{"bad size flag", []string{"--max-body", "10 parsecs", seed}, nil, `"--max-body"`},
		{"bad duration flag", []string{"--delay", "5", seed}, nil, `"--delay"`},
		{"invalid flag value", []string{"--per-host", "0", seed}, nil, "--per-host: must be at least 1, got 0"},
		{"bad format", []string{"--format", "xml", seed}, nil, `--format: must be one of jsonl, csv, got "xml"`},
		{"bad header", []string{"-H", "nocolon", seed}, nil, `--header: "nocolon"`},
		{"no URL", []string{"--workers", "3"}, nil, "no URL given"},
		{"bad URL scheme", []string{"ftp://example.com/"}, nil, `bad URL "ftp://example.com/": scheme must be http or https`},
		{"URL without scheme", []string{"example.com"}, nil, `bad URL "example.com": no scheme`},
		{"URL without host", []string{"http:///path"}, nil, `bad URL "http:///path": no host`},
		{"unparsable URL", []string{"http://exa mple.com/"}, nil, `bad URL "http://exa mple.com/"`},
		{"bad URL among good", []string{seed, "http://[::1"}, nil, `bad URL "http://[::1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := parseCrawlArgs(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if exitCode(err) != exitUsage {
					t.Fatalf("exit code %d for %v, want %d", exitCode(err), err, exitUsage)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Fatalf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(a) {
				t.Fatalf("unexpected result: seeds %q config %+v", a.seeds, a.cfg)
			}
		})
	}
}

func TestHelpFlag(t *testing.T) {
	var out strings.Builder
	a, err := parseCrawlArgs([]string{"--help"}, &out)
	if err != nil || !a.help {
		t.Fatalf("parseCrawlArgs(--help) = %+v, %v", a, err)
	}
	for _, want := range []string{"Usage: trawl crawl", "--per-host", "(default 8)", "--max-body size", "10MiB", "Examples:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("crawl help lacks %q", want)
		}
	}
}
