package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// runVersion prints the module version and build details:
//
//	trawl v1.2.0 (go1.26.0 linux/amd64, rev 1a2b3c4d5e6f)
func runVersion(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return usagef("version: unexpected argument %q", args[0])
	}
	_, err := fmt.Fprintln(stdout, versionString())
	return err
}

func versionString() string {
	version, rev, dirty := "(devel)", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	extra := runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "+dirty"
		}
		extra += ", rev " + rev
	}
	return fmt.Sprintf("trawl %s (%s)", version, extra)
}
