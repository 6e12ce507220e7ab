package disk_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/disk"
)

// BenchmarkPushNextAck measures one URL's round trip through the frontier
// as the crawler drives it: workers lease, push the links found (mostly
// duplicates) and acknowledge. ns/op is per URL.
func BenchmarkPushNextAck(b *testing.B) {
	for _, workers := range []int{1, 16} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			d, err := disk.Open(b.TempDir(), disk.Config{Policy: frontier.HostPolicy{MaxInFlight: 64}, NoSync: benchNoSync, AckWindow: workers})
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			ctx := context.Background()
			const hosts = 16
			urlOf := func(i int) string { return fmt.Sprintf("http://h%d.bench.test/p/%d", i%hosts, i) }
			var seeds []frontier.Entry
			for i := range hosts {
				seeds = append(seeds, frontier.Entry{URL: urlOf(i)})
			}
			if _, err := d.Push(ctx, seeds...); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			var wg sync.WaitGroup
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						l, err := d.Next(ctx)
						if err != nil {
							return
						}
						i, _ := strconv.Atoi(l.URL[strings.LastIndexByte(l.URL, '/')+1:])
						var links []frontier.Entry
						for _, j := range []int{2*i + 1, 2*i + 2, i / 2, i / 3, i} {
							if j < b.N+hosts {
								links = append(links, frontier.Entry{URL: urlOf(j), Depth: l.Depth + 1, Referrer: l.URL})
							}
						}
						if _, err := d.Push(ctx, links...); err != nil {
							b.Error(err)
							return
						}
						if err := d.Ack(ctx, l); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			st, _ := d.Stats(ctx)
			if st.Seen != int64(b.N+hosts) {
				b.Fatalf("seen %d; want %d", st.Seen, b.N+hosts)
			}
		})
	}
}

// BenchmarkScale pushes b.N distinct URLs (1,000 hosts, pushes of 1,000
// entries from 4 goroutines), then leases and acknowledges 100,000, and
// reports the process's peak RSS and the store's size:
//
//	go test -run '^$' -bench Scale -benchtime 10000000x ./frontier/disk/
func BenchmarkScale(b *testing.B) {
	dir := b.TempDir()
	cfg := disk.Config{AckWindow: 16, NoSync: benchNoSync}
	cfg.MaxBatch, _ = strconv.Atoi(os.Getenv("DISK_BENCH_MAXBATCH"))
	cfg.TrimEvery, _ = strconv.ParseInt(os.Getenv("DISK_BENCH_TRIM"), 10, 64)
	d, err := disk.Open(dir, cfg)
	if os.Getenv("DISK_BENCH_TRACE") != "" {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(250 * time.Millisecond):
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					fmt.Fprintf(os.Stderr, "hwm %d rss %d anon %d file %d MB; heap inuse %d sys %d released %d MB\n", statusKB("VmHWM")/1024, statusKB("VmRSS")/1024, statusKB("RssAnon")/1024, statusKB("RssFile")/1024,
						ms.HeapInuse>>20, ms.HeapSys>>20, ms.HeapReleased>>20)
				}
			}
		}()
	}
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	const hosts, chunk, pushers = 1000, 1000, 4
	start := time.Now()
	var wg sync.WaitGroup
	for p := range pushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			es := make([]frontier.Entry, 0, chunk)
			for i := p * chunk; i < b.N; i += pushers * chunk {
				es = es[:0]
				for j := i; j < i+chunk && j < b.N; j++ {
					es = append(es, frontier.Entry{
						URL:      fmt.Sprintf("http://host%d.example.com/section/%d/page-%d.html", j%hosts, j%97, j),
						Depth:    3,
						Referrer: fmt.Sprintf("http://host%d.example.com/section/%d/", j%hosts, j%89),
					})
				}
				if _, err := d.Push(ctx, es...); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	pushDur := time.Since(start)
	st, _ := d.Stats(ctx)
	if st.Queued != int64(b.N) || st.Seen != int64(b.N) {
		b.Fatalf("stats %+v; want %d queued and seen", st, b.N)
	}
	// Lease and acknowledge as a crawl would: 16 workers, acknowledgements
	// not waited for (AckWindow), every commit fsynced.
	pops := min(100000, b.N)
	var left atomic.Int64
	left.Store(int64(pops))
	start = time.Now()
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				l, err := d.Next(ctx)
				if err != nil {
					b.Error(err)
					return
				}
				if err := d.Ack(ctx, l); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := d.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	popDur := time.Since(start)
	b.ReportMetric(float64(b.N)/pushDur.Seconds(), "push/s")
	b.ReportMetric(float64(pops)/popDur.Seconds(), "next+ack/s")
	b.ReportMetric(float64(statusKB("VmHWM"))/1024, "peakRSS_MB")
	b.ReportMetric(float64(statusKB("RssAnon"))/1024, "anonRSS_MB")
	if fi, err := os.Stat(filepath.Join(dir, "frontier.db")); err == nil {
		b.ReportMetric(float64(fi.Size())/1e6, "disk_MB")
	}
}

// statusKB reads a "kB" field of /proc/self/status (0 where there is none).
func statusKB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

var benchNoSync = os.Getenv("DISK_BENCH_NOSYNC") != ""
