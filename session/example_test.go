package session_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/trawlhq/trawl/session"
)

// One session per application: every request shares its pooled keep-alive
// connections, cookie jar and defaults.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s", r.URL.Path)
	}))
	defer srv.Close()

	s, err := session.New(session.Config{
		ConnectorConfig: session.ConnectorConfig{LimitPerHost: 4},
		Header:          http.Header{"Accept-Language": {"en"}},
	})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	ctx := context.Background()
	for _, path := range []string{"/a", "/b", "/c"} {
		resp, err := s.Get(ctx, srv.URL+path)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(resp.StatusCode, string(resp.Body))
		resp.Release()
	}
	st := s.Stats()
	fmt.Printf("%d requests, %d connection opened, %d reused\n", st.Requests, st.ConnsOpened, st.ConnsReused)
	// Output:
	// 200 hello from /a
	// 200 hello from /b
	// 200 hello from /c
	// 3 requests, 1 connection opened, 2 reused
}

func ExampleSession_PostJSON() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s", r.Header.Get("Content-Type"), b)
	}))
	defer srv.Close()
	s, _ := session.New(session.Config{})
	defer s.Close()

	resp, err := s.PostJSON(context.Background(), srv.URL, map[string]string{"q": "trawl"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(resp.Body))
	// Output: application/json {"q":"trawl"}
}

// A redirect hook refuses hops that leave the allowed host, as a crawler's scope
// check does.
func ExampleRequest_checkRedirect() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example/", http.StatusFound)
	}))
	defer srv.Close()
	s, _ := session.New(session.Config{})
	defer s.Close()

	errOutOfScope := errors.New("out of scope")
	_, err := s.Do(context.Background(), &session.Request{
		URL: srv.URL + "/start",
		CheckRedirect: func(next *url.URL, via []*url.URL) error {
			if next.Hostname() != "127.0.0.1" {
				return errOutOfScope
			}
			return nil
		},
	})
	var e *session.Error
	if errors.As(err, &e) {
		fmt.Println(e.Op, e.URL, errors.Is(err, errOutOfScope))
	}
	// Output: redirect https://elsewhere.example/ true
}

// With RaiseForStatus a status >= 400 is an error that still carries the response.
func ExampleStatusError() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gone fishing", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	s, _ := session.New(session.Config{RaiseForStatus: true})
	defer s.Close()

	_, err := s.Get(context.Background(), srv.URL)
	var se *session.StatusError
	if errors.As(err, &se) {
		fmt.Println(se.StatusCode, strings.TrimSpace(string(se.Response.Body)))
	}
	// Output: 503 gone fishing
}

func ExampleResponse_Text() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=ISO-8859-1")
		w.Write([]byte("caf\xe9"))
	}))
	defer srv.Close()
	s, _ := session.New(session.Config{})
	defer s.Close()

	resp, _ := s.Get(context.Background(), srv.URL)
	text, _ := resp.Text()
	fmt.Println(text)
	// Output: café
}

// Cookies survive a restart through ExportCookies and ImportCookies.
func ExampleSession_ExportCookies() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s3cr3t", Path: "/"})
			return
		}
		c, err := r.Cookie("sid")
		if err != nil {
			fmt.Fprint(w, "anonymous")
			return
		}
		fmt.Fprint(w, "logged in as ", c.Value)
	}))
	defer srv.Close()
	ctx := context.Background()

	first, _ := session.New(session.Config{})
	first.Get(ctx, srv.URL+"/login")
	saved, _ := first.ExportCookies()
	first.Close()

	second, _ := session.New(session.Config{})
	defer second.Close()
	if err := second.ImportCookies(saved); err != nil {
		fmt.Println(err)
	}
	resp, _ := second.Get(ctx, srv.URL+"/me")
	fmt.Println(string(resp.Body))
	// Output: logged in as s3cr3t
}

// Several sessions (different headers, say) can share one connection pool.
func ExampleConnector() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get("User-Agent"))
	}))
	defer srv.Close()
	conn, _ := session.NewConnector(session.ConnectorConfig{LimitPerHost: 8})
	defer conn.Close()

	for _, ua := range []string{"bot-a", "bot-b"} {
		s, _ := session.New(session.Config{Connector: conn, UserAgent: ua})
		resp, _ := s.Get(context.Background(), srv.URL)
		fmt.Println(string(resp.Body))
		s.Close() // does not close the shared connector
	}
	fmt.Println("connections opened:", conn.ConnsOpened())
	// Output:
	// bot-a
	// bot-b
	// connections opened: 1
}
