package frontier

import (
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"
)

// wptCase is one case of testdata/urltestdata.json (web-platform-tests).
type wptCase struct {
	Input    string  `json:"input"`
	Base     *string `json:"base"`
	Href     string  `json:"href"`
	Failure  bool    `json:"failure"`
	Protocol string  `json:"protocol"`
	Username string  `json:"username"`
	Password string  `json:"password"`
	Host     string  `json:"host"`
	Pathname string  `json:"pathname"`
	Search   string  `json:"search"`
}

func loadWPT(t testing.TB) []wptCase {
	data, err := os.ReadFile("testdata/urltestdata.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	var cases []wptCase
	for _, r := range raw {
		if len(r) > 0 && r[0] == '"' {
			continue // a comment
		}
		var c wptCase
		if err := json.Unmarshal(r, &c); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
	}
	return cases
}

func isHTTPScheme(s string) bool {
	s = strings.ToLower(strings.TrimLeft(s, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\v\f\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
	s = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
	return strings.HasPrefix(s, "http:") || strings.HasPrefix(s, "https:")
}

// wptScope reports whether c concerns http(s) URLs, and the base to use.
func wptScope(c wptCase) (base *url.URL, ok bool) {
	if !c.Failure && c.Protocol != "http:" && c.Protocol != "https:" {
		return nil, false
	}
	if c.Base != nil && isHTTPScheme(*c.Base) {
		b, err := Normalize(*c.Base)
		if err != nil {
			return nil, false
		}
		if base, err = url.Parse(b); err != nil {
			return nil, false
		}
		return base, true
	}
	// No usable base: in scope only when the input is absolute http(s).
	return nil, isHTTPScheme(c.Input)
}

// normalizeEscapes applies the normalizer's escape rules to a component
// the WHATWG parser produced, to compute the expected normalized href.
func normalizeEscapes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			d := unhex(s[i+1])<<4 | unhex(s[i+2])
			if isUnreserved(d) {
				b.WriteByte(d)
			} else {
				b.WriteString("%" + strings.ToUpper(s[i+1:i+3]))
			}
			i += 2
			continue
		}
		b.WriteString("%25")
	}
	return b.String()
}

// wptWant is the expected normalized form of a successful case.
func wptWant(c wptCase) string {
	var b strings.Builder
	b.WriteString(c.Protocol + "//")
	if c.Username != "" || c.Password != "" {
		b.WriteString(normalizeEscapes(c.Username))
		if c.Password != "" {
			b.WriteString(":" + normalizeEscapes(c.Password))
		}
		b.WriteString("@")
	}
	b.WriteString(c.Host)
	b.WriteString(normalizeEscapes(c.Pathname))
	if len(c.Search) > 1 {
		b.WriteString(normalizeEscapes(c.Search))
	}
	return b.String()
}

// wptDeviations are the in-scope cases where Resolve differs from a browser
// on purpose, with the reason.
var wptDeviations = map[string]string{
	"http://!\"$&'()*+,-.;=_`{}~/": "host characters outside letters, digits, - . _",
}

func TestWPT(t *testing.T) {
	var total, pass, deviate int
	for _, c := range loadWPT(t) {
		base, ok := wptScope(c)
		if !ok {
			continue
		}
		total++
		var n Normalizer
		got, err := n.Resolve(base, c.Input)
		var want string
		if !c.Failure {
			want = wptWant(c)
		}
		okCase := c.Failure && err != nil || !c.Failure && err == nil && got == want
		if okCase {
			pass++
			continue
		}
		b := "<nil>"
		if c.Base != nil {
			b = *c.Base
		}
		if reason, ok := wptDeviations[c.Input]; ok {
			deviate++
			t.Logf("deviation (%s): input %q base %q: got %q, %v; browsers %q (failure %v)", reason, c.Input, b, got, err, want, c.Failure)
			continue
		}
		t.Errorf("input %q base %q: got %q, %v; want %q (failure %v)", c.Input, b, got, err, want, c.Failure)
	}
	t.Logf("WPT http(s) cases: %d in scope, %d pass, %d known deviations", total, pass, deviate)
}
