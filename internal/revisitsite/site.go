// Package revisitsite is a synthetic web site that changes on command, for
// tests and benchmarks of recrawling: every page has a version, validators
// (ETag, Last-Modified) that follow it, caching headers, and a server that
// answers conditional requests by the rules of RFC 9110 §13.
//
// The site has a home page "/" and N pages, "/p/0.html" … by default, each
// with a title ("Page p/12"), about 20 links to other pages chosen
// deterministically from the seed (plus a "Next" link, so that every page
// is reachable from "/"), and a body of about 16 KiB that depends only on
// the page and its version. Change and ChangeFraction bump versions (new
// body, new ETag, new Last-Modified); Remove makes a page answer 404 or
// 410; AddPage adds a page linked from an existing one (which changes that
// one too). /sitemap.xml lists every live page with its <lastmod>, and
// /robots.txt allows everything and names the sitemap.
//
// Sections give parts of the site different validators and caching
// headers: with Config.Sections of {Prefix: "/etag/", Validators:
// StrongETag} and {Prefix: "/lm/", Validators: LastModified}, pages are
// "/etag/0.html" … and "/lm/0.html" …, linked across sections.
//
// A Site counts what it serves (Stats): requests, 200s, 304s, conditional
// requests, body bytes, and the set of paths answered 200 with a body
// since the last Reset, so that a test can assert that a recrawl fetched
// exactly the bodies that changed. The same counters and operations are
// served under /__ (GET /__stats, POST /__reset, /__change, /__remove,
// /__add; see ServeHTTP); these requests are not counted.
//
// Files: site.go holds Config, Site and its operations; cond.go the
// evaluation of preconditions; render.go the pages, sitemap and robots.txt;
// handler.go ServeHTTP and the counters.
package revisitsite

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Validators says which validators a section's pages carry and whether
// the server evaluates conditional requests.
type Validators int

const (
	// ETagAndLastModified: a strong ETag and Last-Modified (the zero value).
	ETagAndLastModified Validators = iota
	// StrongETag: a strong ETag ("…") only.
	StrongETag
	// WeakETag: a weak ETag (W/"…") only.
	WeakETag
	// LastModified: Last-Modified only.
	LastModified
	// NoValidators: neither; If-None-Match: * still matches (the page
	// exists), nothing else does.
	NoValidators
	// IgnoreConditionals: a strong ETag and Last-Modified, but the server
	// never evaluates preconditions: every GET answers 200 with the body.
	IgnoreConditionals
)

var validatorNames = []string{"both", "etag", "weak", "lm", "none", "ignore"}

// String returns the name ParseValidators accepts.
func (v Validators) String() string {
	if v >= 0 && int(v) < len(validatorNames) {
		return validatorNames[v]
	}
	return "validators(" + strconv.Itoa(int(v)) + ")"
}

// ParseValidators parses a name of String: both, etag, weak, lm, none or
// ignore.
func ParseValidators(s string) (Validators, error) {
	if i := slices.Index(validatorNames, s); i >= 0 {
		return Validators(i), nil
	}
	return 0, fmt.Errorf("revisitsite: unknown validators %q (want one of %s)", s, strings.Join(validatorNames, ", "))
}

func (v Validators) etag() bool {
	return v == ETagAndLastModified || v == StrongETag || v == WeakETag || v == IgnoreConditionals
}

func (v Validators) lastModified() bool {
	return v == ETagAndLastModified || v == LastModified || v == IgnoreConditionals
}

// Section is a part of the site: its pages' paths and headers.
type Section struct {
	// Prefix starts the paths of the section's pages, Prefix+"<i>.html";
	// it starts and ends with "/". "" means "/p/".
	Prefix string
	// Pages is the number of pages; zero means DefaultPages.
	Pages int
	// Validators the pages carry; the zero value is ETagAndLastModified.
	Validators Validators
	// CacheControl is the Cache-Control header of 200 and 304 answers
	// ("max-age=3600", "no-cache", "no-store"); "" means none.
	CacheControl string
	// Expires, when not zero, adds Expires: Date + Expires to 200 and 304
	// answers (a negative value gives a date in the past); zero means no
	// Expires header.
	Expires time.Duration
}

// Defaults for the zero values of Config and Section.
const (
	DefaultPages = 100
	DefaultLinks = 20
	DefaultSize  = 16 << 10
)

// Config describes a site. The zero value is a site of DefaultPages pages
// at /p/ with strong ETags and Last-Modified.
type Config struct {
	// Sections of the site, in order; nil means one Section{} (DefaultPages
	// pages at /p/). The home page "/" has the headers of the first.
	Sections []Section
	// Links is the number of pseudo-random links per page (besides "Home"
	// and "Next"); zero means DefaultLinks, negative means none.
	Links int
	// Size is the approximate size of a page's body in bytes; zero means
	// DefaultSize.
	Size int
	// Seed selects the links and text; the same seed gives the same site.
	Seed uint64
	// Now is the site's clock (Date, Expires, Last-Modified of changes);
	// nil means time.Now.
	Now func() time.Time
}

// page is one page. Its mutable fields are guarded by Site.mu.
type page struct {
	path    string
	title   string
	sec     int
	links   []int // ids of the pages it links to, "Next" first when there is one
	next    bool  // links[0] is the "Next" link
	version int
	// modified is when the current version appeared; Last-Modified is
	// its second.
	modified time.Time
	gone     int // 0 while live, else the status it answers: 404 or 410
}

// Site is the site's state and its HTTP handler. Its methods are safe for
// concurrent use, also while it serves requests.
type Site struct {
	links, size int
	seed        uint64
	now         func() time.Time
	sections    []Section
	paras       []string

	mu      sync.RWMutex
	pages   []*page // id 0 is "/"
	byPath  map[string]int
	counts  []int // pages per section, added ones included
	initial int   // pages created by New, "/" included

	st stats
}

// New returns the site that c describes.
func New(c Config) (*Site, error) {
	s := &Site{links: c.Links, size: c.Size, seed: c.Seed, now: c.Now, byPath: map[string]int{}}
	if s.links == 0 {
		s.links = DefaultLinks
	} else if s.links < 0 {
		s.links = 0
	}
	if s.size <= 0 {
		s.size = DefaultSize
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.sections = slices.Clone(c.Sections)
	if len(s.sections) == 0 {
		s.sections = []Section{{}}
	}
	seen := map[string]bool{}
	for i := range s.sections {
		sec := &s.sections[i]
		if sec.Prefix == "" {
			sec.Prefix = "/p/"
		}
		if sec.Pages == 0 {
			sec.Pages = DefaultPages
		}
		if !strings.HasPrefix(sec.Prefix, "/") || !strings.HasSuffix(sec.Prefix, "/") || len(sec.Prefix) < 3 ||
			strings.HasPrefix(sec.Prefix, "/__") {
			return nil, fmt.Errorf("revisitsite: section prefix %q must start and end with / and not be / or /__…", sec.Prefix)
		}
		if sec.Pages < 0 {
			return nil, fmt.Errorf("revisitsite: section %s: negative page count %d", sec.Prefix, sec.Pages)
		}
		if sec.Validators < 0 || int(sec.Validators) >= len(validatorNames) {
			return nil, fmt.Errorf("revisitsite: section %s: unknown validators %d", sec.Prefix, sec.Validators)
		}
		if seen[sec.Prefix] {
			return nil, fmt.Errorf("revisitsite: section prefix %q given twice", sec.Prefix)
		}
		seen[sec.Prefix] = true
	}
	s.paras = makeParagraphs(s.seed, 128)
	s.st.paths200 = map[string]struct{}{}
	s.st.changed = map[string]struct{}{}

	// Versions start a day ago, a second apart, so that every page has
	// its own Last-Modified.
	start := s.now().Add(-24 * time.Hour).Truncate(time.Second)
	s.counts = make([]int, len(s.sections))
	s.add(&page{path: "/", title: "Home", modified: start})
	for si, sec := range s.sections {
		for range sec.Pages {
			id := len(s.pages)
			s.add(&page{path: s.pathOf(si, s.counts[si]), sec: si, modified: start.Add(time.Duration(id) * time.Second)})
			s.counts[si]++
		}
	}
	s.initial = len(s.pages)
	for id, p := range s.pages {
		p.title = titleOf(p.path)
		if id+1 < s.initial {
			p.links = append(p.links, id+1)
			p.next = true
		}
		p.links = s.randomLinks(p.links, id)
	}
	return s, nil
}

func (s *Site) add(p *page) int {
	id := len(s.pages)
	s.pages = append(s.pages, p)
	s.byPath[p.path] = id
	return id
}

func (s *Site) pathOf(sec, i int) string {
	return s.sections[sec].Prefix + strconv.Itoa(i) + ".html"
}

// titleOf is a page's title: "Home", or "Page p/12" for /p/12.html.
func titleOf(path string) string {
	if path == "/" {
		return "Home"
	}
	return "Page " + strings.TrimSuffix(strings.TrimPrefix(path, "/"), ".html")
}

// randomLinks appends s.links ids of pages created by New, other than id,
// chosen by the seed.
func (s *Site) randomLinks(dst []int, id int) []int {
	if s.initial < 3 {
		for t := range s.initial {
			if t != id && !slices.Contains(dst, t) {
				dst = append(dst, t)
			}
		}
		return dst
	}
	r := newRNG(s.seed, uint64(id), 0)
	for range s.links {
		t := 1 + r.intn(s.initial-1)
		if t == id {
			t = 0
		}
		dst = append(dst, t)
	}
	return dst
}

// ErrUnknownPath is returned by the operations given a path the site does
// not have.
var ErrUnknownPath = errors.New("revisitsite: unknown path")

// lookupLocked returns the id of path. s.mu is held.
func (s *Site) lookupLocked(path string) (int, error) {
	id, ok := s.byPath[path]
	if !ok {
		return 0, fmt.Errorf("%w %q", ErrUnknownPath, path)
	}
	return id, nil
}

// bumpLocked makes a new version of page id. s.mu is held for writing.
func (s *Site) bumpLocked(id int) {
	p := s.pages[id]
	p.version++
	// The new Last-Modified is now, and always at least a second after
	// the one before (it is sent with one-second resolution): two changes
	// within a second put it slightly in the future.
	p.modified = maxTime(s.now(), p.modified.Truncate(time.Second).Add(time.Second))
	s.st.markChanged(p.path)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Change makes a new version of each page given by path ("/" or a page
// path): new body, new ETag, new Last-Modified. It changes nothing and
// returns an error wrapping ErrUnknownPath if one path is unknown, or an
// error if one is removed.
func (s *Site) Change(paths ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int, 0, len(paths))
	for _, path := range paths {
		id, err := s.lookupLocked(path)
		if err != nil {
			return err
		}
		if s.pages[id].gone != 0 {
			return fmt.Errorf("revisitsite: %s is removed", path)
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		s.bumpLocked(id)
	}
	return nil
}

// ChangeFraction changes round(f × n) of the n live pages other than "/",
// chosen by seed (the same seed on the same site chooses the same pages),
// and returns their paths, sorted. f is clamped to [0, 1].
func (s *Site) ChangeFraction(f float64, seed uint64) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var live []int
	for id, p := range s.pages[1:] {
		if p.gone == 0 {
			live = append(live, id+1)
		}
	}
	if math.IsNaN(f) {
		f = 0
	}
	n := int(math.Round(min(1, max(0, f)) * float64(len(live))))
	r := newRNG(seed, math.MaxUint64, 1)
	paths := make([]string, 0, n)
	for i := range n { // a partial Fisher–Yates shuffle
		j := i + r.intn(len(live)-i)
		live[i], live[j] = live[j], live[i]
		s.bumpLocked(live[i])
		paths = append(paths, s.pages[live[i]].path)
	}
	slices.Sort(paths)
	return paths
}

// Remove makes the page at path answer status, 404 or 410, from now on;
// links to it stay. "/" cannot be removed.
func (s *Site) Remove(path string, status int) error {
	if status != 404 && status != 410 {
		return fmt.Errorf("revisitsite: remove %s: status %d is not 404 or 410", path, status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.lookupLocked(path)
	if err != nil {
		return err
	}
	if id == 0 {
		return errors.New("revisitsite: the home page cannot be removed")
	}
	s.pages[id].gone = status
	return nil
}

// AddPage adds a page to the section of the page at from ("/" adds to the
// first section), links it from that page, which changes (a new version),
// and returns the new page's path. The new page links to pages chosen by
// the seed like the others.
func (s *Site) AddPage(from string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fid, err := s.lookupLocked(from)
	if err != nil {
		return "", err
	}
	parent := s.pages[fid]
	if parent.gone != 0 {
		return "", fmt.Errorf("revisitsite: %s is removed", from)
	}
	sec := parent.sec
	np := &page{path: s.pathOf(sec, s.counts[sec]), sec: sec, modified: s.now()}
	np.title = titleOf(np.path)
	s.counts[sec]++
	id := s.add(np)
	np.links = s.randomLinks(nil, id)
	// Copy on write: a render in progress may hold the old slice.
	parent.links = append(slices.Clip(parent.links), id)
	s.bumpLocked(fid)
	s.st.markChanged(np.path)
	return np.path, nil
}

// PageInfo is what the site serves at a path now.
type PageInfo struct {
	Path  string
	Title string
	// Version counts the changes of the page, from 0.
	Version int
	// Status is 200, or 404 or 410 for a removed page.
	Status int
	// ETag and LastModified are the header values a 200 carries now; ""
	// when the page's section sends none.
	ETag, LastModified string
	// Modified is when the current version appeared.
	Modified time.Time
	// Links are the paths the page links to, "Home" and duplicates
	// excluded, in the order of the body.
	Links []string
	// Validators and CacheControl are the page's section's.
	Validators   Validators
	CacheControl string
}

// Page returns what the site serves at path.
func (s *Site) Page(path string) (PageInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.byPath[path]
	if !ok {
		return PageInfo{}, false
	}
	p := s.pages[id]
	sec := s.sections[p.sec]
	info := PageInfo{Path: p.path, Title: p.title, Version: p.version, Status: 200, Modified: p.modified,
		Validators: sec.Validators, CacheControl: sec.CacheControl}
	if p.gone != 0 {
		info.Status = p.gone
	}
	v := s.validatorsLocked(id)
	info.ETag, info.LastModified = v.etag, v.lastModified
	seen := map[int]bool{0: true}
	for _, t := range p.links {
		if !seen[t] {
			seen[t] = true
			info.Links = append(info.Links, s.pages[t].path)
		}
	}
	return info, true
}

// Paths returns the paths of every page, "/" first, removed ones too, in
// order of creation.
func (s *Site) Paths() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, len(s.pages))
	for i, p := range s.pages {
		out[i] = p.path
	}
	return out
}

// pageValidators are the validator header values of a page ("" for none)
// and its modification time (zero when it sends no Last-Modified).
type pageValidators struct {
	etag, lastModified string
	modified           time.Time
}

// validatorsLocked returns page id's validators. s.mu is held.
func (s *Site) validatorsLocked(id int) pageValidators {
	p := s.pages[id]
	mode := s.sections[p.sec].Validators
	var v pageValidators
	if mode.etag() {
		v.etag = `"` + strconv.FormatUint(mix(s.seed, uint64(id), uint64(p.version)), 36) + `"`
		if mode == WeakETag {
			v.etag = "W/" + v.etag
		}
	}
	if mode.lastModified() {
		v.modified = p.modified
		v.lastModified = p.modified.UTC().Format(http1TimeFormat)
	}
	return v
}

// http1TimeFormat is IMF-fixdate (http.TimeFormat).
const http1TimeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"
