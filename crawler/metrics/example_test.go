package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/crawler/metrics"
	"github.com/trawlhq/trawl/frontier/memory"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// A crawl's metrics on a registry of the program's own: serve it with
// promhttp.HandlerFor(reg, promhttp.HandlerOpts{}) on the program's /metrics.
func Example() {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><a href="/a">a</a><a href="/b">b</a></html>`)
	}))
	defer site.Close()

	lat := metrics.NewLatency(nil) // request timings, through the session's traces
	sess, _ := session.New(session.Config{Traces: []*session.Trace{lat.Trace()}})
	defer sess.Close()
	fr := memory.New(memory.Config{})
	defer fr.Close()
	pl, _ := pipeline.New(pipeline.Config{Stages: []pipeline.Stage{pipeline.NewJSONL(io.Discard)}})
	defer pl.Close()
	cr, _ := crawler.New(crawler.Config{IgnoreRobots: true}, sess, fr, pl)
	col, _ := metrics.New(metrics.Config{Crawler: cr})

	reg := prometheus.NewRegistry()
	reg.MustRegister(col, lat)
	if err := cr.Run(context.Background(), site.URL+"/"); err != nil {
		fmt.Println(err)
		return
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		switch mf.GetName() {
		case "trawl_requests_total", "trawl_pages_exported_total":
			for _, m := range mf.Metric {
				labels := ""
				for _, lp := range m.GetLabel() {
					labels += fmt.Sprintf("{%s=%q}", lp.GetName(), lp.GetValue())
				}
				fmt.Println(mf.GetName()+labels, m.GetCounter().GetValue())
			}
		}
	}
	// Output:
	// trawl_pages_exported_total 3
	// trawl_requests_total{code="200"} 3
	// trawl_requests_total{code="error"} 0
}
