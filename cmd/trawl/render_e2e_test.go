package main

import (
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/trawlhq/trawl/crawler/render"
	"github.com/trawlhq/trawl/crawler/render/rendertest"
)

// TestE2ERender: the binary with --render finds every page of a site whose
// links and fields are built by JavaScript, and extracts the fields with
// --select; without --render it finds only the seed. The per-host limit
// holds for pages and subresources together.
func TestE2ERender(t *testing.T) {
	if _, err := render.FindBrowser(""); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI: %v", err)
		}
		t.Skipf("no browser (under CI it fails instead): %v", err)
	}
	site := &rendertest.Site{Pages: 8}
	srv := httptest.NewServer(site)
	defer srv.Close()

	plain := trawl(t, "crawl", srv.URL+"/", "-q", "--select", "name=h1.name")
	if plain.code != 0 || len(records(t, plain.stdout)) != 1 {
		t.Fatalf("without --render: exit %d, %d records, want the seed only\n%s", plain.code, len(records(t, plain.stdout)), plain.stderr)
	}

	res := trawl(t, "crawl", srv.URL+"/", "-q", "--render", "--render-tabs", "2", "--render-wait", "300ms",
		"--per-host", "2", "--user-agent", "jsbot/1", "--select", "name=h1.name", "--select", "price=.price")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	recs := records(t, res.stdout)
	var got []string
	for _, r := range recs {
		path := strings.TrimPrefix(r["url"].(string), srv.URL)
		got = append(got, path)
		if r["rendered"] != true {
			t.Errorf("%s: record has rendered=%v", path, r["rendered"])
		}
		names, _ := r["data"].(map[string]any)["name"].([]any)
		if len(names) != 1 || names[0] != rendertest.Name(path) {
			t.Errorf("%s: name %v, want [%s]", path, names, rendertest.Name(path))
		}
	}
	want := site.Paths()
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("found %v, want %v", got, want)
	}
	if m := site.MaxInFlight(); m > 2 {
		t.Errorf("server saw %d requests in flight, --per-host 2", m)
	}
	for ua := range site.Agents() {
		if ua != "jsbot/1" && !strings.HasPrefix(ua, "trawl/") {
			t.Errorf("request with User-Agent %q", ua)
		}
	}
}

func TestE2ERenderUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--render", "--browser", "/nonexistent/chromium"}, "--browser /nonexistent/chromium"},
		{[]string{"--render-when", "sometimes"}, "render-when"},
		{[]string{"--render", "--render-wait", "5x"}, "render-wait"},
		{[]string{"--render", "--render-block", "images"}, "render-block"},
		{[]string{"--render", "--render-marker", "x"}, "render-marker"},
	} {
		res := trawl(t, append([]string{"crawl", "http://127.0.0.1:1/"}, tc.args...)...)
		lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
		if res.code != 2 || len(lines) != 1 || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line naming %s", tc.args, res.code, res.stderr, tc.want)
		}
	}
}
