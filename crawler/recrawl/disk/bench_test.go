package disk_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/trawlhq/trawl/crawler/recrawl"
	"github.com/trawlhq/trawl/crawler/recrawl/disk"
	"github.com/trawlhq/trawl/crawler/recrawl/recrawltest"
)

// benchSavers is the number of goroutines saving at once, as crawl workers.
const benchSavers = 16

// benchPage is a page as a crawl saves it: the sample page plus 60
// same-site links (about 1.3 KB encoded).
func benchPage(i int) *recrawl.Page {
	p := recrawltest.Sample(fmt.Sprintf("http://h%d.bench.example/section/%d/page-%d.html", i%50, i%97, i), i)
	for j := range 60 {
		p.Links = append(p.Links, recrawl.Link{URL: fmt.Sprintf("http://h%d.bench.example/section/%d/page-%d.html", i%50, j%97, i*31+j)})
	}
	return p
}

// runSavers calls save for b.N pages from benchSavers goroutines and
// reports pages per second.
func runSavers(b *testing.B, save func(p *recrawl.Page) error) {
	pages := make([]*recrawl.Page, 4096)
	for i := range pages {
		pages[i] = benchPage(i)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	written := writtenBytes()
	for range benchSavers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				p := *pages[i%len(pages)]
				p.URL = fmt.Sprintf("%s?n=%d", p.URL, i) // a new key each time
				if err := save(&p); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pages/s")
	if w := writtenBytes(); w >= 0 && written >= 0 {
		b.ReportMetric(float64(w-written)/float64(b.N), "written-B/page")
	}
}

// writtenBytes returns the bytes this process has written with write
// system calls (wchar in /proc/self/io), or -1 where that is not known.
func writtenBytes() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

// BenchmarkSave measures Save with benchSavers concurrent savers, against
// the same pages written with one bbolt transaction per page (what Save
// would cost without group commit).
//
//	go test -run '^$' -bench BenchmarkSave -benchtime 20000x ./crawler/recrawl/disk
func BenchmarkSave(b *testing.B) {
	ctx := context.Background()
	for _, sync := range []bool{false, true} {
		name := "nosync"
		if sync {
			name = "sync"
		}
		b.Run(name+"/grouped", func(b *testing.B) {
			s, err := disk.Open(filepath.Join(b.TempDir(), "pages.db"), disk.Config{Sync: sync})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			runSavers(b, func(p *recrawl.Page) error { return s.Save(ctx, p) })
			b.ReportMetric(float64(b.N)/float64(disk.Commits(s)), "pages/commit")
		})
		b.Run(name+"/tx-per-save", func(b *testing.B) {
			db, err := bolt.Open(filepath.Join(b.TempDir(), "pages.db"), 0o644, &bolt.Options{FreelistType: bolt.FreelistMapType})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.NoSync = !sync
			if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("pages")); return err }); err != nil {
				b.Fatal(err)
			}
			runSavers(b, func(p *recrawl.Page) error {
				v, err := p.AppendBinary(nil)
				if err != nil {
					return err
				}
				return db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("pages")).Put([]byte(p.URL), v) })
			})
		})
	}
}
