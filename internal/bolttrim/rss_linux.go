package bolttrim

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
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

// statm is /proc/self/statm, kept open: reading it again from offset 0
// gives the current figures, one system call a look.
var (
	statmOnce sync.Once
	statm     *os.File
	statmMu   sync.Mutex
	pageSize  = int64(os.Getpagesize())
)

// residentNow returns the process's resident file-backed (and shared
// memory) bytes: the third field of /proc/self/statm, in pages.
func residentNow() (int64, bool) {
	statmOnce.Do(func() {
		statm, _ = os.Open("/proc/self/statm")
	})
	if statm == nil {
		return 0, false
	}
	var buf [128]byte
	statmMu.Lock()
	n, err := statm.ReadAt(buf[:], 0)
	statmMu.Unlock()
	if n == 0 && err != nil {
		return 0, false
	}
	fields := strings.Fields(string(buf[:n]))
	if len(fields) < 3 {
		return 0, false
	}
	pages, err := strconv.ParseInt(fields[2], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * pageSize, true
}
