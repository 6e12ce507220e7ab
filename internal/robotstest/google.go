// Package robotstest holds robots.txt test data shared by the tests of
// crawler/robots (the matcher) and cmd/trawl (the same cases through the
// command line): every IsUserAgentAllowed expectation of Google's
// robots.txt parser test suite (robots_test.cc in github.com/google/robotstxt,
// Apache-2.0), written down as data — robots.txt body, user agent, URL,
// expected answer — with trawl's answer where it follows RFC 9309 against
// Google's implementation.
package robotstest

import "strings"

// Case is one expectation.
type Case struct {
	Test   string // the robots_test.cc test it comes from
	Body   string // robots.txt
	Agent  string // the crawler's product token
	URL    string
	Google bool // what Google's parser answers: allowed?
	// RFC, when not empty, says why trawl's answer (RFC 9309) is the
	// opposite of Google's.
	RFC string
	// NoCLI, when not empty, says why the case cannot be run through the
	// command line (it still runs against the matcher).
	NoCLI string
}

// Want is trawl's expected answer.
func (c Case) Want() bool {
	if c.RFC != "" {
		return !c.Google
	}
	return c.Google
}

// Reasons shared by several cases.
const (
	rfcUTF8URL = "RFC 9309 §2.2.2: octets outside US-ASCII are percent-encoded before " +
		"comparison, on the URL's side too, so a raw-UTF-8 URL matches its encoded rule " +
		"(Google leaves encoding the URL to the caller)"
	rfcUnreserved = "RFC 9309 §2.2.2's example table: /foo/bar/%62%61%7A matches /foo/bar/baz " +
		"(percent-encoded unreserved characters are their characters, RFC 3986 §2.3)"
	rfcLineLimit = "GoogleOnly: Google cuts lines at 16,664 bytes; RFC 9309 sets no line limit, " +
		"so the whole rule applies"
	rfcIndexHTML = "GoogleOnly: Google takes a rule ending in /index.html to also match its " +
		"directory; RFC 9309 matches the rule's path only"
	cliEmptyURL   = "an empty URL cannot be crawled"
	cliEmptyAgent = "the CLI always has a product token (trawl's by default)"
	cliSpace      = "a product token has no space: the CLI takes \"foo\" from the user agent \"Foo Bar\""
)

// longLines are the rules of Google's LineTooLong test: "/x/" and a run of
// one letter, as long as Google's 16,664-byte line limit allows after
// "disallow: " (a) or "allow: " (b, c).
var (
	longDisallow = "/x/" + strings.Repeat("a", 16652-3)
	longAllowA   = "/x/" + strings.Repeat("a", 16655-3)
	longAllowB   = "/x/" + strings.Repeat("b", 16655-3)
)

// Google is every IsUserAgentAllowed expectation of robots_test.cc, in
// the order of the file.
var Google = func() []Case {
	var cs []Case
	add := func(test, body, agent, url string, allowed bool, rfc, nocli string) {
		cs = append(cs, Case{Test: test, Body: body, Agent: agent, URL: url, Google: allowed, RFC: rfc, NoCLI: nocli})
	}
	// each adds the expectations of one robots.txt and agent.
	type exp struct {
		url     string
		allowed bool
	}
	each := func(test, body, agent string, es ...exp) {
		for _, e := range es {
			add(test, body, agent, e.url, e.allowed, "", "")
		}
	}

	// GoogleOnly_SystemTest
	{
		const r = "user-agent: FooBot\ndisallow: /\n"
		add("GoogleOnly_SystemTest", "", "FooBot", "", true, "", cliEmptyURL)
		add("GoogleOnly_SystemTest", r, "", "", true, "", cliEmptyURL)
		add("GoogleOnly_SystemTest", r, "FooBot", "", false, "", cliEmptyURL)
		add("GoogleOnly_SystemTest", "", "", "", true, "", cliEmptyURL)
	}
	// ID_LineSyntax_Line
	{
		const u = "http://foo.bar/x/y"
		each("ID_LineSyntax_Line", "user-agent: FooBot\ndisallow: /\n", "FooBot", exp{u, false})
		each("ID_LineSyntax_Line", "foo: FooBot\nbar: /\n", "FooBot", exp{u, true})
		each("ID_LineSyntax_Line", "user-agent FooBot\ndisallow /\n", "FooBot", exp{u, false})
	}
	// ID_LineSyntax_Groups
	{
		const r = "allow: /foo/bar/\n\nuser-agent: FooBot\ndisallow: /\nallow: /x/\nuser-agent: BarBot\n" +
			"disallow: /\nallow: /y/\n\n\nallow: /w/\nuser-agent: BazBot\n\nuser-agent: FooBot\nallow: /z/\ndisallow: /\n"
		const w, x, y, z, foo = "http://foo.bar/w/a", "http://foo.bar/x/b", "http://foo.bar/y/c", "http://foo.bar/z/d", "http://foo.bar/foo/bar/"
		each("ID_LineSyntax_Groups", r, "FooBot", exp{x, true}, exp{z, true}, exp{y, false})
		each("ID_LineSyntax_Groups", r, "BarBot", exp{y, true}, exp{w, true}, exp{z, false})
		each("ID_LineSyntax_Groups", r, "BazBot", exp{z, true})
		each("ID_LineSyntax_Groups", r, "FooBot", exp{foo, false})
		each("ID_LineSyntax_Groups", r, "BarBot", exp{foo, false})
		each("ID_LineSyntax_Groups", r, "BazBot", exp{foo, false})
	}
	// ID_LineSyntax_Groups_OtherRules
	for _, r := range []string{
		"User-agent: BarBot\nSitemap: https://foo.bar/sitemap\nUser-agent: *\nDisallow: /\n",
		"User-agent: FooBot\nInvalid-Unknown-Line: unknown\nUser-agent: *\nDisallow: /\n",
	} {
		each("ID_LineSyntax_Groups_OtherRules", r, "FooBot", exp{"http://foo.bar/", false})
		each("ID_LineSyntax_Groups_OtherRules", r, "BarBot", exp{"http://foo.bar/", false})
	}
	// ID_REPLineNamesCaseInsensitive
	{
		rs := []string{
			"USER-AGENT: FooBot\nALLOW: /x/\nDISALLOW: /\n",
			"user-agent: FooBot\nallow: /x/\ndisallow: /\n",
			"uSeR-aGeNt: FooBot\nAlLoW: /x/\ndIsAlLoW: /\n",
		}
		for _, r := range rs {
			each("ID_REPLineNamesCaseInsensitive", r, "FooBot", exp{"http://foo.bar/x/y", true})
		}
		for _, r := range rs {
			each("ID_REPLineNamesCaseInsensitive", r, "FooBot", exp{"http://foo.bar/a/b", false})
		}
	}
	// ID_UserAgentValueCaseInsensitive
	{
		rs := []string{
			"User-Agent: FOO BAR\nAllow: /x/\nDisallow: /\n",
			"User-Agent: foo bar\nAllow: /x/\nDisallow: /\n",
			"User-Agent: FoO bAr\nAllow: /x/\nDisallow: /\n",
		}
		for _, agent := range []string{"Foo", "foo"} {
			for _, r := range rs {
				each("ID_UserAgentValueCaseInsensitive", r, agent, exp{"http://foo.bar/x/y", true})
			}
			for _, r := range rs {
				each("ID_UserAgentValueCaseInsensitive", r, agent, exp{"http://foo.bar/a/b", false})
			}
		}
	}
	// GoogleOnly_AcceptUserAgentUpToFirstSpace
	{
		const r = "User-Agent: *\nDisallow: /\nUser-Agent: Foo Bar\nAllow: /x/\nDisallow: /\n"
		each("GoogleOnly_AcceptUserAgentUpToFirstSpace", r, "Foo", exp{"http://foo.bar/x/y", true})
		add("GoogleOnly_AcceptUserAgentUpToFirstSpace", r, "Foo Bar", "http://foo.bar/x/y", false, "", cliSpace)
	}
	// ID_GlobalGroups_Secondary
	{
		const u = "http://foo.bar/x/y"
		each("ID_GlobalGroups_Secondary", "", "FooBot", exp{u, true})
		const global = "user-agent: *\nallow: /\nuser-agent: FooBot\ndisallow: /\n"
		each("ID_GlobalGroups_Secondary", global, "FooBot", exp{u, false})
		each("ID_GlobalGroups_Secondary", global, "BarBot", exp{u, true})
		each("ID_GlobalGroups_Secondary", "user-agent: FooBot\nallow: /\nuser-agent: BarBot\ndisallow: /\n"+
			"user-agent: BazBot\ndisallow: /\n", "QuxBot", exp{u, true})
	}
	// ID_AllowDisallow_Value_CaseSensitive
	each("ID_AllowDisallow_Value_CaseSensitive", "user-agent: FooBot\ndisallow: /x/\n", "FooBot", exp{"http://foo.bar/x/y", false})
	each("ID_AllowDisallow_Value_CaseSensitive", "user-agent: FooBot\ndisallow: /X/\n", "FooBot", exp{"http://foo.bar/x/y", true})
	// ID_LongestMatch
	{
		const u = "http://foo.bar/x/page.html"
		const t = "ID_LongestMatch"
		each(t, "user-agent: FooBot\ndisallow: /x/page.html\nallow: /x/\n", "FooBot", exp{u, false})
		each(t, "user-agent: FooBot\nallow: /x/page.html\ndisallow: /x/\n", "FooBot", exp{u, true}, exp{"http://foo.bar/x/", false})
		each(t, "user-agent: FooBot\ndisallow: \nallow: \n", "FooBot", exp{u, true})
		each(t, "user-agent: FooBot\ndisallow: /\nallow: /\n", "FooBot", exp{u, true})
		each(t, "user-agent: FooBot\ndisallow: /x\nallow: /x/\n", "FooBot", exp{"http://foo.bar/x", false}, exp{"http://foo.bar/x/", true})
		each(t, "user-agent: FooBot\ndisallow: /x/page.html\nallow: /x/page.html\n", "FooBot", exp{u, true})
		each(t, "user-agent: FooBot\nallow: /page\ndisallow: /*.html\n", "FooBot",
			exp{"http://foo.bar/page.html", false}, exp{"http://foo.bar/page", true})
		each(t, "user-agent: FooBot\nallow: /x/page.\ndisallow: /*.html\n", "FooBot",
			exp{u, true}, exp{"http://foo.bar/x/y.html", false})
		each(t, "User-agent: *\nDisallow: /x/\nUser-agent: FooBot\nDisallow: /y/\n", "FooBot",
			exp{"http://foo.bar/x/page", true}, exp{"http://foo.bar/y/page", false})
	}
	// ID_Encoding
	{
		const t = "ID_Encoding"
		each(t, "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar?qux=taz&baz=http://foo.bar?tar&par\n", "FooBot",
			exp{"http://foo.bar/foo/bar?qux=taz&baz=http://foo.bar?tar&par", true})
		const utf8 = "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/ツ\n"
		add(t, utf8, "FooBot", "http://foo.bar/foo/bar/%E3%83%84", true, "", "")
		add(t, utf8, "FooBot", "http://foo.bar/foo/bar/ツ", false, rfcUTF8URL, "")
		const enc = "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/%E3%83%84\n"
		add(t, enc, "FooBot", "http://foo.bar/foo/bar/%E3%83%84", true, "", "")
		add(t, enc, "FooBot", "http://foo.bar/foo/bar/ツ", false, rfcUTF8URL, "")
		const unres = "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/%62%61%7A\n"
		add(t, unres, "FooBot", "http://foo.bar/foo/bar/baz", false, rfcUnreserved, "")
		add(t, unres, "FooBot", "http://foo.bar/foo/bar/%62%61%7A", true, "", "")
	}
	// ID_SpecialCharacters
	{
		const t = "ID_SpecialCharacters"
		each(t, "User-agent: FooBot\nDisallow: /foo/bar/quz\nAllow: /foo/*/qux\n", "FooBot",
			exp{"http://foo.bar/foo/bar/quz", false}, exp{"http://foo.bar/foo/quz", true},
			exp{"http://foo.bar/foo//quz", true}, exp{"http://foo.bar/foo/bax/quz", true})
		each(t, "User-agent: FooBot\nDisallow: /foo/bar$\nAllow: /foo/bar/qux\n", "FooBot",
			exp{"http://foo.bar/foo/bar", false}, exp{"http://foo.bar/foo/bar/qux", true},
			exp{"http://foo.bar/foo/bar/", true}, exp{"http://foo.bar/foo/bar/baz", true})
		each(t, "User-agent: FooBot\n# Disallow: /\nDisallow: /foo/quz#qux\nAllow: /\n", "FooBot",
			exp{"http://foo.bar/foo/bar", true}, exp{"http://foo.bar/foo/quz", false})
	}
	// GoogleOnly_IndexHTMLisDirectory
	{
		const t = "GoogleOnly_IndexHTMLisDirectory"
		const r = "User-Agent: *\nAllow: /allowed-slash/index.html\nDisallow: /\n"
		add(t, r, "foobot", "http://foo.com/allowed-slash/", true, rfcIndexHTML, "")
		each(t, r, "foobot", exp{"http://foo.com/allowed-slash/index.htm", false},
			exp{"http://foo.com/allowed-slash/index.html", true}, exp{"http://foo.com/anyother-url", false})
	}
	// GoogleOnly_LineTooLong
	{
		const t = "GoogleOnly_LineTooLong"
		r := "user-agent: FooBot\ndisallow: " + longDisallow + "/qux\n"
		each(t, r, "FooBot", exp{"http://foo.bar/fux", true})
		add(t, r, "FooBot", "http://foo.bar"+longDisallow+"/fux", false, rfcLineLimit, "")
		r = "user-agent: FooBot\ndisallow: /\nallow: " + longAllowA + "/qux\nallow: " + longAllowB + "/qux\n"
		each(t, r, "FooBot", exp{"http://foo.bar/", false}, exp{"http://foo.bar" + longAllowA + "/qux", true})
		add(t, r, "FooBot", "http://foo.bar"+longAllowB+"/fux", true, rfcLineLimit, "")
	}
	// GoogleOnly_DocumentationChecks
	{
		const t = "GoogleOnly_DocumentationChecks"
		const fb = "http://foo.bar"
		each(t, "user-agent: FooBot\ndisallow: /\nallow: /fish\n", "FooBot",
			exp{fb + "/bar", false}, exp{fb + "/fish", true}, exp{fb + "/fish.html", true},
			exp{fb + "/fish/salmon.html", true}, exp{fb + "/fishheads", true},
			exp{fb + "/fishheads/yummy.html", true}, exp{fb + "/fish.html?id=anything", true},
			exp{fb + "/Fish.asp", false}, exp{fb + "/catfish", false}, exp{fb + "/?id=fish", false})
		each(t, "user-agent: FooBot\ndisallow: /\nallow: /fish*\n", "FooBot",
			exp{fb + "/bar", false}, exp{fb + "/fish", true}, exp{fb + "/fish.html", true},
			exp{fb + "/fish/salmon.html", true}, exp{fb + "/fishheads", true},
			exp{fb + "/fishheads/yummy.html", true}, exp{fb + "/fish.html?id=anything", true},
			exp{fb + "/Fish.bar", false}, exp{fb + "/catfish", false}, exp{fb + "/?id=fish", false})
		each(t, "user-agent: FooBot\ndisallow: /\nallow: /fish/\n", "FooBot",
			exp{fb + "/bar", false}, exp{fb + "/fish/", true}, exp{fb + "/fish/salmon", true},
			exp{fb + "/fish/?salmon", true}, exp{fb + "/fish/salmon.html", true},
			exp{fb + "/fish/?id=anything", true}, exp{fb + "/fish", false},
			exp{fb + "/fish.html", false}, exp{fb + "/Fish/Salmon.html", false})
		each(t, "user-agent: FooBot\ndisallow: /\nallow: /*.php\n", "FooBot",
			exp{fb + "/bar", false}, exp{fb + "/filename.php", true}, exp{fb + "/folder/filename.php", true},
			exp{fb + "/folder/filename.php?parameters", true}, exp{fb + "//folder/any.php.file.html", true},
			exp{fb + "/filename.php/", true}, exp{fb + "/index?f=filename.php/", true},
			exp{fb + "/php/", false}, exp{fb + "/index?php", false}, exp{fb + "/windows.PHP", false})
		each(t, "user-agent: FooBot\ndisallow: /\nallow: /*.php$\n", "FooBot",
			exp{fb + "/bar", false}, exp{fb + "/filename.php", true}, exp{fb + "/folder/filename.php", true},
			exp{fb + "/filename.php?parameters", false}, exp{fb + "/filename.php/", false},
			exp{fb + "/filename.php5", false}, exp{fb + "/php/", false}, exp{fb + "/filename?php", false},
			exp{fb + "/aaaphpaaa", false}, exp{fb + "//windows.PHP", false})
		each(t, "user-agent: FooBot\ndisallow: /\nallow: /fish*.php\n", "FooBot",
			exp{fb + "/bar", false}, exp{fb + "/fish.php", true},
			exp{fb + "/fishheads/catfish.php?parameters", true}, exp{fb + "/Fish.PHP", false})
		const ex = "http://example.com"
		each(t, "user-agent: FooBot\nallow: /p\ndisallow: /\n", "FooBot", exp{ex + "/page", true})
		each(t, "user-agent: FooBot\nallow: /folder\ndisallow: /folder\n", "FooBot", exp{ex + "/folder/page", true})
		each(t, "user-agent: FooBot\nallow: /page\ndisallow: /*.htm\n", "FooBot", exp{ex + "/page.htm", false})
		each(t, "user-agent: FooBot\nallow: /$\ndisallow: /\n", "FooBot", exp{ex + "/", true}, exp{ex + "/page.html", false})
	}
	return cs
}()

// PathOf returns the path and query of a URL of the suite, as a crawler
// matches it: "/" when empty, without the fragment.
func PathOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
		if j := strings.IndexAny(u, "/?"); j >= 0 {
			u = u[j:]
		} else {
			u = ""
		}
	}
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u = u[:i]
	}
	if u == "" || u[0] != '/' {
		u = "/" + u
	}
	return u
}
