package robots_test

import (
	"bytes"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/temoto/robotstxt"

	"github.com/trawlhq/trawl/crawler/robots"
)

// TestRFC9309 covers each rule of RFC 9309 §2.2 that trawl's earlier
// matcher (temoto/robotstxt v1.1.2 behind sanitizeRobots) got wrong; every
// "old" case below failed with it.
func TestRFC9309(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		agent string
		path  string
		want  bool
	}{
		// §2.2.2: equally specific Allow and Disallow: Allow wins, whatever the order.
		{"tie allow wins (old)", "User-agent: *\nDisallow: /x/page.html\nAllow: /x/page.html\n", "trawl", "/x/page.html", true},
		{"tie allow wins, allow first", "User-agent: *\nAllow: /x\nDisallow: /x\n", "trawl", "/x", true},
		{"tie of wildcards (old)", "User-agent: *\nDisallow: /*.html\nAllow: /*.html\n", "trawl", "/a.html", true},
		// §2.2.2: specificity is the pattern's octets, not its compiled form.
		{"octets not regexp length (old)", "User-agent: *\nAllow: /x/page.\nDisallow: /*.html\n", "trawl", "/x/page.html", true},
		{"longer wildcard wins", "User-agent: *\nAllow: /page\nDisallow: /*.html\n", "trawl", "/page.html", false},
		// §2.2.2: percent-encoding, both sides in one canonical form.
		{"raw UTF-8 rule, encoded URL (old)", "User-agent: *\nDisallow: /foo/ツ\n", "trawl", "/foo/%E3%83%84", false},
		{"encoded rule, raw UTF-8 URL", "User-agent: *\nDisallow: /foo/%E3%83%84\n", "trawl", "/foo/ツ", false},
		{"lower-case hex", "User-agent: *\nDisallow: /foo/%e3%83%84\n", "trawl", "/foo/%E3%83%84", false},
		{"encoded unreserved rule (old)", "User-agent: *\nDisallow: /foo/bar/%62%61%7A\n", "trawl", "/foo/bar/baz", false},
		{"encoded unreserved URL", "User-agent: *\nDisallow: /foo/bar/baz\n", "trawl", "/foo/%62ar/baz", false},
		{"reserved stays encoded", "User-agent: *\nDisallow: /a/b\n", "trawl", "/a%2Fb", true},
		{"reserved stays encoded in rules", "User-agent: *\nDisallow: /a%2fb\n", "trawl", "/a/b", true},
		{"reserved encoded both sides", "User-agent: *\nDisallow: /a%2fb\n", "trawl", "/a%2Fb", false},
		{"space in a rule", "User-agent: *\nDisallow: /a b\n", "trawl", "/a%20b", false},
		{"stray percent", "User-agent: *\nDisallow: /100%\n", "trawl", "/100%25", false},
		// §2.2 grammar: "#" starts a comment anywhere.
		{"comment after a rule (old)", "User-agent: *\nDisallow: /foo/quz#qux\n", "trawl", "/foo/quz", false},
		{"comment after the agent", "User-agent: trawl # us\nDisallow: /\n", "trawl", "/x", false},
		{"commented-out rule", "User-agent: *\n# Disallow: /\n", "trawl", "/x", true},
		// §2.2.1: the product token is matched exactly, case-insensitively.
		{"agent is not a prefix (old)", "User-agent: Foo\nDisallow: /\n", "FooBot", "/x", true},
		{"agent case-insensitive", "User-agent: FOOBOT\nDisallow: /\n", "foobot", "/x", false},
		{"agent with version", "User-agent: FooBot/2.1\nDisallow: /\n", "foobot", "/x", false},
		{"no token matches no empty token", "User-agent: /x\nDisallow: /\n", "", "/x", true},
		{"empty token takes *", "User-agent: 0\nAllow: /\n\nUser-agent: *\nDisallow: /\n", " ", "/x", false},
		{"our group, not *", "User-agent: *\nDisallow: /\n\nUser-agent: trawl\nDisallow: /private\n", "trawl", "/x", true},
		{"groups combined", "User-agent: trawl\nDisallow: /a\n\nUser-agent: *\nDisallow: /\n\nUser-agent: trawl\nDisallow: /b\n", "trawl", "/b", false},
		// A UTF-8 byte order mark does not hide the first group.
		{"BOM (old)", "\xEF\xBB\xBFUser-agent: *\nDisallow: /\n", "trawl", "/x", false},
		{"partial BOM", "\xEF\xBBUser-agent: *\nDisallow: /\n", "trawl", "/x", false},
		// §2.2.3: "*" and "$".
		{"$ anchors", "User-agent: *\nDisallow: /*.php$\n", "trawl", "/a.php", false},
		{"$ anchors, longer path", "User-agent: *\nDisallow: /*.php$\n", "trawl", "/a.php?x", true},
		{"$ in the middle is literal", "User-agent: *\nDisallow: /a$b\n", "trawl", "/a$b/c", false},
		{"* matches empty", "User-agent: *\nDisallow: /a*b\n", "trawl", "/ab", false},
		{"* backtracks", "User-agent: *\nDisallow: /*a*b$\n", "trawl", "/xaxbxab", false},
		{"query matched", "User-agent: *\nDisallow: /q?x=\n", "trawl", "/q?x=1", false},
		// Bad lines are skipped, not the file.
		{"rule before any group", "Disallow: /b\nUser-agent: *\nDisallow: /a\n", "trawl", "/b", true},
		{"bad crawl-delay", "User-agent: *\nCrawl-delay: soon\nDisallow: /a\n", "trawl", "/a", false},
		{"CR line ends", "User-agent: *\rDisallow: /a\r", "trawl", "/a", false},
		{"missing colon", "User-agent *\nDisallow /a\n", "trawl", "/a", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := robots.Parse([]byte(tc.body)).Group(tc.agent).Allowed(tc.path); got != tc.want {
				t.Errorf("Allowed(%q) = %v, want %v\n%s", tc.path, got, tc.want, tc.body)
			}
		})
	}
}

func TestFromStatus(t *testing.T) {
	body := []byte("User-agent: *\nDisallow: /\n")
	for _, tc := range []struct {
		status  int
		want    bool // "/x" allowed
		unreach bool
	}{
		{200, false, false}, {204, false, false}, {301, true, false}, {401, true, false},
		{403, true, false}, {404, true, false}, {410, true, false}, {429, false, true},
		{500, false, true}, {503, false, true}, {599, false, true}, {100, true, false},
	} {
		r := robots.FromStatus(tc.status, body)
		if got := r.Group("trawl").Allowed("/x"); got != tc.want {
			t.Errorf("status %d: allowed %v, want %v", tc.status, got, tc.want)
		}
		if got := robots.Unreachable(tc.status); got != tc.unreach {
			t.Errorf("Unreachable(%d) = %v", tc.status, got)
		}
		if got := r.Group("trawl").DisallowsAll(); got != tc.unreach {
			t.Errorf("status %d: DisallowsAll %v", tc.status, got)
		}
	}
	if robots.DisallowAll().Group("x").Allowed("/") || !robots.AllowAll().Group("x").Allowed("/") {
		t.Error("DisallowAll or AllowAll wrong")
	}
	var nilRobots *robots.Robots
	if !nilRobots.Group("x").Allowed("/") || nilRobots.Sitemaps() != nil {
		t.Error("a nil *Robots must allow everything")
	}
}

func TestCrawlDelay(t *testing.T) {
	for _, tc := range []struct {
		body string
		want time.Duration
		ok   bool
	}{
		{"User-agent: *\nCrawl-delay: 2\n", 2 * time.Second, true},
		{"User-agent: *\nCrawl-delay: 0.5\n", 500 * time.Millisecond, true},
		{"User-agent: *\ncrawldelay: 3 # slow down\n", 3 * time.Second, true},
		{"User-agent: *\nCrawl-delay: -1\n", 0, false},
		{"User-agent: *\nCrawl-delay: NaN\n", 0, false},
		{"User-agent: *\nCrawl-delay: 1e300\n", math.MaxInt64, true},
		{"User-agent: *\nDisallow: /\n", 0, false},
		{"Crawl-delay: 5\nUser-agent: *\n", 0, false},
		{"User-agent: trawl\nCrawl-delay: 1\n\nUser-agent: trawl\nCrawl-delay: 4\n\nUser-agent: *\nCrawl-delay: 9\n", 4 * time.Second, true},
	} {
		d, ok := robots.Parse([]byte(tc.body)).Group("trawl").CrawlDelay()
		if d != tc.want || ok != tc.ok {
			t.Errorf("%q: CrawlDelay() = %v, %v; want %v, %v", tc.body, d, ok, tc.want, tc.ok)
		}
	}
}

func TestSitemaps(t *testing.T) {
	r := robots.Parse([]byte("Sitemap: https://a/s1.xml\nUser-agent: *\nDisallow: /\nsite-map: https://a/s2.xml # two\nSitemap:\n"))
	if got, want := r.Sitemaps(), []string{"https://a/s1.xml", "https://a/s2.xml"}; !slices.Equal(got, want) {
		t.Errorf("Sitemaps() = %q, want %q", got, want)
	}
}

func TestMaxSize(t *testing.T) {
	body := "User-agent: *\n" + strings.Repeat("# filler\n", robots.MaxSize/9+10) + "Disallow: /late\n"
	if !robots.Parse([]byte(body)).Group("trawl").Allowed("/late") {
		t.Error("a rule after MaxSize was applied")
	}
}

// FuzzMatch compares Group.Allowed with ref, RFC 9309 §2.2.2 written as
// plainly as possible: every rule's pattern as a regular expression, the
// longest matching pattern wins, Allow on ties. Each line of rules is a rule:
// "A" first means Allow, anything else Disallow.
func FuzzMatch(f *testing.F) {
	f.Add("A/x/page.\nD/*.html", "/x/page.html")
	f.Add("D/x\nA/x", "/x")
	f.Add("D/foo/ツ\nA/foo/%E3%83%84/b", "/foo/%e3%83%84/b")
	f.Add("D/%62%61%7A$", "/baz")
	f.Add("D/*a*b$\nA/*b", "/xaxbxab")
	f.Add("A*\nD/a%2fb", "/a%2Fb")
	f.Fuzz(func(t *testing.T, rules, path string) {
		var body strings.Builder
		body.WriteString("User-agent: *\n")
		var rs []refRule
		for _, line := range strings.Split(rules, "\n") {
			if line == "" {
				continue
			}
			allow := line[0] == 'A'
			p := strings.Trim(line[1:], " \t\v\f")
			if p == "" || strings.ContainsAny(p, "#\r\n") {
				continue
			}
			if allow {
				body.WriteString("Allow: ")
			} else {
				body.WriteString("Disallow: ")
			}
			body.WriteString(p + "\n")
			rs = append(rs, refRule{allow, p})
		}
		got := robots.Parse([]byte(body.String())).Group("trawl").Allowed(path)
		if want := refAllowed(rs, path); got != want {
			t.Fatalf("Allowed(%q) = %v, the reference says %v\n%s", path, got, want, body.String())
		}
	})
}

type refRule struct {
	allow   bool
	pattern string
}

func refAllowed(rules []refRule, path string) bool {
	path = refCanon(path)
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	best, allowed := -1, true
	for _, r := range rules {
		p := r.pattern
		if !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "*") {
			p = "/" + p
		}
		p = refCanon(p)
		expr := "(?s)^"
		for i, c := range []byte(p) {
			switch {
			case c == '*':
				expr += ".*"
			case c == '$' && i == len(p)-1:
				expr += "$"
			default:
				expr += regexp.QuoteMeta(string([]byte{c}))
			}
		}
		if !regexp.MustCompile(expr).MatchString(path) {
			continue
		}
		if len(p) > best || (len(p) == best && r.allow) {
			best, allowed = len(p), r.allow
		}
	}
	return allowed
}

// refCanon: percent-encode everything but printable ASCII (and the few
// printable characters URLs never carry raw), decode what encodes an
// unreserved character, upper-case the hex of the rest.
func refCanon(s string) string {
	const hexDigits = "0123456789ABCDEFabcdef"
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && strings.IndexByte(hexDigits, s[i+1]) >= 0 && strings.IndexByte(hexDigits, s[i+2]) >= 0 {
			var v byte
			for _, h := range []byte(strings.ToUpper(s[i+1 : i+3])) {
				v = v<<4 | byte(strings.IndexByte(hexDigits, h))
			}
			i += 2
			if regexp.MustCompile(`^[A-Za-z0-9._~-]$`).MatchString(string([]byte{v})) {
				out = append(out, v)
			} else {
				out = append(out, []byte("%"+strings.ToUpper(hexByte(v)))...)
			}
			continue
		}
		if c > ' ' && c < 0x7F && !strings.ContainsRune("%\"<>\\^`{|}", rune(c)) {
			out = append(out, c)
		} else {
			out = append(out, []byte("%"+hexByte(c))...)
		}
	}
	return string(out)
}

func hexByte(c byte) string {
	const h = "0123456789ABCDEF"
	return string([]byte{h[c>>4], h[c&15]})
}

// FuzzParse: any body parses; the answers do not depend on line endings or
// on a byte order mark; a Crawl-delay is never negative.
func FuzzParse(f *testing.F) {
	f.Add([]byte("User-agent: *\nDisallow: /a\nAllow: /a/b\nCrawl-delay: 2\nSitemap: /s.xml\n"), "trawl", "/a/b")
	f.Add([]byte("Disallow: /\nuser-agent: trawl\ncrawl-delay: x\n"), "trawl", "/")
	f.Add([]byte("User-agent: *\nDisallow: /*$\n\x00\xff"), "x", "/q?x=1")
	f.Add([]byte("\xEF\xBB\xBFUser-agent: a\nUser-agent: b # c\n\nDisallow /\n"), "b", "/")
	f.Fuzz(func(t *testing.T, body []byte, agent, path string) {
		g := robots.Parse(body).Group(agent)
		got := g.Allowed(path)
		if d, ok := g.CrawlDelay(); d < 0 || (!ok && d != 0) {
			t.Fatalf("CrawlDelay() = %v, %v", d, ok)
		}
		if len(body) >= robots.MaxSize {
			return
		}
		crlf := bytes.ReplaceAll(body, []byte("\n"), []byte("\r\n"))
		if len(crlf) <= robots.MaxSize {
			if alt := robots.Parse(crlf).Group(agent).Allowed(path); alt != got {
				t.Fatalf("LF: %v, CR LF: %v", got, alt)
			}
		}
		// A partial BOM at the start is skipped too, so "\xEF" + body is
		// not BOM + "\xEF" + body.
		if len(body) > 0 && body[0] == 0xEF {
			return
		}
		if alt := robots.Parse(append([]byte("\xEF\xBB\xBF"), body...)).Group(agent).Allowed(path); alt != got && len(body)+3 <= robots.MaxSize {
			t.Fatalf("without BOM: %v, with: %v", got, alt)
		}
	})
}

// benchRobots is a robots.txt of 40 rules in two groups, wildcards included.
var benchRobots = func() []byte {
	var b strings.Builder
	b.WriteString("User-agent: googlebot\nDisallow: /nogoogle/\n\nUser-agent: *\nCrawl-delay: 1\n")
	for i := range 10 {
		b.WriteString("Disallow: /private" + string(rune('a'+i)) + "/\n")
		b.WriteString("Allow: /private" + string(rune('a'+i)) + "/public/\n")
		b.WriteString("Disallow: /*.pdf" + string(rune('a'+i)) + "$\n")
		b.WriteString("Disallow: /search*q=" + string(rune('a'+i)) + "\n")
	}
	b.WriteString("Sitemap: https://example.com/sitemap.xml\n")
	return []byte(b.String())
}()

var benchPaths = []string{"/", "/privatea/x", "/privatec/public/y", "/docs/guide.pdfb", "/search?lang=en&q=c", "/p/1234.html", "/assets/app.js?v=3", "/a/very/long/path/to/some/page/that/matches/nothing/index.html"}

// BenchmarkParseMatch: parse once, 1,000 lookups (a host's robots.txt and
// some of its pages).
func BenchmarkParseMatch(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		g := robots.Parse(benchRobots).Group("trawl")
		for i := range 1000 {
			g.Allowed(benchPaths[i%len(benchPaths)])
		}
	}
}

// BenchmarkTemoto: the same with github.com/temoto/robotstxt, which this
// package replaced (see the package doc).
func BenchmarkTemoto(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		d, err := robotstxt.FromBytes(benchRobots)
		if err != nil {
			b.Fatal(err)
		}
		g := d.FindGroup("trawl")
		for i := range 1000 {
			g.Test(benchPaths[i%len(benchPaths)])
		}
	}
}

// BenchmarkAllowed: one lookup in a parsed group.
func BenchmarkAllowed(b *testing.B) {
	g := robots.Parse(benchRobots).Group("trawl")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		g.Allowed(benchPaths[i%len(benchPaths)])
		i++
	}
}
