package crawler

import (
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/memory"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// BenchmarkCrawl measures the whole engine per page (session, frontier,
// pipeline link extraction, scope, robots, push, ack) against an
// in-process site of b.N tiny pages; the server's cost is included.
func BenchmarkCrawl(b *testing.B) {
	n := max(b.N, 2)
	s := newCountingSite(b, n)
	sess, err := session.New(session.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	f := memory.New(memory.Config{})
	defer f.Close()
	pipe, err := pipeline.New(pipeline.Config{})
	if err != nil {
		b.Fatal(err)
	}
	c, err := New(Config{Workers: 32, PerHost: 32}, sess, f, pipe)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	if err := c.Run(context.Background(), s.URL+"/p/0"); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if st := c.Stats(); st.Pages != int64(n) {
		b.Fatalf("%d pages, want %d", st.Pages, n)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "pages/s")
}

// BenchmarkScopeCheck is the per-link scope decision.
func BenchmarkScopeCheck(b *testing.B) {
	st, _ := Config{AllowDomains: []string{"*.example.com"}, Exclude: []*regexp.Regexp{regexp.MustCompile(`\.pdf$`)}}.resolve()
	sc := scope{s: st, hosts: map[string]struct{}{}}
	sc.addSeedHost("http://127.0.0.1:8080/")
	urls := []string{"http://127.0.0.1:8080/p/123.html", "http://www.example.com/a/b?c=d", "http://external.invalid/x"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sc.check(urls[i%len(urls)], false)
	}
}

// BenchmarkPushLinks is the per-page link push: host registration and
// one batched frontier push of 20 links, most already seen.
func BenchmarkPushLinks(b *testing.B) {
	f := memory.New(memory.Config{})
	defer f.Close()
	sess, _ := session.New(session.Config{})
	defer sess.Close()
	pipe, _ := pipeline.New(pipeline.Config{})
	c, err := New(Config{}, sess, f, pipe)
	if err != nil {
		b.Fatal(err)
	}
	c.scope.addSeedHost("http://127.0.0.1:8080/")
	c.stopLeasing = func() {}
	w := &worker{c: c, settle: context.Background()}
	page := &pipeline.Page{}
	l := &frontier.Lease{Entry: frontier.Entry{URL: "http://127.0.0.1:8080/", Depth: 1}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		page.Links = page.Links[:0]
		for j := range 20 {
			page.Links = append(page.Links, pipeline.Link{URL: "http://127.0.0.1:8080/p/" + strconv.Itoa((i*7+j*131)%100000) + ".html"})
		}
		w.pushLinks(l, page)
	}
}

func BenchmarkRobotsAllowed(b *testing.B) {
	c := &Crawler{s: &settings{robotsAgent: "trawl"}, log: discardLogger()}
	r := c.parseRobots("u", 200, []byte("User-agent: *\nDisallow: /private/\nAllow: /private/ok\nDisallow: /*.pdf$\n"))
	b.ReportAllocs()
	for b.Loop() {
		r.allowed(robotsPath("http://127.0.0.1:8080/p/123.html?x=1"))
	}
}
