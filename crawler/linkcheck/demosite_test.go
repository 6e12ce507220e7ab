package linkcheck_test

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"

	"github.com/trawlhq/trawl/crawler/linkcheck"
	"github.com/trawlhq/trawl/frontier/memory"
	"github.com/trawlhq/trawl/internal/demosite"
	"github.com/trawlhq/trawl/session"
)

// invalidResolver answers every name with "no such host", as DNS does for
// .invalid (the demo site's off-site links), without asking a DNS server.
type invalidResolver struct{}

func (invalidResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// TestDemoSite checks the demo site and compares the broken targets, and
// the pages that reference each, with the site's own list.
func TestDemoSite(t *testing.T) {
	site, err := demosite.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	sess, err := session.New(session.Config{ConnectorConfig: session.ConnectorConfig{Resolver: invalidResolver{}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	front := memory.New(memory.Config{})
	defer front.Close()
	cfg := linkcheck.Config{}
	cfg.Crawl.Workers = 8
	c, err := linkcheck.New(cfg, sess, front)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.Run(context.Background(), site.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tg := range rep.Broken() {
		got[strings.TrimPrefix(tg.URL, site.URL)] = fmt.Sprint(sourcePaths(tg, site.URL))
	}
	want := map[string]string{}
	for _, tg := range demosite.Broken() {
		want[tg.URL] = fmt.Sprint(tg.From)
	}
	for u, from := range want {
		if g, ok := got[u]; !ok {
			t.Errorf("%s not reported broken (referenced by %s)", u, from)
		} else if g != from {
			t.Errorf("%s referenced by %s, want %s", u, g, from)
		}
	}
	for u, from := range got {
		if _, ok := want[u]; !ok {
			t.Errorf("false positive: %s (referenced by %s)", u, from)
		}
	}
}

// sourcePaths are the distinct pages referencing a target, as paths.
func sourcePaths(t *linkcheck.Target, base string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range t.Sources {
		p := strings.TrimPrefix(s.Page, base)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
