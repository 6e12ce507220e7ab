package demosite

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Handler returns the demo site. It is safe for concurrent use and keeps
// no state: a response depends only on the request's method and path (and,
// for robots.txt and the sitemaps, which hold absolute URLs, on its Host).
// Paths the site does not have answer 404 with the site's error page.
func Handler() http.Handler { return handler{theSite()} }

type handler struct{ s *site }

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	res := h.s.lookup(r.URL.Path)
	if res.delay > 0 {
		t := time.NewTimer(res.delay)
		select {
		case <-t.C:
		case <-r.Context().Done(): // the client went away
			t.Stop()
			return
		}
	}
	body := res.body
	if res.dynamic != nil {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		body = res.dynamic(scheme + "://" + r.Host)
	}
	hd := w.Header()
	for k, v := range res.header {
		hd.Set(k, v)
	}
	hd.Set("Content-Type", res.contentType)
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	if res.location != "" {
		hd.Set("Location", res.location)
	}
	w.WriteHeader(res.status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// Server serves the demo site on a listener until Close, counting the
// requests it receives by path. Its methods are safe for concurrent use.
type Server struct {
	// URL is the site's base URL, without a trailing slash:
	// "http://127.0.0.1:41234".
	URL string

	srv  *http.Server
	done chan struct{}
	once sync.Once

	mu   sync.Mutex
	hits map[string]int
}

// Start listens on addr and serves the site until Close. An empty addr
// means "127.0.0.1:0": a free port on the loopback interface.
func Start(addr string) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("demosite: %w", err)
	}
	return Serve(ln), nil
}

// Serve serves the site on ln, in a goroutine of its own, until Close,
// which also closes ln.
func Serve(ln net.Listener) *Server {
	s := &Server{URL: baseURL(ln.Addr()), done: make(chan struct{}), hits: map[string]int{}}
	h := Handler()
	s.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.mu.Lock()
			s.hits[r.URL.Path]++
			s.mu.Unlock()
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			// Accept failed for good: nothing more will be served; Close
			// still works.
			ln.Close()
		}
	}()
	return s
}

// baseURL is the URL of a listening address; an unspecified IP (":8080",
// "0.0.0.0:8080") is reached on loopback.
func baseURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Close stops the server: the listener and every connection are closed,
// so requests in flight (the slow page) end at once. It waits for the
// serving goroutine and may be called more than once.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		err = s.srv.Close()
		<-s.done
	})
	return err
}

// Hits returns how many requests each path received so far (the path
// without the query).
func (s *Server) Hits() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.hits)
}
