package disk_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/trawlhq/trawl/crawler/recrawl"
	"github.com/trawlhq/trawl/crawler/recrawl/disk"
	"github.com/trawlhq/trawl/internal/bolttrim"
)

// rssFileKB is the process's resident file-backed memory, in KiB.
func rssFileKB(t *testing.T) int64 {
	t.Helper()
	n, err := bolttrim.ResidentFile()
	if err != nil {
		t.Fatal(err)
	}
	return n >> 10
}

// TestResidentSetBounded: saving, ranging over and loading every page of
// a store of some 60 MB with a budget of 8 MiB does not keep the file in the process's resident
// set (its pages stay in the page cache only).
func TestResidentSetBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pages.db")
	s, err := disk.Open(path, disk.Config{TrimEvery: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const pages, links = 10000, 200
	base := rssFileKB(t)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < pages; i += 16 {
				p := &recrawl.Page{URL: fmt.Sprintf("http://h.example/p/%05d", i), Status: 200, Title: "t"}
				for j := range links {
					// Links that do not share a prefix: ~60 bytes each encoded.
					p.Links = append(p.Links, recrawl.Link{URL: fmt.Sprintf("http://%d-%d.example/%x", j, i, i*j)})
				}
				if err := s.Save(ctx, p); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	afterSave := rssFileKB(t) - base
	n := 0
	err = s.Range(ctx, func(u string, _ int) error {
		n++
		p, err := s.Load(ctx, u)
		if err != nil || p == nil || len(p.Links) != links {
			return fmt.Errorf("Load %s = %v, %v", u, p, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	afterRead := rssFileKB(t) - base
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("store %d MB; resident file pages above the start: %d KiB after the saves, %d after reading every page", st.Size()>>20, afterSave, afterRead)
	if n != pages {
		t.Fatalf("Range saw %d pages, want %d", n, pages)
	}
	if st.Size() < 60<<20 {
		t.Fatalf("the store is only %d bytes: too small to show anything", st.Size())
	}
	if limit := int64(24 << 10); afterSave > limit || afterRead > limit {
		t.Errorf("the store stayed in the resident set: %d KiB after the saves, %d KiB after the reads; want under %d KiB", afterSave, afterRead, limit)
	}
}
