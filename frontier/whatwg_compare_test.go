package frontier

import (
	"net"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/idna"

	whatwg "github.com/nlnwa/whatwg-url/url"
)

// TestWPTWhatwgURL evaluates github.com/nlnwa/whatwg-url, the alternative
// to the resolver in normalize.go, on the same in-scope WPT cases, and
// cross-checks the two: where both succeed, Resolve must equal the
// normalized form of whatwg-url's result.
func TestWPTWhatwgURL(t *testing.T) {
	var total, conform, agree int
	for _, c := range loadWPT(t) {
		base, ok := wptScope(c)
		if !ok {
			continue
		}
		total++
		var wu *whatwg.Url
		var err error
		if c.Base != nil {
			wu, err = whatwg.ParseRef(*c.Base, c.Input)
		} else {
			wu, err = whatwg.Parse(c.Input)
		}
		if c.Failure && err != nil || !c.Failure && err == nil && wu.Href(false) == c.Href {
			conform++
		}
		got, gerr := (&Normalizer{}).Resolve(base, c.Input)
		if err != nil || gerr != nil {
			continue
		}
		want, nerr := Normalize(wu.Href(true))
		if nerr != nil {
			continue
		}
		if got != want {
			t.Errorf("input %q: Resolve = %q; normalized whatwg-url = %q", c.Input, got, want)
			continue
		}
		agree++
	}
	t.Logf("whatwg-url: %d of %d in-scope WPT cases conform; agrees with Resolve on %d", conform, total, agree)
}

var benchBase, _ = url.Parse("https://www.example.com/blog/2024/post.html?id=7")

var resolveCases = []struct{ name, href string }{
	{"relative", "../about/team.html"},
	{"root", "/static/app.js?v=3"},
	{"absolute", "https://cdn.example.net/img/logo.png"},
	{"escapes", "/search?q=caf%c3%a9+au+lait&page=%32"},
	{"idna", "https://bücher.example/straße"},
}

// BenchmarkResolve compares Resolve with whatwg-url's ParseRef (plus
// Href) and with net/url's ResolveReference on typical hrefs.
func BenchmarkResolve(b *testing.B) {
	var n Normalizer
	for _, tc := range resolveCases {
		b.Run("trawl/"+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			for range b.N {
				if _, err := n.Resolve(benchBase, tc.href); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	wbase, err := whatwg.Parse(benchBase.String())
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range resolveCases {
		b.Run("whatwg-url/"+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			for range b.N {
				u, err := wbase.Parse(tc.href)
				if err != nil {
					b.Fatal(err)
				}
				_ = u.Href(true)
			}
		})
	}
	for _, tc := range resolveCases {
		b.Run("net-url/"+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			for range b.N {
				r, err := url.Parse(tc.href)
				if err != nil {
					b.Fatal(err)
				}
				_ = benchBase.ResolveReference(r).String()
			}
		})
	}
}

// BenchmarkNormalize measures Normalize on an absolute URL that needs
// work: case, default port, dot segments, escapes.
func BenchmarkNormalize(b *testing.B) {
	b.ReportAllocs()
	defer reportCPU(b)()
	for range b.N {
		if _, err := Normalize("HTTP://WWW.Example.COM:80/a/./b/../c/%7euser/%e2%82%ac?x=%41#frag"); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzResolveWhatwg is a differential test: where both parsers accept an
// href, Normalize and Resolve must equal the normalized result of
// whatwg-url.
func FuzzResolveWhatwg(f *testing.F) {
	fuzzSeeds(f)
	const rawBase = "https://example.com/dir/page.html?q=1"
	base, _ := url.Parse(rawBase)
	wbase, err := whatwg.Parse(rawBase)
	if err != nil {
		f.Fatal(err)
	}
	var n Normalizer
	f.Fuzz(func(t *testing.T, href string) {
		// As an absolute URL.
		if got, err := n.Normalize(href); err == nil {
			wu, err := whatwg.Parse(href)
			if err != nil && (whatwgSTD3(err, got) || whatwgNotIPv4(err, got)) {
				return
			}
			if err != nil {
				t.Fatalf("Normalize(%q) = %q; whatwg-url rejects it: %v", href, got, err)
			}
			if want, err := n.Normalize(wu.Href(true)); err == nil && got != want && !whatwgSignedIPv4(got, want) {
				t.Fatalf("Normalize(%q) = %q; normalized whatwg-url = %q (raw %q)", href, got, want, wu.Href(true))
			}
		}
		// As a link on a page.
		got, err := n.Resolve(base, href)
		if err != nil {
			return
		}
		wu, err := wbase.Parse(href)
		if err != nil && (whatwgSTD3(err, got) || whatwgNotIPv4(err, got)) {
			return
		}
		if err != nil {
			t.Fatalf("Resolve(%q) = %q; whatwg-url rejects it: %v", href, got, err)
		}
		want, err := n.Normalize(wu.Href(true))
		if err != nil {
			return
		}
		if got != want && !whatwgSignedIPv4(got, want) {
			t.Fatalf("Resolve(%q) = %q; normalized whatwg-url = %q (raw %q)", href, got, want, wu.Href(true))
		}
	})
}

// whatwg-url's IDNA profile, and the same with UseSTD3ASCIIRules off.
var (
	whatwgIDNA = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.VerifyDNSLength(false),
		idna.StrictDomainName(true), idna.ValidateLabels(true), idna.CheckHyphens(false),
		idna.CheckJoiners(true), idna.Transitional(false))
	whatwgIDNANoSTD3 = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.VerifyDNSLength(false),
		idna.StrictDomainName(false), idna.ValidateLabels(true), idna.CheckHyphens(false),
		idna.CheckJoiners(true), idna.Transitional(false))
)

// whatwgSTD3 reports whether whatwg-url rejected a URL only because its
// host holds a character UTS #46 calls disallowed_STD3_valid: "≠" once a
// punycode label is decoded (FuzzResolveWhatwg found "http:Xn--1Ch00001A"),
// or "_" beside non-ASCII ("http:ü_"). whatwg-url runs IDNA with
// UseSTD3ASCIIRules=true for such hosts; the WHATWG URL standard's domain to
// ASCII uses beStrict, false for the URL parser, so the host is valid and
// trawl keeps it (whatwg-url itself accepts "≠" and "a_b" written plainly).
func whatwgSTD3(err error, normalized string) bool {
	if !strings.Contains(err.Error(), "idna: ") {
		return false
	}
	u, perr := url.Parse(normalized)
	if perr != nil {
		return false
	}
	if strings.Contains(err.Error(), "disallowed rune U+005F") && strings.Contains(u.Hostname(), "_") {
		// "_" is disallowed_STD3_valid; x/net/idna cannot always say so
		// through the non-STD3 profile (a 2,900-byte punycode label).
		return true
	}
	_, strict := whatwgIDNA.ToASCII(u.Hostname())
	_, loose := whatwgIDNANoSTD3.ToASCII(u.Hostname())
	return strict != nil && loose == nil
}

// whatwgSignedIPv4 reports whether whatwg-url made an IPv4 address (want)
// of a host label with a sign, such as "-0" or "0x-1", which trawl kept as a
// domain (got). whatwg-url parses IPv4 numbers with strconv.ParseInt, which
// takes a sign; the WHATWG IPv4 number parser takes digits only, so such a
// label is no number (found by FuzzResolveWhatwg: "http:-0").
func whatwgSignedIPv4(got, want string) bool {
	w, err := url.Parse(want)
	if err != nil {
		return false
	}
	if ip := net.ParseIP(w.Hostname()); ip == nil || ip.To4() == nil {
		return false
	}
	return hasSignedLabel(got)
}

// whatwgNotIPv4 reports whether whatwg-url rejected a URL as a bad IPv4
// address although, by the WHATWG standard, the last label of its host is
// no number, so the host is a domain: a label with a sign ("http:xn.-0",
// see whatwgSignedIPv4), or digits that overflow before a letter
// ("http:20000000000000000000A": strconv.ParseInt reports the overflow
// first, and whatwg-url takes an overflow for a number).
func whatwgNotIPv4(err error, got string) bool {
	if !strings.Contains(err.Error(), "IPv4") {
		return false
	}
	g, perr := url.Parse(got)
	if perr != nil {
		return false
	}
	labels := strings.Split(g.Hostname(), ".")
	if len(labels) > 1 && labels[len(labels)-1] == "" {
		labels = labels[:len(labels)-1]
	}
	return !specIPv4Number(labels[len(labels)-1])
}

// specIPv4Number reports whether the WHATWG IPv4 number parser accepts s: hex
// after "0x", octal after "0", decimal otherwise, digits only.
func specIPv4Number(s string) bool {
	digits := "0123456789"
	switch {
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		s, digits = s[2:], "0123456789abcdefABCDEF"
	case len(s) >= 2 && s[0] == '0':
		s, digits = s[1:], "01234567"
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(digits, s[i]) < 0 {
			return false
		}
	}
	return true
}

// hasSignedLabel reports whether a label of the URL's host is a number with
// a sign for strconv.ParseInt ("-0", "0x-1", "0+7").
func hasSignedLabel(u string) bool {
	g, err := url.Parse(u)
	if err != nil {
		return false
	}
	for _, label := range strings.Split(g.Hostname(), ".") {
		l := strings.TrimPrefix(strings.TrimPrefix(label, "0x"), "0")
		if strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+") {
			return true
		}
	}
	return false
}

// reportCPU starts measuring CPU time; the returned function reports it per
// op ("cpu-ns/op"), a steadier figure than ns/op on a shared machine.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
