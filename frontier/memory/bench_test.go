package memory

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
)

// urls returns n distinct URLs spread over hosts hosts.
func urls(n, hosts int) []frontier.Entry {
	es := make([]frontier.Entry, n)
	for i := range es {
		es[i].URL = "https://h" + strconv.Itoa(i%hosts) + ".example.com/page/" + strconv.Itoa(i)
	}
	return es
}

// drain leases and acknowledges n entries.
func drain(b *testing.B, m *Memory, n int) {
	ctx := context.Background()
	for range n {
		l, err := m.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Ack(ctx, l); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPushPop pushes URLs in batches of 100 (the links of a page) over
// 1,000 hosts and leases and acknowledges each. One op is one URL through
// Push, Next and Ack.
func BenchmarkPushPop(b *testing.B) {
	const batch = 100
	es := urls(max(b.N, batch), 1000)
	m := New(Config{})
	defer m.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	for i := 0; i < b.N; i += batch {
		j := min(i+batch, b.N)
		if _, err := m.Push(ctx, es[i:j]...); err != nil {
			b.Fatal(err)
		}
		drain(b, m, j-i)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "urls/s")
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu).Seconds(), "urls/cpu-s")
}

// BenchmarkManyHosts keeps hosts hosts queued (two URLs each) and measures
// one Next+Ack+Push cycle: with a heap the cost grows with log(hosts), not
// with hosts.
func BenchmarkManyHosts(b *testing.B) {
	for _, hosts := range []int{100, 10_000, 100_000} {
		b.Run(fmt.Sprintf("hosts=%d", hosts), func(b *testing.B) {
			m := New(Config{})
			defer m.Close()
			ctx := context.Background()
			if _, err := m.Push(ctx, urls(2*hosts, hosts)...); err != nil {
				b.Fatal(err)
			}
			es := urls(b.N+2*hosts, hosts)[2*hosts:]
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			defer func() { b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op") }()
			for i := range b.N {
				l, err := m.Next(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if err := m.Ack(ctx, l); err != nil {
					b.Fatal(err)
				}
				if _, err := m.Push(ctx, es[i]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSeen10M crawls 10 million URLs over 10,000 hosts through Push,
// Next and Ack and reports the heap the frontier keeps per URL once they are
// all done: the seen set and the host table.
func BenchmarkSeen10M(b *testing.B) {
	const n, hosts, batch = 10_000_000, 10_000, 1000
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m := New(Config{})
		ctx := context.Background()
		es := make([]frontier.Entry, batch)
		for i := 0; i < n; i += batch {
			for k := range es {
				es[k].URL = "https://h" + strconv.Itoa((i+k)%hosts) + ".example.com/page/" + strconv.Itoa(i+k)
			}
			if _, err := m.Push(ctx, es...); err != nil {
				b.Fatal(err)
			}
			drain(b, m, batch)
		}
		clear(es)
		runtime.GC()
		runtime.ReadMemStats(&after)
		st, _ := m.Stats(ctx)
		if st.Seen != n {
			b.Fatalf("Seen = %d; want %d", st.Seen, n)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/url")
		runtime.KeepAlive(m)
		m.Close()
	}
}

// BenchmarkSeenSetAdd measures the seen set alone.
func BenchmarkSeenSetAdd(b *testing.B) {
	var s seenSet
	b.ReportAllocs()
	for i := range b.N {
		s.add(frontier.Fingerprint(strconv.Itoa(i)))
	}
}
