package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/pflag"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/crawler/metrics"
	"github.com/trawlhq/trawl/session"
)

// DefaultMetricsHosts is --metrics-hosts' default.
const DefaultMetricsHosts = metrics.DefaultHosts

// addMetricsFlags registers the flags of the Prometheus endpoint.
func addMetricsFlags(fs *pflag.FlagSet, c *Config) {
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "serve Prometheus /metrics and /healthz on `ADDR` for the whole run (host:port; a bare port or :port binds 127.0.0.1)")
	fs.IntVar(&c.MetricsHosts, "metrics-hosts", c.MetricsHosts, "per-host series for the `N` hosts with the most requests, the rest summed as host=\"other\" (0 = none)")
}

// metricsListenAddr turns --metrics-addr into the address to listen on:
// loopback unless a host is given ("9090" and ":9090" are 127.0.0.1:9090).
func metricsListenAddr(addr string) (string, error) {
	if addr == "" {
		return "", nil
	}
	if _, err := strconv.ParseUint(addr, 10, 16); err == nil {
		addr = ":" + addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%q: want host:port, :port or a port (%v)", addr, strings.TrimPrefix(err.Error(), "address "+addr+": "))
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// validateMetrics checks the metrics keys.
func (c *Config) validateMetrics() error {
	if _, err := metricsListenAddr(c.MetricsAddr); err != nil {
		return invalid("metrics_addr", "%v", err)
	}
	if c.MetricsHosts < 0 {
		return invalid("metrics_hosts", "must be at least 0, got %d", c.MetricsHosts)
	}
	return nil
}

// metricsServer serves /metrics and /healthz for the run. A nil
// *metricsServer (no --metrics-addr) does nothing.
type metricsServer struct {
	cfg     *Config
	reg     *prometheus.Registry
	labeled prometheus.Registerer // reg, with the process label under --redis
	lat     *metrics.Latency
	srv     *http.Server
	addr    string // the address listened on
	done    chan struct{}
}

// afterCrawl, when set (by tests), is called with the metrics address
// after the summary, while /metrics is still served.
var afterCrawl func(addr string)

// startMetrics listens on --metrics-addr and serves at once (the crawl's
// collectors are registered as they come into being). A busy or unusable
// address is a usage error naming the flag.
func startMetrics(cfg *Config, logger *slog.Logger) (*metricsServer, error) {
	addr, err := metricsListenAddr(cfg.MetricsAddr)
	if err != nil || addr == "" {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		var se *os.SyscallError
		if errors.As(err, &se) {
			err = se.Err
		}
		return nil, usagef("--metrics-addr %s: %v", cfg.MetricsAddr, err)
	}
	m := &metricsServer{cfg: cfg, reg: prometheus.NewRegistry(), lat: metrics.NewLatency(nil), addr: ln.Addr().String(), done: make(chan struct{})}
	m.labeled = m.reg
	if cfg.Redis != "" {
		// Every process of a shared crawl exports its own figures: tell them apart.
		host, _ := os.Hostname()
		m.labeled = prometheus.WrapRegistererWith(prometheus.Labels{"process": fmt.Sprintf("%s-%d", host, os.Getpid())}, m.reg)
	}
	m.labeled.MustRegister(m.lat, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(m.done)
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server", "err", err)
		}
	}()
	logger.Info("serving metrics", "url", "http://"+m.addr+"/metrics")
	return m, nil
}

// crawlDone is called after the summary: tests scrape the final figures.
func (m *metricsServer) crawlDone() {
	if m != nil && afterCrawl != nil {
		afterCrawl(m.addr)
	}
}

// traces returns the session traces that feed the metrics.
func (m *metricsServer) traces() []*session.Trace {
	if m == nil {
		return nil
	}
	return []*session.Trace{m.lat.Trace()}
}

// watch registers the collector of the crawl.
func (m *metricsServer) watch(cr *crawler.Crawler) error {
	if m == nil {
		return nil
	}
	hosts := m.cfg.MetricsHosts
	if hosts == 0 {
		hosts = -1 // the CLI's 0 means none
	}
	col, err := metrics.New(metrics.Config{Crawler: cr, Hosts: hosts})
	if err != nil {
		return err
	}
	return m.labeled.Register(col)
}

// Close stops serving and waits for the server's goroutine.
func (m *metricsServer) Close() {
	if m == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := m.srv.Shutdown(ctx); err != nil {
		m.srv.Close()
	}
	<-m.done
}
