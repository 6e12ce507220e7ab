package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trawlhq/trawl/session/warc"
)

// TestStateIndex: digests stored in the --state directory's log are found
// again by the next run, and a line torn by a kill is cut.
func TestStateIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), stateWarcDigests)
	ctx := context.Background()
	idx, err := openStateIndex(path)
	if err != nil {
		t.Fatal(err)
	}
	first := warc.Capture{ID: "<urn:uuid:1>", URI: "http://a/", Date: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)}
	if _, ok, err := idx.Lookup(ctx, "sha1:X"); ok || err != nil {
		t.Fatalf("Lookup in an empty index = %v, %v", ok, err)
	}
	if err := idx.Store(ctx, "sha1:X", first); err != nil {
		t.Fatal(err)
	}
	if c, ok, _ := idx.Lookup(ctx, "sha1:X"); !ok || c.ID != first.ID {
		t.Fatalf("Lookup after Store = %+v, %v", c, ok)
	}
	idx.close()
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("sha1:TORN 2026-01-02T03:04:05.000006Z <urn:uu")
	f.Close()

	idx, err = openStateIndex(path)
	if err != nil {
		t.Fatal(err)
	}
	c, ok, err := idx.Lookup(ctx, "sha1:X")
	if err != nil || !ok || c.ID != first.ID || c.URI != first.URI || !c.Date.Equal(first.Date) {
		t.Fatalf("Lookup in the next run = %+v, %v, %v; want %+v", c, ok, err, first)
	}
	if _, ok, _ := idx.Lookup(ctx, "sha1:TORN"); ok {
		t.Error("the torn line was loaded")
	}
	idx.Store(ctx, "sha1:Y", first)
	idx.close()
	b, _ := os.ReadFile(path)
	if want := "sha1:X 2026-01-02T03:04:05.000006Z <urn:uuid:1> http://a/\nsha1:Y 2026-01-02T03:04:05.000006Z <urn:uuid:1> http://a/\n"; string(b) != want {
		t.Errorf("log =\n%s\nwant\n%s", b, want)
	}
}
