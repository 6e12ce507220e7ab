package revisitsite

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// stats are the site's counters.
type stats struct {
	requests    atomic.Int64
	ok          atomic.Int64
	notModified atomic.Int64
	other       atomic.Int64
	conditional atomic.Int64
	bodyBytes   atomic.Int64

	mu       sync.Mutex
	paths200 map[string]struct{}
	changed  map[string]struct{}
}

func (st *stats) markChanged(path string) {
	st.mu.Lock()
	st.changed[path] = struct{}{}
	st.mu.Unlock()
}

// Stats are the counters of a Site since it started or since the last
// Reset. Requests under /__ are not counted.
type Stats struct {
	// Requests received.
	Requests int64 `json:"requests"`
	// OK counts 200 answers (each with a body, but for HEAD requests).
	OK int64 `json:"status_200"`
	// NotModified counts 304 answers.
	NotModified int64 `json:"status_304"`
	// Other counts every other answer (404, 410, 405, 412).
	Other int64 `json:"status_other"`
	// Conditional counts requests with If-None-Match or If-Modified-Since.
	Conditional int64 `json:"conditional"`
	// BodyBytes is the sum of the bodies sent, all statuses.
	BodyBytes int64 `json:"body_bytes"`
	// Paths200 is the set of paths answered 200, sorted; OK greater than
	// its length means some were answered 200 more than once.
	Paths200 []string `json:"paths_200"`
	// Changed is the set of paths that got a new version (Change,
	// ChangeFraction, AddPage: the page added and the one linking to it),
	// sorted.
	Changed []string `json:"changed"`
}

// Stats returns the counters.
func (s *Site) Stats() Stats {
	st := &s.st
	out := Stats{
		Requests:    st.requests.Load(),
		OK:          st.ok.Load(),
		NotModified: st.notModified.Load(),
		Other:       st.other.Load(),
		Conditional: st.conditional.Load(),
		BodyBytes:   st.bodyBytes.Load(),
	}
	st.mu.Lock()
	out.Paths200 = sortedKeys(st.paths200)
	out.Changed = sortedKeys(st.changed)
	st.mu.Unlock()
	return out
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Reset zeroes the counters and empties the sets of Stats.
func (s *Site) Reset() {
	st := &s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	st.requests.Store(0)
	st.ok.Store(0)
	st.notModified.Store(0)
	st.other.Store(0)
	st.conditional.Store(0)
	st.bodyBytes.Store(0)
	clear(st.paths200)
	clear(st.changed)
}

var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// ServeHTTP serves the site. GET and HEAD are answered; a page answers
// 200 with its body, or 304 without one when the request's preconditions
// say so (see Evaluate), with the validators, Cache-Control, Expires and
// Date of its section on both; a removed page answers 404 or 410 whatever
// the preconditions. /robots.txt and /sitemap.xml carry no validators.
//
// The control paths, not counted in Stats:
//
//	GET  /__stats                          Stats as JSON
//	POST /__reset                          Reset (204)
//	POST /__change?fraction=F&seed=S       ChangeFraction; {"changed": [paths]}
//	POST /__change?path=P&path=…           Change; {"changed": [paths]}
//	POST /__remove?path=P&status=404|410   Remove (204); status 404 by default
//	POST /__add?from=P                     AddPage; {"path": new path}
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/__") {
		s.serveControl(w, r)
		return
	}
	st := &s.st
	st.requests.Add(1)
	h := r.Header
	if len(h["If-None-Match"]) > 0 || len(h["If-Modified-Since"]) > 0 {
		st.conditional.Add(1)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.answer(w, r, http.StatusMethodNotAllowed, []byte("method not allowed\n"))
		return
	}

	now := s.now()
	b := bufs.Get().(*bytes.Buffer)
	defer bufs.Put(b)
	b.Reset()
	base := "http://" + r.Host
	switch r.URL.Path {
	case "/robots.txt":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		b.WriteString(robotsTxt(base))
		s.answer(w, r, http.StatusOK, b.Bytes())
		return
	case "/sitemap.xml":
		s.mu.RLock()
		s.sitemapLocked(b, base)
		s.mu.RUnlock()
		w.Header().Set("Content-Type", "application/xml")
		s.answer(w, r, http.StatusOK, b.Bytes())
		return
	}

	s.mu.RLock()
	id, ok := s.byPath[r.URL.Path]
	if !ok {
		s.mu.RUnlock()
		s.answer(w, r, http.StatusNotFound, []byte("not found\n"))
		return
	}
	p := s.pages[id]
	if p.gone != 0 {
		s.mu.RUnlock()
		s.answer(w, r, p.gone, []byte(http.StatusText(p.gone)+"\n"))
		return
	}
	sec := &s.sections[p.sec]
	v := s.validatorsLocked(id)
	outcome := Proceed
	if sec.Validators != IgnoreConditionals {
		outcome = Evaluate(r.Method, h, v.etag, v.modified)
	}
	if outcome == Proceed {
		s.renderLocked(b, id)
	}
	s.mu.RUnlock()

	hd := w.Header()
	hd.Set("Date", now.UTC().Format(http1TimeFormat))
	if v.etag != "" {
		hd.Set("ETag", v.etag)
	}
	if v.lastModified != "" {
		hd.Set("Last-Modified", v.lastModified)
	}
	if sec.CacheControl != "" {
		hd.Set("Cache-Control", sec.CacheControl)
	}
	if sec.Expires != 0 {
		hd.Set("Expires", now.Add(sec.Expires).UTC().Format(http1TimeFormat))
	}
	switch outcome {
	case NotModified:
		st.notModified.Add(1)
		w.WriteHeader(http.StatusNotModified)
	case PreconditionFailed:
		s.answer(w, r, http.StatusPreconditionFailed, []byte("precondition failed\n"))
	default:
		hd.Set("Content-Type", "text/html; charset=utf-8")
		s.answer(w, r, http.StatusOK, b.Bytes())
	}
}

// answer writes a response with body (none for HEAD) and counts it.
func (s *Site) answer(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	st := &s.st
	if status == http.StatusOK {
		st.ok.Add(1)
		st.mu.Lock()
		st.paths200[r.URL.Path] = struct{}{}
		st.mu.Unlock()
	} else {
		st.other.Add(1)
	}
	hd := w.Header()
	if hd.Get("Content-Type") == "" {
		hd.Set("Content-Type", "text/plain; charset=utf-8")
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	n, _ := w.Write(body)
	st.bodyBytes.Add(int64(n))
}

func (s *Site) serveControl(w http.ResponseWriter, r *http.Request) {
	reply := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	fail := func(status int, msg string) { http.Error(w, "revisitsite: "+msg, status) }
	if r.URL.Path == "/__stats" {
		if r.Method != http.MethodGet {
			fail(http.StatusMethodNotAllowed, "GET only")
			return
		}
		reply(s.Stats())
		return
	}
	if r.Method != http.MethodPost {
		fail(http.StatusMethodNotAllowed, "POST only")
		return
	}
	q := r.URL.Query()
	switch r.URL.Path {
	case "/__reset":
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	case "/__change":
		if paths := q["path"]; len(paths) > 0 {
			if err := s.Change(paths...); err != nil {
				fail(http.StatusBadRequest, err.Error())
				return
			}
			slices.Sort(paths)
			reply(map[string][]string{"changed": slices.Compact(paths)})
			return
		}
		f, err := strconv.ParseFloat(q.Get("fraction"), 64)
		if err != nil || f < 0 || f > 1 {
			fail(http.StatusBadRequest, "fraction must be a number in [0, 1]")
			return
		}
		var seed uint64
		if v := q.Get("seed"); v != "" {
			if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
				fail(http.StatusBadRequest, "seed must be an unsigned integer")
				return
			}
		}
		reply(map[string][]string{"changed": s.ChangeFraction(f, seed)})
	case "/__remove":
		status := http.StatusNotFound
		if v := q.Get("status"); v != "" {
			var err error
			if status, err = strconv.Atoi(v); err != nil {
				fail(http.StatusBadRequest, "status must be 404 or 410")
				return
			}
		}
		if err := s.Remove(q.Get("path"), status); err != nil {
			fail(http.StatusBadRequest, err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case "/__add":
		path, err := s.AddPage(q.Get("from"))
		if err != nil {
			fail(http.StatusBadRequest, err.Error())
			return
		}
		reply(map[string]string{"path": path})
	default:
		fail(http.StatusNotFound, "unknown control path "+r.URL.Path)
	}
}
