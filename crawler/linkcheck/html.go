package linkcheck

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var reportTemplate string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms":  func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) },
	"dur": func(d time.Duration) string { return d.Round(time.Millisecond).String() },
}).Parse(reportTemplate))

// WriteHTML writes the report as one self-contained HTML page: totals,
// broken links by target and by page, skipped links, status-code and depth
// charts (inline SVG), redirect chains, the slowest pages and the pages per
// directory. Every table can be sorted (click a heading) and filtered. The
// page loads nothing: its CSS and script are inline, and it links to the
// pages and targets it names without fetching them.
func WriteHTML(w io.Writer, r *Report) error {
	return reportTmpl.Execute(w, newHTMLReport(r))
}

// htmlReport is what the template shows.
type htmlReport struct {
	R          *Report
	Generated  string
	Refs       int
	OK         int
	Broken     []htmlTarget
	ByPage     []htmlRef
	Skipped    []htmlTarget
	Redirects  []htmlTarget
	Slowest    []PageInfo
	Dirs       []bar
	StatusSVG  template.HTML
	DepthSVG   template.HTML
	DirSVG     template.HTML
	KindCounts []bar
}

type htmlTarget struct {
	*Target
	ID      string
	Outcome string
	Pages   []string // distinct pages referencing it, at most 5
	More    int      // pages beyond
}

type htmlRef struct {
	Source
	Target   *Target
	TargetID string
	Outcome  string
}

type bar struct {
	Label string
	N     int
	Class string
}

func newHTMLReport(r *Report) *htmlReport {
	h := &htmlReport{R: r, Generated: r.Started.UTC().Format("2006-01-02 15:04:05 UTC")}
	ids := map[*Target]string{}
	for _, t := range r.Targets {
		h.Refs += t.References()
		if t.OK {
			h.OK++
		}
	}
	for i, t := range r.Broken() {
		ids[t] = "t" + strconv.Itoa(i+1)
		h.Broken = append(h.Broken, newHTMLTarget(t, ids[t]))
	}
	for i, t := range r.Skipped() {
		h.Skipped = append(h.Skipped, newHTMLTarget(t, "s"+strconv.Itoa(i+1)))
	}
	pages, probs := byPage(r.Broken())
	for _, p := range pages {
		for _, pr := range probs[p] {
			h.ByPage = append(h.ByPage, htmlRef{Source: pr.src, Target: pr.t, TargetID: ids[pr.t], Outcome: pr.t.outcome()})
		}
	}
	for i, t := range r.Targets {
		if len(t.Redirects) > 0 {
			h.Redirects = append(h.Redirects, newHTMLTarget(t, "r"+strconv.Itoa(i+1)))
		}
	}

	// Status codes of every target with an outcome (0: no response).
	status := map[int]int{}
	for _, t := range r.Targets {
		if t.Skipped == "" && t.Kind != KindFragment {
			status[t.Status]++
		}
	}
	var sb []bar
	for code, n := range status {
		label, class := strconv.Itoa(code), "ok"
		switch {
		case code == 0:
			label, class = "no response", "bad"
		case code >= 400:
			class = "bad"
		case code >= 300:
			class = "warn"
		}
		sb = append(sb, bar{label, n, class})
	}
	sort.Slice(sb, func(i, j int) bool { return sb[i].Label < sb[j].Label })
	h.StatusSVG = barChart("Targets by HTTP status", sb)

	depth := map[int]int{}
	maxDepth := 0
	for _, p := range r.Pages {
		depth[p.Depth]++
		maxDepth = max(maxDepth, p.Depth)
	}
	var db []bar
	for d := 0; d <= maxDepth && len(r.Pages) > 0; d++ {
		db = append(db, bar{strconv.Itoa(d), depth[d], "ok"})
	}
	h.DepthSVG = barChart("Pages by depth (links from a seed)", db)

	dirs := map[string]int{}
	for _, p := range r.Pages {
		dirs[directory(p.URL)]++
	}
	for d, n := range dirs {
		h.Dirs = append(h.Dirs, bar{d, n, "ok"})
	}
	sort.Slice(h.Dirs, func(i, j int) bool {
		if h.Dirs[i].N != h.Dirs[j].N {
			return h.Dirs[i].N > h.Dirs[j].N
		}
		return h.Dirs[i].Label < h.Dirs[j].Label
	})
	top := h.Dirs
	if len(top) > 15 {
		top = top[:15]
	}
	h.DirSVG = barChart("Pages per directory (largest 15)", top)

	h.Slowest = append([]PageInfo(nil), r.Pages...)
	sort.SliceStable(h.Slowest, func(i, j int) bool { return h.Slowest[i].Elapsed > h.Slowest[j].Elapsed })
	if len(h.Slowest) > 25 {
		h.Slowest = h.Slowest[:25]
	}

	kinds := map[Kind]int{}
	for _, t := range r.Broken() {
		kinds[t.Kind]++
	}
	for _, k := range []Kind{KindPage, KindLink, KindAsset, KindFragment} {
		h.KindCounts = append(h.KindCounts, bar{string(k), kinds[k], ""})
	}
	return h
}

func newHTMLTarget(t *Target, id string) htmlTarget {
	ht := htmlTarget{Target: t, ID: id, Outcome: t.outcome()}
	seen := map[string]bool{}
	for _, s := range t.Sources {
		if seen[s.Page] {
			continue
		}
		seen[s.Page] = true
		if len(ht.Pages) < 5 {
			ht.Pages = append(ht.Pages, s.Page)
		} else {
			ht.More++
		}
	}
	ht.More += t.MoreSources
	return ht
}

// directory is the site and first path segment of a URL ("example.com/docs/").
func directory(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	seg := strings.TrimPrefix(p.EscapedPath(), "/")
	if i := strings.IndexByte(seg, '/'); i >= 0 {
		return p.Host + "/" + seg[:i+1]
	}
	return p.Host + "/"
}

// barChart draws horizontal bars as an inline SVG that scales to its box.
func barChart(title string, bars []bar) template.HTML {
	if len(bars) == 0 {
		return template.HTML(`<p class="muted">No data.</p>`)
	}
	const rowH, labelW, chartW, countW = 30, 150, 300, 60
	maxN := 1
	for _, b := range bars {
		maxN = max(maxN, b.N)
	}
	height := len(bars)*rowH + 8
	var s strings.Builder
	fmt.Fprintf(&s, `<svg class="chart" role="img" aria-label="%s" viewBox="0 0 %d %d" preserveAspectRatio="xMinYMin meet">`,
		template.HTMLEscapeString(title), labelW+chartW+countW, height)
	fmt.Fprintf(&s, `<title>%s</title>`, template.HTMLEscapeString(title))
	for i, b := range bars {
		y := 4 + i*rowH
		w := b.N * chartW / maxN
		if b.N > 0 && w < 2 {
			w = 2
		}
		label := b.Label
		if len(label) > 26 {
			label = "…" + label[len(label)-25:]
		}
		fmt.Fprintf(&s, `<text x="%d" y="%d" text-anchor="end" class="lbl">%s</text>`, labelW-8, y+17, template.HTMLEscapeString(label))
		fmt.Fprintf(&s, `<rect x="%d" y="%d" width="%d" height="%d" rx="3" class="bar %s"><title>%s: %d</title></rect>`,
			labelW, y+3, w, rowH-8, b.Class, template.HTMLEscapeString(b.Label), b.N)
		fmt.Fprintf(&s, `<text x="%d" y="%d" class="num">%d</text>`, labelW+w+6, y+17, b.N)
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}
