package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/trawlhq/trawl/internal/robotstest"
)

// TestRobotsGoogleSuiteCLI runs every expectation of Google's robots.txt
// suite that a crawl can express through the command line: the robots.txt
// is served by a local server, `trawl crawl URL --user-agent AGENT --depth
// 0` runs in-process, and the URL must be fetched exactly when the
// expected answer is "allowed". Cases where trawl follows RFC 9309 against
// Google carry the RFC's answer (see internal/robotstest).
func TestRobotsGoogleSuiteCLI(t *testing.T) {
	ran := 0
	for i, c := range robotstest.Google {
		if c.NoCLI != "" {
			continue
		}
		ran++
		t.Run(fmt.Sprintf("%03d_%s", i, c.Test), func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var fetched []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/robots.txt" {
					_, _ = w.Write([]byte(c.Body))
					return
				}
				mu.Lock()
				fetched = append(fetched, r.URL.RequestURI())
				mu.Unlock()
				w.Header().Set("Content-Type", "text/html")
				_, _ = w.Write([]byte("<title>ok</title>"))
			}))
			defer srv.Close()
			out := filepath.Join(t.TempDir(), "out.jsonl")
			var stderr bytes.Buffer
			err := Run(context.Background(), []string{"crawl", srv.URL + robotstest.PathOf(c.URL),
				"--user-agent", c.Agent, "--depth", "0", "--retries", "0", "--max-url-length", "0",
				"--workers", "1", "-q", "-o", out}, &bytes.Buffer{}, &stderr)
			if err != nil {
				t.Fatalf("trawl: %v\n%s", err, stderr.String())
			}
			rec, _ := os.ReadFile(out)
			mu.Lock()
			got := len(fetched) > 0
			mu.Unlock()
			if got != c.Want() {
				why := ""
				if c.RFC != "" {
					why = " (Google answers otherwise: " + c.RFC + ")"
				}
				t.Errorf("agent %q, URL %.120q: fetched %v, want %v%s\nrobots.txt:\n%.300s\nrecord: %.300s", c.Agent, c.URL, got, c.Want(), why, c.Body, rec)
			}
			if !got && !strings.Contains(string(rec), "robots: disallowed") {
				t.Errorf("record %.300s, want a robots error", rec)
			}
		})
	}
	if ran < 140 {
		t.Errorf("%d cases ran through the CLI, want at least 140", ran)
	}
}
