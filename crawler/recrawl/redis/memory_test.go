package redis

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/trawlhq/trawl/crawler/recrawl"
	"github.com/trawlhq/trawl/internal/redistest"
)

// realisticPage returns page i of a shop-like site: a 58-byte URL, 20
// same-site links (site navigation, pagination, related items in no
// particular order), a
// title, an ETag and a Last-Modified, as a server like nginx sends them.
func realisticPage(i int) *recrawl.Page { return realisticPageText(i, false) }

// realisticPageText is realisticPage with, when text is set, the links'
// anchor texts, which a crawl stores when it has a Follow rule.
func realisticPageText(i int, text bool) *recrawl.Page {
	const site = "https://www.example-store.com"
	cat := []string{"garden", "kitchen", "outdoor", "tools", "lights"}[i%5]
	u := fmt.Sprintf("%s/products/%s/item-%07d", site, cat, i)
	fetched := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * 37 * time.Millisecond)
	a := func(u, t string) recrawl.Link {
		l := recrawl.Link{URL: u, Tag: "a", Attr: "href"}
		if text {
			l.Text = t
		}
		return l
	}
	links := []recrawl.Link{
		a(site+"/", "Example Store"), a(site+"/about", "About us"), a(site+"/account/login", "Sign in"),
		a(site+"/cart", "Cart"), a(site+"/help/shipping", "Shipping"), a(site+"/help/returns", "Returns"),
		a(site+"/products/"+cat, strings.ToUpper(cat[:1])+cat[1:]), a(site+"/products/"+cat+"?page=2", "Next page"),
	}
	links[2].NoFollow, links[2].Rel = true, "nofollow"
	links[3].NoFollow, links[3].Rel = true, "nofollow"
	for j := 1; len(links) < 20; j++ {
		k := (i*7919 + j*104729*(j%3+1)) % 1_000_000
		links = append(links, a(fmt.Sprintf("%s/products/%s/item-%07d", site, cat, k), fmt.Sprintf("%s item %07d, 30 m", cat, k)))
	}
	return &recrawl.Page{
		URL:          u,
		Depth:        3,
		Fetched:      fetched,
		Status:       200,
		ETag:         fmt.Sprintf(`"%x-%x"`, 0x64b7c2f1+i, 0x2000+i%40000),
		LastModified: fetched.Add(-72 * time.Hour).Format(http.TimeFormat),
		FreshUntil:   fetched.Add(10 * time.Minute),
		Digest:       uint64(i)*0x9e3779b97f4a7c15 + 1,
		ContentType:  "text/html",
		Title:        fmt.Sprintf("%s item %07d, 30 m – Example Store", strings.ToUpper(cat[:1])+cat[1:], i),
		Links:        links,
	}
}

func usedMemory(ctx context.Context, b *testing.B, c *goredis.Client) int64 {
	return infoInt(ctx, b, c, "memory", "used_memory")
}

// infoInt returns one integer field of an INFO section.
func infoInt(ctx context.Context, b *testing.B, c *goredis.Client, section, field string) int64 {
	info, err := c.Info(ctx, section).Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatalf("INFO %s has no %s", section, field)
	return 0
}

// BenchmarkMemoryPerURL saves 100,000 realistic pages (realisticPage) into
// a private redis-server and reports the growth of its used_memory per
// page ("redis-B/URL") and the encoded page's size ("value-B/URL"): the
// Store's layout, one hash ("hash"), against one string key per URL
// ("keys", the alternative it was chosen over), and the hash with the
// links' anchor texts ("hash+text", what a crawl with a Follow rule
// stores).
//
//	go test -run '^$' -bench MemoryPerURL -benchtime 1x ./crawler/recrawl/redis/
func BenchmarkMemoryPerURL(b *testing.B) {
	const n = 100_000
	srv := redistest.Start(b, redistest.Options{})
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr})
	defer c.Close()
	ctx := context.Background()
	for _, layout := range []string{"hash", "keys", "hash+text"} {
		text := layout == "hash+text"
		var valueBytes int64
		for i := range n {
			v, err := realisticPageText(i, text).AppendBinary(nil)
			if err != nil {
				b.Fatal(err)
			}
			valueBytes += int64(len(v))
		}
		b.Run(layout, func(b *testing.B) {
			for range b.N {
				if err := c.FlushAll(ctx).Err(); err != nil {
					b.Fatal(err)
				}
				before := usedMemory(ctx, b, c)
				switch layout {
				case "hash", "hash+text":
					s := New(c, Config{Name: "mem"})
					var wg sync.WaitGroup
					for w := range 8 {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for i := w; i < n; i += 8 {
								if err := s.Save(ctx, realisticPageText(i, text)); err != nil {
									b.Error(err)
									return
								}
							}
						}()
					}
					wg.Wait()
					if got, err := s.Len(ctx); err != nil || got != n {
						b.Fatalf("Len = %d, %v; want %d", got, err, n)
					}
				case "keys":
					for i := 0; i < n; i += 1000 {
						_, err := c.Pipelined(ctx, func(p goredis.Pipeliner) error {
							for j := i; j < min(i+1000, n); j++ {
								pg := realisticPage(j)
								v, err := pg.AppendBinary(nil)
								if err != nil {
									return err
								}
								p.Set(ctx, "trawl:{mem}:page:"+pg.URL, v, 0)
							}
							return nil
						})
						if err != nil {
							b.Fatal(err)
						}
					}
				}
				after := usedMemory(ctx, b, c)
				b.ReportMetric(float64(after-before)/n, "redis-B/URL")
				b.ReportMetric(float64(valueBytes)/n, "value-B/URL")
			}
		})
	}
}

// BenchmarkRange ranges over 100,000 realistic pages and reports the bytes
// Redis sent per page ("net-B/URL", from total_net_output_bytes).
//
//	go test -run '^$' -bench Range -benchtime 3x ./crawler/recrawl/redis/
func BenchmarkRange(b *testing.B) {
	const n = 100_000
	srv := redistest.Start(b, redistest.Options{})
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr})
	defer c.Close()
	ctx := context.Background()
	s := New(c, Config{Name: "range"})
	for i := 0; i < n; i += 1000 {
		_, err := c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for j := i; j < min(i+1000, n); j++ {
				pg := realisticPage(j)
				v, err := pg.AppendBinary(nil)
				if err != nil {
					return err
				}
				p.HSet(ctx, s.key, pg.URL, v)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		before := infoInt(ctx, b, c, "stats", "total_net_output_bytes")
		cpu0 := redisCPU(ctx, b, c)
		got := 0
		if err := s.Range(ctx, func(string, int) error { got++; return nil }); err != nil {
			b.Fatal(err)
		}
		if got < n {
			b.Fatalf("Range gave %d; want %d", got, n)
		}
		after := infoInt(ctx, b, c, "stats", "total_net_output_bytes")
		b.ReportMetric(float64(after-before)/n, "net-B/URL")
		b.ReportMetric((redisCPU(ctx, b, c)-cpu0).Seconds()*1e9/n, "redis-cpu-ns/URL")
	}
}

// redisCPU returns the CPU time the Redis server has used (INFO cpu).
func redisCPU(ctx context.Context, b *testing.B, c *goredis.Client) time.Duration {
	info, err := c.Info(ctx, "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		for _, f := range []string{"used_cpu_user:", "used_cpu_sys:"} {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), f); ok {
				x, err := strconv.ParseFloat(v, 64)
				if err != nil {
					b.Fatal(err)
				}
				total += x
			}
		}
	}
	return time.Duration(total * float64(time.Second))
}
