package render

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trawlhq/trawl/crawler/render/rendertest"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

func needChromium(t *testing.T) {
	t.Helper()
	if _, err := FindBrowser(""); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI: %v", err)
		}
		t.Skipf("no browser (under CI it fails instead): %v", err)
	}
}

// fetched returns a page as the crawler hands it to Render, and a
// FetchFunc that sends subresources through sess.
func fetched(t *testing.T, sess *session.Session, u string) (*pipeline.Page, func(context.Context, *session.Request) (*session.Response, error)) {
	t.Helper()
	resp, err := sess.Get(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline.Page{URL: u, Status: resp.StatusCode, Header: resp.Header, Body: append([]byte(nil), resp.Body...)}
	resp.Release()
	return p, sess.Do
}

// TestBrowserCrashRestarts: a browser killed between two pages is
// restarted and the second page still renders.
func TestBrowserCrashRestarts(t *testing.T) {
	needChromium(t)
	site := &rendertest.Site{Pages: 2}
	srv := httptest.NewServer(site)
	defer srv.Close()
	sess, err := session.New(session.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	r, err := New(Config{Idle: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()

	p, fetch := fetched(t, sess, srv.URL+"/p/0")
	if ok, err := r.Render(ctx, p, fetch); !ok || err != nil || !strings.Contains(string(p.Body), "Widget 0") {
		t.Fatalf("first render: %v %v %q", ok, err, p.Body)
	}
	r.mu.Lock()
	proc := chromedp.FromContext(r.browser).Browser.Process()
	r.mu.Unlock()
	if proc == nil {
		t.Fatal("no browser process")
	}
	if err := proc.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = proc.Wait()

	p, fetch = fetched(t, sess, srv.URL+"/p/1")
	ok, err := r.Render(ctx, p, fetch)
	if !ok || err != nil || !strings.Contains(string(p.Body), "Widget 1") {
		t.Fatalf("render after the browser died: %v %v", ok, err)
	}
	if n := r.Restarts(); n != 1 {
		t.Errorf("Restarts() = %d, want 1", n)
	}
}

// TestHungPageTimesOut: a page whose script keeps a request open forever
// fails after the timeout (tried twice), without hanging the caller.
func TestHungPageTimesOut(t *testing.T) {
	needChromium(t)
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<html><body><script>fetch('/forever')</script></body></html>`))
	})
	mux.HandleFunc("/forever", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(release)
	sess, err := session.New(session.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	r, err := New(Config{Timeout: 700 * time.Millisecond, Idle: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, fetch := fetched(t, sess, srv.URL+"/")
	served := string(p.Body)
	ok, err := r.Render(context.Background(), p, fetch)
	if ok || err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("Render = %v, %v; want a timeout error", ok, err)
	}
	if string(p.Body) != served || p.Rendered {
		t.Error("a failed render changed the page")
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(Config{Browser: "/nonexistent/chromium"}); err == nil {
		t.Error("New accepted a browser that does not exist")
	}
	if _, err := New(Config{Block: []string{"images"}}); err == nil || !strings.Contains(err.Error(), `"images"`) {
		t.Errorf("New with an unknown resource type: %v", err)
	}
	if _, err := New(Config{Tabs: -1}); err == nil {
		t.Error("New accepted Tabs -1")
	}
}
