package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/trawlhq/trawl/internal/redistest"
)

func TestMetricsListenAddr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"9090", "127.0.0.1:9090"},
		{":9090", "127.0.0.1:9090"},
		{"127.0.0.1:0", "127.0.0.1:0"},
		{"0.0.0.0:9090", "0.0.0.0:9090"},
		{"[::1]:9090", "[::1]:9090"},
		{"localhost:9090", "localhost:9090"},
	} {
		got, err := metricsListenAddr(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("metricsListenAddr(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"host", "1.2.3.4:99999", "a:b", "70000", "::1"} {
		if got, err := metricsListenAddr(bad); err == nil {
			t.Errorf("metricsListenAddr(%q) = %q; want an error", bad, got)
		}
	}
}

func TestE2EMetricsBusyPortAndBadFlags(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := newSite(t, 3, 0)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--metrics-addr", ln.Addr().String()}, "trawl: --metrics-addr " + ln.Addr().String() + ": address already in use\n"},
		{[]string{"--metrics-addr", "nohost"}, "metrics-addr"},
		{[]string{"--metrics-hosts", "-1"}, "metrics-hosts"},
	} {
		r := trawl(t, append([]string{"crawl", s.url(0)}, tc.args...)...)
		if r.code != exitUsage || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and one line with %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if n := s.hitCount("/p/0"); n != 0 {
		t.Errorf("the seed was fetched %d times by runs that failed on their flags", n)
	}
}

// scrape fetches /metrics in the text format and parses it.
func scrape(t *testing.T, addr string) (map[string]*dto.MetricFamily, []byte) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Errorf("scrape: %v", err)
		return nil, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Errorf("parse /metrics: %v\n%s", err, body)
	}
	return mfs, body
}

// sum adds the values of family name's series whose label key has value
// (every series when key is "").
func sum(mfs map[string]*dto.MetricFamily, name, key, value string) float64 {
	mf, ok := mfs[name]
	if !ok {
		return -1
	}
	total := 0.0
	for _, m := range mf.Metric {
		if key != "" {
			match := false
			for _, lp := range m.Label {
				match = match || (lp.GetName() == key && lp.GetValue() == value)
			}
			if !match {
				continue
			}
		}
		total += m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return total
}

// promtool returns the path of promtool. Under CI it must be installed
// (.ci/run installs Debian's prometheus package); elsewhere its absence
// skips the check.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool not found: .ci/run installs it (Debian package prometheus)")
		}
		t.Skip("promtool not found (apt-get install prometheus); skipping its check (under CI it fails instead)")
	}
	return p
}

// TestMetricsDuringCrawl scrapes /metrics while a real crawl runs and at its
// end: the counters rise, the requests add up to what the server received,
// the records exported to what was written, and the --stats file agrees.
func TestMetricsDuringCrawl(t *testing.T) {
	s := newSite(t, 60, 10*time.Millisecond)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	out, statsPath := filepath.Join(dir, "pages.jsonl"), filepath.Join(dir, "stats.json")

	var final map[string]*dto.MetricFamily
	var finalText []byte
	var healthz int
	afterCrawl = func(a string) {
		final, finalText = scrape(t, a)
		if resp, err := http.Get("http://" + a + "/healthz"); err == nil {
			healthz = resp.StatusCode
			resp.Body.Close()
		}
	}
	defer func() { afterCrawl = nil }()

	stop := make(chan struct{})
	var pages []float64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			resp, err := http.Get("http://" + addr + "/metrics")
			if err != nil {
				continue // not up yet, or gone
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			p := expfmt.NewTextParser(model.UTF8Validation)
			if mfs, err := p.TextToMetricFamilies(bytes.NewReader(body)); err == nil {
				if v := sum(mfs, "trawl_pages_total", "", ""); v >= 0 {
					pages = append(pages, v)
				}
			}
		}
	}()
	var stdout, stderr bytes.Buffer
	err = Run(context.Background(), []string{"crawl", s.url(0), "--workers", "2", "--per-host", "2",
		"--metrics-addr", addr, "-o", out, "--stats", statsPath}, &stdout, &stderr)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("crawl: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "serving metrics") {
		t.Errorf("no log line names the metrics URL:\n%s", stderr.String())
	}
	if healthz != http.StatusOK {
		t.Errorf("/healthz answered %d; want 200", healthz)
	}

	rises := 0
	for i := 1; i < len(pages); i++ {
		if pages[i] < pages[i-1] {
			t.Fatalf("trawl_pages_total went down: %v", pages)
		}
		if pages[i] > pages[i-1] {
			rises++
		}
	}
	if rises < 3 {
		t.Errorf("trawl_pages_total rose %d times over %d scrapes during the crawl; want at least 3: %v", rises, len(pages), pages)
	}

	s.mu.Lock()
	served := 0
	for _, n := range s.hits {
		served += n
	}
	s.mu.Unlock()
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	written := strings.Count(string(data), "\n")
	if got := sum(final, "trawl_requests_total", "", ""); got != float64(served) {
		t.Errorf("trawl_requests_total sums to %v; the server received %d requests", got, served)
	}
	if got := sum(final, "trawl_pages_exported_total", "", ""); got != float64(written) || written != s.pages {
		t.Errorf("trawl_pages_exported_total = %v; %d records written (want %d)", got, written, s.pages)
	}

	// --stats reads the same counters.
	raw, err := os.ReadFile(statsPath)
	if err != nil {
		t.Fatal(err)
	}
	var st statsJSON
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	agree := []struct {
		what    string
		metric  float64
		fromArg int64
	}{
		{"pages", sum(final, "trawl_pages_total", "", ""), st.Pages},
		{"errors", sum(final, "trawl_page_errors_total", "", ""), st.Errors},
		{"pages_exported", sum(final, "trawl_pages_exported_total", "", ""), st.PagesExported},
		{"retries", sum(final, "trawl_retries_total", "", ""), st.Retries},
		{"robots_denied", sum(final, "trawl_robots_denied_total", "", ""), st.Robots},
		{"conns_opened", sum(final, "trawl_connections_opened_total", "", ""), st.ConnsOpened},
		{"conns_reused", sum(final, "trawl_connections_reused_total", "", ""), st.ConnsReused},
	}
	for code, n := range st.RequestsByCode {
		agree = append(agree, struct {
			what    string
			metric  float64
			fromArg int64
		}{"requests_by_code " + code, sum(final, "trawl_requests_total", "code", code), n})
	}
	for _, a := range agree {
		if a.metric != float64(a.fromArg) {
			t.Errorf("--stats %s = %d; /metrics says %v", a.what, a.fromArg, a.metric)
		}
	}
	// So does the summary line.
	summary := fmt.Sprintf("trawl: done: %v pages (%d ok, %v errors)", sum(final, "trawl_pages_total", "", ""), st.OK, sum(final, "trawl_page_errors_total", "", ""))
	if !strings.Contains(stderr.String(), summary) {
		t.Errorf("no %q in the summary:\n%s", summary, stderr.String())
	}
	if st.RequestsByCode["200"] != int64(s.pages) || st.RequestsByCode["404"] != 1 {
		t.Errorf("requests_by_code = %v; want 200: %d and 404: 1 (robots.txt)", st.RequestsByCode, s.pages)
	}

	// promtool accepts the exposition.
	cmd := exec.Command(promtool(t), "check", "metrics")
	cmd.Stdin = bytes.NewReader(finalText)
	if outp, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, outp)
	}
}

func TestE2EJSONLogs(t *testing.T) {
	t.Parallel()
	s := newSite(t, 10, 0)
	r := trawl(t, "crawl", s.url(0), "-v", "--log-format", "json", "--metrics-addr", "127.0.0.1:0")
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	fetched := 0
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if strings.HasPrefix(line, "trawl: done:") {
			continue // the summary
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("stderr line is not one JSON object: %q", line)
		}
		if rec["msg"] != "fetched" {
			continue
		}
		fetched++
		for _, k := range []string{"url", "host", "status", "depth", "elapsed_ms", "attempt"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("log line lacks %q: %s", k, line)
			}
		}
		if rec["host"] != strings.TrimPrefix(s.URL, "http://") || rec["attempt"] != float64(1) {
			t.Errorf("host/attempt = %v/%v: %s", rec["host"], rec["attempt"], line)
		}
	}
	if fetched != s.pages {
		t.Errorf("%d fetched lines; want %d", fetched, s.pages)
	}
}

// TestMetricsRedisProcessLabel: with --redis the process's series carry a
// process label, and the frontier gauges are the crawl's, read from Redis.
func TestMetricsRedisProcessLabel(t *testing.T) {
	redisURL := redistest.URL(t)
	s := newSite(t, 15, 0)
	var final map[string]*dto.MetricFamily
	afterCrawl = func(a string) { final, _ = scrape(t, a) }
	defer func() { afterCrawl = nil }()
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), []string{"crawl", s.url(0), "--redis", redisURL, "--redis-prefix", redistest.Name(t),
		"--metrics-addr", "127.0.0.1:0", "-o", filepath.Join(t.TempDir(), "out.jsonl")}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("crawl: %v\n%s", err, stderr.String())
	}
	host, _ := os.Hostname()
	want := host + "-" + strconv.Itoa(os.Getpid())
	for _, name := range []string{"trawl_pages_total", "trawl_requests_total", "trawl_frontier_seen", "trawl_request_duration_seconds"} {
		mf := final[name]
		if mf == nil || len(mf.Metric) == 0 {
			t.Errorf("no %s", name)
			continue
		}
		for _, m := range mf.Metric {
			found := false
			for _, lp := range m.Label {
				found = found || (lp.GetName() == "process" && lp.GetValue() == want)
			}
			if !found {
				t.Errorf("%s series %v lacks process=%q", name, m.Label, want)
			}
		}
	}
	if got := sum(final, "trawl_frontier_seen", "", ""); got != float64(s.pages) {
		t.Errorf("trawl_frontier_seen = %v; want %d (the crawl's seen set in Redis)", got, s.pages)
	}
}

// FuzzMetricsListenAddr: any --metrics-addr is refused with an error or
// becomes a host:port with a host (loopback when none was given).
func FuzzMetricsListenAddr(f *testing.F) {
	for _, s := range []string{"", "9090", ":9090", "0.0.0.0:9090", "[::1]:0", "host", "a:b:c", "[::1]", ":", "1:65536"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := metricsListenAddr(in)
		if err != nil || in == "" {
			if in == "" && (out != "" || err != nil) {
				t.Errorf("metricsListenAddr(\"\") = %q, %v", out, err)
			}
			return
		}
		host, port, err := net.SplitHostPort(out)
		if err != nil || host == "" {
			t.Fatalf("metricsListenAddr(%q) = %q: host %q, %v", in, out, host, err)
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			t.Fatalf("metricsListenAddr(%q) = %q: port %q", in, out, port)
		}
	})
}
