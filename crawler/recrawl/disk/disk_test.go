package disk_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/trawlhq/trawl/crawler/recrawl"
	"github.com/trawlhq/trawl/crawler/recrawl/disk"
	"github.com/trawlhq/trawl/crawler/recrawl/recrawltest"
	fdisk "github.com/trawlhq/trawl/frontier/disk"
)

func open(t *testing.T, path string, cfg disk.Config) *disk.Store {
	t.Helper()
	s, err := disk.Open(path, cfg)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	for _, cfg := range []disk.Config{{}, {MaxBatch: 3}} {
		t.Run(fmt.Sprintf("maxbatch=%d", cfg.MaxBatch), func(t *testing.T) {
			paths := map[recrawl.Store]string{}
			recrawltest.Run(t, recrawltest.Options{
				Open: func(t *testing.T) recrawl.Store {
					p := filepath.Join(t.TempDir(), "pages.db")
					s, err := disk.Open(p, cfg)
					if err != nil {
						t.Fatalf("Open: %v", err)
					}
					paths[s] = p
					return s
				},
				Reopen: func(t *testing.T, old recrawl.Store) recrawl.Store {
					p := paths[old]
					// Close commits nothing more than what Save and Delete
					// already waited for: it is what a dying process
					// leaves (TestKill kills one for real).
					if err := old.(*disk.Store).Close(); err != nil {
						t.Fatalf("Close: %v", err)
					}
					s, err := disk.Open(p, cfg)
					if err != nil {
						t.Fatalf("reopen: %v", err)
					}
					paths[s] = p
					return s
				},
			})
		})
	}
}

// TestSync runs the contract with an fsync per commit (slower: fewer pages).
func TestSync(t *testing.T) {
	recrawltest.Run(t, recrawltest.Options{
		Open: func(t *testing.T) recrawl.Store {
			s, err := disk.Open(filepath.Join(t.TempDir(), "pages.db"), disk.Config{Sync: true})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return s
		},
		Pages: 200,
	})
}

func TestLenAndClose(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "pages.db")
	s := open(t, p, disk.Config{})
	if s.Path() != p {
		t.Errorf("Path = %q; want %q", s.Path(), p)
	}
	for i := range 10 {
		if err := s.Save(ctx, recrawltest.Sample(fmt.Sprintf("http://l.example/%d", i), i)); err != nil {
			t.Fatal(err)
		}
	}
	// Saving again replaces; deleting an unknown URL changes nothing.
	if err := s.Save(ctx, recrawltest.Sample("http://l.example/3", 30)); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"http://l.example/4", "http://l.example/4", "http://l.example/none"} {
		if err := s.Delete(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.Len(ctx); err != nil || n != 9 {
		t.Errorf("Len = %d, %v; want 9", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := s.Load(ctx, "http://l.example/1"); !errors.Is(err, recrawl.ErrClosed) {
		t.Errorf("Load after Close = %v; want ErrClosed", err)
	}
	if err := s.Save(ctx, recrawltest.Sample("http://l.example/x", 1)); !errors.Is(err, recrawl.ErrClosed) {
		t.Errorf("Save after Close = %v; want ErrClosed", err)
	}
	if err := s.Delete(ctx, "http://l.example/1"); !errors.Is(err, recrawl.ErrClosed) {
		t.Errorf("Delete after Close = %v; want ErrClosed", err)
	}
	if err := s.Range(ctx, func(string, int) error { return nil }); !errors.Is(err, recrawl.ErrClosed) {
		t.Errorf("Range after Close = %v; want ErrClosed", err)
	}
	if _, err := s.Len(ctx); !errors.Is(err, recrawl.ErrClosed) {
		t.Errorf("Len after Close = %v; want ErrClosed", err)
	}
	s = open(t, p, disk.Config{})
	if n, err := s.Len(ctx); err != nil || n != 9 {
		t.Errorf("Len after reopening = %d, %v; want 9", n, err)
	}
}

func TestSaveRefused(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "pages.db"), disk.Config{})
	long := "http://l.example/" + strings.Repeat("a", bolt.MaxKeySize)
	for _, p := range []*recrawl.Page{
		{URL: ""},
		{URL: long},
		{URL: "http://l.example/neg", Depth: -1},
	} {
		if err := s.Save(ctx, p); err == nil {
			t.Errorf("Save of %.40q (depth %d) succeeded; want an error", p.URL, p.Depth)
		}
	}
	// A refused page does not fail the others.
	if err := s.Save(ctx, recrawltest.Sample("http://l.example/ok", 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, long); err != nil {
		t.Errorf("Delete of an over-long URL = %v; want nil (never stored)", err)
	}
	if n, err := s.Len(ctx); err != nil || n != 1 {
		t.Errorf("Len = %d, %v; want 1", n, err)
	}
}

// TestRangeWrites saves and deletes from inside Range's function, which a
// store holding a transaction across the calls would deadlock on, and
// ranges over more than one chunk.
func TestRangeWrites(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "pages.db"), disk.Config{})
	const n = 2500
	for i := range n {
		if err := s.Save(ctx, &recrawl.Page{URL: fmt.Sprintf("http://r.example/%05d", i), Depth: i % 4}); err != nil {
			t.Fatal(err)
		}
	}
	seen := 0
	err := s.Range(ctx, func(u string, depth int) error {
		seen++
		var i int
		fmt.Sscanf(u, "http://r.example/%05d", &i)
		if depth != i%4 {
			t.Errorf("%s: depth %d; want %d", u, depth, i%4)
		}
		if i%2 == 0 {
			return s.Delete(ctx, u)
		}
		return s.Save(ctx, &recrawl.Page{URL: u, Depth: 9})
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != n {
		t.Errorf("Range saw %d pages; want %d", seen, n)
	}
	if got, err := s.Len(ctx); err != nil || got != int64(n/2) {
		t.Errorf("Len after deleting half = %d, %v; want %d", got, err, n/2)
	}
	ctx2, cancel := context.WithCancel(ctx)
	calls := 0
	err = s.Range(ctx2, func(string, int) error {
		calls++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls > 1024 {
		t.Errorf("Range with ctx cancelled in fn = %v after %d calls; want context.Canceled within one chunk", err, calls)
	}
}

func TestOpenLocked(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pages.db")
	open(t, p, disk.Config{})
	start := time.Now()
	_, err := disk.Open(p, disk.Config{LockTimeout: -1})
	if !errors.Is(err, disk.ErrLocked) {
		t.Fatalf("second Open = %v; want ErrLocked", err)
	}
	if want := "recrawl/disk: " + p + ": locked by another process"; err.Error() != want {
		t.Errorf("error %q; want %q", err, want)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Open with a negative LockTimeout took %v", d)
	}
}

// TestOpenBad opens files that are not usable page stores: each gives a
// clear error naming the file, and the file is left as it was.
func TestOpenBad(t *testing.T) {
	fill := func(t *testing.T, p string, n int) {
		s, err := disk.Open(p, disk.Config{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if err := s.Save(context.Background(), recrawltest.Sample(fmt.Sprintf("http://b.example/%d", i), i)); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
	}
	tests := []struct {
		name    string
		prepare func(t *testing.T, p string)
		want    error
		inMsg   string
	}{
		{"garbage", func(t *testing.T, p string) {
			os.WriteFile(p, []byte(strings.Repeat("garbage!", 4096)), 0o644)
		}, disk.ErrCorrupt, "corrupt page store"},
		{"truncated header", func(t *testing.T, p string) {
			fill(t, p, 50)
			os.Truncate(p, 100)
		}, disk.ErrCorrupt, "corrupt page store"},
		{"frontier store", func(t *testing.T, p string) {
			d, err := fdisk.Open(filepath.Dir(p), fdisk.Config{})
			if err != nil {
				t.Fatal(err)
			}
			d.Close()
			os.Rename(filepath.Join(filepath.Dir(p), "frontier.db"), p)
		}, disk.ErrForeign, "not a trawl page store"},
		{"newer format", func(t *testing.T, p string) {
			fill(t, p, 1)
			db, err := bolt.Open(p, 0o644, nil)
			if err != nil {
				t.Fatal(err)
			}
			db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("meta")).Put([]byte("format"), []byte{0, 0, 0, 9})
			})
			db.Close()
		}, disk.ErrIncompatible, "format 9"},
		{"directory", func(t *testing.T, p string) {
			os.Mkdir(p, 0o755)
		}, nil, "is a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "pages.db")
			tc.prepare(t, p)
			before := snapshot(p)
			s, err := disk.Open(p, disk.Config{LockTimeout: -1})
			if err == nil {
				s.Close()
				t.Fatalf("Open succeeded; want an error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Open = %v; want %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "recrawl/disk: "+p+": ") || !strings.Contains(err.Error(), tc.inMsg) {
				t.Errorf("error %q: want it to start with recrawl/disk: %s: and say %q", err, p, tc.inMsg)
			}
			if after := snapshot(p); after != before {
				t.Errorf("Open modified the refused file")
			}
		})
	}
}

func snapshot(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%d %x", len(b), b)
}

// TestDamaged damages a store's pages in many ways (bytes flipped in the
// data pages, the file cut short) and uses it: Open, Load, Range, Save and
// Delete return errors or results, never panic or crash the process.
func TestDamaged(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "pages.db")
	s, err := disk.Open(src, disk.Config{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		if err := s.Save(ctx, recrawltest.Sample(fmt.Sprintf("http://d.example/%d", i), i)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	orig, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	const pageSize = 4096
	rng := rand.New(rand.NewPCG(1, 2))
	var opened, failedOpen, errored int
	for round := range 60 {
		b := append([]byte(nil), orig...)
		switch round % 3 {
		case 0: // flip bytes in the data pages (after the two meta pages)
			for range 1 + rng.IntN(8) {
				i := 2*pageSize + rng.IntN(len(b)-2*pageSize)
				b[i] ^= byte(1 + rng.IntN(255))
			}
		case 1: // zero a whole data page
			pg := 2 + rng.IntN(len(b)/pageSize-2)
			clear(b[pg*pageSize : (pg+1)*pageSize])
		case 2: // cut the file short
			b = b[:2*pageSize+rng.IntN(len(b)-2*pageSize)]
		}
		p := filepath.Join(t.TempDir(), "pages.db")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := disk.Open(p, disk.Config{})
		if err != nil {
			failedOpen++
			if !strings.HasPrefix(err.Error(), "recrawl/disk: "+p) {
				t.Errorf("round %d: Open error %q does not name the file", round, err)
			}
			continue
		}
		opened++
		bad := false
		for i := range n {
			u := fmt.Sprintf("http://d.example/%d", i)
			if _, err := s.Load(ctx, u); err != nil {
				bad = true
				if !errors.Is(err, disk.ErrCorrupt) && !errors.Is(err, recrawl.ErrClosed) {
					t.Errorf("round %d: Load %s = %v; want ErrCorrupt", round, u, err)
				}
			}
		}
		if err := s.Range(ctx, func(string, int) error { return nil }); err != nil {
			bad = true
		}
		for i := range 20 {
			if err := s.Save(ctx, recrawltest.Sample(fmt.Sprintf("http://d.example/new/%d", i), i)); err != nil {
				bad = true
			}
			if err := s.Delete(ctx, fmt.Sprintf("http://d.example/%d", i*7)); err != nil {
				bad = true
			}
		}
		if bad {
			errored++
		}
		s.Close()
	}
	t.Logf("60 damaged files: %d refused by Open, %d opened (%d of them gave errors later)", failedOpen, opened, errored)
}
