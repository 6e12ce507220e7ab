package metrics_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/crawler/metrics"
	"github.com/trawlhq/trawl/frontier/memory"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// The shipped dashboard and alert rules.
const (
	grafanaFile = "../../docs/grafana.json"
	alertsFile  = "../../docs/alerts.yaml"
)

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

// exportedNames are the names of every series trawl exports (histogram
// series with their _bucket, _sum and _count suffixes).
func exportedNames(t *testing.T) map[string]bool {
	t.Helper()
	sess, _ := session.New(session.Config{})
	defer sess.Close()
	fr := memory.New(memory.Config{})
	defer fr.Close()
	pl, _ := pipeline.New(pipeline.Config{})
	cr, err := crawler.New(crawler.Config{}, sess, fr, pl)
	if err != nil {
		t.Fatal(err)
	}
	col, _ := metrics.New(metrics.Config{Crawler: cr})
	ch := make(chan *prometheus.Desc, 100)
	col.Describe(ch)
	metrics.NewLatency(nil).Describe(ch)
	close(ch)
	names := map[string]bool{}
	re := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		m := re.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("no name in %s", d)
		}
		names[m[1]] = true
		if m[1] == "trawl_request_duration_seconds" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[m[1]+s] = true
			}
		}
	}
	return names
}

var metricName = regexp.MustCompile(`\btrawl_[a-z_]+`)

// checkNames fails for every trawl_ name in expr that trawl does not export.
func checkNames(t *testing.T, where, expr string, names map[string]bool) {
	t.Helper()
	for _, n := range metricName.FindAllString(expr, -1) {
		if !names[n] {
			t.Errorf("%s: %q uses %s, which trawl does not export", where, expr, n)
		}
	}
}

// dashboard is the part of Grafana's dashboard JSON model that an import
// needs and that the panels rely on.
type dashboard struct {
	UID           *string `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Inputs        []struct {
		Name, Type, PluginID string
	} `json:"__inputs"`
	Templating struct {
		List []struct {
			Name, Type string
		} `json:"list"`
	} `json:"templating"`
	Time   struct{ From, To string } `json:"time"`
	Panels []struct {
		ID         *int   `json:"id"`
		Type       string `json:"type"`
		Title      string `json:"title"`
		Datasource struct {
			Type, UID string
		} `json:"datasource"`
		GridPos *struct{ X, Y, W, H int } `json:"gridPos"`
		Targets []struct {
			RefID string `json:"refId"`
			Expr  string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

func TestGrafanaDashboard(t *testing.T) {
	raw, err := os.ReadFile(grafanaFile)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	var d dashboard
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s: %v", grafanaFile, err)
	}
	if d.UID == nil || *d.UID == "" || d.Title == "" || d.SchemaVersion < 30 || d.Time.From == "" {
		t.Errorf("dashboard lacks uid, title, a schemaVersion >= 30 or a time range: %+v", d)
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
	}
	if vars["datasource"] != "datasource" {
		t.Errorf("no datasource variable: the dashboard would not import on another Prometheus; variables %v", vars)
	}
	names := exportedNames(t)
	checkNames(t, grafanaFile, string(raw), names) // templating queries too
	ids := map[int]bool{}
	type cell struct{ x, y int }
	used := map[cell]string{}
	var exprs []string
	titles := map[string]bool{}
	for i, p := range d.Panels {
		where := fmt.Sprintf("panel %d %q", i, p.Title)
		titles[p.Title] = true
		if p.ID == nil || ids[*p.ID] {
			t.Errorf("%s: missing or duplicate id", where)
		} else {
			ids[*p.ID] = true
		}
		if p.Type != "timeseries" && p.Type != "stat" {
			t.Errorf("%s: type %q", where, p.Type)
		}
		if p.Datasource.Type != "prometheus" || strings.Trim(p.Datasource.UID, "${}") != "datasource" {
			t.Errorf("%s: datasource %+v; want the ${datasource} variable", where, p.Datasource)
		}
		g := p.GridPos
		if g == nil || g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
			t.Errorf("%s: gridPos %+v outside the 24-column grid", where, g)
			continue
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if other, ok := used[cell{x, y}]; ok {
					t.Fatalf("%s overlaps %s at %d,%d", where, other, x, y)
				}
				used[cell{x, y}] = where
			}
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no query", where)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if tg.RefID == "" || refs[tg.RefID] || strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("%s: target %+v lacks a unique refId or an expr", where, tg)
			}
			refs[tg.RefID] = true
			checkNames(t, where, tg.Expr, names)
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, want := range []string{"Pages/s", "Errors by code", "Request latency percentiles", "Queue depth", "Per-host waiting (backoff seconds)", "Slowed hosts (interval seconds)", "Recrawl outcomes/s"} {
		if !titles[want] {
			t.Errorf("no panel %q", want)
		}
	}

	// Every query is valid PromQL: promtool checks them as recording rules,
	// with Grafana's variables given values.
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: grafana\n    rules:\n")
	repl := strings.NewReplacer("$__rate_interval", "5m", "$instance", ".*")
	for i, e := range exprs {
		q, _ := json.Marshal(repl.Replace(e))
		fmt.Fprintf(&rules, "      - record: trawl:panel_%d\n        expr: %s\n", i, q)
	}
	file := filepath.Join(t.TempDir(), "queries.yaml")
	if err := os.WriteFile(file, []byte(rules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool(t), "check", "rules", file).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules on the dashboard's queries: %v\n%s", err, out)
	}
}

func TestAlertRules(t *testing.T) {
	raw, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	names := exportedNames(t)
	exprs := 0
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		checkNames(t, alertsFile, line, names)
		if strings.Contains(line, "expr:") {
			exprs++
		}
	}
	for _, alert := range []string{"TrawlCrawlStalled", "TrawlErrorRateSpike", "TrawlHostStuckInBackoff", "TrawlHostThrottled"} {
		if !strings.Contains(string(raw), "alert: "+alert+"\n") {
			t.Errorf("no alert %s", alert)
		}
	}
	pt := promtool(t)
	if out, err := exec.Command(pt, "check", "rules", alertsFile).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules: %v\n%s", err, out)
	}
	// The alerts fire on the series they are meant for, and only then.
	cmd := exec.Command(pt, "test", "rules", "alerts_test.yaml")
	cmd.Dir = "testdata"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool test rules testdata/alerts_test.yaml: %v\n%s", err, out)
	}
}
