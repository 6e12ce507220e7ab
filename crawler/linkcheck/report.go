package linkcheck

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trawlhq/trawl/crawler"
)

// Report is the outcome of a check.
type Report struct {
	// Targets are every target found, sorted by URL.
	Targets []*Target
	// Pages are the pages the crawl fetched, in the order it recorded them.
	Pages []PageInfo
	// Stats are the checker's counts at the end; Crawl the crawler's.
	Stats Stats
	Crawl crawler.Stats
	// Started is when Run started; Elapsed how long it ran.
	Started time.Time
	Elapsed time.Duration
	// Interrupted is set when Run's context ended before the check did.
	Interrupted bool
}

// Broken returns the broken targets, sorted by URL.
func (r *Report) Broken() []*Target {
	var out []*Target
	for _, t := range r.Targets {
		if t.Broken() {
			out = append(out, t)
		}
	}
	return out
}

// Skipped returns the targets not checked, sorted by URL.
func (r *Report) Skipped() []*Target {
	var out []*Target
	for _, t := range r.Targets {
		if t.Skipped != "" {
			out = append(out, t)
		}
	}
	return out
}

// listed returns what the writers list: broken and skipped targets, or
// every target with all.
func (r *Report) listed(all bool) []*Target {
	if all {
		return r.Targets
	}
	var out []*Target
	for _, t := range r.Targets {
		if !t.OK {
			out = append(out, t)
		}
	}
	return out
}

// MarshalJSON writes a target as the JSON object of trawl check's jsonl
// output: url, ok, status, error, skipped, kind, redirects (never null) and
// sources (never null), in that order.
func (t *Target) MarshalJSON() ([]byte, error) {
	type source Source
	v := struct {
		URL       string   `json:"url"`
		OK        bool     `json:"ok"`
		Status    int      `json:"status"`
		Error     string   `json:"error"`
		Skipped   string   `json:"skipped"`
		Kind      Kind     `json:"kind"`
		Redirects []string `json:"redirects"`
		Sources   []source `json:"sources"`
	}{URL: t.URL, OK: t.OK, Status: t.Status, Error: t.Error, Skipped: t.Skipped, Kind: t.Kind,
		Redirects: t.Redirects, Sources: make([]source, len(t.Sources))}
	if v.Redirects == nil {
		v.Redirects = []string{}
	}
	for i, s := range t.Sources {
		v.Sources[i] = source(s)
	}
	return json.Marshal(v)
}

// WriteJSONL writes one JSON object per target (see Target.MarshalJSON):
// the broken and skipped ones, or every target with all.
func WriteJSONL(w io.Writer, r *Report, all bool) error {
	bw := bufio.NewWriter(w)
	for _, t := range r.listed(all) {
		b, err := t.MarshalJSON()
		if err != nil {
			return err
		}
		bw.Write(b)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// problem is one reference to a broken or skipped target, seen from the
// page that holds it.
type problem struct {
	src Source
	t   *Target
}

// byPage groups the references to the listed targets by the page holding
// them, pages sorted, references by line.
func byPage(ts []*Target) (pages []string, probs map[string][]problem) {
	probs = map[string][]problem{}
	for _, t := range ts {
		for _, s := range t.Sources {
			if _, ok := probs[s.Page]; !ok {
				pages = append(pages, s.Page)
			}
			probs[s.Page] = append(probs[s.Page], problem{s, t})
		}
	}
	sort.Strings(pages)
	for _, p := range pages {
		ps := probs[p]
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].src.Line < ps[j].src.Line })
	}
	return pages, probs
}

// outcome is a target's outcome in a few words: "404", "error: ...",
// "skipped: ...", "ok".
func (t *Target) outcome() string {
	switch {
	case t.Skipped != "":
		return "skipped: " + t.Skipped
	case t.OK:
		return "ok"
	case t.Status >= 400 && t.Error == "status "+strconv.Itoa(t.Status):
		return strconv.Itoa(t.Status)
	}
	return t.Error
}

// WriteText writes the human summary: for each page, what it references
// that is broken (then skipped), with the line, element and link text;
// then targets without sources (broken seeds); then the totals.
func WriteText(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	broken, skipped := r.Broken(), r.Skipped()
	for _, sec := range []struct {
		title string
		ts    []*Target
	}{{"Broken", broken}, {"Skipped", skipped}} {
		if len(sec.ts) == 0 {
			continue
		}
		pages, probs := byPage(sec.ts)
		fmt.Fprintf(bw, "%s (%d):\n", sec.title, len(sec.ts))
		for _, p := range pages {
			fmt.Fprintf(bw, "\n%s\n", p)
			for _, pr := range probs[p] {
				text := ""
				if pr.src.Text != "" {
					text = " " + strconv.Quote(pr.src.Text)
				}
				fmt.Fprintf(bw, "  line %d  <%s %s>%s  %s  %s\n", pr.src.Line, pr.src.Tag, pr.src.Attr, text, pr.t.URL, pr.t.outcome())
			}
		}
		var more, orphans []*Target
		for _, t := range sec.ts {
			if t.MoreSources > 0 {
				more = append(more, t)
			}
			if len(t.Sources) == 0 {
				orphans = append(orphans, t)
			}
		}
		for _, t := range more {
			fmt.Fprintf(bw, "\n%s is referenced %d more times (not listed)\n", t.URL, t.MoreSources)
		}
		if len(orphans) > 0 {
			fmt.Fprintf(bw, "\n(seeds and other URLs no page links to)\n")
			for _, t := range orphans {
				fmt.Fprintf(bw, "  %s  %s\n", t.URL, t.outcome())
			}
		}
		fmt.Fprintln(bw)
	}
	fmt.Fprintln(bw, r.Summary())
	return bw.Flush()
}

// Summary is the one-line totals of the report.
func (r *Report) Summary() string {
	word := "done"
	if r.Interrupted {
		word = "interrupted"
	}
	var refs int
	for _, t := range r.Targets {
		refs += t.References()
	}
	return fmt.Sprintf("check %s: %d pages, %d targets (%d references), %d broken, %d skipped, in %s",
		word, len(r.Pages), len(r.Targets), refs, len(r.Broken()), len(r.Skipped()), r.Elapsed.Round(time.Millisecond))
}

// JUnit XML, as CI systems read it.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitFailure `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the report as JUnit XML: one test suite, one test case
// per target (broken and skipped ones, or every target with all), a broken
// target a failure listing its sources.
func WriteJUnit(w io.Writer, r *Report, all bool) error {
	s := junitSuite{Name: "trawl check", Time: fmt.Sprintf("%.3f", r.Elapsed.Seconds())}
	for _, t := range r.listed(all) {
		jc := junitCase{Name: t.URL, Classname: "trawl.check." + string(t.Kind), Time: fmt.Sprintf("%.3f", t.Elapsed.Seconds())}
		var b strings.Builder
		for _, src := range t.Sources {
			fmt.Fprintf(&b, "%s line %d <%s %s>", src.Page, src.Line, src.Tag, src.Attr)
			if src.Text != "" {
				fmt.Fprintf(&b, " %q", src.Text)
			}
			b.WriteByte('\n')
		}
		if t.MoreSources > 0 {
			fmt.Fprintf(&b, "and %d more references\n", t.MoreSources)
		}
		switch {
		case t.Skipped != "":
			jc.Skipped = &junitFailure{Message: t.Skipped, Text: b.String()}
			s.Skipped++
		case !t.OK:
			jc.Failure = &junitFailure{Message: t.outcome(), Text: b.String()}
			s.Failures++
		}
		s.Cases = append(s.Cases, jc)
	}
	s.Tests = len(s.Cases)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{s}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
