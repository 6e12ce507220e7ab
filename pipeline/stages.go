package pipeline

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
)

// Selectors is a CSS extraction stage: for every field it selects elements
// of the page's Doc and stores their values in Page.Data[field].
//
// Each field's spec is "css" (the elements' text, trimmed), "css@attr" (the
// attribute's value, trimmed) or "css@abs:attr" (the attribute resolved
// against the page's base URL and normalized, like an extracted link).
// Values are in document order; elements without the attribute, and
// abs: values that are not http(s) URLs, are left out. Every field is set,
// to an empty list when nothing matched, so every record of a crawl has
// the same data keys. Non-HTML pages are passed over untouched.
//
// A Selectors is safe for concurrent use.
type Selectors struct {
	fields []selectorField
}

type selectorField struct {
	name, spec string
	m          goquery.Matcher
	attr       string
	abs        bool
}

var _ Stage = (*Selectors)(nil)

// Select compiles fields (name -> spec, see Selectors). An invalid selector
// is an error naming the field and the selector.
func Select(fields map[string]string) (*Selectors, error) {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	s := &Selectors{}
	for _, n := range names {
		spec := fields[n]
		if strings.TrimSpace(n) == "" {
			return nil, fmt.Errorf("pipeline: select: empty field name for selector %q", spec)
		}
		f := selectorField{name: n, spec: spec}
		css := spec
		if i := strings.LastIndexByte(spec, '@'); i >= 0 && isAttrSpec(spec[i+1:]) {
			css, f.attr = spec[:i], spec[i+1:]
			if a, ok := strings.CutPrefix(f.attr, "abs:"); ok {
				f.attr, f.abs = a, true
			}
			f.attr = strings.ToLower(f.attr)
		}
		if strings.TrimSpace(css) == "" {
			return nil, fmt.Errorf("pipeline: select field %q: empty selector in %q", n, spec)
		}
		m, err := cascadia.Compile(css)
		if err != nil {
			return nil, fmt.Errorf("pipeline: select field %q: invalid selector %q: %w", n, css, err)
		}
		f.m = m
		s.fields = append(s.fields, f)
	}
	return s, nil
}

// isAttrSpec reports whether s, the text after the last '@', is an
// attribute name (optionally "abs:"-prefixed) rather than part of the
// selector (a[href*="@"]).
func isAttrSpec(s string) bool {
	s = strings.TrimPrefix(s, "abs:")
	if s == "" {
		return false
	}
	for _, c := range s {
		if c <= ' ' || strings.ContainsRune(`"'>/=[]()@,`, c) {
			return false
		}
	}
	return true
}

// String names the stage in error messages.
func (s *Selectors) String() string { return "select" }

// Process stores every field's values in p.Data. A page answered 304
// (NotModified) has no body to select from: it keeps the Data the crawler
// restored from the page's last full response.
func (s *Selectors) Process(ctx context.Context, p *Page) error {
	if !p.IsHTML() || len(s.fields) == 0 || p.NotModified {
		return nil
	}
	doc, err := p.Doc()
	if err != nil {
		return err
	}
	if p.Data == nil {
		p.Data = make(map[string][]string, len(s.fields))
	}
	for _, f := range s.fields {
		vals := []string{}
		doc.FindMatcher(f.m).Each(func(_ int, sel *goquery.Selection) {
			if f.attr == "" {
				vals = append(vals, strings.TrimSpace(sel.Text()))
				return
			}
			v, ok := sel.Attr(f.attr)
			if !ok {
				return
			}
			v = strings.TrimSpace(v)
			if f.abs {
				if v = p.absURL(v); v == "" {
					return
				}
			}
			vals = append(vals, v)
		})
		p.Data[f.name] = vals
	}
	return nil
}

// absURL resolves href against the page's base URL with the default
// normalizer; "" when it is not an http(s) URL.
func (p *Page) absURL(href string) string {
	base := p.baseURL()
	if base == nil {
		return ""
	}
	return resolve(p.norm(), base, href)
}

// AbsURL resolves href as a link on this page: against the page's base URL
// (honouring <base href> once Process has run), then normalized with the
// pipeline's normalizer. It returns "" for an href that is not a usable
// http(s) link (javascript:, mailto:, unparsable).
func (p *Page) AbsURL(href string) string { return p.absURL(href) }

// Filter returns a stage that drops every page for which keep returns
// false.
func Filter(keep func(p *Page) bool) Stage {
	return StageFunc(func(_ context.Context, p *Page) error {
		if keep(p) {
			return nil
		}
		return ErrDrop
	})
}

// HTMLFunc is called by an OnHTML stage for each matching element.
type HTMLFunc func(ctx context.Context, p *Page, e *goquery.Selection) error

// htmlStage is the stage returned by OnHTML.
type htmlStage struct {
	selector string
	m        goquery.Matcher
	fn       HTMLFunc
}

// OnHTML returns a stage that calls fn for each element of an HTML page
// matching the CSS selector, in document order; like Colly's OnHTML, but
// a stage fixed when the pipeline is built rather than a callback
// registered on a mutable collector. fn may store what it finds in
// p.Data. The first error fn returns stops the iteration and is the
// stage's error (ErrDrop drops the page). fn may be called concurrently
// for different pages. Non-HTML pages are passed over.
func OnHTML(selector string, fn HTMLFunc) (Stage, error) {
	if fn == nil {
		return nil, fmt.Errorf("pipeline: OnHTML %q: nil func", selector)
	}
	m, err := cascadia.Compile(selector)
	if err != nil {
		return nil, fmt.Errorf("pipeline: OnHTML: invalid selector %q: %w", selector, err)
	}
	return &htmlStage{selector: selector, m: m, fn: fn}, nil
}

// MustOnHTML is OnHTML for selectors known to be valid: it panics on an
// invalid one, like regexp.MustCompile.
func MustOnHTML(selector string, fn HTMLFunc) Stage {
	s, err := OnHTML(selector, fn)
	if err != nil {
		panic(err)
	}
	return s
}

func (h *htmlStage) String() string { return "OnHTML " + h.selector }

func (h *htmlStage) Process(ctx context.Context, p *Page) error {
	if !p.IsHTML() {
		return nil
	}
	doc, err := p.Doc()
	if err != nil {
		return err
	}
	var ferr error
	doc.FindMatcher(h.m).EachWithBreak(func(_ int, sel *goquery.Selection) bool {
		ferr = h.fn(ctx, p, sel)
		return ferr == nil
	})
	return ferr
}
