// Package rendertest serves a web site that exists only in a browser: its
// links and product fields are built by JavaScript. Tests and benchmarks of
// rendering crawl it and read its server-side counters.
package rendertest

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Site is an http.Handler for a site of a home page "/" and pages
// "/p/0" … "/p/N-1". Every page is an empty shell that loads /app.js, which
// fetch()es /nav.json (answered only with the cookie the pages set, so
// only a client that keeps cookies gets it), builds the navigation with
// document.createElement('a'), fills the product fields h1.name and .price
// from /api/product, and finally loads /secret.js, which robots.txt
// disallows and which would add a link to /hidden. Each page also has an
// image, /logo.png. Site counts requests per path, the requests in flight
// at once, and the user agents it saw. It is safe for concurrent use.
type Site struct {
	// Pages is the number of pages besides the home page.
	Pages int
	// Latency delays every answer (the server's own latency).
	Latency time.Duration
	// Links is how many pages each page's navigation links to: page i
	// links to pages i+1 … i+Links (modulo Pages), the home page to the
	// first Links pages. Zero means every page links to every page.
	Links int

	mu       sync.Mutex
	hits     map[string]int
	agents   map[string]int
	inFlight atomic.Int64
	maxIn    atomic.Int64
}

// Paths returns the paths of the site's pages: "/" and "/p/0" … "/p/N-1".
func (s *Site) Paths() []string {
	out := []string{"/"}
	for i := range s.Pages {
		out = append(out, fmt.Sprintf("/p/%d", i))
	}
	return out
}

// Name is the product name the script writes into h1.name on the page at
// path.
func Name(path string) string {
	if path == "/" {
		return "Widget home"
	}
	return "Widget " + strings.TrimPrefix(path, "/p/")
}

const shell = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>%s</title><script src="/app.js"></script></head>
<body><nav id="nav"></nav><img src="/logo.png"><h1 class="name"></h1><span class="price"></span></body></html>`

const appJS = `
(async function () {
  const r = await fetch('/nav.json');
  if (!r.ok) { return; }
  const nav = await r.json();
  const box = document.getElementById('nav');
  for (const href of nav.links) {
    const a = document.createElement('a');
    a.href = href;
    a.textContent = href;
    box.appendChild(a);
  }
  const id = location.pathname === '/' ? 'home' : location.pathname.split('/').pop();
  const p = await (await fetch('/api/product?id=' + id)).json();
  document.querySelector('.name').textContent = p.name;
  document.querySelector('.price').textContent = p.price;
  const s = document.createElement('script');
  s.src = '/secret.js';
  document.head.appendChild(s);
})();
`

func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		m := s.maxIn.Load()
		if n <= m || s.maxIn.CompareAndSwap(m, n) {
			break
		}
	}
	s.mu.Lock()
	if s.hits == nil {
		s.hits, s.agents = map[string]int{}, map[string]int{}
	}
	s.hits[r.URL.Path]++
	s.agents[r.UserAgent()]++
	s.mu.Unlock()
	if s.Latency > 0 {
		t := time.NewTimer(s.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	switch {
	case r.URL.Path == "/robots.txt":
		fmt.Fprint(w, "User-agent: *\nDisallow: /secret.js\nDisallow: /hidden\n")
	case r.URL.Path == "/app.js":
		w.Header().Set("Content-Type", "application/javascript")
		fmt.Fprint(w, appJS)
	case r.URL.Path == "/secret.js":
		w.Header().Set("Content-Type", "application/javascript")
		fmt.Fprint(w, `var a = document.createElement('a'); a.href = '/hidden'; document.body.appendChild(a);`)
	case r.URL.Path == "/nav.json":
		if c, err := r.Cookie("visitor"); err != nil || c.Value != "42" {
			http.Error(w, "no cookie", http.StatusForbidden)
			return
		}
		var links []string
		if s.Links <= 0 || s.Links >= s.Pages {
			for i := range s.Pages {
				links = append(links, fmt.Sprintf("/p/%d", i))
			}
		} else {
			from := 0
			if ref := r.Header.Get("Referer"); ref != "" {
				if i := strings.LastIndex(ref, "/p/"); i >= 0 {
					fmt.Sscanf(ref[i+3:], "%d", &from)
					from++
				}
			}
			for k := range s.Links {
				links = append(links, fmt.Sprintf("/p/%d", (from+k)%s.Pages))
			}
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"links":["%s"]}`, strings.Join(links, `","`))
	case r.URL.Path == "/api/product":
		id := r.URL.Query().Get("id")
		price := "1.99"
		if id != "home" {
			price = id + ".99"
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"name":"Widget %s","price":"%s"}`, id, price)
	case r.URL.Path == "/" || strings.HasPrefix(r.URL.Path, "/p/") || r.URL.Path == "/hidden":
		http.SetCookie(w, &http.Cookie{Name: "visitor", Value: "42", Path: "/"})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, shell, r.URL.Path)
	default:
		http.NotFound(w, r)
	}
}

// Hits returns how many requests path received.
func (s *Site) Hits(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// Agents returns the User-Agent headers seen, with their counts.
func (s *Site) Agents() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.agents {
		out[k] = v
	}
	return out
}

// MaxInFlight returns the most requests the site was answering at once.
func (s *Site) MaxInFlight() int { return int(s.maxIn.Load()) }
