package frontier

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://example.com", "http://example.com/"},
		{"  HTTP://Example.COM:80/a/./b/../c?x=1#frag \n", "http://example.com/a/c?x=1"},
		{"https://example.com:443/", "https://example.com/"},
		{"http://example.com:443/", "http://example.com:443/"},
		{"https://example.com:08443/x", "https://example.com:8443/x"},
		{"http://example.com:/x", "http://example.com/x"},
		{"http://example.com/%7euser/%e2%82%ac", "http://example.com/~user/%E2%82%AC"},
		{"http://example.com/%41%42%2d%5F", "http://example.com/AB-_"},
		{"http://example.com/a%2fb%3F", "http://example.com/a%2Fb%3F"},
		{"http://example.com/a b/é", "http://example.com/a%20b/%C3%A9"},
		{"http://example.com/100%", "http://example.com/100%25"},
		{"http://example.com/%zz%4", "http://example.com/%25zz%254"},
		{"http://example.com/?", "http://example.com/"},
		{"http://example.com/a?b=%7e&c=%2f&d='x'", "http://example.com/a?b=~&c=%2F&d=%27x%27"},
		{"http://example.com/a/%2e%2E/b/%2e/c", "http://example.com/b/c"},
		{"http://example.com/../../x", "http://example.com/x"},
		{"http://example.com/a/..", "http://example.com/"},
		{"http://example.com/a/.", "http://example.com/a/"},
		{"http://example.com\\a\\b", "http://example.com/a/b"},
		{"http:\\\\example.com/", "http://example.com/"},
		{"http:example.com/", "http://example.com/"},
		{"http:///example.com/", "http://example.com/"},
		{"http://exa\tmple.c\nom/", "http://example.com/"},
		{"http://bücher.example/", "http://xn--bcher-kva.example/"},
		{"http://BÜCHER.example/", "http://xn--bcher-kva.example/"},
		{"http://xn--bcher-kva.example/", "http://xn--bcher-kva.example/"},
		{"http://ex%61mple.com/", "http://example.com/"},
		{"http://example.com./", "http://example.com./"},
		{"http://my_host.example/", "http://my_host.example/"},
		{"http://0x7f.1/", "http://127.0.0.1/"},
		{"http://2130706433/", "http://127.0.0.1/"},
		{"http://0177.0.0.01/", "http://127.0.0.1/"},
		{"http://[0:0::1]:8080/", "http://[::1]:8080/"},
		{"http://[2001:DB8:0:0:1:0:0:1]/", "http://[2001:db8::1:0:0:1]/"},
		{"http://[::ffff:192.0.2.1]/", "http://[::ffff:c000:201]/"},
		{"http://User:P%61ss@Example.com/", "http://User:Pass@example.com/"},
		{"http://user:@example.com/", "http://user@example.com/"},
		{"http://@example.com/", "http://example.com/"},
		{"http://a@b@example.com/", "http://a%40b@example.com/"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Normalize(tc.in)
			if err != nil {
				t.Fatalf("Normalize(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("Normalize(%q) = %q; want %q", tc.in, got, tc.want)
			}
			again, err := Normalize(got)
			if err != nil || again != got {
				t.Errorf("Normalize(%q) = %q, %v; not idempotent", got, again, err)
			}
		})
	}
}

func TestNormalizeErrors(t *testing.T) {
	tests := []string{
		"",
		"   ",
		"/relative/path",
		"example.com/page",
		"mailto:someone@example.com",
		"javascript:alert(1)",
		"ftp://example.com/",
		"data:text/plain,hi",
		"http://",
		"http://user@/path",
		"http://exa mple.com/",
		"http://example.com:99999/",
		"http://example.com:8o/",
		"http://[::1/",
		"http://[::1]x/",
		"http://[fe80::1%25eth0]/",
		"http://1.2.3.256/",
		"http://1.2.3.4.5/",
		"http://foo.09/",
		"http://a<b/",
		"http://ex%zzample.com/",
		"http://\u200bexample\u00ad.com\u0000/",
		"http:0\xdb%97",           // invalid UTF-8 in the host, valid once decoded (issue 18)
		"http://ex\xffample.com/", // invalid UTF-8 in the host
		"http://ex%C3ample.com/",  // invalid UTF-8 once decoded
	}
	for _, in := range tests {
		t.Run(in, func(t *testing.T) {
			got, err := Normalize(in)
			if err == nil {
				t.Fatalf("Normalize(%q) = %q; want an error", in, got)
			}
			if !strings.HasPrefix(err.Error(), "frontier: ") || !strings.Contains(err.Error(), strconv.Quote(in)) {
				t.Errorf("error %q does not name the URL", err)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	base, err := url.Parse("https://example.com/dir/page.html?q=1#sec")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ href, want string }{
		{"other.html", "https://example.com/dir/other.html"},
		{"./other.html", "https://example.com/dir/other.html"},
		{"../up.html", "https://example.com/up.html"},
		{"../../../../x", "https://example.com/x"},
		{"sub/", "https://example.com/dir/sub/"},
		{".", "https://example.com/dir/"},
		{"..", "https://example.com/"},
		{"/abs?x=1", "https://example.com/abs?x=1"},
		{"//cdn.example.net/x", "https://cdn.example.net/x"},
		{"\\\\cdn.example.net\\x", "https://cdn.example.net/x"},
		{"?p=2", "https://example.com/dir/page.html?p=2"},
		{"#top", "https://example.com/dir/page.html?q=1"},
		{"", "https://example.com/dir/page.html?q=1"},
		{"  ./a\tb  ", "https://example.com/dir/ab"},
		{"https:other", "https://example.com/dir/other"},
		{"https:/rooted", "https://example.com/rooted"},
		{"http:other", "http://other/"},
		{"HTTP://Other.example/A", "http://other.example/A"},
		{"caf%C3%A9 menu.html", "https://example.com/dir/caf%C3%A9%20menu.html"},
		{"a:b", ""}, // scheme "a": not http
		{"mailto:x@example.com", ""},
		{"javascript:void(0)", ""},
		{"tel:+1234", ""},
		{"//", ""},
	}
	var n Normalizer
	for _, tc := range tests {
		t.Run(tc.href, func(t *testing.T) {
			got, err := n.Resolve(base, tc.href)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("Resolve(%q) = %q; want an error", tc.href, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("Resolve(%q) = %q, %v; want %q", tc.href, got, err, tc.want)
			}
		})
	}
}

func TestResolveBase(t *testing.T) {
	tests := []struct{ base, href, want string }{
		{"HTTP://Example.COM:80", "a", "http://example.com/a"},
		{"https://bücher.example/x/y", "z", "https://xn--bcher-kva.example/x/z"},
		{"http://[::1]:8080/a/b", "../c", "http://[::1]:8080/c"},
		{"http://127.0.0.1:8080/a/", "b", "http://127.0.0.1:8080/a/b"},
		{"http://u:p@example.com/a", "b", "http://u:p@example.com/b"},
		{"http://example.com/a%7eb/c", "d", "http://example.com/a~b/d"},
		{"http://example.com/a b/c", "d", "http://example.com/a%20b/d"},
		{"http://example.com", "?x", "http://example.com/?x"},
	}
	var n Normalizer
	for _, tc := range tests {
		t.Run(tc.base+" "+tc.href, func(t *testing.T) {
			base, err := url.Parse(tc.base)
			if err != nil {
				t.Fatal(err)
			}
			got, err := n.Resolve(base, tc.href)
			if err != nil || got != tc.want {
				t.Errorf("Resolve(%q, %q) = %q, %v; want %q", tc.base, tc.href, got, err, tc.want)
			}
		})
	}
	bad := []string{"ftp://example.com/", "mailto:x@example.com", "/relative"}
	for _, b := range bad {
		base, err := url.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := n.Resolve(base, "page"); err == nil {
			t.Errorf("Resolve against base %q = %q; want an error", b, got)
		}
	}
}

func TestNormalizerQuery(t *testing.T) {
	tests := []struct {
		name string
		n    Normalizer
		in   string
		want string
	}{
		{"default keeps order", Normalizer{}, "http://a.test/?b=2&a=1", "http://a.test/?b=2&a=1"},
		{"sort", Normalizer{SortQuery: true}, "http://a.test/?b=2&a=1&b=1&&c", "http://a.test/?a=1&b=2&b=1&c"},
		{"sort escapes", Normalizer{SortQuery: true}, "http://a.test/?z=%7e&y=%2f", "http://a.test/?y=%2F&z=~"},
		{"strip", Normalizer{StripParams: []string{"utm_*", "sid"}}, "http://a.test/p?utm_source=x&id=3&sid=9&utm_medium=y&sidx=1", "http://a.test/p?id=3&sidx=1"},
		{"strip all", Normalizer{StripParams: []string{"utm_*"}}, "http://a.test/p?utm_source=x&utm_medium=y", "http://a.test/p"},
		{"strip escaped key", Normalizer{StripParams: []string{"sid"}}, "http://a.test/p?%73id=1&a=2", "http://a.test/p?a=2"},
		{"strip and sort", Normalizer{SortQuery: true, StripParams: []string{"*session*"}}, "http://a.test/?b=1&a=2", "http://a.test/?a=2&b=1"},
		{"star matches all", Normalizer{StripParams: []string{"*"}}, "http://a.test/?b=1&a=2", "http://a.test/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.n.Normalize(tc.in)
			if err != nil || got != tc.want {
				t.Errorf("Normalize(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			if again, _ := tc.n.Normalize(got); again != got {
				t.Errorf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

// checkNormalized checks the properties every result of Normalize and
// Resolve has.
func checkNormalized(t *testing.T, n *Normalizer, in, out string) {
	t.Helper()
	u, err := url.Parse(out)
	if err != nil {
		t.Fatalf("%q -> %q, which net/url rejects: %v", in, out, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		t.Fatalf("%q -> %q: not an absolute http(s) URL", in, out)
	}
	if u.Fragment != "" || strings.Contains(out, "#") {
		t.Fatalf("%q -> %q: has a fragment", in, out)
	}
	if HostKey(out) == "" {
		t.Fatalf("%q -> %q: no host key", in, out)
	}
	again, err := n.Normalize(out)
	if err != nil {
		t.Fatalf("%q -> %q, which does not normalize again: %v", in, out, err)
	}
	if again != out {
		t.Fatalf("not idempotent: %q -> %q -> %q", in, out, again)
	}
}

func fuzzSeeds(f *testing.F) {
	for _, s := range []string{
		"http://example.com", "HTTPS://Example.COM:443/a/./b/../c?x=%7e#f", "http://bücher.example/straße",
		"http://0x7f.1/", "http://[::ffff:1.2.3.4]:80/", "http://u:p@h/%zz", "http:\\\\h\\a", " http://h/\t?q ",
		"https://h/?b=2&a=1&utm_x=3", "http://h/a/%2e%2E/b", "http://xn--bcher-kva.example/", "../x", "//h/p", "?q",
		"http://h/%252e%252E/", "http://h/a?%", "http://h/\x00\x7f\xff", "http://h.:8080./", "http://%41.com/",
	} {
		f.Add(s)
	}
}

func FuzzNormalize(f *testing.F) {
	fuzzSeeds(f)
	n := &Normalizer{SortQuery: true, StripParams: []string{"utm_*"}}
	var zero Normalizer
	f.Fuzz(func(t *testing.T, raw string) {
		for _, nz := range []*Normalizer{&zero, n} {
			out, err := nz.Normalize(raw)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "frontier: ") {
					t.Fatalf("error %q lacks the package prefix", err)
				}
				continue
			}
			checkNormalized(t, nz, raw, out)
		}
	})
}

func FuzzResolve(f *testing.F) {
	fuzzSeeds(f)
	base, _ := url.Parse("https://example.com/dir/page.html?q=1")
	var n Normalizer
	f.Fuzz(func(t *testing.T, href string) {
		out, err := n.Resolve(base, href)
		if err != nil {
			return
		}
		checkNormalized(t, &n, href, out)
	})
}
