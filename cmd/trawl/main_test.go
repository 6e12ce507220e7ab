package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("boom"), 1},
		{usagef("--workers: bad"), 2},
		{fmt.Errorf("wrapped: %w", usagef("x")), 2},
		{errInterrupted, 130},
		{fmt.Errorf("crawl: %w", errInterrupted), 130},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestRunCommands(t *testing.T) {
	runCases(t, []runCase{
		{nil, 2, "", "no command given"},
		{[]string{"help"}, 0, "trawl crawl [flags] URL...", ""},
		{[]string{"--help"}, 0, "Examples:", ""},
		{[]string{"help", "crawl"}, 0, "--per-host N", ""},
		{[]string{"help", "check"}, 0, "--accept STATUSES", ""},
		{[]string{"check", "-h"}, 0, "Usage: trawl check", ""},
		{[]string{"help", "version"}, 0, "Usage: trawl version", ""},
		{[]string{"help", "frobnicate"}, 2, "", `help: unknown command "frobnicate"`},
		{[]string{"version"}, 0, "trawl ", ""},
		{[]string{"version", "extra"}, 2, "", `unexpected argument "extra"`},
		{[]string{"crawll"}, 2, "", `unknown command "crawll" (try 'trawl help')`},
		{[]string{"https://example.com/"}, 2, "", `did you mean 'trawl crawl https://example.com/'?`},
		{[]string{"crawl", "-h"}, 0, "Usage: trawl crawl", ""},
	})

}

// runCase is one command line given to Run: its exit code, a substring of
// its standard output and of its error.
type runCase struct {
	args     []string
	code     int
	stdout   string // substring
	errorHas string // substring of the error
}

// runCases runs each case as a subtest.
func runCases(t *testing.T, tests []runCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb strings.Builder
			err := Run(context.Background(), tt.args, &out, &errb)
			if got := exitCode(err); got != tt.code {
				t.Fatalf("exit %d (err %v), want %d", got, err, tt.code)
			}
			if tt.errorHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errorHas)) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.errorHas)
			}
			if !strings.Contains(out.String(), tt.stdout) {
				t.Fatalf("stdout %q lacks %q", out.String(), tt.stdout)
			}
		})
	}
}
