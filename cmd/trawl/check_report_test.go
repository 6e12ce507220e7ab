package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// chromiumPath finds Debian's chromium. In CI (CI=true) a missing browser
// fails the test; elsewhere it skips it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (.ci/run installs Debian's chromium package)")
	}
	t.Skip("chromium is not installed: apt-get install chromium to run the HTML report test (under CI it fails instead)")
	return ""
}

// proxyCounter is an HTTP proxy on loopback that answers every request
// with 204 and counts it: chromium is pointed at it for everything, so
// any request a page makes is seen here.
type proxyCounter struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newProxyCounter(t *testing.T) *proxyCounter {
	p := &proxyCounter{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen = append(p.seen, r.Method+" "+r.Host+r.URL.String())
		p.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(p.Close)
	return p
}

// browserHosts are the endpoints Chromium itself calls (component updates,
// account and time services) whatever the page, despite
// --disable-background-networking; requests to them are not the page's.
var browserHosts = []string{"accounts.google.com", "update.googleapis.com", "clients1.google.com",
	"clients2.google.com", "redirector.gvt1.com", "optimizationguide-pa.googleapis.com",
	"content-autofill.googleapis.com", "safebrowsingohttpgateway.googleapis.com"}

// requests returns the requests the proxy saw, but Chromium's own.
func (p *proxyCounter) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, r := range p.seen {
		own := false
		for _, h := range browserHosts {
			if strings.Contains(r, " "+h+":") || strings.Contains(r, " "+h+"/") || strings.Contains(r, "//"+h+"/") {
				own = true
			}
		}
		if !own {
			out = append(out, r)
		}
	}
	return out
}

// runChromium runs headless chromium on a file with every request sent to
// the proxy, and returns its standard output.
func runChromium(t *testing.T, bin, proxy string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--disable-domain-reliability", "--no-pings",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir(),
		// Everything, loopback included, goes through the counting proxy.
		"--proxy-server=" + proxy, "--proxy-bypass-list=<-loopback>",
	}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

// tableRows returns the data-url of each row of the table with the given
// id in an HTML document.
func tableRows(t *testing.T, doc, id string) (urls []string, found bool) {
	t.Helper()
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	var table *html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "table" && attrOf(n, "id") == id {
			table = n
		}
		for c := n.FirstChild; c != nil && table == nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	if table == nil {
		return nil, false
	}
	var rows func(n *html.Node)
	rows = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "tr" && attrOf(n, "data-url") != "" {
			urls = append(urls, attrOf(n, "data-url"))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rows(c)
		}
	}
	rows(table)
	sort.Strings(urls)
	return urls, true
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// TestE2ECheckHTMLReportInChromium loads the --report file of a check in
// headless Chromium: the broken-link table the browser shows (after the
// page's script ran) has exactly the JSONL's broken targets, and the page
// made no request at all. A control page with one image proves that the
// proxy would have seen a request.
func TestE2ECheckHTMLReportInChromium(t *testing.T) {
	bin := chromiumPath(t)
	s := newCheckSite(t, false)
	dir := t.TempDir()
	jsonl, report := filepath.Join(dir, "check.jsonl"), filepath.Join(dir, "report.html")
	r := trawl(t, "check", s.site.URL+"/", "--format", "jsonl", "-o", jsonl, "--report", report, "-q")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr %s", r.code, r.stderr)
	}
	want := jsonlBroken(t, jsonl)
	if len(want) == 0 {
		t.Fatal("the site has no broken links: the test would prove nothing")
	}

	proxy := newProxyCounter(t)
	control := filepath.Join(dir, "control.html")
	if err := os.WriteFile(control, []byte(`<img src="http://example.invalid/pixel.png">`), 0o644); err != nil {
		t.Fatal(err)
	}
	runChromium(t, bin, proxy.URL, "--dump-dom", "file://"+control)
	if len(proxy.requests()) == 0 {
		t.Fatal("the control page's image request did not reach the proxy: the no-request check would prove nothing")
	}
	before := len(proxy.requests())

	// The page's own account of what it loaded: a copy of the report with
	// a script that writes its resource timing entries into the DOM.
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(dir, "probe.html")
	probeScript := `<script>addEventListener("load", function () {
  document.body.setAttribute("data-resources", JSON.stringify(performance.getEntriesByType("resource").map(function (e) { return e.name; })));
});</script></body>`
	if err := os.WriteFile(probe, []byte(strings.Replace(string(data), "</body>", probeScript, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := runChromium(t, bin, proxy.URL, "--virtual-time-budget=2000", "--dump-dom", "file://"+probe)
	if !strings.Contains(dom, `data-ready="1"`) {
		t.Fatalf("the report's script did not run (no data-ready on body):\n%.2000s", dom)
	}
	if !strings.Contains(dom, `data-resources="[]"`) {
		i := strings.Index(dom, "data-resources=")
		t.Errorf("the report loaded resources: %.500s", dom[max(i, 0):])
	}
	got, ok := tableRows(t, dom, "broken-targets")
	if !ok {
		t.Fatalf("no broken-targets table in the DOM:\n%.2000s", dom)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("broken-link table rows:\n%v\nJSONL broken targets:\n%v", got, want)
	}
	if extra := proxy.requests()[before:]; len(extra) > 0 {
		t.Errorf("the report made %d requests: %v", len(extra), extra)
	}

	// A screenshot, phone-sized, for the eye (and docs/ with TRAWL_SCREENSHOT=path).
	shot := filepath.Join(dir, "report.png")
	if p := os.Getenv("TRAWL_SCREENSHOT"); p != "" {
		shot = p
	}
	size := "1200,1500"
	if w := os.Getenv("TRAWL_SCREENSHOT_SIZE"); w != "" {
		size = w
	}
	runChromium(t, bin, proxy.URL, "--hide-scrollbars", "--window-size="+size, "--screenshot="+shot, "file://"+report)
	if st, err := os.Stat(shot); err != nil || st.Size() < 1000 {
		t.Errorf("screenshot %s: %v", shot, err)
	}
	if extra := proxy.requests()[before:]; len(extra) > 0 {
		t.Errorf("the report made requests while rendered: %v", extra)
	}
}
