package linkcheck

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// Defaults used when a Config field is zero.
const (
	// DefaultMaxSources is how many sources a target lists; the references
	// beyond are counted (Target.MoreSources).
	DefaultMaxSources = 100
)

// Config configures a Checker. The zero value checks the site of the seeds
// with the crawler's defaults, fragments included, every source up to
// DefaultMaxSources.
type Config struct {
	// Crawl configures the crawl of the site: scope, depth, politeness,
	// robots.txt, retries. The checker follows the same rules for what it
	// checks: its requests go through the same session, obey robots.txt
	// (unless IgnoreRobots) and are retried by the crawl's rules (Retries,
	// Retry-After); Exclude also keeps URLs from being checked; PerHost,
	// Delay and Rate limit every checked host. Crawl.Stages run before the
	// checker's own stage (a logger, say). (The checks of a host the crawl
	// fetches too come on top of the crawl's PerHost; a session whose
	// ConnectorConfig.LimitPerHost is PerHost bounds both together.)
	Crawl crawler.Config
	// Checkers is the number of goroutines checking the targets the crawl
	// does not fetch. Zero means Crawl.Workers (or crawler.DefaultWorkers).
	Checkers int
	// Accept lists statuses (403, 999, ...) that count as OK. Nil means
	// none: every status from 400 up is broken.
	Accept []int
	// NoFragments turns fragment checks off. False checks that a link's
	// fragment names an element of the page it points to.
	NoFragments bool
	// MaxSources caps the sources listed per target (the others are only
	// counted). Zero means DefaultMaxSources; negative means no cap.
	MaxSources int
	// KeepOKSources keeps the sources of the targets found OK, to list
	// them (as trawl check --all --format jsonl does). False keeps only
	// their count (Target.MoreSources): memory then holds the sources of
	// the broken, skipped and unchecked targets only.
	KeepOKSources bool
}

// Kind says what a target is.
type Kind string

// Kinds of targets.
const (
	KindPage     Kind = "page"     // a page of the site, fetched by the crawl
	KindLink     Kind = "link"     // a link the crawl does not fetch (off-site, excluded from the crawl, beyond the depth): checked
	KindAsset    Kind = "asset"    // an embedded resource (image, script, stylesheet, media, object): checked
	KindFragment Kind = "fragment" // a link's #fragment on a page of the site
)

// Source is one reference to a target.
type Source struct {
	Page string `json:"page"` // the page's URL
	Tag  string `json:"tag"`  // the element: a, img, link, script, ...
	Attr string `json:"attr"` // the attribute: href, src, srcset, ...
	Text string `json:"text"` // the link's text (or alt text), whitespace collapsed, at most 100 characters
	Line int    `json:"line"` // 1-based line of the element in the page
}

// Target is one distinct URL the site references (or a URL with a
// fragment), with the outcome of its check.
type Target struct {
	URL       string   // absolute and normalized; with its #fragment for KindFragment
	OK        bool     // checked and fine
	Status    int      // final HTTP status; 0 when there was no response
	Error     string   // why it is broken; "" when it is not
	Skipped   string   // why it was not checked (robots.txt, ...); "" when it was
	Kind      Kind     // page, link, asset or fragment
	Redirects []string // the URLs redirected to, in order, the last one final
	Sources   []Source // the references to it, at most Config.MaxSources
	// MoreSources counts the references beyond Sources.
	MoreSources int
	// Depth is the crawl depth of a page (seeds are 0); -1 for other kinds.
	Depth int
	// Elapsed is how long the fetch (pages) or the last check request took.
	Elapsed time.Duration
}

// Broken reports whether the target was checked and is broken.
func (t *Target) Broken() bool { return !t.OK && t.Skipped == "" }

// References is the number of references to the target, listed or not.
func (t *Target) References() int { return len(t.Sources) + t.MoreSources }

// Stats are the live counts of a check.
type Stats struct {
	Pages    int64 // pages the crawl fetched (records)
	Targets  int64 // distinct targets found
	Checked  int64 // targets with an outcome (pages included)
	Broken   int64 // targets found broken so far
	Skipped  int64 // targets skipped (robots.txt, ...)
	Excluded int64 // references not checked: Exclude, or a scheme that is not http(s)
}

// Checker finds the broken links of a site: a crawl of its pages plus a
// bounded pool of goroutines that checks, once each, every other URL the
// pages reference. Run may be called once; Stats is safe for concurrent
// use at any time.
type Checker struct {
	cfg        Config
	maxSources int
	accept     map[int]bool
	norm       *frontier.Normalizer
	sess       *session.Session
	crawl      *crawler.Crawler
	pool       *pool
	now        func() time.Time

	mu      sync.Mutex
	targets map[string]*entry
	pages   []PageInfo

	docsMu sync.Mutex
	docs   map[uint64]struct{} // fingerprints of the documents scanned

	restored []*entry // targets Restore found waiting for a check

	pagesN, targetsN, checkedN, brokenN, skippedN, excludedN atomic.Int64
}

// PageInfo is what the report keeps of each page the crawl fetched.
type PageInfo struct {
	URL     string
	Depth   int
	Status  int
	Elapsed time.Duration
	Broken  bool // the page itself is broken
}

// state is where a target is in its life.
type state uint8

const (
	stateAwaitPage state = iota // the crawl will fetch it: waiting for its record
	stateQueued                 // handed to the checker pool
	stateDone                   // has its outcome
)

// entry is a target and its bookkeeping. Guarded by Checker.mu.
type entry struct {
	Target
	state   state
	fetched bool      // the outcome is the crawl's record
	html    bool      // a page fetched as HTML
	anchors anchorSet // its ids and names (fragments on), nil when not scanned
	base    *entry    // KindFragment: the page
	frag    string    // KindFragment: the fragment, URL-encoded
}

// New returns a Checker crawling through session s and frontier f, which
// the caller keeps owning. It builds the crawl's pipeline and crawler.
func New(cfg Config, s *session.Session, f frontier.Frontier) (*Checker, error) {
	if s == nil {
		return nil, errors.New("linkcheck: nil session")
	}
	if cfg.Checkers < 0 {
		return nil, fmt.Errorf("linkcheck: config Checkers: %d is negative", cfg.Checkers)
	}
	c := &Checker{cfg: cfg, sess: s, targets: map[string]*entry{}, accept: map[int]bool{}, docs: map[uint64]struct{}{}}
	for _, code := range cfg.Accept {
		if code < 100 || code > 999 {
			return nil, fmt.Errorf("linkcheck: config Accept: %d is not an HTTP status", code)
		}
		c.accept[code] = true
	}
	c.maxSources = cfg.MaxSources
	if c.maxSources == 0 {
		c.maxSources = DefaultMaxSources
	}
	if cfg.Crawl.Normalizer == nil {
		cfg.Crawl.Normalizer = &frontier.Normalizer{}
	}
	c.norm = cfg.Crawl.Normalizer
	c.now = cfg.Crawl.Now
	if c.now == nil {
		c.now = time.Now
	}
	// The crawler builds the pipeline (with its normalizer, robots agent
	// and IgnoreRobots) and closes it when its Run returns.
	ccfg := cfg.Crawl
	ccfg.Stages = append(append([]pipeline.Stage(nil), cfg.Crawl.Stages...), pipeline.Named("linkcheck", stage{c}))
	cr, err := crawler.New(ccfg, s, f, nil)
	if err != nil {
		return nil, err
	}
	c.crawl = cr
	n := cfg.Checkers
	if n == 0 {
		n = cfg.Crawl.Workers
	}
	if n <= 0 {
		n = crawler.DefaultWorkers
	}
	c.pool = newPool(c, n)
	return c, nil
}

// Crawler returns the crawler of the check, for its Stats.
func (c *Checker) Crawler() *crawler.Crawler { return c.crawl }

// Stats returns the live counts.
func (c *Checker) Stats() Stats {
	return Stats{
		Pages: c.pagesN.Load(), Targets: c.targetsN.Load(), Checked: c.checkedN.Load(),
		Broken: c.brokenN.Load(), Skipped: c.skippedN.Load(), Excluded: c.excludedN.Load(),
	}
}

// Run crawls the site of the seeds and checks every reference of its
// pages, then returns the report. Pages reach the report as the crawl
// records them; the other targets are checked by the pool while the crawl
// runs. Targets the crawl was to fetch but did not (it stopped at MaxPages,
// or a persistent frontier had fetched them in an earlier run) are checked
// by the pool at the end.
//
// When ctx is cancelled the crawl stops as crawler.Run does, the checks in
// flight finish, no new check starts, and the report lists the targets not
// checked as skipped ("interrupted"); Run then returns the report and ctx's
// error. A frontier or pipeline failure is returned with a nil report.
func (c *Checker) Run(ctx context.Context, seeds ...string) (*Report, error) {
	start := c.now()
	c.startPool(ctx)
	// Run returns once the pipeline is closed: no stage runs after it.
	if err := c.crawl.Run(ctx, seeds...); err != nil && ctx.Err() == nil {
		c.pool.stop()
		c.pool.finish()
		return nil, err
	}
	return c.finish(ctx, start)
}

// Finish completes a check whose crawl is over without crawling: it
// checks what the restored state left unchecked (targets waiting for a
// check, pages the crawl did not fetch) and returns the report, as Run
// would. It is for a Checker restored from a check whose crawl finished;
// call either Run or Finish, once.
func (c *Checker) Finish(ctx context.Context) (*Report, error) {
	start := c.now()
	c.startPool(ctx)
	return c.finish(ctx, start)
}

// startPool starts the checkers, with the targets Restore found waiting.
func (c *Checker) startPool(ctx context.Context) {
	c.pool.start(ctx)
	c.mu.Lock()
	restored := c.restored
	c.restored = nil
	c.mu.Unlock()
	for _, e := range restored {
		c.pool.add(e)
	}
}

// finish checks what the crawl left, waits for the pool and builds the
// report.
func (c *Checker) finish(ctx context.Context, start time.Time) (*Report, error) {
	if ctx.Err() == nil {
		c.checkUnfetched()
	}
	c.pool.finish()
	rep := c.report(start, ctx.Err() != nil)
	if ctx.Err() != nil {
		return rep, ctx.Err()
	}
	return rep, nil
}

// checkUnfetched hands the targets still waiting for the crawl to the pool.
func (c *Checker) checkUnfetched() {
	var jobs []*entry
	c.mu.Lock()
	for _, e := range c.targets {
		if e.state == stateAwaitPage {
			e.state = stateQueued
			e.Kind = KindLink
			jobs = append(jobs, e)
		}
	}
	c.mu.Unlock()
	for _, e := range jobs {
		c.pool.add(e)
	}
}

// stage is the checker's pipeline stage.
type stage struct{ c *Checker }

// Process records a fetched page and the references it holds.
func (s stage) Process(ctx context.Context, p *pipeline.Page) error {
	s.c.page(p)
	return nil
}

// resolved is a reference with its target.
type resolved struct {
	ref
	key   string // the target's key (its URL)
	frag  string // the URL-encoded fragment when one must be checked
	bad   string // why the href is not a usable URL
	skip  bool   // not checked at all (scheme, Exclude)
	links bool   // the crawl fetches the URL
}

// page handles one record of the crawl.
func (c *Checker) page(p *pipeline.Page) {
	c.pagesN.Add(1)
	var sc scanned
	var refs []resolved
	isHTML := p.IsHTML()
	// The references of a document are taken once, under the URL it came
	// from: a page redirected to another page of the site is that page.
	doc := p.URL
	if p.FinalURL != "" {
		if u, err := c.norm.Normalize(p.FinalURL); err == nil {
			doc = u
		}
	}
	if isHTML && c.firstScan(doc) {
		text, _ := p.Text()
		sc = scanRefs(text)
		refs = c.resolve(p, &sc)
	}
	var anchors anchorSet
	if isHTML && !c.cfg.NoFragments {
		if refs == nil && sc.anchors == nil {
			text, _ := p.Text() // scanned under another URL: scan for the anchors
			sc = scanRefs(text)
		}
		anchors = newAnchorSet(sc.anchors)
	}

	var jobs []*entry
	c.mu.Lock()
	e := c.targets[p.URL]
	if e == nil {
		e = c.newEntry(p.URL, KindPage)
	}
	if !e.fetched {
		// The crawl's outcome wins over a check's: one under way is dropped
		// when it arrives (see checked); one done (a target the crawl
		// fetched after all, in a resumed run) is replaced.
		wasQueued := e.state == stateQueued
		if c.pageOutcome(e, p) && !wasQueued {
			jobs = append(jobs, e)
		}
		e.html, e.anchors = isHTML, anchors
		c.pages = append(c.pages, PageInfo{URL: p.URL, Depth: p.Depth, Status: p.Status, Elapsed: p.Elapsed, Broken: e.state == stateDone && e.Broken()})
	}
	for i := range refs {
		r := &refs[i]
		if r.skip {
			c.excludedN.Add(1)
			continue
		}
		t := c.targets[r.key]
		if t == nil {
			kind := KindLink
			if r.asset {
				kind = KindAsset
			}
			t = c.newEntry(r.key, kind)
			switch {
			case r.bad != "":
				c.done(t, func(t *Target) { t.Error = r.bad })
			case r.links:
				t.Kind = KindPage
				t.state = stateAwaitPage
			default:
				t.state = stateQueued
				jobs = append(jobs, t)
			}
		}
		c.addSource(t, doc, &r.ref)
		if r.frag != "" {
			key := r.key + "#" + r.frag
			f := c.targets[key]
			if f == nil {
				f = c.newEntry(key, KindFragment)
				f.base, f.frag = t, r.frag
				f.state = stateQueued // decided once its page is in
			}
			c.addSource(f, doc, &r.ref)
			if f.state != stateDone && t.fetched {
				c.decideFragment(f)
			}
		}
	}
	c.mu.Unlock()
	for _, j := range jobs {
		c.pool.add(j)
	}
}

// firstScan reports whether the document at u is seen for the first time.
func (c *Checker) firstScan(u string) bool {
	fp := frontier.Fingerprint(u)
	c.docsMu.Lock()
	defer c.docsMu.Unlock()
	if _, ok := c.docs[fp]; ok {
		return false
	}
	c.docs[fp] = struct{}{}
	return true
}

// pageOutcome sets a page's outcome from its record, or reports that the
// crawl could not tell (a redirect out of the scope): the pool checks it.
// c.mu held.
func (c *Checker) pageOutcome(e *entry, p *pipeline.Page) (check bool) {
	e.Kind = KindPage
	e.Depth = p.Depth
	e.Elapsed = p.Elapsed
	if p.Err != nil && (errors.Is(p.Err, crawler.ErrOffScopeRedirect) || errors.Is(p.Err, crawler.ErrOutOfScope)) {
		e.Kind = KindLink
		e.state = stateQueued
		return true
	}
	e.fetched = true
	c.done(e, func(t *Target) {
		t.Status = p.Status
		if p.FinalURL != "" && p.FinalURL != p.URL {
			t.Redirects = []string{p.FinalURL}
		}
		switch {
		case p.Err != nil && errors.Is(p.Err, crawler.ErrRobots):
			t.Skipped = p.Err.Error()
		case p.Err != nil:
			t.Error = p.Err.Error()
		default:
			t.OK, t.Error = c.statusOK(p.Status, p.Header.Get("Location"))
		}
	})
	return false
}

// statusOK decides a final status: below 400 (and not a redirect left
// unfollowed) or accepted is OK.
func (c *Checker) statusOK(status int, location string) (bool, string) {
	switch {
	case c.accept[status]:
		return true, ""
	case status >= 400:
		return false, fmt.Sprintf("status %d", status)
	case status >= 300 && location != "":
		return false, fmt.Sprintf("status %d: redirect to %s not followed (too many redirects)", status, location)
	}
	return true, ""
}

// newEntry adds a target. c.mu held.
func (c *Checker) newEntry(key string, kind Kind) *entry {
	e := &entry{Target: Target{URL: key, Kind: kind, Depth: -1}}
	c.targets[key] = e
	c.targetsN.Add(1)
	return e
}

// addSource adds reference r of page to a target, within the cap. c.mu
// held.
func (c *Checker) addSource(e *entry, page string, r *ref) {
	if (c.maxSources >= 0 && len(e.Sources) >= c.maxSources) || (e.state == stateDone && e.OK && !c.cfg.KeepOKSources) {
		e.MoreSources++
		return
	}
	e.Sources = append(e.Sources, Source{Page: page, Tag: r.tag, Attr: r.attr, Text: clipText(r.text), Line: r.line})
}

// done gives a target its outcome (set by fn) and counts it. c.mu held.
func (c *Checker) done(e *entry, fn func(t *Target)) {
	if e.state == stateDone {
		c.uncount(e)
	}
	e.OK, e.Status, e.Error, e.Skipped, e.Redirects = false, 0, "", "", nil
	fn(&e.Target)
	e.state = stateDone
	if e.OK && !c.cfg.KeepOKSources && e.Sources != nil {
		e.MoreSources += len(e.Sources)
		e.Sources = nil
	}
	c.checkedN.Add(1)
	switch {
	case e.Skipped != "":
		c.skippedN.Add(1)
	case !e.OK:
		c.brokenN.Add(1)
	}
}

// uncount undoes done's counting before an outcome is replaced.
func (c *Checker) uncount(e *entry) {
	c.checkedN.Add(-1)
	switch {
	case e.Skipped != "":
		c.skippedN.Add(-1)
	case !e.OK:
		c.brokenN.Add(-1)
	}
}

// checked records the outcome of a pool check, unless the crawl's record
// of the page came first.
func (c *Checker) checked(e *entry, fn func(t *Target)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.state != stateQueued {
		return
	}
	c.done(e, fn)
}

// resolve turns the scanned references of a page into targets.
func (c *Checker) resolve(p *pipeline.Page, sc *scanned) []resolved {
	loc := p.FinalURL
	if loc == "" {
		loc = p.URL
	}
	doc, err := url.Parse(loc)
	if err != nil || !doc.IsAbs() {
		return nil
	}
	base := doc
	if sc.hasBase {
		if b, err := c.norm.Resolve(doc, sc.base); err == nil {
			if u, err := url.Parse(b); err == nil && u.Host != "" {
				base = u
			}
		}
	}
	out := make([]resolved, 0, len(sc.refs))
	for _, r := range sc.refs {
		h := strings.TrimFunc(r.href, func(c rune) bool { return c <= ' ' })
		if h == "" {
			continue
		}
		res := resolved{ref: r}
		if scheme, ok := schemeOf(h); ok && scheme != "http" && scheme != "https" {
			continue // mailto:, tel:, javascript:, data:, ftp: ... are not checked
		}
		u, err := c.norm.Resolve(base, h)
		if err != nil {
			res.key = h
			res.bad = "invalid URL: " + strings.TrimPrefix(err.Error(), "frontier: ")
			out = append(out, res)
			continue
		}
		res.key = u
		if c.excluded(u) {
			res.skip = true
			out = append(out, res)
			continue
		}
		if !r.asset {
			res.links = c.crawl.Follows(p, pipeline.Link{URL: u, NoFollow: r.nofollow})
			if i := strings.IndexByte(h, '#'); i >= 0 && !c.cfg.NoFragments && (r.tag == "a" || r.tag == "area") {
				f := encodeFragment(h[i+1:])
				if f != "" && !strings.EqualFold(percentDecode(f), "top") {
					res.frag = f
				}
			}
		}
		out = append(out, res)
	}
	return out
}

// excluded reports whether a URL matches one of the crawl's Exclude
// expressions.
func (c *Checker) excluded(u string) bool {
	for _, re := range c.cfg.Crawl.Exclude {
		if re.MatchString(u) {
			return true
		}
	}
	return false
}

// schemeOf returns the lower-case scheme of an href, if it has one.
func schemeOf(h string) (string, bool) {
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case 'a' <= c|0x20 && c|0x20 <= 'z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case c == ':' && i > 0:
			return strings.ToLower(h[:i]), true
		default:
			return "", false
		}
	}
	return "", false
}

// finishFragments decides the fragment targets whose page is in: a
// fragment of a page the crawl fetched as HTML is OK when it indicates a
// part of it. Fragments of other targets (not fetched, not HTML, broken)
// are not checked: they stay pending (a resumed check may fetch the page)
// and stay out of the report. c.mu held.
func (c *Checker) finishFragments() {
	for _, e := range c.targets {
		if e.Kind != KindFragment || e.state == stateDone {
			continue
		}
		c.decideFragment(e)
	}
}

// decideFragment decides a fragment target if its page was fetched as
// HTML and is OK. c.mu held.
func (c *Checker) decideFragment(e *entry) {
	b := e.base
	if !b.fetched || !b.OK || !b.html || b.anchors == nil {
		return
	}
	c.done(e, func(t *Target) {
		t.Status = b.Status
		t.OK = fragmentOK(e.frag, b.anchors)
		if !t.OK {
			t.Error = fmt.Sprintf("no element with id or name %q on the page", percentDecode(e.frag))
		}
	})
}

// report builds the report. Targets without an outcome (the check was
// interrupted) are listed as skipped, but keep waiting in the checker, so
// that a Save after report keeps them to be checked.
func (c *Checker) report(start time.Time, interrupted bool) *Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.finishFragments()
	r := &Report{Started: start, Elapsed: c.now().Sub(start), Interrupted: interrupted, Pages: c.pages}
	r.Stats.Pages = int64(len(c.pages))
	r.Stats.Excluded = c.excludedN.Load()
	for _, e := range c.targets {
		t := e.Target
		if e.state != stateDone {
			if e.Kind == KindFragment {
				continue
			}
			t.OK, t.Skipped = false, "not checked: interrupted"
		}
		r.Targets = append(r.Targets, &t)
		r.Stats.Targets++
		r.Stats.Checked++
		switch {
		case t.Skipped != "":
			r.Stats.Skipped++
		case !t.OK:
			r.Stats.Broken++
		}
	}
	sort.Slice(r.Targets, func(i, j int) bool { return r.Targets[i].URL < r.Targets[j].URL })
	r.Crawl = c.crawl.Stats()
	return r
}
