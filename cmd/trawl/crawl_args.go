package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/trawlhq/trawl/frontier"
)

// defaultConfigFile is read when -c is not given and the file exists.
const defaultConfigFile = "config.yaml"

// crawlArgs is a parsed 'trawl crawl' command line.
type crawlArgs struct {
	cfg        Config
	seeds      []string        // normalized seed URLs
	configFile string          // the config file read, "" when none
	changed    map[string]bool // flags given on the command line, by long name
	help       bool            // --help was asked: usage printed, nothing else to do
}

// crawlingCommand is a command that takes the crawl flags and config file:
// crawl itself, and demo (demo.go), which adds flags of its own and crawls
// a seed it chooses.
type crawlingCommand struct {
	name  string               // in messages: "crawl: no URL given"
	usage func(io.Writer)      // prints the command's help
	flags func(*pflag.FlagSet) // registers the command's own flags; nil for none
	seeds bool                 // seed URLs are required; when false, arguments are refused

	// defaults returns the command's defaults; nil means DefaultConfig.
	defaults func() Config
	// configFlags registers the command's own flags that set Config keys
	// (check.go); nil for none.
	configFlags func(c *Config, fs *pflag.FlagSet)
}

// defaultConfig is the command's default configuration.
func (cmd crawlingCommand) defaultConfig() Config {
	if cmd.defaults != nil {
		return cmd.defaults()
	}
	return DefaultConfig()
}

var crawlCommand = crawlingCommand{name: "crawl", usage: printCrawlUsage, seeds: true}

// parseCrawlArgs builds the configuration of a crawl: defaults, then the
// config file, then the flags actually given. Every error is a *usageError
// naming the flag, key or URL at fault.
func parseCrawlArgs(args []string, stdout io.Writer) (*crawlArgs, error) {
	return parseCommandArgs(crawlCommand, args, stdout)
}

// newFlags is the crawl flag set bound to c and configPath, plus the
// command's own flags.
func (cmd crawlingCommand) newFlags(c *Config, configPath *string) *pflag.FlagSet {
	fs := newCrawlFlags(c, configPath)
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	if cmd.configFlags != nil {
		cmd.configFlags(c, fs)
	}
	return fs
}

// parseCommandArgs is parseCrawlArgs for any crawling command.
func parseCommandArgs(cmd crawlingCommand, args []string, stdout io.Writer) (*crawlArgs, error) {
	// First pass: find the config file and which flags were given.
	probe := cmd.defaultConfig()
	var configPath string
	fs := cmd.newFlags(&probe, &configPath)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			cmd.usage(stdout)
			return &crawlArgs{help: true}, nil
		}
		return nil, usagef("%s: %v", cmd.name, err)
	}
	a := &crawlArgs{changed: map[string]bool{}}
	fs.Visit(func(f *pflag.Flag) { a.changed[f.Name] = true })

	cfg := cmd.defaultConfig()
	var lines map[string]int
	switch {
	case fs.Changed("config"):
		if configPath == "" {
			return nil, usagef("--config: empty file name")
		}
		a.configFile = configPath
	default:
		if _, err := os.Stat(defaultConfigFile); err == nil {
			a.configFile = defaultConfigFile
		}
	}
	if a.configFile != "" {
		var err error
		cfg, lines, err = loadConfigFile(a.configFile, cfg)
		if err != nil {
			return nil, &usageError{err}
		}
	}

	// Second pass: the flags given override the file.
	var ignored string
	fs2 := cmd.newFlags(&cfg, &ignored)
	fs2.SetOutput(io.Discard)
	if err := fs2.Parse(args); err != nil {
		return nil, usagef("%s: %v", cmd.name, err)
	}
	if cfg.Verbose {
		cfg.LogLevel = "debug"
	}
	if err := cfg.Validate(); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			if f := flagName(ce.Key); a.changed[f] {
				return nil, usagef("--%s: %s", f, ce.Msg)
			}
			if line, ok := lines[ce.Key]; ok {
				return nil, usagef("%s:%d: %s", a.configFile, line, err)
			}
			if a.configFile != "" {
				return nil, usagef("%s: %s", a.configFile, err)
			}
		}
		return nil, &usageError{err}
	}
	a.cfg = cfg

	if !cmd.seeds {
		if fs2.NArg() > 0 {
			return nil, usagef("%s: unexpected argument %q (it crawls its own site)", cmd.name, fs2.Arg(0))
		}
		return a, nil
	}
	if fs2.NArg() == 0 {
		return nil, usagef("%s: no URL given (usage: trawl %s [flags] URL...)", cmd.name, cmd.name)
	}
	seen := map[string]bool{}
	for _, raw := range fs2.Args() {
		u, err := checkSeed(raw)
		if err != nil {
			return nil, &usageError{err}
		}
		if !seen[u] {
			seen[u] = true
			a.seeds = append(a.seeds, u)
		}
	}
	return a, nil
}

// checkSeed returns the normalized form of a seed URL, or an error naming
// it.
func checkSeed(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("bad URL %q: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return "", fmt.Errorf("bad URL %q: no scheme (did you mean \"https://%s\"?)", raw, strings.TrimSpace(raw))
		}
		return "", fmt.Errorf("bad URL %q: scheme must be http or https", raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("bad URL %q: no host", raw)
	}
	n, err := frontier.Normalize(u.String())
	if err != nil {
		return "", fmt.Errorf("bad URL %q: %v", raw, strings.TrimPrefix(err.Error(), "frontier: "))
	}
	return n, nil
}
