package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/trawlhq/trawl/session"
)

// DefaultBuckets are the upper bounds, in seconds, of the request duration
// histogram: from 5 ms (a page from a nearby server) to 30 s (a timeout).
var DefaultBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// Latency is a prometheus.Collector of trawl_request_duration_seconds,
// fed by the session.Trace it returns from Trace. It is safe for
// concurrent use.
type Latency struct {
	hist          *prometheus.HistogramVec
	headers, body prometheus.Observer
	trace         session.Trace
}

var _ prometheus.Collector = (*Latency)(nil)

// NewLatency returns a Latency with histogram buckets (upper bounds in
// seconds, increasing). Nil buckets means DefaultBuckets.
func NewLatency(buckets []float64) *Latency {
	if buckets == nil {
		buckets = DefaultBuckets
	}
	l := &Latency{hist: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "trawl_request_duration_seconds",
		Help:    "Request durations: phase=\"headers\" per hop, from its start to the response head; phase=\"body\" per request, from its start to the end of the body, redirects included.",
		Buckets: buckets,
	}, []string{"phase"})}
	// The two children are looked up once: observing is then two atomic
	// adds, with no map lookup and no allocation.
	l.headers = l.hist.WithLabelValues("headers")
	l.body = l.hist.WithLabelValues("body")
	l.trace = session.Trace{
		ResponseHeaders: func(e session.TraceResponse) { l.headers.Observe(e.Elapsed.Seconds()) },
		RequestEnd:      func(e session.TraceRequestEnd) { l.body.Observe(e.Elapsed.Seconds()) },
	}
	return l
}

// Trace returns the hooks that time requests: add it to the
// session.Config.Traces of the session to observe. They are fast and safe
// for concurrent use, as Trace requires.
func (l *Latency) Trace() *session.Trace { return &l.trace }

// Describe sends the histogram's descriptor.
func (l *Latency) Describe(ch chan<- *prometheus.Desc) { l.hist.Describe(ch) }

// Collect sends the histogram.
func (l *Latency) Collect(ch chan<- prometheus.Metric) { l.hist.Collect(ch) }
