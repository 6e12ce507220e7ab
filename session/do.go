package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"
)

// parseURL checks that raw is an absolute http(s) URL with a host.
func parseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("empty URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("invalid URL: %w", err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch u.Scheme {
	case "http", "https":
	case "":
		return nil, errors.New("invalid URL: not absolute (no scheme)")
	default:
		return nil, fmt.Errorf("unsupported scheme %q", u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, errors.New("invalid URL: no host")
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// origin is scheme://host:port, the unit basic auth is confined to.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	return u.Scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// fail builds the *Error for a failure, preferring the context's cause (which names
// the timeout that fired) when the context is done.
func fail(ctx context.Context, op, u string, err error) *Error {
	if ctx.Err() != nil {
		if cause := context.Cause(ctx); cause != nil {
			err = cause
		}
	}
	return &Error{Op: op, URL: u, Err: err}
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// hop is the per-hop state shared with the httptrace callbacks.
type hop struct {
	gotConn func() // called once the hop has a connection (or failed to get one)
	connWD  *watchdog
	readWD  *watchdog
	mu      sync.Mutex
	reused  bool
}

func (s *Session) do(ctx context.Context, req *Request) (*Response, error) {
	start := time.Now()
	method := strings.ToUpper(req.Method)
	if method == "" {
		method = http.MethodGet
	}
	u, err := parseURL(req.URL)
	if err != nil {
		e := &Error{Op: "parse", URL: req.URL, Err: err}
		s.traces.requestException(TraceRequestException{Method: method, Err: e})
		return nil, e
	}
	to := s.timeouts.merge(req.Timeout)
	maxBody := req.MaxBodySize
	if maxBody == 0 {
		maxBody = s.maxBody
	}
	header := s.baseHeader(req.Header)
	if s.traces.wantRequestStart() { // the header copy is for RequestStart hooks only
		s.traces.requestStart(TraceRequest{Method: method, URL: u, Header: header.Clone()})
	}

	if to.Total > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, to.Total, &TimeoutError{Which: "total", After: to.Total})
		defer cancel()
	}
	resp, err := s.follow(ctx, method, u, header, req, to, maxBody)
	if err != nil {
		s.traces.requestException(TraceRequestException{Method: method, URL: u, Err: err})
		return nil, err
	}
	resp.Elapsed = time.Since(start)
	s.traces.requestEnd(TraceRequestEnd{Method: method, URL: resp.URL, StatusCode: resp.StatusCode, Elapsed: resp.Elapsed})
	raise := s.raise
	if req.RaiseForStatus != nil {
		raise = *req.RaiseForStatus
	}
	if raise && resp.StatusCode >= 400 {
		return nil, &Error{Op: "status", URL: resp.URL.String(), Err: &StatusError{StatusCode: resp.StatusCode, Response: resp}}
	}
	return resp, nil
}

// baseHeader merges the defaults, the request's headers and the automatic ones.
//
// The values share one allocation, as in http.Header.Clone: each key's
// slice is capped at its length, so appending to one copies it.
func (s *Session) baseHeader(reqH http.Header) http.Header {
	n := 2
	for _, v := range s.header {
		n += len(v)
	}
	for _, v := range reqH {
		n += len(v)
	}
	vals := make([]string, 0, n)
	own := func(v []string) []string {
		vals = append(vals, v...)
		return vals[len(vals)-len(v) : len(vals) : len(vals)]
	}
	h := make(http.Header, len(s.header)+len(reqH)+2)
	for k, v := range s.header {
		h[k] = own(v)
	}
	for k, v := range reqH {
		h[http.CanonicalHeaderKey(k)] = own(v)
	}
	if _, ok := h["User-Agent"]; !ok {
		if s.skipUA {
			h["User-Agent"] = own([]string{""}) // an empty value makes net/http send none
		} else {
			h["User-Agent"] = own([]string{s.userAgent})
		}
	}
	if _, ok := h["Accept-Encoding"]; !ok && s.decode && !s.skipAE {
		h["Accept-Encoding"] = own([]string{acceptEncoding})
	}
	return h
}

// follow sends the request and follows its redirects.
func (s *Session) follow(ctx context.Context, method string, u *url.URL, header http.Header, req *Request,
	to Timeouts, maxBody int64) (*Response, error) {
	body := req.Body
	first := origin(u)
	sendAuth := true
	var via []*url.URL
	cur := u
	for {
		if sendAuth && cur != u && origin(cur) != first {
			sendAuth = false
			header.Del("Authorization")
			header.Del("Cookie")
		}
		resp, next, err := s.hop(ctx, method, cur, header, body, sendAuth, to, maxBody, s.maxRedir >= 0)
		if err != nil {
			return nil, err
		}
		if next == nil {
			resp.Redirects = via
			return resp, nil
		}
		if len(via) >= s.maxRedir {
			return nil, &Error{Op: "redirect", URL: next.String(), Err: ErrTooManyRedirects}
		}
		chain := append(via[:len(via):len(via)], cur)
		for _, check := range []func(*url.URL, []*url.URL) error{s.checkRed, req.CheckRedirect} {
			if check == nil {
				continue
			}
			if err := check(next, chain); err != nil {
				return nil, &Error{Op: "redirect", URL: next.String(), Err: err}
			}
		}
		s.traces.redirect(TraceRedirect{From: cur, To: next, StatusCode: resp.StatusCode})
		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther:
			if method != http.MethodHead && (resp.StatusCode == http.StatusSeeOther || method == http.MethodPost) {
				method = http.MethodGet
				body = nil
				header.Del("Content-Type")
			}
		}
		via = chain
		cur = next
	}
}

// hop sends one request. For a redirect to follow it returns the response head and
// the next URL (the body drained); otherwise the complete response.
func (s *Session) hop(ctx context.Context, method string, u *url.URL, header http.Header, body []byte,
	sendAuth bool, to Timeouts, maxBody int64, mayFollow bool) (*Response, *url.URL, error) {
	us := u.String()
	var hopStart time.Time
	if len(s.traces) > 0 {
		hopStart = time.Now()
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	h := &hop{}
	if to.Connect > 0 {
		h.connWD = newWatchdog(to.Connect, func() { cancel(&TimeoutError{Which: "connect", After: to.Connect}) })
		h.connWD.arm()
		defer h.connWD.stop()
	}
	if to.SockRead > 0 {
		h.readWD = newWatchdog(to.SockRead, func() { cancel(&TimeoutError{Which: "sock read", After: to.SockRead}) })
		defer h.readWD.stop()
	}
	org := origin(u)
	release, err := s.conn.acquire(ctx, org, s.traces)
	if err != nil {
		return nil, nil, fail(ctx, "send", us, err)
	}
	defer release()

	h.gotConn = func() {}
	if s.conn.cfg.Version == HTTP2 && u.Scheme == "https" {
		done, err := s.conn.h2Gate(ctx, org)
		if err != nil {
			return nil, nil, fail(ctx, "send", us, err)
		}
		h.gotConn = done
		defer done()
	}
	hreq := s.newHTTPRequest(ctx, h, method, u, org, header, body, sendAuth, to)
	resp, err := s.rt.RoundTrip(hreq)
	h.connWD.stop()
	h.gotConn()
	if err == nil && ctx.Err() != nil {
		// Cancelling a TLS connection sends close_notify first, and a server may
		// answer it by ending its response before the socket closes: whatever
		// arrived after our context ended is not a response.
		resp.Body.Close()
		err = context.Cause(ctx)
	}
	if err != nil {
		s.stats.failed.Add(1)
		return nil, nil, fail(ctx, "send", us, err)
	}
	s.stats.responses.Add(1)
	s.stats.status.add(resp.StatusCode)
	if len(s.traces) > 0 {
		s.traces.responseHeaders(TraceResponse{Method: method, URL: u, StatusCode: resp.StatusCode, Elapsed: time.Since(hopStart)})
	}
	if s.jar != nil {
		if cs := resp.Cookies(); len(cs) > 0 {
			s.jar.SetCookies(u, cs)
		}
	}
	out := &Response{
		URL:        u,
		StatusCode: resp.StatusCode,
		Header:     resp.Header,
		Proto:      resp.Proto,
	}
	h.mu.Lock()
	out.ConnReused = h.reused
	h.mu.Unlock()
	body0 := &wireBody{r: resp.Body, wd: h.readWD, stats: &s.stats}
	if mayFollow && isRedirect(resp.StatusCode) && resp.Header.Get("Location") != "" {
		next, err := s.redirectURL(u, resp.Header.Get("Location"))
		if err != nil {
			resp.Body.Close()
			return nil, nil, &Error{Op: "redirect", URL: us, Err: err}
		}
		// drain a little so that the connection can be reused
		_, _ = io.Copy(io.Discard, io.LimitReader(body0, 64<<10))
		resp.Body.Close()
		return out, next, nil
	}
	buf, truncated, err := s.readBody(resp, body0, method, maxBody)
	resp.Body.Close()
	if err == nil && ctx.Err() != nil {
		err = context.Cause(ctx) // see above: a body ended by our own hang-up
	}
	if err != nil {
		putBuf(buf)
		return nil, nil, fail(ctx, "read", us, err)
	}
	out.buf = buf
	out.Body = buf.Bytes()
	out.Truncated = truncated
	return out, nil, nil
}

func (s *Session) newHTTPRequest(ctx context.Context, h *hop, method string, u *url.URL, org string, header http.Header,
	body []byte, sendAuth bool, to Timeouts) *http.Request {
	hdr := header.Clone()
	if sendAuth && s.auth != nil && hdr.Get("Authorization") == "" {
		r := &http.Request{Header: hdr}
		r.SetBasicAuth(s.auth.User, s.auth.Password)
	}
	if s.jar != nil {
		var parts []string
		jc := s.jar.Cookies(u)
		for _, c := range jc {
			parts = append(parts, c.String())
		}
		if len(s.shared) > 0 {
			seen := make(map[string]bool, len(jc))
			for _, c := range jc {
				seen[c.Name] = true
			}
			for _, c := range s.shared {
				if !seen[c.Name] && (!c.Secure || u.Scheme == "https") {
					parts = append(parts, (&http.Cookie{Name: c.Name, Value: c.Value}).String())
				}
			}
		}
		if len(parts) > 0 {
			if old := hdr.Get("Cookie"); old != "" {
				parts = append([]string{old}, parts...)
			}
			hdr.Set("Cookie", strings.Join(parts, "; "))
		}
	}
	st := &reqState{stats: &s.stats, traces: s.traces, sockConnect: to.SockConnect, proxy: s.proxy}
	ctx = context.WithValue(ctx, stateKey{}, st)
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			h.connWD.stop()
			h.gotConn()
			h.mu.Lock()
			h.reused = info.Reused
			h.mu.Unlock()
			if info.Reused {
				s.stats.connsReused.Add(1)
				s.traces.reused(org)
			}
		},
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				s.stats.requests.Add(1)
			}
			h.readWD.arm()
		},
		GotFirstResponseByte: func() { h.readWD.disarm() },
	})
	uc := *u
	host := u.Host
	if hh := hdr.Get("Host"); hh != "" {
		host = hh // a Host header overrides the URL's (virtual-host checks)
	}
	hdr.Del("Host")
	r := &http.Request{
		Method:     method,
		URL:        &uc,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     hdr,
		Host:       host,
	}
	if body != nil {
		r.ContentLength = int64(len(body))
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		if len(body) == 0 {
			r.Body = http.NoBody
		}
	}
	return r.WithContext(ctx)
}

// wireBody counts bytes read off the wire and arms the sock-read watchdog around
// every read.
type wireBody struct {
	r     io.Reader
	wd    *watchdog
	stats *counters
}

func (w *wireBody) Read(p []byte) (int, error) {
	w.wd.arm()
	n, err := w.r.Read(p)
	w.wd.disarm()
	w.stats.bytesRead.Add(int64(n))
	return n, err
}

// readBody reads resp's body, decoded when asked, into a pooled buffer of at most
// maxBody bytes (maxBody < 0: no cap).
func (s *Session) readBody(resp *http.Response, wire io.Reader, method string, maxBody int64) (*bytes.Buffer, bool, error) {
	buf := getBuf()
	noBody := method == http.MethodHead || resp.StatusCode == http.StatusNoContent ||
		resp.StatusCode == http.StatusNotModified || resp.ContentLength == 0
	if noBody {
		return buf, false, nil
	}
	var r io.Reader = wire
	var dec *decoder
	if s.decode {
		var err error
		dec, err = newDecoder(wire, resp.Header)
		if err != nil {
			return buf, false, err
		}
		if dec != nil {
			defer dec.close()
			r = dec
			resp.Header.Del("Content-Encoding")
			resp.Header.Del("Content-Length")
		}
	}
	if maxBody >= 0 {
		if cl := resp.ContentLength; cl > 0 && dec == nil {
			buf.Grow(int(min(cl, maxBody, 1<<20) + 1)) // a lying Content-Length cannot make us allocate much
		}
		n, err := buf.ReadFrom(io.LimitReader(r, maxBody+1))
		if err != nil {
			return buf, false, err
		}
		if n > maxBody {
			buf.Truncate(int(maxBody))
			return buf, true, nil
		}
	} else if _, err := buf.ReadFrom(r); err != nil {
		return buf, false, err
	}
	if dec != nil {
		// the compressed stream may end before the wire does: read to EOF (bounded)
		// so that the connection goes back to the pool
		_, _ = io.Copy(io.Discard, io.LimitReader(wire, 64<<10))
	}
	return buf, false, nil
}
