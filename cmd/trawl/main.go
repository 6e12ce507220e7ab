// Command trawl crawls web sites from the command line.
//
//	trawl crawl https://example.com -o pages.jsonl
//
// Files: main.go maps Run's error to an exit status; crawl.go, demo.go,
// status.go, version.go and help.go hold one subcommand each (demo.go: the built-in
// demo site of internal/demosite, crawled through crawl.go's code path);
// crawl_args.go parses the crawl command line (defaults, then the config
// file, then the flags given);
// flags.go registers the crawl flags; config.go holds the YAML Config,
// DefaultConfig and Validate; convert.go turns a Config into the library's
// session, crawler and pipeline configurations; frontier.go opens the
// frontier backend (state.go: the disk frontier and resume, redis.go: the
// Redis frontier); recrawl.go the recrawl store and --recrawl's new pass;
// progress.go the live status line, the summary and the
// --stats file; size.go the size parser.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"strings"
)

// startProfile writes a CPU profile (TRAWL_CPUPROFILE), an execution
// trace (TRAWL_TRACE: go tool trace shows where workers wait) or the
// allocations (TRAWL_MEMPROFILE: pprof's allocs profile, written at the
// end) of the whole run to the file the variable env names, when it is set;
// for developers measuring trawl. The returned function ends it.
func startProfile(env string, start func(io.Writer) error, stop func()) func() {
	path := os.Getenv(env)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "trawl: %s: %v\n", env, err)
		return func() {}
	}
	if err := start(f); err != nil {
		fmt.Fprintf(os.Stderr, "trawl: %s: %v\n", env, err)
		f.Close()
		return func() {}
	}
	return func() {
		stop()
		f.Close()
	}
}

func main() {
	stopProfile := startProfile("TRAWL_CPUPROFILE", pprof.StartCPUProfile, pprof.StopCPUProfile)
	stopTrace := startProfile("TRAWL_TRACE", trace.Start, trace.Stop)
	var allocs io.Writer
	stopAllocs := startProfile("TRAWL_MEMPROFILE", func(w io.Writer) error { allocs = w; return nil }, func() {
		_ = pprof.Lookup("allocs").WriteTo(allocs, 0)
	})
	err := Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	stopAllocs()
	stopTrace()
	stopProfile()
	if err != nil && !errors.Is(err, errInterrupted) && !errors.Is(err, errBroken) {
		// One line, even for joined errors.
		fmt.Fprintln(os.Stderr, "trawl: "+strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	os.Exit(exitCode(err))
}

// Exit statuses.
const (
	exitOK          = 0
	exitRuntime     = 1   // a fatal runtime error
	exitUsage       = 2   // a bad flag, config key or URL
	exitInterrupted = 130 // stopped by SIGINT or SIGTERM
)

var (
	// errInterrupted is returned by Run when a signal stopped the crawl; the
	// output is complete up to the last record written.
	errInterrupted = errors.New("interrupted")
)

// usageError is a mistake on the command line or in the config file: exit 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// exitCode maps Run's error to the process exit status.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errInterrupted):
		return exitInterrupted
	case errors.As(err, &ue):
		return exitUsage
	default:
		return exitRuntime
	}
}

// Run runs the trawl command line with args (without the program name).
// Records go to stdout (unless -o), everything else to stderr.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		printUsage(stderr)
		return usagef("no command given (try 'trawl demo', 'trawl crawl URL' or 'trawl help')")
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "crawl":
		return runCrawl(ctx, rest, stdout, stderr)
	case "check":
		return runCheck(ctx, rest, stdout, stderr)
	case "status":
		return runStatus(ctx, rest, stdout)
	case "demo":
		return runDemo(ctx, rest, stdout, stderr)
	case "version", "--version":
		return runVersion(rest, stdout)
	case "help", "-h", "--help":
		return runHelp(rest, stdout)
	default:
		if strings.Contains(cmd, "://") || strings.HasPrefix(cmd, "-") {
			return usagef("unknown command %q (did you mean 'trawl crawl %s'?)", cmd, strings.Join(args, " "))
		}
		return usagef("unknown command %q (try 'trawl help')", cmd)
	}
}
