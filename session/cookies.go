package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/publicsuffix"
)

// recordingJar is a net/http/cookiejar.Jar (with the public suffix list) that also
// remembers what it was given, since cookiejar cannot list its cookies: the record
// is what ExportCookies writes and ImportCookies replays.
type recordingJar struct {
	jar *cookiejar.Jar
	now func() time.Time

	mu      sync.Mutex
	entries map[cookieKey]*storedCookie
}

type cookieKey struct{ domain, path, name string }

// storedCookie is one exported cookie. Expires is absolute; zero means a session
// cookie (kept until the jar goes away).
type storedCookie struct {
	Name     string    `json:"name"`
	Value    string    `json:"value"`
	Domain   string    `json:"domain"`
	HostOnly bool      `json:"host_only"`
	Path     string    `json:"path"`
	Expires  time.Time `json:"expires,omitzero"`
	Secure   bool      `json:"secure,omitempty"`
	HTTPOnly bool      `json:"http_only,omitempty"`
	SameSite string    `json:"same_site,omitempty"`
}

// cookieFile is the JSON document written by ExportCookies.
type cookieFile struct {
	Version int             `json:"version"`
	Cookies []*storedCookie `json:"cookies"`
}

const cookieFileVersion = 1

var _ http.CookieJar = (*recordingJar)(nil)

func newRecordingJar(now func() time.Time) (*recordingJar, error) {
	if now == nil {
		now = time.Now
	}
	jar, err := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
	if err != nil {
		return nil, fmt.Errorf("session: cookie jar: %w", err)
	}
	return &recordingJar{jar: jar, now: now, entries: make(map[cookieKey]*storedCookie)}, nil
}

func (j *recordingJar) Cookies(u *url.URL) []*http.Cookie { return j.jar.Cookies(u) }

func (j *recordingJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	j.jar.SetCookies(u, cookies)
	now := j.now()
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range cookies {
		if c == nil || c.Name == "" {
			continue
		}
		sc := &storedCookie{Name: c.Name, Value: c.Value, Path: c.Path, Secure: c.Secure, HTTPOnly: c.HttpOnly}
		sc.Domain = strings.ToLower(strings.TrimPrefix(c.Domain, "."))
		if sc.Domain == "" {
			sc.Domain = strings.ToLower(u.Hostname())
			sc.HostOnly = true
		}
		if sc.Path == "" || sc.Path[0] != '/' {
			sc.Path = defaultCookiePath(u.Path)
		}
		switch c.SameSite {
		case http.SameSiteLaxMode:
			sc.SameSite = "Lax"
		case http.SameSiteStrictMode:
			sc.SameSite = "Strict"
		case http.SameSiteNoneMode:
			sc.SameSite = "None"
		}
		key := cookieKey{sc.Domain, sc.Path, sc.Name}
		switch {
		case c.MaxAge < 0:
			delete(j.entries, key)
			continue
		case c.MaxAge > 0:
			sc.Expires = now.Add(time.Duration(c.MaxAge) * time.Second).UTC()
		case !c.Expires.IsZero():
			if !c.Expires.After(now) {
				delete(j.entries, key)
				continue
			}
			sc.Expires = c.Expires.UTC()
		}
		j.entries[key] = sc
	}
}

// defaultCookiePath is RFC 6265 section 5.1.4's default-path.
func defaultCookiePath(p string) string {
	i := strings.LastIndexByte(p, '/')
	if p == "" || p[0] != '/' || i <= 0 {
		return "/"
	}
	return p[:i]
}

func (j *recordingJar) export() ([]byte, error) {
	now := j.now()
	f := cookieFile{Version: cookieFileVersion, Cookies: []*storedCookie{}}
	j.mu.Lock()
	for k, c := range j.entries {
		if !c.Expires.IsZero() && !c.Expires.After(now) {
			delete(j.entries, k)
			continue
		}
		cc := *c
		f.Cookies = append(f.Cookies, &cc)
	}
	j.mu.Unlock()
	sort.Slice(f.Cookies, func(a, b int) bool {
		x, y := f.Cookies[a], f.Cookies[b]
		if x.Domain != y.Domain {
			return x.Domain < y.Domain
		}
		if x.Path != y.Path {
			return x.Path < y.Path
		}
		return x.Name < y.Name
	})
	return json.MarshalIndent(f, "", "  ")
}

func (j *recordingJar) load(data []byte) error {
	var f cookieFile
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("session: import cookies: %w", err)
	}
	if f.Version != cookieFileVersion {
		return fmt.Errorf("session: import cookies: unsupported version %d (want %d)", f.Version, cookieFileVersion)
	}
	now := j.now()
	for i, c := range f.Cookies {
		if c == nil {
			return fmt.Errorf("session: import cookies: cookie %d is null", i)
		}
		if c.Name == "" || c.Domain == "" || strings.ContainsAny(c.Domain, "/?#@ ") {
			return fmt.Errorf("session: import cookies: cookie %d (%q): missing name or bad domain %q", i, c.Name, c.Domain)
		}
		if c.Path == "" || c.Path[0] != '/' {
			return fmt.Errorf("session: import cookies: cookie %d (%q): path %q does not start with /", i, c.Name, c.Path)
		}
	}
	for _, c := range f.Cookies {
		if !c.Expires.IsZero() && !c.Expires.After(now) {
			continue
		}
		hc := &http.Cookie{Name: c.Name, Value: c.Value, Path: c.Path, Secure: c.Secure, HttpOnly: c.HTTPOnly, Expires: c.Expires}
		switch c.SameSite {
		case "Lax":
			hc.SameSite = http.SameSiteLaxMode
		case "Strict":
			hc.SameSite = http.SameSiteStrictMode
		case "None":
			hc.SameSite = http.SameSiteNoneMode
		}
		if !c.HostOnly {
			hc.Domain = c.Domain
		}
		scheme := "http"
		if c.Secure {
			scheme = "https"
		}
		j.SetCookies(&url.URL{Scheme: scheme, Host: c.Domain, Path: c.Path}, []*http.Cookie{hc})
	}
	return nil
}

// ErrNoExport is returned by ExportCookies and ImportCookies when cookies are off or
// the jar is a caller's own (Config.CookieJar), which cannot be listed.
var ErrNoExport = errors.New("session: cookie jar cannot be exported (cookies off or custom jar)")

// ExportCookies returns every live cookie of the jar as JSON, to be restored later
// with ImportCookies (a resumed crawl keeps its logins). Expired cookies are left out.
func (s *Session) ExportCookies() ([]byte, error) {
	if s.recJar == nil {
		return nil, ErrNoExport
	}
	return s.recJar.export()
}

// ImportCookies adds the cookies of a document written by ExportCookies to the jar.
// A malformed document is an error and imports nothing.
func (s *Session) ImportCookies(data []byte) error {
	if s.recJar == nil {
		return ErrNoExport
	}
	return s.recJar.load(data)
}
