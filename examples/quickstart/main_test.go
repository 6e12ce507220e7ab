package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/trawlhq/trawl/internal/exampletest"
)

// TestQuickstart builds the program and runs it on a local site: one JSON
// line per page within two links of the seed, with its title and heading.
func TestQuickstart(t *testing.T) {
	site := exampletest.NewSite(t)
	out := exampletest.Run(t, exampletest.Build(t, "."), site.URL+"/")
	got := map[string]Page{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var p Page
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("bad line %q: %v", line, err)
		}
		got[strings.TrimPrefix(p.URL, site.URL)] = p
	}
	for path, heading := range map[string]string{"/": "Home", "/docs/": "Docs", "/docs/a": "Doc A", "/products?page=2": "Products 2"} {
		if p := got[path]; p.Heading != heading || p.Title != heading {
			t.Errorf("%s: %+v, want title and heading %q", path, p, heading)
		}
	}
	if _, ok := got["/docs/a/deep"]; ok || len(got) < 8 {
		t.Errorf("pages %v: want depth 2 exactly", got)
	}
}

// TestREADMEQuickstart: the README's quick start is this program, word for
// word, so the README's code compiles and runs (TestQuickstart).
func TestREADMEQuickstart(t *testing.T) {
	want := exampletest.ReadFile(t, "main.go")
	for _, b := range exampletest.GoBlocks(t, "../../README.md") {
		if strings.Contains(b, "package main") {
			if b != want {
				t.Fatalf("README's quick start differs from examples/quickstart/main.go:\n%s", b)
			}
			return
		}
	}
	t.Fatal("README has no quick start (a go block with package main)")
}
