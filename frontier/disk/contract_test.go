package disk_test

import (
	"testing"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/disk"
	"github.com/trawlhq/trawl/frontier/frontiertest"
)

func TestContract(t *testing.T) {
	// fsync is left out: it changes no behaviour, only latency, and this
	// shared machine's fsync takes milliseconds. TestResumeOrder and
	// TestCommitInterval run with it.
	t.Run("nosync", func(t *testing.T) {
		runContract(t, disk.Config{Policy: frontier.HostPolicy{MaxInFlight: 2}, NoSync: true})
	})
	t.Run("ackwindow", func(t *testing.T) {
		runContract(t, disk.Config{Policy: frontier.HostPolicy{MaxInFlight: 2}, NoSync: true, AckWindow: 4})
	})
	// Seen-log merges all the time, small batches: the suite's
	// deduplication and reopen cases then cross merges.
	t.Run("merging", func(t *testing.T) {
		runContract(t, disk.Config{Policy: frontier.HostPolicy{MaxInFlight: 2}, NoSync: true, SeenLog: 3, MaxBatch: 4})
	})
}

func runContract(t *testing.T, cfg disk.Config) {
	dirs := map[frontier.Frontier]string{}
	frontiertest.RunWithOptions(t, frontiertest.Options{
		Open: func(t *testing.T) frontier.Frontier {
			dir := t.TempDir()
			d, err := disk.Open(dir, cfg)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			dirs[d] = dir
			return d
		},
		Reopen: func(t *testing.T, old frontier.Frontier) frontier.Frontier {
			dir := dirs[old]
			if err := old.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			d, err := disk.Open(dir, cfg)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			dirs[d] = dir
			return d
		},
	})
}
