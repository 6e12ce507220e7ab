package bolttrim

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ResidentFile returns the bytes of files the process has mapped in its
// resident set (RssFile of /proc/self/status): what trimming keeps down.
// For tests and diagnostics.
func ResidentFile() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssFile:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("bolttrim: RssFile %q: %w", v, err)
			}
			return n << 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("bolttrim: no RssFile in /proc/self/status")
}
