package pipeline

import (
	"fmt"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/trawlhq/trawl/internal/revisitsite"
)

// FuzzScanFast checks scanFast against scanTokens (the Tokenizer's scan):
// for every document scanFast takes, both find the same links (with tag,
// attribute, rel and text), base, canonical, title and robots directives.
func FuzzScanFast(f *testing.F) {
	for _, s := range []string{
		`<title>A &amp; B</title><a href="/x" rel=nofollow>X <b>y</b></a><area href=/a alt="A &lt;">`,
		`<base href=/b/><link rel="canonical" href="/c"><meta name=robots content="noindex, nofollow">`,
		`<meta http-equiv=Refresh content="0; url=/r"><iframe src=/if>not <a href=/no>markup</a></iframe><frame src=/f>`,
		`<svg><title>no</title></svg><title>yes</title>`,
		`<noscript><a href=/ns>ns</a></noscript><noscript/><a href=/raw>raw</a></noscript>`,
		`<script>var a = "<a href=/s>";</script><style>a{}</style><textarea><a href=/t></textarea>`,
		`<title/><a href=/after-title>x</a></title>`,
		`<a href=/u/>self</a><a href="/q"/>q</a><br a/><p a=/>`,
		`<!-- <a href=/c> --><!--><a href=/x1><!---><a href=/x2><!-- --!><a href=/x3>`,
		`<!DOCTYPE html><?xml?><!bogus><a href=/x4></><a href=/x5></ a><a href=/x6>`,
		`<A HREF=/UP REL=NOFOLLOW>Up</A><a href=/dup href=/second rel=a rel=nofollow>d</a>`,
		`<a href='/sq'>x</a><a href=/amp?a=1&copy=2&amp;b=3>y</a><a =href=/eq>z</a>`,
		"<title>a\r\nb\rc</title><a href=/cr>x\r\ny</a>",
		`<a href=/cut`, `<a href="/open`, `text <`, `text </`, `<a href=/t>t</`,
		`<plaintext><a href=/p>`, `<xmp><a href=/xmp></xmp><noembed><a href=/ne></noembed>`,
		`<a href=/1>one<a href=/2>two</a>`, `<TITLE>T</TITLE ><title>second</title>`,
		`<script><!-- <script> </script> --></script><a href=/after>`,
		`<a b=1 c=2 d=3 e=4 f=5 g=6 h=7 i=8 j=9 B=x rel=nofollow k=/ href=/many REL=x/>t</a>`,
	} {
		f.Add(s)
	}
	f.Add(realPage)
	f.Add(string(benchPage()))
	f.Fuzz(func(t *testing.T, doc string) {
		for _, agent := range []string{"", "trawl"} {
			got, ok := scanFast([]byte(doc), agent)
			if !ok {
				continue
			}
			want := scanTokens([]byte(doc), agent)
			if d := diffScan(got, want); d != "" {
				t.Fatalf("agent %q, doc %q:\n%s", agent, doc, d)
			}
		}
	})
}

func diffScan(got, want scan) string {
	strip := func(s scan) scan {
		for i := range s.links {
			s.links[i].textOff, s.links[i].textEnd = 0, 0
		}
		return s
	}
	got, want = strip(got), strip(want)
	if reflect.DeepEqual(got, want) {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "fast:   %+v\ntokens: %+v", got, want)
	return b.String()
}

// TestScanFastSeeds runs the fuzzer's seeds, and says which ones scanFast
// leaves to the Tokenizer.
func TestScanFastLeaves(t *testing.T) {
	for _, doc := range []string{"a\x00b", `<script>x <!-- y</script>`} {
		if _, ok := scanFast([]byte(doc), ""); ok {
			t.Errorf("%q: scanFast took it", doc)
		}
	}
	for _, doc := range []string{`<script>x</script><!-- c -->`, `<a href=/x>`} {
		if _, ok := scanFast([]byte(doc), ""); !ok {
			t.Errorf("%q: scanFast left it", doc)
		}
	}
}

// BenchmarkScan compares scanFast with the Tokenizer's scan on the
// benchmark page (16 KiB, 20 links).
func BenchmarkScan(b *testing.B) {
	body := benchPage()
	for _, bc := range []struct {
		name string
		scan func([]byte, string) scan
	}{
		{"fast", func(d []byte, a string) scan { s, _ := scanFast(d, a); return s }},
		{"tokenizer", scanTokens},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if s := bc.scan(body, ""); len(s.links) < 20 {
					b.Fatalf("%d links", len(s.links))
				}
			}
		})
	}
}

// TestScanFastPages compares scanFast with the Tokenizer's scan on whole
// pages: the benchmark page, pages of internal/revisitsite, and markup
// real sites have (conditional comments, scripts writing tags, inline SVG,
// entities in every place).
func TestScanFastPages(t *testing.T) {
	docs := map[string]string{"bench": string(benchPage())}
	site, err := revisitsite.New(revisitsite.Config{Sections: []revisitsite.Section{{Pages: 30}}, Size: 8192, Links: 12, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range site.Paths() {
		rec := httptest.NewRecorder()
		site.ServeHTTP(rec, httptest.NewRequest("GET", "http://site.test"+p, nil))
		docs["revisitsite"+p] = rec.Body.String()
	}
	docs["real"] = realPage
	for name, doc := range docs {
		got, ok := scanFast([]byte(doc), "trawl")
		if !ok {
			t.Errorf("%s: scanFast left it to the Tokenizer", name)
			continue
		}
		if d := diffScan(got, scanTokens([]byte(doc), "trawl")); d != "" {
			t.Errorf("%s: %s", name, d)
		}
		if len(got.links) == 0 {
			t.Errorf("%s: no links found", name)
		}
	}
}

// realPage has markup real sites have: conditional comments, a script that
// writes tags, inline SVG with CDATA, entities in every place, raw text
// elements, a multi-line href.
const realPage = `<!DOCTYPE html>
<html><head><!--[if lt IE 9]><script src="/html5shiv.js"></script><![endif]-->
<title>Caf&eacute; &amp; Bar &#8211; Home</title>
<meta name="ROBOTS" content="NOFOLLOW"><base href="https://example.com/dir/">
<link rel="alternate canonical" href="/canon?x=1&amp;y=2">
<script type="text/javascript">document.write('<a href="/js">'); if (a < b && c > d) {} var s = "</scr" + "ipt>";</script>
</head><body class=home>
<a href=/plain>Plain</a> <a href="/q?a=1&b=2&copy=3">Query</a>
<a href='/single' rel='nofollow noopener'>Single</a>
<svg viewBox="0 0 1 1"><title>Icon</title><a href="/in-svg">svg link</a><![CDATA[ <a href="/cdata"> ]]></svg>
<map><area href="/map" alt="Map &gt; area"></map>
<iframe src="/frame">fallback <a href="/no">no</a></iframe>
<textarea><a href="/ta">x</a></textarea>
<noscript><img src="/pixel.gif"><a href="/ns">No JS</a></noscript>
<a href="/multi
line">Multi
   line</a>
<p>1 < 2 and 3 > 2</p><a href="/last">Last &hellip;</a>
</body></html>`
