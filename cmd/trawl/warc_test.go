package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier/disk"
	"github.com/trawlhq/trawl/session/warc"
)

// TestStateIndex: digests stored in the --state directory are found again
// after it is closed and reopened.
func TestStateIndex(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	ctx := context.Background()
	d, err := disk.Open(dir, disk.Config{})
	if err != nil {
		t.Fatal(err)
	}
	idx := newStateIndex(d)
	first := warc.Capture{ID: "<urn:uuid:1>", URI: "http://a/", Date: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)}
	if _, ok, err := idx.Lookup(ctx, "sha1:X"); ok || err != nil {
		t.Fatalf("Lookup in an empty index = %v, %v", ok, err)
	}
	if err := idx.Store(ctx, "sha1:X", first); err != nil {
		t.Fatal(err)
	}
	idx.close() // saves what is queued
	d.Close()
	d, err = disk.Open(dir, disk.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	idx = newStateIndex(d)
	defer idx.close()
	c, ok, err := idx.Lookup(ctx, "sha1:X")
	if err != nil || !ok || c.ID != first.ID || c.URI != first.URI || !c.Date.Equal(first.Date) {
		t.Fatalf("Lookup after reopen = %+v, %v, %v; want %+v", c, ok, err, first)
	}
}
