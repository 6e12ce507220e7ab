// Package exampletest builds and runs the programs under examples/ against
// a small local site, and reads the Go code blocks of the documents that
// show them, so that tests can check the documents say what the programs
// are. It is for tests only.
package exampletest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Build compiles the main package in dir and returns the binary's path.
func Build(t *testing.T, dir string) string {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), filepath.Base(abs))
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", dir, err, out)
	}
	return bin
}

// BuildAll compiles the main packages in dirs (relative to the current
// directory) with one go build, and returns their binaries by dir.
func BuildAll(t *testing.T, dirs ...string) map[string]string {
	t.Helper()
	out := t.TempDir()
	args := []string{"build", "-o", out + string(filepath.Separator)}
	for _, d := range dirs {
		args = append(args, "./"+d)
	}
	if b, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	bins := map[string]string{}
	for _, d := range dirs {
		bins[d] = filepath.Join(out, filepath.Base(d))
	}
	return bins
}

// Run runs bin with args (30 s at most) and returns its standard output;
// it fails the test when the program fails.
func Run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstderr:\n%s", filepath.Base(bin), strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// GoBlocks returns the ```go code blocks of a Markdown file, in order.
func GoBlocks(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	rest := string(b)
	for {
		i := strings.Index(rest, "```go\n")
		if i < 0 {
			return blocks
		}
		rest = rest[i+len("```go\n"):]
		j := strings.Index(rest, "\n```")
		if j < 0 {
			t.Fatalf("%s: unterminated code block", path)
		}
		blocks = append(blocks, rest[:j+1])
		rest = rest[j+4:]
	}
}

// ReadFile returns a file's content.
func ReadFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Site is a small shop-and-docs site on loopback:
//
//	/            Home, links to /docs/, /blog/, /products, /account/
//	/docs/       links to /docs/a, /docs/b, /docs/?sort=name
//	/docs/a      links to /docs/a/deep
//	/blog/       links to /blog/1
//	/products    two div.product (h2, .price), links to /products?page=2
//	/login       POST user=ann&password=secret sets the session cookie
//	/account/    members only (403 otherwise), links to /account/orders, /logout
//	/logout      ends the session
type Site struct {
	*httptest.Server

	mu     sync.Mutex
	hits   map[string]int // by path and query
	agents map[string]bool
	token  string
}

// NewSite starts a Site, closed when the test ends.
func NewSite(t *testing.T) *Site {
	s := &Site{hits: map[string]int{}, agents: map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Hits returns how many times path (with its query) was requested.
func (s *Site) Hits(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func page(w http.ResponseWriter, title, body string, links ...string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><html><head><title>%s</title></head><body><h1>%s</h1>%s", title, title, body)
	for _, l := range links {
		fmt.Fprintf(w, `<a href="%s">%s</a> `, l, l)
	}
	fmt.Fprint(w, "</body></html>")
}

func (s *Site) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.RequestURI()]++
	token := s.token
	s.mu.Unlock()
	switch r.URL.RequestURI() {
	case "/":
		page(w, "Home", "", "/docs/", "/blog/", "/products", "/account/")
	case "/docs/":
		page(w, "Docs", "", "/docs/a", "/docs/b", "/docs/?sort=name")
	case "/docs/?sort=name":
		page(w, "Docs by name", "", "/docs/b", "/docs/a")
	case "/docs/a":
		page(w, "Doc A", "", "/docs/a/deep")
	case "/docs/b", "/docs/a/deep", "/blog/1", "/account/orders":
		page(w, strings.Trim(r.URL.Path, "/"), "")
	case "/blog/":
		page(w, "Blog", "", "/blog/1")
	case "/products":
		page(w, "Products", `<div class="product"><h2>Tea</h2><span class="price">4.50</span></div>`+
			`<div class="product"><h2>Cup</h2><span class="price">9.00</span></div>`, "/products?page=2")
	case "/products?page=2":
		page(w, "Products 2", `<div class="product"><h2>Pot</h2><span class="price">25.00</span></div>`)
	case "/login":
		if r.Method != http.MethodPost || r.PostFormValue("user") != "ann" || r.PostFormValue("password") != "secret" {
			http.Error(w, "bad login", http.StatusUnauthorized)
			return
		}
		s.mu.Lock()
		s.token = "tok-" + fmt.Sprint(time.Now().UnixNano())
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: s.token, Path: "/"})
		s.mu.Unlock()
		page(w, "Welcome", "")
	case "/logout":
		s.mu.Lock()
		s.token = ""
		s.mu.Unlock()
		page(w, "Bye", "")
	default:
		if strings.HasPrefix(r.URL.Path, "/account/") {
			if c, err := r.Cookie("sid"); err != nil || token == "" || c.Value != token {
				http.Error(w, "log in first", http.StatusForbidden)
				return
			}
			page(w, "Account", "", "/account/orders", "/logout")
			return
		}
		http.NotFound(w, r)
	}
}
