package crawler

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trawlhq/trawl/session"
)

// robotsSite serves robots.txt with the given status and body, and a home
// page linking to /a, /b, /private/ok, /private/no and /q?x=1.
func robotsSite(t *testing.T, status int, body string) *site {
	return newSite(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		case "/":
			html(w, "/a", "/b", "/private/ok", "/private/no", "/q?x=1")
		case "/a", "/b", "/private/ok", "/private/no", "/q":
			html(w)
		default:
			http.NotFound(w, r)
		}
	})
}

func TestRobots(t *testing.T) {
	all := []string{"/", "/a", "/b", "/private/ok", "/private/no", "/q?x=1"}
	for _, tc := range []struct {
		name    string
		status  int
		body    string
		agent   string // session.Config.UserAgent
		fetched []string
	}{
		{"allow beats shorter disallow", 200, "User-agent: *\nDisallow: /private/\nAllow: /private/ok\n", "",
			[]string{"/", "/a", "/b", "/private/ok", "/q?x=1"}},
		{"disallow beats shorter allow", 200, "User-agent: *\nAllow: /\nDisallow: /a\n", "",
			[]string{"/", "/b", "/private/ok", "/private/no", "/q?x=1"}},
		{"our group wins over *", 200, "User-agent: trawl\nDisallow: /a\n\nUser-agent: *\nDisallow: /b\n", "",
			[]string{"/", "/b", "/private/ok", "/private/no", "/q?x=1"}},
		{"group named for our product token", 200, "User-agent: mybot\nDisallow: /b\n\nUser-agent: *\nDisallow: /\n", "MyBot/2.0 (+https://x)",
			[]string{"/", "/a", "/private/ok", "/private/no", "/q?x=1"}},
		{"another agent's group does not apply", 200, "User-agent: googlebot\nDisallow: /\n", "", all},
		{"query matched", 200, "User-agent: *\nDisallow: /q?x=\n", "",
			[]string{"/", "/a", "/b", "/private/ok", "/private/no"}},
		{"wildcard and end anchor", 200, "User-agent: *\nDisallow: /*/no$\n", "",
			[]string{"/", "/a", "/b", "/private/ok", "/q?x=1"}},
		{"stray line before any group does not void the file", 200, "Disallow: /b\nUser-agent: *\nDisallow: /a\n", "",
			[]string{"/", "/b", "/private/ok", "/private/no", "/q?x=1"}},
		{"empty file allows all", 200, "", "", all},
		{"404 allows all", 404, "User-agent: *\nDisallow: /\n", "", all},
		{"403 allows all", 403, "", "", all},
		{"500 disallows all", 500, "", "", nil},
		{"503 disallows all", 503, "", "", nil},
		{"429 disallows all", 429, "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := robotsSite(t, tc.status, tc.body)
			sc := sessionConfig()
			sc.UserAgent = tc.agent
			r := crawlSession(t, Config{Workers: 16}, sc, s.URL+"/")
			wantRobots := 1
			if tc.status == 429 || tc.status >= 500 {
				wantRobots = 1 + DefaultRetries // transient: retried, then disallow all
			}
			if n := s.count("/robots.txt"); n != wantRobots {
				t.Errorf("robots.txt fetched %d times, want %d", n, wantRobots)
			}
			hits := s.pageHits()
			want := map[string]bool{}
			for _, p := range tc.fetched {
				want[p] = true
				if hits[p] != 1 {
					t.Errorf("%s fetched %d times, want 1", p, hits[p])
				}
			}
			for p := range hits {
				if !want[p] {
					t.Errorf("%s fetched; robots.txt forbids it", p)
				}
			}
			// Every URL seen has a record; the disallowed ones say robots.
			recs := r.col.byURL(t)
			for u, rec := range recs {
				p := strings.TrimPrefix(u, s.URL)
				if want[p] {
					if rec.Error != "" || rec.Status != 200 {
						t.Errorf("%s: status %d error %q", p, rec.Status, rec.Error)
					}
				} else if !strings.Contains(rec.Error, "robots: disallowed") {
					t.Errorf("%s: error %q, want a robots error", p, rec.Error)
				}
			}
			if len(tc.fetched) > 0 && len(recs) != len(all) {
				t.Errorf("%d records, want %d", len(recs), len(all))
			}
			if len(tc.fetched) == 0 && len(recs) != 1 {
				t.Errorf("%d records, want 1 (the seed, refused)", len(recs))
			}
			if st := r.c.Stats(); st.RobotsDenied != int64(len(recs)-len(tc.fetched)) {
				t.Errorf("Stats.RobotsDenied %d, want %d", st.RobotsDenied, len(recs)-len(tc.fetched))
			}
		})
	}
}

// TestRobotsUnreachable: a host whose robots.txt cannot be fetched is
// disallowed (RFC 9309), and the record says why.
func TestRobotsUnreachable(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	u := dead.URL
	dead.Close()
	r := crawl(t, Config{Retries: -1}, u+"/page")
	recs := r.col.records()
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	if e := recs[0].Error; !strings.Contains(e, "robots: disallowed") || !strings.Contains(e, "unreachable") {
		t.Errorf("error %q, want robots disallowed … unreachable", e)
	}
}

// TestRobotsOff: IgnoreRobots never asks for robots.txt.
func TestRobotsOff(t *testing.T) {
	s := robotsSite(t, 200, "User-agent: *\nDisallow: /\n")
	crawl(t, Config{IgnoreRobots: true}, s.URL+"/")
	if n := s.count("/robots.txt"); n != 0 {
		t.Errorf("robots.txt fetched %d times", n)
	}
	if n := len(s.pageHits()); n != 6 {
		t.Errorf("%d pages fetched, want 6", n)
	}
}

// TestRobotsFetchedOnceUnderLoad: many workers hitting a new host at once
// wait for one robots.txt fetch.
func TestRobotsFetchedOnceUnderLoad(t *testing.T) {
	s := newSite(t, nil)
	s.handle = func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			time.Sleep(50 * time.Millisecond) // a slow robots.txt
			_, _ = w.Write([]byte("User-agent: *\nDisallow: /x\n"))
			return
		}
		html(w)
	}
	var seeds []string
	for i := range 50 {
		seeds = append(seeds, s.URL+"/p"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	r := crawl(t, Config{Workers: 50, PerHost: 50}, seeds...)
	if n := s.count("/robots.txt"); n != 1 {
		t.Errorf("robots.txt fetched %d times, want 1", n)
	}
	if n := len(r.col.records()); n != 50 {
		t.Errorf("%d records, want 50", n)
	}
}

func TestParseRobotsCaps(t *testing.T) {
	c := &Crawler{s: &settings{robotsAgent: "trawl", Config: Config{MaxCrawlDelay: time.Second}}, log: discardLogger()}
	t.Run("crawl-delay capped", func(t *testing.T) {
		r := c.parseRobots("u", 200, []byte("User-agent: *\nCrawl-delay: 3600\n"))
		if r.crawlDelay != time.Second {
			t.Errorf("crawl delay %v, want the 1s cap", r.crawlDelay)
		}
	})
	t.Run("body beyond 500 KiB ignored", func(t *testing.T) {
		body := "User-agent: *\n" + strings.Repeat("# filler\n", MaxRobotsSize/9+10) + "Disallow: /late\n"
		r := c.parseRobots("u", 200, []byte(body))
		if !r.allowed("/late") {
			t.Error("a rule after 500 KiB was applied")
		}
	})
	t.Run("errRobots names the path", func(t *testing.T) {
		r := c.parseRobots("http://h/robots.txt", 200, []byte("User-agent: *\nDisallow: /\n"))
		err := errRobots(r, "/x")
		if !errors.Is(err, ErrRobots) || !strings.Contains(err.Error(), "/x") {
			t.Errorf("err %v", err)
		}
	})
}

// FuzzRobots: any robots.txt body parses without panicking, and the rules
// answer for any path.
func FuzzRobots(f *testing.F) {
	f.Add([]byte("User-agent: *\nDisallow: /a\nAllow: /a/b\nCrawl-delay: 2\nSitemap: /s.xml\n"), "/a/b")
	f.Add([]byte("Disallow: /\nuser-agent: trawl\ncrawl-delay: x\n"), "/")
	f.Add([]byte("User-agent: *\nDisallow: /*$\n\x00\xff"), "/q?x=1")
	c := &Crawler{s: &settings{robotsAgent: "trawl", Config: Config{MaxCrawlDelay: time.Minute}}, log: discardLogger()}
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		r := c.parseRobots("http://h/robots.txt", 200, body)
		_ = r.allowed(path)
		if r.crawlDelay < 0 || r.crawlDelay > time.Minute {
			t.Fatalf("crawl delay %v out of [0, cap]", r.crawlDelay)
		}
	})
}

// TestUserAgent: the session is the one home of the User-Agent. Pages,
// robots.txt and sitemaps are fetched with the session's agent, whether
// it is set by session.Config.UserAgent or by a User-Agent default header,
// and robots.txt's group is chosen by that agent's product token. (Before
// the fix, the crawler's own "trawl/1.0" replaced it on every request.)
func TestUserAgent(t *testing.T) {
	for _, tc := range []struct {
		name string
		sc   session.Config
		want string
	}{
		{"default", session.Config{}, session.DefaultUserAgent},
		{"UserAgent", session.Config{UserAgent: "MyBot/2.0 (+https://example.com/bot)"}, "MyBot/2.0 (+https://example.com/bot)"},
		{"Header", session.Config{Header: http.Header{"User-Agent": {"MyBot/3"}}}, "MyBot/3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			seen := map[string]string{}
			s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen[r.URL.Path] = r.UserAgent()
				mu.Unlock()
				self := "http://" + r.Host
				switch r.URL.Path {
				case "/robots.txt":
					fmt.Fprintf(w, "User-agent: mybot\nDisallow: /no-mybot\n\nUser-agent: *\nDisallow: /no-others\n\nSitemap: %s/sm.xml\n", self)
				case "/sm.xml":
					fmt.Fprintf(w, `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>%s/from-sitemap</loc></url></urlset>`, self)
				case "/":
					html(w, "/no-mybot", "/no-others")
				case "/from-sitemap", "/no-mybot", "/no-others":
					html(w)
				default:
					http.NotFound(w, r)
				}
			})
			sc := tc.sc
			sc.Timeouts = sessionConfig().Timeouts
			crawlSession(t, Config{Sitemaps: true}, sc, s.URL+"/")
			mu.Lock()
			defer mu.Unlock()
			for _, p := range []string{"/robots.txt", "/", "/sm.xml", "/sitemap.xml", "/from-sitemap"} {
				if seen[p] != tc.want {
					t.Errorf("%s fetched with User-Agent %q, want %q", p, seen[p], tc.want)
				}
			}
			_, gotMine := seen["/no-mybot"]
			_, gotOthers := seen["/no-others"]
			if mine := strings.HasPrefix(tc.want, "MyBot"); gotMine == mine || gotOthers != mine {
				t.Errorf("fetched /no-mybot %v, /no-others %v: the robots group is not the agent's", gotMine, gotOthers)
			}
		})
	}
}
