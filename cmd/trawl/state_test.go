package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestRepairTail(t *testing.T) {
	tests := []struct {
		name    string
		csv     bool
		in      string
		want    string
		wantCut int64
	}{
		{"empty", false, "", "", 0},
		{"whole lines", false, "{\"a\":1}\n{\"a\":2}\n", "{\"a\":1}\n{\"a\":2}\n", 0},
		{"torn line", false, "{\"a\":1}\n{\"a\":", "{\"a\":1}\n", 5},
		{"only a torn line", false, "{\"a\":", "", 5},
		{"csv whole", true, "url,title\nhttp://x/,\"a\nb\"\n", "url,title\nhttp://x/,\"a\nb\"\n", 0},
		{"csv torn inside quotes", true, "url,title\nhttp://x/,t\nhttp://y/,\"a\nb", "url,title\nhttp://x/,t\n", 14},
		{"csv escaped quotes", true, "u,t\nx,\"say \"\"hi\"\"\n\"\nz,\"", "u,t\nx,\"say \"\"hi\"\"\n\"\n", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "out")
			if err := os.WriteFile(p, []byte(tc.in), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(p, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			size, cut, err := repairTail(f, tc.csv)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(p)
			if string(got) != tc.want || size != int64(len(tc.want)) || cut != tc.wantCut {
				t.Errorf("repairTail(%q) left %q (size %d, cut %d); want %q (cut %d)", tc.in, got, size, cut, tc.want, tc.wantCut)
			}
		})
	}
}

func TestSkipHeader(t *testing.T) {
	var buf bytes.Buffer
	w := &skipHeader{w: &buf}
	for _, s := range []string{"url,title\nhttp://a/,A\n", "http://b/,B\n"} {
		if n, err := w.Write([]byte(s)); err != nil || n != len(s) {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got := buf.String(); got != "http://a/,A\nhttp://b/,B\n" {
		t.Errorf("wrote %q; want the records without the header", got)
	}
}
