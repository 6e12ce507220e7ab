package session

import (
	"strings"
	"testing"
	"time"
)

func TestRequote(t *testing.T) {
	tests := []struct {
		in, normalized, kept string
	}{
		{"/a b", "/a%20b", "/a%20b"},
		{"/%7euser", "/~user", "/%7euser"},
		{"/a%2fb?q=%3d", "/a%2Fb?q=%3D", "/a%2fb?q=%3d"},
		{"/caf\xc3\xa9", "/caf%C3%A9", "/caf%C3%A9"},
		{"/100%", "/100%25", "/100%25"},
		{"/%zz", "/%25zz", "/%25zz"},
		{"http://h/p?x=1#f", "http://h/p?x=1#f", "http://h/p?x=1#f"},
		{"/\"<>\\^`{|}", "/%22%3C%3E%5C%5E%60%7B%7C%7D", "/%22%3C%3E%5C%5E%60%7B%7C%7D"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := requote(tc.in, true); got != tc.normalized {
				t.Errorf("requote(%q, true) = %q, want %q", tc.in, got, tc.normalized)
			}
			if got := requote(tc.in, false); got != tc.kept {
				t.Errorf("requote(%q, false) = %q, want %q", tc.in, got, tc.kept)
			}
		})
	}
}

func FuzzRequote(f *testing.F) {
	for _, s := range []string{"/a b", "/%7e", "/%", "/%4", "http://h/ü?q=%2f#x", "//x", "%%%", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, norm := range []bool{true, false} {
			out := requote(s, norm)
			for i := 0; i < len(out); i++ {
				if c := out[i]; c <= ' ' || c >= 0x7f {
					t.Fatalf("requote(%q, %v) = %q has byte %#x", s, norm, out, c)
				}
			}
			if again := requote(out, norm); again != out {
				t.Fatalf("requote not idempotent: %q -> %q -> %q", s, out, again)
			}
		}
	})
}

func FuzzImportCookies(f *testing.F) {
	f.Add([]byte(`{"version":1,"cookies":[{"name":"a","value":"b","domain":"example.com","host_only":true,"path":"/"}]}`))
	f.Add([]byte(`{"version":1,"cookies":[{"name":"a","value":"b","domain":"example.com","path":"/x","expires":"2099-01-01T00:00:00Z","secure":true,"same_site":"Lax"}]}`))
	f.Add([]byte(`{"version":2,"cookies":[]}`))
	f.Add([]byte(`{"version":1,"cookies":[null]}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, data []byte) {
		clock := func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }
		j, err := newRecordingJar(clock)
		if err != nil {
			t.Fatal(err)
		}
		if err := j.load(data); err != nil {
			if !strings.HasPrefix(err.Error(), "session: import cookies: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		out, err := j.export()
		if err != nil {
			t.Fatal(err)
		}
		// what was exported imports again and exports the same
		k, _ := newRecordingJar(clock)
		if err := k.load(out); err != nil {
			t.Fatalf("re-import of %s: %v", out, err)
		}
		again, _ := k.export()
		if string(again) != string(out) {
			t.Fatalf("export not stable:\n%s\n%s", out, again)
		}
	})
}
