package pipeline

import (
	"net/http"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/unicode"
)

func encode(t *testing.T, e encoding.Encoding, s string) string {
	t.Helper()
	b, err := e.NewEncoder().String(s)
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return b
}

func TestCharset(t *testing.T) {
	const bom = "\xEF\xBB\xBF"
	tests := []struct {
		name      string
		header    string // Content-Type
		body      string // raw bytes
		charset   string
		title     string
		wantText  string // substring of Text
		wantLinks []string
	}{
		{
			name:    "EUC-KR from header",
			header:  "text/html; charset=EUC-KR",
			body:    encode(t, korean.EUCKR, `<title>안녕하세요 세계</title><a href="/한국">한국</a>`),
			charset: "euc-kr", title: "안녕하세요 세계", wantText: "<a href=\"/한국\">한국</a>",
			wantLinks: []string{"http://example.com/%ED%95%9C%EA%B5%AD"},
		},
		{
			name:    "Shift_JIS from meta charset",
			header:  "text/html",
			body:    `<html><head><meta charset="Shift_JIS">` + encode(t, japanese.ShiftJIS, `<title>日本語のページ</title></head><body>表示</body>`),
			charset: "shift_jis", title: "日本語のページ", wantText: "表示",
		},
		{
			name:    "Shift_JIS from meta http-equiv",
			header:  "text/html",
			body:    `<meta http-equiv="Content-Type" content="text/html; charset=shift_jis">` + encode(t, japanese.ShiftJIS, `<title>ソフト</title>`),
			charset: "shift_jis", title: "ソフト", wantText: "ソフト",
		},
		{
			name:    "windows-1252 from header",
			header:  `text/html; charset="windows-1252"`,
			body:    encode(t, charmap.Windows1252, "<title>Café – “quoted”</title>"),
			charset: "windows-1252", title: "Café – “quoted”", wantText: "Café",
		},
		{
			name:    "latin1 label means windows-1252",
			header:  "text/html; charset=iso-8859-1",
			body:    "<title>\x93na\xefve\x94</title>",
			charset: "windows-1252", title: "“naïve”",
		},
		{
			name:    "UTF-8 with BOM",
			header:  "text/html",
			body:    bom + "<title>Grüße</title>",
			charset: "utf-8", title: "Grüße", wantText: "<title>Grüße",
		},
		{
			name:    "BOM wins over header",
			header:  "text/html; charset=windows-1252",
			body:    bom + "<title>Grüße</title>",
			charset: "utf-8", title: "Grüße",
		},
		{
			name:    "UTF-16LE BOM",
			header:  "text/html",
			body:    encode(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), "<title>Ünïcode</title><a href=\"/u\">"),
			charset: "utf-16le", title: "Ünïcode", wantLinks: []string{"http://example.com/u"},
		},
		{
			name:    "header wins over meta",
			header:  "text/html; charset=windows-1252",
			body:    `<meta charset="utf-8"><title>` + encode(t, charmap.Windows1252, "Fran\u00e7ais") + `</title>`,
			charset: "windows-1252", title: "Français",
		},
		{
			name:    "header utf-8 wins over meta Shift_JIS",
			header:  "text/html; charset=utf-8",
			body:    `<meta charset="shift_jis"><title>日本</title>`,
			charset: "utf-8", title: "日本",
		},
		{
			name:    "unknown header label falls back to meta",
			header:  "text/html; charset=x-no-such-charset",
			body:    `<meta charset=euc-kr>` + encode(t, korean.EUCKR, "<title>한국어</title>"),
			charset: "euc-kr", title: "한국어",
		},
		{
			name:    "meta utf-16 means utf-8",
			header:  "text/html",
			body:    `<meta charset="utf-16"><title>ok é</title>`,
			charset: "utf-8", title: "ok é",
		},
		{
			name:    "meta after the first 1024 bytes is ignored",
			header:  "text/html",
			body:    "<!--" + strings.Repeat("x", 1100) + `--><meta charset="windows-1251"><title>é</title>`,
			charset: "utf-8", title: "é",
		},
		{
			name:    "meta charset mentioned twice uses the full prescan",
			header:  "",
			body:    `<html><!-- charset --><meta content="text/html; charset=euc-kr" http-equiv=content-type>` + encode(t, korean.EUCKR, "<title>한</title>"),
			charset: "euc-kr", title: "한",
		},
		{
			name:    "nothing declared, valid UTF-8",
			header:  "text/html",
			body:    "<title>naïve ☃</title>",
			charset: "utf-8", title: "naïve ☃",
		},
		{
			name:    "nothing declared, not UTF-8: windows-1252",
			header:  "text/html",
			body:    "<title>na\xefve</title>",
			charset: "windows-1252", title: "naïve",
		},
		{
			name:    "nothing declared, UTF-8 cut inside a character",
			header:  "text/html",
			body:    "<title>naïve</title>日"[:len("<title>naïve</title>日")-1],
			charset: "utf-8", title: "naïve",
		},
		{
			name:    "declared UTF-8 but invalid bytes",
			header:  "text/html; charset=utf-8",
			body:    "<title>bad \xff byte</title>",
			charset: "utf-8", title: "bad \ufffd byte", wantText: "bad \ufffd byte",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Page{URL: "http://example.com/", Status: 200, Header: http.Header{}, Body: []byte(tt.body)}
			if tt.header != "" {
				p.Header.Set("Content-Type", tt.header)
			}
			rec := process(t, Config{}, p)
			if got := p.Charset(); got != tt.charset {
				t.Errorf("Charset = %q, want %q", got, tt.charset)
			}
			if rec.Title != tt.title {
				t.Errorf("title = %q, want %q", rec.Title, tt.title)
			}
			text, err := p.Text()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text, tt.wantText) {
				t.Errorf("Text = %q, want it to contain %q", text, tt.wantText)
			}
			if strings.HasPrefix(text, "\uFEFF") {
				t.Errorf("Text starts with a BOM")
			}
			if tt.wantLinks != nil && strings.Join(rec.Links, " ") != strings.Join(tt.wantLinks, " ") {
				t.Errorf("links = %q, want %q", rec.Links, tt.wantLinks)
			}
			// The goquery document sees the same decoded text.
			doc, err := p.Doc()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(doc.Find("head > title").First().Text()); got != tt.title && !strings.Contains(tt.title, "<") {
				t.Errorf("Doc title = %q, want %q", got, tt.title)
			}
		})
	}
}

func TestUTF8FastPathDoesNotCopy(t *testing.T) {
	p := htmlPage("http://example.com/", "<title>plain</title>")
	if got := p.decoded(); &got[0] != &p.Body[0] {
		t.Error("valid UTF-8 body was copied")
	}
}

func TestContentTypeCharset(t *testing.T) {
	tests := map[string]string{
		"text/html":                           "",
		"text/html; charset=UTF-8":            "UTF-8",
		`text/html;charset="Shift_JIS"`:       "Shift_JIS",
		"text/html; q=1; Charset=euc-kr; x=y": "euc-kr",
		"text/html; charset=":                 "",
	}
	for ct, want := range tests {
		if got := contentTypeCharset(ct); got != want {
			t.Errorf("contentTypeCharset(%q) = %q, want %q", ct, got, want)
		}
	}
}

func TestQuickMetaCharset(t *testing.T) {
	tests := []struct {
		head  string
		label string
		ok    bool
	}{
		{`<meta charset="utf-8">`, "utf-8", true},
		{`<META CHARSET='Shift_JIS'>`, "Shift_JIS", true},
		{`<meta charset=euc-kr>`, "euc-kr", true},
		{`<meta  charset = " utf-8 " />`, "utf-8", true},
		{`<meta http-equiv=content-type content="text/html; charset=x">`, "", false},
		{`<meta name=x charset=utf-8>`, "", false},
		{`<script>charset="x"</script>`, "", false},
		{`<meta charset="utf-8"><!-- charset -->`, "", false},
		{`<meta charset="utf-8`, "", false},
		{`<metacharset=x>`, "", false},
	}
	for _, tt := range tests {
		label, ok := quickMetaCharset([]byte(tt.head))
		if label != tt.label || ok != tt.ok {
			t.Errorf("quickMetaCharset(%q) = %q, %v; want %q, %v", tt.head, label, ok, tt.label, tt.ok)
		}
	}
}

func TestPrescanMeta(t *testing.T) {
	tests := map[string]string{
		`<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-2">`: "ISO-8859-2",
		`<meta content='text/html;charset="koi8-r"' http-equiv=CONTENT-TYPE>`:      "koi8-r",
		`<meta content="text/html; charset=koi8-r">`:                               "",
		`<p>no meta</p>`: "",
		`<meta name=description content="charset=x"><meta charset=big5>`: "big5",
	}
	for head, want := range tests {
		if got := prescanMeta([]byte(head)); got != want {
			t.Errorf("prescanMeta(%q) = %q, want %q", head, got, want)
		}
	}
}
