package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// members is a site whose /account/ pages answer 403 without the cookie
// that a successful POST /login sets, and counts what it served.
type members struct {
	mu       sync.Mutex
	logins   int
	logouts  int
	served   int // account pages served with the cookie
	refused  []string
	token    string
	user, pw string
}

func (m *members) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case r.URL.Path == "/login":
		if r.Method != http.MethodPost || r.PostFormValue("user") != m.user || r.PostFormValue("password") != m.pw {
			http.Error(w, "bad login", http.StatusUnauthorized)
			return
		}
		m.logins++
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: m.token, Path: "/", HttpOnly: true})
		fmt.Fprint(w, "welcome")
	case r.URL.Path == "/logout":
		m.logouts++
		m.token = "logged-out" // the session's cookie is no longer valid
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "", Path: "/", MaxAge: -1})
		fmt.Fprint(w, "bye")
	case strings.HasPrefix(r.URL.Path, "/account/"):
		if c, err := r.Cookie("sid"); err != nil || c.Value != m.token {
			m.refused = append(m.refused, r.URL.Path)
			http.Error(w, "log in first", http.StatusForbidden)
			return
		}
		m.served++
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/account/":
			fmt.Fprint(w, `<a href="/logout">log out</a> <a href="/account/orders">orders</a> <a href="/account/profile">profile</a>`)
		case "/account/orders", "/account/profile":
			fmt.Fprintf(w, `<title>%s</title><a href="/account/">home</a>`, r.URL.Path)
		default:
			http.NotFound(w, r)
		}
	default:
		http.NotFound(w, r)
	}
}

func TestRun(t *testing.T) {
	m := &members{token: "s3cret-session", user: "ann", pw: "pw"}
	srv := httptest.NewServer(m)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var out bytes.Buffer
	if err := run(ctx, []string{"-user", "ann", "-password", "pw", srv.URL}, &out); err != nil {
		t.Fatal(err)
	}
	var n int
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var rec struct {
			URL    string `json:"url"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		if rec.Status != 200 {
			t.Errorf("%s: status %d, want 200 (cookie not sent?)", rec.URL, rec.Status)
		}
		n++
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// The crawl stays in /account/: it never follows the /logout link
	// (before the fix it did, and logged itself out).
	if n != 3 || m.served != 3 || m.logins != 1 || m.logouts != 0 || len(m.refused) != 0 {
		t.Fatalf("records %d, served %d, logins %d, logouts %d, refused %q; want 3, 3, 1, 0, none",
			n, m.served, m.logins, m.logouts, m.refused)
	}
}

func TestRunBadPassword(t *testing.T) {
	m := &members{token: "t", user: "ann", pw: "pw"}
	srv := httptest.NewServer(m)
	defer srv.Close()
	var out bytes.Buffer
	err := run(context.Background(), []string{"-user", "ann", "-password", "wrong", srv.URL}, &out)
	if err == nil || !strings.Contains(err.Error(), "status 401") {
		t.Fatalf("run with a bad password: %v, want a status 401 error", err)
	}
	if out.Len() != 0 || m.served != 0 {
		t.Fatalf("crawled after a failed login: %q", out.String())
	}
}
