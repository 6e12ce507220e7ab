package session_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/trawlhq/trawl/session"
)

func TestRequoteRedirectURL(t *testing.T) {
	var mu sync.Mutex
	var landed string
	w := newWire(t, modes[0], func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			rw.Header().Set("Location", "/p/%7euser/caf\xc3\xa9?q=a%2fb")
			rw.WriteHeader(http.StatusFound)
			return
		}
		mu.Lock()
		landed = r.RequestURI
		mu.Unlock()
	})
	tests := []struct {
		name string
		off  bool
		want string
	}{
		{"requote", false, "/p/~user/caf%C3%A9?q=a%2Fb"},
		{"as sent", true, "/p/%7euser/caf%C3%A9?q=a%2fb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(t, w, session.Config{NoRequoteRedirectURL: tc.off})
			resp := mustGet(t, s, w.URL+"/start")
			mu.Lock()
			defer mu.Unlock()
			if landed != tc.want {
				t.Errorf("server saw %q, want %q", landed, tc.want)
			}
			if resp.URL.RequestURI() != tc.want {
				t.Errorf("Response.URL %q, want %q", resp.URL.RequestURI(), tc.want)
			}
		})
	}
}

// chainServer redirects /n/<k> to /n/<k-1> until /n/0, which answers "end".
func chainServer(t *testing.T) *wire {
	return newWire(t, modes[0], func(rw http.ResponseWriter, r *http.Request) {
		k, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/n/"))
		if k > 0 {
			http.Redirect(rw, r, fmt.Sprintf("/n/%d", k-1), http.StatusMovedPermanently)
			return
		}
		io.WriteString(rw, "end")
	})
}

func TestRedirectPolicy(t *testing.T) {
	w := chainServer(t)
	t.Run("default max 10", func(t *testing.T) {
		s := newSession(t, w, session.Config{})
		resp := mustGet(t, s, w.URL+"/n/10")
		if string(resp.Body) != "end" || len(resp.Redirects) != 10 || resp.Redirects[0].Path != "/n/10" {
			t.Errorf("body %q redirects %d", resp.Body, len(resp.Redirects))
		}
		_, err := s.Get(ctxT(t), w.URL+"/n/11")
		var e *session.Error
		if !errors.Is(err, session.ErrTooManyRedirects) || !errors.As(err, &e) || e.Op != "redirect" {
			t.Errorf("11 redirects: err = %v", err)
		}
	})
	t.Run("max 2", func(t *testing.T) {
		s := newSession(t, w, session.Config{MaxRedirects: 2})
		if _, err := s.Get(ctxT(t), w.URL+"/n/3"); !errors.Is(err, session.ErrTooManyRedirects) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("not followed", func(t *testing.T) {
		s := newSession(t, w, session.Config{MaxRedirects: -1})
		resp := mustGet(t, s, w.URL+"/n/3")
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/n/2" {
			t.Errorf("status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("hooks refuse a hop", func(t *testing.T) {
		refuse := errors.New("out of scope")
		var sessionSaw []string
		s := newSession(t, w, session.Config{CheckRedirect: func(next *url.URL, via []*url.URL) error {
			sessionSaw = append(sessionSaw, next.Path)
			return nil
		}})
		before := w.reqs.Load()
		_, err := s.Do(ctxT(t), &session.Request{URL: w.URL + "/n/5", CheckRedirect: func(next *url.URL, via []*url.URL) error {
			if next.Path == "/n/3" {
				if len(via) != 2 || via[0].Path != "/n/5" || via[1].Path != "/n/4" {
					t.Errorf("via = %v", via)
				}
				return refuse
			}
			return nil
		}})
		var e *session.Error
		if !errors.Is(err, refuse) || !errors.As(err, &e) || e.Op != "redirect" || !strings.HasSuffix(e.URL, "/n/3") {
			t.Errorf("err = %v, want a redirect error for /n/3 wrapping the hook's", err)
		}
		if got := w.reqs.Load() - before; got != 2 {
			t.Errorf("server saw %d requests, want 2 (the refused hop is not fetched)", got)
		}
		if strings.Join(sessionSaw, ",") != "/n/4,/n/3" {
			t.Errorf("session hook saw %v", sessionSaw)
		}
	})
}

func TestRedirectMethods(t *testing.T) {
	var mu sync.Mutex
	var landing []string
	w := newWire(t, modes[0], func(rw http.ResponseWriter, r *http.Request) {
		if code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/")); err == nil {
			http.Redirect(rw, r, "/land", code)
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		landing = append(landing, r.Method+" "+string(b))
		mu.Unlock()
	})
	s := newSession(t, w, session.Config{})
	for _, tc := range []struct {
		code int
		want string
	}{{301, "GET "}, {302, "GET "}, {303, "GET "}, {307, "POST data"}, {308, "POST data"}} {
		if _, err := s.Do(ctxT(t), &session.Request{Method: "POST", URL: fmt.Sprintf("%s/%d", w.URL, tc.code), Body: []byte("data")}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		if got := landing[len(landing)-1]; got != tc.want {
			t.Errorf("%d: landing saw %q, want %q", tc.code, got, tc.want)
		}
		mu.Unlock()
	}
}

func TestRaiseForStatus(t *testing.T) {
	w := newWire(t, modes[0], func(rw http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		rw.WriteHeader(code)
		io.WriteString(rw, "status body")
	})
	yes, no := true, false
	tests := []struct {
		name    string
		session bool
		req     *bool
		code    int
		wantErr bool
	}{
		{"off by default", false, nil, 404, false},
		{"session on", true, nil, 503, true},
		{"session on, 2xx", true, nil, 200, false},
		{"session on, request off", true, &no, 500, false},
		{"request on", false, &yes, 400, true},
		{"request on, 399", false, &yes, 399, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(t, w, session.Config{RaiseForStatus: tc.session})
			resp, err := s.Do(ctxT(t), &session.Request{URL: fmt.Sprintf("%s/%d", w.URL, tc.code), RaiseForStatus: tc.req})
			if !tc.wantErr {
				if err != nil || resp.StatusCode != tc.code {
					t.Fatalf("err = %v, want the %d response", err, tc.code)
				}
				return
			}
			var se *session.StatusError
			if !errors.As(err, &se) || se.StatusCode != tc.code || string(se.Response.Body) != "status body" {
				t.Fatalf("err = %v, want a *StatusError %d carrying the response", err, tc.code)
			}
			var e *session.Error
			if !errors.As(err, &e) || e.Op != "status" || e.Timeout() {
				t.Errorf("err = %#v", e)
			}
		})
	}
}

func TestHostileLocations(t *testing.T) {
	locations := []string{
		"javascript:alert(1)", "mailto:a@b", "http://[::1", "//", "http://", "\x00\x01",
		"http://exa mple.com/", "ftp://example.com/", "%zz%", "/ok?%",
	}
	w := newWire(t, modes[0], func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/go" {
			rw.Header()["Location"] = []string{r.URL.Query().Get("to")}
			rw.WriteHeader(http.StatusFound)
			return
		}
		io.WriteString(rw, "landed")
	})
	s := newSession(t, w, session.Config{})
	for _, loc := range locations {
		t.Run(fmt.Sprintf("%q", loc), func(t *testing.T) {
			resp, err := s.Get(ctxT(t), w.URL+"/go?to="+url.QueryEscape(loc))
			if err != nil {
				var e *session.Error
				// a control byte breaks the header itself (send); the rest are refused hops
				if !errors.As(err, &e) || (e.Op != "redirect" && e.Op != "send") {
					t.Errorf("err = %v, want a redirect or send error", err)
				}
				return
			}
			if string(resp.Body) != "landed" {
				t.Errorf("followed %q to %s: %q", loc, resp.URL, resp.Body)
			}
		})
	}
}
